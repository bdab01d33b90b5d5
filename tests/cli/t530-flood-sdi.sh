#!/usr/bin/env bash
# ct-flood with an SDI: the DEM and dikes read from the SDI give the same depths as the same
# files; the run's rasters are registered in one version under "<run>.<product>", with their
# extents in the change log; the files stay in the output folder; sdi: names without an SDI,
# unknown names and failed runs are errors that leave the SDI's version where it was.
. "$(dirname "$0")/lib.sh"
plan 25

# 60 x 40 cells of 10 m: a valley sloping from 0.5 m to 3.4 m across, a dike line at x = 586 305
awk 'BEGIN { print "ncols 60"; print "nrows 40"; print "xllcorner 586000"; print "yllcorner 1109000"
    print "cellsize 10"; print "NODATA_value -9999"
    for (r = 0; r < 40; r++) { s = ""; for (c = 0; c < 60; c++) s = s (c ? " " : "") sprintf("%.2f", 0.5 + c * 0.05); print s } }' >"$T/dem.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/dem.asc" "$T/dem.tif"
cat >"$T/dikes.geojson" <<'J'
{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":[
{"type":"Feature","properties":{"MaDe":"D1","TenDe":"Đê thử","CaoTrinh":5.0},"geometry":{"type":"LineString","coordinates":[[586305,1109000],[586305,1109400]]}}]}
J
sdi="$T/city.sqlite"
export CT_SDI=
run ct-sdi -q init --sdi "$sdi"
ct-ingest -q dem "$T/dem.tif" --sdi "$sdi" >/dev/null 2>&1
ct-ingest -q dikes "$T/dikes.geojson" --sdi "$sdi" >/dev/null 2>&1
v0=$(ct-sdi status --json --sdi "$sdi" | jq .current_version)
is "$v0" 2 "the SDI holds the DEM and the dike (version 2)"

# the same bathtub from files and from the SDI (its DEM and dikes by default)
run ct-flood -q bathtub --dem "$T/dem.tif" --dikes "$T/dikes.geojson" --level 2.0,2.5 --seed 586005,1109200 -o "$T/files"
ok $rc "bathtub from the files"
run ct-flood -q bathtub --sdi "$sdi" --run valley --level 2.0,2.5 --seed 586005,1109200 -o "$T/sdi"
ok $rc "bathtub from the SDI"
for lab in 2.00 2.50; do
    a=$(gdalinfo -checksum "$T/files/depth-$lab.tif" | sed -n 's/.*Checksum=//p')
    b=$(gdalinfo -checksum "$T/sdi/depth-$lab.tif" | sed -n 's/.*Checksum=//p')
    is "$b" "$a" "depth at $lab m: the SDI's DEM and dikes give the files' result"
done
# the dike holds: at 2.5 m the valley floods up to x = 586 300 only (ground 2.5 m at column 40)
cells=$(sed -n 's/^2.500,[^,]*,[^,]*,\([0-9]*\),.*/\1/p' "$T/sdi/summary.csv")
is "$cells" $((30 * 40)) "the SDI's dike stops the water: 30 columns x 40 rows wet at 2.5 m"

st=$(ct-sdi status --json --sdi "$sdi")
is "$(jq .current_version <<<"$st")" 3 "the run is one new version"
is "$(jq -r '[.rasters[].name | select(startswith("valley."))] | join(" ")' <<<"$st")" \
    "valley.depth-2.00 valley.depth-2.50 valley.extent-2.00 valley.extent-2.50" "its four rasters are registered by name"
