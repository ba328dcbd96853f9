"""Stand-ins placed only inside nodes: nodes share the host kernel, so they record, not act."""

from __future__ import annotations

MODPROBE = r"""#!/bin/sh
# gpuforge node stand-in: records module requests instead of touching the shared host kernel.
log=/var/log/gpuforge-sim/modprobe.log
state=/var/lib/gpuforge-sim/modules.loaded
mkdir -p /var/log/gpuforge-sim /var/lib/gpuforge-sim
touch "$state"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) modprobe $*" >> "$log"
remove=0
modules=""
for arg in "$@"; do
  case "$arg" in
    -r|--remove) remove=1 ;;
    -*) ;;
    *=*) ;;
    *) modules="$modules $arg" ;;
  esac
done
for module in $modules; do
  grep -vx "$module" "$state" > "$state.new" || true
  [ "$remove" = 1 ] || echo "$module" >> "$state.new"
  mv "$state.new" "$state"
done
# on a simulated GPU node, /proc/modules follows
kernel=/usr/lib/gpuforge-sim/simkernel.py
if [ -f "$kernel" ]; then /usr/bin/python3 -S "$kernel"; fi
exit 0
"""

SYSCTL = r"""#!/bin/sh
# gpuforge node stand-in: records sysctl writes instead of changing the shared host kernel;
# reads return what was written, else the host's value from the read-only /proc/sys.
log=/var/log/gpuforge-sim/sysctl.log
store=/var/lib/gpuforge-sim/sysctl
mkdir -p /var/log/gpuforge-sim "$store"
quiet=0
names=1
status=0
key_path() { echo "$1" | tr . /; }
show() {
  if [ -f "$store/$1" ]; then value=$(cat "$store/$1")
  elif [ -r "/proc/sys/$(key_path "$1")" ]; then value=$(tr '\t' ' ' < "/proc/sys/$(key_path "$1")")
  else
    if [ "$ignore" = 0 ]; then
      echo "sysctl: cannot stat /proc/sys/$(key_path "$1"): No such file or directory" >&2
      status=255
    fi
    return
  fi
  if [ "$names" = 1 ]; then echo "$1 = $value"; else echo "$value"; fi
}
set_one() {
  key=$(echo "${1%%=*}" | sed 's/^ *//; s/ *$//')
  value=$(echo "${1#*=}" | sed 's/^ *//; s/ *$//')
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) sysctl -w $key=$value" >> "$log"
  printf '%s\n' "$value" > "$store/$key"
  [ "$quiet" = 1 ] || echo "$key = $value"
}
load() {
  if [ ! -r "$1" ]; then
    echo "sysctl: cannot open \"$1\": No such file or directory" >&2
    status=255
    return
  fi
  grep -v '^[[:space:]]*[#;]' "$1" | grep '=' | while IFS= read -r line; do set_one "$line"; done
}
ignore=0
write=0
mode=show
while [ $# -gt 0 ]; do
  case "$1" in
    -n) names=0 ;;
    -e) ignore=1 ;;
    -q) quiet=1 ;;
    -w) write=1 ;;
    -p|--load) mode=load; shift; load "${1:-/etc/sysctl.conf}" ;;
    -p*) mode=load; load "${1#-p}" ;;
    --system) mode=load
      for f in /etc/sysctl.d/*.conf /etc/sysctl.conf; do [ -r "$f" ] && load "$f"; done ;;
    -a|-A|-X) mode=all ;;
    -*) ;;
    *=*) set_one "$1" ;;
    *) [ "$write" = 1 ] && echo "sysctl: \"$1\" must be of the form name=value" >&2 && exit 255
       show "$1" ;;
  esac
  shift
done
if [ "$mode" = all ]; then
  for f in "$store"/*; do [ -f "$f" ] && show "$(basename "$f")"; done
fi
exit $status
"""

AUDITCTL = r"""#!/bin/sh
# gpuforge node stand-in: the kernel refuses audit requests from a PID namespace other than the
# host's, so a node records its audit rules (-R FILE, -w, -a, -D) and lists them (-l) instead.
log=/var/log/gpuforge-sim/auditctl.log
rules=/var/lib/gpuforge-sim/audit.rules
mkdir -p /var/log/gpuforge-sim /var/lib/gpuforge-sim
touch "$rules"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) auditctl $*" >> "$log"
apply() {
  case "$1" in
    -D) : > "$rules" ;;
    -w*|-a*|-A*) grep -vxF -- "$*" "$rules" > "$rules.new" || true
       echo "$*" >> "$rules.new"; mv "$rules.new" "$rules" ;;
    *) ;;
  esac
}
case "${1:-}" in
  -R)
    [ -r "${2:-}" ] || { echo "Error opening ${2:-}" >&2; exit 1; }
    grep -v '^[[:space:]]*#' "$2" | grep -v '^[[:space:]]*$' | while IFS= read -r line; do
      # shellcheck disable=SC2086
      apply $line
    done ;;
  -l) if [ -s "$rules" ]; then cat "$rules"; else echo "No rules"; fi ;;
  -s) printf 'enabled 1\nfailure 1\npid 0\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n' ;;
  "") echo "usage: auditctl [options]" >&2; exit 1 ;;
  *) apply "$@" ;;
esac
exit 0
"""
