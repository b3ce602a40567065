#!/bin/sh
# `make run`: the pipeline on ./var with a demo External channel.
# Creates the store and spool when missing, adds the demo channel once,
# then runs courier-recv, courier-send, courier-flush and a local echo sink
# (the demo channel's "provider") in the foreground; Ctrl-C stops them all.
set -eu
BIN_DIR=${BIN_DIR:-build/release/tools}
VAR=${COURIER_VAR:-var}
export COURIER_DB="${COURIER_DB:-$VAR/courier.db}"
export COURIER_SPOOL_DIR="${COURIER_SPOOL_DIR:-$VAR/spool}"
export COURIER_RUN_DIR="${COURIER_RUN_DIR:-$VAR/run}"
export COURIER_ADDRESS="${COURIER_ADDRESS:-127.0.0.1}"
export COURIER_PORT="${COURIER_PORT:-8080}"
SINK_PORT=${SINK_PORT:-8081}
DEMO_UUID=8f4ec8a0-5c1e-4d7e-9c6b-3b1f0d2a7e11
CTL="$BIN_DIR/courier-ctl"

"$CTL" init
if ! "$CTL" channel show "$DEMO_UUID" >/dev/null 2>&1; then
    "$CTL" channel add --type EX --address 1234 --country RW --name "demo" \
        --uuid "$DEMO_UUID" --config send_url=http://127.0.0.1:$SINK_PORT/send >/dev/null
    echo "added demo External channel $DEMO_UUID"
fi

pids=""
python3 "$(dirname "$0")/echo-sink.py" "$SINK_PORT" &
sink=$!
for daemon in courier-recv courier-send courier-flush; do
    "$BIN_DIR/$daemon" &
    pids="$pids $!"
done

# Ctrl-C sends SIGINT to the whole foreground group, so every daemon has
# it already: wait for them to drain. (The sink, started in the background
# by a non-interactive shell, ignores SIGINT and is told to stop.) A
# SIGTERM to this script alone is passed on.
trap 'kill -TERM $sink 2>/dev/null; wait; exit 0' INT
trap 'kill -TERM $pids $sink 2>/dev/null; wait; exit 0' TERM
sleep 1
cat <<MSG

courier is running on http://$COURIER_ADDRESS:$COURIER_PORT (Ctrl-C stops it). Try:
  curl -d 'from=0788383383&text=hello' http://$COURIER_ADDRESS:$COURIER_PORT/c/ex/$DEMO_UUID/receive
  $CTL send --channel $DEMO_UUID --urn tel:+250788383383 --text "hi back"
  $CTL events --follow
MSG
wait
