#!/usr/bin/env python3
"""Matrix multiplies in N worker processes, with the BLAS library's threads left alone or held to 1.

What it teaches: NumPy hands `a @ b` to a BLAS library (OpenBLAS, MKL, BLIS), and an
optimised one starts a thread per core it can see in *every* process that loads it. A
program that starts N processes of its own, and never sets OPENBLAS_NUM_THREADS (or
OMP_NUM_THREADS, MKL_NUM_THREADS), ends up with N x cores threads on the node's cores:
they take turns, and the run is no faster, often slower, than with one BLAS thread per
process. Each worker reports how many threads its process ran, so the pile-up is visible.

Launched as several copies (`mpirun -np 2`, `srun -n 2`) it shows a second mistake: the
program knows nothing of MPI, so every copy does the whole job. Each copy says which copy
it is, and all of them print the same result.

How hpc-tutor runs it: the lesson *Ranks, threads and cores: placing a job* declares it
three times: on the processes backend with `--procs {workers}` and `--blas unset` or
`--blas 1`, and on the MPI backend with `--procs 1` (one copy per rank). The tutor reads
the time from the line `Execution time: ... s`: the multiplies only, after every worker
has started and imported NumPy. By hand:

    python3 blas_threads.py --procs 2 --blas unset
    python3 blas_threads.py --procs 2 --blas 1
    mpirun -np 2 python3 blas_threads.py --procs 1 --blas 1
"""

import argparse
import multiprocessing
import os
import queue
import time

# The variables BLAS and OpenMP libraries read when they load, to size their thread pools.
THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "GOTO_NUM_THREADS",
)

# Parts of a library's path that mark an optimised BLAS (one that starts threads).
OPTIMISED = ("openblas", "mkl", "blis", "flexiblas", "armpl", "accelerate")

# Multiplies per worker when --repeat is left at 0: about a second on one core of a
# current CPU. A reference BLAS is some ten times slower, so it gets fewer.
REPEAT_OPTIMISED = 20
REPEAT_REFERENCE = 2


def blas_libraries():
    """The BLAS libraries this process has loaded, from /proc/self/maps (Linux only)."""
    found = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                name = os.path.basename(path).lower()
                if "blas" in name or "mkl" in name or "blis" in name:
                    if path not in found:
                        found.append(path)
    except OSError:
        pass
    return found


