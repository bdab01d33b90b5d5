#!/usr/bin/env bash
# b720 — the nightly run against the full run: B720_N × B720_N synthetic parcels (default 1 000 000:
# ~40 m, in map sheets of 1 km², tests/bench/tile_sheets.py; 40 km × 40 km, the extent of b700's
# 8000 × 8000 DEM and about the city's cadastre) ingested into an SDI and tiled as MVT, zooms
# 14-18, into PMTiles. Then one sheet is ingested again with every parcel's land use changed and
# one parcel moved (625 changes): the full run (--full) and the nightly run (default --since)
# make the same archive; prints wall and CPU time, peak memory and the ratios (goal >= 50x) and
# whether the two archives are identical. Reports; does not assert.
# The nightly run costs about the same at any size (loading GDAL's libraries, the SDI and the
# changed sheet's features, copying the archive), the full run grows with the city: B720_N=450
# (202 500 parcels, a fifth of the city) gives the ratio of a smaller SDI.
set -u
: "${CT_BIN:=$(cd "$(dirname "$0")/../../build/bin" && pwd)}"
top=$(cd "$(dirname "$0")/../.." && pwd)
n=${B720_N:-1000}
B=${BENCH_DIR:-/tmp/ctgis-bench}/b720-n$n
mkdir -p "$B/v1" "$B/v2"
py=/usr/bin/python3
if [ ! -f "$B/city-v1.sqlite" ]; then
    rm -rf "$B"/city-v1.sqlite* "$B"/v?/parcels.gpkg
    $py "$top/tests/bench/tile_sheets.py" "$n" "$B/v1/parcels.gpkg" && $py "$top/tests/bench/tile_sheets.py" "$n" "$B/v2/parcels.gpkg" 170 \
        || { echo "b720: needs python3-gdal"; exit 1; }
    "$CT_BIN/ct-sdi" -q --sdi "$B/city-v1.sqlite" init >/dev/null &&
        "$CT_BIN/ct-ingest" -q --sdi "$B/city-v1.sqlite" cadastral "$B/v1/parcels.gpkg" || { echo "b720: ingest failed"; exit 1; }
fi
sdi="$B/city.sqlite"
rm -rf "$sdi" "$sdi.rasters" "$B"/*.pmtiles
cp "$B/city-v1.sqlite" "$sdi"
threads=2
measure() { # measure NAME CMD...: wall s, CPU s (user + sys), peak MB into $B/NAME.time
    local n=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$B/$n.time" "$@" >"$B/$n.out" 2>"$B/$n.err" || { echo "b720: $n failed"; cat "$B/$n.err"; exit 1; }
    awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 / 1024 }' "$B/$n.time"
}
tile=("$CT_BIN/ct-tile" -q --json --threads $threads --sdi "$sdi" --name parcels)
measure first "${tile[@]}" -z 14-18 sdi:parcels "$B/nightly.pmtiles" >/dev/null
"$CT_BIN/ct-ingest" -q --sdi "$sdi" cadastral "$B/v2/parcels.gpkg" >/dev/null 2>&1
changes=$(sqlite3 "$sdi" "SELECT count(*) FROM sdi_change WHERE version = 2")
read -r f_s f_cpu f_mb < <(measure full "${tile[@]}" --full -z 14-18 sdi:parcels "$B/full.pmtiles")
read -r n_s n_cpu n_mb < <(measure nightly "${tile[@]}" sdi:parcels "$B/nightly.pmtiles")
tiles=$(jq -r '"\(.tiles_written) tiles"' "$B/full.out")
same=$(cmp -s "$B/full.pmtiles" "$B/nightly.pmtiles" && echo "identical" || echo "DIFFERENT")
echo "b720 nightly vs full, $((n * n)) parcels, MVT z14-18 PMTiles ($tiles), one sheet changed ($changes changes), $threads threads, load $(cut -d' ' -f1 /proc/loadavg)"
printf '  %-34s %7.2f s wall %7.2f s CPU  peak %4d MB\n' "ct-tile --full" "$f_s" "$f_cpu" "$f_mb"
printf '  %-34s %7.2f s wall %7.2f s CPU  peak %4d MB  (%s)\n' "ct-tile nightly (default --since)" "$n_s" "$n_cpu" "$n_mb" \
    "$(jq -r '"\(.tiles_made) tiles made, \(.tiles_kept) kept, \(.features) features read"' "$B/nightly.out")"
awk -v a="$f_s" -v b="$n_s" -v c="$f_cpu" -v d="$n_cpu" 'BEGIN { printf "  ratio full / nightly: %.1fx wall, %.1fx CPU (goal >= 50x)\n", a / b, c / d }'
echo "  archives: $same"
rm -f "$B"/*.pmtiles
