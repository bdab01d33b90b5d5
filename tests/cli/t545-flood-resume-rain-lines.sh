#!/usr/bin/env bash
# ct-flood simulate killed with SIGKILL half-way through a run with rain grids (frames switching
# before and after the checkpoint) and an inflow line, then continued with --resume: the results
# are the same bytes as an uninterrupted run, the partial folder is gone, and the run really
# restarted from a checkpoint in the middle (its log says where). The temporary files a run
# killed while writing leaves in the partial folder go too, and none reaches the outputs.
. "$(dirname "$0")/lib.sh"
plan 8

asc() { # FILE W H CELL XLL YLL AWK-EXPR-FOR-z(c,r)
    awk -v w="$2" -v h="$3" -v cs="$4" -v x0="$5" -v y0="$6" 'BEGIN { srand(7)
        print "ncols " w; print "nrows " h; print "xllcorner " x0; print "yllcorner " y0
        print "cellsize " cs; print "NODATA_value -9999"
        for (r = 0; r < h; r++) { s = ""; for (c = 0; c < w; c++) s = s (c ? " " : "") sprintf("%.4f", '"$7"'); print s } }' >"$T/$1.asc"
    gdal_translate -q -ot Float32 -a_srs EPSG:5897 "$T/$1.asc" "$T/$1.tif"
}
asc basin 203 120 10 500000 1100000 '0.5 * sin(c / 9.0) * cos(r / 7.0) + 0.2 * rand()'
asc u5 60 40 40 499800 1099800 '5'
asc west 400 240 5 500000 1100000 '(c < 200 ? 10 : 0)'
# rain: 5 mm/h for 1 h, none until 10 h (after the kill), then the west half at 10 mm/h; a line
# inflow of up to 3 m3/s
printf 'time,path\n0,u5.tif\n1h,none\n10h,west.tif\n' >"$T/frames.csv"
printf 'WKT,src\n"LINESTRING (500305 1100905, 500705 1100605, 500905 1100655)",north\n' >"$T/ls.csv"
ogr2ogr -q -a_srs EPSG:5897 "$T/lines.gpkg" "$T/ls.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO
printf 'time,q\n0,0\n30min,3\n2h,3\n3h,0\n' >"$T/q.csv"
cat >"$T/r.scn" <<E
model = simulate
dem = basin.tif
rainfall_grids = frames.csv
inflow_lines = lines.gpkg
inflow_lines_series = q.csv
duration = 16h
output_interval = 2h
checkpoint_interval = 20min
E

run ct-flood -q --threads 1 run "$T/r.scn" -o "$T/full"
ok $rc "the uninterrupted run"

# killed soon after its first checkpoint is written: a few hours into the 16 h
ct-flood --threads 2 run "$T/r.scn" -o "$T/part" 2>/dev/null &
pid=$!
ck="$T/part/.ct-flood.partial/checkpoint.bin"
for _ in $(seq 1 600); do
    [ -f "$ck" ] && break
    sleep 0.05
done
sleep 0.3
kill -9 $pid 2>/dev/null
wait $pid
is $? 137 "killed with SIGKILL while running"
# what a kill in the middle of a write leaves (the COG writer's and the text writers' temps),
# whether or not this kill hit one
: >"$T/part/.ct-flood.partial/.depth-0014400s.tif.tmp.Ab3dE9"
: >"$T/part/.ct-flood.partial/mass_balance.csv.tmp.99999"

ct-flood --threads 2 run "$T/r.scn" -o "$T/part" --resume >/dev/null 2>"$T/resume.log"
ok $? "--resume finishes the run"
t=$(sed -n 's/.*resuming at t = \([0-9.]*\) s.*/\1/p' "$T/resume.log")
awk -v t="${t:-0}" 'BEGIN { exit !(t > 0 && t < 10 * 3600) }'
ok $? "it resumed from a checkpoint before the last rain frame (t = ${t:-none} s)"
# every output (the grid is 203 cells wide: the kernels' row tails are used)
outs=$(cd "$T/full" && ls | grep -v '\.log$')
same=0
for f in $outs; do
    cmp -s "$T/full/$f" "$T/part/$f" || { same=1; echo "# $f differs" >&2; }
done
ok $same "the resumed run gives the same bytes as the uninterrupted one (1 thread against 2): $(echo $outs)"
CT_FLOOD_LANES=4 ct-flood -q --threads 2 run "$T/r.scn" -o "$T/v4" >/dev/null 2>&1
same=0
for f in $outs; do
    cmp -s "$T/full/$f" "$T/v4/$f" || { same=1; echo "# $f differs" >&2; }
done
ok $same "the 4-lane kernel (CT_FLOOD_LANES=4) gives the same bytes as the 8-lane one"
[ ! -e "$T/part/.ct-flood.partial" ]
ok $? "the partial folder is removed when the resumed run completes"
ok "$(ls -A "$T/part" | grep -c '\.tmp\.')" "no temporary file of the killed run among the outputs"
exit $_failed
