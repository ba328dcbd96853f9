#!/usr/bin/env bash
# Put `gpuforge` on PATH: a small launcher in /usr/local/bin (or $GPUFORGE_BIN_DIR) that runs
# this checkout's .venv/bin/gpuforge. A file of that name that this script did not write is left
# alone: set-up stops and says so. Re-running rewrites our own launcher (the checkout may move).
# Usage: scripts/setup-launcher.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${GPUFORGE_BIN_DIR:-/usr/local/bin}"
launcher="$bin_dir/gpuforge"
marker="# gpuforge launcher written by scripts/setup-launcher.sh"

if [ -e "$launcher" ] || [ -L "$launcher" ]; then
    if [ -L "$launcher" ] || ! grep -qxF "$marker" "$launcher"; then
        echo "setup-launcher: $launcher exists and was not written by gpuforge's set-up; left as is." >&2
        echo "  To fix: remove or rename it, or run $root/.venv/bin/gpuforge directly." >&2
        exit 1
    fi
fi
mkdir -p "$bin_dir"
tmp="$(mktemp "$bin_dir/.gpuforge.XXXXXX")"
printf '#!/bin/sh\n%s\nexec %q "$@"\n' "$marker" "$root/.venv/bin/gpuforge" >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$launcher"
echo "gpuforge is on PATH: $launcher -> $root/.venv/bin/gpuforge"
