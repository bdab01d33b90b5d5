#!/usr/bin/env bash
# ct-ingest on bad input: corrupt, truncated or incomplete files, a wrong --srs, a field the
# mapping does not know, a process killed half-way. Each time the SDI is as it was before and
# the message names the file; a reader running beside an ingest sees the old or the new
# version, never a mix.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to01.shp" ] || skip_all "no sample data (make samples)"
sdi_setup
plan 32

sdi=$(sdi_new city)
q() { sdi_q "$sdi" "$1"; }
ct-sdi -q --sdi "$sdi" init >/dev/null
ct-ingest -q --sdi "$sdi" cadastral "$S/cadastral/thuadat-to03.shp" >/dev/null
state() { q "SELECT max(version), (SELECT count(*) FROM parcels), (SELECT count(*) FROM sdi_change) FROM sdi_version"; }
good=$(state)

# a truncated .shp (the index still promises every record)
cp "$S"/cadastral/thuadat-to01.* "$T/"
head -c 200000 "$S/cadastral/thuadat-to01.shp" >"$T/thuadat-to01.shp"
run ct-ingest --sdi "$sdi" cadastral "$T/thuadat-to01.shp"
is $rc 1 "truncated .shp: exit 1"
like "$T/err" "thuadat-to01" "truncated .shp: the message names the file"
is "$(state)" "$good" "truncated .shp: the SDI is as before"

# a missing .dbf
cp "$S"/cadastral/thuadat-to01.* "$T/"
rm "$T/thuadat-to01.dbf"
run ct-ingest --sdi "$sdi" cadastral "$T/thuadat-to01.shp"
is $rc 1 "missing .dbf: exit 1"
like "$T/err" "thuadat-to01" "missing .dbf: the message names the file"
is "$(state)" "$good" "missing .dbf: the SDI is as before"

# lines where the layer holds polygons (the dikes loaded as admin units)
run ct-ingest --sdi "$sdi" --ignore MaDe --ignore Ten --ignore CaoTrinh --ignore TrangThai --ignore ChieuDai admin "$S/dikes/dikes.shp"
is $rc 1 "lines into a polygon layer: exit 1"
like "$T/err" "dikes.shp: feature 0: .*LineString cannot go into admin_units" "lines into a polygon layer: the file and feature named"
is "$(state)" "$good" "lines into a polygon layer: the SDI is as before"

# not a GIS file at all
printf 'SoTo,SoThua\n' >"$T/memo.shp"
run ct-ingest --sdi "$sdi" cadastral "$T/memo.shp"
is $rc 1 "not a shapefile: exit 1"
like "$T/err" "memo.shp: not a vector dataset" "not a shapefile: named"

# the DGN sheet read with a wrong --srs lies nowhere near the city
run ct-ingest --sdi "$sdi" --srs EPSG:4326 cadastral "$S/cadastral/thuadat-to07-famis.dgn"
is $rc 1 "wrong --srs: exit 1"
like "$T/err" "thuadat-to07-famis.dgn: .*(no part of it lies in the city area|cannot be transformed).*is the CRS right" "wrong --srs: said so"
is "$(state)" "$good" "wrong --srs: the SDI is as before"
run ct-ingest --sdi "$sdi" cadastral "$S/cadastral/thuadat-to07-famis.dgn"
like "$T/err" "no CRS in the file; give it with --srs" "a DGN without --srs: asks for it"

# a field the mapping does not know
cp "$S"/cadastral/thuadat-to01.* "$T/"
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= -oo ENCODING= "$T/extra.shp" "$T/thuadat-to01.shp" \
    -dialect SQLite -sql "SELECT *, 'x' AS GhiChu FROM \"thuadat-to01\"" 2>/dev/null
cp "$T/thuadat-to01.prj" "$T/extra.prj"
run ct-ingest --sdi "$sdi" cadastral "$T/extra.shp"
is $rc 2 "unknown field: usage error"
like "$T/err" "extra.shp: field 'GhiChu' is not in the built-in mapping of parcels" "unknown field: named with its file"
is "$(state)" "$good" "unknown field: the SDI is as before"
run ct-ingest -q --sdi "$sdi" --ignore GhiChu cadastral "$T/extra.shp"
is $rc 3 "--ignore GhiChu: loads (exit 3, the empty geometry is rejected)"
printf 'sheet = SoTo\nparcel_no = SoThua\nlegal_area = DienTich\nlanduse = MucDich\n# owner left out\naddress = DiaChi\nward = MaXa\n' >"$T/map.txt"
run ct-ingest -q --sdi "$sdi" --mapping "$T/map.txt" --ignore TenChu --ignore GhiChu cadastral "$T/extra.shp"
is "$rc:$(q "SELECT count(owner) FROM parcels_current WHERE source = 'extra.shp'")" "3:0" \
   "a mapping file that leaves the owner out: reloaded without owners"