f=$(jq -r '.rasters[] | select(.name == "valley.depth-2.50") | .file' <<<"$st")
cmp -s "$T/sdi/depth-2.50.tif" "$sdi.rasters/$f"
ok $? "the SDI's copy is the output file, byte for byte"
[ -f "$T/sdi/extent-2.00.tif" ]
ok $? "the output folder keeps its files"
# the change log names each raster with its extent (ct-tile --since redraws that area)
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print('\\n'.join('%s:%.0f,%.0f,%.0f,%.0f' % r for r in c.execute(\"SELECT fkey, minx, miny, maxx, maxy FROM sdi_change WHERE version = 3 AND layer = 'rasters' ORDER BY fkey\")))" "$sdi" >"$T/changes"
is "$(wc -l <"$T/changes")" 4 "the change log has the four rasters"
like "$T/changes" "^valley.depth-2.00:586000,1109000,586600,1109400$" "... with their extents"

# run again: the rasters are replaced in a new version, and GDAL's cached statistics of the
# replaced files go with them
gdalinfo -stats "$T/sdi/depth-2.00.tif" >/dev/null 2>&1
run ct-flood -q bathtub --sdi "$sdi" --run valley --level 2.0,2.5 --seed 586005,1109200 -o "$T/sdi"
is "$(ct-sdi status --json --sdi "$sdi" | jq -r '[.rasters[] | select(.name == "valley.depth-2.00") | .version] | join(",")')" 4 \
    "a second run replaces the rasters (version 4)"
[ ! -e "$T/sdi/depth-2.00.tif.aux.xml" ]
ok $? "the replaced depth raster's stale .aux.xml statistics are removed"

# simulate: the maxima are registered; a DEM named in the scenario as sdi:dem
printf 'time,level_m\n0,0.6\n300,2.0\n' >"$T/rise.csv"
cat >"$T/sim.scn" <<'S'
name = short rise
model = simulate
dem = sdi:dem
water_level_series = rise.csv
sources = edges
duration = 5min
output_interval = 5min
S
run ct-flood -q run "$T/sim.scn" --sdi "$sdi" -o "$T/sim"
ok $rc "simulate from sdi:dem"
is "$(ct-sdi status --json --sdi "$sdi" | jq -r '[.rasters[].name | select(startswith("sim."))] | join(" ")')" \
    "sim.arrival_time sim.duration sim.hazard sim.max_depth sim.max_velocity sim.time_of_max" \
    "the six maxima rasters are registered under the scenario file's name"

# Manning's n from land use: the SDI's parcels burned by their TT 08/2024 codes. Two parcels
# cover the grid; with both codes at n = 0.1 the run equals one with manning = 0.1 everywhere.
cat >"$T/parcels.geojson" <<'J'
{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":[
{"type":"Feature","properties":{"SoTo":1,"SoThua":1,"DienTich":124000,"MucDich":"LUC"},"geometry":{"type":"Polygon","coordinates":[[[585990,1108990],[586300,1108990],[586300,1109410],[585990,1109410],[585990,1108990]]]}},
{"type":"Feature","properties":{"SoTo":1,"SoThua":2,"DienTich":124000,"MucDich":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[586300,1108990],[586610,1108990],[586610,1109410],[586300,1109410],[586300,1108990]]]}}]}
J
ct-ingest -q cadastral "$T/parcels.geojson" --sdi "$sdi" >/dev/null 2>&1
printf 'code,n\nLUC,0.1\nODT,0.1\n' >"$T/n.csv"
run ct-flood -q run "$T/sim.scn" --sdi "$sdi" --run lu --set landuse=sdi:parcels --set manning_table="$T/n.csv" -o "$T/lu"
ok $rc "simulate with landuse = sdi:parcels"
run ct-flood -q run "$T/sim.scn" --sdi "$sdi" --run n01 --set manning=0.1 -o "$T/n01"
a=$(gdalinfo -checksum "$T/lu/max_velocity.tif" | sed -n 's/.*Checksum=//p')
b=$(gdalinfo -checksum "$T/n01/max_velocity.tif" | sed -n 's/.*Checksum=//p')
c=$(gdalinfo -checksum "$T/sim/max_velocity.tif" | sed -n 's/.*Checksum=//p')
is "$a" "$b" "land use coded n = 0.1 everywhere gives the run with manning = 0.1"
[ "$b" != "$c" ]
ok $? "... which differs from the default n = 0.035 (the case is sensitive to n)"
printf 'code,n\nLUC,0.1\n' >"$T/n1.csv"
run ct-flood run "$T/sim.scn" --sdi "$sdi" --run lu1 --set landuse=sdi:parcels --set manning_table="$T/n1.csv" -o "$T/lu1"
like "$T/err" "1 polygons have codes not in .*n1.csv \(first 'ODT'\): they keep manning = 0.035" "a code the table lacks is reported"
# the same with a raster of numeric codes on the DEM grid
gdal_calc.py --quiet -A "$T/dem.tif" --calc="A*0+7" --type=Int16 --outfile="$T/codes.tif" >/dev/null 2>&1
printf '7,0.1\n' >"$T/n7.csv"
run ct-flood -q run "$T/sim.scn" --sdi "$sdi" --run lu7 --set landuse="$T/codes.tif" --set manning_table="$T/n7.csv" -o "$T/lu7"
is "$(gdalinfo -checksum "$T/lu7/max_velocity.tif" | sed -n 's/.*Checksum=//p')" "$b" "a land-use code raster with 7 -> 0.1 gives the same"

# errors
run ct-flood -q run "$T/sim.scn" -o "$T/nosdi"
is "$rc" 2 "sdi:dem without an SDI is a usage error"
like "$T/err" "sim.scn:3: dem: 'sdi:dem' names an SDI input: give the SDI with --sdi" "... naming the file, line and key"
v=$(ct-sdi status --json --sdi "$sdi" | jq .current_version)
run ct-flood -q bathtub --sdi "$sdi" --set dem=sdi:dem-1m --level 2 -o "$T/bad"
like "$T/err" "dem: .*no layer or raster named 'dem-1m'" "an unknown SDI name is named"
run ct-flood -q bathtub --sdi "$sdi" --level -50 --seed 586005,1109200 -o "$T/bad"
is "$(ct-sdi status --json --sdi "$sdi" | jq .current_version)" "$v" "failed runs register nothing (version still $v, rc $rc)"
