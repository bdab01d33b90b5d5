#!/usr/bin/env bash
# A large PMTiles archive: ~6000 distinct tiles of a 4000 × 4000 DEM (zooms 10-17). The reference `pmtiles` npm reader must find every tile
# of the folder output, byte for byte; the root directory stays within the first 16 KiB; MBTiles
# and the folder agree too; and 1 and 2 threads give the same archive.
set -u
. "$(dirname "$0")/../cli/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
nd="${BENCH_DIR:-/tmp/ctgis-bench}/node-pmtiles"
if [ ! -f "$nd/node_modules/pmtiles/package.json" ]; then
    command -v npm >/dev/null || skip_all "npm not installed"
    mkdir -p "$nd" && cp "$CT_TOP/tests/cli/pmtiles-reader/package"*.json "$nd/"
    (cd "$nd" && timeout 120 npm ci --no-audit --no-fund --silent >/dev/null 2>&1) || skip_all "npm could not install pmtiles"
fi
plan 7
$py "$CT_TOP/tests/bench/tile_dem.py" 4000 "$T/dem.tif"
run ct-tile -q --threads 2 -z 10-17 "$T/dem.tif" "$T/xyz"
ok $rc "folder"
run ct-tile -q --threads 2 -z 10-17 "$T/dem.tif" "$T/a.pmtiles"
ok $rc "PMTiles, 2 threads"
leaf=$(od -An -tu8 -j48 -N8 "$T/a.pmtiles" | tr -d ' ')
root=$(od -An -tu8 -j16 -N8 "$T/a.pmtiles" | tr -d ' ')
[ $((127 + root)) -le 16384 ]
ok $? "root directory ($root bytes) within the first 16 KiB (leaf directories: $leaf bytes)"
NODE_PATH="$nd/node_modules" node "$CT_TOP/tests/cli/pmtiles-reader/compare.cjs" "$T/a.pmtiles" "$T/xyz" >"$T/cmp"
n=$(find "$T/xyz" -name '*.png' | wc -l)
grep -q "^compared: $n$" "$T/cmp" && grep -q '^mismatched: 0$' "$T/cmp" && grep -q '^extra: 0$' "$T/cmp"
ok $? "pmtiles (npm) reads all $n tiles through the leaves, same bytes as the folder"
mkdir "$T/one"
run ct-tile -q --threads 1 -z 10-17 "$T/dem.tif" "$T/one/a.pmtiles"
cmp -s "$T/a.pmtiles" "$T/one/a.pmtiles"
ok $? "1 thread: the same archive, byte for byte"
run ct-tile -q -z 10-17 "$T/dem.tif" "$T/a.mbtiles"
ok $rc "MBTiles"
is "$(sqlite3 "$T/a.mbtiles" 'select count(*) from tiles')" "$n" "MBTiles holds the same number of tiles"
exit $_failed
