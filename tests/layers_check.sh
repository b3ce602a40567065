#!/bin/sh
# Checks that every directory of SOURCE_DIR/lib includes only what
# DESIGN.md's layer table allows it to.
#
#   sh tests/layers_check.sh SOURCE_DIR
#
# The table is read from DESIGN.md's section "The library, layer by
# layer": one row per directory of lib/, "| `dir` | `dep` `dep` ... |".
# For every quoted #include in lib/DIR/*: its path starts with DIR or
# with a directory of DIR's row. The table and lib/ must also name the
# same directories, so the document cannot drift from the tree.
# Exits 0 when all is well, 1 (after listing every problem) otherwise.
set -u

src=${1:-}
if [ -z "$src" ] || [ ! -d "$src/lib" ] || [ ! -f "$src/DESIGN.md" ]; then
    echo "usage: sh layers_check.sh SOURCE_DIR (with lib/ and DESIGN.md)" >&2
    exit 64
fi

failed=0
fail() {
    printf 'layers_check: %s\n' "$*"
    failed=1
}

# "dir dep dep ..." per row of the table.
table=$(awk '
    /^## / { in_section = ($0 == "## The library, layer by layer") ; next }
    in_section && /^\| *`[a-z_]+` *\|/ {
        split($0, cells, "|")
        dir = cells[2]; gsub(/[` ]/, "", dir)
        deps = cells[3]; gsub(/`/, " ", deps); gsub(/  +/, " ", deps)
        sub(/^ /, "", deps); sub(/ $/, "", deps)
        print dir " " deps
    }' "$src/DESIGN.md")
if [ -z "$table" ]; then
    fail "found no layer table in DESIGN.md's \"The library, layer by layer\": has its form changed?"
    exit 1
fi

# Every row names a directory that exists.
while read -r dir deps; do
    [ -d "$src/lib/$dir" ] || fail "DESIGN.md's layer table has a row for $dir, which is not a directory of lib/"
done <<EOF
$table
EOF

dirs=0
includes=0
for path in "$src"/lib/*/; do
    dir=$(basename "$path")
    dirs=$((dirs + 1))
    allowed=$(printf '%s\n' "$table" | awk -v d="$dir" '$1 == d { $1 = ""; print; found = 1 } END { exit !found }')
    if [ $? -ne 0 ]; then
        fail "lib/$dir has no row in DESIGN.md's layer table"
        continue
    fi
    # file:line:included path, for every quoted include of the directory.
    found=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$path"* 2>/dev/null |
        sed -E 's/^([^:]*:[0-9]+):[^"]*"([^"]*)".*/\1:\2/')
    [ -n "$found" ] || continue
    # Read from a here-document, not a pipe, so fail() sets $failed here.
    while IFS= read -r hit; do
        includes=$((includes + 1))
        where=${hit%:*}
        where=lib/${where#"$src"/lib/}
        included=${hit##*:}
        case $included in
            */*) dep=${included%%/*} ;;
            *) fail "$where includes \"$included\", which names no directory of lib/"; continue ;;
        esac
        [ "$dep" = "$dir" ] && continue
        ok=0
        for a in $allowed; do
            [ "$a" = "$dep" ] && ok=1
        done
        [ "$ok" -eq 1 ] || fail "$where includes $included: $dir may include only${allowed:- its own headers}"
    done <<EOF
$found
EOF
done

if [ "$dirs" -eq 0 ]; then
    fail "no directories in $src/lib"
fi
if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "layers_check: $dirs directories, $includes includes ok"
exit 0
