# Sourced by scripts/setup.sh and scripts/test.sh: `quiet NAME COMMAND...` runs COMMAND with its
# output appended to the log file ($GPUFORGE_LOG) and prints one line, NAME and its outcome;
# when COMMAND fails it prints the log's last lines and returns COMMAND's exit status.
GPUFORGE_LOG="${GPUFORGE_LOG:-.logs/setup.log}"
mkdir -p "$(dirname "$GPUFORGE_LOG")"

quiet() {
    local name="$1" start=$SECONDS status=0
    shift
    printf '\n==> %s: %s\n' "$name" "$*" >>"$GPUFORGE_LOG"
    "$@" >>"$GPUFORGE_LOG" 2>&1 || status=$?
    if [ "$status" -eq 0 ]; then
        printf '  %-24s ok (%ss)\n' "$name" "$((SECONDS - start))"
        return 0
    fi
    printf '  %-24s FAILED (exit %s); the end of %s:\n' "$name" "$status" "$GPUFORGE_LOG"
    tail -n 25 "$GPUFORGE_LOG" | sed 's/^/    /'
    return "$status"
}
