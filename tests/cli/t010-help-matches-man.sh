#!/usr/bin/env bash
# Every tool's --help lists the same options as the SYNOPSIS of its man page, and every tool
# has a man page that mandoc reads without warnings (after git t0450-txt-doc-vs-help.sh).
. "$(dirname "$0")/lib.sh"

tools=$(cd "$CT_TOP/tools" && ls ct-*.c | sed 's/\.c$//')
plan $(( $(echo "$tools" | wc -w) * 4 + 1 ))

for t in $tools; do
    man="$CT_TOP/man/man1/$t.1"
    # options in --help: the "-x, --name ARG" column of lines that start with a dash
    run "$CT_BIN/$t" --help
    ok $rc "$t --help exits 0"
    grep -E '^  +-' "$T/out" | sed -E 's/^ +//; s/  .*//' | tr ',' '\n' | awk '{print $1}' | \
        grep -E '^-' | sort -u >"$T/help"
    # options in the SYNOPSIS: every "Fl x" or "Fl \-name" between .Sh SYNOPSIS and the next .Sh
    sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$man" | grep -oE 'Fl \\?-?[a-z][a-z0-9-]*' | \
        sed -E 's/^Fl //; s/^\\-/--/; s/^([a-z])$/-\1/' | sort -u >"$T/man"
    diff "$T/help" "$T/man" >"$T/diff"
    ok $? "$t: --help options equal the man page SYNOPSIS"
    [ -s "$T/diff" ] && sed 's/^/#   /' "$T/diff"
    [ -s "$T/help" ]; ok $? "$t: --help lists options"
    mandoc -T lint -W warning "$man" >"$T/lint" 2>&1
    ok $? "$t.1: mandoc -W warning is clean"
    [ -s "$T/lint" ] && sed 's/^/#   /' "$T/lint"
done
mandoc -T lint -W warning $(ls "$CT_TOP"/man/man7/*.7 "$CT_TOP"/man/man5/*.5 2>/dev/null) >"$T/lint" 2>&1
ok $? "section 5 and 7 pages: mandoc -W warning is clean"
exit $_failed
