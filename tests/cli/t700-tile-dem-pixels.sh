#!/usr/bin/env bash
# ct-tile on a DEM that is a plane (height = 0.001 × column): colours where the ramp puts them,
# NoData transparent, no seam between neighbouring tiles, each lower zoom the 2×2 average of its
# children, empty tiles not stored, the JSON summary, hillshade on the default style.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
px="$py $(dirname "$0")/tile-pixels.py"
$py -c 'import osgeo, numpy' 2>/dev/null || skip_all "python3-gdal (osgeo, numpy) not installed"
plan 21

$px make-dem "$T/plane.tif" 800 5
printf 'name plane\nstop 0 #000000\nstop 1 #FF0000\n' >"$T/red.style"
run ct-tile --json -z 13-16 -s "$T/red.style" "$T/plane.tif" "$T/xyz"
ok $rc "ct-tile exits 0"
is "$(jq -r '[.minzoom, .maxzoom, .sink, .format] | join(" ")' "$T/out")" "13 16 dir png" "JSON summary: zooms, sink, format"
n=$(find "$T/xyz" -name '*.png' | wc -l)
is "$(jq -r '.tiles_written' "$T/out")" "$n" "tiles_written counts the files"
is "$(jq -r '.tiles_written + .tiles_empty == .tiles_in_range' "$T/out")" "true" "every tile in range written or empty"