def threads_of_this_process():
    """How many threads this process runs now: the entries of /proc/self/task."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0  # not Linux: unknown


def launched_copy():
    """(copy, copies) when an MPI launcher or srun started this program, else None."""
    for rank_var, size_var in (
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),  # Open MPI's mpirun
        ("PMI_RANK", "PMI_SIZE"),  # MPICH and Intel MPI (Hydra)
        ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS"),  # srun (a batch script's own step has no STEP_NUM_TASKS)
    ):
        rank, size = os.environ.get(rank_var), os.environ.get(size_var)
        if rank is not None and size is not None:
            try:
                return int(rank) + 1, int(size), rank_var
            except ValueError:
                continue
    return None


def worker(index, blas, size, repeat, barrier, results):
    """One worker process: set up the BLAS threads, multiply, report what it did."""
    # BLAS reads these variables once, when NumPy loads it: they must be set before the import.
    for var in THREAD_VARS:
        if blas == "unset":
            os.environ.pop(var, None)  # as if nobody had set them: the library decides
        else:
            os.environ[var] = blas
    import numpy as np

    libraries = blas_libraries()
    optimised = any(k in p.lower() for p in libraries for k in OPTIMISED)
    if repeat == 0:
        repeat = REPEAT_OPTIMISED if optimised else REPEAT_REFERENCE
    rng = np.random.default_rng(index)  # the same matrices in every copy of the program
    a = rng.random((size, size))
    b = rng.random((size, size))
    a[:200, :200] @ b[:200, :200]  # a small multiply wakes the library's thread pool

    barrier.wait(timeout=600)  # every worker is up and has imported NumPy: the clock starts
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(repeat):
        c = a @ b
    t1, cpu1 = time.perf_counter(), time.process_time()
    # Counted before results.put, which starts a thread of its own.
    threads = threads_of_this_process()
    results.put((index, t0, t1, cpu1 - cpu0, threads, repeat, float(c.trace()), libraries))


def main():
    parser = argparse.ArgumentParser(
        description="Matrix multiplies in worker processes, BLAS threads unset or set to 1.",
        usage="%(prog)s [--procs N] [--blas unset|1] [--size S] [--repeat K]",
        allow_abbrev=False,
    )
    parser.add_argument("--procs", type=int, default=1, metavar="N",
                        help="worker processes, each doing the whole multiply (default 1)")
    parser.add_argument("--blas", choices=["unset", "1"], default="unset",
                        help="unset: leave the BLAS threads to the library; 1: one thread")
    parser.add_argument("--size", type=int, default=1000, metavar="S",
                        help="the matrices are S x S (default 1000)")
    parser.add_argument("--repeat", type=int, default=0, metavar="K",
                        help="multiplies per worker; 0 (default): 20 with an optimised "
                             "BLAS, 2 with a reference BLAS, about a second either way")
    args = parser.parse_args()
    if args.procs < 1 or args.size < 200 or args.repeat < 0:
        parser.error("need --procs >= 1, --size >= 200 and --repeat >= 0")

    copy = launched_copy()

    # A fresh interpreter per worker (spawn), so that NumPy and its BLAS are loaded after
    # the worker has set the variables, as in a program started on its own.
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(args.procs)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, args.blas, args.size, args.repeat, barrier, results))
        for i in range(args.procs)
    ]
    for p in procs:
        p.start()
    done = []
    while len(done) < len(procs):
        try:
            done.append(results.get(timeout=0.5))
        except queue.Empty:
            # A worker that died (NumPy missing, out of memory) never reports: stop the rest.
            if any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.terminate()
                raise SystemExit("a worker process failed; its error is printed above")
    done.sort()
    for p in procs:
        p.join()

    start = min(r[1] for r in done)
    elapsed = max(r[2] for r in done) - start
    repeat = done[0][5]
    gflop = 2 * args.size**3 * repeat / 1e9
    how = ("left to the library (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS unset)"
           if args.blas == "unset" else "set to 1 (OPENBLAS_NUM_THREADS=1 and the others)")
    libraries = done[0][7]
    optimised = any(k in p.lower() for p in libraries for k in OPTIMISED)
    lines = []
    prefix = ""
    if copy is not None and copy[1] > 1:  # one copy of one (a plain srun step) is no news
        number, copies, var = copy
        prefix = f"[copy {number}/{copies}] "  # the copies' outputs may interleave
        lines.append(f"copy {number} of {copies} ({var}={number - 1}): this copy did the whole "
                     f"job below by itself; it knows nothing of the other copies")
    lines += [
        f"{args.procs} worker process(es), each {repeat} multiplies of "
        f"{args.size} x {args.size} matrices ({gflop:.1f} GFLOP per worker)",
        f"BLAS threads: {how}",
        "BLAS library: " + (", ".join(libraries) if libraries else "not found in /proc/self/maps"),
    ]
    if libraries and not optimised:
        lines.append("  (a reference BLAS: one thread whatever the variables say, so --blas "
                     "unset and --blas 1 behave alike; an OpenBLAS or MKL NumPy shows the difference)")
    for index, t0, t1, cpu, threads, _, trace, _ in done:
        busy = cpu / (t1 - t0) if t1 > t0 else 0.0
        lines.append(f"worker {index}: {threads} thread(s) in its process, {t1 - t0:.3f} s, "
                     f"{cpu:.2f} CPU-s ({busy:.1f} CPUs busy), result trace {trace:.6e}")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    total_threads = sum(r[4] for r in done)
    verdict = ("more threads than CPUs: they take turns" if total_threads > cpus
               else "no more threads than CPUs")
    lines.append(f"threads in all workers: {total_threads}, CPUs this program may use: "
                 f"{cpus} ({verdict})")
    cpu_all = sum(r[3] for r in done)
    lines.append(f"CPU time of the workers: {cpu_all:.2f} s in {elapsed:.3f} s: "
                 f"{cpu_all / elapsed:.1f} CPUs busy, "
                 f"{gflop * args.procs / elapsed:.1f} GFLOP/s in all")
    # Printed once per launched process: under mpirun, once per copy. One write for all the
    # lines, so that the copies' reports are less likely to be cut into each other.
    lines.append(f"Execution time: {elapsed:.4f} s")
    print("\n".join(prefix + line for line in lines), flush=True)


if __name__ == "__main__":
    main()
