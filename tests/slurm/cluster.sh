#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine, for the SLURM integration tests
# (tests/slurm.rs) and for trying the scripts in slurm/ by hand.
#
#   bash tests/slurm/cluster.sh up       install, configure and start; wait until the node is idle
#   bash tests/slurm/cluster.sh status   the daemons and the node, exit 0 only when usable
#   bash tests/slurm/cluster.sh down     stop slurmd, slurmctld and munged
#
# `up` is idempotent: it installs Debian's slurmctld, slurmd, slurm-client (with the basic
# plugins, which hold mpi_pmix.so for `srun --mpi=pmix`) and munge with apt-get when they
# are missing, creates a munge key when there is none, writes /etc/slurm/slurm.conf from
# tests/slurm/slurm.conf.in with the node measured by `slurmd -C` (CPUs, memory) and the
# short host name, starts munged, slurmctld and slurmd as daemons, and waits until `sinfo`
# shows the node idle. Running it again with everything up only checks the node.
#
# Needs root: as another user it re-runs itself with `sudo -n` when sudo is available.
# Files: config /etc/slurm/slurm.conf (never overwritten unless this script wrote it),
# daemon state $HPC_TUTOR_SLURM_STATE (default /var/lib/slurm/hpc-tutor), daemon logs
# $HPC_TUTOR_SLURM_LOGS (default /var/log/slurm: slurmctld.log, slurmd.log; munged logs to
# /var/log/munge/munged.log).
#
# Exit status: 0 the cluster is up (or down, for `down`); 1 it failed, which is a bug of
# this script or of its configuration (the logs' last lines are printed); 77 this machine
# cannot run a cluster at all (not root and no sudo, packages cannot be installed,
# HPC_TUTOR_NO_INSTALL=1 with SLURM missing, another SLURM configuration already here):
# tests/run.sh then reports the SLURM tests as skipped, loudly. Messages go to stderr, the
# last line of a failure being the reason.
#
# Variables: HPC_TUTOR_NO_INSTALL=1 never calls apt-get; HPC_TUTOR_SLURM_TIMEOUT seconds to
# wait for the node (default 60).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/slurm/common.sh
source "$here/common.sh"
conf=/etc/slurm/slurm.conf
marker='managed-by: hpc-tutor tests/slurm/cluster.sh'
state="${HPC_TUTOR_SLURM_STATE:-/var/lib/slurm/hpc-tutor}"
logs="${HPC_TUTOR_SLURM_LOGS:-/var/log/slurm}"
timeout="${HPC_TUTOR_SLURM_TIMEOUT:-60}"
host="$(hostname -s)"

say() { echo "cluster.sh: $*" >&2; }
# Cannot run here at all: the caller skips the SLURM tests.
cannot() {
    say "cannot run a SLURM cluster here: $*"
    exit 77
}
# Our own failure: the caller fails.
fail() {
    say "FAILED: $*"
    exit 1
}

usage() {
    echo "usage: $0 up|down|status|packages" >&2
    exit 2
}

(($# == 1)) || usage
action="$1"
case "$action" in up | down | status) ;; packages)
    # The Debian packages `up` may install, one a line (tests/run.sh --from-scratch purges them).
    printf '%s\n' munge slurmctld slurmd slurm-client slurm-wlm-basic-plugins libpmix-dev
    exit 0
    ;;
*) usage ;; esac

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n --preserve-env=HPC_TUTOR_NO_INSTALL,HPC_TUTOR_SLURM_STATE,HPC_TUTOR_SLURM_LOGS,HPC_TUTOR_SLURM_TIMEOUT bash "$here/cluster.sh" "$action"
    fi
    cannot "not root, and sudo cannot be used without a password"
fi


# Stops the process in pid file $1 (named $2): SIGTERM, then SIGKILL after 10 s.
stop() {
    local f="$1" name="$2" pid i
    pid="$(pid_of "$f")" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || {
            say "stopped $name ($pid)"
            rm -f "$f"
            return 0
        }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
    say "killed $name ($pid): it did not stop within 10 s"
}

munge_pidfile=/run/munge/munged.pid
ctld_pidfile="$state/slurmctld.pid"
d_pidfile="$state/slurmd.pid"

down() {
    # slurmd first, so that slurmctld does not see it vanish and mark the node down.
    stop "$d_pidfile" slurmd
    stop "$ctld_pidfile" slurmctld
    # munged only when `up` started it: one that ran before may serve something else.
    if [[ -e "$state/munged-ours" ]]; then
        stop "$munge_pidfile" munged
        rm -f "$state/munged-ours"
    fi
}

node_state() {
    sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1
}

status() {
    local ok=0 name f pid
    for name in munged slurmctld slurmd; do
        case "$name" in
            munged) f="$munge_pidfile" ;;
            slurmctld) f="$ctld_pidfile" ;;
            slurmd) f="$d_pidfile" ;;
        esac
        if pid="$(pid_of "$f")"; then
            echo "$name: running ($pid)"
        else
            echo "$name: not running"
            ok=1
        fi
    done
    if ((ok == 0)); then
        echo "node $host: $(node_state || true)"
        sinfo 2>&1 || ok=1
        [[ "$(node_state)" =~ ^(idle|mixed|allocated|completing|planned)$ ]] || ok=1
    fi
    return "$ok"
}