# A pixel near the centre: its height from the plane, through gdaltransform (pixel → lon/lat → VN-2000)
z=16
read -r tx ty < <(echo "105.7895 10.0295" | $py -c '
import math,sys
lon,lat=map(float,sys.stdin.read().split()); n=2**16
print(int((lon+180)/360*n), int((1-math.asinh(math.tan(math.radians(lat)))/math.pi)/2*n))')
f="$T/xyz/$z/$tx/$ty.png"
[ -f "$f" ]; ok $? "tile $z/$tx/$ty exists"
read -r lon lat < <($py -c "
import math
n=2**$z; x=($tx+128.5/256)/n*360-180; y=math.degrees(math.atan(math.sinh(math.pi*(1-2*($ty+128.5/256)/n))))
print(x, y)")
read -r e nn < <(echo "$lon $lat" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:5897 -output_xy 2>/dev/null | \
    awk '{print $1, $2}')
# EPSG:4326 in GDAL 3 is lat/lon: gdaltransform -output_xy takes x y = lon lat only with traditional order
[ "${e%%.*}" -lt 500000 ] && read -r e nn < <(echo "$lat $lon" | gdaltransform -s_srs EPSG:4326 -t_srs EPSG:5897 -output_xy)
want=$(awk -v e="$e" 'BEGIN { c = (e - 585000) / 5 - 0.5; v = 255 * 0.001 * c; printf "%d", v + 0.5 }')
read -r r g b a < <($px rgba "$f" 128 128)
near "$r" "$want" 1 "red channel is 255 × height at the pixel centre ($want)"
is "$g $b $a" "0 0 255" "green, blue and alpha of the ramp"

# the NoData corner (NW 100 m × 100 m) is transparent
read -r clon clat < <(echo "585030 1110970" | gdaltransform -s_srs EPSG:5897 -t_srs EPSG:4326 -output_xy)
$py - "$T/xyz" "$clon" "$clat" >"$T/corner" <<'PY'
import math, sys, subprocess
d, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat, lon = (a, b) if abs(a) < abs(b) else (b, a)
n = 2 ** 16
fx = (lon + 180) / 360 * n
fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
print(f"{d}/16/{int(fx)}/{int(fy)}.png {int((fx % 1) * 256)} {int((fy % 1) * 256)}")
PY
read -r cf cx cy <"$T/corner"
if [ -f "$cf" ]; then read -r _ _ _ ca < <($px rgba "$cf" "$cx" "$cy"); else ca=0; fi
is "$ca" "0" "NoData corner is transparent"

# no seam: the step across the edge between two neighbours is no larger than steps inside them
read -r edge inside < <($px seam "$T/xyz" $z "$tx" "$ty")
[ "$edge" -le $((inside + 1)) ]; ok $? "no seam between $z/$tx/$ty and its east neighbour (edge $edge, inside $inside)"
read -r edge inside < <($px seam "$T/xyz" 14 $((tx / 4)) $((ty / 4)))
[ "$edge" -le $((inside + 1)) ]; ok $? "no seam at zoom 14 either (edge $edge, inside $inside)"

# lower zooms are the alpha-weighted 2×2 average of their children, exactly
read -r d npx < <($px parent "$T/xyz" 15 $((tx / 2)) $((ty / 2)))
is "$d" "0" "zoom 15 tile equals the average of its four zoom-16 children ($npx pixels)"
read -r d npx < <($px parent "$T/xyz" 13 $((tx / 8)) $((ty / 8)))
is "$d" "0" "zoom 13 tile equals the average of its children (across blocks)"

# a flat ramp gives few colours: palette PNG (colour type 3 at byte 25)
printf 'interpolate discrete\nstop 0 #000000\nstop 0.4 #00FF00\n' >"$T/two.style"
run ct-tile -q -z 16 -s "$T/two.style" "$T/plane.tif" "$T/pal"
is "$(od -An -tu1 -j25 -N1 "$f" | tr -d ' ')" "3" "a gentle ramp (< 256 reds in a tile): palette PNG"
is "$(od -An -tu1 -j25 -N1 "$T/pal/16/$tx/$ty.png" | tr -d ' ')" "3" "two colours: palette PNG"

# the default style: hypsometric tint with hillshade (the tile is not flat-coloured)
run ct-tile -q -z 15 "$T/plane.tif" "$T/dem"
ok $rc "default style dem-hypsometry found and used"
[ -n "$(find "$T/dem" -name '*.png' | head -1)" ]; ok $? "tiles made with the default style"
# WebP
run ct-tile -q -z 15 -f webp -s "$T/red.style" "$T/plane.tif" "$T/webp"
is "$(find "$T/webp" -name '*.webp' | head -1 | xargs head -c 4)" "RIFF" "WebP tiles"
# an RGB raster (3 Byte bands, NoData 0): copied through GDALWarp, NoData transparent
gdal_translate -q -ot Byte -scale 0 0.8 1 255 -b 1 -b 1 -b 1 -a_nodata 0 "$T/plane.tif" "$T/rgb.tif" 2>/dev/null
run ct-tile -q -z 16 "$T/rgb.tif" "$T/rgb"
read -r r g b a < <($px rgba "$T/rgb/16/$tx/$ty.png" 128 128)
want=$(awk -v e="$e" 'BEGIN { c = (e - 585000) / 5 - 0.5; printf "%d", 1 + 254 * c / 800 + 0.5 }')
near "$r" "$want" 2 "RGB raster: grey of the pixel ($r, want $want)"
if [ -f "$cf" ]; then read -r _ _ _ ca < <($px rgba "${cf/xyz/rgb}" "$cx" "$cy"); else ca=0; fi
is "$g $b $a $ca" "$r $r 255 0" "RGB raster: R = G = B, opaque, its NoData corner transparent"
# flood depth with the shipped ramp: the plane is 0-0.8 m deep; < 5 cm is dry (transparent),
# 0.5-1 m is class #52A9EE (alpha 0xE0 = 224)
run ct-tile -q -z 16 --mode depth "$T/plane.tif" "$T/depth"
read -r r g b a < <($px rgba "$T/depth/16/$tx/$ty.png" 128 128)
dep=$(awk -v e="$e" 'BEGIN { print 0.001 * ((e - 585000) / 5 - 0.5) }')
if awk -v d="$dep" 'BEGIN { exit !(d >= 0.5) }'; then w="82 169 238 224"; elif awk -v d="$dep" 'BEGIN { exit !(d >= 0.25) }'; then w="142 207 248 217"; else w="198 233 255 204"; fi
is "$r $g $b $a" "$w" "depth $dep m: the flood-depth class colour"
read -r lon0 lat0 < <(echo "585100 1110000" | gdaltransform -s_srs EPSG:5897 -t_srs EPSG:4326 -output_xy)
$py - "$T/depth" "$lon0" "$lat0" >"$T/dry" <<'PY'
import math, sys
d, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat, lon = (a, b) if abs(a) < abs(b) else (b, a)
n = 2 ** 16
fx = (lon + 180) / 360 * n
fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
print(f"{d}/16/{int(fx)}/{int(fy)}.png {int((fx % 1) * 256)} {int((fy % 1) * 256)}")
PY
read -r df dx dy <"$T/dry"
if [ -f "$df" ]; then read -r _ _ _ da < <($px rgba "$df" "$dx" "$dy"); else da=0; fi
is "$da" "0" "2 cm deep (dry): transparent"
exit $_failed
