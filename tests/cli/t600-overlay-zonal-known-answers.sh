#!/usr/bin/env bash
# ct-overlay zonal on a 4 x 3 depth grid (5 m cells, EPSG:5897) with hand-computed answers:
# weighted mean, min, max, sum, depth-class areas, nodata area, fractional cells, outputs in CSV,
# GeoPackage and GeoJSON, and the same bytes whatever --threads is.
. "$(dirname "$0")/lib.sh"
plan 24

cat >"$T/d.asc" <<'ASC'
ncols 4
nrows 3
xllcorner 586000
yllcorner 1109000
cellsize 5
NODATA_value -9999
0 0.125 0.375 0.75
1.5 0.25 2 -9999
0 0 0.625 1
ASC
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/d.asc" "$T/d.tif"
# 1: the four north-west cells; 2: a 15 x 7.5 m box cutting cells in half; 3: a triangle
# over half of the south-east cell; 4: outside the raster.
cat >"$T/p.geojson" <<'JSON'
{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":[
{"type":"Feature","properties":{"SoThua":1},"geometry":{"type":"Polygon","coordinates":[[[586000,1109015],[586010,1109015],[586010,1109005],[586000,1109005],[586000,1109015]]]}},
{"type":"Feature","properties":{"SoThua":2},"geometry":{"type":"Polygon","coordinates":[[[586002.5,1109012.5],[586017.5,1109012.5],[586017.5,1109005],[586002.5,1109005],[586002.5,1109012.5]]]}},
{"type":"Feature","properties":{"SoThua":3},"geometry":{"type":"Polygon","coordinates":[[[586015,1109005],[586020,1109000],[586015,1109000],[586015,1109005]]]}},
{"type":"Feature","properties":{"SoThua":4},"geometry":{"type":"Polygon","coordinates":[[[587000,1109015],[587010,1109015],[587010,1109005],[587000,1109015]]]}}
]}
JSON

run ct-overlay zonal "$T/d.tif" "$T/p.geojson"
ok $rc "exit 0"
is "$(head -1 "$T/out")" "src_fid,SoThua,poly_area,area,nodata_area,count,sum,mean,min,max,wet_area,wet_frac,area_0_0.2,area_0.2_0.5,area_0.5_1,area_gt_1" "CSV header"
is "$(sed -n 2p "$T/out")" "0,1,100,100,0,4,1.875,0.46875,0,1.5,75,0.75,25,25,0,25" "four whole cells"
# box 2: weights 0.25 on row 0 cols 0..3 partly: cols 0 and 3 get 0.5 x 0.5, cols 1-2 get 1 x 0.5;
# row 1: cols 0 and 3 get 0.5 x 1 (col 3 is nodata), cols 1-2 get 1.
# valid weights: 0.25(0) 0.5(.125) 0.5(.375) 0.25(.75) 0.5(1.5) 1(.25) 1(2) → count 4, nodata 0.5 cells
awk -F, 'NR == 3 { print $4, $5, $6, $7, $8, $9, $10 }' "$T/out" >"$T/b2"
read -r area nd count sum mean mn mx <"$T/b2"
near "$area" 112.5 1e-9 "box: covered area 15 x 7.5 m"
near "$nd" 12.5 1e-9 "box: half the nodata cell"
near "$count" 4 1e-12 "box: weighted count of valid cells"
near "$sum" 3.4375 1e-12 "box: weighted sum (0.0625+0.1875+0.1875+0.75+0.25+2)"
near "$mean" 0.859375 1e-12 "box: weighted mean"
is "$mn $mx" "0 2" "box: min and max of touched valid cells"
is "$(awk -F, 'NR == 3 { print $13, $14, $15, $16 }' "$T/out")" "12.5 37.5 6.25 37.5" "box: depth-class areas"
is "$(awk -F, 'NR == 4 { print $4, $6, $8 }' "$T/out")" "12.5 0.5 1" "triangle: half of one cell"
is "$(awk -F, 'NR == 5 { print $3, $4, $6, $8 }' "$T/out")" "50 0 0 " "outside: area 0, empty mean"
like "$T/err" "1 polygons lie outside every raster" "outside polygons are reported"

run ct-overlay zonal --threads 1 -o "$T/t1.csv" "$T/d.tif" "$T/p.geojson"
run ct-overlay zonal --threads 2 -o "$T/t2.csv" "$T/d.tif" "$T/p.geojson"
cmp -s "$T/t1.csv" "$T/t2.csv"; ok $? "same bytes with 1 and 2 threads"

run ct-overlay zonal -q --classes 0,1 --above 0.3 --wet 0.5 --majority -o "$T/z.gpkg" "$T/d.tif" "$T/p.geojson"
ok $rc "GeoPackage output with custom classes"
is "$(ogrinfo -q -sql 'SELECT area_0_1, area_gt_1, "above_0.3", wet_area, majority FROM zonal WHERE SoThua = 1' "$T/z.gpkg" | \
      sed -n 's/.*(Real) = //p' | tr '\n' ' ')" "50 25 25 25 0 " "custom classes, threshold, wet level, majority"
is "$(ogrinfo -q -sql 'SELECT ST_Area(geom) AS a FROM zonal WHERE SoThua = 2' "$T/z.gpkg" | sed -n 's/.*(Real) = //p')" "112.5" "the polygon geometry is kept"

run ct-overlay zonal --json -o "$T/z.geojson" "$T/d.tif" "$T/p.geojson"
ok $rc "--json with a GeoJSON output"
is "$(jq -r '"\(.features) \(.overlapping) \(.outside) \(.rasters[0].nodata_area)"' "$T/out")" "4 3 1 12.5" "JSON summary counts"
is "$(jq '.features | length' "$T/z.geojson")" "4" "GeoJSON has every feature"

# two rasters on one grid: prefixed columns in one pass
awk 'NR <= 6 { print; next } { for (i = 1; i <= NF; i++) printf "%s%s", ($i == -9999 ? -9999 : 2 * $i), (i < NF ? " " : "\n") }' \
    "$T/d.asc" >"$T/d2.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/d2.asc" "$T/d2.tif"
run ct-overlay zonal --field SoThua "$T/d.tif" "$T/d2.tif" "$T/p.geojson"
is "$(awk -F, 'NR == 2 { print $7, $20 }' "$T/out")" "1.875 3.75" "two rasters: sums of each"
is "$(head -1 "$T/out" | cut -d, -f4,17)" "d_area,d2_area" "columns prefixed by the raster names"
is "$(awk -F, 'NR == 3 { print $5, $18 }' "$T/out")" "12.5 12.5" "nodata of each raster"
# rasters on different grids: one pass each; a 2.5 m copy of the same cells gives the same numbers
gdal_translate -q -tr 2.5 2.5 -r near "$T/d.tif" "$T/fine.tif"
run ct-overlay zonal --field SoThua "$T/d.tif" "$T/fine.tif" "$T/p.geojson"
is "$(awk -F, 'NR == 3 { printf "%s %s %s|%s %s %s", $4, $7, $8, $17, $20, $21 }' "$T/out")" \
   "112.5 3.4375 0.859375|112.5 13.75 0.859375" "a finer grid: the same area and mean, a sum of 4 times as many cells"
exit $_failed