printf 'sheet = SoTo\nparcels = SoThua\n' >"$T/badmap.txt"
run ct-ingest --sdi "$sdi" --mapping "$T/badmap.txt" cadastral "$T/extra.shp"
like "$T/err" "badmap.txt:2: 'parcels' is not a column of parcels" "a bad mapping file: file and line named"

# a big source, killed half-way with SIGKILL, while a reader counts parcels
big="$T/big.shp"
for i in $(seq 1 8); do
    ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= -oo ENCODING= -append "$big" "$S/cadastral/thuadat-to06.shp" \
        -dialect SQLite -sql "SELECT geometry, SoTo + $((i * 100)) AS SoTo, SoThua, DienTich, MucDich, TenChu, DiaChi, MaXa FROM \"thuadat-to06\"" \
        -nln big 2>/dev/null
done
cp "$S/cadastral/thuadat-to06.prj" "$T/big.prj"
good=$(state)
old=$(q "SELECT count(*) FROM parcels_current")
ct-ingest --sdi "$sdi" cadastral "$big" >/dev/null 2>"$T/progress" &
pid=$!
# half-way by its progress lines (a fixed sleep outlasts a fast ingest)
for _ in $(seq 1 600); do grep -q ': 50%' "$T/progress" && break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is $? 137 "killed with SIGKILL half-way ($(tail -n 1 "$T/progress"))"
is "$(state)" "$good" "killed with SIGKILL half-way: the SDI is as before"
is "$(sdi_intact "$sdi")" "ok" "and intact"
ls "$T" | grep -q 'ingest-\|init-' && extra=1 || extra=0
is $extra 0 "no temporary files left beside it"

# a reader beside a whole ingest sees the old count or the new one
ct-ingest -q --sdi "$sdi" cadastral "$big" >/dev/null 2>&1 &
pid=$!
seen=""
while kill -0 $pid 2>/dev/null; do
    seen="$seen $(q "SELECT count(*) FROM parcels_current" 2>/dev/null)"
done
wait $pid
new=$(q "SELECT count(*) FROM parcels_current")
[ "$new" -gt "$old" ]; ok $? "the ingest beside the reader loaded ($old -> $new parcels)"
mixed=$(for c in $seen; do [ "$c" = "$old" ] || [ "$c" = "$new" ] || echo "$c"; done | head -3)
is "$mixed" "" "the reader saw only $old or $new ($(echo $seen | wc -w) reads)"

# a rejected feature whose ignored field is not UTF-8 (the bytes B8 B9 under --encoding utf8):
# its raw attributes keep the bytes as Latin-1 text, which every store accepts (PostgreSQL
# refused the row before, and the whole version with it)
printf 'WKT,SoTo,SoThua,DienTich,MucDich,TenChu,GhiChu\n"POLYGON ((585000 1110000,585010 1110000,585010 1110010,585000 1110010,585000 1110000))",7,1,100,ODT,a,ok\n,7,2,100,ODT,b,\xb8\xb9x\n' >"$T/raw.csv"
ogr2ogr -f "ESRI Shapefile" -lco ENCODING= -a_srs EPSG:5897 "$T/raw.shp" "$T/raw.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
run ct-ingest --sdi "$sdi" --encoding utf8 --ignore GhiChu cadastral "$T/raw.shp"
is "$rc" 3 "a rejected feature with bytes that are not UTF-8: loaded with the reject (exit 3)"
is "$(q "SELECT attributes FROM sdi_reject WHERE source LIKE '%raw.shp' AND source_id = '1'")" \
   '{"SoTo":"7","SoThua":"2","DienTich":"100","MucDich":"ODT","TenChu":"b","GhiChu":"¸¹x"}' "its raw attributes keep the bytes, read as Latin-1"
# the store refuses the row of that reject (a trigger the test adds): the message names the
# rejected feature, though on PostgreSQL the row is sent without waiting and its error comes
# back with a later statement; nothing of the source is loaded
for e in shp shx dbf prj; do cp "$T/raw.$e" "$T/raw2.$e"; done
if sdi_pg; then
    q "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
         IF NEW.source_id = '1' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END \$\$;
       CREATE TRIGGER refuse_one BEFORE INSERT ON sdi_reject FOR EACH ROW EXECUTE FUNCTION refuse_one()" >/dev/null
else
    q "CREATE TRIGGER refuse_one BEFORE INSERT ON sdi_reject WHEN NEW.source_id = '1'
       BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END" >/dev/null
fi
good=$(state)
run ct-ingest --sdi "$sdi" --encoding utf8 --ignore GhiChu cadastral "$T/raw2.shp"
is "$rc" 1 "a reject the store refuses: exit 1"
like "$T/err" "cannot record rejected feature 1 of .*raw2.shp: refused by a test trigger" \
    "a reject the store refuses: the message names the rejected feature"
is "$(state)" "$good" "a reject the store refuses: the SDI is as before"
exit $_failed
