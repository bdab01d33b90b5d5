#!/usr/bin/env bash
# The sample generator is deterministic: run again into a fresh folder, it writes every file of
# data-samples/ byte for byte (so make samples twice gives identical bytes, and what is committed
# is what the generator makes).
. "$(dirname "$0")/lib.sh"
gen="$CT_BIN/../gen-samples"
[ -x "$gen" ] || skip_all "no build/gen-samples (make build-tests)"
plan 4

mkdir "$T/gen"
run "$gen" "$T/gen"
ok $rc "the generator runs"
(cd "$CT_TOP/data-samples" && find . -type f ! -name '*.c' ! -name '*.h' ! -name 'demo.sh' ! -name 'README.md' | sort) >"$T/committed"
(cd "$T/gen" && find . -type f | sort) >"$T/made"
diff "$T/committed" "$T/made" >"$T/diff"
ok $? "it makes exactly the committed files ($(wc -l <"$T/made") files)"
[ -s "$T/diff" ] && sed 's/^/#   /' "$T/diff"
bad=0
while read -r f; do cmp -s "$CT_TOP/data-samples/$f" "$T/gen/$f" || { echo "# differs: $f"; bad=1; }; done <"$T/made"
is $bad 0 "every file is byte for byte the committed one"
size=$(du -cb $(sed "s|^\.|$CT_TOP/data-samples|" "$T/committed") | tail -1 | cut -f1)
[ "$size" -lt 15000000 ]; ok $? "committed outputs under 15 MB ($size bytes)"
exit $_failed
