#!/usr/bin/env bash
# ct-info on a small GeoTIFF in EPSG:5897 (VN-2000 / TM-3 105-00) with known cells: zone named,
# EPSG:5194 warning, exact statistics, and the WGS 84 extent against cs2cs with the official
# Decision 05/2007 parameters.
. "$(dirname "$0")/lib.sh"
plan 17

cat >"$T/g.asc" <<'ASC'
ncols 4
nrows 3
xllcorner 586000
yllcorner 1109000
cellsize 5
NODATA_value -9999
1 2 3 4
5 6 7 8
9 10 11 -9999
ASC
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/g.asc" "$T/g.tif"

run ct-info "$T/g.tif"
ok $rc "exit 0 on a GeoTIFF"
like "$T/out" '^Type: raster \(GTiff\)$' "driver"
like "$T/out" '^Size: 4 x 3 cells, 1 band$' "size"
like "$T/out" '^VN-2000 zone: vn2000:105 ' "VN-2000 105-00 zone named"
like "$T/out" 'EPSG:5194' "warns that a plain EPSG transformation uses EPSG:5194"
like "$T/out" '^Extent: 586000.000 1109000.000 586020.000 1109015.000$' "native extent"
like "$T/out" '^Band 1: Float32, .*nodata -9999$' "band type and nodata"

run ct-info --stats --json "$T/g.tif"
ok $rc "--stats --json exits 0"
is "$(jq -r '.bands[0].stats | "\(.min) \(.max) \(.mean) \(.valid) \(.nodata)"' "$T/out")" "1 11 6 11 1" \
   "exact statistics skip the nodata cell"
near "$(jq '.bands[0].stats.stddev' "$T/out")" 3.16227766 1e-6 "population standard deviation"
is "$(jq -r '.crs.vn2000_zone' "$T/out")" "vn2000:105" "JSON names the zone"
is "$(jq -r '.crs.default_uses_epsg_5194' "$T/out")" "true" "JSON flags the EPSG:5194 default"

# Independent check of the WGS 84 extent: cs2cs with the official towgs84 on the four corners
# (grid north is 0.14° off true north here, so the south-east corner is the southernmost).
official='+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84
 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m'
printf '586000 1109000\n586020 1109000\n586000 1109015\n586020 1109015\n' | \
    cs2cs -f %.10f $official +to +proj=longlat +datum=WGS84 >"$T/corners"
read -r w s e n < <(awk 'NR == 1 { w = e = $1; s = n = $2 }
    { if ($1 < w) w = $1; if ($1 > e) e = $1; if ($2 < s) s = $2; if ($2 > n) n = $2 }
    END { print w, s, e, n }' "$T/corners")
near "$(jq '.extent_wgs84[0]' "$T/out")" "$w" 1e-9 "west edge matches the official transformation"
near "$(jq '.extent_wgs84[1]' "$T/out")" "$s" 1e-9 "south edge matches"
near "$(jq '.extent_wgs84[2]' "$T/out")" "$e" 1e-9 "east edge matches"
near "$(jq '.extent_wgs84[3]' "$T/out")" "$n" 1e-9 "north edge matches"

run ct-info -q "$T/g.asc"
like "$T/out" '^Type: raster \(AAIGrid\)$' "ESRI ASCII grid read too"
exit $_failed
