#!/usr/bin/env bash
# Starts the hpc-tutor terminal interface on a compute node, in `srun --pty`, with CPUs of
# its own, so that its measurements use the allocation's CPUs and not the login node's.
#
#   slurm/interactive.sh [options] [-- HPC_TUTOR_ARGUMENT...]
#
#   -c, --cpus N          CPUs for the tutor's threads [$HPC_TUTOR_CPUS, else 2]
#   -t, --time TIME       time limit [$HPC_TUTOR_TIME, else 01:00:00]
#   -p, --partition PART  partition [$HPC_TUTOR_PARTITION, else the cluster's default]
#   -n, --mpi-tasks N     also allocate N MPI tasks (one CPU each, on one node) for the
#                         `--backend mpi` runs; the tutor then shares their N CPUs
#   -J, --job-name NAME   job name [hpc-tutor]
#       --dry-run         print the command instead of running it
#   -h, --help            this text
#   after --              arguments for hpc-tutor, e.g. -- --lesson amdahl
#
# Examples:
#   slurm/interactive.sh                           # 2 CPUs for an hour
#   slurm/interactive.sh -c 8 -p debug -- --lesson amdahl
#   slurm/interactive.sh -n 4                      # 4 MPI ranks for the MPI lessons
#
# Where it runs:
#   - on a login node: a new job, `srun --pty` (with -n: `salloc`, then `srun --pty` in it);
#   - inside an allocation without a step (an salloc shell, a batch script): a step of that
#     job on its CPUs (-c, else all the job's CPUs on the node); -t, -p and -n do not apply;
#   - already inside a step (e.g. in `srun --pty bash`): runs hpc-tutor right here.
# The tutor's step is started with --overlap, so that the `srun --mpi=pmix` of its MPI runs
# can start ranks on the same CPUs instead of waiting for the tutor's step to end, and
# without SLURM_CPU_BIND, so that those ranks are bound to cores of their own instead of
# inheriting the tutor's CPU mask.
#
# Finds hpc-tutor through $HPC_TUTOR, else `hpc-tutor` on PATH, else
# target/release/hpc-tutor of the repository holding this script.
# Writes nothing itself; the tutor keeps progress and results in its usual places.
# Exit status: the tutor's, or srun's (1 no binary or SLURM, 2 bad usage).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

bad() {
    echo "interactive.sh: $*" >&2
    echo "usage: slurm/interactive.sh [-c CPUS] [-t TIME] [-p PARTITION] [-n MPI_TASKS] [-J NAME] [--dry-run] [-- HPC_TUTOR_ARGUMENT...]" >&2
    exit 2
}

cpus="${HPC_TUTOR_CPUS:-}"
time_limit="${HPC_TUTOR_TIME:-01:00:00}"
partition="${HPC_TUTOR_PARTITION:-}"
tasks=""
name=hpc-tutor
dry=0
while (($#)); do
    case "$1" in
        -c | --cpus) cpus="${2:?}"; shift 2 ;;
        -t | --time) time_limit="${2:?}"; shift 2 ;;
        -p | --partition) partition="${2:?}"; shift 2 ;;
        -n | --mpi-tasks) tasks="${2:?}"; shift 2 ;;
        -J | --job-name) name="${2:?}"; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -h | --help) usage; exit 0 ;;
        --) shift; break ;;
        *) bad "unknown option $1 (arguments for hpc-tutor go after --)" ;;
    esac
done
[[ -z "$cpus" || "$cpus" =~ ^[1-9][0-9]*$ ]] || bad "-c $cpus: expected a whole number from 1"
[[ -z "$tasks" || "$tasks" =~ ^[1-9][0-9]*$ ]] || bad "-n $tasks: expected a whole number from 1"

if [[ -n "${HPC_TUTOR:-}" ]]; then
    [[ -x "$HPC_TUTOR" ]] || { echo "interactive.sh: HPC_TUTOR=$HPC_TUTOR is not an executable file" >&2; exit 1; }
    bin="$HPC_TUTOR"
elif command -v hpc-tutor >/dev/null 2>&1; then
    bin="$(command -v hpc-tutor)"
elif [[ -x "$here/../target/release/hpc-tutor" ]]; then
    bin="$(cd "$here/.." && pwd)/target/release/hpc-tutor"
else
    echo "interactive.sh: no hpc-tutor binary: set HPC_TUTOR=/path/to/hpc-tutor, put hpc-tutor on PATH (cargo install --path . --features mpi), or build target/release/hpc-tutor (cargo build --release --features mpi)" >&2
    exit 1
fi

# The tutor itself, without the CPU binding of its step in its environment (srun reads
# SLURM_CPU_BIND as an option: the ranks of its MPI runs would all get the tutor's mask).
tutor=(env -u SLURM_CPU_BIND -u SLURM_CPU_BIND_LIST -u SLURM_CPU_BIND_TYPE
    -u SLURM_CPU_BIND_VERBOSE "$bin" "$@")

if [[ -n "${SLURM_JOB_ID:-}" && -n "${SLURM_STEP_ID:-}" ]]; then
    # Inside a step already: its terminal and CPUs are the tutor's.
    cmd=("${tutor[@]}")
    echo "interactive.sh: inside step $SLURM_JOB_ID.$SLURM_STEP_ID: starting hpc-tutor here" >&2
elif [[ -n "${SLURM_JOB_ID:-}" ]]; then
    # Inside an allocation: a step of it. Its CPUs on this node, unless -c says.
    if [[ -z "$cpus" ]]; then
        cpus="${SLURM_CPUS_PER_TASK:-}"
        # SLURM_JOB_CPUS_PER_NODE is like "8" or "8(x2),4": the first count is this node's.
        [[ -n "$cpus" ]] || { cpus="${SLURM_JOB_CPUS_PER_NODE:-}" && cpus="${cpus%%[!0-9]*}"; }
    fi
    [[ -n "$tasks$partition" ]] && echo "interactive.sh: inside job $SLURM_JOB_ID: -n and -p do not apply" >&2
    cmd=(srun --pty --overlap --ntasks=1 ${cpus:+--cpus-per-task="$cpus"} "${tutor[@]}")
    echo "interactive.sh: inside job $SLURM_JOB_ID: starting hpc-tutor as a step with ${cpus:-the default} CPUs" >&2
elif [[ -n "$tasks" ]]; then
    # A job with N MPI tasks; the tutor's step overlaps their CPUs.
    command -v salloc >/dev/null 2>&1 || { echo "interactive.sh: salloc not found: run this on a SLURM login node" >&2; exit 1; }
    [[ -z "$cpus" ]] || echo "interactive.sh: with -n $tasks the tutor shares the $tasks tasks' CPUs (-c $cpus does not apply)" >&2
    cmd=(salloc --job-name="$name" --nodes=1 --ntasks="$tasks" --cpus-per-task=1
        --time="$time_limit" ${partition:+--partition="$partition"}
        srun --pty --overlap --ntasks=1 --cpus-per-task="$tasks" "${tutor[@]}")
else
    command -v srun >/dev/null 2>&1 || { echo "interactive.sh: srun not found: run this on a SLURM login node" >&2; exit 1; }
    cmd=(srun --pty --overlap --job-name="$name" --nodes=1 --ntasks=1
        --cpus-per-task="${cpus:-2}" --time="$time_limit" ${partition:+--partition="$partition"}
        "${tutor[@]}")
fi

if ((dry)); then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
exec "${cmd[@]}"
