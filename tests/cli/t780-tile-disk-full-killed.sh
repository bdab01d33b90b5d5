#!/usr/bin/env bash
# A run that cannot write its tileset (the file-size limit of `ulimit -f` with SIGXFSZ ignored,
# so that writes fail with EFBIG as on a full disk) or that is killed with SIGKILL leaves the
# previous tileset as it was, byte for byte, says which output failed and why, and leaves no
# temporary file behind when it could clean up.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/dem/dem-5m.tif" ] || skip_all "no sample data (make samples)"
plan 10
dem="$S/dem/dem-5m.tif"
for o in old.pmtiles old.mbtiles olddir; do ct-tile -q -z 12-15 "$dem" "$T/$o"; done
cp "$T/old.pmtiles" "$T/keep.pmtiles"; cp "$T/old.mbtiles" "$T/keep.mbtiles"; cp -r "$T/olddir" "$T/keepdir"
limited() { # limited KB CMD...: runs CMD with a file-size limit, SIGXFSZ ignored
    local kb=$1; shift
    (trap '' XFSZ; ulimit -f "$kb"; "$@") >"$T/out" 2>"$T/err"; rc=$?
}
limited 300 ct-tile -q -z 12-15 -r cubic "$dem" "$T/old.pmtiles"
is "$rc $(grep -c 'old.pmtiles: cannot write tile data: File too large' "$T/err")" "1 1" \
   "PMTiles, file too large: exit 1, naming the output and the reason"
cmp -s "$T/old.pmtiles" "$T/keep.pmtiles"; ok $? "PMTiles: the old archive is intact"
limited 300 ct-tile -q -z 12-15 -r cubic "$dem" "$T/old.mbtiles"
like "$T/err" "old.mbtiles: cannot write( tile [0-9/]+)?: (disk I/O error|database or disk is full)" \
     "MBTiles: SQLite's reason"
cmp -s "$T/old.mbtiles" "$T/keep.mbtiles"; ok $? "MBTiles: the old file is intact"
limited 2 ct-tile -q -z 12-15 -r cubic "$dem" "$T/olddir"
like "$T/err" "olddir: cannot write [0-9]+/[0-9]+/[0-9]+: File too large" "folder: the failing tile and the reason"
diff -r "$T/olddir" "$T/keepdir" >/dev/null; ok $? "folder: the old tileset is intact"
is "$(ls -A "$T" | grep -c '\.tmp\.')" "0" "no temporary file or folder left after the failures"
# SIGKILL in the middle of a run: nothing can clean up, yet the old archive still serves
ct-tile -q -z 12-17 -r cubic "$dem" "$T/old.pmtiles" 2>/dev/null &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null; krc=$?
is "$krc" "137" "the run was killed mid-way (SIGKILL)"
cmp -s "$T/old.pmtiles" "$T/keep.pmtiles"; ok $? "killed: the old archive is intact"
run ct-tile -q -z 12-15 "$dem" "$T/old.pmtiles"
ok $rc "the next run replaces it normally"
exit $_failed
