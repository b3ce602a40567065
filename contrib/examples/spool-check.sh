#!/bin/sh
# Nightly spool check for cron: silent and exit 0 when spool/bad is empty;
# otherwise prints each bad file with its reason and exits 1, so cron
# mails the operator. Fix a file, then replay it with `courier-flush FILE`.
#
#   0 6 * * *  /usr/local/share/courier/examples/spool-check.sh
set -eu
CTL=${COURIER_CTL:-courier-ctl}
bad=$("$CTL" spool --json | jq -r 'select(.state == "bad") | "\(.path)\t\(.reason // "")"')
[ -z "$bad" ] && exit 0
echo "courier: files in spool/bad need an operator:"
printf '%s\n' "$bad"
exit 1
