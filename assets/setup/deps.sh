#!/usr/bin/env bash
# Installs the Debian packages hpc-tutor needs, when they are missing, as root or through sudo.
#
#   bash assets/setup/deps.sh run     # what the app needs for MPI runs (OpenMPI, libclang)
#                                     # and the lessons' Python programs (NumPy, mpi4py)
#   bash assets/setup/deps.sh test    # that, plus what the tests drive: tmux, procps, shellcheck
#   bash assets/setup/deps.sh list    # print the packages the set-up may install, one a line
#
# A package counts as present only when dpkg says it is installed (`dpkg-query -W`), never
# because some file happens to exist: the base image ships libclang-cpp, which is not the
# libclang that rsmpi's bindgen loads. Without root or sudo (or with HPC_TUTOR_NO_INSTALL=1)
# nothing is installed and the missing packages are named; the exit status is then 3.
set -euo pipefail

# python3-numpy and python3-mpi4py: the lessons' Python programs (Debian's mpi4py is built
# against Debian's OpenMPI). python3 itself comes with Debian and is never purged.
run_pkgs=(openmpi-bin libopenmpi-dev libclang-dev python3-numpy python3-mpi4py)
test_pkgs=("${run_pkgs[@]}" tmux procps shellcheck)

case "${1:-}" in
    run) want=("${run_pkgs[@]}") ;;
    test) want=("${test_pkgs[@]}") ;;
    list)
        printf '%s\n' "${test_pkgs[@]}"
        exit 0
        ;;
    *)
        echo "usage: bash assets/setup/deps.sh run|test|list" >&2
        exit 2
        ;;
esac

installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

need=()
for p in "${want[@]}"; do
    installed "$p" || need+=("$p")
done
((${#need[@]})) || exit 0

if [[ "${HPC_TUTOR_NO_INSTALL:-}" == 1 ]]; then
    echo "deps.sh: missing ${need[*]} (HPC_TUTOR_NO_INSTALL=1: not installing)" >&2
    exit 3
fi
if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "deps.sh: missing ${need[*]}, and installing needs root or sudo: apt-get install ${need[*]}" >&2
    exit 3
fi
echo "deps.sh: installing ${need[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
