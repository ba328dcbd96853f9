#!/usr/bin/env bash
# Install the Debian packages gpuforge and its simulated fleet need, as root, without ever
# removing a package already on the host: apt runs with --no-remove (it may still upgrade a
# library the new packages need), and a package that would need a removal (say one that
# conflicts with the host's init system) stops set-up with the reason instead. Idempotent: nothing is done when every package is installed.
# Usage: scripts/setup-packages.sh [--dry-run] [PACKAGE...]
#   --dry-run   let apt simulate the installation (-s): it says what it would do, changes nothing
#   PACKAGE...  install these instead of the default list
set -euo pipefail

# slurmctld, slurmd, slurm-client and munge: Debian's Slurm 22.05 and MUNGE, which the fleet's
# nodes share with this machine (their daemons run only inside the nodes, started by the slurm
# role; nothing starts them here).
default_packages=(python3-venv python3-pip openssh-server openssh-client iproute2 util-linux
                  dpkg-dev procps kmod ca-certificates slurmctld slurmd slurm-client munge
                  auditd nftables)
simulate=()
packages=()
for arg in "$@"; do
    case "$arg" in
        --dry-run) simulate=(-s) ;;
        -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}"; exit 0 ;;
        -*) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
        *) packages+=("$arg") ;;
    esac
done
[ "${#packages[@]}" -gt 0 ] || packages=("${default_packages[@]}")

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "Debian packages: all installed (${packages[*]})"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
    apt-get update -qq
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "installing Debian packages: ${missing[*]}"
if ! apt-get install -y --no-remove --no-install-recommends "${simulate[@]}" "${missing[@]}" \
        >"$log" 2>&1; then
    cat "$log" >&2
    cat >&2 <<MESSAGE
set-up stopped: installing ${missing[*]} would remove a package of this machine
(or apt failed; its output is above). Nothing was removed.
To fix: install the packages named above by hand if you accept what apt proposes, or resolve the
conflict apt reports, then run set-up again.
MESSAGE
    exit 1
fi
if [ "${#simulate[@]}" -gt 0 ]; then
    grep -E '^(Inst|Conf|Remv) ' "$log" || true
fi
