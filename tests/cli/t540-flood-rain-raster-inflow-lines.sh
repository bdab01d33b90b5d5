#!/usr/bin/env bash
# ct-flood simulate with rain as rasters and inflow along lines, against known answers: a
# uniform rain raster (resampled from a coarser grid, or from another CRS) gives the same bytes
# as the same constant rainfall; a raster scaled by a factor series likewise; rain on half of a
# closed basin stores the analytic volume, on 1 or 2 threads alike; rain grids switch at their
# times (the volume after each frame is known); an inflow line shares its flow among the cells
# it crosses in proportion to the length in each (exact fractions on a diagonal); two lines with
# their own hydrographs bring in the integral of them, and the mass balance closes.
. "$(dirname "$0")/lib.sh"
plan 15

asc() { # FILE W H CELL XLL YLL AWK-EXPR-FOR-z(c,r) [SRS]
    awk -v w="$2" -v h="$3" -v cs="$4" -v x0="$5" -v y0="$6" 'BEGIN { srand(7)
        print "ncols " w; print "nrows " h; print "xllcorner " x0; print "yllcorner " y0
        print "cellsize " cs; print "NODATA_value -9999"
        for (r = 0; r < h; r++) { s = ""; for (c = 0; c < w; c++) s = s (c ? " " : "") sprintf("%.4f", '"$7"'); print s } }' >"$T/$1.asc"
    gdal_translate -q -ot Float32 -a_srs "${8:-EPSG:5897}" "$T/$1.asc" "$T/$1.tif"
}
stat_of() { jq -r ".$2" "$T/$1.json"; }

# a closed bumpy basin, 200 x 120 cells of 10 m (2 000 x 1 200 m, 2.4 km2); the domain edges are walls
asc basin 200 120 10 500000 1100000 '0.5 * sin(c / 9.0) * cos(r / 7.0) + 0.2 * rand()'
# 1. rain rasters of 5 mm/h everywhere: coarser (40 m, bilinear), and the same in EPSG:4326
asc u5 60 40 40 499800 1099800 '5'
gdalwarp -q -t_srs EPSG:4326 -r near "$T/u5.tif" "$T/u5geo.tif"
asc u10 60 40 40 499800 1099800 '10'
printf 'time,factor\n0,0.5\n2h,0.5\n' >"$T/half-factor.csv"
sim() { # NAME ARGS...: a 30-minute run of the basin
    local n=$1; shift
    run ct-flood -q --json simulate --dem "$T/basin.tif" --set duration=30min --set output_interval=15min -o "$T/$n" "$@"
    cp "$T/out" "$T/$n.json"
}
sim const --set rainfall=5
sim ras --set rainfall_raster="$T/u5.tif"
sim geo --set rainfall_raster="$T/u5geo.tif"
sim fac --set rainfall_raster="$T/u10.tif" --set rainfall_series="$T/half-factor.csv"
cmp -s "$T/const/max_depth.tif" "$T/ras/max_depth.tif" && cmp -s "$T/const/depth-0001800s.tif" "$T/ras/depth-0001800s.tif"
ok $? "a uniform 5 mm/h raster (coarser grid, bilinear) gives the same bytes as rainfall = 5"
cmp -s "$T/const/depth-0001800s.tif" "$T/geo/depth-0001800s.tif"
ok $? "... and so does the raster in EPSG:4326, resampled onto the DEM grid"
cmp -s "$T/const/depth-0001800s.tif" "$T/fac/depth-0001800s.tif"
ok $? "a 10 mm/h raster with a rainfall_series factor of 0.5 gives the same bytes as rainfall = 5"
near "$(stat_of ras rain_m3)" 6000 0.01 "rain volume = 5 mm/h x 0.5 h x 2.4 km2 = 6000 m3 ($(stat_of ras rain_m3))"

# 2. rain on the west half only (a finer 5 m raster: averaged), 10 mm/h for 1 h: 12 000 m3 stored
asc west 400 240 5 500000 1100000 '(c < 200 ? 10 : 0)'
for th in 1 2; do
    run ct-flood -q --json --threads $th simulate --dem "$T/basin.tif" --set rainfall_raster="$T/west.tif" \
        --set duration=1h --set output_interval=1h -o "$T/west$th"
    cp "$T/out" "$T/west$th.json"
