#!/usr/bin/env bash
# ct-info on bad input: a clear message naming the file and a non-zero exit, and the other
# files of the same call still described.
. "$(dirname "$0")/lib.sh"
plan 16

run ct-info "$T/missing.tif"
is $rc 1 "missing file: exit 1"
like "$T/err" "^ct-info: $T/missing.tif: No such file or directory$" "missing file: message names it"

printf 'this is a memo, not a map\n' >"$T/memo.txt"
run ct-info "$T/memo.txt"
is $rc 1 "not a GIS file: exit 1"
like "$T/err" "^ct-info: $T/memo.txt: not a raster or vector dataset" "not a GIS file: message names it"

# A GeoTIFF cut in half: the header reads, the cells do not.
gdal_create -q -of GTiff -outsize 600 600 -bands 1 -ot Float32 -burn 1.5 -a_srs EPSG:5897 \
    -a_ullr 586000 1110000 589000 1107000 "$T/full.tif"
head -c $(( $(stat -c %s "$T/full.tif") / 2 )) "$T/full.tif" >"$T/cut.tif"
run ct-info "$T/cut.tif"
is $rc 1 "truncated GeoTIFF: exit 1"
like "$T/err" "^ct-info: $T/cut.tif: truncated or corrupt" "truncated GeoTIFF: message names the file and says why"
[ ! -s "$T/out" ]; ok $? "truncated GeoTIFF: nothing on stdout"
run ct-info --stats "$T/cut.tif"
is $rc 1 "truncated GeoTIFF with --stats: exit 1"

: >"$T/empty.shp"
run ct-info "$T/empty.shp"
is $rc 1 "empty .shp: exit 1"
like "$T/err" "^ct-info: $T/empty.shp: " "empty .shp: message names the file"

run ct-info "$T/memo.txt" "$T/full.tif"
is $rc 1 "one bad file among two: exit 1"
like "$T/out" "^File: $T/full.tif$" "the good file is still described"
like "$T/err" "memo.txt" "the bad one is named"

run ct-info
is $rc 2 "no operand: usage error, exit 2"
run ct-info --no-such-option "$T/full.tif"
is $rc 2 "unknown option: exit 2"
like "$T/err" "unknown option --no-such-option" "unknown option named"
exit $_failed
