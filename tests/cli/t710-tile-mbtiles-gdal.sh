#!/usr/bin/env bash
# ct-tile into MBTiles 1.3: GDAL's MBTiles driver opens it (gdalinfo), metadata (bounds, center,
# zooms, format), rows flipped to TMS, every tile the same bytes as the folder output, repeated
# tiles stored once.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
plan 12
$py "$(dirname "$0")/tile-pixels.py" make-dem "$T/plane.tif" 800 5
printf 'stop 0 #000000\nstop 1 #FF0000\n' >"$T/red.style"
run ct-tile -q -z 12-16 -s "$T/red.style" "$T/plane.tif" "$T/xyz"
ok $rc "folder output"
run ct-tile --json -z 12-16 -s "$T/red.style" --name "plane test" "$T/plane.tif" "$T/p.mbtiles"
ok $rc "MBTiles output"
is "$(jq -r .sink "$T/out")" "mbtiles" "sink chosen from the extension"

gdalinfo "$T/p.mbtiles" >"$T/info" 2>&1
like "$T/info" '^Driver: MBTiles/MBTiles' "gdalinfo opens it with the MBTiles driver"
like "$T/info" 'ZOOM_LEVEL=16' "GDAL sees zoom 16 as the full resolution"
like "$T/info" 'Overviews: ' "and the lower zooms as overviews"

q() { sqlite3 "$T/p.mbtiles" "$1"; }
is "$(q "select value from metadata where name='name'")" "plane test" "metadata name"
is "$(q "select value from metadata where name='minzoom'")-$(q "select value from metadata where name='maxzoom'")-$(q "select value from metadata where name='format'")" \
   "12-16-png" "metadata minzoom, maxzoom, format"
# bounds: the raster's corners through the official transformation, as ct-info reports them
ct-info --json "$T/plane.tif" >"$T/ci"
want=$(jq -r '.extent_wgs84 | map(. * 1e5 | round) | join(",")' "$T/ci")
got=$(q "select value from metadata where name='bounds'" | awk -F, '{printf "%d,%d,%d,%d", $1*1e5+($1<0?-.5:.5), $2*1e5+.5, $3*1e5+.5, $4*1e5+.5}')
is "$got" "$want" "metadata bounds equal the WGS 84 extent (1e-5 degree)"

# every tile: same bytes as the folder, at the TMS row
bad=0 n=0
while read -r zz xx yy; do
    n=$((n + 1))
    tms=$(( (1 << zz) - 1 - yy ))
    a=$(q "select hex(tile_data) from tiles where zoom_level=$zz and tile_column=$xx and tile_row=$tms")
    b=$(od -An -v -tx1 "$T/xyz/$zz/$xx/$yy.png" | tr -d ' \n' | tr a-f A-F)
    [ "$a" = "$b" ] || bad=$((bad + 1))
done < <(cd "$T/xyz" && find . -name '*.png' | sed 's|^\./||; s|\.png$||; s|/| |g')
is "$bad" "0" "all $n tiles equal the folder's, rows flipped to TMS"
is "$(q 'select count(*) from tiles')" "$n" "no extra tiles"
[ "$(q 'select count(*) from images')" -le "$n" ]; ok $? "images stored once ($(q 'select count(*) from images') for $n tiles)"
exit $_failed
