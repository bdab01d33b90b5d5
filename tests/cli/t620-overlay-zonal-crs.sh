#!/usr/bin/env bash
# ct-overlay zonal with the polygons in WGS 84 and the raster in VN-2000 / TM-3 105-00: the
# polygons are brought onto the raster with the official Decision 05/2007 operation (EPSG:6960),
# so a square drawn on cell edges in VN-2000 and converted to WGS 84 by cs2cs with the official
# parameters falls back on those edges to a few mm (EPSG:5194 would move it ~0.8 m).
. "$(dirname "$0")/lib.sh"
plan 6

# 8 x 8 cells of 5 m, value = 10 * col + row
{
    echo "ncols 8"; echo "nrows 8"; echo "xllcorner 586000"; echo "yllcorner 1109000"; echo "cellsize 5"
    for r in 0 1 2 3 4 5 6 7; do
        for c in 0 1 2 3 4 5 6 7; do printf '%d ' $((10 * c + r)); done; echo
    done
} >"$T/v.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/v.asc" "$T/v.tif"

official='+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84
 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m'
# the square of cells 2..3 x 2..3 (x 586010-586020, y 1109020-1109030), 4 points per side
pts=$(awk 'BEGIN {
    for (i = 0; i < 4; i++) printf "%.1f %.1f\n", 586010 + 2.5 * i, 1109030
    for (i = 0; i < 4; i++) printf "%.1f %.1f\n", 586020, 1109030 - 2.5 * i
    for (i = 0; i < 4; i++) printf "%.1f %.1f\n", 586020 - 2.5 * i, 1109020
    for (i = 0; i < 4; i++) printf "%.1f %.1f\n", 586010, 1109020 + 2.5 * i
    printf "%.1f %.1f\n", 586010, 1109030 }')
coords=$(echo "$pts" | cs2cs -f %.12f $official +to +proj=longlat +datum=WGS84 | \
         awk '{ printf "%s[%s,%s]", (NR > 1 ? "," : ""), $1, $2 }')
cat >"$T/w.geojson" <<JSON
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":1},"geometry":{"type":"Polygon","coordinates":[[$coords]]}}]}
JSON

run ct-overlay zonal --above 33.5 "$T/v.tif" "$T/w.geojson"
ok $rc "exit 0 with a WGS 84 layer over a VN-2000 raster"
read -r area count mean mn mx < <(awk -F, 'NR == 2 { print $4, $6, $8, $9, $10 }' "$T/out")
near "$area" 100 0.05 "the square keeps its 100 m² (to 0.05 m²)"
near "$count" 4 0.002 "four cells, each covered to within a few mm"
near "$mean" 27.5 0.02 "weighted mean of cells (2..3, 2..3): 22, 23, 32, 33"
near "$(awk -F, 'NR == 2 { print $NF }' "$T/out")" 0 0.01 "cells beyond them get slivers under 0.01 m² (cs2cs rounds to 0.1 mm)"
# the per-polygon poly_area is in the raster's CRS (m²), not in degrees
near "$(awk -F, 'NR == 2 { print $3 }' "$T/out")" 100 0.05 "poly_area in square metres of the raster CRS"
exit $_failed
