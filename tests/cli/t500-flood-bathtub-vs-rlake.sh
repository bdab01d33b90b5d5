#!/usr/bin/env bash
# ct-flood bathtub against GRASS r.lake on the same small DEM, level and seed: the extents agree
# cell for cell (8-connected), and so do the depths and the summary's volumes and greatest
# depths; the extents have one bit a cell, or eight with 255 where the DEM has a hole; several
# levels in one run agree with separate runs (also unsorted and 4-connected);
# dikes block water unless breached; 4-connectivity is stricter than 8; on a DEM with
# overviews, the rasters are valid COGs (GDAL's validator) and the same bytes on 1 and 2
# threads; extents ZSTD by default, DEFLATE with --deflate, the same cells; depths in whole mm
# (DEFLATE, Huffman-coded by ctgis, decoded by GDAL's zlib to the Float32 metres within half a mm) by
# default, Float32 on request, and ct-tile draws the mm ones in metres.
. "$(dirname "$0")/lib.sh"
command -v grass >/dev/null || skip_all "grass (Debian grass-core) is not installed"
plan 29

# 90 x 70 cells of 5 m in EPSG:5897: swells, a channel, a pit, and noise (deterministic)
awk 'BEGIN { w = 90; h = 70; srand(7)
    print "ncols " w; print "nrows " h; print "xllcorner 586000"; print "yllcorner 1109000"
    print "cellsize 5"; print "NODATA_value -9999"
    for (r = 0; r < h; r++) { s = ""
        for (c = 0; c < w; c++) {
            z = 1.6 + 1.0 * sin(c / 9.0) * cos(r / 7.0) + 0.4 * rand()
            if (r >= 33 && r <= 36) z = -1.5 + 0.1 * rand()          # the river
            if ((c - 70) ^ 2 + (r - 12) ^ 2 < 16) z = 0.3               # a pit behind a rim
            s = s (c ? " " : "") sprintf("%.3f", z) }
        print s } }' >"$T/dem.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/dem.asc" "$T/dem.tif"
seed=586100,1109172     # a river cell (column 20, row 35)

cat >"$T/rl.sh" <<G
r.in.gdal --q input=$T/dem.tif output=dem && g.region raster=dem || exit 1
for l in 1.80 2.29 2.79; do
  r.lake --q --o elevation=dem water_level=\$l lake=lake coordinates=$seed || exit 1
  r.out.gdal --q -c input=lake output=$T/rlake-\$l.tif format=GTiff type=Float32 nodata=-9999 || exit 1
done
G
grass --tmp-location EPSG:5897 --exec bash "$T/rl.sh" >"$T/grass.log" 2>&1
ok $? "r.lake ran at 1.80, 2.29 and 2.79 m"

run ct-flood -q bathtub --dem "$T/dem.tif" --seed $seed --level 1.80,2.29,2.79 -o "$T/o3"
ok $rc "ct-flood bathtub exits 0"

# compare flooded/not flooded cell by cell, and depths where flooded
cmp_lake() { # LEVEL -> "cells_rlake cells_ct mismatches max_depth_diff"
    gdal_translate -q -of XYZ "$T/rlake-$1.tif" "$T/a.xyz"
    gdal_translate -q -of XYZ "$T/o3/extent-$1.tif" "$T/b.xyz"
    gdal_translate -q -unscale -ot Float32 -of XYZ "$T/o3/depth-$1.tif" "$T/c.xyz" # mm to m
    paste -d' ' "$T/a.xyz" "$T/b.xyz" "$T/c.xyz" | awk '{ a = ($3 != -9999); b = ($6 == 1); n += a; m += b
        if (a != b) bad++; if (a && b) { d = $3 - $9; if (d < 0) d = -d; if (d > dm) dm = d } }
        END { printf "%d %d %d %.6f\n", n, m, bad + 0, dm + 0 }'
}
for l in 1.80 2.29 2.79; do
    read -r na nb bad dd < <(cmp_lake $l)
    is "$bad" 0 "level $l: extent identical to r.lake cell for cell ($na cells flooded)"
    # whole mm: half a mm, and Float32 rounding of r.lake's depth (1e-7 m at these depths)
    near "$dd" 0 0.0005002 "level $l: depth equals r.lake's to the nearest mm"
