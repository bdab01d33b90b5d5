#!/usr/bin/env bash
# ct-tile --shard K/N and ct-tile merge: three shards of a cadastral sheet as vector tiles (and
# drawn in land-use colours) are disjoint, together hold every tile, and merge into an archive
# byte-identical to the unsharded run's, in PMTiles, MBTiles and a folder; a missing, repeated
# or foreign shard is refused naming it; a raster refuses --shard.
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to01.shp" ] || skip_all "no sample data (make samples)"
plan 17
src="$S/cadastral/thuadat-to01.shp"
for k in 0 1 2; do
    ct-tile -q -z 14-18 --name p --shard $k/3 "$src" "$T/s$k.pmtiles" &&
    ct-tile -q -z 14-18 --name p --shard $k/3 "$src" "$T/s$k.mbtiles" &&
    ct-tile -q -z 14-18 --name p --shard $k/3 "$src" "$T/d$k" &&
    ct-tile -q -z 15-17 --name p --shard $k/3 -s landuse-tt08 "$src" "$T/l$k.pmtiles" || echo "shard $k failed"
done >"$T/shards.log" 2>&1
is "$(cat "$T/shards.log")" "" "three shards in three sinks, and drawn"
ct-tile -q -z 14-18 --name p "$src" "$T/full.pmtiles"
ct-tile -q -z 14-18 --name p "$src" "$T/full.mbtiles"
ct-tile -q -z 14-18 --name p "$src" "$T/dfull"
ct-tile -q -z 15-17 --name p -s landuse-tt08 "$src" "$T/lfull.pmtiles"
n=$(find "$T/dfull" -name '*.pbf' | wc -l)
ns=$(for k in 0 1 2; do find "$T/d$k" -name '*.pbf' | wc -l; done | tr '\n' ' ')
is "$(echo $ns | awk '{ print $1 + $2 + $3 }')" "$n" "the shards hold $n tiles together ($ns)"
[ "$(echo $ns | awk '{ print ($1 > 0 && $2 > 0 && $3 > 0) }')" = 1 ]; ok $? "every shard has tiles"
is "$( (cd "$T" && for k in 0 1 2; do (cd d$k && find . -name '*.pbf'); done) | sort | uniq -d | wc -l)" "0" \
   "no tile is in two shards"
is "$(jq -r .shard "$T/d1/metadata.json")" "1/3" "a shard records K/N"
run ct-tile --json merge "$T/m.pmtiles" "$T/s2.pmtiles" "$T/s0.pmtiles" "$T/s1.pmtiles"
ok $rc "merge, shards in any order"
cmp -s "$T/m.pmtiles" "$T/full.pmtiles"; ok $? "PMTiles: merged = unsharded, byte for byte"
ct-tile -q merge "$T/m.mbtiles" "$T/s0.mbtiles" "$T/s1.mbtiles" "$T/s2.mbtiles"
cmp -s "$T/m.mbtiles" "$T/full.mbtiles"; ok $? "MBTiles: merged = unsharded, byte for byte"
ct-tile -q merge "$T/dm" "$T/d0" "$T/d1" "$T/d2"
diff -r "$T/dm" "$T/dfull" >/dev/null; ok $? "folder: merged = unsharded, file for file"
ct-tile -q merge "$T/lm.pmtiles" "$T/l0.pmtiles" "$T/l1.pmtiles" "$T/l2.pmtiles"
cmp -s "$T/lm.pmtiles" "$T/lfull.pmtiles"; ok $? "drawn tiles: merged = unsharded"
run ct-tile merge "$T/x.pmtiles" "$T/s0.pmtiles" "$T/s1.pmtiles"
is "$rc $(grep -c 's0.pmtiles: shard 0/3 does not fit: 2 shards given' "$T/err")" "2 1" "a missing shard: refused, naming one"
run ct-tile merge "$T/x.pmtiles" "$T/s0.pmtiles" "$T/s0.pmtiles" "$T/s1.pmtiles"
like "$T/err" "s0.pmtiles: shard 0/3 does not fit: 3 shards given, this one twice" "a repeated shard: refused"
run ct-tile merge "$T/x.pmtiles" "$T/s0.pmtiles" "$T/full.pmtiles" "$T/s2.pmtiles"
like "$T/err" "full.pmtiles: not a shard that ct-tile --shard made" "an unsharded tileset: refused"
# shards made without --name (each named after its file) merge into what the unsharded run
# writes to the same output name
mkdir -p "$T/u" "$T/m"
for k in 0 1; do ct-tile -q -z 14-16 --shard $k/2 "$src" "$T/u$k.pmtiles"; done
ct-tile -q -z 14-16 "$src" "$T/u/one.pmtiles"
ct-tile -q merge "$T/m/one.pmtiles" "$T/u1.pmtiles" "$T/u0.pmtiles"
cmp -s "$T/m/one.pmtiles" "$T/u/one.pmtiles"; ok $? "unnamed shards: merged = unsharded, name included"
# a shard of another input fits in kind, zooms and count, but not in bounds or layers
ct-tile -q -z 14-16 --shard 1/2 "$S/cadastral/thuadat-to02.shp" "$T/other1.pmtiles"
run ct-tile merge "$T/x.pmtiles" "$T/u0.pmtiles" "$T/other1.pmtiles"
is "$rc $(grep -c 'other1.pmtiles: shard 1/2 does not fit' "$T/err") $([ -e "$T/x.pmtiles" ] && echo made)" "2 1 " \
   "a shard of another input: refused, naming it, nothing written"
run ct-tile merge "$T/dm2" "$T/d0/" "$T/d1/" "$T/d2/"
diff -r "$T/dm2" "$T/dfull" >/dev/null; ok $? "folders named with a trailing /: merged = unsharded"
run ct-tile --shard 0/2 -z 12-13 "$S/dem/dem-5m.tif" "$T/r.pmtiles"
is "$rc $([ -e "$T/r.pmtiles" ] && echo made)" "1 " "a raster refuses --shard, nothing written"
exit $_failed
