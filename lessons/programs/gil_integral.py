#!/usr/bin/env python3
"""Trapezoid rule of f(x) = x*x on a pool of threads or of processes.

What it teaches: in CPython only one thread at a time runs Python bytecode (the GIL), so
a plain Python loop split over a ThreadPoolExecutor is no faster than on one worker, while a
ProcessPoolExecutor (one interpreter, and one GIL, per process) runs the chunks in parallel.
With --work numpy each chunk is summed by NumPy, whose compiled loops release the GIL, so
threads can help there too.

How hpc-tutor runs it: the lesson *Python: the GIL, threads and processes* declares it as a
program; the tutor runs it once per worker count with `--workers N` and reads the time from
the line `Execution time: ... s`. By hand:

    python3 gil_integral.py --pool threads --workers 2 --work python
    python3 gil_integral.py --pool processes --workers 2 --work python
    python3 gil_integral.py --pool threads --workers 2 --work numpy --intervals 1000000000
"""

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

BLOCK = 262_144  # points per NumPy block: 2 MiB, small enough to stay in the cache


def f(x):
    return x * x


def chunk_python(lo, h, count):
    """Trapezoid rule over `count` intervals of width h starting at lo, one point at a time."""
    total = (f(lo) + f(lo + count * h)) / 2  # the two end points count half
    for i in range(1, count):
        total += f(lo + i * h)
    return total * h


def chunk_numpy(lo, h, count):
    """The same sum, with the inner points handled by NumPy, one block of points at a time."""
    import numpy as np  # imported here, so that --work python runs without NumPy

    total = (f(lo) + f(lo + count * h)) / 2
    steps = np.arange(BLOCK, dtype=np.float64)  # 0, 1, 2, ...: made once, reused
    buf = np.empty(BLOCK)  # one buffer for every block: no new array per block
    for first in range(1, count, BLOCK):
        x = buf[: min(BLOCK, count - first)]
        # Each call below is one compiled loop over the block, run without the GIL.
        np.add(steps[: len(x)], first, out=x)  # i
        np.multiply(x, h, out=x)  # i * h
        np.add(x, lo, out=x)  # x = lo + i * h
        np.multiply(x, x, out=x)  # f(x) = x * x
        total += float(x.sum())
    return total * h


def warm_up(work):
    """Keep a worker busy for a moment, so that every worker of the pool gets started."""
    if work == "numpy":
        import numpy  # noqa: F401  (pay for the import here, not in the timed part)
    time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(
        description="Trapezoid rule of x*x over [a, b] on a thread or process pool.",
        usage="%(prog)s [--pool threads|processes] [--workers W] [--work python|numpy]"
        " [--intervals N] [--a A] [--b B]",
        allow_abbrev=False,
    )
    parser.add_argument("--pool", choices=["threads", "processes"], default="threads")
    parser.add_argument("--workers", type=int, default=1, metavar="W")
    parser.add_argument("--work", choices=["python", "numpy"], default="python")
    parser.add_argument("--intervals", type=int, default=10_000_000, metavar="N")
    parser.add_argument("--a", type=float, default=0.0, help="lower bound (default 0)")
    parser.add_argument("--b", type=float, default=100.0, help="upper bound (default 100)")
    args = parser.parse_args()
    if args.workers < 1 or args.intervals < args.workers:
        parser.error("need 1 <= workers <= intervals")

    a, b, n, w = args.a, args.b, args.intervals, args.workers
    h = (b - a) / n
    # W equal chunks of intervals; the first n % w chunks take one interval more.
    counts = [n // w + (1 if k < n % w else 0) for k in range(w)]
    starts = [sum(counts[:k]) for k in range(w)]
    if args.work == "numpy":
        import numpy  # noqa: F401  (fail here, before any pool, when NumPy is missing)
    work = chunk_numpy if args.work == "numpy" else chunk_python
    Pool = ThreadPoolExecutor if args.pool == "threads" else ProcessPoolExecutor

    with Pool(max_workers=w) as pool:
        # Pools start their workers lazily, on the first tasks. Start all of them now, so that
        # creating threads or starting processes (a new interpreter each) is NOT part of the
        # time below: the program's own time is the computation alone. The wall time that
        # hpc-tutor also records still includes it.
        list(pool.map(warm_up, [args.work] * w))

        start = time.perf_counter()
        futures = [pool.submit(work, a + s * h, h, c) for s, c in zip(starts, counts)]
        result = sum(fut.result() for fut in futures)
        elapsed = time.perf_counter() - start

    exact = (b**3 - a**3) / 3
    error = abs(result - exact) / abs(exact) if exact else abs(result)
    print(f"{args.pool} pool, {w} worker(s), {args.work} work, {n} intervals on [{a:g}, {b:g}]")
    print(f"integral = {result:.10g} (exact {exact:.10g}, relative error {error:.1e})")
    print(f"Execution time: {elapsed:.4f} s")


if __name__ == "__main__":
    main()
