#!/usr/bin/env bash
# ct-tile on SDI inputs and nightly runs. Two sample sheets are ingested into an SDI and tiled
# (sdi:parcels as MVT in a folder and an MBTiles file, sdi:dem as PNG); restricted fields stay
# out. Then one sheet is ingested again with parcel 3/10's land use changed and parcel 3/20
# moved 15 m: the default nightly run makes again exactly the tiles that the test computes
# itself from the two parcels' change-log boxes (moved to EPSG:3857 with cs2cs and the official
# VN-2000 TOWGS84 of Decision 05/2007, widened by the 64/4096 MVT buffer), every other tile
# keeps its bytes, the result equals a --full run (also at zooms 17-18, where the features
# around the changed tiles reach beyond the area read at first), and the metadata records the
# new version.
# A raster: a parcel change keeps every relief tile; a re-registered DEM remakes them, equal
# to tiles of the new file itself.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to03.shp" ] || skip_all "no sample data (make samples)"
command -v cs2cs >/dev/null || skip_all "cs2cs (proj-bin) not installed"
plan 32

sdi="$T/city.sqlite"
export CT_SDI="$sdi"
q() { sqlite3 -batch -noheader "$sdi" "$@"; }
ct-sdi -q init >/dev/null
cp "$S"/cadastral/thuadat-to02.* "$S"/cadastral/thuadat-to03.* "$T/"
ct-ingest -q cadastral "$T/thuadat-to02.shp" "$T/thuadat-to03.shp" >/dev/null 2>&1
ct-ingest -q dem "$S/dem/dem-5m.tif" >/dev/null 2>&1
v1=$(q "SELECT max(version) FROM sdi_version")

run ct-tile -q --json -z 14-17 sdi:parcels "$T/p"
ok $rc "sdi:parcels as vector tiles in a folder"
is "$(jq .sdi_version "$T/out")" "$v1" "the summary names the SDI version"
is "$(jq -r '.input + " " + (.sdi_version | tostring)' "$T/p/metadata.json")" "sdi:parcels $v1" \
   "metadata.json records the input and the SDI version"
is "$(jq -r '.json | fromjson | .vector_layers[0] | .id + " " + (.fields | has("landuse") | tostring) + " " + (.fields | has("owner") or has("owner_id") or has("digest") | tostring)' "$T/p/metadata.json")" \
   "parcels true false" "layer 'parcels' with its columns, no restricted or bookkeeping field"
! grep -rlq owner "$T/p" --include='*.pbf'; ok $? "no tile holds an owner field"
run ct-tile -q --json -z 17 --field fkey --field owner sdi:parcels "$T/named"
grep -rlq owner "$T/named" --include='*.pbf'; ok $? "--field owner names it: then it is written (one rule with files)"
run ct-tile -q -z 14-17 sdi:parcels "$T/p.mbtiles"
is "$(sqlite3 "$T/p.mbtiles" "SELECT group_concat(name || '=' || value, ' ') FROM metadata WHERE name IN ('input', 'sdi_version') ORDER BY name")" \
   "input=sdi:parcels sdi_version=$v1" "MBTiles metadata rows input and sdi_version"
run ct-tile -q -z 12-14 sdi:dem "$T/dem"
ok $rc "sdi:dem as relief tiles"
ct-tile -q -z 14-17 --name p sdi:parcels "$T/p.pmtiles"
ct-tile -q -z 17-18 --name p sdi:parcels "$T/p18.pmtiles"
cp -r "$T/p" "$T/p0"
cp -r "$T/dem" "$T/dem0"

run ct-tile -q --json sdi:parcels "$T/p"
is "$(jq -c '[.since, .tiles_kept == .tiles_written, .tiles_made]' "$T/out")" "[$v1,true,0]" \
   "nothing changed: every tile kept, none made"

# one sheet again: parcel 10's land use changed, parcel 20 moved 15 m east
mkdir -p "$T/ed"
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$T/ed/thuadat-to03.shp" "$T/thuadat-to03.shp" -oo ENCODING= 2>/dev/null
ogrinfo -q "$T/ed/thuadat-to03.shp" -oo ENCODING= -dialect SQLite \
    -sql "UPDATE \"thuadat-to03\" SET MucDich = 'TMD' WHERE SoThua = 10" 2>/dev/null
