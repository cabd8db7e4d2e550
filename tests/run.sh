#!/usr/bin/env bash
# The whole test suite, with all set-up, on a fresh Debian machine with Rust.
#
#   bash tests/run.sh
#
# 1. installs the Debian packages the tests need when they are missing (as root, or with
#    sudo): tmux, for driving the real terminal interface; OpenMPI and libclang, for the
#    MPI backend (rsmpi's bindings are generated with bindgen);
# 2. checks formatting (cargo fmt) and lints (cargo clippy, warnings are errors);
# 3. runs every test with the `mpi` feature: unit, CLI, rendering snapshots, the terminal
#    tests in tmux, and real MPI jobs under mpirun.
#
# Set HPC_TUTOR_NO_INSTALL=1 to never call apt-get (a missing tool then fails its tests
# with a message naming it).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v pgrep >/dev/null 2>&1 || need+=(procps)
command -v mpirun >/dev/null 2>&1 || need+=(openmpi-bin)
command -v mpicc >/dev/null 2>&1 || need+=(libopenmpi-dev)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)

if ((${#need[@]})) && [[ "${HPC_TUTOR_NO_INSTALL:-}" != 1 ]]; then
    echo "tests/run.sh: installing ${need[*]}" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --all-targets --features mpi --locked -- -D warnings
echo "== cargo test" >&2
# Snapshots must match the checked-in ones; never write new ones in CI.
INSTA_UPDATE=no cargo test --all-targets --features mpi --locked
