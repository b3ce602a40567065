#!/bin/sh
# Checks the man pages in SOURCE_DIR/man against roff and against the code.
#
#   sh tests/man_check.sh SOURCE_DIR
#
# For every man/*.[1-8]:
#   - man(1) formats it with warnings on and prints nothing on stderr;
#   - it has NAME, DESCRIPTION and SEE ALSO sections, and SYNOPSIS in
#     sections 1 and 8.
# And, so that the pages cannot drift from the code:
#   - courier-ctl.1 names every subcommand that lib/ctl/ctl_commands.cpp
#     (courier-ctl's command table) registers with add_subcommand("NAME");
#   - courier.conf.5 names every option of Specs() in
#     lib/config/options.cpp, and its COURIER_ environment variable;
#   - courier-recv.8 has its CHANNEL TYPES section with the generated list
#     of every type's routes and settings in it (that the list matches the
#     handlers' declarations, the unit test ManPage.ChannelTypesSectionIsCurrent
#     checks; `make man-types` writes it), and courier-send.8 points to it.
# Exits 0 when all is well, 1 (after listing every problem) otherwise.
set -u

src=${1:-}
if [ -z "$src" ] || [ ! -d "$src" ]; then
    echo "usage: sh man_check.sh SOURCE_DIR" >&2
    exit 64
fi

failed=0
fail() {
    printf 'man_check: %s\n' "$*"
    failed=1
}

if ! command -v man >/dev/null 2>&1; then
    echo "man_check: man(1) is not installed (Debian: apt-get install man-db groff-base)"
    exit 1
fi

# A word in roff source: not part of a longer lower-case name, so "port"
# is not found in "report" nor "list" in "list_x"; "\fBport" still counts.
has_word() {
    grep -Eq "(^|[^a-z0-9_])$1([^a-z0-9_]|\$)" "$2"
}

pages=0
for page in "$src"/man/*.[1-8]; do
    [ -f "$page" ] || continue
    pages=$((pages + 1))
    name=${page##*/}
    section=${name##*.}

    # Formatting: man must succeed and say nothing on stderr.
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
        man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$warnings" ]; then
        fail "$name: man exited $rc with:"
        printf '%s\n' "$warnings" | sed 's/^/    /'
    fi

    # Sections.
    required="NAME DESCRIPTION SEE_ALSO"
    case $section in
        1|8) required="NAME SYNOPSIS DESCRIPTION SEE_ALSO" ;;
    esac
    for sh_name in $required; do
        title=$(printf '%s' "$sh_name" | tr '_' ' ')
        if ! grep -Eq "^\.SH[[:space:]]+\"?$title\"?[[:space:]]*\$" "$page"; then
            fail "$name: no .SH $title section"
        fi
    done
done
if [ "$pages" -eq 0 ]; then
    fail "no man pages in $src/man"
fi

# courier-ctl.1: every registered subcommand.
ctl_page="$src/man/courier-ctl.1"
ctl_main="$src/lib/ctl/ctl_commands.cpp"
if [ ! -f "$ctl_page" ]; then
    fail "courier-ctl.1 is missing"
elif [ ! -f "$ctl_main" ]; then
    fail "$ctl_main is missing"
else
    subcommands=$(grep -o 'add_subcommand("[^"]*"' "$ctl_main" | sed 's/^add_subcommand("//; s/"$//' | sort -u)
    if [ -z "$subcommands" ]; then
        fail "found no add_subcommand(\"NAME\") in $ctl_main: has its form changed?"
    fi
    for sub in $subcommands; do
        has_word "$sub" "$ctl_page" || fail "courier-ctl.1 does not mention the subcommand '$sub'"
    done
fi

# courier.conf.5: every option of Specs(), and its environment variable.
conf_page="$src/man/courier.conf.5"
options_cpp="$src/lib/config/options.cpp"
if [ ! -f "$conf_page" ]; then
    fail "courier.conf.5 is missing"
elif [ ! -f "$options_cpp" ]; then
    fail "$options_cpp is missing"
else
    options=$(grep -Eo '\{"[a-z0-9_]+", *Kind::' "$options_cpp" | sed 's/^{"//; s/",.*$//')
    if [ -z "$options" ]; then
        fail "found no {\"name\", Kind:: rows in $options_cpp: has Specs() changed form?"
    fi
    for option in $options; do
        has_word "$option" "$conf_page" || fail "courier.conf.5 does not document the option '$option'"
        env=COURIER_$(printf '%s' "$option" | tr '[:lower:]' '[:upper:]')
        grep -Eq "$env([^A-Z0-9_]|\$)" "$conf_page" || fail "courier.conf.5 does not name $env"
    done
fi

# courier-recv.8: the generated CHANNEL TYPES list, not empty.
recv_page="$src/man/courier-recv.8"
if [ ! -f "$recv_page" ]; then
    fail "courier-recv.8 is missing"
else
    grep -Eq '^\.SH[[:space:]]+"CHANNEL TYPES"' "$recv_page" || fail "courier-recv.8 has no .SH \"CHANNEL TYPES\" section"
    listed=$(sed -n '/^\.\\" BEGIN CHANNEL TYPES/,/^\.\\" END CHANNEL TYPES/p' "$recv_page" | grep -c '^\.TP')
    [ "$listed" -gt 0 ] || fail "courier-recv.8 lists no channel types between its BEGIN and END CHANNEL TYPES lines (make man-types)"
    grep -q 'CHANNEL TYPES' "$src/man/courier-send.8" || fail "courier-send.8 does not point to courier-recv.8's CHANNEL TYPES"
fi

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "man_check: $pages pages ok"
exit 0