done
[ "$na" -gt 1000 ]; ok $? "the highest level floods a real area ($na cells)"

# the extent has one bit a cell when the DEM has ground everywhere; with a hole (the first 10
# cells of the first 10 rows without ground), eight, 255 in the hole and the same cells elsewhere
is "$(gdalinfo "$T/o3/extent-2.29.tif" | grep -cE 'NBITS=1|NoData')" 1 "extent: one bit a cell, no nodata value"
awk 'NR > 6 && NR <= 16 { for (i = 1; i <= 10; i++) $i = "-9999" } { print }' "$T/dem.asc" >"$T/hole.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/hole.asc" "$T/hole.tif"
run ct-flood -q bathtub --dem "$T/hole.tif" --seed $seed --level 2.29 -o "$T/hole"
bad=$(paste -d' ' <(gdal_translate -q -of XYZ "$T/o3/extent-2.29.tif" /vsistdout/) \
                  <(gdal_translate -q -of XYZ "$T/hole/extent-2.29.tif" /vsistdout/) |
      awk '{ c = (NR - 1) % 90; r = int((NR - 1) / 90); hole = c < 10 && r < 10
             if (hole ? $6 != 255 : $6 != $3) bad++ } END { print bad + 0 }')
is "$rc $bad $(gdalinfo "$T/hole/extent-2.29.tif" | grep -cE 'NBITS|NoData Value=255')" "0 0 1" \
   "extent over a DEM with a hole: Byte, 255 in the hole, the same cells elsewhere"

# the summary table agrees with the rasters
n229=$(awk -F, '$1 == "2.290" { print $4 }' "$T/o3/summary.csv")
read -r na nb bad dd < <(cmp_lake 2.29)
is "$n229" "$na" "summary.csv counts the flooded cells at 2.29 m"
# ... and gives the volume and greatest depth of r.lake's depths (cells of 25 m2; the volume
# printed to 0.1 m3, r.lake's Float32 depths within 1e-7 m a cell)
bad=0
for l in 1.80 2.29 2.79; do
    read -r vol dmax < <(gdal_translate -q -of XYZ "$T/rlake-$l.tif" /vsistdout/ |
        awk '$3 != -9999 { s += $3; if ($3 > m) m = $3 } END { printf "%.4f %.6f\n", s * 25, m }')
    read -r v2 d2 < <(awk -F, -v l=$l '$1 + 0 == l + 0 { print $7, $8 }' "$T/o3/summary.csv")
    awk -v a="$vol" -v b="$v2" -v c="$dmax" -v d="$d2" 'BEGIN { x = a - b; y = c - d
        exit !(b != "" && x < 0.1 && -x < 0.1 && y < 0.0006 && -y < 0.0006) }' ||
        { bad=1; echo "# level $l: volume $v2 m3, greatest depth $d2 m; r.lake's: $vol, $dmax"; }
done
is $bad 0 "summary.csv: each level's volume and greatest depth = the sum and maximum of r.lake's depths"

# one level per run gives the same extent as all levels in one run
run ct-flood -q bathtub --dem "$T/dem.tif" --seed $seed --level 2.29 -o "$T/one"
cmp -s <(gdal_translate -q -of XYZ "$T/one/extent-2.29.tif" /vsistdout/) \
       <(gdal_translate -q -of XYZ "$T/o3/extent-2.29.tif" /vsistdout/)
ok $? "one level alone = the same level among three"

# a 5 m dike from north to south at column 50, across the river: nothing east of it floods
cat >"$T/dike.geojson" <<'J'
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:5897"}},
 "features": [{"type": "Feature", "properties": {"crest": 5.0},
   "geometry": {"type": "LineString", "coordinates": [[586252.5, 1109000], [586252.5, 1109350]]}}]}
