#!/usr/bin/env python3
"""Monte Carlo estimate of pi with mpi4py (strong scaling over MPI ranks).

What it teaches: every rank is a separate process with its own memory. Each draws its share
of the points from its own random stream and counts those in the quarter circle; one
reduction then adds the counts up on rank 0.

How hpc-tutor runs it: the lessons declare it as a program with the mpi backend; the tutor
starts it as `mpirun -np N python3 mc_pi_mpi.py SAMPLES` for each number of ranks N and reads
the time from rank 0's line `Execution time: ... s`. By hand:

    mpirun -np 2 python3 mc_pi_mpi.py 20000000
"""

import math
import sys

import numpy as np
from mpi4py import MPI

CHUNK = 1_000_000  # points drawn at a time: bounds the memory of a rank
SEED = 2024


def count_inside(rng, n):
    """Draw n points in the unit square; count those with x*x + y*y <= 1."""
    inside = 0
    for first in range(0, n, CHUNK):
        m = min(CHUNK, n - first)
        x = rng.random(m)
        y = rng.random(m)
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
    return inside


def main():
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()

    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < size:
        if rank == 0:
            print("usage: mpirun -np RANKS python3 mc_pi_mpi.py SAMPLES  (SAMPLES >= RANKS)",
                  file=sys.stderr)
        sys.exit(2)
    total = int(sys.argv[1])

    # This rank's share: the first total % size ranks draw one point more, so the shares
    # add up to exactly `total`.
    mine = total // size + (1 if rank < total % size else 0)
    # Independent streams: every rank derives the same list of child seeds from one root
    # and takes its own, so no two ranks draw the same points.
    rng = np.random.default_rng(np.random.SeedSequence(SEED).spawn(size)[rank])

    comm.Barrier()  # start the clock when every rank is ready
    start = MPI.Wtime()
    inside = count_inside(rng, mine)
    # reduce, not gather: we need the sum, not every rank's count. gather hands rank 0 a
    # list with one count per rank to add up itself; reduce adds the counts on the way
    # (pairwise, in a tree), so rank 0 ends up with the one number it needs and the adding
    # is shared out over the ranks.
    inside_total = comm.reduce(inside, op=MPI.SUM, root=0)
    comm.Barrier()  # stop it when every rank is done: the time of the slowest rank
    elapsed = MPI.Wtime() - start

    if rank == 0:
        estimate = 4 * inside_total / total
        print(f"{total} samples on {size} MPI rank(s)")
        print(f"pi is about {estimate:.6f} (error {abs(estimate - math.pi):.1e})")
        print(f"Execution time: {elapsed:.4f} s")


if __name__ == "__main__":
    main()
