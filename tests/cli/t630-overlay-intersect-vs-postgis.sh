#!/usr/bin/env bash
# ct-overlay intersect against PostGIS: 300 jittered parcels x planning zones (a 64-gon, a box
# with that 64-gon as a hole, an overlapping triangle, two zones sharing a value), areas per
# parcel and zone value from ST_Intersection on the same data, in a PostgreSQL server this test
# starts on a Unix socket in its scratch folder and stops. Skipped when PostGIS is missing.
. "$(dirname "$0")/lib.sh"
pg_check
plan 8

# the parcels: a 20 x 15 lattice of 10 m, interior corners jittered by up to ±2 m
awk 'BEGIN {
    srand(630); nx = 20; ny = 15
    for (j = 0; j <= ny; j++) for (i = 0; i <= nx; i++) {
        jx = (i > 0 && i < nx) ? (rand() - 0.5) * 4 : 0; jy = (j > 0 && j < ny) ? (rand() - 0.5) * 4 : 0
        X[i, j] = sprintf("%.3f", 586000 + 10 * i + jx); Y[i, j] = sprintf("%.3f", 1109000 + 10 * j + jy) }
    print "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::5897\"}},\"features\":["
    n = 0
    for (j = 0; j < ny; j++) for (i = 0; i < nx; i++) {
        n++
        printf "%s{\"type\":\"Feature\",\"properties\":{\"SoThua\":%d,\"TenChu\":\"Chủ %d\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s]]]}}\n",
            (n > 1 ? "," : ""), n, n, X[i,j], Y[i,j], X[i+1,j], Y[i+1,j], X[i+1,j+1], Y[i+1,j+1], X[i,j+1], Y[i,j+1], X[i,j], Y[i,j]
    }
    print "]}" }' >"$T/parcels.geojson"
# the zones
awk 'BEGIN {
    cx = 586083.3; cy = 1109071.7; r = 41.9
    for (k = 0; k <= 64; k++) { a = -2 * 3.14159265358979 * k / 64
        ring = ring sprintf("%s[%.4f,%.4f]", (k ? "," : ""), cx + r * cos(a), cy + r * sin(a)) }
    for (k = 0; k <= 64; k++) { a = 2 * 3.14159265358979 * k / 64
        hole = hole sprintf("%s[%.4f,%.4f]", (k ? "," : ""), cx + r * cos(a), cy + r * sin(a)) }
    print "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::5897\"}},\"features\":["
    print "{\"type\":\"Feature\",\"properties\":{\"MaQH\":\"ODT\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[" ring "]]}},"
    print "{\"type\":\"Feature\",\"properties\":{\"MaQH\":\"LUC\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[585990,1108990],[586150,1108990],[586150,1109130],[585990,1109130],[585990,1108990]],[" hole "]]}},"
    print "{\"type\":\"Feature\",\"properties\":{\"MaQH\":\"DGT\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[586140.5,1109003.3],[586205,1109003.3],[586171.1,1109161.7],[586140.5,1109003.3]]]}},"
    print "{\"type\":\"Feature\",\"properties\":{\"MaQH\":\"ODT\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[586150,1108990],[586210,1108990],[586210,1109040],[586150,1109040],[586150,1108990]]]}}"
    print "]}" }' >"$T/zones.geojson"

run ct-overlay intersect --zone-field MaQH -o "$T/ct.csv" "$T/parcels.geojson" "$T/zones.geojson"
ok $rc "ct-overlay intersect exits 0"
! grep -q "Chủ" "$T/ct.csv"; ok $? "the owner names stay out"

# a throw-away PostgreSQL server on a Unix socket in the scratch folder
pg_start
ok $? "a PostgreSQL server starts on a socket in the scratch folder"
psql() { pg_psql "$@"; }
psql -c "CREATE EXTENSION postgis" >>"$T/pg.log" 2>&1
ok $? "CREATE EXTENSION postgis"
for l in parcels zones; do
    ogr2ogr -f PostgreSQL "PG:host=$PGSOCK user=ct dbname=postgres" "$T/$l.geojson" -nln "$l" -lco GEOMETRY_NAME=geom \
        >>"$T/pg.log" 2>&1 || echo "# ogr2ogr $l failed"
done
psql -At -F, -c "SELECT p.sothua, z.maqh, sum(ST_Area(ST_Intersection(p.geom, z.geom)))
                 FROM parcels p JOIN zones z ON ST_Intersects(p.geom, z.geom)
                 GROUP BY 1, 2 HAVING sum(ST_Area(ST_Intersection(p.geom, z.geom))) > 0 ORDER BY 1, 2" >"$T/pg.csv" 2>>"$T/pg.log"
ok $? "PostGIS ST_Intersection areas"
[ -s "$T/pg.csv" ] || sed 's/^/#   /' "$T/pg.log" | tail -20

# compare: every (parcel, zone) pair of one is in the other, with the same area to 1e-9 relative
awk -F, 'NR == FNR { if (FNR > 1 && $3 != "") ct[$2 "," $3] = $4; next }
         { pg[$1 "," $2] = $3 }
         END {
             for (k in pg) { n++; if (!(k in ct)) { miss++; continue }
                 d = ct[k] - pg[k]; if (d < 0) d = -d; r = d / pg[k]; if (r > worst) worst = r }
             for (k in ct) if (!(k in pg)) extra++
             printf "%d %d %d %.3g\n", n, miss + 0, extra + 0, worst }' "$T/ct.csv" "$T/pg.csv" >"$T/cmp"
read -r npairs miss extra worst <"$T/cmp"
echo "# $npairs parcel x zone pairs; largest relative area difference to PostGIS: $worst"
awk -F, 'NR == FNR { if (FNR > 1 && $3 != "") ct[$2 "," $3] = 1; next } !(($1 "," $2) in ct) { print "#   only in PostGIS: " $0 }' \
    "$T/ct.csv" "$T/pg.csv"
[ "$npairs" -gt 300 ] && [ "$miss" = 0 ] && [ "$extra" = 0 ]; ok $? "the same $npairs parcel x zone pairs as PostGIS (missing $miss, extra $extra)"
awk -v w="$worst" 'BEGIN { exit !(w != "" && w <= 1e-9) }'; ok $? "areas equal PostGIS's to 1e-9 relative (worst $worst)"
# the part of each parcel in no zone (zones overlap here: the union of the zones is subtracted)
awk -F, 'NR > 1 && $3 == "" { t += $4 } END { printf "%.6f\n", t }' "$T/ct.csv" >"$T/sum"
near "$(cat "$T/sum")" "$(psql -At -c 'SELECT sum(ST_Area(ST_Difference(p.geom, u.g)))
    FROM parcels p, (SELECT ST_Union(geom) AS g FROM zones) u' 2>/dev/null || echo x)" 1e-6 \
    "the area in no zone equals PostGIS ST_Difference with the union of the zones"
exit $_failed
