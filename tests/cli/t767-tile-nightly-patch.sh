#!/usr/bin/env bash
# Nightly MVT runs patch their dirty tiles: the old tile's unchanged features keep their encoded
# geometry and tags, the changed ones and their neighbours are encoded again. Two sample sheets
# are ingested and tiled (zooms 14-18) into PMTiles, MBTiles and a folder; then sheet 3 is
# ingested again four times — one parcel's land use changed (attributes only), one parcel moved
# 12 m, one parcel deleted, one new parcel — and after each the nightly result must equal a
# --full run byte for byte (cmp of the archives; for the folder, tile for tile), with the dirty
# tiles made by patching (tiles_patched) from a few features read, not the whole sheet.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to03.shp" ] || skip_all "no sample data (make samples)"
command -v ogr2ogr >/dev/null || skip_all "ogr2ogr (gdal-bin) not installed"
plan 18

sdi="$T/city.sqlite"
export CT_SDI="$sdi"
ct-sdi -q init >/dev/null
cp "$S"/cadastral/thuadat-to02.* "$S"/cadastral/thuadat-to03.* "$T/"
ct-ingest -q cadastral "$T/thuadat-to02.shp" "$T/thuadat-to03.shp" >/dev/null 2>&1
total=$(sqlite3 "$sdi" "SELECT count(*) FROM parcels_current")
for o in p.pmtiles p.mbtiles p; do ct-tile -q -z 14-18 --name p sdi:parcels "$T/$o"; done

# edit SQL: applies one change to sheet 3 and ingests it again
edit() {
    rm -rf "$T/ed" && mkdir -p "$T/ed"
    ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$T/ed/thuadat-to03.shp" "$T/thuadat-to03.shp" -oo ENCODING= \
        -dialect SQLite -sql "$1" -nln thuadat-to03 2>/dev/null
    for e in shp shx dbf prj; do [ -f "$T/ed/thuadat-to03.$e" ] && cp "$T/ed/thuadat-to03.$e" "$T/thuadat-to03.$e"; done
    ct-ingest -q cadastral "$T/thuadat-to03.shp" >/dev/null 2>&1
}
# check WHAT: the nightly run of each sink against a --full run
check() {
    run ct-tile -q --json --name p sdi:parcels "$T/p.pmtiles"
    local made patched feats
    read -r made patched feats < <(jq -r '"\(.tiles_made) \(.tiles_patched) \(.features)"' "$T/out")
    ct-tile -q --full -z 14-18 --name p sdi:parcels "$T/f.pmtiles"
    cmp -s "$T/f.pmtiles" "$T/p.pmtiles"; ok $? "$1: the nightly PMTiles archive is byte-identical to a --full run's"
    [ "$made" -gt 0 ] && [ "$patched" = "$made" ] && [ "$feats" -lt $((total / 4)) ]
    ok $? "$1: $made tiles made, all by patching, from $feats of $total features read"
    run ct-tile -q --name p sdi:parcels "$T/p.mbtiles"
    ct-tile -q --full -z 14-18 --name p sdi:parcels "$T/f.mbtiles"
    [ "$(sqlite3 "$T/f.mbtiles" "SELECT zoom_level, tile_column, tile_row, hex(tile_data) FROM tiles ORDER BY 1, 2, 3" | md5sum)" = \
      "$(sqlite3 "$T/p.mbtiles" "SELECT zoom_level, tile_column, tile_row, hex(tile_data) FROM tiles ORDER BY 1, 2, 3" | md5sum)" ]
    ok $? "$1: MBTiles, every tile the same as a --full run's"
    run ct-tile -q --name p sdi:parcels "$T/p"
    rm -rf "$T/f" && ct-tile -q --full -z 14-18 --name p sdi:parcels "$T/f"
    diff -r -x metadata.json "$T/f" "$T/p" >/dev/null; ok $? "$1: folder, tile for tile the same as a --full run's"
    rm -f "$T/f.pmtiles" "$T/f.mbtiles"
}

# ogr2ogr's copy of the sheet, the base of the edits below, changes many of its parcels
edit "SELECT * FROM \"thuadat-to03\""
n=$(sqlite3 "$sdi" "SELECT count(*) FROM sdi_change WHERE version = (SELECT max(version) FROM sdi_version)")
for o in p.pmtiles p.mbtiles p; do ct-tile -q --name p sdi:parcels "$T/$o"; done
ct-tile -q --full -z 14-18 --name p sdi:parcels "$T/f.pmtiles"
cmp -s "$T/f.pmtiles" "$T/p.pmtiles"; ok $? "the sheet rewritten ($n changes): the nightly archive equals a --full run's"

cols="SoTo, SoThua, DienTich, MucDich, TenChu, DiaChi, MaXa"
edit "SELECT SoTo, SoThua, DienTich, CASE WHEN SoThua = 10 THEN 'TMD' ELSE MucDich END AS MucDich, TenChu, DiaChi, MaXa, geometry FROM \"thuadat-to03\""
is "$(sqlite3 "$sdi" "SELECT group_concat(op || ':' || fkey) FROM sdi_change WHERE version = (SELECT max(version) FROM sdi_version)")" \
   "change:3/10" "attributes only: one change in the log"
check "attributes only"

edit "SELECT $cols, CASE WHEN SoThua = 20 THEN ST_Translate(geometry, 12, 0, 0) ELSE geometry END AS geometry FROM \"thuadat-to03\""
check "moved parcel"

edit "SELECT * FROM \"thuadat-to03\" WHERE SoThua <> 30"
check "deleted parcel"

edit "SELECT $cols, geometry FROM \"thuadat-to03\" UNION ALL SELECT SoTo, 9001, DienTich, MucDich, TenChu, DiaChi, MaXa, ST_Translate(geometry, 1200, 0, 0) FROM \"thuadat-to03\" WHERE SoThua = 40"
check "new parcel"
exit $_failed
