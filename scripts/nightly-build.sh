#!/usr/bin/env bash
# Nightly incremental index build, for cron or a systemd timer (see docs/nightly.md).
#
#   BULLETINS_SOURCE  folder of bulletin files to index (required)
#   BULLETINS_INDEX   index folder (default: var/index)
#   BULLETINS_LOG     log file to append to (default: var/log/nightly.log)
#   BULLETINS_BIN     the bulletins command (default: bulletins on PATH)
#   BULLETINS_WAIT    seconds to wait for a running build to finish (default: 600)
#
# Exits with the build's status: 0 all indexed, 3 some files skipped, 1 build failed, 2 usage error.
set -uo pipefail

: "${BULLETINS_SOURCE:?set BULLETINS_SOURCE to the folder of bulletin files}"
BULLETINS_INDEX="${BULLETINS_INDEX:-var/index}"
BULLETINS_LOG="${BULLETINS_LOG:-var/log/nightly.log}"
BULLETINS_BIN="${BULLETINS_BIN:-bulletins}"
BULLETINS_WAIT="${BULLETINS_WAIT:-600}"

mkdir -p "$(dirname "$BULLETINS_LOG")"

stamp() {
    while IFS= read -r line; do
        printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$line"
    done
}

{
    echo "nightly build: $BULLETINS_SOURCE -> $BULLETINS_INDEX (pid $$)"
    "$BULLETINS_BIN" build "$BULLETINS_SOURCE" --index "$BULLETINS_INDEX" --wait "$BULLETINS_WAIT" 2>&1
    status=$?
    echo "nightly build finished with status $status"
    exit "$status"
} | stamp >> "$BULLETINS_LOG"
status=${PIPESTATUS[0]}
exit "$status"
