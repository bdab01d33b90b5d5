#!/usr/bin/env bash
# ct-tile drawing a vector layer with a class style (cairo): 100 × 100 jittered parcels that share
# their corners, coloured by land-use code. Known parcels get their class colour; inside the
# parcel grid every pixel is opaque — no background line between neighbouring polygons; tiles
# meet without seams; the shipped TT 08/2024 style works; an unknown field is an error.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
plan 8
$py "$CT_TOP/tests/bench/tile_parcels.py" 100 "$T/parcels.gpkg"
cat >"$T/lu.style" <<'STYLE'
name test-landuse
field MDSD
class ODT #FFA0FF
class ONT #FFD0FF
class LUC #FFFC8C
class CLN #FFD2A0
class HNK #FFF0B4
class DGT #FFAA32
class SON #A0FFFF
class TMD #FAAAA0
class NTS #AAFFFF
STYLE
run ct-tile --json -z 16-18 -s "$T/lu.style" "$T/parcels.gpkg" "$T/xyz"
ok $rc "parcels drawn (zooms 16-18)"
is "$(jq -r '[.format, .features] | join(" ")' "$T/out")" "png 10000" "10 000 features, PNG tiles"

# parcel (i, j) = (50, 50): SoThua 5050, MDSD codes[(50*7 + 50*3) % 9] = codes[5] = DGT #FFAA32
read -r lon lat < <(echo "581010 1105010" | gdaltransform -s_srs EPSG:5897 -t_srs EPSG:4326 -output_xy)
$py - "$T" "$lon" "$lat" >"$T/res" <<'PY'
import glob, math, sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
T, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat, lon = (a, b) if abs(a) < abs(b) else (b, a)
def read(p):
    ds = gdal.Open(p)
    if ds.RasterCount == 1:
        ct = ds.GetRasterBand(1).GetColorTable()
        lut = np.array([ct.GetColorEntry(i) for i in range(ct.GetCount())], dtype=np.int32)
        return lut[ds.GetRasterBand(1).ReadAsArray()]
    arr = ds.ReadAsArray().astype(np.int32)
    if arr.shape[0] == 3:
        arr = np.concatenate([arr, np.full((1, 256, 256), 255, np.int32)])
    return np.moveaxis(arr, 0, -1)
z = 18
n = 2 ** z
fx = (lon + 180) / 360 * n
fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
t = read(f"{T}/xyz/{z}/{int(fx)}/{int(fy)}.png")
print("parcel", *t[int((fy % 1) * 256), int((fx % 1) * 256)])
# mosaic of zoom 18
fs = glob.glob(f"{T}/xyz/{z}/*/*.png")
xs = [int(f.split('/')[-2]) for f in fs]; ys = [int(f.split('/')[-1][:-4]) for f in fs]
x0, y0 = min(xs), min(ys)
M = np.zeros(((max(ys) - y0 + 1) * 256, (max(xs) - x0 + 1) * 256, 4), np.int32)
for f, x, y in zip(fs, xs, ys):
    M[(y - y0) * 256:(y - y0 + 1) * 256, (x - x0) * 256:(x - x0 + 1) * 256] = read(f)
al = M[:, :, 3] > 0
rows, cols = np.where(al)
r0, r1, c0, c1 = rows.min() + 25, rows.max() - 25, cols.min() + 25, cols.max() - 25
inner = M[r0:r1, c0:c1]
print("inner_min_alpha", inner[:, :, 3].min(), inner.shape[0] * inner.shape[1])
classes = {(0xFF, 0xA0, 0xFF), (0xFF, 0xD0, 0xFF), (0xFF, 0xFC, 0x8C), (0xFF, 0xD2, 0xA0), (0xFF, 0xF0, 0xB4),
           (0xFF, 0xAA, 0x32), (0xA0, 0xFF, 0xFF), (0xFA, 0xAA, 0xA0), (0xAA, 0xFF, 0xFF)}
flat = inner[:, :, :3].reshape(-1, 3)
exact = sum(((flat == np.array(c)).all(axis=1)).sum() for c in classes)
print("exact_class_fraction", round(exact / len(flat), 4))
# seams: colour changes between the last column of a tile and the first of the next, against
# changes between neighbouring columns inside tiles (same rows, inner box)
diff = (np.abs(np.diff(inner[:, :, :3], axis=1)).sum(axis=2) > 0)
cols_abs = np.arange(c0, c1 - 1)
edge = diff[:, (cols_abs % 256) == 255]
inside = diff[:, (cols_abs % 256) != 255]
print("seam", round(edge.mean(), 4), round(inside.mean(), 4))
PY
like "$T/res" '^parcel 255 170 50 255$' "parcel 5050 (DGT) has the class colour #FFAA32"
read -r _ amin npx < <(grep inner_min_alpha "$T/res")
is "$amin" "255" "no background between neighbouring parcels: all $npx inner pixels opaque"
read -r _ frac < <(grep exact_class_fraction "$T/res")
near "$frac" 1 0.1 "inner pixels are class colours but along parcel edges ($frac exact)"
read -r _ edge inside < <(grep seam "$T/res")
awk -v e="$edge" -v i="$inside" 'BEGIN { exit !(e <= 2 * i + 0.01) }'
ok $? "no seam at tile edges (colour changes across tile edges $edge, between columns inside $inside)"

run ct-tile -q -z 17 -s landuse-tt08 --class-field MDSD "$T/parcels.gpkg" "$T/tt08"
ok $rc "the shipped landuse-tt08 style draws the layer (--class-field MDSD)"
printf 'field LOAIDAT\nclass ODT #FFA0FF\n' >"$T/bad.style"
run ct-tile -q -z 17 -s "$T/bad.style" "$T/parcels.gpkg" "$T/bad"
like "$T/err" "layer parcels has no field LOAIDAT" "a style field the layer lacks: error naming both"
exit $_failed
