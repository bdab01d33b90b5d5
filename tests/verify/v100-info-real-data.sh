#!/usr/bin/env bash
# ct-info on the real data of ../shared/data: the EA Test 5 DEM (gzipped ESRI ASCII grid) and the
# Cần Thơ district outlines, cross-checked against the published figures and against GDAL.
set -u
: "${SHARED_DATA:?SHARED_DATA is not set: run through make verify}"
. "$(dirname "$0")/../cli/lib.sh"
plan 12

dem="/vsigzip/$SHARED_DATA/ea-test5/ea5-10m.dem.raw.gz"
run ct-info --stats --json "$dem"
ok $rc "EA Test 5 DEM described through /vsigzip/"
is "$(jq -r '.size | join("x")' "$T/out")" "1378x1224" "size 1378 x 1224 (EA report)"
is "$(jq -r '.bands[0].stats.valid' "$T/out")" "306757" "306 757 valid cells (data README)"
is "$(jq -r '.bands[0].nodata' "$T/out")" "-9999" "nodata -9999"
# GDAL's exact statistics on the same file
GDAL_PAM_ENABLED=NO gdalinfo -stats "$dem" >"$T/gdal" 2>/dev/null
stat_of() { sed -n "s/.*STATISTICS_$1=//p" "$T/gdal"; }
gmin=$(stat_of MINIMUM) gmax=$(stat_of MAXIMUM) gmean=$(stat_of MEAN)
near "$(jq '.bands[0].stats.min' "$T/out")" "$gmin" 1e-4 "minimum equals gdalinfo -stats"
near "$(jq '.bands[0].stats.max' "$T/out")" "$gmax" 1e-4 "maximum equals gdalinfo -stats"
near "$(jq '.bands[0].stats.mean' "$T/out")" "$gmean" 1e-4 "mean equals gdalinfo -stats"

districts="$SHARED_DATA/cantho-admin/cantho-districts.geojson"
run ct-info --json "$districts"
ok $rc "Cần Thơ districts described"
is "$(jq -r '.layers[0].features' "$T/out")" "10" "city outline and its 9 districts"
is "$(jq -r '.layers[0].crs.epsg' "$T/out")" "4326" "EPSG:4326"
is "$(jq -r '.layers[0].encoding.name' "$T/out")" "utf8" "UTF-8 names recognised"
near "$(jq '.layers[0].extent[0]' "$T/out")" 105.225786 1e-6 "west edge as ogrinfo reports it"
exit $_failed
