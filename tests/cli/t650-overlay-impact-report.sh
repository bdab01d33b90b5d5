#!/usr/bin/env bash
# ct-overlay impact on a 4 x 2 depth grid (10 m cells) with four parcels and two ward layers that
# cut the city differently: parcels by class of their maximum depth, land uses (old codes mapped),
# deep parcels deepest first, ward totals that agree between the two layers and with the raster,
# land use per ward (parcels cut at ward boundaries) adding up to each ward's flooded area, the
# planning zones, the Markdown summary and the PNG charts; no owner names; a failed run keeps the
# old report.
. "$(dirname "$0")/lib.sh"
plan 27

cat >"$T/d.asc" <<'ASC'
ncols 4
nrows 2
xllcorner 586000
yllcorner 1109000
cellsize 10
NODATA_value -9999
0 0.1 0.3 0.7
1.5 0 -9999 2.5
ASC
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/d.asc" "$T/d.tif"
hdr='{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::5897"}},"features":['
box() { echo "{\"type\":\"Polygon\",\"coordinates\":[[[$1,$2],[$3,$2],[$3,$4],[$1,$4],[$1,$2]]]}"; }
cat >"$T/parcels.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"SoThua":1,"MucDich":"ODT","TenChu":"Nguyễn A"},"geometry":$(box 586000 1109010 586010 1109020)},
{"type":"Feature","properties":{"SoThua":2,"MucDich":"BHK","TenChu":"Trần B"},"geometry":$(box 586010 1109010 586030 1109020)},
{"type":"Feature","properties":{"SoThua":3,"MucDich":"LUC","TenChu":"Lê C"},"geometry":$(box 586030 1109000 586040 1109020)},
{"type":"Feature","properties":{"SoThua":4,"MucDich":"CLN","TenChu":"Phạm D"},"geometry":$(box 586000 1109000 586030 1109010)}
]}
JSON
cat >"$T/wards-a.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"TenPX":"Phường Tây"},"geometry":$(box 586000 1109000 586020 1109020)},
{"type":"Feature","properties":{"TenPX":"Phường Đông"},"geometry":$(box 586020 1109000 586040 1109020)}
]}
JSON
cat >"$T/wards-b.geojson" <<JSON
$hdr
{"type":"Feature","properties":{"TenPX":"Phường Bắc"},"geometry":$(box 586000 1109010 586040 1109020)},
{"type":"Feature","properties":{"TenPX":"Phường Nam"},"geometry":$(box 586000 1109000 586040 1109010)}
]}
JSON

# the north/south cut doubles as planning zones
sed 's/"TenPX"/"TenKhu"/' "$T/wards-b.geojson" >"$T/zones.geojson"
run ct-overlay impact --json -o "$T/rep" --wards "$T/wards-a.geojson" --wards "$T/wards-b.geojson" \
    --zones "$T/zones.geojson" "$T/d.tif" "$T/parcels.geojson"
ok $rc "exit 0"
is "$(ls "$T/rep" | tr '\n' ' ')" "chart-wards-wards_b.png chart-zones.png chart.png landuse-wards-wards_a.csv landuse-wards-wards_b.csv landuse.csv \
parcels-by-class.csv parcels-deep.csv summary.md wards-wards_a.csv wards-wards_a.geojson wards-wards_b.csv \
wards-wards_b.geojson zones.csv zones.geojson " "the report's files"
is "$(tail -n +2 "$T/rep/parcels-by-class.csv" | cut -d, -f1,2 | tr '\n' ' ')" "dry,1 0-0.2,0 0.2-0.5,1 0.5-1,0 >1,2 " \
   "parcels by the class of their maximum depth"
is "$(tail -n +2 "$T/rep/parcels-deep.csv" | cut -d, -f2,4,5 | tr '\n' ' ')" "3,LUC,2.5 4,CLN,1.5 " \
   "deep parcels (> 0.5 m), deepest first"
