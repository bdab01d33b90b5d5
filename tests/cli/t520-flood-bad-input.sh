#!/usr/bin/env bash
# ct-flood on bad input: a DEM with NaN cells or without CRS, points off the grid, a series that
# goes back in time, a level below every cell, an unstable setting, bad scenario lines and keys,
# rain rasters without CRS, rain grids out of order or missing, inflow lines off the grid or
# without CRS.
# Each gives a clear message naming the file/line/key, exit 1 (2 for usage), no crash, and
# leaves the output folder as it was.
. "$(dirname "$0")/lib.sh"
plan 37

mk() { # NAME AWK-z-EXPR [SRS]
    awk 'BEGIN { print "ncols 20"; print "nrows 15"; print "xllcorner 586000"; print "yllcorner 1109000"
        print "cellsize 5"; print "NODATA_value -9999"
        for (r = 0; r < 15; r++) { s = ""; for (c = 0; c < 20; c++) s = s (c ? " " : "") sprintf("%s", '"$2"'); print s } }' >"$T/$1.asc"
    gdal_translate -q -ot Float32 ${3:+-a_srs $3} "$T/$1.asc" "$T/$1.tif"
}
mk good '1 + (c + r) / 10' EPSG:5897
mk nocrs '1 + (c + r) / 10'
mk nan '(c == 7 && r == 3) ? "nan" : 1 + c / 10' EPSG:5897
mkdir -p "$T/o"
echo "previous result" >"$T/o/summary.csv"
before=$(ls -A "$T/o" | tr '\n' ' ')

run ct-flood bathtub --dem "$T/nan.tif" --level 2 -o "$T/o"
is "$rc" 1 "DEM with a NaN cell: exit 1"
like "$T/err" 'nan.tif: 1 cells are NaN or infinite but not declared nodata \(first at column 7, row 3\)' "names the file and the first NaN cell"

run ct-flood bathtub --dem "$T/nocrs.tif" --level 2 -o "$T/o"
is "$rc" 1 "DEM without CRS: exit 1"
like "$T/err" "nocrs.tif: the DEM has no CRS: .*'crs'" "says how to give one"
run ct-flood -q bathtub --dem "$T/nocrs.tif" --set crs=vn2000:105 --level 2 -o "$T/crs"
ok $rc "... and runs once the scenario's crs key gives it"

run ct-flood bathtub --dem "$T/good.tif" --level 0.5,2 -o "$T/o"
is "$rc" 1 "a level below every cell: exit 1"
like "$T/err" 'level: 0.5 m is below every cell of the DEM \(lowest ground 1.000 m\)' "names the level and the lowest ground"

run ct-flood bathtub --dem "$T/good.tif" --seed 1,2 --level 2 -o "$T/o"
is "$rc" 1 "a seed off the grid: exit 1"
like "$T/err" 'seed: point 1.000 2.000 is off the DEM grid' "names the point"

printf 'x,y\n586050,1109030\n590000,1109030\n' >"$T/inflow.csv"
printf 'time,q\n0,0\n600,1\n' >"$T/q.csv"
run ct-flood simulate --dem "$T/good.tif" --set inflow="$T/inflow.csv" --set inflow_series="$T/q.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "an inflow point off the grid: exit 1"
like "$T/err" 'inflow.csv:3: inflow: point 590000.000 1109030.000 is off the DEM grid' "names the file, line and point"

printf 'name,x,y\nA,586050,1109030\nB,586050,1000000\n' >"$T/gauges.csv"
printf 'x,y\n586050,1109030\n' >"$T/in1.csv"
run ct-flood simulate --dem "$T/good.tif" --set inflow="$T/in1.csv" --set gauges="$T/gauges.csv" --set inflow_series="$T/q.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "a gauge off the grid: exit 1"
like "$T/err" 'gauges.csv:3: gauges: point 586050.000 1000000.000 is off the DEM grid' "names the file, line and point"

printf 'time,level_m\n0,1.0\n3600,1.5\n1800,1.2\n' >"$T/tide.csv"
run ct-flood simulate --dem "$T/good.tif" --set water_level_series="$T/tide.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "a time series that goes back in time: exit 1"
like "$T/err" 'tide.csv:4: time 1800 does not increase' "names the file and line"

