#!/usr/bin/env bash
# ct-tile on a vector layer (1600 parcels in VN-2000 / TM-3 105-00, GeoPackage): Mapbox Vector
# Tiles decoded by GDAL's MVT driver from MBTiles, a folder and compared with the source: every
# parcel present at zoom 17 with its attributes (Vietnamese text intact), its area (pieces of
# neighbouring tiles dissolved) equal to the source's in EPSG:3857 within 0.5 %; the metadata
# json lists vector_layers; a layer without CRS is refused; PMTiles header says MVT + gzip.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo' 2>/dev/null || skip_all "python3-gdal (osgeo) not installed"
plan 15
$py - "$T/parcels.gpkg" <<'PY'
import sys
from osgeo import ogr, osr
srs = osr.SpatialReference(); srs.ImportFromEPSG(5897)
ds = ogr.GetDriverByName('GPKG').CreateDataSource(sys.argv[1])
l = ds.CreateLayer('parcels', srs, ogr.wkbPolygon)
for n, t in (('SoThua', ogr.OFTInteger), ('MDSD', ogr.OFTString), ('DienTich', ogr.OFTReal), ('Ten', ogr.OFTString),
             ('TenChu', ogr.OFTString)):
    l.CreateField(ogr.FieldDefn(n, t))
codes = ['ODT', 'LUC', 'CLN', 'DGT', 'SON']
n = 0
for i in range(40):
    for j in range(40):
        x0, y0 = 585000 + i * 25, 1109000 + j * 20
        f = ogr.Feature(l.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt(
            f'POLYGON(({x0} {y0},{x0+25} {y0},{x0+25} {y0+20},{x0} {y0+20},{x0} {y0}))'))
        f.SetField('SoThua', n); f.SetField('MDSD', codes[(i * 7 + j) % 5]); f.SetField('DienTich', 500.0)
        f.SetField('Ten', 'Phường Tân An'); f.SetField('TenChu', 'Nguyễn Văn A'); l.CreateFeature(f); n += 1
PY
run ct-tile --json -z 12-17 "$T/parcels.gpkg" "$T/p.mbtiles"
ok $rc "MVT into MBTiles"
is "$(jq -r '[.format, .features, .features_dropped] | join(" ")' "$T/out")" "pbf 1600 0" "1600 features read, none dropped"
like <(ogrinfo -ro -so "$T/p.mbtiles" 2>&1) '1: parcels' "GDAL's MVT driver lists the layer"
sqlite3 "$T/p.mbtiles" "select value from metadata where name='json'" >"$T/json"
is "$(jq -r '.vector_layers[0] | [.id, .fields.MDSD, .fields.SoThua, .minzoom, .maxzoom] | join(" ")' "$T/json")" \
   "parcels String Number 12 17" "metadata json: vector_layers with fields and zooms"

# decoded at zoom 17, pieces dissolved per parcel, against the source in EPSG:3857
ogr2ogr -f CSV "$T/dec.csv" "$T/p.mbtiles" -oo ZOOM_LEVEL=17 -dialect sqlite \
    -sql "select SoThua, MDSD, Ten, st_area(st_union(geometry)) as a from parcels group by SoThua order by SoThua" 2>/dev/null
ogr2ogr -f GeoJSON "$T/src.geojson" "$T/parcels.gpkg" -t_srs EPSG:3857
ogr2ogr -f CSV "$T/src.csv" "$T/src.geojson" -dialect sqlite \
    -sql "select SoThua, MDSD, Ten, st_area(geometry) as a from parcels order by SoThua" 2>/dev/null
is "$(tail -n +2 "$T/dec.csv" | wc -l)" "1600" "all 1600 parcels decoded at zoom 17"
is "$(tr -d '"' <"$T/dec.csv" | cut -d, -f1-3 | md5sum)" "$(tr -d '"' <"$T/src.csv" | cut -d, -f1-3 | md5sum)" \
   "SoThua, MDSD and Ten (UTF-8 'Phường Tân An') equal the source"
worst=$(paste -d, "$T/dec.csv" "$T/src.csv" | tr -d '"' | tail -n +2 | \
    awk -F, '{ d = ($4 - $8) / $8; if (d < 0) d = -d; if (d > w) w = d } END { printf "%.5f", w }')
near "$worst" 0 0.005 "areas within 0.5 % of the source (worst $worst)"
# zoom 12: a 25 m × 20 m parcel is ~10 × 8 grid units of a zoom-12 tile (9.5 m tiles / 4096 = 2.4 m)
ogr2ogr -f CSV "$T/z12.csv" "$T/p.mbtiles" -oo ZOOM_LEVEL=12 -dialect sqlite \
    -sql "select count(distinct SoThua) as n from parcels" 2>/dev/null
is "$(tail -1 "$T/z12.csv" | tr -d '"')" "1600" "zoom 12: every parcel still drawn"

run ct-tile -q -z 17 "$T/parcels.gpkg" "$T/dir"
ok $rc "MVT into a folder"
[ -f "$T/dir/metadata.json" ] && [ -n "$(find "$T/dir/17" -name '*.pbf' | head -1)" ]
ok $? "{z}/{x}/{y}.pbf and metadata.json"
like <(ogrinfo -ro -so "$T/dir/17" 2>&1) 'using driver .MVT' "GDAL reads the folder's tiles"

# personal data: the owner field stays out unless named
is "$(jq -r '.vector_layers[0].fields | has("TenChu")' "$T/json")" "false" "owner field TenChu not in the tiles' schema"
ogrinfo -ro -al -oo ZOOM_LEVEL=17 "$T/p.mbtiles" 2>/dev/null | grep -c "Nguyễn" >"$T/n" || true
is "$(cat "$T/n")" "0" "no owner name in any tile"
run ct-tile -q -z 17 --field SoThua --field TenChu "$T/parcels.gpkg" "$T/named.mbtiles"
sqlite3 "$T/named.mbtiles" "select value from metadata where name='json'" >"$T/json2"
is "$(jq -r '.vector_layers[0].fields | keys | join(" ")' "$T/json2")" "SoThua TenChu" \
   "--field keeps exactly the named attributes, personal ones included when named"
run ct-tile -q -z 14-15 "$T/parcels.gpkg" "$T/p.pmtiles"
is "$(od -An -tu1 -j97 -N3 "$T/p.pmtiles" | tr -s ' ' | sed 's/^ //')" "2 2 1" \
   "PMTiles: gzip directories, gzip tiles, tile type MVT"
exit $_failed
