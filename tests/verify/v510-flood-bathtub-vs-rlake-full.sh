#!/usr/bin/env bash
# ct-flood bathtub against GRASS r.lake at full size, cell for cell: the EA Test 5 valley DEM
# (1378 x 1224 cells of 10 m, 82 % nodata around the valley) seeded at its inflow point, and a
# generated 2500 x 2500 delta-like DEM (a river, swells, closed pits behind rims, noise and a
# nodata margin) seeded in the river, several levels each in one ct-flood run. For every level:
# the flooded cells are the same (GRASS counts the cells where the two extents differ, in
# r.mapcalc), and so are the depths where both flood (to the mm: ct-flood's are whole mm). Needs grass (Debian grass-core).
set -u
: "${SHARED_DATA:=../shared/data}"
. "$(dirname "$0")/../cli/lib.sh"
D=$SHARED_DATA/ea-test5
command -v grass >/dev/null || skip_all "grass (Debian grass-core) is not installed"
plan 24
[ -d "$D" ] || { echo "not ok 1 - $D missing"; exit 1; }

# compare CASE EPSG SEED LEVELS...: r.lake at each level against ct-flood's extent and depth;
# prints "level flooded_rlake flooded_ct cells_differing max_depth_difference" per level
compare() {
    local case=$1 epsg=$2 seed=$3; shift 3
    cat >"$T/$case.sh" <<G
r.in.gdal --q input=$T/$case.tif output=dem && g.region raster=dem || exit 1
for l in $*; do
  r.lake --q --o elevation=dem water_level=\$l lake=lake coordinates=$seed || exit 1
  r.in.gdal --q --o input=$T/$case/extent-\$l.tif output=ext || exit 1
  gdal_translate -q -unscale -ot Float32 $T/$case/depth-\$l.tif $T/$case/m-\$l.tif || exit 1 # mm to m: r.in.gdal keeps the stored values
  r.in.gdal --q --o input=$T/$case/m-\$l.tif output=dep || exit 1
  for e in "a = if(isnull(lake), 0, 1)" "b = if(isnull(ext), 0, ext == 1)" "bad = a != b" "dd = if(a && b, abs(lake - dep), null())"; do
    r.mapcalc --q --o "\$e" || exit 1
  done
  echo "\$l \$(r.univar -g a | sed -n 's/^sum=//p') \$(r.univar -g b | sed -n 's/^sum=//p') \$(r.univar -g bad | sed -n 's/^sum=//p') \$(r.univar -g dd | sed -n 's/^max=//p')"
done
G
    grass --tmp-location "EPSG:$epsg" --exec bash "$T/$case.sh" 2>"$T/$case.log" || { sed "s/^/# /" "$T/$case.log" >&2; return 1; }
}
check() { # CASE: one ok per level from compare's lines
    while read -r l na nb bad dd; do
        [ "$bad" = 0 ] && [ "$na" -gt 0 ] && [ "$na" = "$nb" ]
        ok $? "$1 at $l m: extent identical to r.lake cell for cell ($na cells flooded, $bad differ)"
        awk -v d="$dd" 'BEGIN { exit !(d != "" && d <= 0.0005002) }' # whole mm, and r.lake's Float32
        ok $? "$1 at $l m: depths equal r.lake's to the mm (largest difference $dd m)"
    done <"$T/$1.cmp"
}

# 1. EA Test 5's valley, seeded at the first inflow point, 1 to 20 m above its ground
gdal_translate -q -ot Float32 -a_srs EPSG:27700 "/vsigzip/$D/ea5-10m.dem.raw.gz" "$T/ea5.tif"
g=$(gdallocationinfo -valonly -geoloc "$T/ea5.tif" 232620 830505)
levels=$(awk -v g="$g" 'BEGIN { split("1 3 6 10 20", a); for (i = 1; i <= 5; i++) printf "%s%.2f", (i > 1 ? "," : ""), g + a[i] }')
/usr/bin/time -f "%e" -o "$T/ea5.time" "$CT_BIN/ct-flood" -q bathtub --dem "$T/ea5.tif" --seed 232620,830505 --level "$levels" -o "$T/ea5" >"$T/ea5.out"
ok $? "ct-flood bathtub on EA Test 5 at $levels m ($(cat "$T/ea5.time") s)"
compare ea5 27700 232620,830505 ${levels//,/ } >"$T/ea5.cmp"
ok $? "r.lake ran at the same 5 levels"
check ea5

# 2. 2500 x 2500 cells of 5 m in EPSG:5897 (deterministic): the river along row 1200, swells of
#    +-1 m, a 0.4 m noise, twelve pits at 0.3 m behind their rims, a nodata margin of 40 cells
awk 'BEGIN { w = 2500; h = 2500; srand(11)
    print "ncols " w; print "nrows " h; print "xllcorner 580000"; print "yllcorner 1100000"
    print "cellsize 5"; print "NODATA_value -9999"
    for (r = 0; r < h; r++) { s = ""
        for (c = 0; c < w; c++) {
            if (c < 40 || r < 40 || c >= w - 40 || r >= h - 40) { s = s (c ? " " : "") "-9999"; continue }
            z = 1.6 + 1.0 * sin(c / 90.0) * cos(r / 70.0) + 0.4 * rand()
            if (r >= 1190 && r <= 1210) z = -1.5 + 0.1 * rand()
            if ((c % 600 - 300) ^ 2 + (r % 800 - 200) ^ 2 < 400) z = 0.3
            s = s (c ? " " : "") sprintf("%.3f", z) }
        print s } }' >"$T/delta.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/delta.asc" "$T/delta.tif"
rm -f "$T/delta.asc"
seed=581002.5,1106497.5 # column 200, row 1200: in the river
levels=1.80,1.90,2.00,2.29,2.79
/usr/bin/time -f "%e" -o "$T/delta.time" "$CT_BIN/ct-flood" -q bathtub --dem "$T/delta.tif" --seed $seed --level $levels -o "$T/delta" >"$T/delta.out"
ok $? "ct-flood bathtub on a 2500 x 2500 DEM at $levels m ($(cat "$T/delta.time") s)"
compare delta 5897 $seed ${levels//,/ } >"$T/delta.cmp"
ok $? "r.lake ran at the same 5 levels"
check delta
exit $_failed
