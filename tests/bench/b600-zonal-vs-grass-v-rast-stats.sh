#!/usr/bin/env bash
# Zonal statistics of a 10 000 x 10 000 depth raster (1 m cells, EPSG:5897) over 200 000
# jittered parcels (a GeoPackage), ct-overlay zonal against GRASS GIS v.rast.stats on the same
# files in one run. Prints wall times, ctgis peak memory (/usr/bin/time -v), the ratios, and how
# far GRASS's centre-sampled means are from ctgis's exact ones. It reports, it does not assert
# timing. Inputs are generated into ${BENCH_DIR:-/tmp/ctgis-bench}/b600.
# Knobs: B600_SIZE (raster side, default 10000), B600_NX x B600_NY parcels (default 500 x 400).
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/bin}"
B=${BENCH_DIR:-/tmp/ctgis-bench}/b600
N=${B600_SIZE:-10000}
NX=${B600_NX:-500}
NY=${B600_NY:-400}
mkdir -p "$B"
depth=$B/depth-$N.tif
parcels=$B/parcels-$N-${NX}x$NY.gpkg

if [ ! -s "$depth" ] || [ ! -s "$parcels" ]; then
    cat >"$B/gen.c" <<'C'
/* A deterministic flood-depth raster (0 on dry land, smooth basins up to ~2 m, a river of
 * nodata) and a jittered grid of quadrilateral parcels covering it exactly (CSV with WKT). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
static double jit(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return ((*s >> 8) & 0xffff) / 65536.0 - 0.5;
}
int main(int argc, char **argv)
{
    int n = atoi(argv[1]), nx = atoi(argv[2]), ny = atoi(argv[3]);
    double x0 = 580000, y0 = 1100000 + n; /* 1 m cells */
    FILE *f = fopen(argv[4], "wb");
    float *row = malloc((size_t)n * sizeof *row);
    for (int r = 0; r < n; r++) {
        for (int c = 0; c < n; c++) {
            double x = c / (double)n, y = r / (double)n;
            double d = 1.1 * sin(9.1 * x + 2 * sin(5.3 * y)) * cos(7.7 * y) + 0.4 * sin(31 * x * y + 1.3)
                     + 0.15 * cos(53 * x - 23 * y);
            if (fabs(y - 0.5 - 0.05 * sin(12 * x)) * n < 15)
                d = -9999; /* the river: nodata */
            row[c] = (float)(d == -9999 ? d : d > 0 ? d : 0);
        }
        fwrite(row, sizeof *row, (size_t)n, f);
    }
    fclose(f);
    /* parcel corners: a (nx+1) x (ny+1) lattice, interior points jittered by up to ±20 % */
    double *px = malloc(sizeof(double) * (nx + 1) * (ny + 1)), *py = malloc(sizeof(double) * (nx + 1) * (ny + 1));
    uint32_t s = 2026;
    double wx = (double)n / nx, wy = (double)n / ny;
    for (int j = 0; j <= ny; j++)
        for (int i = 0; i <= nx; i++) {
            double jx = jit(&s) * 0.4, jy = jit(&s) * 0.4;
            px[j * (nx + 1) + i] = x0 + (i + (i > 0 && i < nx ? jx : 0)) * wx;
            py[j * (nx + 1) + i] = y0 - (j + (j > 0 && j < ny ? jy : 0)) * wy;
        }
    FILE *p = fopen(argv[5], "w");
    fprintf(p, "WKT,SoThua,TenChu\n");
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            int a = j * (nx + 1) + i, b = a + 1, c = a + nx + 2, d = a + nx + 1;
            fprintf(p, "\"POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))\",%d,Chu %d\n", px[a], py[a],
                    px[d], py[d], px[c], py[c], px[b], py[b], px[a], py[a], j * nx + i + 1, j * nx + i + 1);
        }
    fclose(p);
    return 0;
}
C
    cc -O2 -o "$B/gen" "$B/gen.c" -lm || exit 1
    "$B/gen" "$N" "$NX" "$NY" "$B/depth.bil" "$B/parcels.csv" || exit 1
    printf 'ENVI\nsamples = %d\nlines = %d\nbands = 1\nheader offset = 0\nfile type = ENVI Standard\ndata type = 4\ninterleave = bsq\nbyte order = 0\n' "$N" "$N" >"$B/depth.hdr"
    gdal_translate -q -a_srs EPSG:5897 -a_nodata -9999 -a_ullr 580000 $((1100000 + N)) $((580000 + N)) 1100000 \
        -co TILED=YES -co COMPRESS=DEFLATE -co PREDICTOR=3 -co BIGTIFF=IF_SAFER "$B/depth.bil" "$depth" || exit 1
    rm -f "$parcels"
    ogr2ogr -q -f GPKG -a_srs EPSG:5897 -nln parcels -nlt POLYGON -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO \
        "$parcels" "$B/parcels.csv" || exit 1
    rm -f "$B/depth.bil" "$B/depth.hdr" "$B/parcels.csv"
