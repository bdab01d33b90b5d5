#!/usr/bin/env bash
# ct-overlay conformance: parcels whose current land use (MucDich) conflicts with the planned use
# of the zones they overlap (MaQH), with the conflicting area; the rules of ct_landuse_compatible:
# equal codes conform, residential ODT/ONT conform to each other, commercial TMD to residential
# zones, transport DGT everywhere; old codes are mapped (BHK → HNK); unknown codes never conform.
. "$(dirname "$0")/lib.sh"
plan 12

hdr='{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":['
sq() { # sq X0 Y0 W H → a GeoJSON polygon ring
    echo "{\"type\":\"Polygon\",\"coordinates\":[[[$1,$2],[$(($1 + $3)),$2],[$(($1 + $3)),$(($2 + $4))],[$1,$(($2 + $4))],[$1,$2]]]}"
}
z=586000 y=1109000
# zones: ODT on x 0-100, LUC on x 100-200, CLN on x 200-300 (all y 0-100)
cat >"$T/zones.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"MaQH":"ODT"},"geometry":$(sq $z $y 100 100)},
{"type":"Feature","properties":{"MaQH":"LUC"},"geometry":$(sq $((z + 100)) $y 100 100)},
{"type":"Feature","properties":{"MaQH":"CLN"},"geometry":$(sq $((z + 200)) $y 100 100)}
]}
JSON
cat >"$T/parcels.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"SoThua":1,"MucDich":"ODT","TenChu":"Nguyễn A"},"geometry":$(sq $((z + 10)) $((y + 10)) 20 20)},
{"type":"Feature","properties":{"SoThua":2,"MucDich":"LUC","TenChu":"Trần B"},"geometry":$(sq $((z + 40)) $((y + 10)) 10 10)},
{"type":"Feature","properties":{"SoThua":3,"MucDich":"TMD","TenChu":"Lê C"},"geometry":$(sq $((z + 60)) $((y + 10)) 10 10)},
{"type":"Feature","properties":{"SoThua":4,"MucDich":"DGT","TenChu":"Phạm D"},"geometry":$(sq $((z + 210)) $((y + 10)) 50 5)},
{"type":"Feature","properties":{"SoThua":5,"MucDich":"ONT","TenChu":"Hoàng E"},"geometry":$(sq $((z + 90)) $((y + 50)) 20 10)},
{"type":"Feature","properties":{"SoThua":6,"MucDich":"BHK","TenChu":"Võ F"},"geometry":$(sq $((z + 220)) $((y + 50)) 10 10)},
{"type":"Feature","properties":{"SoThua":7,"MucDich":"XYZ","TenChu":"Đặng G"},"geometry":$(sq $((z + 120)) $((y + 50)) 10 10)},
{"type":"Feature","properties":{"SoThua":8,"MucDich":"LUC","TenChu":"Bùi H"},"geometry":$(sq $((z + 150)) $((y + 50)) 10 10)}
]}
JSON

run ct-overlay conformance --field SoThua "$T/parcels.geojson" "$T/zones.geojson"
ok $rc "exit 0"
is "$(head -1 "$T/out")" "src_fid,SoThua,use,planned,area,fraction" "CSV header"
rows() { awk -F, -v k="$1" 'NR > 1 && $2 == k { print $3, $4, $5, $6 }' "$T/out" | tr '\n' ';'; }
is "$(rows 1)" "" "ODT in an ODT zone conforms"
is "$(rows 2)" "LUC ODT 100 1;" "LUC in an ODT zone: 100 m², the whole parcel"
is "$(rows 3)" "" "TMD (commercial) in a residential zone conforms"
is "$(rows 4)" "" "DGT (transport) conforms anywhere"
is "$(rows 5)" "ONT LUC 100 0.5;" "ONT across ODT and LUC: only the half in LUC conflicts"
is "$(rows 6)" "BHK CLN 100 1;" "BHK (old code, now HNK) in a CLN zone conflicts"
is "$(rows 7)" "XYZ LUC 100 1;" "an unknown code conforms to nothing"
is "$(rows 8)" "" "LUC in a LUC zone conforms"
like "$T/err" "feature 6: land-use code 'XYZ' is not" "the unknown code is reported"

run ct-overlay conformance -q --json "$T/parcels.geojson" "$T/zones.geojson"
is "$(jq -c '[.conflicting_parcels, .unknown_codes, .conflict_area_by_planned_use]' "$T/out")" \
   '[4,1,{"CLN":100,"LUC":200,"ODT":100}]' "JSON summary: 4 parcels, areas by planned use"
exit $_failed
