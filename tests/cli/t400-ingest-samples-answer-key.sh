#!/usr/bin/env bash
# ct-ingest on every sample dataset, checked against data-samples/answer-key.json: each planted
# defect found and handled, Vietnamese text decoded exactly, coordinates within 1 cm of an
# independent transformation with the official parameters, areas within 0.01 m².
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
KEY="$S/answer-key.json"
[ -f "$KEY" ] || skip_all "no data-samples/answer-key.json (make samples)"
sdi_setup
if sdi_pg; then plan 25; else plan 28; fi

sdi=$(sdi_new city)
q() { sdi_q "$sdi" "$1"; }

run ct-sdi --sdi "$sdi" init
ok $rc "ct-sdi init"
run ct-ingest -q --json --srs vn2000:105 --sdi "$sdi" cadastral "$S"/cadastral/*.shp "$S"/cadastral/*.dgn "$S"/cadastral/*.geojson
is $rc 3 "cadastral sheets: exit 3, features were rejected"
cp "$T/out" "$T/cadastral.json"

# SpatiaLite: the R*Tree of a first load, packed by ctgis (three levels here), passes SQLite's own
# check and holds each parcel's box exactly as SQLite's row-by-row inserts store it (a reference
# R*Tree filled from the change log's boxes)
if ! sdi_pg; then
    is "$(q "SELECT hex(substr(data, 1, 2)) FROM idx_parcels_geom_node WHERE nodeno = 1")" 0002 "the packed R*Tree has three levels"
    is "$(q "SELECT rtreecheck('idx_parcels_geom')")" ok "the packed R*Tree passes SQLite's rtreecheck"
    n=$(q "SELECT count(*) FROM parcels WHERE geom IS NOT NULL")
    is "$(q "CREATE VIRTUAL TABLE temp.ref USING rtree(id, x0, x1, y0, y1);
             INSERT INTO ref SELECT p.fid, c.minx, c.maxx, c.miny, c.maxy FROM sdi_change c
                 JOIN parcels p ON p.fkey = c.fkey AND p.v_from = c.version WHERE c.layer = 'parcels';
             SELECT (SELECT count(*) FROM ref), (SELECT count(*) FROM idx_parcels_geom),
                    (SELECT count(*) FROM (SELECT * FROM ref EXCEPT SELECT * FROM idx_parcels_geom))")" "$n|$n|0" \
       "the packed R*Tree holds the $n parcels' boxes as SQLite stores them"
fi

# every planted defect, found where the key says
jq -c '.cadastral.files[] | .sheet as $s | .file as $f | (.defects // [])[] | . + {sheet: $s, file: $f}' "$KEY" >"$T/defects"
missing=0
while read -r d; do
    kind=$(jq -r .kind <<<"$d") sheet=$(jq -r .sheet <<<"$d") no=$(jq -r .SoThua <<<"$d")
    src=$(basename "$(jq -r .file <<<"$d")")
    case $kind in
    self_intersection) n=$(q "SELECT count(*) FROM sdi_report WHERE kind='repaired' AND fkey='$sheet/$no'") ;;
    overlap) a=$(jq .overlap_area_m2 <<<"$d") nb=$(jq -r .neighbour_SoThua <<<"$d")
        n=$(q "SELECT count(*) FROM sdi_report WHERE kind='overlap' AND fkey IN ('$sheet/$no','$sheet/$nb') AND abs(value - $a) < 0.01 * $a") ;;
    gap) a=$(jq .gap_area_m2 <<<"$d")
        n=$(q "SELECT count(*) FROM sdi_report WHERE kind='gap' AND fkey LIKE '$sheet/gap@%' AND abs(value - $a) < 0.01 * $a") ;;
    duplicate_number) n=$(q "SELECT count(*) FROM sdi_report WHERE kind='duplicate_number' AND fkey='$sheet/$no#2'") ;;
    area_mismatch) n=$(q "SELECT count(*) FROM sdi_report WHERE kind='area_mismatch' AND fkey='$sheet/$no'") ;;
    pre2024_code) c=$(jq -r .MucDich <<<"$d")
        n=$(q "SELECT count(*) FROM parcels_current WHERE fkey='$sheet/$no' AND landuse='HNK' AND landuse_src='$c'") ;;
    empty_geometry) n=$(q "SELECT count(*) FROM sdi_reject WHERE source='$src' AND reason='empty geometry'") ;;
    outside_city) n=$(q "SELECT count(*) FROM sdi_reject WHERE source='$src' AND reason='outside the city area'") ;;
    sliver) n=$(q "SELECT count(*) FROM sdi_reject WHERE source='$src' AND reason LIKE 'sliver:%'") ;;
    missing_boundary_line) o=$(jq -r .other_SoThua <<<"$d")
        n=$(q "SELECT count(*) FROM sdi_reject WHERE source='$src' AND reason LIKE 'two parcel numbers%' AND reason LIKE '%$no%' AND reason LIKE '%$o%'") ;;
    *) n=0 ;;
    esac
    [ "${n:-0}" -ge 1 ] || { echo "# not found: $d"; missing=$((missing + 1)); }
done <"$T/defects"
is "$missing" 0 "all $(wc -l <"$T/defects") planted defects found and handled"
is "$(jq '.rejected' "$T/cadastral.json")" \
   "$(jq '[.cadastral.defect_totals | .empty_geometry, .outside_city, .sliver, .missing_boundary_line] | add' "$KEY")" \
   "rejected: the empty geometry, the parcel outside the city, the slivers, the merged DGN face"
is "$(jq '.findings.repaired' "$T/cadastral.json")" "$(jq '.cadastral.defect_totals.self_intersection' "$KEY")" \
   "every self-intersecting ring repaired, no other"
is "$(jq '.findings.duplicate_number' "$T/cadastral.json")" "$(jq '.cadastral.defect_totals.duplicate_number' "$KEY")" \
   "every duplicate number reported, no other"
is "$(jq '.findings.code_mapped' "$T/cadastral.json")" "$(jq '.cadastral.defect_totals.pre2024_code' "$KEY")" \
   "every BHK/NHK mapped to HNK, no other code"
is "$(jq '.findings.overlap' "$T/cadastral.json")" "$(jq '.cadastral.defect_totals.overlap' "$KEY")" "overlaps: no false alarm"
is "$(jq '.findings.gap' "$T/cadastral.json")" "$(jq '.cadastral.defect_totals.gap' "$KEY")" "gaps: no false alarm"

# land-use counts per file: the key's, less the features rejected (their code is in sdi_reject)
bad=0
for f in $(jq -r '.cadastral.files[] | select(.format != "DGN") | .file' "$KEY"); do
    src=$(basename "$f")
    for code in $(jq -r --arg f "$f" '.cadastral.files[] | select(.file == $f) | .landuse_counts | keys[]' "$KEY"); do
        want=$(jq --arg f "$f" --arg c "$code" '.cadastral.files[] | select(.file == $f) | .landuse_counts[$c]' "$KEY")
        got=$(q "SELECT count(*) FROM parcels_current WHERE source='$src' AND landuse_src='$code'")
        rej=$(q "SELECT count(*) FROM sdi_reject WHERE source='$src' AND $(sdi_json_get attributes MucDich)='$code'")
        [ "$((got + rej))" = "$want" ] || { echo "# $src $code: $got loaded + $rej rejected, key $want"; bad=1; }
    done
done
is $bad 0 "parcels per land-use code, per file, as the key counts them"

# Vietnamese text decoded exactly, from TCVN3, VNI and UTF-8 sheets
bad=0 n=0
while read -r s; do
    sheet=$(jq -r .sheet <<<"$s") no=$(jq -r .SoThua <<<"$s")
    want="$(jq -r '.TenChu + "|" + .DiaChi' <<<"$s")"
    got="$(q "SELECT owner || '|' || address FROM parcels_current WHERE fkey='$sheet/$no'")"
    n=$((n + 1))
    [ "$got" = "$want" ] || { echo "# $sheet/$no: got '$got', want '$want'"; bad=1; }
done < <(jq -c '.cadastral.files[] | select(.format != "DGN") | .sheet as $s | (.sample_strings // [])[] | . + {sheet: $s}' "$KEY")
is $bad 0 "owner names and addresses decoded exactly ($n sample parcels, TCVN3/VNI/UTF-8)"
[ "$n" -ge 6 ]; ok $? "samples from at least two sheets"

# coordinates: the first vertex of a GeoJSON (EPSG:4326) parcel against cs2cs with the official
# towgs84 in the inverse direction
official='+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84
 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +units=m'
gj="$S/cadastral/thuadat-to08-wgs84.geojson"
read -r no lon lat < <(jq -r '.features[10] | "\(.properties.SoThua) \(.geometry.coordinates[0][0][0]) \(.geometry.coordinates[0][0][1])"' "$gj" 2>/dev/null ||
                       jq -r '.features[10] | "\(.properties.SoThua) \(.geometry.coordinates[0][0][0][0]) \(.geometry.coordinates[0][0][0][1])"' "$gj")
read -r e n _ < <(echo "$lon $lat" | cs2cs -f %.4f +proj=longlat +datum=WGS84 +to $official)
xy=$(sdi_gq "$sdi" "SELECT ST_X(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)) AS x, ST_Y(ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1)) AS y FROM parcels_current WHERE fkey = '8/$no'" | tr '\n' ' ')
near "$(echo "$xy" | awk '{print $1}')" "$e" 0.01 "GeoJSON vertex easting within 1 cm of the official transformation"
near "$(echo "$xy" | awk '{print $2}')" "$n" 0.01 "GeoJSON vertex northing within 1 cm"

# areas: drawn area of sheet 1 parcels against OGR's own on the source file
want=$(ogrinfo -ro -q "$S/cadastral/thuadat-to01.shp" -dialect SQLite -sql \
       "SELECT SoThua, ST_Area(geometry) AS a FROM \"thuadat-to01\" WHERE SoThua IN (10, 500, 1000)" |
       sed -n 's/^  a (Real) = //p' | tr '\n' ' ')
got=$(q "SELECT drawn_area FROM parcels_current WHERE fkey IN ('1/10', '1/500', '1/1000') ORDER BY CAST(parcel_no AS INTEGER)" | tr '\n' ' ')
set -- $want
for g in $got; do near "$g" "$1" 0.01 "drawn area within 0.01 m² of OGR's ($g)"; shift; done

# the other kinds
run ct-ingest -q --sdi "$sdi" planning "$S/planning/quy-hoach-phan-khu.shp"
ok $rc "planning zones load"
is "$(q "SELECT count(*) FROM planning_zones_current")" "$(jq '.planning.feature_count' "$KEY")" "every planning zone"
run ct-ingest -q --sdi "$sdi" dikes "$S/dikes/dikes.shp"
is "$(q "SELECT count(*) FROM dikes_current")" "$(jq '.dikes.feature_count' "$KEY")" "every dike stretch"
run ct-ingest -q --sdi "$sdi" --valid-to 2025-07-01 admin "$S/admin/wards-2024.shp"
run ct-ingest -q --sdi "$sdi" --valid-from 2025-07-01 admin "$S/admin/wards-2025.shp" "$S/admin/ward-crosswalk.csv"
is "$(q "SELECT count(*) FROM admin_units_current WHERE valid_to = '2025-07-01'")" "$(jq '.admin.wards_2024_count' "$KEY")" \
   "wards before the reform, valid until 1 July 2025"
is "$(q "SELECT name FROM admin_units_current WHERE code = '31120' AND valid_to IS NOT NULL")" "Phường An Hòa" "ward names decoded"
is "$(q "SELECT count(*) FROM admin_crosswalk WHERE v_to IS NULL")" "$(jq '.admin.crosswalk_rows' "$KEY")" "crosswalk rows"
run ct-ingest -q --sdi "$sdi" dem "$S/dem/dem-5m.tif"
ok $rc "DEM stored as a COG in the SDI"
gdalinfo "$(sdi_rasters "$sdi")/dem.v$(q "SELECT max(version) FROM sdi_raster WHERE name='dem'").tif" >"$T/gi"
like "$T/gi" 'LAYOUT=COG' "the stored DEM is a Cloud-Optimized GeoTIFF"
exit $_failed
