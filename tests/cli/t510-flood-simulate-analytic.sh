#!/usr/bin/env bash
# ct-flood simulate against known answers: a lake at rest over a bumpy bed stays still; the
# moving wet front over a flat frictional plane follows the analytic solution of Hunter et al.
# (2005) as used by Bates et al. (2010); an inflow into a closed basin conserves mass; the
# results are the same bytes on 1 and 2 threads; gauges, mass balance and maxima are written.
. "$(dirname "$0")/lib.sh"
plan 16

asc() { # W H CELL AWK-EXPR-FOR-z(c,r) -> stdout
    awk -v w="$1" -v h="$2" -v cs="$3" 'BEGIN { srand(11)
        print "ncols " w; print "nrows " h; print "xllcorner 500000"; print "yllcorner 1100000"
        print "cellsize " cs; print "NODATA_value -9999"
        for (r = 0; r < h; r++) { s = ""; for (c = 0; c < w; c++) s = s (c ? " " : "") sprintf("%.4f", '"$4"'); print s } }'
}

# 1. Lake at rest: 40 x 30 cells of 10 m, ground 0-1 m at random, water at 2 m held at the edges
asc 40 30 10 'rand()' >"$T/bumpy.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/bumpy.asc" "$T/bumpy.tif"
cat >"$T/rest.scn" <<'S'
name = lake at rest
model = simulate
dem = bumpy.tif
initial_level = 2.0
level = 2.0
sources = edges
duration = 1h
output_interval = 30min
S
run ct-flood -q run "$T/rest.scn" -o "$T/rest"
ok $rc "lake at rest runs"
vmax=$(gdalinfo -stats "$T/rest/max_velocity.tif" | sed -n 's/.*STATISTICS_MAXIMUM=//p')
near "$vmax" 0 1e-6 "lake at rest: every velocity below 1e-6 m/s (max $vmax)"
dmax=$(gdalinfo -stats "$T/rest/depth-0003600s.tif" | sed -n 's/.*STATISTICS_MAXIMUM=//p')
dmin=$(gdalinfo -stats "$T/rest/depth-0003600s.tif" | sed -n 's/.*STATISTICS_MINIMUM=//p')
awk -v a="$dmax" -v b="$dmin" 'BEGIN { exit !(a <= 2.0 && a > 1.9 && b >= 1.0 && b < 1.1) }'
ok $? "lake at rest: the surface is still at 2 m (depths $dmin-$dmax)"

# 2. Hunter et al. (2005): flat plane, n = 0.01, front speed u = 1 m/s, so that
#    h(x, t) = (7/3 n^2 u^2 (u t - x))^(3/7), held at x = 0 by a level series; 200 x 3 cells of 25 m
asc 200 3 25 '0' >"$T/flat.asc"
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/flat.asc" "$T/flat.tif"
awk 'BEGIN { print "time,level_m"; for (t = 0; t <= 3600; t += 10)
    printf "%d,%.6f\n", t, (t > 0 ? exp(3 / 7 * log(7 / 3 * 0.0001 * t)) : 0) }' >"$T/h0.csv"
cat >"$T/hunter.scn" <<'S'
name = Hunter et al. 2005 moving front
model = simulate
dem = flat.tif
manning = 0.01
water_level_series = h0.csv
seed = 500012.5,1100012.5, 500012.5,1100037.5, 500012.5,1100062.5
duration = 3600
output_interval = 3600
S
# tolerances: Bates within 2 cm up to 2 km and 7 cm where h > 0.4 m; the q-centred scheme (theta
# 0.9) diffuses the front a little more: 4 cm and 12 cm. Front within 300 m (400 m q-centred).
for scheme in bates qcentred; do
    if [ $scheme = bates ]; then t2=0.02 t3=0.07 tf=300; else t2=0.04 t3=0.12 tf=400; fi
    run ct-flood -q run "$T/hunter.scn" --set scheme=$scheme -o "$T/hu-$scheme"
    ok $rc "Hunter front ($scheme) runs"
    gdal_translate -q -of XYZ -srcwin 0 1 200 1 "$T/hu-$scheme/depth-0003600s.tif" "$T/hu.xyz"
    # x from the boundary cell's centre; errors where the analytic depth is over 0.4 m (x < 3 km)
    read -r e2 e3 front < <(awk '{ x = (NR - 1) * 25; a = x < 3600 ? exp(3 / 7 * log(7 / 3 * 0.0001 * (3600 - x))) : 0
        d = $3 - a; if (d < 0) d = -d
        if (x <= 2000 && d > e2) e2 = d; if (a > 0.4 && d > e3) e3 = d; if ($3 > 0.01) f = x }
        END { print e2 + 0, e3 + 0, f }' "$T/hu.xyz")
    near "$e2" 0 $t2 "Hunter ($scheme): depth within $t2 m of analytic for x <= 2 km (max error $e2 m)"
    near "$e3" 0 $t3 "Hunter ($scheme): within $t3 m wherever the analytic depth is over 0.4 m ($e3 m)"
    near "$front" 3600 $tf "Hunter ($scheme): the wet front at 3600 m +- $tf m after 1 h ($front m)"
done

# 3. Mass conservation: a 2-hour hydrograph and rain on a closed bumpy basin of 100 x 70 cells
asc 100 70 10 '2 * sin(c / 8.0) * cos(r / 6.0) + 0.3 * rand()' >"$T/basin.asc"   # 4 x 3 tiles: enough for two threads
gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/basin.asc" "$T/basin.tif"
printf 'x,y\n500105,1100205\n500305,1100105\n' >"$T/inflow.csv"
printf 'time,q\n0,0\n600,2\n1800,2\n3600,0\n' >"$T/hydro.csv"
printf 'name,x,y\nA,500105,1100205\nB,500505,1100305\n' >"$T/gauges.csv"
cat >"$T/basin.scn" <<'S'
model = simulate
dem = basin.tif
inflow = inflow.csv
inflow_series = hydro.csv
gauges = gauges.csv
manning = 0.03
rainfall = 5
duration = 2h
output_interval = 30min
S
run ct-flood -q --json --threads 1 run "$T/basin.scn" -o "$T/b1"
ok $rc "basin with inflows and rain runs"
pct=$(jq '.mass_error_pct' "$T/out")
near "$pct" 0 0.1 "mass error below 0.1 % of the inflow ($pct %)"
in=$(jq '.inflow_m3' "$T/out")
near "$in" $(( (2 * 10 * (300 + 1200 + 900)) * 2 )) 1 "inflow volume = the hydrograph integral x cell width x 2 points ($in m3)"
run ct-flood -q --threads 2 run "$T/basin.scn" -o "$T/b2"
cmp -s "$T/b1/max_depth.tif" "$T/b2/max_depth.tif" && cmp -s "$T/b1/gauges.csv" "$T/b2/gauges.csv" && \
    cmp -s "$T/b1/mass_balance.csv" "$T/b2/mass_balance.csv"
ok $? "1 and 2 threads give the same bytes (max depth, gauges, mass balance)"
[ -s "$T/b1/gauges.png" ] && [ "$(head -1 "$T/b1/gauges.csv")" = "time_s,A_level_m,B_level_m,A_depth_m,B_depth_m" ]
ok $? "gauge CSV and PNG plot written"
exit $_failed
