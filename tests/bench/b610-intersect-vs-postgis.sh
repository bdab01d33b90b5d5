#!/usr/bin/env bash
# Parcel x planning-zone overlay: ct-overlay intersect against PostGIS ST_Intersection (with
# GiST indexes) on the same 50 000 jittered parcels and 400 jittered zones, in one run. Prints
# both times, the ratio and how far the areas differ. It reports, it does not assert timing.
# PostgreSQL is started on a Unix socket in the bench folder and stopped at the end.
# Inputs go to ${BENCH_DIR:-/tmp/ctgis-bench}/b610. Knobs: B610_NX x B610_NY parcels (250 x 200).
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/bin}"
B=${BENCH_DIR:-/tmp/ctgis-bench}/b610
NX=${B610_NX:-250}
NY=${B610_NY:-200}
mkdir -p "$B"
parcels=$B/parcels-${NX}x$NY.gpkg
zones=$B/zones-$NX.gpkg

lattice() { # lattice NX NY STEP SEED JITTER FIELD → CSV with WKT quadrilaterals of a jittered lattice
    awk -v nx="$1" -v ny="$2" -v w="$3" -v seed="$4" -v jit="$5" -v field="$6" 'BEGIN {
        srand(seed)
        for (j = 0; j <= ny; j++) for (i = 0; i <= nx; i++) {
            jx = (i > 0 && i < nx) ? (rand() - 0.5) * jit * w : 0; jy = (j > 0 && j < ny) ? (rand() - 0.5) * jit * w : 0
            X[i, j] = sprintf("%.3f", 580000 + w * i + jx); Y[i, j] = sprintf("%.3f", 1100000 + w * j + jy) }
        split("ODT ONT TMD CLN LUC DGT", codes, " ")
        print "WKT," field
        n = 0
        for (j = 0; j < ny; j++) for (i = 0; i < nx; i++) {
            n++
            v = field == "MaQH" ? codes[1 + (i * 7 + j * 3) % 6] : n
            printf "\"POLYGON((%s %s,%s %s,%s %s,%s %s,%s %s))\",%s\n", X[i,j], Y[i,j], X[i+1,j], Y[i+1,j],
                X[i+1,j+1], Y[i+1,j+1], X[i,j+1], Y[i,j+1], X[i,j], Y[i,j], v
        } }'
}
if [ ! -s "$parcels" ] || [ ! -s "$zones" ]; then
    lattice "$NX" "$NY" 20 610 0.4 SoThua >"$B/parcels.csv"
    lattice 20 20 $((NX)) 611 0.3 MaQH >"$B/zones.csv"
    rm -f "$parcels" "$zones"
    ogr2ogr -q -f GPKG -a_srs EPSG:5897 -nln parcels -nlt POLYGON -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO \
        "$parcels" "$B/parcels.csv" || exit 1
    ogr2ogr -q -f GPKG -a_srs EPSG:5897 -nln zones -nlt POLYGON -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO \
        "$zones" "$B/zones.csv" || exit 1
    rm -f "$B/parcels.csv" "$B/zones.csv"
fi
echo "b610: $((NX * NY)) parcels ($parcels) x 400 zones ($zones)"

t() { /usr/bin/time -f "%e %M" -o "$B/time" "$@" >/dev/null 2>"$B/err" || { tail -3 "$B/err" >&2; return 1; }; cat "$B/time"; }
read -r ct_s ct_kb < <(t "$CT_BIN/ct-overlay" intersect -q --zone-field MaQH -o "$B/ct.csv" "$parcels" "$zones") || exit 1
printf 'b610: ct-overlay intersect:           %8.2f s, peak memory %d MB\n' "$ct_s" $((ct_kb / 1024))

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ ! -x "$PGBIN/initdb" ] || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
    echo "b610: PostgreSQL/PostGIS (postgresql-15-postgis-3) is not installed: PostGIS skipped"
    exit 0
fi
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
rm -rf "$B/pg" && mkdir -p "$B/pg" && { [ "$(id -u)" != 0 ] || chown postgres "$B/pg"; }
chmod 755 "$B"
"${as_pg[@]}" "$PGBIN/initdb" -A trust -U ct -D "$B/pg/data" >"$B/pg.log" 2>&1 || { echo "b610: initdb failed"; exit 0; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$B/pg/data" -l "$B/pg/log" -w -o "-k $B/pg -c listen_addresses='' -c fsync=off" \
    start >>"$B/pg.log" 2>&1 || { echo "b610: PostgreSQL did not start"; exit 0; }
trap '"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$B/pg/data" -m fast stop >/dev/null 2>&1' EXIT
pg() { psql -X -q -h "$B/pg" -U ct -d postgres -v ON_ERROR_STOP=1 "$@"; }
pg -c "CREATE EXTENSION postgis" >>"$B/pg.log" 2>&1
s=$(date +%s.%N)
for f in "$parcels" "$zones"; do
    ogr2ogr -f PostgreSQL "PG:host=$B/pg user=ct dbname=postgres" "$f" -lco GEOMETRY_NAME=geom >>"$B/pg.log" 2>&1
done
pg -c "ANALYZE" >>"$B/pg.log" 2>&1
m=$(date +%s.%N)
pg -At -F, -o "$B/pg.csv" -c "SELECT p.sothua, z.maqh, sum(ST_Area(ST_Intersection(p.geom, z.geom)))
    FROM parcels p JOIN zones z ON ST_Intersects(p.geom, z.geom) GROUP BY 1, 2 ORDER BY 1, 2" 2>>"$B/pg.log" ||
    { echo "b610: the PostGIS query failed"; tail -3 "$B/pg.log"; exit 0; }
e=$(date +%s.%N)
pg_load=$(awk -v a="$s" -v b="$m" 'BEGIN { printf "%.2f", b - a }')
pg_q=$(awk -v a="$m" -v b="$e" 'BEGIN { printf "%.2f", b - a }')
printf 'b610: PostGIS load (ogr2ogr + ANALYZE): %8.2f s\n' "$pg_load"
printf 'b610: PostGIS ST_Intersection query:    %8.2f s\n' "$pg_q"
awk -v c="$ct_s" -v g="$pg_q" 'BEGIN { printf "b610: ratio PostGIS / ct-overlay: %.1fx\n", g / c }'
awk -F, 'NR == FNR { if (FNR > 1 && $3 != "") ct[$2 "," $3] = $4; next }
    { k = $1 "," $2; n++; if (!(k in ct)) { miss++; next }; d = ct[k] - $3; if (d < 0) d = -d; if ($3 > 0 && d / $3 > w) w = d / $3 }
    END { printf "b610: %d parcel x use pairs, %d missing in ctgis, largest relative area difference %.2g\n", n, miss, w }' \
    "$B/ct.csv" "$B/pg.csv"
