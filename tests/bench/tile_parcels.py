#!/usr/bin/python3
# tile_parcels.py N OUT.gpkg — N × N synthetic parcels (jittered quadrilaterals sharing their
# corners, ~20 m, EPSG:5897, attributes SoThua, MDSD, DienTich, Ten) for the MVT benchmark.
import random, sys
from osgeo import ogr, osr
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(7)
srs = osr.SpatialReference(); srs.ImportFromEPSG(5897)
ds = ogr.GetDriverByName('GPKG').CreateDataSource(out)
l = ds.CreateLayer('parcels', srs, ogr.wkbPolygon)
for name, t in (('SoThua', ogr.OFTInteger), ('MDSD', ogr.OFTString), ('DienTich', ogr.OFTReal), ('Ten', ogr.OFTString)):
    l.CreateField(ogr.FieldDefn(name, t))
codes = ['ODT', 'ONT', 'LUC', 'CLN', 'HNK', 'DGT', 'SON', 'TMD', 'NTS']
x0, y0, step = 580000.0, 1104000.0, 20.0
jit = [[(random.uniform(-5, 5), random.uniform(-5, 5)) for j in range(n + 1)] for i in range(n + 1)]
def c(i, j):
    return x0 + i * step + jit[i][j][0], y0 + j * step + jit[i][j][1]
ds.StartTransaction()
k = 0
for i in range(n):
    for j in range(n):
        p = [c(i, j), c(i + 1, j), c(i + 1, j + 1), c(i, j + 1), c(i, j)]
        f = ogr.Feature(l.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt('POLYGON((' + ','.join(f'{a:.3f} {b:.3f}' for a, b in p) + '))'))
        f.SetField('SoThua', k); f.SetField('MDSD', codes[(i * 7 + j * 3) % len(codes)])
        f.SetField('DienTich', round(step * step, 1)); f.SetField('Ten', 'Phường Tân An')
        l.CreateFeature(f); k += 1
ds.CommitTransaction()
