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
step "ct-flood: the alarm levels BĐ I/II/III, the 2025 record and the record + 0.5 m sea-level rise"
for sc in bd1 bd2 bd3 record-2025 record-2025-slr50; do
    "$bin/ct-flood" -q run "flood/scenario-$sc.txt" -o "$out/flood/$sc" --run "$sc"
done
cat "$out/flood/bd3/summary.csv"
step "ct-flood: BĐ III on the SDI's DEM and dikes; every run's rasters are registered in the SDI"
"$bin/ct-flood" -q bathtub --set sources=below --set source_below=0 --level 2.00 --run bd3-sdi -o "$out/flood/bd3-sdi"
"$bin/ct-sdi" status --json | jq -r '.rasters[].name'
step "ct-flood: the first ten minutes of the spring tide with 100 mm of rain (the full 72 h is a long run)"
"$bin/ct-flood" -q run flood/scenario-spring-tide-rain100.txt --set duration=10min --set output_interval=5min \
    -o "$out/flood/tide" --run tide

step "ct-overlay: flood impact of run bd3 from the SDI: wards before and after 1 July 2025, planning zones, land use per ward; tables into the SDI"
"$bin/ct-overlay" impact -q --run bd3 -o "$out/impact-bd3" || [ $? = 3 ]
cat "$out"/impact-bd3/depth-*/summary.md
"$bin/ct-overlay" impact -q --run tide -o "$out/impact-tide" || [ $? = 3 ]
"$bin/ct-overlay" zonal -q --table zones_record_2025 sdi:record-2025.depth-2.29 sdi:planning_zones
"$bin/ct-sdi" status | grep 'name=impact_bd3_'
step "ct-overlay: parcels of sheet 1 whose land use conflicts with the plan"
"$bin/ct-overlay" conformance -q -o "$out/conflicts.gpkg" cadastral/thuadat-to01.shp planning/quy-hoach-phan-khu.shp || [ $? = 3 ]

step "ct-tile: relief, parcels as vector tiles, land use and planning zones in TT 08/2024 colours"
"$bin/ct-tile" -q -z 12-17 dem/dem-5m.tif "$out/relief.pmtiles"
"$bin/ct-tile" -q -z 12-18 cadastral/thuadat-to01.shp "$out/parcels-to01.pmtiles"
"$bin/ct-tile" -q -z 14-18 -s landuse-tt08 cadastral/thuadat-to01.shp "$out/landuse-to01"
"$bin/ct-tile" -q -z 12-17 -s landuse-tt08 --class-field MaQH planning/quy-hoach-phan-khu.shp "$out/planning.mbtiles"
"$bin/ct-tile" -q -z 12-17 --mode depth "$out/flood/bd3/depth-2.00.tif" "$out/depth-bd3.pmtiles"
step "ct-tile: tiles from the SDI, then a nightly update after sheet 3 was re-surveyed"
"$bin/ct-tile" -q -z 14-18 sdi:parcels "$out/parcels-sdi.pmtiles"
"$bin/ct-tile" -q -z 12-15 sdi:dem "$out/relief-sdi.pmtiles"
"$bin/ct-tile" -q --mode depth -z 12-15 sdi:bd3-sdi.depth-2.00 "$out/depth-bd3-sdi.pmtiles"
mkdir -p "$out/resurvey"
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$out/resurvey/thuadat-to03.shp" cadastral/thuadat-to03.shp -oo ENCODING=
ogrinfo -q "$out/resurvey/thuadat-to03.shp" -oo ENCODING= -dialect SQLite \
    -sql "UPDATE \"thuadat-to03\" SET MucDich = 'TMD' WHERE SoThua = 10"
"$bin/ct-ingest" -q cadastral "$out/resurvey/thuadat-to03.shp"
"$bin/ct-tile" sdi:parcels "$out/parcels-sdi.pmtiles"   # only the tiles around parcel 3/10 are made again
"$bin/ct-tile" sdi:dem "$out/relief-sdi.pmtiles"        # the DEM did not change: every tile kept
echo "demo: results in $out"
