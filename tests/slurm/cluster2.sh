#!/usr/bin/env bash
# A simulated two-node SLURM cluster on this one machine, for the multi-node tests
# (tests/slurm2.rs) and for trying multi-node runs by hand.
#
#   bash tests/slurm/cluster2.sh up                 start it; wait until both nodes are idle
#   bash tests/slurm/cluster2.sh status             the daemons and the nodes; exit 0 when usable
#   bash tests/slurm/cluster2.sh exec [-n NODE] CMD…  run CMD on a node (default hpct-n1)
#   bash tests/slurm/cluster2.sh kill-node NODE     stop a node's slurmd and everything on it
#   bash tests/slurm/cluster2.sh down               stop everything, leave nothing behind
#
# Each node (hpct-n1, hpct-n2) is a network namespace, a UTS namespace (its own hostname)
# and a mount namespace (its own /tmp, /dev/shm and /etc/hosts) while the rest of the file
# system, the repository among it, is shared as a cluster's home is. A bridge in the
# controller's network namespace (hpct-ctl) joins them, with addresses in 10.250.0.0/24
# that exist only inside these namespaces: nothing is added to this machine's own network.
# slurmctld runs in the controller's namespaces, one slurmd per node in the node's; every
# process a slurmd starts (slurmstepd, the job's tasks) inherits the node's namespaces, so
# `ip netns pids` finds all that `down` must stop. The cluster has its own ports (6827,
# 6828), its own slurm.conf (in its state folder, found through SLURM_CONF) and its own
# munged socket: a one-node cluster (tests/slurm/cluster.sh) or /etc/slurm is not touched.
#
# Client commands (srun, salloc, sbatch, sinfo, hpc-tutor) run inside a node's namespaces:
# `cluster2.sh exec salloc -N 2 -n 2 hpc-tutor run pingpong …`. Paths under /tmp differ
# per node, except this repository's (shared even when it lies under /tmp); use paths in
# the repository or elsewhere.
#
# `up` installs what the one-node cluster installs when missing (tests/slurm/cluster.sh
# packages), and is idempotent. Exit status: 0 done; 1 it failed (a bug of this script;
# the logs' last lines are printed); 77 this machine cannot run it (not root and no sudo,
# no network or mount namespaces, packages cannot be installed): tests/run.sh then reports
# the two-node tests as skipped. Messages go to stderr.
#
# Variables: HPC_TUTOR_SLURM2_STATE (default /var/lib/slurm/hpc-tutor-2nodes),
# HPC_TUTOR_SLURM2_LOGS (default /var/log/slurm/hpc-tutor-2nodes), HPC_TUTOR_NO_INSTALL=1,
# HPC_TUTOR_SLURM_TIMEOUT seconds to wait for the nodes (default 60).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/slurm/common.sh
source "$here/common.sh"
repo="$(cd "$here/../.." && pwd)"
state="${HPC_TUTOR_SLURM2_STATE:-/var/lib/slurm/hpc-tutor-2nodes}"
logs="${HPC_TUTOR_SLURM2_LOGS:-/var/log/slurm/hpc-tutor-2nodes}"
run="/run/hpc-tutor-2nodes"
timeout="${HPC_TUTOR_SLURM_TIMEOUT:-60}"
conf="$state/slurm.conf"
net=10.250.0
ctl=hpct-ctl
nodes=(hpct-n1 hpct-n2)

say() { echo "cluster2.sh: $*" >&2; }
cannot() {
    say "cannot run a two-node SLURM cluster here: $*"
    exit 77
}
fail() {
    say "FAILED: $*"
    exit 1
}
usage() {
    echo "usage: $0 up|down|status|exec [-n NODE] CMD...|kill-node NODE" >&2
    exit 2
}