J
run ct-flood -q --json bathtub --dem "$T/dem.tif" --dikes "$T/dike.geojson" --seed $seed --level 2.79 -o "$T/dk"
ok $rc "bathtub with a dike exits 0"
east=$(gdal_translate -q -of XYZ -srcwin 51 0 39 70 "$T/dk/extent-2.79.tif" /vsistdout/ | awk '$3 == 1' | wc -l)
is "$east" 0 "no cell east of a 5 m dike floods at 2.79 m"
# the same dike, breached across the river
cat >"$T/breach.geojson" <<'J'
{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:5897"}},
 "features": [{"type": "Feature", "properties": {},
   "geometry": {"type": "Polygon", "coordinates": [[[586245, 1109160], [586260, 1109160], [586260, 1109190], [586245, 1109190], [586245, 1109160]]]}}]}
J
run ct-flood -q bathtub --dem "$T/dem.tif" --dikes "$T/dike.geojson" --set breaches="$T/breach.geojson" --seed $seed --level 2.79 -o "$T/br"
east=$(gdal_translate -q -of XYZ -srcwin 51 0 39 70 "$T/br/extent-2.79.tif" /vsistdout/ | awk '$3 == 1' | wc -l)
[ "$east" -gt 100 ]; ok $? "through a breach the east floods again ($east cells)"
# run again into the dike run's folder, without the dike: its outputs are replaced by this
# run's (the replaced files are closed on a thread of their own), nothing staged is left
run ct-flood -q bathtub --dem "$T/dem.tif" --seed $seed --level 2.79 -o "$T/dk"
same=0
for f in extent-2.79 depth-2.79; do
    cmp -s <(gdal_translate -q -of XYZ "$T/dk/$f.tif" /vsistdout/) <(gdal_translate -q -of XYZ "$T/o3/$f.tif" /vsistdout/) || same=1
done
is "$rc $same $(ls -A "$T/dk" | grep -c '^\.ct-flood')" "0 0 0" "a run over an earlier one's outputs replaces them, nothing staged left"
# 4-connectivity never floods more than 8
run ct-flood -q --json bathtub --connectivity 4 --dem "$T/dem.tif" --seed $seed --level 2.29 -o "$T/c4"
c4=$(jq ".levels[0].cells" "$T/out")
[ "$c4" -le "$n229" ]; ok $? "4-connected extent ($c4) <= 8-connected ($n229)"
# levels unsorted and repeated, 4 neighbours: each level continues from the last one's shore,
# and must give what a run at that level alone gives
run ct-flood -q bathtub --connectivity 4 --no-depth --dem "$T/dem.tif" --seed $seed --level 2.79,1.80,2.29,1.80 -o "$T/m4"
bad=0
for l in 1.80 2.29 2.79; do
    ct-flood -q bathtub --connectivity 4 --no-depth --dem "$T/dem.tif" --seed $seed --level $l -o "$T/s4-$l" || bad=1
    cmp -s <(gdal_translate -q -of XYZ "$T/s4-$l/extent-$l.tif" /vsistdout/) \
           <(gdal_translate -q -of XYZ "$T/m4/extent-$l.tif" /vsistdout/) || bad=1
done
is "$rc$bad" 00 "4-connected: four levels in one run (unsorted, one repeated) = three runs of one level"

# 1300 x 1100 cells (overviews at 650 and 325): the rasters are written by ctgis itself
gdal_translate -q -outsize 1300 1100 -r bilinear "$T/dem.tif" "$T/dem-big.tif"
run ct-flood -q --threads 1 bathtub --dem "$T/dem-big.tif" --seed $seed --level 1.80,2.29 -o "$T/big1"
run ct-flood -q --threads 2 bathtub --dem "$T/dem-big.tif" --seed $seed --level 1.80,2.29 -o "$T/big2"
same=0
for f in extent-1.80 depth-1.80 extent-2.29 depth-2.29; do cmp -s "$T/big1/$f.tif" "$T/big2/$f.tif" || same=1; done
is "$rc$same" 00 "1 and 2 threads write the same bytes"
bad=0
for f in extent-2.29 depth-2.29; do # python3-gdal's validator (the system python's)
    /usr/bin/python3 -m osgeo_utils.samples.validate_cloud_optimized_geotiff --full-check=yes -q "$T/big2/$f.tif" || bad=1
