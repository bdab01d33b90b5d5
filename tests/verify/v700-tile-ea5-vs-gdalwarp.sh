#!/usr/bin/env bash
# ct-tile on real terrain — the EA Test 5 DEM (1378 × 1224 at 10 m, NoData -9999, no CRS in the
# file; British National Grid) — cross-checked against GDAL: for tiles of zooms 13 and 15,
# gdalwarp -r bilinear onto the very tile grid, coloured with the same linear grey ramp, must give
# the same pixels as ct-tile (within 2 grey levels for 99.9 %), with the same NoData mask but for
# the edge. (Zoom 15 is ct-tile's base zoom; zoom 13 is its 2 × 2 average of 2 × 2 averages.) Also: the file
# without CRS is refused, and the PMTiles archive has the same tiles as the folder.
set -u
: "${SHARED_DATA:?SHARED_DATA is not set: run through make verify}"
. "$(dirname "$0")/../cli/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
plan 9
dem="/vsigzip/$SHARED_DATA/ea-test5/ea5-10m.dem.raw.gz"

run ct-tile -z 13 "$dem" "$T/nocrs"
is "$rc" "1" "the DEM as published has no CRS: refused"
like "$T/err" "no CRS" "with a message saying so"

gdal_translate -q -of VRT -a_srs EPSG:27700 "$dem" "$T/ea5.vrt"
gdalinfo -stats "$T/ea5.vrt" >"$T/stats" 2>/dev/null
lo=$(sed -n 's/.*STATISTICS_MINIMUM=//p' "$T/stats")
hi=$(sed -n 's/.*STATISTICS_MAXIMUM=//p' "$T/stats")
printf 'stop %s #000000\nstop %s #FFFFFF\n' "$lo" "$hi" >"$T/grey.style"
run ct-tile --json -z 11-15 -s "$T/grey.style" "$T/ea5.vrt" "$T/xyz"
ok $rc "ct-tile on the DEM in EPSG:27700 ($(jq .tiles_written "$T/out") tiles, $(jq .seconds "$T/out") s)"
run ct-tile -q -z 11-15 -s "$T/grey.style" "$T/ea5.vrt" "$T/ea5.pmtiles"
ok $rc "and into PMTiles"

# compare every tile of zooms 13 and 15 with gdalwarp onto the same grid
$py - "$T" "$lo" "$hi" >"$T/cmp" <<'PY'
import glob, math, os, subprocess, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
T, lo, hi = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
H = 20037508.342789244
for z in (13, 15):
    worst, bad, total, maskdiff = 0, 0, 0, 0
    for f in sorted(glob.glob(f"{T}/xyz/{z}/*/*.png")):
        x, y = int(f.split('/')[-2]), int(f.split('/')[-1][:-4])
        s = 2 * H / 2 ** z
        te = (-H + x * s, H - (y + 1) * s, -H + (x + 1) * s, H - y * s)
        w = gdal.Warp('', f"{T}/ea5.vrt", format='MEM', dstSRS='EPSG:3857', outputBounds=te, width=256, height=256,
                      resampleAlg='bilinear', outputType=gdal.GDT_Float32, dstNodata=-9999)
        v = w.GetRasterBand(1).ReadAsArray()
        ds = gdal.Open(f)
        b = ds.GetRasterBand(1)
        ct = b.GetColorTable()
        if ct is not None:
            lut = np.array([ct.GetColorEntry(i) for i in range(ct.GetCount())])
            a = lut[b.ReadAsArray()]
            grey, alpha = a[:, :, 0], a[:, :, 3]
        else:
            arr = ds.ReadAsArray()
            grey = arr[0]
            alpha = arr[3] if arr.shape[0] == 4 else np.full(grey.shape, 255)
        valid = v != -9999
        want = np.clip(np.floor((v - lo) / (hi - lo) * 255 + 0.5), 0, 255)
        both = valid & (alpha > 0)
        d = np.abs(grey.astype(int) - want.astype(int))[both]
        total += both.sum()
        bad += (d > 2).sum()
        worst = max(worst, int(d.max()) if d.size else 0)
        # the masks may differ only along the NoData edge (half a source cell either way)
        maskdiff += (valid != (alpha > 0)).sum()
    print(z, total, bad, worst, maskdiff)
PY
while read -r z total bad worst maskdiff; do
    [ "$total" -gt 0 ] && [ "$bad" -le $((total / 1000)) ]
    ok $? "zoom $z: $total pixels, $bad more than 2 grey levels from gdalwarp -r bilinear (max $worst)"
    # zoom 15 is resampled, zoom 13 averaged from its children: a pixel that is partly over data
    # is kept (alpha < 255) where gdalwarp's point sample may fall on NoData: a wider edge band
    [ "$maskdiff" -le $((total / (z == 15 ? 50 : 20))) ]
    ok $? "zoom $z: NoData mask as gdalwarp's but for $maskdiff edge pixels"
done <"$T/cmp"
# PMTiles and folder hold the same tiles (pmtiles npm reader when available)
nd="${BENCH_DIR:-/tmp/ctgis-bench}/node-pmtiles"
if [ -f "$nd/node_modules/pmtiles/package.json" ]; then
    NODE_PATH="$nd/node_modules" node "$(dirname "$0")/../cli/pmtiles-reader/compare.cjs" "$T/ea5.pmtiles" "$T/xyz" >"$T/pm"
    grep -q '^mismatched: 0$' "$T/pm" && grep -q '^extra: 0$' "$T/pm"
    ok $? "PMTiles read by the pmtiles package equals the folder ($(sed -n 's/compared: //p' "$T/pm") tiles)"
else
    echo "ok 9 # SKIP pmtiles npm package not installed (run tests/cli/t720 first)"
fi
exit $_failed
