#!/usr/bin/env bash
# A nightly MVT run where a change flips whether a neighbour is pinned (simplify_zoom keeps every
# vertex of a feature whose simplification comes out invalid, and its neighbours keep them too):
# N is a 0.8 m strip with a wiggly edge shared with parcel M; D touches N at one vertex, a node
# that makes N's simplified outline cross itself below zoom 17, so N is pinned. Deleting D un-pins
# N, and M, far enough from D not to be re-encoded by a patch, simplifies differently along the
# shared edge. The nightly archive and folder must still equal --full runs byte for byte: the
# patch sees N go from whole to simplified and makes the dirty tiles anew.
. "$(dirname "$0")/lib.sh"
plan 6

python3 - "$T" <<'PY'
import json, sys
x0, y0 = 585000.0, 1110000.0
P = lambda x, y: (x0 + x, y0 + y)
s1 = [P(x, 0.5 * (-1) ** (x // 5)) for x in range(5, 100, 5)]  # N | M, wiggles of +-0.5 m
s2 = [P(x, -0.3 if x in (45, 55) else 1.0 if x == 50 else 0.8) for x in range(5, 100, 5)]
A, B = P(0, 0), P(100, 0)
N = [A] + s1 + [B] + list(reversed(s2)) + [A]
M = [A, P(0, -50), P(100, -50), B] + list(reversed(s1)) + [A]
C = P(50, 1.0)
D = [C, P(55, 10), P(45, 10), C]
feat = lambda no, ring: {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"SoTo": 9, "SoThua": no, "DienTich": 0.0, "MucDich": "ODT"}}
crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5897"}}
for name, fs in (("v1", [feat(1, M), feat(2, N), feat(3, D)]), ("v2", [feat(1, M), feat(2, N)])):
    json.dump({"type": "FeatureCollection", "crs": crs, "features": fs}, open(f"{sys.argv[1]}/{name}.geojson", "w"))
PY
nightly_v1
nightly_load "$T/v2.geojson"
is "$(sqlite3 "$T/c.sqlite" "SELECT group_concat(op || ' ' || fkey, ', ') FROM sdi_change WHERE version = 2")" "remove 9/3" \
    "the parcel touching the strip is removed"
run ct-tile -q --json --name p sdi:parcels "$T/p.pmtiles"
ct-tile -q --full -z 14-17 --name p sdi:parcels "$T/f.pmtiles"
pm_same "$T/p.pmtiles" "$T/f.pmtiles"
ok $? "PMTiles: the nightly archive's tiles and directories equal a --full run's ($(jq -r '"\(.tiles_made) made, \(.tiles_patched) patched"' "$T/out"))"
is "$(jq -r .tiles_patched "$T/out")" 0 "the flip was seen: no tile was patched"
ct-tile -q --name p sdi:parcels "$T/p"
ct-tile -q --full -z 14-17 --name p sdi:parcels "$T/f"
diff -r -x metadata.json "$T/p" "$T/f" >/dev/null; ok $? "folder: the nightly tiles equal a --full run's"
# and back: D again pins N
nightly_load "$T/v1.geojson"
run ct-tile -q --json --name p sdi:parcels "$T/p.pmtiles"
ct-tile -q --full -z 14-17 --name p sdi:parcels "$T/f.pmtiles"
pm_same "$T/p.pmtiles" "$T/f.pmtiles"
ok $? "PMTiles, the parcel added back: the nightly archive equals a --full run's"
is "$(jq -r .tiles_patched "$T/out")" 0 "the flip was seen: no tile was patched"
exit $_failed
