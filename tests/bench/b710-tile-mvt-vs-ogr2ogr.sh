#!/usr/bin/env bash
# b710 — 90 000 parcels (300 × 300, GeoPackage, EPSG:5897) as vector tiles, zooms 12-17, into
# MBTiles: ct-tile against ogr2ogr -f MBTiles (GDAL's MVT writer). Both gzip their tiles. Prints
# wall time, tiles, tiles/s, peak memory and the ratio; reports, does not assert.
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../../build/bin" && pwd)}"
B=${BENCH_DIR:-/tmp/ctgis-bench}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$B"
src="$B/parcels300.gpkg"
[ -f "$src" ] || /usr/bin/python3 "$top/tests/bench/tile_parcels.py" 300 "$src" || { echo "b710: needs python3-gdal"; exit 1; }
threads=2
rm -f "$B/b710-ct.mbtiles" "$B/b710-ogr.mbtiles"
/usr/bin/time -f '%e %M' -o "$B/b710-ct.time" "$CT_BIN/ct-tile" -q --threads $threads -z 12-17 "$src" "$B/b710-ct.mbtiles" \
    || { echo "b710: ct-tile failed"; exit 1; }
/usr/bin/time -f '%e %M' -o "$B/b710-ogr.time" ogr2ogr -f MBTiles "$B/b710-ogr.mbtiles" "$src" \
    -dsco MINZOOM=12 -dsco MAXZOOM=17 --config GDAL_NUM_THREADS $threads 2>/dev/null
read -r ct_s ct_kb <"$B/b710-ct.time"
read -r og_s og_kb <"$B/b710-ogr.time"
ct_n=$(sqlite3 "$B/b710-ct.mbtiles" 'select count(*) from tiles')
og_n=$(sqlite3 "$B/b710-ogr.mbtiles" 'select count(*) from tiles')
echo "b710 MVT z12-17, 90 000 parcels, $threads threads, load $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-30s %8.2f s %7d tiles %7.0f tiles/s  peak %5d MB  %6.1f MB\n' "ct-tile" "$ct_s" "$ct_n" \
    "$(awk -v n="$ct_n" -v s="$ct_s" 'BEGIN { print n / s }')" $((ct_kb / 1024)) \
    "$(awk -v b="$(stat -c %s "$B/b710-ct.mbtiles")" 'BEGIN { print b / 1e6 }')"
printf '  %-30s %8.2f s %7d tiles %7.0f tiles/s  peak %5d MB  %6.1f MB\n' "ogr2ogr -f MBTiles (MVT)" "$og_s" "$og_n" \
    "$(awk -v n="$og_n" -v s="$og_s" 'BEGIN { print n / s }')" $((og_kb / 1024)) \
    "$(awk -v b="$(stat -c %s "$B/b710-ogr.mbtiles")" 'BEGIN { print b / 1e6 }')"
awk -v a="$ct_s" -v b="$og_s" 'BEGIN { printf "  ratio (time, ogr2ogr / ct-tile): %.1fx (goal >= 3x)\n", b / a }'
rm -f "$B/b710-ct.mbtiles" "$B/b710-ogr.mbtiles"
