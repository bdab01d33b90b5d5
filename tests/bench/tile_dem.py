#!/usr/bin/python3
# tile_dem.py N OUT.tif — a deterministic N×N synthetic Mekong-delta DEM (5 m cells, EPSG:5897,
# Float32, NoData -9999 outside a river-cut irregular outline) for the ct-tile benchmarks/tests.
import sys
import numpy as np
from osgeo import gdal, osr

n, out = int(sys.argv[1]), sys.argv[2]
gdal.UseExceptions()
drv = gdal.GetDriverByName('GTiff')
ds = drv.Create(out, n, n, 1, gdal.GDT_Float32,
                ['TILED=YES', 'BLOCKXSIZE=512', 'BLOCKYSIZE=512', 'COMPRESS=DEFLATE', 'PREDICTOR=3', 'BIGTIFF=IF_SAFER'])
x0, y0, cell = 560000.0, 1130000.0, 5.0
ds.SetGeoTransform((x0, cell, 0, y0, 0, -cell))
srs = osr.SpatialReference()
srs.ImportFromEPSG(5897)
ds.SetProjection(srs.ExportToWkt())
band = ds.GetRasterBand(1)
band.SetNoDataValue(-9999)
step = 512
for r0 in range(0, n, step):
    rows = min(step, n - r0)
    y, x = np.mgrid[r0:r0 + rows, 0:n].astype(np.float64)
    # a gently tilted flood plain with levees, a meandering river and a few mounds
    z = 0.8 + 1.2 * (x / n) + 0.6 * np.sin(x / 310.0) * np.cos(y / 450.0) + 0.25 * np.sin((x + 2 * y) / 57.0)
    river = np.abs(y - (0.45 * n + 0.08 * n * np.sin(x / (0.11 * n)))) < 40
    z = np.where(river, -4.0 + 0.3 * np.cos(x / 90.0), z)
    z += 6.0 * np.exp(-(((x - 0.7 * n) / 300.0) ** 2 + ((y - 0.25 * n) / 260.0) ** 2))
    outside = (x + y) < 0.12 * n
    z = np.where(outside, -9999.0, z)
    band.WriteArray(z.astype(np.float32), 0, r0)
ds = None
