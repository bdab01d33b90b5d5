#!/usr/bin/env bash
# The tools that read the SDI, on PostGIS: the same inputs loaded into a SpatiaLite SDI and a
# PostGIS SDI give the same flood depths (DEM and dikes from the SDI), the same registered
# rasters, the same zonal statistics table and the same vector tiles.
. "$(dirname "$0")/lib.sh"
CT_TEST_SDI=pg
sdi_setup
plan 12
D=$CT_TOP/data-samples
lite="$T/city.sqlite"
pg=$(sdi_new city)
for s in "$lite" "$pg"; do
    export CT_SDI=$s
    ct-sdi -q init >/dev/null
    ct-ingest -q cadastral "$D/cadastral/thuadat-to01.shp" >/dev/null 2>&1
    ct-ingest -q dikes "$D/dikes/dikes.shp" >/dev/null 2>&1
    ct-ingest -q dem "$D/dem/dem-5m.tif" >/dev/null 2>&1
done
export CT_SDI=
for s in lite pg; do
    sdi=$lite
    [ $s = pg ] && sdi=$pg
    run ct-flood -q bathtub --sdi "$sdi" --set sources=below --set source_below=0 --level 2.00 --run bd3 -o "$T/$s"
    ok $rc "bathtub from the $s SDI"
    ct-overlay zonal -q --sdi "$sdi" --table z1 sdi:bd3.depth-2.00 sdi:parcels >/dev/null 2>&1 &&
        ct-tile -q --sdi "$sdi" --threads 1 -z 15-16 --sink dir sdi:parcels "$T/tiles-$s" >/dev/null 2>&1
    ok $? "zonal statistics into a table and vector tiles from the $s SDI"
done
a=$(gdalinfo -checksum "$T/lite/depth-2.00.tif" | sed -n 's/.*Checksum=//p')
b=$(gdalinfo -checksum "$T/pg/depth-2.00.tif" | sed -n 's/.*Checksum=//p')
is "$b" "$a" "the same depths from the PostGIS SDI's DEM and dikes"
is "$(ct-sdi status --json --sdi "$pg" | jq -r '[.rasters[].name] | join(" ")')" \
    "$(ct-sdi status --json --sdi "$lite" | jq -r '[.rasters[].name] | join(" ")')" "the same rasters registered"
f=$(ct-sdi status --json --sdi "$pg" | jq -r '.rasters[] | select(.name == "bd3.depth-2.00") | .file')
cmp -s "$T/pg/depth-2.00.tif" "$(sdi_rasters "$pg")/$f"
ok $? "the PostGIS SDI's raster folder holds the run's depth raster"
q='SELECT count(*), CAST(round(sum(area)) AS INTEGER), CAST(round(sum(sum)) AS INTEGER) FROM z1'
want=$(sqlite3 "$lite" "$q")
[ "${want%%|*}" -gt 0 ] 2>/dev/null; ok $? "the SQLite SDI's zonal table has rows ($want)"
is "$(sdi_q "$pg" "$q")" "$want" "the zonal statistics table has the same rows and sums ($want)"
n_lite=$(find "$T/tiles-lite" -name '*.pbf' -o -name '*.mvt' | wc -l)
n_pg=$(find "$T/tiles-pg" -name '*.pbf' -o -name '*.mvt' | wc -l)
is "$n_pg" "$n_lite" "the same number of vector tiles ($n_lite)"
# decoded by GDAL's MVT driver: the same features, geometries and attributes (the MVT feature
# ids are the stores' row ids, which differ)
same=0
for f in $(cd "$T/tiles-lite" && find . -name '*.pbf' | sort); do
    a=$(ogrinfo -ro -al "$T/tiles-lite/$f" 2>&1 | grep -v "^INFO: Open\|mvt_id")
    b=$(ogrinfo -ro -al "$T/tiles-pg/$f" 2>&1 | grep -v "^INFO: Open\|mvt_id")
    [ "$a" = "$b" ] || { same=1; echo "# $f differs"; }
done
ok $same "and the same features in every tile, decoded by GDAL"
[ "$n_lite" -gt 0 ]
ok $? "tiles were made"
exit $_failed
