# lib.sh — a few TAP helpers for the CLI tests (sourced; run by `prove -e bash`).
# Tools come from $CT_BIN (set by tests/run-tests.sh; default build/bin), samples from
# $CT_TOP/data-samples. Every test gets a fresh scratch folder $T, removed at exit.
: "${CT_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CT_BIN:=$CT_TOP/build/bin}"
PATH="$CT_BIN:$PATH"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
_n=0
_failed=0

plan() { echo "1..$1"; }
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=1; fi
}
# run CMD...: runs a command, keeping stdout in $T/out, stderr in $T/err and the status in $rc
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# is GOT WANT DESCRIPTION
is() {
    _n=$((_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $_n - $3"
    else echo "not ok $_n - $3"; echo "#   got: '$1'"; echo "#  want: '$2'"; _failed=1; fi
}
# like FILE REGEX DESCRIPTION
like() {
    _n=$((_n + 1))
    if grep -Eq -- "$2" "$1"; then echo "ok $_n - $3"
    else echo "not ok $_n - $3"; echo "#   $1 has no line matching /$2/:"; sed 's/^/#     /' "$1" | head -20; _failed=1; fi
}
# near GOT WANT TOLERANCE DESCRIPTION
near() {
    _n=$((_n + 1))
    if awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'
    then echo "ok $_n - $4"; else echo "not ok $_n - $4"; echo "#   got $1, want $2 ± $3"; _failed=1; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
