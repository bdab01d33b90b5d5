#!/usr/bin/env bash
# ct-overlay zonal on bad input: empty and invalid geometries, a layer that does not overlap the
# raster, rasters and layers without a CRS, a missing band, unknown modes; restricted fields.
. "$(dirname "$0")/lib.sh"
plan 29

cat >"$T/d.asc" <<'ASC'
ncols 4
nrows 4
xllcorner 586000
yllcorner 1109000
cellsize 5
NODATA_value -9999
1 1 1 1
1 1 1 1
1 1 1 1
1 1 1 1
ASC
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/d.asc" "$T/d.tif"
gdal_translate -q -ot Float32 "$T/d.asc" "$T/nocrs.tif"
hdr='{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":['
# a bow-tie (self-intersecting: GEOS MakeValid makes two triangles of 25 m² each), an empty
# geometry, a point, and a good square; owner names and a CCCD number to keep out of outputs.
cat >"$T/bad.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"SoThua":1,"TenChu":"Nguyễn Văn An","SoGT":"012345678901"},"geometry":{"type":"Polygon","coordinates":[[[586000,1109020],[586010,1109010],[586010,1109020],[586000,1109010],[586000,1109020]]]}},
{"type":"Feature","properties":{"SoThua":2,"TenChu":"Lê Thị Bình","SoGT":"098765432"},"geometry":null},
{"type":"Feature","properties":{"SoThua":3,"TenChu":"Trần C","SoGT":"111222333"},"geometry":{"type":"Point","coordinates":[586005,1109005]}},
{"type":"Feature","properties":{"SoThua":4,"TenChu":"Phạm D","SoGT":"444555666777"},"geometry":{"type":"Polygon","coordinates":[[[586010,1109010],[586020,1109010],[586020,1109000],[586010,1109000],[586010,1109010]]]}}
]}
JSON

run ct-overlay zonal "$T/d.tif" "$T/bad.geojson"
is "$rc" 3 "exit 3: some features had no usable polygon"
like "$T/err" "feature 0: invalid geometry repaired" "the invalid geometry is named and repaired"
like "$T/err" "feature 1: empty geometry" "the empty geometry is named"
like "$T/err" "feature 2: not a polygon" "the point is named"
like "$T/err" "2 features without a usable polygon" "a closing message counts them"
is "$(wc -l <"$T/out")" 5 "every feature still has its row"
is "$(awk -F, 'NR == 2 { print $3, $4, $7 }' "$T/out")" "50 50 2" "the repaired bow-tie: two triangles of 25 m²"
is "$(awk -F, 'NR == 3 { print $4 "|" $8 }' "$T/out")" "0|" "empty geometry: area 0, no mean"
is "$(awk -F, 'NR == 5 { print $4, $8 }' "$T/out")" "100 1" "the good square"
! grep -q "Nguy\|012345678901\|TenChu\|SoGT" "$T/out"; ok $? "no owner name nor ID number in the output"
like "$T/err" "TenChu is restricted" "TenChu is left out, and said so"
like "$T/err" "SoGT is restricted" "a field of 9/12-digit numbers is left out"
run ct-overlay zonal -q --field SoThua --field TenChu -o "$T/named.csv" "$T/d.tif" "$T/bad.geojson"
like "$T/named.csv" "Nguyễn Văn An" "a restricted field named by --field is copied"

# no overlap at all: the user asked for the impossible
sed 's/58600\([0-9]\)/59600\1/g; s/58601\([0-9]\)/59601\1/g; s/58602\([0-9]\)/59602\1/g' "$T/bad.geojson" >"$T/far.geojson"
echo old >"$T/far.csv"
run ct-overlay zonal -o "$T/far.csv" "$T/d.tif" "$T/far.geojson"
is "$rc" 1 "no overlap at all: exit 1"
like "$T/err" "no polygon overlaps" "and says so"
is "$(cat "$T/far.csv")" "old" "the previous output is left untouched"

# CRS missing on one side
run ct-overlay zonal "$T/nocrs.tif" "$T/bad.geojson"
is "$rc" 1 "raster without a CRS against a layer with one: exit 1"
like "$T/err" "nocrs.tif: the raster has no CRS.*--raster-srs" "the message names the file and the option"
run ct-overlay zonal -q --raster-srs vn2000:105 "$T/nocrs.tif" "$T/bad.geojson"
is "$rc" 3 "--raster-srs supplies it"
is "$(awk -F, 'NR == 5 { print $4 }' "$T/out")" "100" "and the results are the same"

run ct-overlay zonal --band 2 "$T/d.tif" "$T/bad.geojson"
is "$rc" 2 "a missing band is a usage error"
run ct-overlay zonal "$T/d.tif" "$T/missing.gpkg"
is "$rc" 1 "a missing layer file: exit 1"
run ct-overlay frobnicate a b c
is "$rc" 2 "an unknown mode is a usage error"
run ct-overlay zonal --classes 1,0.5 "$T/d.tif" "$T/bad.geojson"
is "$rc" 2 "decreasing class breaks are a usage error"
# an option the mode does not use is refused, not ignored as if it had worked
for opts in "intersect --table t a b" "conformance --zones z a b" "zonal --run r a b" "zonal --wards w a b" \
            "intersect --threshold 1 a b"; do
    run ct-overlay $opts
    is "$rc $(grep -c 'only\|operand ZONES' "$T/err")" "2 1" "ct-overlay $opts: a usage error naming the option"
done
exit $_failed
