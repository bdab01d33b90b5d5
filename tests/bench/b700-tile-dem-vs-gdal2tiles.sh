#!/usr/bin/env bash
# b700 — DEM relief tiles, zooms 10-16, of one 8000 × 8000 DEM (5 m, EPSG:5897):
#   ct-tile (hypsometric colour + hillshade, PNG, 2 threads)  against
#   gdaldem color-relief (same ramp, no hillshade) + gdal2tiles.py --xyz --processes 2,
# the usual pipeline. Prints wall time, tiles, tiles/s, peak memory and the ratio; it reports,
# it does not assert timing (the machine may be busy). Inputs are made in ${BENCH_DIR:-/tmp/ctgis-bench}.
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../../build/bin" && pwd)}"
B=${BENCH_DIR:-/tmp/ctgis-bench}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$B"
dem="$B/dem8000.tif"
if [ ! -f "$dem" ]; then
    echo "b700: making $dem (8000 x 8000 Float32)"
    /usr/bin/python3 "$top/tests/bench/tile_dem.py" 8000 "$dem" || { echo "b700: needs python3-gdal"; exit 1; }
fi
command -v gdal2tiles.py >/dev/null || { echo "b700: gdal2tiles.py missing (python3-gdal): skipped"; exit 0; }
threads=2
measure() { # measure OUTFILE CMD... → wall seconds and peak RSS (KB) of the largest process
    /usr/bin/time -f '%e %M' -o "$1.time" "${@:2}" >/dev/null 2>"$1.err"
    echo "$?"
}

# ctgis
rm -rf "$B/b700-ct"
rc=$(measure "$B/b700-ct" "$CT_BIN/ct-tile" -q --threads $threads -z 10-16 "$dem" "$B/b700-ct")
read -r ct_s ct_kb <"$B/b700-ct.time"
ct_n=$(find "$B/b700-ct" -name '*.png' | wc -l)
[ "$rc" = 0 ] || { echo "b700: ct-tile failed:"; cat "$B/b700-ct.err"; exit 1; }

# the same ramp as a GDAL color-relief file
while read -r k v h _; do
    [ "$k" = stop ] && printf '%s %d %d %d\n' "$v" "0x${h:1:2}" "0x${h:3:2}" "0x${h:5:2}"
done <"$top/styles/dem-hypsometry.style" >"$B/b700-ramp.txt"
echo "nv 0 0 0 0" >>"$B/b700-ramp.txt"
rm -rf "$B/b700-g2t" "$B/b700-color.tif"
t0=$(date +%s.%N)
/usr/bin/time -f '%e %M' -o "$B/b700-gdaldem.time" gdaldem color-relief -q -alpha -co TILED=YES -co COMPRESS=LZW \
    "$dem" "$B/b700-ramp.txt" "$B/b700-color.tif"
rc=$(measure "$B/b700-g2t" gdal2tiles.py -q --xyz --processes $threads -z 10-16 -w none "$B/b700-color.tif" "$B/b700-g2t")
t1=$(date +%s.%N)
read -r dem_s dem_kb <"$B/b700-gdaldem.time"
read -r g_s g_kb <"$B/b700-g2t.time"
g_n=$(find "$B/b700-g2t" -name '*.png' | wc -l)
peer_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
peer_kb=$(( dem_kb > g_kb ? dem_kb : g_kb ))

ct_rate=$(awk -v n="$ct_n" -v s="$ct_s" 'BEGIN { printf "%.0f", n / s }')
g_rate=$(awk -v n="$g_n" -v s="$peer_s" 'BEGIN { printf "%.0f", n / s }')
echo "b700 DEM tiles z10-16, 8000x8000 DEM, $threads threads, load $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-44s %8.2f s %7d tiles %7s tiles/s  peak %6d MB\n' "ct-tile (colour + hillshade)" "$ct_s" "$ct_n" "$ct_rate" $((ct_kb / 1024))
printf '  %-44s %8.2f s %7d tiles %7s tiles/s  peak %6d MB\n' "gdaldem color-relief + gdal2tiles.py" "$peer_s" "$g_n" "$g_rate" $((peer_kb / 1024))
printf '    (gdaldem %.2f s, gdal2tiles %.2f s)\n' "$dem_s" "$g_s"
awk -v a="$ct_rate" -v b="$g_rate" 'BEGIN { printf "  ratio (tiles/s, ct-tile / gdal pipeline): %.1fx (goal >= 10x)\n", a / b }'
rm -rf "$B/b700-g2t" "$B/b700-color.tif" "$B/b700-ct"
