#!/bin/sh
# `make run`: the pipeline on ./var with a demo External channel.
# Creates the store and spool when missing, adds the demo channel once,
# then runs courier-recv, courier-send, courier-flush and a local echo sink
# (the demo channel's "provider") in the foreground; Ctrl-C stops them all.
#
# COURIER_PORT (courier-recv, default 8080) and SINK_PORT (the sink, 8081)
# choose the ports. Both are checked before anything starts, and the start
# is watched until courier-recv and the sink answer: if a port is taken or
# a program stops, this says which, stops what it started and exits 69.
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
SINK_URL=http://127.0.0.1:$SINK_PORT/send
# The sink is on loopback, which the outbound policy refuses by default
# (courier-send(8)): the demo opens 127.0.0.1 alone, for itself.
export COURIER_OUTBOUND_ALLOW="${COURIER_OUTBOUND_ALLOW:-127.0.0.1/32}"

say() { printf 'make run: %s\n' "$*" >&2; }

# `port_problem ADDRESS PORT` prints why nothing could listen there now
# ("Address already in use"), or nothing when the port is free.
port_problem() {
    python3 - "$1" "$2" <<'PY'
import socket, sys
address, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind((address, port))
except OSError as e:
    print(e.strerror)
PY
}

# `check_port ADDRESS PORT VARIABLE WHO` stops here when PORT is not free.
check_port() {
    problem=$(port_problem "$1" "$2")
    [ -z "$problem" ] && return 0
    say "cannot use port $2 on $1 for $4: $problem."
    say "choose another port with $3, for example: $3=$(($2 + 10)) make run"
    exit 69
}

# Checks COURIER_PORT and every other option before anything is created.
"$CTL" --print-config >/dev/null
case $SINK_PORT in
    '' | *[!0-9]*) say "SINK_PORT must be a port number, not '$SINK_PORT'"; exit 64 ;;
esac
if [ "$SINK_PORT" -lt 1 ] || [ "$SINK_PORT" -gt 65535 ] || [ "$SINK_PORT" = "$COURIER_PORT" ]; then
    say "SINK_PORT must be 1-65535 and differ from COURIER_PORT ($COURIER_PORT), not $SINK_PORT"
    exit 64
fi
check_port "$COURIER_ADDRESS" "$COURIER_PORT" COURIER_PORT courier-recv
check_port 127.0.0.1 "$SINK_PORT" SINK_PORT "the demo provider (echo sink)"

"$CTL" init
if ! "$CTL" channel show "$DEMO_UUID" >/dev/null 2>&1; then
    "$CTL" channel add --type EX --address 1234 --country RW --name "demo" \
        --uuid "$DEMO_UUID" --config send_url="$SINK_URL" >/dev/null
    echo "added demo External channel $DEMO_UUID"
else
    sends_to=$("$CTL" channel show "$DEMO_UUID" --json | jq -r '.config.send_url // ""')
    if [ "$sends_to" != "$SINK_URL" ]; then
        say "warning: the demo channel in $COURIER_DB sends to $sends_to, not to this sink ($SINK_URL):"
        say "its replies will not arrive. Remove $VAR to start afresh with SINK_PORT=$SINK_PORT."
    fi
fi

pids=""
# Stops everything started so far and waits for it.
stop_all() {
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true  # some may have stopped already
    wait || true
}
# `started_ok NAME PID` is false when PID has already stopped; says so.
started_ok() {
    kill -0 "$2" 2>/dev/null && return 0
    rc=0
    wait "$2" || rc=$?
    say "$1 stopped as it started (exit status $rc); its messages are above."
    return 1
}

python3 "$(dirname "$0")/echo-sink.py" "$SINK_PORT" &
sink=$!
pids=$sink
daemons=""
for daemon in courier-recv courier-send courier-flush; do
    "$BIN_DIR/$daemon" &
    pids="$pids $!"
    daemons="$daemons $daemon=$!"
done

# Ctrl-C sends SIGINT to the whole foreground group, so every daemon has
# it already: wait for them to drain. (The sink, started in the background
# by a non-interactive shell, ignores SIGINT and is told to stop.) A
# SIGTERM to this script alone is passed on.
trap 'kill -TERM $sink 2>/dev/null; wait; exit 0' INT
trap 'stop_all; exit 0' TERM

# Ready when courier-recv answers HTTP and the sink listens, with every
# program still running; a daemon that cannot start exits within a second.
probe=$COURIER_ADDRESS
[ "$probe" = 0.0.0.0 ] && probe=127.0.0.1
ready=false
for _ in $(seq 50); do
    for entry in sink=$sink $daemons; do
        if ! started_ok "${entry%%=*}" "${entry#*=}"; then
            stop_all
            exit 69
        fi
    done
    # (The sink prints every request it gets, so it is not asked: its
    # port being taken while it runs is enough.)
    if curl -s -o /dev/null --max-time 1 "http://$probe:$COURIER_PORT/status" &&
        [ -n "$(port_problem 127.0.0.1 "$SINK_PORT")" ]; then
        ready=true
        break
    fi
    sleep 0.1
done
if [ "$ready" != true ]; then
    say "courier-recv (port $COURIER_PORT) or the sink (port $SINK_PORT) was not ready within 5 seconds."
    stop_all
    exit 69
fi

cat <<MSG

courier is running on http://$COURIER_ADDRESS:$COURIER_PORT (Ctrl-C stops it). Try:
  curl -d 'from=0788383383&text=hello' http://$COURIER_ADDRESS:$COURIER_PORT/c/ex/$DEMO_UUID/receive
  $CTL send --channel $DEMO_UUID --urn tel:+250788383383 --text "hi back"
  $CTL events --follow
MSG
wait
