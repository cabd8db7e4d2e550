#!/usr/bin/env bash
# The README's run command: sets MPI up where it can, then builds and opens the tutor.
#
#   bash assets/setup/run.sh [hpc-tutor arguments…]
#
# On Debian, as root or with sudo, it installs OpenMPI and libclang (assets/setup/deps.sh run)
# and builds with MPI runs. Where that is not possible it builds without MPI and says so;
# every thread experiment still works, and the MPI lessons say how to get MPI.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
manifest=(--manifest-path "$repo/Cargo.toml")

mpi=0
if command -v dpkg-query >/dev/null 2>&1; then
    bash "$repo/assets/setup/deps.sh" run && mpi=1
elif command -v mpicc >/dev/null 2>&1; then
    # Not Debian (e.g. a cluster's `module load openmpi`): try the MPI build as it is.
    mpi=1
fi
if ((mpi)); then
    exec cargo run --release --locked "${manifest[@]}" --features mpi -- "$@"
fi
echo "hpc-tutor: no MPI set-up here (see above): building without MPI runs; the MPI lessons say how to get one" >&2
exec cargo run --release --locked "${manifest[@]}" -- "$@"