printf 'time,level_m\n0,1.5\n7200,1.5\n' >"$T/flat.csv"
run ct-flood simulate --dem "$T/good.tif" --set water_level_series="$T/flat.csv" --set alpha=1.5 --set duration=1h -o "$T/o"
is "$rc" 1 "alpha above 1: exit 1"
like "$T/err" 'alpha: 1.5 is an unstable setting' "says the setting is unstable"
# a huge inflow into one cell forces the time step below min_timestep: the run stops cleanly
printf 'x,y\n586050,1109030\n' >"$T/one.csv"
printf 'time,q\n0,1e3\n3600,1e3\n' >"$T/flood.csv"
run ct-flood simulate --dem "$T/good.tif" --set inflow="$T/one.csv" --set inflow_series="$T/flood.csv" --set min_timestep=0.05 --set duration=1h -o "$T/o"
is "$rc" 1 "a collapsing time step stops the run: exit 1"
like "$T/err" 'unstable: the time step collapsed to .* at t = ' "names the time step and the time"

run ct-flood simulate --dem "$T/good.tif" --set rainfall_raster="$T/nocrs.tif" --set duration=1h -o "$T/o"
is "$rc" 1 "a rain raster without CRS: exit 1"
like "$T/err" '--set: rainfall_raster: .*nocrs.tif: the raster has no CRS' "names the key and the file"
printf 'time,path\n0,good.tif\n1h,good.tif\n30min,good.tif\n' >"$T/frames.csv"
run ct-flood simulate --dem "$T/good.tif" --set rainfall_grids="$T/frames.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "rain grids that go back in time: exit 1"
like "$T/err" 'frames.csv:4: time 1800 does not increase' "names the file and line"
printf 'time,path\n0,good.tif\n600,missing.tif\n' >"$T/frames2.csv"
run ct-flood simulate --dem "$T/good.tif" --set rainfall_grids="$T/frames2.csv" --set duration=1h -o "$T/o"
like "$T/err" 'frames2.csv: frame at 600 s: .*/missing.tif: no such file' "a missing rain grid names the series file, the frame and the path (exit $rc)"
printf 'WKT,id\n"LINESTRING (586050 1109030, 586150 1109030)",1\n' >"$T/off.csv"
ogr2ogr -q -a_srs EPSG:5897 "$T/off.gpkg" "$T/off.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
ogr2ogr -q "$T/nocrs-lines.shp" "$T/off.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
run ct-flood simulate --dem "$T/good.tif" --set inflow_lines="$T/off.gpkg" --set inflow_lines_series="$T/q.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "an inflow line half off the grid: exit 1"
like "$T/err" "off.gpkg: feature 1: inflow_lines: 50.000 m of the line's 100.000 m lie off the DEM grid" "names the file, the feature and how much is off"
run ct-flood simulate --dem "$T/good.tif" --set inflow_lines="$T/nocrs-lines.shp" --set inflow_lines_series="$T/q.csv" --set duration=1h -o "$T/o"
is "$rc" 1 "an inflow line layer without CRS: exit 1"
like "$T/err" 'nocrs-lines.shp: inflow_lines: the layer has no CRS' "names the file and the key"
printf 'WKT,id\n"LINESTRING (586010 1109030, 586040 1109030)",1\n,2\n' >"$T/nogeom.csv"
ogr2ogr -q -a_srs EPSG:5897 "$T/nogeom.gpkg" "$T/nogeom.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
run ct-flood simulate --dem "$T/good.tif" --set inflow_lines="$T/nogeom.gpkg" --set inflow_lines_series="$T/q.csv" --set duration=1h -o "$T/o"
like "$T/err" 'nogeom.gpkg: inflow_lines: feature 2 has no geometry' "an inflow line without geometry: named, not skipped (exit $rc)"
run ct-flood simulate --dem "$T/good.tif" --set rainfall_raster="$T/good.tif" --set rainfall=3 --set duration=1h -o "$T/o"
is "$rc" 2 "rainfall and rainfall_raster together: a usage error"

cat >"$T/bad.scn" <<'S'
name = bad
model = bathtub
dem = good.tif
levle = 2.0
S
run ct-flood run "$T/bad.scn" -o "$T/o"
is "$rc" 1 "an unknown key in a scenario: exit 1"
like "$T/err" "bad.scn:4: unknown key 'levle'" "names the file, line and key"
run ct-flood bathtub --dem "$T/good.tif" --set level=2.2x -o "$T/o"
like "$T/err" "--set: level: '2.2x' is not a number" "a bad --set value names --set and the key"
run ct-flood bathtub --dem "$T/good.tif" --set colour=blue -o "$T/o"
is "$rc" 2 "an unknown key on the command line is a usage error"
run ct-flood flood "$T/bad.scn"
is "$rc" 2 "an unknown command is a usage error"

is "$(ls -A "$T/o" | tr '\n' ' ')" "$before" "no failed run left anything in the output folder"
is "$(cat "$T/o/summary.csv")" "previous result" "and the previous result is untouched"
exit $_failed
