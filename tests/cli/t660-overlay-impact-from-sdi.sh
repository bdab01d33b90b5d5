#!/usr/bin/env bash
# ct-overlay with the SDI: flood runs registered by ct-flood in an SDI built from the samples; impact --run
# gives the same numbers as the same inputs as files, reports the wards of both eras and the
# planning zones, writes its tables in one version with the right row counts and no owner
# names; a bathtub run's levels each get a folder and tables; zonal --table; failed runs (an
# unknown run, a bad table name, zones that miss the raster) leave the SDI as it was.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to01.shp" ] || skip_all "no sample data (make samples)"
plan 30

export CT_SDI="$T/city.sqlite"
q() { sqlite3 -batch -noheader "$CT_SDI" "$@"; }
# CSV columns by name (land-use names hold commas)
cols() { python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")): print(",".join(r[c] for c in sys.argv[2:]))' "$@"; }
{
ct-sdi -q init
# the sheet's one parcel without geometry is rejected (exit 3); the file run below reports it dry
ct-ingest -q cadastral "$S/cadastral/thuadat-to01.shp" 2>/dev/null || [ $? = 3 ]
ct-ingest -q planning "$S/planning/quy-hoach-phan-khu.shp"
ct-ingest -q --valid-to 2025-07-01 admin "$S/admin/wards-2024.shp"
ct-ingest -q --valid-from 2025-07-01 admin "$S/admin/wards-2025.shp" "$S/admin/ward-crosswalk.csv"
# flood runs registered by ct-flood ("<run>.depth-<level>"): BĐ III alone, and two levels
ct-flood -q run "$S/flood/scenario-bd3.txt" --run bd3 -o "$T/bd3"
ct-flood -q run "$S/flood/scenario-bd3.txt" --run bt --level 1.5,2 -o "$T/bt"
} >/dev/null
is "$(q "SELECT count(*) FROM parcels_current")" 1779 "the SDI holds the sheet's 1779 parcels with a geometry"

run ct-overlay -q --json impact --run bd3 -o "$T/sdi"
is "$rc $(ls "$T/sdi") $(jq -c '[.scenarios[].product]' "$T/out")" '0 depth-2.00 ["depth-2.00"]' \
   "impact --run bd3: exit 0, the run's one level in its folder, as with several levels"
jq '.scenarios[0] + {version}' "$T/out" >"$T/sdi.json"
R="$T/sdi/depth-2.00"
is "$(ls "$R" | tr '\n' ' ')" "chart-ward-2025.png chart-zones.png chart.png landuse-ward-2024.csv landuse-ward-2025.csv landuse.csv \
parcels-by-class.csv parcels-deep.csv summary.md ward-2024.csv ward-2024.geojson ward-2025.csv ward-2025.geojson zones.csv \
zones.geojson " "the report's files: wards of both eras and the planning zones"
is "$(jq -c '[.wards[] | [.name, .units]], .zones.units' "$T/sdi.json" | tr '\n' ' ')" \
   '[["ward-2024",17],["ward-2025",6]] 285 ' "17 wards before 1 July 2025, 6 after, 285 zones"
near "$(jq '.wards[0].wet_area - .wards[1].wet_area' "$T/sdi.json")" 0 1e-6 "both eras cover the same flooded area"

# the same inputs as files
run ct-overlay -q --json impact -o "$T/files" --wards "$S/admin/wards-2024.shp" --wards "$S/admin/wards-2025.shp" \
    --zones "$S/planning/quy-hoach-phan-khu.shp" "$T/bd3/depth-2.00.tif" "$S/cadastral/thuadat-to01.shp"
cp "$T/out" "$T/files.json"
is "$rc $(jq .parcels_by_class.dry "$T/files.json")" "3 1" "impact of the same files: the parcel without geometry is rejected (dry)"
num() { jq -c '[.parcels_flooded, .parcels_deeper_than_threshold, (.parcels_by_class | del(.dry)),
                (.flooded_parcel_area * 1e4 | round), (.wards[] | .wet_area * 1e4 | round), (.zones.wet_area * 1e4 | round)]' "$1"; }
is "$(num "$T/sdi.json")" "$(num "$T/files.json")" "the same parcels flooded by class, flooded areas, ward and zone totals"
cmp -s <(sed 1,2d "$R/parcels-by-class.csv") <(sed 1,2d "$T/files/parcels-by-class.csv"); ok $? "parcels-by-class.csv: the same classes"
# sums of the same parcels in another order: equal to the last bits
lu() { cols "$1" code parcels_flooded wet_area area_gt_1 | awk -F, '{ printf "%s,%s,%.6f,%.6f\n", $1, $2, $3, $4 }'; }
cmp -s <(lu "$R/landuse.csv") <(lu "$T/files/landuse.csv"); ok $? "landuse.csv: the same (SDI codes = normalised MucDich)"
lw() { cols "$1" unit code parcels wet_area area_0.5_1 | awk -F, '{ printf "%s,%s,%s,%.4f,%.4f\n", $1, $2, $3, $4, $5 }' | sort; }
is "$(lw "$R/landuse-ward-2024.csv")" "$(lw "$T/files/landuse-wards-wards_2024.csv")" "land use per 2024 ward: the same"
is "$(lw "$R/landuse-ward-2025.csv")" "$(lw "$T/files/landuse-wards-wards_2025.csv")" "land use per 2025 ward: the same"

# the tables, in one version
v=$(jq .version "$T/sdi.json")
is "$v" "$(q "SELECT max(version) FROM sdi_version")" "one new version"
is "$(q "SELECT kind FROM sdi_version WHERE version = $v")" overlay "of kind overlay"
is "$(q "SELECT group_concat(name || ':' || rows, ' ') FROM (SELECT * FROM sdi_table WHERE version = $v ORDER BY name)")" \
   "impact_bd3_depth_2_00_landuse:$(($(wc -l <"$R/landuse.csv") - 1)) impact_bd3_depth_2_00_landuse_ward_2024:$(($(wc -l <"$R/landuse-ward-2024.csv") - 1)) \
impact_bd3_depth_2_00_landuse_ward_2025:$(($(wc -l <"$R/landuse-ward-2025.csv") - 1)) impact_bd3_depth_2_00_parcels_by_class:5 \
impact_bd3_depth_2_00_parcels_deep:$(($(wc -l <"$R/parcels-deep.csv") - 1)) impact_bd3_depth_2_00_ward_2024:17 impact_bd3_depth_2_00_ward_2025:6 impact_bd3_depth_2_00_zones:285" \
   "eight tables, with the rows of the files"
is "$(q "SELECT count(*) FROM impact_bd3_depth_2_00_parcels_deep d JOIN parcels_current p ON p.fkey = d.fkey")" \
   "$(q "SELECT count(*) FROM impact_bd3_depth_2_00_parcels_deep")" "deep parcels join the parcels by their key"
near "$(q "SELECT sum(wet_area) FROM impact_bd3_depth_2_00_ward_2024")" "$(jq .wards[0].wet_area "$T/sdi.json")" 1e-6 "table and JSON agree"
is "$(q "SELECT count(*) FROM pragma_table_info('impact_bd3_depth_2_00_parcels_deep') WHERE name LIKE 'owner%'")" 0 "no owner column"
# the parcel parts per 2025 ward add up, code by code, to the flooded area of the uncut parcels
is "$(q "SELECT count(*), sum(abs(w.s - l.wet_area) <= 1e-6 * l.wet_area) FROM impact_bd3_depth_2_00_landuse l
         JOIN (SELECT code, sum(wet_area) s FROM impact_bd3_depth_2_00_landuse_ward_2025 WHERE code <> '-' GROUP BY code) w
         ON w.code = l.code WHERE l.wet_area > 0")" \
   "$(q "SELECT count(*) || '|' || count(*) FROM impact_bd3_depth_2_00_landuse WHERE wet_area > 0")" \
   "land use per 2025 ward adds up to the land use of the uncut parcels, code by code"
owner=$(q "SELECT owner FROM parcels_current WHERE owner IS NOT NULL AND owner <> '' LIMIT 1")
[ -n "$owner" ] && ! grep -rqF "$owner" "$T/sdi" && ! q ".dump impact_bd3_depth_2_00_parcels_deep" | grep -qF "$owner"
ok $? "no owner name in the files or the tables"

# the same bytes whatever the threads
ct-overlay -q --threads 1 impact -o "$T/one" --run bd3 --table t1
for f in "$R"/*.csv "$R"/*.md; do cmp -s "$f" "$T/one/depth-2.00/${f##*/}" || echo "${f##*/}"; done >"$T/diff"
is "$(cat "$T/diff")" "" "--threads 1: every CSV and the summary the same bytes"

# a bathtub run: one folder and one set of tables per level
run ct-overlay -q --json impact --run bt -o "$T/bt-rep"
is "$rc $(jq -c '[.scenarios[].product]' "$T/out")" '0 ["depth-1.50","depth-2.00"]' "bathtub run: both levels"
is "$(ls "$T/bt-rep" | tr '\n' ' ')" "depth-1.50 depth-2.00 " "a folder per level"
is "$(q "SELECT count(*) FROM sdi_table WHERE name LIKE 'impact_bt_depth_1_50_%' AND v_to IS NULL")" 8 "tables per level"

# zonal --table, cross-checked with the impact's zone table
run ct-overlay -q --json zonal --table zones_bd3 sdi:bd3.depth-2.00 sdi:planning_zones
is "$rc $(q "SELECT count(*) FROM zones_bd3")" "0 285" "zonal --table: one row per zone"
near "$(q "SELECT sum(wet_area) FROM zones_bd3")" "$(q "SELECT sum(wet_area) FROM impact_bd3_depth_2_00_zones")" 1e-6 \
   "zonal and impact agree on the zones' flooded area"

# conformance from the SDI (its landuse columns) finds the same conflicts as from the files
run ct-overlay -q --json conformance sdi:parcels sdi:planning_zones
cf() { jq -c '[.conflicting_parcels, (.conflict_area_by_planned_use | map_values(. * 1e3 | round))]' "$1"; }
cp "$T/out" "$T/cs.json"
ct-overlay -q --json conformance "$S/cadastral/thuadat-to01.shp" "$S/planning/quy-hoach-phan-khu.shp" >"$T/cf.json"
is "$(cf "$T/cs.json")" "$(cf "$T/cf.json")" "conformance of sdi:parcels x sdi:planning_zones = of the files"

# failed runs write nothing
before="$(q "SELECT max(version), count(*) FROM sdi_table WHERE v_to IS NULL")"
run ct-overlay impact --run nosuch -o "$T/x"
like "$T/err" "no depth raster of run 'nosuch'" "an unknown run: named"
run ct-overlay impact --run bd3 --table Bad-Name -o "$T/x"
is "$rc" 2 "a bad table name: usage error"
run ct-overlay impact --run bd3 --table a_prefix_of_forty_characters_for_tables -o "$T/x"
is "$rc $(grep -c "result table 'a_prefix_of_forty_characters_for_tables_depth_2_00_[a-z0-9_]*' would be longer than 60" "$T/err")" \
   "2 1" "a prefix that makes a table name too long: refused before any computing, naming the table"
ogr2ogr -f GeoJSON "$T/far.geojson" "$R/zones.geojson" -dialect SQLite \
    -sql "SELECT ST_Translate(geometry, 100000, 0, 0) AS geometry, name FROM zones"
run ct-overlay impact --run bd3 --zones "$T/far.geojson" -o "$T/x"
is "$rc $(q "SELECT max(version), count(*) FROM sdi_table WHERE v_to IS NULL")" "1 $before" \
   "zones off the raster: exit 1, and none of the failed runs changed the SDI"
exit $_failed