fi
np=$(ogrinfo -so "$parcels" parcels | sed -n 's/^Feature Count: //p')
echo "b600: raster $N x $N cells of 1 m ($depth), $np parcels ($parcels)"

# ctgis: all processors, then one thread
tv() { /usr/bin/time -v -o "$B/time" "$@" >/dev/null 2>"$B/err" || { tail -5 "$B/err" >&2; return 1; }
       awk -F': ' '/Elapsed/ { split($2, t, ":"); s = t[length(t)] + 60 * t[length(t) - 1] + (length(t) > 2 ? 3600 * t[1] : 0) }
                   /User time/ { u = $2 } /System time/ { y = $2 }
                   /Maximum resident/ { m = $2 } END { printf "%.2f %d %.2f\n", s, m, u + y }' "$B/time"; }
read -r ct_s ct_kb ct_cpu < <(tv "$CT_BIN/ct-overlay" zonal -q -o "$B/ct.csv" "$depth" "$parcels") || exit 1
read -r ct1_s ct1_kb ct1_cpu < <(tv "$CT_BIN/ct-overlay" zonal -q --threads 1 -o "$B/ct1.csv" "$depth" "$parcels") || exit 1
echo "b600: load average at the end of the ctgis runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) processors (wall times suffer from it)"
printf 'b600: ct-overlay zonal (%d threads): %8.2f s wall, %6.2f s CPU, peak memory %d MB\n' "$(nproc)" "$ct_s" "$ct_cpu" $((ct_kb / 1024))
printf 'b600: ct-overlay zonal (1 thread):  %8.2f s wall, %6.2f s CPU, peak memory %d MB\n' "$ct1_s" "$ct1_cpu" $((ct1_kb / 1024))
cmp -s "$B/ct.csv" "$B/ct1.csv" && echo "b600: same bytes with $(nproc) threads and 1 thread" ||
    echo "b600: WARNING: the outputs with $(nproc) threads and 1 thread differ"
grep -q "Chu 1" "$B/ct.csv" && echo "b600: WARNING: the restricted TenChu field reached the output"

if ! command -v grass >/dev/null; then
    echo "b600: grass (grass-core) is not installed: GRASS v.rast.stats skipped"
    exit 0
fi
# GRASS: import both (timed apart), then v.rast.stats with the same statistics
cat >"$B/grass.sh" <<SH
set -e
s=\$(date +%s.%N)
r.external -o input="$depth" output=depth --quiet
g.region raster=depth
v.in.ogr -o input="$parcels" layer=parcels output=parcels --quiet
m=\$(date +%s.%N)
v.rast.stats map=parcels raster=depth column_prefix=d method=number,null_cells,minimum,maximum,average,sum --quiet
e=\$(date +%s.%N)
v.db.select map=parcels columns=SoThua,d_number,d_average separator=comma --quiet > "$B/grass.csv"
echo "\$s \$m \$e" > "$B/grass.times"
SH
rm -f "$B/grass.times"
/usr/bin/time -v -o "$B/gtime" grass --tmp-location EPSG:5897 --exec bash "$B/grass.sh" >"$B/grass.log" 2>&1 ||
    { echo "b600: GRASS failed:"; tail -5 "$B/grass.log"; exit 0; }
read -r gs gm ge <"$B/grass.times"
g_import=$(awk -v a="$gs" -v b="$gm" 'BEGIN { printf "%.2f", b - a }')
g_stats=$(awk -v a="$gm" -v b="$ge" 'BEGIN { printf "%.2f", b - a }')
g_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$B/gtime")
g_cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { y = $2 } END { printf "%.2f", u + y }' "$B/gtime")
printf 'b600: GRASS import (r.external + v.in.ogr): %8.2f s\n' "$g_import"
printf 'b600: GRASS v.rast.stats:                   %8.2f s wall, peak memory %d MB\n' "$g_stats" $((g_kb / 1024))
printf 'b600: GRASS CPU time, import and statistics: %8.2f s\n' "$g_cpu"
awk -v c="$ct_s" -v c1="$ct1_s" -v g="$g_stats" -v gi="$g_import" 'BEGIN {
    printf "b600: ratio v.rast.stats / ct-overlay: %.1fx (%.1fx on 1 thread); with the GRASS import: %.1fx\n",
           g / c, g / c1, (g + gi) / c }'
# agreement: GRASS counts cells whose centre is inside, ctgis weights them by area; compare the
# means of parcels both have, and the total cell count.
awk -F, 'FNR == 1 { next }
    NR == FNR { gm[$1] = $3; gn[$1] = $2; next }
    ($2 in gm) && gm[$2] != "" && $8 != "" { d = gm[$2] - $8; if (d < 0) d = -d; s += d; n++; if (d > mx) mx = d }
    { tc += $6; tg += gn[$2] }
    END { printf "b600: mean |GRASS mean - ctgis mean| over %d parcels: %.4f m (max %.4f m); cells: GRASS %d, ctgis %.1f\n",
          n, s / n, mx, tg, tc }' "$B/grass.csv" "$B/ct.csv"
