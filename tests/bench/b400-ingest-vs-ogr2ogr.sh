#!/usr/bin/env bash
# Benchmark: ct-ingest of a large TCVN3 cadastral shapefile (>= 500 000 parcels) against
# `ogr2ogr -f SQLite -dsco SPATIALITE=YES` on the same file, in one run. ct-ingest does far more
# per feature (decoding, the official VN-2000 check, validation, repair, land-use codes,
# duplicate, overlap and gap checks, versioning and a change log); the goal is to be at least as
# fast. Peak memory is reported for the full file and for a quarter of it: it must not grow
# with the input. Reports; does not assert.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${CT_BIN:-$top/build/bin}
dir=${BENCH_DIR:-/tmp/ctgis-bench}/ingest
S="$top/data-samples/cadastral"
mkdir -p "$dir"
big="$dir/parcels-big.shp"
quarter="$dir/parcels-quarter.shp"

# 32 copies of sheets 1-6 (16 333 parcels), each under its own sheet numbers: 522 656 parcels
if [ ! -f "$big" ]; then
    echo "b400: generating $big ..."
    rm -f "$dir"/parcels-*
    for round in $(seq 0 31); do
        for s in 1 2 3 4 5 6; do
            ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= -oo ENCODING= -append -nln parcels-big "$big" \
                "$S/thuadat-to0$s.shp" -dialect SQLite \
                -sql "SELECT geometry, SoTo + $((round * 10)) AS SoTo, SoThua, DienTich, MucDich, TenChu, DiaChi, MaXa FROM \"thuadat-to0$s\"" 2>/dev/null
            [ $round -lt 8 ] && ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= -oo ENCODING= -append -nln parcels-quarter \
                "$quarter" "$S/thuadat-to0$s.shp" -dialect SQLite \
                -sql "SELECT geometry, SoTo + $((round * 10)) AS SoTo, SoThua, DienTich, MucDich, TenChu, DiaChi, MaXa FROM \"thuadat-to0$s\"" 2>/dev/null
        done
    done
    cp "$S/thuadat-to01.prj" "$dir/parcels-big.prj"
    cp "$S/thuadat-to01.prj" "$dir/parcels-quarter.prj"
fi
n=$(ogrinfo -ro -so "$big" parcels-big | sed -n 's/^Feature Count: //p')

measure() { # measure OUT CMD... : wall seconds, peak RSS (MB) and CPU seconds into $OUT.time
    local out=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$out.time" "$@" >/dev/null 2>"$out.err" || true
    read -r secs kb user sys < <(tail -n 1 "$out.time")   # a non-zero exit adds a line before
    echo "$secs $((kb / 1024)) $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')"
}
# The page cache of this VM keeps a file only seconds after its last read: whichever tool ran
# first would read the 275 MB source from the disk. Each run reads it warm, the two tools
# alternate three times, and the medians count (one pair varies by 20 % here).
warm() { cat "${1%.shp}".* >/dev/null; }
median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }
: >"$dir/ogr.runs"
: >"$dir/ct.runs"
for round in 1 2 3; do
    rm -f "$dir/ogr.sqlite" "$dir"/ct.sqlite*
    warm "$big"
    measure "$dir/ogr" ogr2ogr -f SQLite -dsco SPATIALITE=YES "$dir/ogr.sqlite" "$big" >>"$dir/ogr.runs"
    "$bin/ct-sdi" -q --sdi "$dir/ct.sqlite" init >/dev/null
    warm "$big"
    measure "$dir/ct" "$bin/ct-ingest" -q --sdi "$dir/ct.sqlite" cadastral "$big" >>"$dir/ct.runs"
done
read -r t_ogr m_ogr c_ogr < <(median <"$dir/ogr.runs")
read -r t_ct m_ct c_ct < <(median <"$dir/ct.runs")
rm -f "$dir"/ctq.sqlite*
"$bin/ct-sdi" -q --sdi "$dir/ctq.sqlite" init >/dev/null
warm "$quarter"
read -r t_q m_q c_q < <(measure "$dir/ctq" "$bin/ct-ingest" -q --sdi "$dir/ctq.sqlite" cadastral "$quarter")
loaded=$(sqlite3 "$dir/ct.sqlite" "SELECT count(*) FROM parcels_current")

printf 'b400 ingest of %s TCVN3 parcels (2 cores; wall: the median of three runs each, alternating):\n' "$n"
printf '  runs (wall s): ogr2ogr %s; ct-ingest %s\n' "$(cut -d' ' -f1 "$dir/ogr.runs" | tr '\n' ' ')" \
    "$(cut -d' ' -f1 "$dir/ct.runs" | tr '\n' ' ')"
printf '  ogr2ogr -f SQLite -dsco SPATIALITE=YES  %7.1f s  %5d MB peak  %6.1f s CPU\n' "$t_ogr" "$m_ogr" "$c_ogr"
printf '  ct-ingest cadastral                      %7.1f s  %5d MB peak  %6.1f s CPU  (%s loaded, validated, versioned)\n' \
    "$t_ct" "$m_ct" "$c_ct" "$loaded"
printf '  ct-ingest, a quarter of the file         %7.1f s  %5d MB peak  %6.1f s CPU\n' "$t_q" "$m_q" "$c_q"
awk -v a="$t_ogr" -v b="$t_ct" 'BEGIN { printf "  ratio ogr2ogr / ct-ingest: %.2f (goal >= 1)\n", a / b }'
awk -v a="$m_ct" -v b="$m_q" 'BEGIN { printf "  peak memory full / quarter: %.2f (goal: about 1, not 4)\n", a / b }'