done
near "$(stat_of west1 storage_m3)" 12000 0.05 "half-basin rain: stored 10 mm/h x 1 h x 1.2 km2 = 12000 m3 ($(stat_of west1 storage_m3))"
near "$(stat_of west1 mass_error_pct)" 0 1e-4 "half-basin rain: mass error $(stat_of west1 mass_error_pct) %"
awk -v a="$(stat_of west1 mean_active_cells)" 'BEGIN { exit !(a > 12000 && a < 18000) }'
ok $? "the work follows the rain: $(stat_of west1 mean_active_cells) active cells a step of 24000"
cmp -s "$T/west1/max_depth.tif" "$T/west2/max_depth.tif" && cmp -s "$T/west1/mass_balance.csv" "$T/west2/mass_balance.csv"
ok $? "1 and 2 threads give the same bytes with a rain raster"

# 3. rain grids: 5 mm/h from 0, none from 30 min, the west half at 10 mm/h from 45 min
printf 'time,path\n0,u5.tif\n30min,none\n45min,west.tif\n' >"$T/frames.csv"
run ct-flood -q --json simulate --dem "$T/basin.tif" --set rainfall_grids="$T/frames.csv" --set duration=1h \
    --set output_interval=15min -o "$T/fr"
ok $rc "rain grids run"
got=$(awk -F, 'NR > 1 { printf "%s%.1f", (NR > 2 ? " " : ""), $8 }' "$T/fr/mass_balance.csv")
is "$got" "3000.0 6000.0 6000.0 9000.0" "storage after each 15 min: 5 mm/h on 2.4 km2, then none, then 10 mm/h on 1.2 km2"

# 4. an inflow line on a flat 10 x 10 grid of 10 m cells, from cell (0.5, 0.5) to (3.5, 2.0):
#    it crosses 5 cells with 1/6, 1/6, 1/6, 1/3 and 1/6 of its length; one step of 1 s at
#    1 m3/s puts 1/6 / 100 m2 = 1.6667 mm into the first cell (the first step moves no water)
asc flat 10 10 10 500000 1100000 '0'
printf 'WKT,name\n"LINESTRING (500005 1100095, 500035 1100080)",a\n' >"$T/l.csv"
ogr2ogr -q -a_srs EPSG:5897 "$T/line.gpkg" "$T/l.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
printf 'time,q_m3_per_s\n0,1\n100,1\n' >"$T/q1.csv"
run ct-flood -q --json simulate --dem "$T/flat.tif" --set inflow_lines="$T/line.gpkg" --set inflow_lines_series="$T/q1.csv" \
    --set duration=1 --set output_interval=1 -o "$T/li"
ok $rc "an inflow line runs"
gdal_translate -q -of XYZ "$T/li/depth-0000001s.tif" "$T/li.xyz"
got=$(awk '$3 > 0 { printf "%s%d,%d:%.7f", (n++ ? " " : ""), ($1 - 500005) / 10, (1100095 - $2) / 10, $3 }' "$T/li.xyz")
is "$got" "0,0:0.0016667 1,0:0.0016667 1,1:0.0016667 2,1:0.0033333 3,1:0.0016667" "depths in proportion to the line's length in each cell"

# 5. two lines, each with its hydrograph from a .bdy file named in a field; 2 h on the basin
cat >"$T/ls.csv" <<'E'
WKT,src
"LINESTRING (500305 1100905, 500705 1100605, 500905 1100655)",north
"LINESTRING (501205 1100205, 501605 1100305)",south
E
ogr2ogr -q -a_srs EPSG:5897 "$T/lines.gpkg" "$T/ls.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
cat >"$T/lines.bdy" <<'E'
inflow hydrographs, m3/s per line
north
4 seconds
0 0
2 600
2 1800
0 3600
south
2 seconds
1 0
1 7200
E
run ct-flood -q --json --threads 2 simulate --dem "$T/basin.tif" --set inflow_lines="$T/lines.gpkg" \
    --set inflow_lines_series="$T/lines.bdy" --set inflow_lines_field=src --set duration=2h --set output_interval=30min -o "$T/two"
ok $rc "two inflow lines with their own hydrographs run"
near "$(jq .inflow_m3 "$T/out")" 12000 1 "inflow = integral of the hydrographs: 4800 + 7200 m3 ($(jq .inflow_m3 "$T/out"))"
near "$(jq .mass_error_pct "$T/out")" 0 0.1 "mass error below 0.1 % of the inflow ($(jq .mass_error_pct "$T/out") %)"
exit $_failed
