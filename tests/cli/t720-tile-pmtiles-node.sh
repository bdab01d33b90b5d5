#!/usr/bin/env bash
# ct-tile into PMTiles v3, read tile by tile with the reference reader — the `pmtiles` package of
# npm under Node — and compared with the folder output: same bytes everywhere, nothing where the
# folder has no tile; header fields. The package is installed once into $BENCH_DIR/node-pmtiles
# (skipped cleanly when node/npm or the registry are not available).
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
command -v node >/dev/null && command -v npm >/dev/null || skip_all "node/npm not installed"
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
nd="${BENCH_DIR:-/tmp/ctgis-bench}/node-pmtiles"
if [ ! -f "$nd/node_modules/pmtiles/package.json" ]; then
    mkdir -p "$nd"
    cp "$CT_TOP/tests/cli/pmtiles-reader/package.json" "$CT_TOP/tests/cli/pmtiles-reader/package-lock.json" "$nd/"
    (cd "$nd" && timeout 120 npm ci --no-audit --no-fund --silent >/dev/null 2>&1) || skip_all "npm could not install pmtiles"
fi
plan 12
$py "$(dirname "$0")/tile-pixels.py" make-dem "$T/plane.tif" 800 5
printf 'stop 0 #000000\nstop 1 #FF0000\nhillshade 0.5\n' >"$T/red.style"
run ct-tile -q -z 10-16 -s "$T/red.style" "$T/plane.tif" "$T/xyz"
ok $rc "folder output"
run ct-tile -q -z 10-16 -s "$T/red.style" "$T/plane.tif" "$T/p.pmtiles"
ok $rc "PMTiles output"
NODE_PATH="$nd/node_modules" node "$CT_TOP/tests/cli/pmtiles-reader/compare.cjs" "$T/p.pmtiles" "$T/xyz" >"$T/cmp" 2>&1
ok $? "pmtiles (npm) reads the archive"
like "$T/cmp" '^header: specVersion=3 clustered=true tileType=2 minZoom=10 maxZoom=16 rootDirectoryOffset=127$' \
     "header: v3, clustered, PNG, zooms 10-16, root directory right after the header"
like "$T/cmp" '^mismatched: 0$' "every tile of the folder read back with the same bytes"
like "$T/cmp" '^extra: 0$' "no tile where the folder has none"
n=$(find "$T/xyz" -name '*.png' | wc -l)
like "$T/cmp" "^compared: $n\$" "all $n tiles compared"
like "$T/cmp" '^root_in_first_16k: true$' "root directory within the first 16 KiB"
# leaf directories: forced small (25 entries each), so that the reader has to follow them
CT_PMTILES_LEAF_ENTRIES=25 ct-tile -q -z 10-16 -s "$T/red.style" "$T/plane.tif" "$T/leaves.pmtiles"
ok $? "PMTiles with leaf directories of 25 entries"
leaf=$(od -An -tu8 -j48 -N8 "$T/leaves.pmtiles" | tr -d ' ')
[ "$leaf" -gt 0 ]; ok $? "leaf directories written ($leaf bytes)"
NODE_PATH="$nd/node_modules" node "$CT_TOP/tests/cli/pmtiles-reader/compare.cjs" "$T/leaves.pmtiles" "$T/xyz" >"$T/cmp2" 2>&1
like "$T/cmp2" '^mismatched: 0$' "pmtiles (npm) finds every tile through the leaves, same bytes"
like "$T/cmp2" '^extra: 0$' "and nothing else"
exit $_failed
