#!/bin/sh
# An auto-reply bot: answers every incoming msg on the channel it came in
# on. Composition, not code: the event stream of courier-ctl piped into a
# loop that queues replies with courier-ctl.
#
#   auto-reply.sh ["reply text"]     (COURIER_* or --config as for courier-ctl)
#
# Start it with `--after SEQ` semantics by setting AFTER (default: only
# msgs that arrive from now on).
set -eu
CTL=${COURIER_CTL:-courier-ctl}
REPLY=${1:-"Thanks, we got your message."}
AFTER=${AFTER:-$("$CTL" events --json | tail -n 1 | jq -r '.seq // 0')}
[ -n "$AFTER" ] || AFTER=0

"$CTL" events --after "$AFTER" --follow --json |
  jq --unbuffered -r 'select(.topic == "msg.received") | [.channel_uuid, .urn] | @tsv' |
  while IFS="$(printf '\t')" read -r channel urn; do
    "$CTL" send --channel "$channel" --urn "$urn" --text "$REPLY" >/dev/null &&
      echo "replied to $urn"
  done
