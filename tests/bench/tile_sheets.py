#!/usr/bin/python3
# tile_sheets.py N OUT.gpkg [SHEET] — N × N synthetic cadastral parcels (jittered quadrilaterals
# sharing their corners, ~40 m, EPSG:5897 = VN-2000 / TM-3 105-00, in the city area) in map
# sheets of 25 × 25 parcels (1 km²), with the fields ct-ingest maps for cadastral data: SoTo,
# SoThua, DienTich, MucDich and the restricted TenChu. With SHEET, that sheet's parcels have
# another land use and its first parcel is moved 10 m east: the sheet as re-surveyed, for the
# nightly benchmark (b720).
import random, sys
from osgeo import ogr, osr
n, out = int(sys.argv[1]), sys.argv[2]
changed = int(sys.argv[3]) if len(sys.argv) > 3 else -1
random.seed(11)
srs = osr.SpatialReference(); srs.ImportFromEPSG(5897)
ds = ogr.GetDriverByName('GPKG').CreateDataSource(out)
l = ds.CreateLayer('parcels', srs, ogr.wkbPolygon)
for name, t in (('SoTo', ogr.OFTInteger), ('SoThua', ogr.OFTInteger), ('DienTich', ogr.OFTReal),
                ('MucDich', ogr.OFTString), ('TenChu', ogr.OFTString)):
    l.CreateField(ogr.FieldDefn(name, t))
codes = ['ODT', 'ONT', 'LUC', 'CLN', 'HNK', 'DGT', 'SON', 'TMD', 'NTS']
# from (540 km, 1 100 km): up to N = 1000 (40 km) the parcels stay in the area the SDI accepts
x0, y0, step, side = 540000.0, 1100000.0, 40.0, 25
sheets_x = (n + side - 1) // side
jit = [[(random.uniform(-8, 8), random.uniform(-8, 8)) for j in range(n + 1)] for i in range(n + 1)]
def c(i, j):
    return x0 + i * step + jit[i][j][0], y0 + j * step + jit[i][j][1]
ds.StartTransaction()
for i in range(n):
    for j in range(n):
        sheet = (j // side) * sheets_x + i // side + 1
        no = (j % side) * side + i % side + 1
        p = [c(i, j), c(i + 1, j), c(i + 1, j + 1), c(i, j + 1)]
        code = codes[(i * 7 + j * 3) % len(codes)]
        if sheet == changed:
            code = codes[(i * 7 + j * 3 + 1) % len(codes)]
            if no == 1:
                p = [(a + 10, b) for a, b in p]
        area = abs(sum(p[k][0] * p[(k + 1) % 4][1] - p[(k + 1) % 4][0] * p[k][1] for k in range(4))) / 2
        f = ogr.Feature(l.GetLayerDefn())
        f.SetGeometry(ogr.CreateGeometryFromWkt('POLYGON((' + ','.join(f'{a:.3f} {b:.3f}' for a, b in p + p[:1]) + '))'))
        f.SetField('SoTo', sheet); f.SetField('SoThua', no); f.SetField('DienTich', round(area, 1))
        f.SetField('MucDich', code); f.SetField('TenChu', 'Nguyễn Văn A')
        l.CreateFeature(f)
ds.CommitTransaction()
