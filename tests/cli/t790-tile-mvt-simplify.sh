#!/usr/bin/env bash
# MVT simplification per zoom: 144 parcels whose shared edges wiggle by up to 0.8 m (15 vertices
# an edge, shared exactly by both neighbours) are tiled at zooms 15-18 and decoded by GDAL's MVT
# driver. Below the maximum zoom Douglas–Peucker (half a pixel) drops most vertices, yet every
# polygon stays valid and neighbours still share their edges: the pieces neither overlap (the
# union's area is the sum of the areas) nor leave gaps (the union is one polygon without holes).
# At the maximum zoom nothing is simplified.
. "$(dirname "$0")/lib.sh"
py=/usr/bin/python3
$py -c 'import osgeo' 2>/dev/null || skip_all "python3-gdal (osgeo) not installed"
plan 9
$py - "$T/wavy.gpkg" <<'PY'
import random, sys
from osgeo import ogr, osr
random.seed(3)
srs = osr.SpatialReference(); srs.ImportFromEPSG(5897)
ds = ogr.GetDriverByName('GPKG').CreateDataSource(sys.argv[1])
l = ds.CreateLayer('parcels', srs, ogr.wkbPolygon)
l.CreateField(ogr.FieldDefn('SoThua', ogr.OFTInteger))
n, s, k, x0, y0 = 12, 40.0, 15, 585200.0, 1109200.0
def corner(i, j): return (x0 + i * s, y0 + j * s)
def edge(a, b):  # the wiggly edge from corner a to corner b, the same points whichever side asks
    key = (min(a, b), max(a, b))
    if key not in edges:
        (ax, ay), (bx, by) = corner(*key[0]), corner(*key[1])
        pts = [(ax + (bx - ax) * t / (k + 1) + random.uniform(-0.8, 0.8) * (ay != by),
                ay + (by - ay) * t / (k + 1) + random.uniform(-0.8, 0.8) * (ax != bx)) for t in range(1, k + 1)]
        edges[key] = pts
    return edges[key] if (a, b) == key else edges[key][::-1]
edges = {}
no = 0
for i in range(n):
    for j in range(n):
        cs = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        ring = []
        for c in range(4):
            ring.append(corner(*cs[c])); ring.extend(edge(cs[c], cs[(c + 1) % 4]))
        ring.append(ring[0])
        f = ogr.Feature(l.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt('POLYGON((' + ','.join(f'{a:.3f} {b:.3f}' for a, b in ring) + '))'))
        f.SetField('SoThua', no); no += 1; l.CreateFeature(f)
PY
run ct-tile -q -z 15-18 "$T/wavy.gpkg" "$T/t"
ok $rc "144 wiggly parcels as MVT, zooms 15-18"
# zoom 15 holds them in one tile; GDAL clips the pieces of zoom 18 to their tiles
stats() { # stats ZOOM: vertices, valid, count, sum of areas, union area, union parts, union holes
    ogr2ogr -f CSV /vsistdout/ "$T/t/$1" -dialect sqlite -sql "select sum(st_npoints(geometry)) as v,
        sum(st_isvalid(geometry)) as ok, count(*) as n, sum(st_area(geometry)) as a, st_area(st_union(geometry)) as u,
        st_numgeometries(st_union(geometry)) as p, st_numinteriorring(st_union(geometry)) as h from parcels" 2>/dev/null |
        tail -1 | tr -d '"'
}
IFS=, read -r v15 ok15 n15 a15 u15 p15 h15 < <(stats 15)
IFS=, read -r v18 ok18 n18 a18 u18 p18 h18 < <(stats 18)
[ "$n15" -ge 144 ] && [ "$n18" -ge 144 ]; ok $? "every parcel decoded at zooms 15 ($n15 pieces) and 18 ($n18)"
[ "$v15" -lt $((v18 / 3)) ]; ok $? "zoom 15 keeps under a third of the vertices of zoom 18 ($v15 of $v18)"
is "$ok15" "$n15" "zoom 15: every polygon valid"
near "$a15" "$u15" "$(awk -v u="$u15" 'BEGIN { print u * 1e-9 }')" "zoom 15: no overlaps (sum of areas = area of the union)"
is "$p15 $h15" "1 0" "zoom 15: no gaps (the union is one polygon without holes)"
[ "$ok18" = "$n18" ] && awk -v a="$a18" -v u="$u18" 'BEGIN { d = a - u; exit !(d < 1e-6 * u && d > -1e-6 * u) }'
ok $? "zoom 18 (several tiles, not simplified): valid, no overlaps"
ct-tile -q -z 18 "$T/wavy.gpkg" "$T/only18"
diff -r -x metadata.json "$T/only18/18" "$T/t/18" >/dev/null; ok $? "the maximum zoom is not simplified (same tiles as a run of zoom 18 alone)"
ct-tile -q --threads 1 --name w -z 15-17 "$T/wavy.gpkg" "$T/t1.pmtiles"
ct-tile -q --threads 3 --name w -z 15-17 "$T/wavy.gpkg" "$T/t3.pmtiles"
cmp -s "$T/t1.pmtiles" "$T/t3.pmtiles"; ok $? "the same bytes with 1 and 3 threads"
exit $_failed