done
is $bad 0 "extent and depth are valid cloud-optimised GeoTIFFs (full check)"
is "$(gdalinfo "$T/big2/depth-2.29.tif" | grep -c 'Overviews: 650x550, 325x275')" 1 "depth has overviews at 650 x 550 and 325 x 275"
comp() { gdalinfo "$1" | sed -n 's/^ *COMPRESSION=//p'; }
run ct-flood -q bathtub --deflate --dem "$T/dem-big.tif" --seed $seed --level 2.29 -o "$T/big3"
is "$rc $(comp "$T/big2/depth-2.29.tif") $(comp "$T/big2/extent-2.29.tif") $(comp "$T/big3/depth-2.29.tif") $(comp "$T/big3/extent-2.29.tif")" \
   "0 DEFLATE ZSTD DEFLATE DEFLATE" "mm depths DEFLATE (Huffman-coded), extents ZSTD by default, DEFLATE with --deflate"
bad=0
for f in extent-2.29 depth-2.29; do # every level: full resolution and both overviews
    for ov in "" "-ovr 0" "-ovr 1"; do
        cmp -s <(gdal_translate -q $ov -of XYZ "$T/big2/$f.tif" /vsistdout/) \
               <(gdal_translate -q $ov -of XYZ "$T/big3/$f.tif" /vsistdout/) || bad=1
    done
done
is $bad 0 "ZSTD and DEFLATE rasters hold the same cells, overviews included"
# depths in whole mm (UInt16, scale 0.001, nodata 65535) by default; --depth-type float32 for
# Float32 metres: the two agree within half a mm everywhere; each overview is a mean rounded to
# the mm of the one before, half a mm more each: within 1 and 1.5 mm
is "$(gdalinfo "$T/big2/depth-2.29.tif" | grep -cE 'Type=UInt16|NoData Value=65535|Offset: 0, *Scale:0.001')" 3 \
   "depth is UInt16 mm with scale 0.001 and nodata 65535"
run ct-flood -q bathtub --depth-type float32 --dem "$T/dem-big.tif" --seed $seed --level 2.29 -o "$T/big4"
bad=0
for ov in "" "-ovr 0" "-ovr 1"; do
    tol=$(case "$ov" in "") echo 0.0005002 ;; *0) echo 0.0010002 ;; *) echo 0.0015002 ;; esac)
    # the mm as stored (GDAL gives overviews no scale of their own, as its COG driver writes them)
    paste -d' ' <(gdal_translate -q $ov -of XYZ "$T/big2/depth-2.29.tif" /vsistdout/) \
                <(gdal_translate -q $ov -of XYZ "$T/big4/depth-2.29.tif" /vsistdout/) |
        awk -v t="$tol" '{ d = $3 / 1000 - $6; if (d < 0) d = -d; if (d > t) bad++; n++ } END { exit !(n > 0 && bad == 0) }' || bad=1
done
is "$rc $bad $(gdalinfo "$T/big4/depth-2.29.tif" | grep -c 'Type=Float32')" "0 0 1" \
   "--depth-type float32: Float32 depths, within half a mm of the mm ones (overviews: 1, 1.5)"
run ct-flood -q bathtub --depth-type int8 --dem "$T/dem-big.tif" --seed $seed --level 2.29 -o "$T/big5"
is "$rc $(grep -c 'depth-type int8: uint16 or float32' "$T/err")" "2 1" "an unknown --depth-type is a usage error"
# ct-tile draws the mm raster in metres: the same tiles as from its cells converted to Float32
# metres by GDAL, at a zoom that reads the full resolution (read as stored, every wet cell would
# be 1 m deep or more: red)
gdal_translate -q -unscale -ot Float32 "$T/big2/depth-2.29.tif" "$T/m.tif"
printf 'interpolate discrete\nstop 0 #000000\nstop 1 #FF0000\n' >"$T/deep.style"
ct-tile -q -z 19 -s "$T/deep.style" "$T/big2/depth-2.29.tif" "$T/tmm" && ct-tile -q -z 19 -s "$T/deep.style" "$T/m.tif" "$T/tm"
rc=$?
n=$(find "$T/tm" -name '*.png' | wc -l)
is "$rc $([ "$n" -gt 0 ] && diff -r -x metadata.json "$T/tmm" "$T/tm" >/dev/null && echo same)" "0 same" "ct-tile reads the mm depths in metres ($n tiles)"
exit $_failed