ogrinfo -q "$T/ed/thuadat-to03.shp" -oo ENCODING= -dialect SQLite \
    -sql "UPDATE \"thuadat-to03\" SET geometry = ST_Translate(geometry, 15, 0, 0) WHERE SoThua = 20" 2>/dev/null
for e in shp shx dbf prj; do [ -f "$T/ed/thuadat-to03.$e" ] && cp "$T/ed/thuadat-to03.$e" "$T/thuadat-to03.$e"; done
ct-ingest -q cadastral "$T/thuadat-to03.shp" >/dev/null 2>&1
v2=$(q "SELECT max(version) FROM sdi_version")
is "$(q "SELECT group_concat(op || ':' || fkey, ' ') FROM (SELECT * FROM sdi_change WHERE version = $v2 ORDER BY fkey)")" \
   "change:3/10 change:3/20" "the change log has the two parcels"

# the expected tiles, computed here: box corners to EPSG:3857, tile ranges widened by the buffer
vn="+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
vn="$vn +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278"
q "SELECT minx, miny, maxx, miny, maxx, maxy, minx, maxy FROM sdi_change WHERE version = $v2" |
    tr '|' '\n' | paste - - | cs2cs -f %.4f $vn +to EPSG:3857 2>/dev/null | awk '{ print $1, $2 }' | paste - - - - |
    awk 'function fl(v) { return v < 0 && v != int(v) ? int(v) - 1 : int(v) }
         { H = 20037508.342789244
           x0 = $1; x1 = $1; y0 = $2; y1 = $2
           for (i = 3; i <= 8; i += 2) { if ($i < x0) x0 = $i; if ($i > x1) x1 = $i
                                         if ($(i+1) < y0) y0 = $(i+1); if ($(i+1) > y1) y1 = $(i+1) }
           for (z = 14; z <= 17; z++) { s = 2 * H / 2 ^ z; b = s * 64 / 4096
             for (x = fl((x0 - b + H) / s); x <= fl((x1 + b + H) / s); x++)
               for (y = fl((H - y1 - b) / s); y <= fl((H - y0 + b) / s); y++) print z "/" x "/" y } }' |
    sort -u >"$T/expected"
[ "$(wc -l <"$T/expected")" -ge 4 ]; ok $? "expected tiles: $(wc -l <"$T/expected") over zooms 14-17"

first=$(cd "$T/p" && find . -name '*.pbf' | sort | head -1)
inode=$(stat -c %i "$T/p/$first")
run ct-tile sdi:parcels "$T/p"
ok $rc "nightly run with the default --since"
like "$T/err" "changes after version $v1: [0-9]+ tiles made again, [0-9]+ kept, now at SDI version $v2" \
     "changes after the recorded version, now at the new one"
made=$(sed -n 's/.*: \([0-9]*\) tiles made again.*/\1/p' "$T/err")
present=$(while read -r t; do [ -f "$T/p/$t.pbf" ] && echo "$t"; done <"$T/expected" | wc -l)
is "$made" "$present" "tiles made = the expected tiles that have features"
(cd "$T/p0" && find . -name '*.pbf' | sort) >"$T/l0"
(cd "$T/p" && find . -name '*.pbf' | sort) >"$T/l1"
is "$(diff "$T/l0" "$T/l1" | wc -l)" "0" "the same tiles exist (nothing removed or added here)"
differ=$(while read -r f; do cmp -s "$T/p0/$f" "$T/p/$f" || echo "${f#./}"; done <"$T/l1" | sed 's/\.pbf$//' | sort)
echo "$differ" >"$T/differ"
is "$(comm -23 "$T/differ" "$T/expected" | wc -l)" "0" "every tile that changed is an expected one"
[ "$(echo "$differ" | wc -l)" -ge 4 ]; ok $? "tiles over the two parcels did change ($(echo "$differ" | wc -l))"
kept_same=$(comm -23 <(sed 's|^\./||; s|\.pbf$||' "$T/l1") "$T/expected" |
            while read -r t; do cmp -s "$T/p0/$t.pbf" "$T/p/$t.pbf" || echo "$t"; done | wc -l)
