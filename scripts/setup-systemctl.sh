#!/usr/bin/env bash
# Unpack Debian's daemonless `systemctl` stand-in (package `systemctl`, a Python script) for the
# simulated fleet's nodes, WITHOUT installing the package: it conflicts with systemd, and the
# host's own /usr/bin/systemctl (systemd's, on most machines) stays as it is. The nodes run the
# unpacked script as their /usr/bin/systemctl. apt-get download checks the package against the
# signed archive index. Idempotent: nothing is downloaded when the script is already there.
# DEST is $GPUFORGE_SYSTEMCTL_DIR or /var/cache/gpuforge/systemctl (the fleet reads
# DEST/systemctl; $GPUFORGE_NODE_SYSTEMCTL points it elsewhere).
# Usage: scripts/setup-systemctl.sh
set -euo pipefail

dest="${GPUFORGE_SYSTEMCTL_DIR:-/var/cache/gpuforge/systemctl}"
if [ -s "$dest/systemctl" ] && head -n1 "$dest/systemctl" | grep -q python; then
    echo "nodes' systemctl stand-in: $dest/systemctl"
    exit 0
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! compgen -G "/var/lib/apt/lists/*_Packages" >/dev/null; then
    apt-get update -qq
fi
(cd "$scratch" && apt-get download -qq -o APT::Sandbox::User=root systemctl)
deb="$(find "$scratch" -maxdepth 1 -name 'systemctl_*.deb' | head -n1)"
[ -n "$deb" ] || { echo "apt-get download systemctl gave no package" >&2; exit 1; }
dpkg-deb -x "$deb" "$scratch/root"
script="$scratch/root/usr/bin/systemctl"
head -n1 "$script" | grep -q python || { echo "$deb holds no Python systemctl" >&2; exit 1; }
mkdir -p "$dest"
install -m 0644 "$script" "$dest/systemctl.new"
cp "$scratch/root/usr/share/doc/systemctl/copyright" "$dest/copyright" 2>/dev/null || true
dpkg-deb -f "$deb" Package Version >"$dest/VERSION"
mv "$dest/systemctl.new" "$dest/systemctl"
echo "nodes' systemctl stand-in unpacked: $dest/systemctl ($(tr '\n' ' ' <"$dest/VERSION"))"
