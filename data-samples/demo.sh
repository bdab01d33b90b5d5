#!/usr/bin/env bash
# make demo: the whole pipeline on data-samples/, as far as the tools exist today.
set -euo pipefail
cd "$(dirname "$0")"
bin=${CT_BIN:-../build/bin}
out=${DEMO_DIR:-../build/demo}
step() { printf '\n== %s\n' "$*"; }
rm -rf "$out" && mkdir -p "$out"
export CT_SDI="$out/city.sqlite"

step "ct-info: a TCVN3 cadastral sheet, the FAMIS DGN sheet and the DEM"
"$bin/ct-info" cadastral/thuadat-to01.shp
"$bin/ct-info" -q cadastral/thuadat-to07-famis.dgn
"$bin/ct-info" -q --stats dem/dem-5m.tif

step "ct-sdi init: a new SDI in VN-2000 / TM-3 105-00"
"$bin/ct-sdi" -q init

step "ct-ingest: nine cadastral sheets (TCVN3, VNI, UTF-8 GeoJSON in WGS 84, a DGN without CRS)"
# exit 3: the planted defects are rejected into sdi_reject, the rest loads
"$bin/ct-ingest" -q --srs vn2000:105 cadastral cadastral/*.shp cadastral/*.dgn cadastral/*.geojson || [ $? = 3 ]
"$bin/ct-ingest" -q planning planning/quy-hoach-phan-khu.shp
"$bin/ct-ingest" -q dikes dikes/dikes.shp
"$bin/ct-ingest" -q --valid-to 2025-07-01 admin admin/wards-2024.shp
"$bin/ct-ingest" -q --valid-from 2025-07-01 admin admin/wards-2025.shp admin/ward-crosswalk.csv
"$bin/ct-ingest" -q dem dem/dem-5m.tif

step "ct-sdi status and check"
"$bin/ct-sdi" status
"$bin/ct-sdi" check   # the planted overlaps and gaps are findings, not problems

step "ct-sdi export: parcels to GeoPackage, owner names left out"
"$bin/ct-sdi" -q export parcels "$out/parcels.gpkg"
step "ct-tile: relief, parcels as vector tiles, land use and planning zones in TT 08/2024 colours"
"$bin/ct-tile" -q -z 12-17 dem/dem-5m.tif "$out/relief.pmtiles"
"$bin/ct-tile" -q -z 12-18 cadastral/thuadat-to01.shp "$out/parcels-to01.pmtiles"
"$bin/ct-tile" -q -z 14-18 -s landuse-tt08 cadastral/thuadat-to01.shp "$out/landuse-to01"
"$bin/ct-tile" -q -z 12-17 -s landuse-tt08 --class-field MaQH planning/quy-hoach-phan-khu.shp "$out/planning.mbtiles"
echo "demo: results in $out"