is "$kept_same" "0" "all $(($(wc -l <"$T/l1") - $(wc -l <"$T/expected"))) or so other tiles byte-identical"
if grep -qx "${first#./}" <(sed 's/$/.pbf/' "$T/expected"); then ok 0 "(first tile was remade)"
else is "$(stat -c %i "$T/p/$first")" "$inode" "a kept tile is a hard link to the old one (no copy)"; fi
is "$(jq .sdi_version "$T/p/metadata.json")" "$v2" "metadata.json: the new version"
run ct-tile -q --full -z 14-17 sdi:parcels "$T/full"
diff -r -x metadata.json "$T/full" "$T/p" >/dev/null; ok $? "the nightly result equals a --full run, tile for tile"
run ct-tile -q --json sdi:parcels "$T/p.mbtiles"
is "$(jq .tiles_made "$T/out")" "$made" "MBTiles: the same tiles made"
is "$(sqlite3 "$T/p.mbtiles" "SELECT value FROM metadata WHERE name = 'sdi_version'")" "$v2" "MBTiles: the new version"
run ct-tile -q --json --name p sdi:parcels "$T/p.pmtiles"
is "$(jq .tiles_made "$T/out")" "$made" "PMTiles: the same tiles made"
ct-tile -q --full -z 14-17 --name p sdi:parcels "$T/f.pmtiles"
cmp -s "$T/f.pmtiles" "$T/p.pmtiles"; ok $? "PMTiles: the nightly archive is byte-identical to a --full run's"
# zooms 17-18: parcels reach further than the sixteenth of a tile read around the changed
# tiles at once, so the nightly run reads the extent of their features again
ct-tile -q --name p sdi:parcels "$T/p18.pmtiles" && ct-tile -q --full -z 17-18 --name p sdi:parcels "$T/f18.pmtiles"
cmp -s "$T/f18.pmtiles" "$T/p18.pmtiles"; ok $? "PMTiles, zooms 17-18: the nightly archive equals a --full run's"

# a raster: the parcel change leaves it alone; a re-registered DEM remakes it
run ct-tile -q --json sdi:dem "$T/dem"
diff -r -x metadata.json "$T/dem0" "$T/dem" >/dev/null && [ "$(jq .tiles_made "$T/out")" = 0 ]
ok $? "relief after a parcel change: nothing made, every tile kept"
gdal_calc.py --quiet -A "$S/dem/dem-5m.tif" --outfile="$T/dem2.tif" --calc="A+(A>-100)*2" --NoDataValue=-9999 >/dev/null 2>&1
ct-ingest -q dem "$T/dem2.tif" >/dev/null 2>&1
run ct-tile -q --json sdi:dem "$T/dem"
ct-tile -q -z 12-14 "$T/dem2.tif" "$T/dem2" 2>/dev/null
diff -r -x metadata.json "$T/dem2" "$T/dem" >/dev/null && ! diff -r -x metadata.json -q "$T/dem0" "$T/dem" >/dev/null
ok $? "re-registered DEM: its tiles made again, equal to tiles of the new file"
# --since above the tileset's version ($v2; the new DEM came after) would skip the changes in between
cp "$T/p.pmtiles" "$T/p-before.pmtiles"
run ct-tile --since $((v2 + 1)) --name p sdi:parcels "$T/p.pmtiles"
is "$rc $(grep -c "made from version $v2: the changes in between would be missed" "$T/err")" "2 1" \
   "--since above the tileset's recorded version: usage error naming both"
cmp -s "$T/p.pmtiles" "$T/p-before.pmtiles"; ok $? "and the tileset is untouched"
run ct-tile --since 1 sdi:parcels "$T/other"
is $rc 2 "--since without an earlier tileset there: usage error"
echo "not a tileset" >"$T/junk.mbtiles"
run ct-tile -z 14 sdi:parcels "$T/junk.mbtiles"
is "$rc $(grep -c 'junk.mbtiles: not an MBTiles file.*every tile is made' "$T/err") $(sqlite3 "$T/junk.mbtiles" "SELECT value FROM metadata WHERE name = 'sdi_version'")" \
   "0 1 $(q "SELECT max(version) FROM sdi_version")" "a file at OUTPUT that is no tileset: a warning, then a full run replaces it"
exit $_failed
