#!/usr/bin/env bash
# ct-overlay zonal on the real data of ../shared/data:
#  - the Cần Thơ districts (EPSG:4326) over a VN-2000 TM-3 105-00 grid: each district's area as
#    ct-overlay measures it (polygons transformed with the official EPSG:6960 operation, exact
#    coverage fractions) against GDAL's ogr2ogr to the same zone with the official +towgs84 and
#    SQLite ST_Area; the nine districts against the city outline;
#  - the EA Test 5 DEM (no CRS: British National Grid given) cut into 4 x 4 rectangles on cell edges: counts and sums add up to
#    the DEM's 306 757 valid cells and gdalinfo's mean; one rectangle against gdal_translate -srcwin;
#  - the two together: no CRS, then no overlap at all, are errors.
set -u
: "${SHARED_DATA:?SHARED_DATA is not set: run through make verify}"
. "$(dirname "$0")/../cli/lib.sh"
plan 13

districts="$SHARED_DATA/cantho-admin/cantho-districts.geojson"
dem="/vsigzip/$SHARED_DATA/ea-test5/ea5-10m.dem.raw.gz"
official='+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m +no_defs'

# a grid of ones, 50 m cells, over the whole city in vn2000:105
gdal_create -q -of GTiff -ot Byte -outsize 1600 1200 -a_ullr 520000 1150000 600000 1090000 -a_srs EPSG:5897 \
    -burn 1 -co TILED=YES "$T/ones.tif"
run ct-overlay zonal --field id --field name --classes 0 "$T/ones.tif" "$districts"
ok $rc "districts over a VN-2000 grid: exit 0"
cp "$T/out" "$T/ct.csv"
ogr2ogr -q -t_srs "$official" -f GPKG "$T/d5897.gpkg" "$districts" -nln d
ogrinfo -q -dialect SQLite -sql "SELECT id, ST_Area(geom) AS a FROM d" "$T/d5897.gpkg" | \
    awk '/id \(String\)/ { id = $NF } /a \(Real\)/ { print id "," $NF }' >"$T/gdal.csv"
is "$(wc -l <"$T/gdal.csv")" 10 "GDAL measured the 10 polygons"
awk -F, 'NR == FNR { g[$1] = $2; next } FNR > 1 { d = ($5 - g[$2]) / g[$2]; if (d < 0) d = -d; if (d > w) w = d; n++ }
         END { printf "%d %.3g\n", n, w }' "$T/gdal.csv" "$T/ct.csv" >"$T/cmp"
read -r n worst <"$T/cmp"
echo "# $n districts; largest relative difference of the covered area to GDAL: $worst"
awk -v w="$worst" 'BEGIN { exit !(w <= 1e-7) }'; ok $? "each district's area equals GDAL's to 1e-7 relative ($worst)"
city=$(awk -F, 'FNR > 1 && $2 == "92" { print $5 }' "$T/ct.csv")
parts=$(awk -F, 'FNR > 1 && $2 != "92" { s += $5 } END { printf "%.3f", s }' "$T/ct.csv")
echo "# city outline $city m², the nine districts $parts m²"
near "$parts" "$city" "$(awk -v c="$city" 'BEGIN { print c * 1e-6 }')" "the nine districts add up to the city outline (to 1e-6 relative)"
near "$(awk -F, 'FNR > 1 && $2 == "916" { print $5 / 1e6 }' "$T/ct.csv")" 29.2 1.5 \
    "Ninh Kiều about 29.2 km² (published figure)"

# the EA Test 5 DEM in 4 x 4 rectangles on cell edges (1378 x 1224 cells from 231335, 842125)
awk 'BEGIN {
    x0 = 231335; y0 = 842125; W = 1378; H = 1224
    print "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::27700\"}},\"features\":["
    for (j = 0; j < 4; j++) for (i = 0; i < 4; i++) {
        c0 = int(W * i / 4); c1 = int(W * (i + 1) / 4); r0 = int(H * j / 4); r1 = int(H * (j + 1) / 4)
        xa = x0 + 10 * c0; xb = x0 + 10 * c1; ya = y0 - 10 * r0; yb = y0 - 10 * r1
        printf "%s{\"type\":\"Feature\",\"properties\":{\"k\":%d,\"c0\":%d,\"r0\":%d,\"nc\":%d,\"nr\":%d},", ((i + j) ? "," : ""), 4 * j + i, c0, r0, c1 - c0, r1 - r0
        printf "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%d,%d],[%d,%d],[%d,%d],[%d,%d],[%d,%d]]]}}\n", xa, ya, xb, ya, xb, yb, xa, yb, xa, ya
    }
    print "]}" }' >"$T/rects.geojson"
run ct-overlay zonal --raster-srs EPSG:27700 "$dem" "$T/rects.geojson"
ok $rc "the EA DEM (British National Grid given with --raster-srs) by rectangles: exit 0"
cp "$T/out" "$T/rects.csv"
GDAL_PAM_ENABLED=NO gdalinfo -stats "$dem" >"$T/gdal" 2>/dev/null
gmean=$(sed -n 's/.*STATISTICS_MEAN=//p' "$T/gdal")
is "$(awk -F, 'FNR > 1 { s += $10 } END { printf "%.6f", s }' "$T/rects.csv")" "306757.000000" \
   "the weighted counts add up to the 306 757 valid cells"
near "$(awk -F, 'FNR > 1 { s += $11 } END { printf "%.6f", s }' "$T/rects.csv")" \
     "$(awk -v m="$gmean" 'BEGIN { printf "%.6f", m * 306757 }')" "$(awk -v m="$gmean" 'BEGIN { print m * 306757 * 1e-6 }')" \
     "the sums add up to gdalinfo's mean x valid cells (1e-6 relative)"
read -r c0 r0 nc nr mean <<<"$(awk -F, 'FNR > 1 && $2 == 5 { print $3, $4, $5, $6, $12 }' "$T/rects.csv")"
gdal_translate -q -srcwin "$c0" "$r0" "$nc" "$nr" "$dem" "$T/r5.tif"
near "$mean" "$(GDAL_PAM_ENABLED=NO gdalinfo -stats "$T/r5.tif" | sed -n 's/.*STATISTICS_MEAN=//p')" 1e-6 \
     "rectangle 5: mean equals gdalinfo -stats of gdal_translate -srcwin"
near "$(awk -F, 'FNR > 1 && $2 == 5 { print $8 }' "$T/rects.csv")" $((nc * nr * 100)) 1e-6 \
     "rectangle 5: the covered area (nodata included) is the whole rectangle"
near "$(awk -F, 'FNR > 1 && $2 == 5 { print ($8 - $9) / 100 - $10 }' "$T/rects.csv")" 0 1e-6 \
     "rectangle 5: covered minus nodata area is the valid count x 100 m²"

# the districts against the EA DEM: no CRS, then no overlap
run ct-overlay zonal "$dem" "$districts"
is "$rc" 1 "a raster without CRS against a layer with one: exit 1"
run ct-overlay zonal --raster-srs EPSG:27700 "$dem" "$districts"
is "$rc" 1 "the EA DEM (Britain) and Cần Thơ do not overlap: exit 1"
exit $_failed
