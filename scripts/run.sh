#!/bin/sh
# `make run`: the pipeline on ./var with a demo External channel.
# Creates the store and spool when missing, adds once the demo channel, a
# courier-api token for the demo (var/demo-token) and a hook to a demo
# application (its signing secret in var/demo-hook-secret), then runs
# courier-recv, courier-send, courier-flush, courier-hook, courier-api,
# courier-fetch, a
# local echo sink (the demo channel's "provider") and the demo application
# (contrib/examples/hook-app.py: prints every event after checking its
# signature) in the foreground; Ctrl-C stops them all.
#
# COURIER_PORT (courier-recv, default 8080), SINK_PORT (the sink, 8081),
# COURIER_API_PORT (courier-api, 8082) and APP_PORT (the application,
# 8083) choose the ports. All are checked before anything starts, and the
# start is watched until courier-recv, courier-api, the sink and the
# application answer: if a port is taken or a program stops, this says
# which, stops what it started and exits 69.
set -eu
BIN_DIR=${BIN_DIR:-build/release/tools}
VAR=${COURIER_VAR:-var}
export COURIER_DB="${COURIER_DB:-$VAR/courier.db}"
export COURIER_SPOOL_DIR="${COURIER_SPOOL_DIR:-$VAR/spool}"
export COURIER_RUN_DIR="${COURIER_RUN_DIR:-$VAR/run}"
export COURIER_MEDIA_DIR="${COURIER_MEDIA_DIR:-$VAR/media}"
export COURIER_ADDRESS="${COURIER_ADDRESS:-127.0.0.1}"
export COURIER_PORT="${COURIER_PORT:-8080}"
export COURIER_API_PORT="${COURIER_API_PORT:-8082}"
SINK_PORT=${SINK_PORT:-8081}
APP_PORT=${APP_PORT:-8083}
DEMO_UUID=8f4ec8a0-5c1e-4d7e-9c6b-3b1f0d2a7e11
CTL="$BIN_DIR/courier-ctl"
SINK_URL=http://127.0.0.1:$SINK_PORT/send
APP_URL=http://127.0.0.1:$APP_PORT/events
HOOK_APP="$(dirname "$0")/../contrib/examples/hook-app.py"
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
# `check_port_number VARIABLE VALUE` stops here unless VALUE is a port
# none of the ports checked before it uses.
ports_taken=" $COURIER_PORT "
check_port_number() {
    case $2 in
        '' | *[!0-9]*) say "$1 must be a port number, not '$2'"; exit 64 ;;
    esac
    if [ "$2" -lt 1 ] || [ "$2" -gt 65535 ] || [ "${ports_taken#* $2 }" != "$ports_taken" ]; then
        say "$1 must be 1-65535 and differ from the other ports ($ports_taken), not $2"
        exit 64
    fi
    ports_taken="$ports_taken$2 "
}
check_port_number COURIER_API_PORT "$COURIER_API_PORT"
check_port_number SINK_PORT "$SINK_PORT"
check_port_number APP_PORT "$APP_PORT"
check_port "$COURIER_ADDRESS" "$COURIER_PORT" COURIER_PORT courier-recv
check_port 127.0.0.1 "$COURIER_API_PORT" COURIER_API_PORT courier-api
check_port 127.0.0.1 "$SINK_PORT" SINK_PORT "the demo provider (echo sink)"
check_port 127.0.0.1 "$APP_PORT" APP_PORT "the demo application"

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

