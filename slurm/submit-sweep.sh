#!/usr/bin/env bash
# Submits a scaling sweep as a job array, one point per task (slurm/sweep-array.sbatch), and
# the job that merges and charts it once every task has succeeded
# (slurm/merge-and-plot.sbatch, --dependency=afterok:<array job>). Prints both job ids.
#
#   slurm/submit-sweep.sh [options] [-- SBATCH_OPTION...]
#
#   -w, --workers LIST      worker counts, one array task each [1,2]
#   -e, --experiment NAME   experiment [mc-pi] (`hpc-tutor experiments` lists them)
#   -b, --backend B         threads or mpi [threads]
#   -r, --reps R            timed repetitions per point [5]
#       --param KEY=VALUE   an experiment parameter (repeatable), e.g. --param samples=1e8
#   -p, --partition PART    partition of both jobs [the cluster's default]
#   -t, --time TIME         time limit of each array task [00:30:00]
#   -D, --chdir DIR         working folder of both jobs: job output and results/ go there
#                           [the current folder]
#   -h, --help              this text
#   after --                more sbatch options for both jobs, e.g. --account=ACC --qos=QOS
#
# Each array task gets the CPUs (threads: --cpus-per-task) or tasks (mpi: --ntasks, one CPU
# each) of the largest worker count, so that every point runs on the same kind of
# allocation. The merge job is cancelled by SLURM when a task fails (--kill-on-invalid-dep)
# rather than waiting forever.
#
# Prints, on standard output:
#   array job <id>
#   merge job <id>
#   results <RESULTS_DIR>/sweep-<array id>/          (one .jsonl per task)
#   merged <RESULTS_DIR>/sweep-<array id>.jsonl
#   chart <RESULTS_DIR>/sweep-<array id>.png
#
# Variables: HPC_TUTOR (the binary, else hpc-tutor on PATH, else target/release/hpc-tutor of
# this repository; the jobs get the one found here), RESULTS_DIR [results/ in the working
# folder]; the environment is passed to the jobs.
#
# Exit status: 0 both submitted; 1 a submission failed; 2 bad usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

bad() {
    echo "submit-sweep.sh: $*" >&2
    echo "usage: slurm/submit-sweep.sh [-w LIST] [-e EXPERIMENT] [-b BACKEND] [-r REPS] [--param K=V]... [-p PART] [-t TIME] [-D DIR] [-- SBATCH_OPTION...]" >&2
    exit 2
}

workers=1,2
experiment=mc-pi
backend=threads
reps=5
params=()
common=()
time_limit=00:30:00
chdir="$PWD"
while (($#)); do
    case "$1" in
        -w | --workers) workers="${2:?}"; shift 2 ;;
        -e | --experiment) experiment="${2:?}"; shift 2 ;;
        -b | --backend) backend="${2:?}"; shift 2 ;;
        -r | --reps) reps="${2:?}"; shift 2 ;;
        --param) params+=("${2:?}"); shift 2 ;;
        -p | --partition) common+=(--partition="${2:?}"); shift 2 ;;
        -t | --time) time_limit="${2:?}"; shift 2 ;;
        -D | --chdir) chdir="${2:?}"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; common+=("$@"); break ;;
        *) bad "unknown option $1" ;;
    esac
done

[[ "$workers" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || bad "--workers $workers: expected counts like 1,2,4"
[[ "$backend" == threads || "$backend" == mpi ]] || bad "--backend $backend: expected threads or mpi"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || bad "--reps $reps: expected a whole number from 1"
[[ -d "$chdir" ]] || bad "--chdir $chdir: no such folder"
chdir="$(cd "$chdir" && pwd)"
command -v sbatch >/dev/null 2>&1 || {
    echo "submit-sweep.sh: sbatch not found: run this on a SLURM login node" >&2
    exit 1
}

# The binary, found now so that every job runs the same one.
if [[ -n "${HPC_TUTOR:-}" ]]; then
    [[ -x "$HPC_TUTOR" ]] || bad "HPC_TUTOR=$HPC_TUTOR is not an executable file"
elif command -v hpc-tutor >/dev/null 2>&1; then
    HPC_TUTOR="$(command -v hpc-tutor)"
elif [[ -x "$here/../target/release/hpc-tutor" ]]; then
    HPC_TUTOR="$(cd "$here/.." && pwd)/target/release/hpc-tutor"
else
    echo "submit-sweep.sh: no hpc-tutor binary: set HPC_TUTOR=/path/to/hpc-tutor, put hpc-tutor on PATH, or build target/release/hpc-tutor (cargo build --release --features mpi)" >&2
    exit 1
fi

IFS=, read -r -a list <<<"$workers"
most=0
for n in "${list[@]}"; do
    ((n > most)) && most=$n
done
if [[ "$backend" == threads ]]; then
    shape=(--ntasks=1 --cpus-per-task="$most")
else
    shape=(--ntasks="$most" --cpus-per-task=1)
fi
results_dir="${RESULTS_DIR:-$chdir/results}"
case "$results_dir" in /*) ;; *) results_dir="$chdir/$results_dir" ;; esac

export HPC_TUTOR RESULTS_DIR="$results_dir" EXPERIMENT="$experiment" BACKEND="$backend" \
    REPS="$reps" WORKERS_LIST="$workers" PARAMS="${params[*]}"

array_id="$(sbatch --parsable --chdir="$chdir" --array=0-$((${#list[@]} - 1)) \
    --time="$time_limit" "${shape[@]}" "${common[@]}" "$here/sweep-array.sbatch")" || {
    echo "submit-sweep.sh: submitting the array failed" >&2
    exit 1
}
array_id="${array_id%%;*}" # --parsable prints id;cluster on multi-cluster sites
merge_id="$(SWEEP_JOB_ID="$array_id" sbatch --parsable --chdir="$chdir" \
    --dependency=afterok:"$array_id" --kill-on-invalid-dep=yes \
    --export=ALL,SWEEP_JOB_ID="$array_id" "${common[@]}" "$here/merge-and-plot.sbatch")" || {
    echo "submit-sweep.sh: submitting the merge job failed (the array $array_id is queued: scancel $array_id)" >&2
    exit 1
}
merge_id="${merge_id%%;*}"

echo "array job $array_id"
echo "merge job $merge_id"
echo "results $results_dir/sweep-$array_id/"
echo "merged $results_dir/sweep-$array_id.jsonl"
echo "chart $results_dir/sweep-$array_id.png"
