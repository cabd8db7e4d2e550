# shellcheck shell=bash
# Shell functions shared by tests/slurm/cluster.sh and tests/slurm/cluster2.sh (sourced).

# The pid in a pid file when that process is alive.
pid_of() {
    local f="$1" pid
    [[ -s "$f" ]] || return 1
    pid="$(cat "$f")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# The munge key both clusters use: 1024 random bytes, readable by munge only, as mungekey
# would write it; made when there is none.
munge_key() {
    install -d -o munge -g munge -m 0700 /etc/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        say "creating a munge key"
        (umask 077 && head -c 1024 /dev/urandom >/etc/munge/munge.key)
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
}