# The demo's courier-api token and hook, made once; each secret is shown
# by courier-ctl only when it is made, so it is kept in var/ (0600).
(
    umask 077
    if [ ! -s "$VAR/demo-token" ]; then
        "$CTL" token rm demo >/dev/null 2>&1 || true  # a token whose file was removed
        "$CTL" token add --name demo --scope send,read | tail -1 > "$VAR/demo-token.new"
        mv "$VAR/demo-token.new" "$VAR/demo-token"
        echo "added the courier-api token 'demo' (in $VAR/demo-token)"
    fi
    if [ ! -s "$VAR/demo-hook-secret" ] || [ ! -s "$VAR/demo-hook" ]; then
        [ -s "$VAR/demo-hook" ] && "$CTL" hook rm "$(cat "$VAR/demo-hook")" >/dev/null 2>&1
        "$CTL" hook add --url "$APP_URL" --json > "$VAR/demo-hook.json"
        jq -r .uuid "$VAR/demo-hook.json" > "$VAR/demo-hook"
        jq -r .secret "$VAR/demo-hook.json" > "$VAR/demo-hook-secret"
        rm -f "$VAR/demo-hook.json"
        echo "added a hook posting every event to the demo application at $APP_URL"
    else
        posts_to=$("$CTL" hook show "$(cat "$VAR/demo-hook")" --json 2>/dev/null | jq -r '.url // ""')
        if [ "$posts_to" != "$APP_URL" ]; then
            say "warning: the demo hook posts to ${posts_to:-nothing}, not to this application ($APP_URL):"
            say "remove $VAR/demo-hook to make it again with APP_PORT=$APP_PORT."
        fi
    fi
)

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
python3 "$HOOK_APP" "$APP_PORT" "$VAR/demo-hook-secret" &
app=$!
pids="$sink $app"
daemons=""
for daemon in courier-recv courier-send courier-flush courier-hook courier-api courier-fetch; do
    "$BIN_DIR/$daemon" &
    pids="$pids $!"
    daemons="$daemons $daemon=$!"
done

# Ctrl-C sends SIGINT to the whole foreground group, so every daemon has
# it already: wait for them to drain. (The sink, started in the background
# by a non-interactive shell, ignores SIGINT and is told to stop.) A
# SIGTERM to this script alone is passed on.
trap 'kill -TERM $sink $app 2>/dev/null; wait; exit 0' INT
trap 'stop_all; exit 0' TERM

# Ready when courier-recv answers HTTP and the sink listens, with every
# program still running; a daemon that cannot start exits within a second.
probe=$COURIER_ADDRESS
[ "$probe" = 0.0.0.0 ] && probe=127.0.0.1
ready=false
for _ in $(seq 50); do
    for entry in sink=$sink application=$app $daemons; do
        if ! started_ok "${entry%%=*}" "${entry#*=}"; then
            stop_all
            exit 69
        fi
    done
    # (The sink prints every request it gets, so it is not asked: its
    # port being taken while it runs is enough.)
    if curl -s -o /dev/null --max-time 1 "http://$probe:$COURIER_PORT/status" &&
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$COURIER_API_PORT/" &&
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$APP_PORT/" &&
        [ -n "$(port_problem 127.0.0.1 "$SINK_PORT")" ]; then
        ready=true
        break
    fi
    sleep 0.1
done
if [ "$ready" != true ]; then
    say "courier-recv (port $COURIER_PORT), courier-api ($COURIER_API_PORT), the sink ($SINK_PORT) or the application ($APP_PORT) was not ready within 5 seconds."
    stop_all
    exit 69
fi

cat <<MSG

courier is running on http://$COURIER_ADDRESS:$COURIER_PORT (Ctrl-C stops it). Try:
  curl -d 'from=0788383383&text=hello' http://$COURIER_ADDRESS:$COURIER_PORT/c/ex/$DEMO_UUID/receive
      (the demo application prints the msg.received event courier-hook posts it)
  curl -H "Authorization: Bearer \$(cat $VAR/demo-token)" -H 'Content-Type: application/json' \\
      -d '{"channel":"$DEMO_UUID","urn":"tel:+250788383383","text":"hi back"}' \\
      http://127.0.0.1:$COURIER_API_PORT/api/v1/msgs
      (the sink prints the send; the application its msg.queued and status.updated events)
  $CTL send --channel $DEMO_UUID --urn tel:+250788383383 --text "hi again"
  $CTL status
MSG
wait