is "$(awk -F, '$1 == "HNK" { print $3, $4, $6 }' "$T/rep/landuse.csv")" "1 1 200" "BHK is reported as HNK: 1 parcel, flooded, 200 m²"
is "$(awk -F, '$1 == "ODT" { print $3, $4, $6 }' "$T/rep/landuse.csv")" "1 0 0" "ODT: 1 parcel, dry"
# columns: src_fid, TenPX, area, nodata_area, wet_area, wet_frac, then the four classes
wa=$(awk -F, 'NR > 1 { s += $5 } END { print s }' "$T/rep/wards-wards_a.csv")
wb=$(awk -F, 'NR > 1 { s += $5 } END { print s }' "$T/rep/wards-wards_b.csv")
is "$wa $wb" "500 500" "flooded area: west + east = north + south = the raster's 5 wet cells"
is "$(awk -F, '$2 == "Phường Đông" { print $3, $4, $5, $10 }' "$T/rep/wards-wards_a.csv")" "400 100 300 100" \
   "east ward: 400 m², 100 m² of nodata, 300 m² flooded, 100 m² deeper than 1 m"
# parcels by ward (the ward holding the parcel's centroid) and class of their maximum depth:
# the last seven columns are parcels, parcels_wet and the four classes
is "$(awk -F, 'NR > 1 { print $2 ":" $(NF - 5) "," $(NF - 4) "," $(NF - 3) "," $(NF - 2) "," $(NF - 1) "," $NF }' \
      "$T/rep/wards-wards_a.csv" | tr '\n' ' ')" "Phường Tây:2,1,0,0,0,1 Phường Đông:2,2,0,1,0,1 " \
   "parcels per ward and depth class (west/east)"
is "$(awk -F, 'NR > 1 { s += $(NF - 5) } END { print s }' "$T/rep/wards-wards_b.csv")" 4 \
   "north/south: every parcel in one ward"
is "$(jq -c '[.parcels, .parcels_flooded, .parcels_deeper_than_threshold, .wards[0].wet_area, .wards[1].wet_area, .zones.wet_area]' "$T/out")" \
   "[4,3,2,500,500,500]" "JSON summary"
# land use per ward: parcels 2 (HNK) and 4 (CLN) cross the west/east boundary and are cut there;
# columns unit_fid, unit, code, name, parcels, parcels_flooded, area, wet_area, then the classes
is "$(awk -F, 'NR > 1 { printf "%s:%s:%s:%s ", $2, $3, $7, $8 }' "$T/rep/landuse-wards-wards_a.csv")" \
   "Phường Tây:CLN:200:100 Phường Tây:HNK:100:100 Phường Tây:ODT:100:0 Phường Tây:-:0:0 \
Phường Đông:CLN:100:0 Phường Đông:HNK:100:100 Phường Đông:LUC:200:200 Phường Đông:-:0:0 " \
   "land use per west/east ward: areas and flooded areas of the parcel parts, nothing outside parcels"
# the parcel parts of every ward add up, code by code, to the flooded area of the uncut parcels
# (landuse.csv), for both cuts; the rows of the rest outside parcels are left out
awk -F, 'NR > 1 && $6 > 0 { print $1, $6 }' "$T/rep/landuse.csv" | sort >"$T/lu-all"
for l in a b; do
    awk -F, 'NR > 1 && $3 != "-" { s[$3] += $8 } END { for (k in s) if (s[k] > 0) print k, s[k] }' \
        "$T/rep/landuse-wards-wards_$l.csv" | sort >"$T/lu-$l"
done
[ -s "$T/lu-all" ] && cmp -s "$T/lu-all" "$T/lu-a" && cmp -s "$T/lu-all" "$T/lu-b"
ok $? "land use per ward adds up to the land use of the uncut parcels ($(tr '\n' ' ' <"$T/lu-all"))"
# planning zones: north has the 0.1, 0.3 and 0.7 m cells wet (300 m²), south 1.5 and 2.5 (200 m²); parcels:
# 1, 2 north, 4 south, and 3, whose centroid lies on the line, in exactly one (north)
is "$(awk -F, 'NR > 1 { print $2 ":" $5 ":" $(NF - 5) }' "$T/rep/zones.csv" | tr '\n' ' ')" "Phường Bắc:300:3 Phường Nam:200:1 " \
   "per planning zone: flooded area and parcels"
