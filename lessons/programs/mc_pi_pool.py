#!/usr/bin/env python3
"""Monte Carlo estimate of pi on a multiprocessing.Pool (strong scaling).

What it teaches: the work of a Monte Carlo estimate splits into independent shares; each
worker process draws its own points from its own random stream, counts those that fall in
the quarter circle, and the counts are added once at the end. Processes sidestep the GIL.

How hpc-tutor runs it: the lesson *Monte Carlo pi with threads and with MPI* declares it as
a program; the tutor runs it once per worker count with `--workers N` (the total number of
samples stays fixed) and reads the time from the line `Execution time: ... s`. By hand:

    python3 mc_pi_pool.py --samples 20000000 --workers 2
"""

import argparse
import math
import multiprocessing
import time

import numpy as np

CHUNK = 1_000_000  # points drawn at a time: bounds the memory of a worker


def count_inside(seed, n):
    """Draw n points in the unit square from the stream `seed`; count x*x + y*y <= 1."""
    rng = np.random.default_rng(seed)
    inside = 0
    for first in range(0, n, CHUNK):
        m = min(CHUNK, n - first)
        x = rng.random(m)
        y = rng.random(m)
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
    return inside


def warm_up(_):
    """Keep a worker busy for a moment, so that every worker is up before the clock starts."""
    time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(
        description="Monte Carlo estimate of pi on a pool of worker processes.",
        usage="%(prog)s [--samples N] [--workers W] [--seed S]",
        allow_abbrev=False,
    )
    parser.add_argument("--samples", type=int, default=20_000_000, metavar="N",
                        help="points in total, shared by the workers")
    parser.add_argument("--workers", type=int, default=1, metavar="W")
    parser.add_argument("--seed", type=int, default=2024, metavar="S",
                        help="root seed: the same seed and workers give the same estimate")
    args = parser.parse_args()
    if args.workers < 1 or args.samples < args.workers or args.seed < 0:
        parser.error("need 1 <= workers <= samples and seed >= 0")

    n, w = args.samples, args.workers
    # One independent stream per worker, all derived from the one root seed.
    seeds = np.random.SeedSequence(args.seed).spawn(w)
    # Equal shares; the first n % w workers draw one point more, so the shares add up to n.
    shares = [n // w + (1 if k < n % w else 0) for k in range(w)]

    with multiprocessing.Pool(w) as pool:
        # Starting the processes is left out of the time below, which measures only the
        # parallel part; hpc-tutor's wall time of the whole program still includes it.
        pool.map(warm_up, range(w), chunksize=1)

        start = time.perf_counter()
        inside = sum(pool.starmap(count_inside, zip(seeds, shares), chunksize=1))
        elapsed = time.perf_counter() - start

    estimate = 4 * inside / n
    print(f"{n} samples on {w} worker process(es)")
    print(f"pi is about {estimate:.6f} (error {abs(estimate - math.pi):.1e})")
    print(f"Execution time: {elapsed:.4f} s")


if __name__ == "__main__":
    main()
