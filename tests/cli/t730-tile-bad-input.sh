#!/usr/bin/env bash
# ct-tile on bad input: an unknown style key (file and line), a raster without CRS, a zoom range
# of billions of tiles (refused with the count), bad options; a run killed half way leaves the
# old tileset untouched.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
plan 18
$py "$(dirname "$0")/tile-pixels.py" make-dem "$T/plane.tif" 800 5

printf 'name x\nstop 0 #000000\n\ncolour-ramp 3\n' >"$T/bad.style"
run ct-tile -z 14 -s "$T/bad.style" "$T/plane.tif" "$T/o1"
is "$rc" "1" "unknown style key: exit 1"
like "$T/err" "bad.style:4: unknown key 'colour-ramp'" "message names the file and line"
[ ! -e "$T/o1" ]; ok $? "nothing written"

printf 'stop 0 #000000\nstop 1 #GG0000\n' >"$T/bad2.style"
run ct-tile -z 14 -s "$T/bad2.style" "$T/plane.tif" "$T/o1"
like "$T/err" "bad2.style:2: stop needs VALUE COLOUR" "bad colour: file and line"

printf 'ncols 3\nnrows 2\nxllcorner 586000\nyllcorner 1109000\ncellsize 5\n1 2 3\n4 5 6\n' >"$T/nocrs.asc"
run ct-tile -z 14 "$T/nocrs.asc" "$T/o2"
is "$rc" "1" "raster without CRS: exit 1"
like "$T/err" "nocrs.asc: no CRS" "message says so"

run ct-tile -z 0-28 "$T/plane.tif" "$T/o3"
is "$rc" "2" "zooms 0-28: refused, exit 2"
like "$T/err" "would make [0-9 ]+ tiles \(more than 100 000 000\)" "message gives the count"
like "$T/err" "--force" "and the way out"

run ct-tile -z 17-12 "$T/plane.tif" "$T/o4"
is "$rc" "2" "zoom range upside down: usage error"
run ct-tile --format gif "$T/plane.tif" "$T/o4"
like "$T/err" "--format gif: not one of the choices" "unknown format named"

# killed half way: the old archive is still there, byte for byte
run ct-tile -q -z 12-16 "$T/plane.tif" "$T/old.pmtiles"
sum0=$(md5sum <"$T/old.pmtiles")
ct-tile -q --threads 1 -z 12-19 "$T/plane.tif" "$T/old.pmtiles" &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is "$(md5sum <"$T/old.pmtiles")" "$sum0" "killed run (SIGKILL): old PMTiles untouched"
# a folder too
run ct-tile -q -z 12-16 "$T/plane.tif" "$T/oldxyz"
n0=$(find "$T/oldxyz" -type f | wc -l)
ct-tile -q --threads 1 -z 12-19 "$T/plane.tif" "$T/oldxyz" &
pid=$!
sleep 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is "$(find "$T/oldxyz" -type f | wc -l)" "$n0" "killed run: old folder untouched"
[ -d "$T/oldxyz/16" ] && [ ! -d "$T/oldxyz/19" ]; ok $? "and still the old zooms"
# options that would be ignored are refused
src="$CT_TOP/data-samples/cadastral/thuadat-to01.shp"
for args in "--since 2 $src $T/v.pmtiles" "--full $src $T/v.pmtiles" "--since 2 --full sdi:parcels $T/v.pmtiles" \
            "merge -z 14 $T/m.pmtiles $T/a.pmtiles $T/b.pmtiles"; do
    run ct-tile $args
    is "$rc $([ -e "$T/v.pmtiles" ] || [ -e "$T/m.pmtiles" ] && echo made)" "2 " "ct-tile ${args%% $T*} ...: usage error, nothing made"
done
exit $_failed