is "$(jq -r '[.features[] | .properties.wet_area] | add' "$T/rep/zones.geojson")" 500 "zones.geojson: the same rows with geometry"
like "$T/rep/summary.md" '^## Planning zones' "the summary has the planning zones"
is "$(sed -n 's/^Files: //p' "$T/rep/summary.md" | grep -o '`[^`]*`' | tr -d '`' | tr '\n' ' ')" \
   "$(ls "$T/rep" | grep -v summary.md | tr '\n' ' ')" "the summary lists the files written, no more"
like "$T/rep/summary.md" '^\| Phường Đông \| LUC \| .* \| 0\.02 \|' "and the land uses of the most flooded wards"
like "$T/rep/summary.md" '^- \*\*3 parcels flooded\*\* of 4' "the summary counts flooded parcels"
like "$T/rep/summary.md" '^\| Phường Đông \| 0\.03 \| 100\.0 % \|' "the summary's ward table: most flooded first, in hectares"
is "$(head -c 8 "$T/rep/chart.png" | od -An -tx1 | tr -d ' \n')" "89504e470d0a1a0a" "chart.png is a PNG"
! grep -rq "Nguyễn\|TenChu" "$T/rep"; ok $? "no owner name in any file of the report"

# a run that fails (the parcels do not overlap the raster) leaves the old report as it was
sed 's/58600/59600/g; s/58601/59601/g; s/58602/59602/g; s/58603/59603/g; s/58604/59604/g' "$T/parcels.geojson" >"$T/far.geojson"
cp "$T/rep/summary.md" "$T/old.md"
run ct-overlay impact -o "$T/rep" "$T/d.tif" "$T/far.geojson"
is "$rc" 1 "no overlap: exit 1"
cmp -s "$T/rep/summary.md" "$T/old.md"; ok $? "the previous report is untouched"
run ct-overlay impact "$T/d.tif" "$T/parcels.geojson"
is "$rc" 2 "impact without -o is a usage error"
# two ward layers of one name: the second gets its own files, nothing is overwritten
mkdir -p "$T/y24" "$T/y25"
cp "$T/wards-a.geojson" "$T/y24/phuong.geojson"
cp "$T/wards-b.geojson" "$T/y25/phuong.geojson"
run ct-overlay impact -o "$T/two" --wards "$T/y24/phuong.geojson" --wards "$T/y25/phuong.geojson" "$T/d.tif" "$T/parcels.geojson"
cmp -s "$T/two/wards-phuong.csv" "$T/rep/wards-wards_a.csv" && cmp -s "$T/two/wards-phuong-2.csv" "$T/rep/wards-wards_b.csv"
ok $? "two ward layers named phuong: wards-phuong.csv and wards-phuong-2.csv, each its own"
# parcel 5 lies over parcel 3 (the 0.7 m cell, 100 m2 flooded): the east ward's rest row is -100
# and a warning names the ward
sed 's/^]}$/,{"type":"Feature","properties":{"SoThua":5,"MucDich":"LUC"},"geometry":'"$(box 586030 1109010 586040 1109020)"'}\n]}/' \
    "$T/parcels.geojson" >"$T/overlap.geojson"
run ct-overlay impact -o "$T/ov" --wards "$T/wards-a.geojson" "$T/d.tif" "$T/overlap.geojson"
is "$(awk -F, '$3 == "-" { printf "%s:%s ", $2, $8 }' "$T/ov/landuse-wards-wards_a.csv")|$(grep -c 'Phường Đông: parcels overlap there.*by 100.00 m2' "$T/err")" \
   "Phường Tây:0 Phường Đông:-100 |1" "overlapping parcels: the rest row is negative and a warning names the ward"
exit $_failed
