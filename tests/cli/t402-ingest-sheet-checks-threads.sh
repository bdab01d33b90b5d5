#!/usr/bin/env bash
# The overlap and gap checks of ct-ingest run on a worker thread, sheet by sheet as the source
# is read, and the features are read and checked on a thread of their own: the parcels, rejects,
# change log and findings are the same rows in the same order whatever --threads is, and a sheet
# that comes back later in a source (read in two stretches) is checked whole, as when it comes
# in one. A GeoPackage source, read through SQLite on the reading thread while the loading
# thread writes the SDI through SQLite, loads the same parcels as the shapefile it came from.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples/cadastral"
[ -f "$S/thuadat-to01.shp" ] || skip_all "no data-samples (make samples)"
plan 8

findings() { sqlite3 -batch "$1" "SELECT kind, fkey, printf('%.2f', value), detail FROM sdi_report ORDER BY rowid"; }
rows() { sqlite3 -batch "$1" "SELECT fid, fkey, digest, hex(geom) FROM parcels ORDER BY fid;
                              SELECT source_id, reason, attributes FROM sdi_reject ORDER BY rowid;
                              SELECT fkey, op, minx, miny, maxx, maxy FROM sdi_change ORDER BY rowid"; }
sorted_checks() { sqlite3 -batch "$1" "SELECT kind, fkey, printf('%.2f', value), detail FROM sdi_report
                                       WHERE kind IN ('overlap', 'gap') ORDER BY 1, 2, 3, 4"; }

# sheets 1 and 3 (both with planted overlaps and gaps): in order, and with sheet 1 in two
# stretches around sheet 3
ogr() { ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= -oo ENCODING= "$@" 2>/dev/null; }
ogr -nln inorder "$T/inorder.shp" "$S/thuadat-to01.shp"
ogr -append -nln inorder "$T/inorder.shp" "$S/thuadat-to03.shp"
ogr -nln split "$T/split.shp" "$S/thuadat-to01.shp" -where "FID < 900"
ogr -append -nln split "$T/split.shp" "$S/thuadat-to03.shp"
ogr -append -nln split "$T/split.shp" "$S/thuadat-to01.shp" -where "FID >= 900"
cp "$S/thuadat-to01.prj" "$T/inorder.prj"
cp "$S/thuadat-to01.prj" "$T/split.prj"

for t in 1 2; do
    ct-sdi -q --sdi "$T/t$t.sqlite" init
    ct-ingest -q --threads $t --sdi "$T/t$t.sqlite" cadastral "$T/inorder.shp"
done
findings "$T/t1.sqlite" >"$T/f1"
findings "$T/t2.sqlite" >"$T/f2"
ok "$(cmp -s "$T/f1" "$T/f2"; echo $?)" "--threads 1 and 2: the same findings in the same order"
rows "$T/t1.sqlite" >"$T/r1"
rows "$T/t2.sqlite" >"$T/r2"
ok "$(test -s "$T/r1" && cmp -s "$T/r1" "$T/r2"; echo $?)" "--threads 1 and 2: the same parcels, rejects and change log, in the same order"
is "$(grep -c '^overlap|' "$T/f1")" 2 "sheets 1 and 3: the 2 planted overlaps"
is "$(grep -c '^gap|' "$T/f1")" 1 "sheets 1 and 3: the planted gap"

ct-sdi -q --sdi "$T/split.sqlite" init
run ct-ingest -q --json --sdi "$T/split.sqlite" cadastral "$T/split.shp"
is $rc 3 "a sheet in two stretches: loaded (exit 3: sheet 3's empty geometry)"
sorted_checks "$T/t2.sqlite" >"$T/c-inorder"
sorted_checks "$T/split.sqlite" >"$T/c-split"
ok "$(cmp -s "$T/c-inorder" "$T/c-split"; echo $?)" "a sheet in two stretches: the same overlaps and gaps as in one"
is "$(sqlite3 "$T/split.sqlite" "SELECT count(*) FROM parcels_current")" \
   "$(sqlite3 "$T/t2.sqlite" "SELECT count(*) FROM parcels_current")" "a sheet in two stretches: the same parcels"

# the same sheets as a GeoPackage (its own SQLite connection, on the reading thread)
ogr2ogr -q -f GPKG -oo ENCODING= -nln parcels "$T/inorder.gpkg" "$T/inorder.shp" 2>/dev/null
ct-sdi -q --sdi "$T/g.sqlite" init
ct-ingest -q --threads 2 --encoding tcvn3 --sdi "$T/g.sqlite" cadastral "$T/inorder.gpkg"
# (not the digests: they hash the source's own text of each value, which differs by format)
parcels() { sqlite3 -batch "$1" "SELECT fkey, sheet, parcel_no, legal_area, landuse, landuse_src, owner, address,
                                        ward, drawn_area, hex(geom) FROM parcels_current ORDER BY fkey"; }
parcels "$T/t2.sqlite" >"$T/p-shp"
parcels "$T/g.sqlite" >"$T/p-gpkg"
ok "$(test -s "$T/p-shp" && cmp -s "$T/p-shp" "$T/p-gpkg"; echo $?)" "a GeoPackage source, two threads: the same parcels as its shapefile"