install_packages() {
    local need=()
    command -v munged >/dev/null 2>&1 || need+=(munge)
    command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
    # srun --mpi=pmix: Debian ships Slurm's PMIx plugin in slurm-wlm-basic-plugins (a
    # dependency of slurmd), built against libpmix2, the PMIx that OpenMPI uses too.
    compgen -G '/usr/lib/*/slurm-wlm/mpi_pmix.so' >/dev/null || need+=(slurm-wlm-basic-plugins)
    # That plugin dlopen()s pmix2/lib/libpmix.so, the unversioned name that only the -dev
    # package ships, and the plugins package does not depend on it: without it slurmd logs
    # "mpi/pmix_v4: can not load PMIx library" and every `srun --mpi=pmix` fails.
    compgen -G '/usr/lib/*/pmix2/lib/libpmix.so' >/dev/null || need+=(libpmix-dev)
    ((${#need[@]})) || return 0
    if [[ "${HPC_TUTOR_NO_INSTALL:-}" == 1 ]]; then
        cannot "missing ${need[*]} and HPC_TUTOR_NO_INSTALL=1"
    fi
    command -v apt-get >/dev/null 2>&1 || cannot "missing ${need[*]} and there is no apt-get"
    say "installing ${need[*]}"
    apt-get update -qq >/dev/null 2>&1 || cannot "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        cannot "apt-get install ${need[*]} failed"
}

start_munged() {
    if pid_of "$munge_pidfile" >/dev/null; then return 0; fi
    install -d -m 0755 "$state"
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
    munge_key
    runuser -u munge -- /usr/sbin/munged ||
        fail "munged did not start: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null | tr '\n' ' ')"
    touch "$state/munged-ours"
    local i
    for ((i = 0; i < 50; i++)); do
        munge -n </dev/null | unmunge >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "munged is not answering: $(tail -n 3 /var/log/munge/munged.log 2>/dev/null | tr '\n' ' ')"
}

write_conf() {
    local node cpus mem per_cpu new
    node="$(slurmd -C | head -n 1)"
    [[ "$node" == NodeName=* ]] || fail "slurmd -C printed no node line: $node"
    # The measured name is what slurmd will call itself: the short host name.
    node="NodeName=$host ${node#NodeName=* }"
    cpus="$(sed -n 's/.*\bCPUs=\([0-9]*\).*/\1/p' <<<"$node")"
    mem="$(sed -n 's/.*\bRealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
    [[ -n "$cpus" && -n "$mem" ]] || fail "no CPUs or RealMemory in: $node"
    per_cpu=$((mem / cpus))
    new="$(sed -e "s|@HOST@|$host|g" -e "s|@NODE@|$node|" -e "s|@STATE@|$state|g" \
        -e "s|@LOGS@|$logs|g" -e "s|@MEM_PER_CPU@|$per_cpu|" "$here/slurm.conf.in")"
    install -d -m 0755 /etc/slurm "$state" "$state/ctld" "$state/d" "$logs"
    if [[ -e "$conf" ]] && [[ "$(cat "$conf")" == "$new" ]]; then
        return 1 # unchanged
    fi
    printf '%s\n' "$new" >"$conf"
    say "wrote $conf ($node)"
    return 0
}

logs_tail() {
    local f
    for f in "$logs/slurmctld.log" "$logs/slurmd.log"; do
        [[ -s "$f" ]] && {
            echo "--- last lines of $f" >&2
            tail -n 15 "$f" >&2
        }
    done
    return 0
}

# A slurm.conf that this script did not write belongs to a real setup: leave it alone.
conf_is_ours() {
    if [[ -e "$conf" ]] && ! grep -qF "$marker" "$conf"; then
        cannot "$conf exists and was not written by this script (a real SLURM setup?): not touching it"
    fi
}

# Waits until the node is usable; fails after $timeout seconds.
wait_idle() {
    local i s=""
    for ((i = 0; i < timeout * 2; i++)); do
        s="$(node_state || true)"
        case "$s" in
            idle | mixed | allocated | completing | planned) return 0 ;;
            down* | drain* | fail*)
                # Left over from an earlier start: bring it back.
                scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
                ;;
        esac
        sleep 0.5
    done
    logs_tail
    fail "the node $host is not idle after ${timeout} s (state: ${s:-none}; see $logs)"
}

# One task through Slurm's PMIx plugin: slurmd loads libpmix when it starts, so a slurmd
# started while libpmix was missing fails every `srun --mpi=pmix` until restarted.
pmix_works() {
    timeout 30 srun --mpi=pmix --ntasks=1 --time=1 --job-name=cluster-sh-check true >/dev/null 2>&1
}

up() {
    conf_is_ours
    install_packages
    start_munged
    local changed=0
    write_conf && changed=1
    if ((changed)); then
        # A new configuration: restart whatever runs with the old one.
        stop "$d_pidfile" slurmd
        stop "$ctld_pidfile" slurmctld
    fi
    if ! pid_of "$ctld_pidfile" >/dev/null; then
        # -i: ignore state saved by an earlier run whose configuration may differ.
        /usr/sbin/slurmctld -i || {
            logs_tail
            fail "slurmctld did not start"
        }
    fi
    if ! pid_of "$d_pidfile" >/dev/null; then
        /usr/sbin/slurmd || {
            logs_tail
            fail "slurmd did not start"
        }
    fi
    wait_idle
    if ! pmix_works; then
        say "srun --mpi=pmix failed: restarting slurmd"
        stop "$d_pidfile" slurmd
        /usr/sbin/slurmd || {
            logs_tail
            fail "slurmd did not start"
        }
        wait_idle
        pmix_works || {
            logs_tail
            fail "srun --mpi=pmix --ntasks=1 true fails (see $logs/slurmd.log)"
        }
    fi
    say "node $host is $(node_state): the cluster is up, srun --mpi=pmix works (logs in $logs)"
}

case "$action" in
    up) up ;;
    down)
        if [[ -e "$conf" ]] && ! grep -qF "$marker" "$conf"; then
            say "$conf was not written by this script: not stopping anything"
        else
            down
        fi
        ;;
    status) status ;;
esac
