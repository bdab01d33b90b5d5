#!/usr/bin/env bash
# ct-flood simulate: cell updates per second on a fully wet 4096 x 4096 grid on 2 threads,
# against the memory-bandwidth limit of this machine (measured here with a STREAM-like triad
# on 2 threads). Goal: >= 300 M cell-updates/s. Reports, does not assert.
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../.." && pwd)/build/bin}"
B=${BENCH_DIR:-/tmp/ctgis-bench}/b510
N=${B510_SIZE:-4096}
mkdir -p "$B"

# 1. memory bandwidth: triad a = b + s*c over 3 x 128 MB, best of 5, 2 threads
cat >"$B/triad.c" <<'C'
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
    size_t n = 32u << 20; /* floats per array: 128 MB */
    float *a = malloc(n * 4), *b = malloc(n * 4), *c = malloc(n * 4);
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) { a[i] = 0; b[i] = 1; c[i] = 2; }
    double best = 1e9;
    for (int k = 0; k < 5; k++) {
        double t = omp_get_wtime();
#pragma omp parallel for
        for (size_t i = 0; i < n; i++) a[i] = b[i] + 0.5f * c[i];
        t = omp_get_wtime() - t;
        if (t < best) best = t;
    }
    printf("%.2f\n", 3.0 * n * 4 / best / 1e9 + a[n / 2] * 0);
    return 0;
}
C
cc -O2 -fopenmp -o "$B/triad" "$B/triad.c" || exit 1
bw=$(OMP_NUM_THREADS=2 "$B/triad")

# 2. a fully wet grid: a gentle bumpy slope under 2-3 m of still water, 16 m cells (a lake at rest:
#    every velocity stays 0), every cell active every step
if [ ! -s "$B/dem-$N.tif" ]; then
    awk -v n="$N" 'BEGIN { print "ncols " n; print "nrows " n; print "xllcorner 500000"; print "yllcorner 1000000"
        print "cellsize 16"; print "NODATA_value -9999"
        for (r = 0; r < n; r++) { s = ""; for (c = 0; c < n; c++) s = s (c ? " " : "") sprintf("%.2f", (c + r) / (2 * n) + 0.05 * ((c * 7 + r * 3) % 5)); print s } }' \
        >"$B/dem.asc"
    gdal_translate -q -ot Float32 -a_srs EPSG:5897 -co TILED=YES -co COMPRESS=DEFLATE "$B/dem.asc" "$B/dem-$N.tif" || exit 1
    rm -f "$B/dem.asc"
fi
cat >"$B/wet.scn" <<S
model = simulate
dem = dem-$N.tif
initial_level = 3.0
level = 3.0
sources = edges
manning = 0.03
duration = ${B510_DURATION:-120}
output_interval = ${B510_DURATION:-120}
S
/usr/bin/time -f "%e %M %U %S" -o "$B/time" "$CT_BIN/ct-flood" -q --json --threads 2 run "$B/wet.scn" -o "$B/out" >"$B/run.json" || exit 1
read -r wall mem usr sys <"$B/time"
jq -r --arg bw "$bw" --arg wall "$wall" --arg mem "$mem" --arg cpu "$(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" '
  "b510: grid \(.mean_active_cells | floor) active cells (fully wet), \(.steps) steps, solver \(.solver_s * 100 | round / 100) s (run \($wall) s, \(($mem | tonumber) / 1024 | floor) MB)",
  "b510: \(.cell_updates_per_s / 1e6 | floor) M cell-updates/s on 2 threads, wall clock of the solver (goal >= 300 M); \(.cell_updates / ($cpu | tonumber) / 1e6 | floor) M per CPU second of the whole run (what a busy machine cannot hide)",
  "b510: memory bandwidth (triad, 2 threads) \($bw) GB/s. A steady cell update moves 28.6 bytes from memory (z read; h, qx, qy read and written, in one pass per row; 0.6 bytes of the maxima'"'"'s block bounds; maxima, time of maximum, arrival and duration touched only where they may change): the 28.6-byte limit is \(($bw | tonumber) * 1e9 / 28.6 / 1e6 | floor) M cell-updates/s, this run \((.cell_updates_per_s / (($bw | tonumber) * 1e9 / 28.6) * 100) | floor) % of it; where all of those change, 77 bytes, limit \(($bw | tonumber) * 1e9 / 77 / 1e6 | floor) M",
  "b510: the grid is a lake at rest (its maximum velocity is 0 everywhere), so every skip of the kernel applies; moving water costs more (EA Test 5: b520)"' "$B/run.json"
