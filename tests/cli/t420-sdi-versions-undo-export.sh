#!/usr/bin/env bash
# Versions: an unchanged source is a no-op, a changed one supersedes and logs what changed, the
# parcel's history keeps both, undo restores it; export leaves restricted fields out.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to03.shp" ] || skip_all "no sample data (make samples)"
sdi_setup
plan 26

sdi=$(sdi_new city)
q() { sdi_q "$sdi" "$1"; }
ct-sdi -q --sdi "$sdi" init >/dev/null
cp "$S"/cadastral/thuadat-to03.* "$T/"
run ct-ingest -q --sdi "$sdi" cadastral "$T/thuadat-to03.shp"
is $rc 0 "sheet 3 loads: its defects are repaired or reported, none rejected"
before=$(q "SELECT count(*) FROM parcels_current")
v1=$(q "SELECT max(version) FROM sdi_version")

run ct-ingest --sdi "$sdi" cadastral "$T/thuadat-to03.shp"
is $rc 0 "re-ingesting an unchanged source: exit 0"
like "$T/out" "nothing to do: 1 source unchanged" "and says so"
is "$(q "SELECT max(version) FROM sdi_version")" "$v1" "no new version"

# change one parcel's land use and drop another, through OGR on a copy
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$T/edit.shp" "$T/thuadat-to03.shp" -oo ENCODING= \
    -where "SoThua <> 20" 2>/dev/null
ogrinfo -q "$T/edit.shp" -oo ENCODING= -dialect SQLite -sql "UPDATE edit SET MucDich = 'TMD' WHERE SoThua = 10" 2>/dev/null
for e in shp shx dbf; do mv "$T/edit.$e" "$T/thuadat-to03.$e"; done
run ct-ingest -q --json --sdi "$sdi" cadastral "$T/thuadat-to03.shp"
v2=$(jq .version "$T/out")
is "$v2" "$((v1 + 1))" "a changed source becomes a new version"
is "$(jq .changed "$T/out")" 1 "one parcel changed"
is "$(jq .removed "$T/out")" 1 "one parcel removed"
is "$(q "SELECT count(*) FROM parcels_current")" "$((before - 1))" "current parcels: one fewer"
is "$(q "SELECT op || ':' || fkey FROM sdi_change WHERE version = $v2 ORDER BY fkey" | paste -sd' ')" \
   "change:3/10 remove:3/20" "the change log names both, with their boxes"
[ "$(q "SELECT count(*) FROM sdi_change WHERE version = $v2 AND minx < maxx AND miny < maxy")" = 2 ]
ok $? "change-log boxes are real rectangles"
is "$(q "SELECT landuse FROM parcels_current WHERE fkey = '3/10'")" "TMD" "parcel 3/10 is now TMD"

run ct-sdi --sdi "$sdi" --json history --key 3/10
is "$(jq -r '[.history[] | "\(.v_from)-\(.v_to // "now"):\(.landuse)"] | join(" ")' "$T/out")" \
   "$v1-$v2:$(q "SELECT landuse FROM parcels WHERE fkey='3/10' AND v_to IS NOT NULL") $v2-now:TMD" \
   "history keeps the earlier version of the parcel"
run ct-sdi --sdi "$sdi" --json history --key 3/10
jq -e '.history[0] | has("owner") | not' "$T/out" >/dev/null
ok $? "history leaves the owner out"

run ct-sdi --sdi "$sdi" undo "$v1"
is $rc 1 "undoing a version whose features changed later is refused"
like "$T/err" "cannot undo version $v1: parcels feature '3/.*' was changed again later" "naming a feature"
run ct-sdi --sdi "$sdi" --json undo "$v2"
ok $rc "undo of the latest version"
is "$(q "SELECT count(*) FROM parcels_current")" "$before" "every parcel back"
is "$(q "SELECT landuse FROM parcels_current WHERE fkey = '3/10'")" "$(q "SELECT landuse FROM parcels WHERE fkey='3/10' AND v_from = $v1")" \
   "3/10 has its land use back"
is "$(q "SELECT undone_by FROM sdi_version WHERE version = $v2")" "$(jq .version "$T/out")" "the version log links the undo"

# export: GeoPackage by extension, owner left out unless named
run ct-sdi --sdi "$sdi" export parcels "$T/p.gpkg"
ok $rc "export to GeoPackage"
is "$(ogrinfo -ro -so "$T/p.gpkg" parcels | sed -n 's/^Feature Count: //p')" "$before" "every current parcel exported"
ogrinfo -ro -so "$T/p.gpkg" parcels >"$T/schema"
! grep -qi '^owner' "$T/schema"; ok $? "the restricted owner field is left out"
run ct-sdi --sdi "$sdi" --include owner export parcels "$T/o.geojson"
is "$(jq -r '[.features[].properties.owner | select(. != null)] | length' "$T/o.geojson")" "$before" \
   "--include owner writes it, UTF-8"
run ct-sdi --sdi "$sdi" --include address export parcels "$T/x.geojson"
is $rc 2 "--include of a field that is not restricted: usage error"
run ct-info --json "$sdi"
is "$(jq -r '.sdi.version' "$T/out")" "$(q "SELECT max(version) FROM sdi_version")" "ct-info names the SDI's version"
is "$(jq -r '.sdi.parcels_current' "$T/out")" "$before" "and its current parcels"
exit $_failed
