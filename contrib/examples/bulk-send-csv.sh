#!/bin/sh
# Bulk send from a CSV file with a header line "urn,text" (RFC 4180
# quoting, so texts may hold commas and newlines). All or nothing: one bad
# row (its line number is reported) and nothing is queued.
#
#   bulk-send-csv.sh CHANNEL_UUID FILE.csv [high|bulk]
set -eu
CTL=${COURIER_CTL:-courier-ctl}
[ $# -ge 2 ] || { echo "usage: $0 CHANNEL_UUID FILE.csv [high|bulk]" >&2; exit 64; }
channel=$1 file=$2 priority=${3:-bulk}
python3 -c '
import csv, json, sys
channel, path, priority = sys.argv[1:4]
with open(path, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        print(json.dumps({"channel": channel, "urn": row["urn"], "text": row["text"], "priority": priority},
                         ensure_ascii=False))
' "$channel" "$file" "$priority" | "$CTL" send --jsonl -
