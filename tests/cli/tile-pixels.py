#!/usr/bin/python3
# tile-pixels.py — pixel checks on XYZ tile folders for the ct-tile tests (GDAL's PNG driver
# decodes; palettes are expanded).
#   make-dem OUT.tif N CELL        N×N Float32 plane z = 0.001 * column (EPSG:5897, NoData -9999 in
#                                  the NW 20×20 corner)
#   rgba TILE.png X Y              the RGBA of one pixel
#   seam DIR Z X Y                 largest colour step across the edge between tiles x and x+1
#                                  (row y), and the largest step between two columns inside them
#   parent DIR Z X Y               largest difference between tile Z/X/Y and the 2×2 average of
#                                  its children (alpha-weighted, as ct-tile averages)
import sys
import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def read(path):
    ds = gdal.Open(path)
    if ds.RasterCount == 1 and ds.GetRasterBand(1).GetColorTable() is not None:
        ct = ds.GetRasterBand(1).GetColorTable()
        lut = np.array([ct.GetColorEntry(i) for i in range(ct.GetCount())], dtype=np.uint8)
        return lut[ds.GetRasterBand(1).ReadAsArray()].astype(np.int32)
    a = ds.ReadAsArray().astype(np.int32)
    if a.shape[0] == 3:
        a = np.concatenate([a, np.full((1,) + a.shape[1:], 255, np.int32)])
    return np.moveaxis(a, 0, -1)


def tile(d, z, x, y):
    try:
        return read(f"{d}/{z}/{x}/{y}.png")
    except Exception:
        return np.zeros((256, 256, 4), np.int32)


cmd = sys.argv[1]
if cmd == "make-dem":
    out, n, cell = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    ds = gdal.GetDriverByName("GTiff").Create(out, n, n, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((585000, cell, 0, 1111000, 0, -cell))
    s = osr.SpatialReference()
    s.ImportFromEPSG(5897)
    ds.SetProjection(s.ExportToWkt())
    z = np.tile(np.arange(n, dtype=np.float32) * 0.001, (n, 1))
    z[:20, :20] = -9999
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(-9999)
    b.WriteArray(z)
elif cmd == "rgba":
    a = read(sys.argv[2])
    print(*a[int(sys.argv[4]), int(sys.argv[3])])
elif cmd == "seam":
    d, z, x, y = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    a, b = tile(d, z, x, y), tile(d, z, x + 1, y)
    both = np.concatenate([a, b], axis=1)[:, :, :3]
    ok = (np.concatenate([a, b], axis=1)[:, :, 3] == 255)
    steps = np.abs(np.diff(both, axis=1)).max(axis=2)
    valid = ok[:, 1:] & ok[:, :-1]
    edge = steps[:, 255][valid[:, 255]].max()
    inside = np.delete(steps, 255, axis=1)[np.delete(valid, 255, axis=1)].max()
    print(edge, inside)
elif cmd == "parent":
    d, z, x, y = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    p = tile(d, z, x, y)
    big = np.zeros((512, 512, 4), np.int64)
    for k in range(4):
        dx, dy = k & 1, k >> 1
        big[dy * 256:(dy + 1) * 256, dx * 256:(dx + 1) * 256] = tile(d, z + 1, 2 * x + dx, 2 * y + dy)
    q = [big[0::2, 0::2], big[0::2, 1::2], big[1::2, 0::2], big[1::2, 1::2]]
    sa = sum(t[:, :, 3] for t in q)
    avg = np.zeros((256, 256, 4), np.int64)
    for c in range(3):
        num = sum(t[:, :, c] * t[:, :, 3] for t in q)
        avg[:, :, c] = np.where(sa > 0, (num + sa // 2) // np.maximum(sa, 1), 0)
    avg[:, :, 3] = (sa + 2) // 4
    m = p[:, :, 3] > 0
    print(int(np.abs(avg - p)[m].max()) if m.any() else 0, int(m.sum()))
