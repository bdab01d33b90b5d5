#!/usr/bin/env bash
# UK Environment Agency benchmark Test 5 (valley flooding after a dam failure; Néelz & Pender
# 2013), the full 30 h on the 10 m DEM with LISFLOOD-FP's own inputs (.bci, .bdy, .stage) read
# as they are, with the q-centred scheme (de Almeida et al. 2012; the plain Bates scheme rings by
# several metres in the ponds at gauges 3 and 4, the low-friction oscillation that paper cures):
# the run completes, the mass balance closes, all 7 gauges get wet, the flood reaches the valley
# gauges 1-5 in downstream order, the levels are smooth, and they are written as CSV and PNG.
# Prints peak levels and arrival times per gauge. Set EA5_DURATION to shorten the run.
set -u
: "${SHARED_DATA:=../shared/data}"
. "$(dirname "$0")/../cli/lib.sh"
D=$SHARED_DATA/ea-test5
plan 8
[ -d "$D" ] || { echo "not ok 1 - $D missing"; exit 1; }

sed -e "s|@DATA@|$D|g" -e "s|@DURATION@|${EA5_DURATION:-108000}|" "$(dirname "$0")/ea5.scn.in" >"$T/ea5.scn"
out=${EA5_OUT:-$T/out}
/usr/bin/time -f "%e %M" -o "$T/time" "$CT_BIN/ct-flood" -q --json --threads 2 run "$T/ea5.scn" -o "$out" >"$T/run.json"
ok $? "the full run completes"
read -r wall mem <"$T/time"
jq -r --arg wall "$wall" --arg mem "$mem" '"# \(.steps) steps, min dt \(.min_dt_s * 1000 | round / 1000) s, mean active cells \(.mean_active_cells | floor), wall \($wall) s, peak memory \(($mem | tonumber) / 1024 | floor) MB",
  "# inflow \(.inflow_m3 | round) m3, stored \(.storage_m3 | round) m3, mass error \(.mass_error_m3) m3 (\(.mass_error_pct) %)"' "$T/run.json"
pct=$(jq '.mass_error_pct | fabs' "$T/run.json")
awk -v p="$pct" 'BEGIN { exit !(p != "" && p < 0.1) }'
ok $? "mass balance closes: error $pct % of the inflow (< 0.1 %)"
in=$(jq '.inflow_m3' "$T/run.json")
# the hydrograph (0 -> 15 m2/s over 300-600 s, held to 1200 s, back to 0 at 6000 s) x 10 m x 20 points
awk -v v="$in" -v full="${EA5_DURATION:-108000}" 'BEGIN { if (full < 6000) exit 0; want = 20 * 10 * (0.5 * 300 * 15 + 600 * 15 + 0.5 * 4800 * 15); d = v - want; if (d < 0) d = -d; exit !(d < 1e-6 * want) }'
ok $? "inflow volume = the hydrograph's integral ($in m3)"
[ -s "$out/gauges.csv" ] && [ -s "$out/gauges.png" ] && [ "$(wc -l <"$out/gauges.csv")" -gt 100 ]
ok $? "gauge levels written as CSV and plotted as PNG"
echo "# gauge  ground_m  peak_level_m  time_of_peak_h  arrival_h (depth >= 0.1 m)"
awk -F, 'NR > 1 { printf "# %-6s %8.3f %12.3f %14.2f %10s\n", $1, $4, $5, $6 / 3600, $7 == "" ? "dry" : sprintf("%.2f", $7 / 3600) }' "$out/gauges_summary.csv"
wet=$(awk -F, 'NR > 1 && $7 != ""' "$out/gauges_summary.csv" | wc -l)
[ "$wet" -eq 7 ]; ok $? "all 7 gauges get wet ($wet)"
awk -F, 'NR > 1 && NR <= 6 { if ($7 == "" || (p != "" && $7 + 0 < p + 0)) bad = 1; p = $7 } END { exit bad }' "$out/gauges_summary.csv"
ok $? "the flood reaches gauges 1-5 in downstream order"
awk -F, 'NR > 1 { if ($5 - $4 <= 0) bad = 1 } END { exit bad }' "$out/gauges_summary.csv"
ok $? "every gauge peaks above its ground"
# no ringing: from 30 min after arrival, no 60 s reading moves more than 0.3 m
awk -F, -v ng=7 'NR > 1 { for (k = 2; k <= 1 + ng; k++) { if ($(k + ng) >= 0.1 && a[k] == "") a[k] = $1
    if (a[k] != "" && $1 > a[k] + 1800) { d = $k - p[k]; if (d < 0) d = -d; if (d > m) m = d } p[k] = $k } }
    END { printf "# largest 60 s level change after the arrival wave: %.3f m\n", m; exit !(m < 0.3) }' "$out/gauges.csv"
ok $? "gauge levels are smooth after the arrival wave (no numerical ringing)"
exit $_failed
