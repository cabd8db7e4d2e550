#!/usr/bin/env bash
# The whole test suite, with all set-up, on a fresh Debian machine with Rust.
#
#   bash tests/run.sh
#
# 1. installs the Debian packages the tests need when dpkg says they are missing (as root,
#    or with sudo; assets/setup/deps.sh test): tmux, for driving the real terminal
#    interface; OpenMPI and libclang, for the MPI backend (rsmpi's bindings are generated
#    with bindgen); shellcheck;
# 2. checks formatting (cargo fmt) and lints (cargo clippy, warnings are errors);
# 3. runs every test with the `mpi` feature: unit, CLI, rendering snapshots, the terminal
#    tests in tmux, and real MPI jobs under mpirun;
# 4. SLURM: shellcheck on the scripts of slurm/ and tests/slurm/; then starts a real
#    one-node SLURM cluster on this machine (tests/slurm/cluster.sh up: installs and
#    configures slurm-wlm and munge) and runs tests/slurm.rs against it (batch scripts, job
#    arrays with a dependent job, MPI ranks under srun --mpi=pmix, the tutor in srun --pty),
#    then stops the cluster. When this machine cannot run a cluster at all (cluster.sh exits
#    77: not root and no sudo, packages not installable, another SLURM setup present) the
#    SLURM tests are reported SKIPPED in a banner and the suite goes on; any other failure
#    of cluster.sh fails the suite;
# 5. then a simulated two-node cluster (tests/slurm/cluster2.sh up: two nodes in network,
#    UTS and mount namespaces, joined by a virtual link) and tests/slurm2.rs against it
#    (ping-pong on one node and across nodes, a deadlock across nodes, a node going down),
#    skipped with a banner in the same way when cluster2.sh exits 77.
#
# `bash tests/run.sh --from-scratch` first purges every package the set-up may install
# (assets/setup/deps.sh list, tests/slurm/cluster.sh packages, and what apt then
# autoremoves), so that this machine is as bare as a fresh one; then it runs the suite.
#
# Set HPC_TUTOR_NO_INSTALL=1 to never call apt-get (a missing tool then fails its tests
# with a message naming it). HPC_TUTOR_SKIP_SLURM=1 skips the SLURM tests (with the banner);
# HPC_TUTOR_KEEP_SLURM=1 leaves the cluster running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == --from-scratch ]]; then
    bash tests/slurm/cluster.sh down >/dev/null 2>&1 || true
    bash tests/slurm/cluster2.sh down >/dev/null 2>&1 || true
    mapfile -t purge < <(bash assets/setup/deps.sh list | grep -vx procps; bash tests/slurm/cluster.sh packages)
    mapfile -t present < <(dpkg-query -W -f='${Package} ${Status}\n' "${purge[@]}" 2>/dev/null | awk '/install ok installed/ {print $1}')
    echo "tests/run.sh --from-scratch: purging ${present[*]:-nothing}" >&2
    if [[ $(id -u) -eq 0 ]]; then sudo=(); else sudo=(sudo -n); fi
    if ((${#present[@]})); then
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get purge -y -qq "${present[@]}" >/dev/null
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get autoremove --purge -y -qq >/dev/null
elif (($#)); then
    echo "usage: bash tests/run.sh [--from-scratch]" >&2
    exit 2
fi

deps=0
bash assets/setup/deps.sh test || deps=$?
case "$deps" in
    0) ;;
    3) echo "tests/run.sh: going on without them: the tests that need them will fail, naming what is missing" >&2 ;;
    *) exit "$deps" ;;
esac

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --all-targets --features mpi --locked -- -D warnings
echo "== shellcheck slurm/ tests/slurm/ assets/setup/" >&2
shellcheck slurm/* tests/slurm/*.sh tests/run.sh assets/setup/*.sh
echo "== cargo test" >&2
# The tests' runs, progress and results go to a folder of their own, never into the
# user's results store or progress file.
test_home="$(mktemp -d)"
export HPC_TUTOR_DATA_DIR="$test_home/data" HPC_TUTOR_STATE_DIR="$test_home/state"
# Snapshots must match the checked-in ones; never write new ones in CI.
INSTA_UPDATE=no cargo test --all-targets --features mpi --locked

# SLURM: a real one-node cluster on this machine, then the jobs of tests/slurm.rs; then a
# simulated two-node cluster (network, UTS and mount namespaces) and the jobs of
# tests/slurm2.rs: MPI ranks across nodes, a deadlock across nodes, a node going down.
slurm_tests="$(grep -c '^#\[ignore = "needs the one-node SLURM cluster' tests/slurm.rs)"
slurm2_tests="$(grep -c '^#\[ignore = "needs the two-node SLURM cluster' tests/slurm2.rs)"
# skipped WHAT REASON: the banner for tests that cannot run here.
skipped() {
    echo "" >&2
    echo "##########################################################################" >&2
    echo "## SKIPPED: $1: $2" >&2
    echo "##########################################################################" >&2
    echo "" >&2
}
# cluster_up SCRIPT WHAT: starts a test cluster; where this machine cannot run one (exit
# 77) the banner says why and the suite ends here, successfully; any other failure fails it.
cluster_up() {
    local script="$1" what="$2" log up=0
    echo "== $what (tests/slurm/$script up)" >&2
    log="$(mktemp)"
    bash "tests/slurm/$script" up 2> >(tee "$log" >&2) || up=$?
    wait # for tee
    case "$up" in
        0) rm -f "$log" ;;
        77)
            skipped "$what tests" "$(grep 'cannot run a' "$log" | tail -n 1 | sed "s/^$script: //")"
            rm -f "$log"
            exit 0
            ;;
        *)
            echo "tests/run.sh: tests/slurm/$script up failed (exit $up): a bug of the cluster set-up, not of this machine" >&2
            rm -f "$log"
            exit 1
            ;;
    esac
}
if [[ "${HPC_TUTOR_SKIP_SLURM:-}" == 1 ]]; then
    skipped "SLURM integration tests ($slurm_tests one-node, $slurm2_tests two-node)" "HPC_TUTOR_SKIP_SLURM=1"
    exit 0
fi
if [[ "${HPC_TUTOR_KEEP_SLURM:-}" != 1 ]]; then
    trap 'echo "== SLURM clusters down" >&2; bash tests/slurm/cluster2.sh down || true; bash tests/slurm/cluster.sh down || true' EXIT
fi
cluster_up cluster.sh "SLURM one-node cluster ($slurm_tests tests)"
echo "== cargo test --test slurm (real SLURM jobs)" >&2
cargo test --test slurm --features mpi --locked -- --ignored --test-threads=1

cluster_up cluster2.sh "SLURM two-node cluster ($slurm2_tests tests)"
echo "== cargo test --test slurm2 (MPI across two nodes)" >&2
cargo test --test slurm2 --features mpi --locked -- --ignored --test-threads=1