(($# >= 1)) || usage
action="$1"
shift
case "$action" in
    up | down | status) (($# == 0)) || usage ;;
    kill-node) (($# == 1)) || usage ;;
    exec) (($# >= 1)) || usage ;;
    *) usage ;;
esac

if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n --preserve-env=HPC_TUTOR_NO_INSTALL,HPC_TUTOR_SLURM2_STATE,HPC_TUTOR_SLURM2_LOGS,HPC_TUTOR_SLURM_TIMEOUT,HPC_TUTOR_DATA_DIR,HPC_TUTOR_STATE_DIR,PATH bash "$here/cluster2.sh" "$action" "$@"
    fi
    cannot "not root, and sudo cannot be used without a password"
fi


netns_exists() { [[ -e "/run/netns/$1" ]]; }

# Every process in network namespace $1, SIGTERM then SIGKILL.
kill_netns() {
    local ns="$1" i pids
    netns_exists "$ns" || return 0
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
    ((${#pids[@]})) || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
        ((${#pids[@]})) || return 0
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
        ((${#pids[@]})) || return 0
        sleep 0.1
    done
    say "processes still in $ns after SIGKILL: ${pids[*]}"
}

down() {
    local ns
    # Nodes first (their jobs and slurmds), then the controller.
    for ns in "${nodes[@]}" "$ctl"; do
        kill_netns "$ns"
    done
    if pid="$(pid_of "$run/munged.pid")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$run/munged.pid" "$run/munge.socket" "$run/munge.socket.lock"
    rmdir "$run"/stage-* 2>/dev/null || true
    # Deleting the controller's namespace deletes the bridge and every veth pair with it.
    for ns in "${nodes[@]}" "$ctl"; do
        netns_exists "$ns" && ip netns delete "$ns"
    done
    rm -f "$state"/slurmd-*.pid "$state/slurmctld.pid"
    return 0
}

install_packages() {
    local need=() p
    while read -r p; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == "install ok installed" ]] || need+=("$p")
    done < <(bash "$here/cluster.sh" packages)
    ((${#need[@]})) || return 0
    [[ "${HPC_TUTOR_NO_INSTALL:-}" == 1 ]] && cannot "missing ${need[*]} and HPC_TUTOR_NO_INSTALL=1"
    command -v apt-get >/dev/null 2>&1 || cannot "missing ${need[*]} and there is no apt-get"
    say "installing ${need[*]}"
    apt-get update -qq >/dev/null 2>&1 || cannot "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        cannot "apt-get install ${need[*]} failed"
    # Debian starts the packaged daemons on install; this cluster runs its own.
    for p in slurmd slurmctld munge; do
        if command -v systemctl >/dev/null 2>&1; then systemctl stop "$p" >/dev/null 2>&1 || true; fi
    done
}

network() {
    local i ns addr
    if netns_exists "$ctl" && ip -n "$ctl" link show hpct-br0 >/dev/null 2>&1; then
        return 0
    fi
    # Half-made from an earlier failure: start clean.
    for ns in "${nodes[@]}" "$ctl"; do
        netns_exists "$ns" && ip netns delete "$ns"
    done
    ip netns add "$ctl" 2>/dev/null || cannot "ip netns add failed (no network namespaces here)"
    ip -n "$ctl" link set lo up
    ip -n "$ctl" link add hpct-br0 type bridge
    ip -n "$ctl" addr add "$net.1/24" dev hpct-br0
    ip -n "$ctl" link set hpct-br0 up
    for i in "${!nodes[@]}"; do
        ns="${nodes[$i]}"
        addr="$net.$((11 + i))"
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        # The pair is made inside the namespaces: no interface ever appears on this machine.
        ip -n "$ctl" link add "veth$((i + 1))" type veth peer name eth0 netns "$ns"
        ip -n "$ctl" link set "veth$((i + 1))" master hpct-br0 up
        ip -n "$ns" addr add "$addr/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

start_munged() {
    if pid_of "$run/munged.pid" >/dev/null; then return 0; fi
    install -d -o munge -g munge -m 0700 /var/lib/munge
    # munged refuses a socket folder that others cannot enter.
    install -d -o munge -g munge -m 0755 "$run"
    install -d -m 0755 "$logs" "$state"
    install -d -o munge -g munge -m 0700 /var/log/munge
    munge_key
    runuser -u munge -- /usr/sbin/munged --socket="$run/munge.socket" \
        --pid-file="$run/munged.pid" --log-file=/var/log/munge/munged-hpct2.log \
        --seed-file=/var/lib/munge/munged-hpct2.seed ||
        fail "munged did not start: $(tail -n 3 /var/log/munge/munged-hpct2.log 2>/dev/null | tr '\n' ' ')"
    local i
    for ((i = 0; i < 50; i++)); do
        munge -S "$run/munge.socket" -n </dev/null | unmunge -S "$run/munge.socket" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "munged is not answering on $run/munge.socket"
}

write_conf() {
    local cpus mem
    cpus="$(nproc)"
    mem="$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)"
    install -d -m 0755 "$state" "$state/ctld" "$logs"
    sed -e "s|@STATE@|$state|g" -e "s|@LOGS@|$logs|g" -e "s|@RUN@|$run|g" \
        -e "s|@CPUS@|$cpus|g" -e "s|@MEM@|$mem|g" -e "s|@NET@|$net|g" \
        "$here/slurm2.conf.in" >"$conf.new"
    mv "$conf.new" "$conf"
    # The names every node and the controller know each other by.
    {
        echo "127.0.0.1 localhost"
        echo "$net.1 $ctl"
        echo "$net.11 ${nodes[0]}"
        echo "$net.12 ${nodes[1]}"
    } >"$state/hosts"
}

# The pid of node $1's slurmd, when it runs.
slurmd_pid() { pid_of "$state/slurmd-$1.pid"; }

start_ctld() {
    pid_of "$state/slurmctld.pid" >/dev/null && return 0
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    nsenter --net="/run/netns/$ctl" unshare --uts --mount --propagation private -- \
        bash -c 'hostname "$1" && mount --bind "$2/hosts" /etc/hosts && exec /usr/sbin/slurmctld -f "$3" -i' \
        _ "$ctl" "$state" "$conf" || fail "slurmctld did not start: $(tail -n 5 "$logs/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
}

start_slurmd() {
    local node="$1"
    slurmd_pid "$node" >/dev/null && return 0
    install -d -m 0755 "$state/spool-$node"
    # `ip netns exec` would remount /sys; nsenter only enters the network namespace.
    # The node's /tmp is its own, but a repository that lies under /tmp (a clone in /tmp)
    # stays shared: bound aside before the new /tmp hides it, then moved into it.
    # shellcheck disable=SC2016 # the inner shell expands its own arguments
    nsenter --net="/run/netns/$node" unshare --uts --mount --propagation private -- \
        bash -c 'set -e
            hostname "$1"
            stage=""
            if [[ "$4" == /tmp/* ]]; then
                stage="$5/stage-$1"
                mkdir -p "$stage"
                mount --bind "$4" "$stage"
            fi
            mount -t tmpfs -o mode=1777 tmpfs /tmp
            if [[ -n "$stage" ]]; then
                mkdir -p "$4"
                mount --move "$stage" "$4"
            fi
            mount -t tmpfs -o mode=1777 tmpfs /dev/shm
            mount --bind "$2/hosts" /etc/hosts
            exec /usr/sbin/slurmd -f "$3" -N "$1"' _ "$node" "$state" "$conf" "$repo" "$run" ||
        fail "slurmd $node did not start: $(tail -n 5 "$logs/slurmd-$node.log" 2>/dev/null | tr '\n' ' ')"
}

# Runs "$@" inside node $node's namespaces, as a client of this cluster.
in_node() {
    local node="$1" pid
    shift
    pid="$(slurmd_pid "$node")" || fail "node $node is not running (cluster2.sh up)"
    nsenter -t "$pid" --net --uts --mount --wd="$PWD" -- env SLURM_CONF="$conf" "$@"
}

node_states() {
    in_node "${nodes[0]}" sinfo -h -N -o '%N %T' 2>/dev/null
}

wait_idle() {
    local i s="" bad
    for ((i = 0; i < timeout * 2; i++)); do
        s="$(node_states || true)"
        bad="$(awk '$2 !~ /^(idle|mixed|allocated|completing)$/ {print $1}' <<<"$s")"
        if [[ -n "$s" && -z "$bad" ]] && (($(wc -l <<<"$s") == ${#nodes[@]})); then
            return 0
        fi
        for n in $bad; do
            in_node "${nodes[0]}" scontrol update NodeName="$n" State=RESUME >/dev/null 2>&1 || true
        done
        sleep 0.5
    done
    for f in "$logs/slurmctld.log" "$logs"/slurmd-*.log; do
        [[ -s "$f" ]] && {
            echo "--- last lines of $f" >&2
            tail -n 10 "$f" >&2
        }
    done
    fail "the nodes are not idle after ${timeout} s: ${s:-no answer from slurmctld}"
}

up() {
    if ! command -v nsenter >/dev/null || ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
        cannot "nsenter, unshare or ip (util-linux, iproute2) missing"
    fi
    unshare --uts --mount true 2>/dev/null || cannot "unshare --uts --mount fails (no namespaces for this user)"
    install_packages
    network
    start_munged
    write_conf
    start_ctld
    local node
    for node in "${nodes[@]}"; do
        start_slurmd "$node"
    done
    wait_idle
    # Both nodes answer a two-node step with their own names.
    local names
    names="$(cd / && in_node "${nodes[0]}" timeout 30 srun -N 2 -n 2 --time=1 --job-name=cluster2-check hostname 2>&1 | sort | tr '\n' ' ')"
    [[ "$names" == "${nodes[0]} ${nodes[1]} " ]] || fail "srun -N 2 -n 2 hostname printed: $names"
    say "nodes ${nodes[*]} are up (srun -N 2 hostname: $names); logs in $logs"
}

status() {
    local ok=0 node
    if pid="$(pid_of "$run/munged.pid")"; then echo "munged: running ($pid)"; else
        echo "munged: not running"
        ok=1
    fi
    if pid="$(pid_of "$state/slurmctld.pid")"; then echo "slurmctld: running ($pid)"; else
        echo "slurmctld: not running"
        ok=1
    fi
    for node in "${nodes[@]}"; do
        if pid="$(slurmd_pid "$node")"; then echo "slurmd $node: running ($pid)"; else
            echo "slurmd $node: not running"
            ok=1
        fi
    done
    if ((ok == 0)); then
        node_states || ok=1
    fi
    return "$ok"
}

case "$action" in
    up) up ;;
    down) down ;;
    status) status ;;
    kill-node)
        [[ " ${nodes[*]} " == *" $1 "* ]] || fail "no node $1 (nodes: ${nodes[*]})"
        kill_netns "$1"
        say "node $1: slurmd and every process on it stopped"
        ;;
    exec)
        node="${nodes[0]}"
        if [[ "$1" == -n ]]; then
            (($# >= 3)) || usage
            node="$2"
            shift 2
        fi
        in_node "$node" "$@"
        ;;
esac
