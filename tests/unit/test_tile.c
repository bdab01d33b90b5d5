/* test_tile.c — tile maths against known values, PNG encoding decoded by GDAL (libpng), styles,
 * and ct_tile_run on small rasters: colours, NoData, the official VN-2000 shift, same bytes
 * whatever the thread count, atomic publishing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "scratch.h"
#include "ct/crs.h"
#include "ct/style.h"
#include "ct/tile.h"

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    return scratch_make("tile");
}

/* ---- tile maths ---- */

static void test_pmtiles_id_known(void **state)
{
    (void)state;
    /* the example of the PMTiles v3 specification */
    assert_int_equal(ct_pmtiles_id(12, 3423, 1763), 19078479);
    /* zoom 0 and 1 in Hilbert order: (0,0) (0,1) (1,1) (1,0) */
    assert_int_equal(ct_pmtiles_id(0, 0, 0), 0);
    assert_int_equal(ct_pmtiles_id(1, 0, 0), 1);
    assert_int_equal(ct_pmtiles_id(1, 0, 1), 2);
    assert_int_equal(ct_pmtiles_id(1, 1, 1), 3);
    assert_int_equal(ct_pmtiles_id(1, 1, 0), 4);
    assert_int_equal(ct_pmtiles_id(2, 0, 0), 5);
    /* first id of zoom z is (4^z - 1) / 3 */
    assert_true(ct_pmtiles_id(20, 0, 0) == ((1ull << 40) - 1) / 3);
    int z;
    uint32_t x, y;
    assert_int_equal(ct_pmtiles_zxy(19078479, &z, &x, &y), 0);
    assert_int_equal(z, 12);
    assert_int_equal(x, 3423);
    assert_int_equal(y, 1763);
}

static void test_pmtiles_roundtrip(void **state)
{
    (void)state;
    /* every tile of zooms 0-7: ids are consecutive, each maps back to its tile */
    uint64_t expect = 0;
    for (int z = 0; z <= 7; z++) {
        uint64_t n = 1ull << (2 * z);
        char *seen = calloc(n, 1);
        for (uint32_t x = 0; x < (1u << z); x++)
            for (uint32_t y = 0; y < (1u << z); y++) {
                uint64_t id = ct_pmtiles_id(z, x, y);
                assert_true(id >= expect && id < expect + n);
                assert_false(seen[id - expect]);
                seen[id - expect] = 1;
                int zz;
                uint32_t xx, yy;
                assert_int_equal(ct_pmtiles_zxy(id, &zz, &xx, &yy), 0);
                assert_int_equal(zz, z);
                assert_int_equal(xx, x);
                assert_int_equal(yy, y);
            }
        free(seen);
        expect += n;
    }
    /* deep zooms: a pseudo-random sample */
    uint64_t s = 12345;
    for (int i = 0; i < 10000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int z = 8 + (int)(s >> 60) % 23; /* 8..30 */
        uint32_t x = (uint32_t)((s >> 13) & ((1ull << z) - 1)), y = (uint32_t)((s >> 37) & ((1ull << z) - 1));
        int zz;
        uint32_t xx, yy;
        assert_int_equal(ct_pmtiles_zxy(ct_pmtiles_id(z, x, y), &zz, &xx, &yy), 0);
        assert_int_equal(zz, z);
        assert_int_equal(xx, x);
        assert_int_equal(yy, y);
    }
}

static void test_tms_flip(void **state)
{
    (void)state;
    assert_int_equal(ct_tile_tms_row(0, 0), 0);
    assert_int_equal(ct_tile_tms_row(3, 0), 7);
    assert_int_equal(ct_tile_tms_row(3, 7), 0);
    /* Cần Thơ at zoom 12: XYZ row 1933 is TMS row 4096 - 1 - 1933 = 2162 */
    assert_int_equal(ct_tile_tms_row(12, 1933), 2162);
    for (uint32_t y = 0; y < 1024; y++)
        assert_int_equal(ct_tile_tms_row(10, ct_tile_tms_row(10, y)), y);
}

static void test_lonlat_to_tile(void **state)
{
    (void)state;
    uint32_t x, y;
    /* values from the OpenStreetMap wiki formula (Slippy map tilenames), computed independently */
    assert_int_equal(ct_tile_from_lonlat(105.788, 10.034, 12, &x, &y), 0); /* Ninh Kiều wharf */
    assert_int_equal(x, 3251);
    assert_int_equal(y, 1933);
    ct_tile_from_lonlat(105.788, 10.034, 16, &x, &y);
    assert_int_equal(x, 52026);
    assert_int_equal(y, 30931);
    ct_tile_from_lonlat(-0.1276, 51.5072, 10, &x, &y); /* London */
    assert_int_equal(x, 511);
    assert_int_equal(y, 340);
    ct_tile_from_lonlat(151.2093, -33.8688, 14, &x, &y); /* Sydney */
    assert_int_equal(x, 15073);
    assert_int_equal(y, 9831);
    ct_tile_from_lonlat(180, 90, 3, &x, &y); /* clamped into the last tile */
    assert_int_equal(x, 7);
    assert_int_equal(y, 0);
    assert_int_equal(ct_tile_from_lonlat(0, 0, 31, &x, &y), -1);
    assert_int_equal(ct_tile_from_lonlat(NAN, 0, 3, &x, &y), -1);
}

static void test_tile_bounds(void **state)
{
    (void)state;
    double b[4];
    ct_tile_bounds(0, 0, 0, b);
    assert_float_equal(b[0], -20037508.342789244, 1e-6);
    assert_float_equal(b[3], 20037508.342789244, 1e-6);
    ct_tile_bounds(1, 1, 0, b); /* the north-east quarter */
    assert_float_equal(b[0], 0, 1e-6);
    assert_float_equal(b[1], 0, 1e-6);
    assert_float_equal(b[2], 20037508.342789244, 1e-6);
    /* 12/3251/1933 contains the wharf; its lon/lat bounds by the wiki formula */
    ct_tile_bounds_lonlat(12, 3251, 1933, b);
    assert_float_equal(b[0], 3251.0 / 4096 * 360 - 180, 1e-9);
    assert_float_equal(b[2], 3252.0 / 4096 * 360 - 180, 1e-9);
    assert_float_equal(b[3], atan(sinh(M_PI * (1 - 2 * 1933.0 / 4096))) * 180 / M_PI, 1e-9);
    assert_true(b[0] < 105.788 && 105.788 < b[2] && b[1] < 10.034 && 10.034 < b[3]);
    double mx, my, lon, lat;
    ct_lonlat_to_merc(180, 0, &mx, &my);
    assert_float_equal(mx, 20037508.342789244, 1e-6);
    assert_float_equal(my, 0, 1e-6);
    /* EPSG:3857 of 105.788 E 10.034 N, as cs2cs +proj=merc +a=6378137 gives it */
    ct_lonlat_to_merc(105.788, 10.034, &mx, &my);
    ct_merc_to_lonlat(mx, my, &lon, &lat);
    assert_float_equal(lon, 105.788, 1e-12);
    assert_float_equal(lat, 10.034, 1e-12);
    assert_float_equal(mx, 6378137.0 * 105.788 * M_PI / 180, 1e-6);
}

static void test_tile_range_count(void **state)
{
    (void)state;
    double world[4] = {-20037508.342789244, -20037508.342789244, 20037508.342789244, 20037508.342789244};
    assert_int_equal(ct_tile_count(world, 0, 2), 1 + 4 + 16);
    uint32_t r[4];
    /* a box ending exactly on a tile edge does not touch the next tile */
    double quarter[4] = {0, 0, 20037508.342789244, 20037508.342789244};
    ct_tile_range(quarter, 1, r);
    assert_int_equal(r[0], 1);
    assert_int_equal(r[1], 0);
    assert_int_equal(r[2], 1);
    assert_int_equal(r[3], 0);
    ct_tile_range(quarter, 2, r);
    assert_int_equal(r[0], 2);
    assert_int_equal(r[2], 3);
    assert_int_equal(r[3], 1);
    /* the world at zoom 30 is 2^60 tiles: no overflow */
    assert_true(ct_tile_count(world, 30, 30) == 1ull << 60);
}

/* ---- PNG ---- */

/* Decodes a PNG with GDAL (libpng underneath) into RGBA; palettes expanded. @return colour type. */
static int decode_png(const uint8_t *png, size_t len, uint8_t *rgba, int w, int h)
{
    int ctype = png[25];
    VSILFILE *f = VSIFileFromMemBuffer("/vsimem/t.png", (GByte *)png, len, FALSE);
    VSIFCloseL(f);
    GDALDatasetH ds = GDALOpen("/vsimem/t.png", GA_ReadOnly);
    assert_non_null(ds);
    assert_int_equal(GDALGetRasterXSize(ds), w);
    int nb = GDALGetRasterCount(ds);
    uint8_t *band = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++)
        rgba[4 * i + 3] = 255;
    for (int b = 1; b <= nb; b++) {
        GDALRasterBandH hb = GDALGetRasterBand(ds, b);
        assert_int_equal(GDALRasterIO(hb, GF_Read, 0, 0, w, h, band, w, h, GDT_Byte, 0, 0), CE_None);
        GDALColorTableH ct = GDALGetRasterColorTable(hb);
        for (int i = 0; i < w * h; i++) {
            if (ct) {
                const GDALColorEntry *e = GDALGetColorEntry(ct, band[i]);
                rgba[4 * i] = (uint8_t)e->c1;
                rgba[4 * i + 1] = (uint8_t)e->c2;
                rgba[4 * i + 2] = (uint8_t)e->c3;
                rgba[4 * i + 3] = (uint8_t)e->c4;
            } else
                rgba[4 * i + (b - 1)] = band[i];
        }
    }
    free(band);
    GDALClose(ds);
    VSIUnlink("/vsimem/t.png");
    return ctype;
}

static void check_png_roundtrip(const uint8_t *img, int w, int h, int want_type)
{
    size_t len = 0;
    uint8_t *png = ct_png_encode(img, w, h, 6, &len);
    assert_non_null(png);
    uint8_t *back = malloc((size_t)w * h * 4);
    assert_int_equal(decode_png(png, len, back, w, h), want_type);
    for (int i = 0; i < w * h; i++) {
        if (img[4 * i + 3] == 0) { /* transparent pixels: only alpha matters */
            assert_int_equal(back[4 * i + 3], 0);
            continue;
        }
        assert_memory_equal(back + 4 * i, img + 4 * i, 4);
    }
    free(back);
    free(png);
}

static void test_png_types(void **state)
{
    (void)state;
    int w = 256, h = 256;
    uint8_t *img = malloc((size_t)w * h * 4);
    /* few colours with transparency → palette + tRNS */
    for (int i = 0; i < w * h; i++) {
        int x = i % w, y = i / w;
        uint8_t c[4] = {(uint8_t)(x / 32 * 30), (uint8_t)(y / 32 * 30), 77, (uint8_t)(x < 16 ? 0 : x < 32 ? 128 : 255)};
        memcpy(img + 4 * i, c, 4);
    }
    check_png_roundtrip(img, w, h, 3);
    /* many colours, opaque → RGB */
    for (int i = 0; i < w * h; i++) {
        int x = i % w, y = i / w;
        uint8_t c[4] = {(uint8_t)x, (uint8_t)y, (uint8_t)(x ^ y), 255};
        memcpy(img + 4 * i, c, 4);
    }
    check_png_roundtrip(img, w, h, 2);
    /* many colours, some transparency → RGBA */
    img[3] = 0;
    img[7] = 100;
    check_png_roundtrip(img, w, h, 6);
    free(img);
}

/* ---- styles ---- */

static void test_style_parse(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = NULL;
    const char *p = scratch_file("a.style", "# test\nname test\nstop 0 #000000\nstop 10 #FF8000 # orange\n"
                                          "below transparent\nhillshade 0.5 315 45 2\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_OK);
    assert_string_equal(s->name, "test");
    assert_int_equal(s->nstops, 2);
    ct_rgba c = ct_tile_style_colour(s, 5);
    assert_int_equal(c.r, 128); /* 127.5 rounds up */
    assert_int_equal(c.g, 64);
    assert_int_equal(c.b, 0);
    assert_int_equal(c.a, 255);
    assert_int_equal(ct_tile_style_colour(s, -1).a, 0);   /* below: transparent */
    assert_int_equal(ct_tile_style_colour(s, 20).r, 255); /* above: last colour */
    assert_int_equal(ct_tile_style_colour(s, NAN).a, 0);  /* nodata: transparent */
    assert_float_equal(s->hillshade, 0.5, 0);
    assert_float_equal(s->zfactor, 2, 0);
    ct_style_free(s);

    /* an unknown key names the file and the line */
    p = scratch_file("bad.style", "name x\nstop 0 #000000\ncolour-ramp 3\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "bad.style:3: unknown key 'colour-ramp'"));
    p = scratch_file("order.style", "stop 5 #000000\nstop 1 #FFFFFF\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "order.style:2:"));

    /* GDAL color-relief: VALUE R G B [A], commas, nv */
    p = scratch_file("relief.txt", "0 0 0 255\n100,200,100,0\nnv 0 0 0 0\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_OK);
    assert_int_equal(s->nstops, 2);
    c = ct_tile_style_colour(s, 50);
    assert_int_equal(c.r, 100);
    assert_int_equal(c.g, 50);
    assert_int_equal(c.b, 128);
    ct_style_free(s);
    p = scratch_file("pct.txt", "0% 0 0 0\n100% 255 255 255\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "pct.txt:1: percentages"));
    ct_ctx_free(ctx);
}

/* ---- ct_tile_run ---- */

/* A w × h Float32 GeoTIFF in EPSG:5897 at (x0, y0) with cell size cell, values from fn. */
static void make_dem(const char *path, int w, int h, double x0, double y0, double cell, float (*fn)(int, int))
{
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, 1, GDT_Float32, NULL);
    double gt[6] = {x0, cell, 0, y0, 0, -cell};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 5897);
    char *wkt = NULL;
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    float *v = malloc(sizeof(float) * w * h);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            v[r * w + c] = fn(c, r);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, -9999);
    assert_int_equal(GDALRasterIO(b, GF_Write, 0, 0, w, h, v, w, h, GDT_Float32, 0, 0), CE_None);
    free(v);
    GDALClose(ds);
}

static float f_flat(int c, int r) { return c < 100 && r < 100 ? -9999.0f : 2.0f; }

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static ct_tile_style *flat_style(ct_ctx *ctx)
{
    ct_tile_style *s = NULL;
    const char *p = scratch_file("flat.style", "stop 0 #000000\nstop 4 #C86420\nnodata transparent\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_OK);
    return s;
}

static void test_run_colours_nodata(void **state)
{
    (void)state;
    char dem[128], out[128];
    snprintf(dem, sizeof dem, "%s/flat.tif", dir);
    snprintf(out, sizeof out, "%s/flat-tiles", dir);
    /* 400 × 400 cells of 5 m at the sample area; the NW 100 × 100 cells are NoData */
    make_dem(dem, 400, 400, 585000, 1111000, 5, f_flat);
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = flat_style(ctx);
    ct_tile_summary sum;
    ct_tile_opts o = {.input = dem, .output = out, .style = s, .minzoom = 14, .maxzoom = 16, .summary = &sum};
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    assert_int_equal(sum.minzoom, 14);
    assert_true(sum.tiles_written > 0);
    assert_true(sum.tiles_written + sum.tiles_empty == sum.tiles_in_range);
    /* the tile holding the raster's centre: colour of 2 m = half way to #C86420 → #643210 */
    ct_crs *src = NULL, *wgs = NULL;
    ct_transform *t = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &src), CT_OK);
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:4326", &wgs), CT_OK);
    assert_int_equal(ct_transform_new(ctx, src, wgs, &t), CT_OK);
    double x = 586000, y = 1110000; /* centre */
    ct_transform_points(ctx, t, 1, &x, &y, NULL);
    uint32_t tx, ty;
    ct_tile_from_lonlat(x, y, 16, &tx, &ty);
    char tp[256];
    snprintf(tp, sizeof tp, "%s/16/%u/%u.png", out, tx, ty);
    size_t len;
    uint8_t *png = slurp(tp, &len);
    assert_non_null(png);
    uint8_t *rgba = malloc(256 * 256 * 4);
    decode_png(png, len, rgba, 256, 256);
    uint8_t want[4] = {0x64, 0x32, 0x10, 255};
    assert_memory_equal(rgba + 4 * (128 * 256 + 128), want, 4);
    free(png);
    /* the NoData corner (NW 500 m × 500 m): transparent */
    x = 585000 + 50;
    y = 1111000 - 50;
    ct_transform_points(ctx, t, 1, &x, &y, NULL);
    double mx, my, b[4];
    ct_lonlat_to_merc(x, y, &mx, &my);
    ct_tile_from_lonlat(x, y, 16, &tx, &ty);
    ct_tile_bounds(16, tx, ty, b);
    snprintf(tp, sizeof tp, "%s/16/%u/%u.png", out, tx, ty);
    png = slurp(tp, &len);
    if (png) { /* the tile may hold valid cells too; the pixel at the point must be clear */
        decode_png(png, len, rgba, 256, 256);
        int px = (int)((mx - b[0]) / (b[2] - b[0]) * 256), py = (int)((b[3] - my) / (b[3] - b[1]) * 256);
        assert_int_equal(rgba[4 * (py * 256 + px) + 3], 0);
        free(png);
    }
    free(rgba);
    ct_transform_free(t);
    ct_crs_free(src);
    ct_crs_free(wgs);
    ct_style_free(s);
    ct_ctx_free(ctx);
}

/* One hot cell in a cold raster, nearest resampling at zoom 20 (0.15 m pixels): the hot pixels'
 * centre must sit where ct_transform (official EPSG:6960 shift) puts the cell, not 0.8 m away
 * where EPSG:5194 would. */
static float f_hot(int c, int r) { return c == 50 && r == 50 ? 10.0f : 0.0f; }

static void test_run_official_shift(void **state)
{
    (void)state;
    char dem[128], out[128];
    snprintf(dem, sizeof dem, "%s/hot.tif", dir);
    snprintf(out, sizeof out, "%s/hot-tiles", dir);
    make_dem(dem, 101, 101, 586000, 1110000, 1, f_hot);
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = NULL;
    const char *p = scratch_file("hot.style", "interpolate discrete\nstop 0 #00000000\nstop 5 #FF0000\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_OK);
    ct_tile_opts o = {.input = dem, .output = out, .style = s, .minzoom = 20, .maxzoom = 20,
                      .resampling = CT_RESAMPLE_NEAREST};
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    /* expected position: the cell centre through ct_transform */
    ct_crs *src = NULL, *wgs = NULL;
    ct_transform *t = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &src), CT_OK);
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:4326", &wgs), CT_OK);
    assert_int_equal(ct_transform_new(ctx, src, wgs, &t), CT_OK);
    double x = 586050.5, y = 1110000 - 50.5, mx, my;
    ct_transform_points(ctx, t, 1, &x, &y, NULL);
    ct_lonlat_to_merc(x, y, &mx, &my);
    /* find the red pixels in the tiles around it */
    double sx = 0, sy = 0;
    int n = 0;
    uint32_t tx, ty;
    ct_tile_from_lonlat(x, y, 20, &tx, &ty);
    uint8_t *rgba = malloc(256 * 256 * 4);
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            char tp[256];
            size_t len;
            snprintf(tp, sizeof tp, "%s/20/%u/%u.png", out, tx + dx, ty + dy);
            uint8_t *png = slurp(tp, &len);
            if (!png)
                continue;
            decode_png(png, len, rgba, 256, 256);
            double b[4];
            ct_tile_bounds(20, tx + dx, ty + dy, b);
            for (int i = 0; i < 256 * 256; i++)
                if (rgba[4 * i + 3] && rgba[4 * i] == 255) {
                    sx += b[0] + (i % 256 + 0.5) * (b[2] - b[0]) / 256;
                    sy += b[3] - (i / 256 + 0.5) * (b[3] - b[1]) / 256;
                    n++;
                }
            free(png);
        }
    free(rgba);
    /* a 1 m cell at lat 10° covers ~1.02 m of Web Mercator: ~45 pixels of 0.149 m */
    assert_true(n > 30 && n < 80);
    double ex = sx / n - mx, ey = sy / n - my;
    print_message("hot cell: %d pixels, centre off by %.3f m east, %.3f m north\n", n, ex, ey);
    /* within 0.15 m (one pixel); EPSG:5194 would put it ~0.8 m away */
    assert_true(sqrt(ex * ex + ey * ey) < 0.15);
    ct_transform_free(t);
    ct_crs_free(src);
    ct_crs_free(wgs);
    ct_style_free(s);
    ct_ctx_free(ctx);
}

static float f_wave(int c, int r) { return (float)(1.5 + sin(c / 17.0) * cos(r / 23.0) + c * 0.002); }

static void test_run_threads_same_bytes(void **state)
{
    (void)state;
    char dem[128], a[128], b[128], m[128];
    snprintf(dem, sizeof dem, "%s/wave.tif", dir);
    /* the same base name: it is the tileset name in the metadata */
    snprintf(a, sizeof a, "%s/th1", dir);
    mkdir(a, 0777);
    snprintf(a, sizeof a, "%s/th3", dir);
    mkdir(a, 0777);
    snprintf(a, sizeof a, "%s/th1/t.pmtiles", dir);
    snprintf(b, sizeof b, "%s/th3/t.pmtiles", dir);
    snprintf(m, sizeof m, "%s/th3/t.mbtiles", dir);
    make_dem(dem, 600, 500, 585000, 1111000, 5, f_wave);
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = NULL;
    const char *p = scratch_file("wave.style", "stop 0 #204060\nstop 3 #F0E0A0\nhillshade 0.6 315 45 5\n");
    assert_int_equal(ct_style_load(ctx, p, &s), CT_OK);
    ct_tile_opts o = {.input = dem, .output = a, .style = s, .minzoom = 11, .maxzoom = 16};
    ct_ctx_set_threads(ctx, 1);
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    ct_ctx_set_threads(ctx, 3);
    o.output = b;
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    size_t la, lb;
    uint8_t *da = slurp(a, &la), *db = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    /* header: magic, version 3, clustered, gzip directories, PNG tiles, zooms */
    assert_memory_equal(da, "PMTiles\x03", 8);
    assert_int_equal(da[96], 1);
    assert_int_equal(da[97], 2);
    assert_int_equal(da[99], 2);
    assert_int_equal(da[100], 11);
    assert_int_equal(da[101], 16);
    uint64_t rootoff = 0, rootlen = 0;
    for (int i = 7; i >= 0; i--) {
        rootoff = rootoff << 8 | da[8 + i];
        rootlen = rootlen << 8 | da[16 + i];
    }
    assert_int_equal(rootoff, 127);
    assert_true(rootoff + rootlen <= 16384);
    free(da);
    free(db);
    /* MBTiles with 1 and 3 threads: same bytes too */
    o.output = m;
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    ct_ctx_set_threads(ctx, 1);
    char m1[128];
    snprintf(m1, sizeof m1, "%s/th1/t.mbtiles", dir);
    o.output = m1;
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    da = slurp(m, &la);
    db = slurp(m1, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(da, db, la);
    free(da);
    free(db);
    ct_style_free(s);
    ct_ctx_free(ctx);
}

static int cancel_after(double done, const char *what, void *user)
{
    (void)what;
    (void)user;
    return done < 0.3;
}

static void test_run_atomic(void **state)
{
    (void)state;
    char dem[128], out[128], cmd[512];
    snprintf(dem, sizeof dem, "%s/wave2.tif", dir);
    snprintf(out, sizeof out, "%s/atomic.pmtiles", dir);
    make_dem(dem, 600, 500, 585000, 1111000, 5, f_wave);
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = flat_style(ctx);
    ct_tile_opts o = {.input = dem, .output = out, .style = s, .minzoom = 12, .maxzoom = 17};
    FILE *f = fopen(out, "w");
    fputs("old tileset", f);
    fclose(f);
    ct_ctx_set_progress(ctx, cancel_after, NULL);
    assert_int_equal(ct_tile_run(ctx, &o), CT_ERR_CANCELLED);
    size_t len;
    uint8_t *d = slurp(out, &len);
    assert_int_equal(len, 11);
    assert_memory_equal(d, "old tileset", 11);
    free(d);
    /* no temporary file left beside it */
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | grep -c '^\\.atomic') -eq 0", dir);
    assert_int_equal(system(cmd), 0);
    /* the same with a folder */
    snprintf(out, sizeof out, "%s/atomic-dir", dir);
    mkdir(out, 0777);
    snprintf(cmd, sizeof cmd, "echo old > %s/keep.txt", out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ct_tile_run(ctx, &o), CT_ERR_CANCELLED);
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = keep.txt && test $(ls -A %s | grep -c '^\\.atomic-dir') -eq 0",
             out, dir);
    assert_int_equal(system(cmd), 0);
    /* a complete run replaces the folder */
    ct_ctx_set_progress(ctx, NULL, NULL);
    assert_int_equal(ct_tile_run(ctx, &o), CT_OK);
    snprintf(cmd, sizeof cmd, "test ! -e %s/keep.txt && test -d %s/17 && test $(ls -A %s | grep -c '^\\.atomic-dir') -eq 0",
             out, out, dir);
    assert_int_equal(system(cmd), 0);
    ct_style_free(s);
    ct_ctx_free(ctx);
}

static void test_run_refuses_billions(void **state)
{
    (void)state;
    char dem[128], out[128];
    snprintf(dem, sizeof dem, "%s/flat.tif", dir);
    snprintf(out, sizeof out, "%s/huge", dir);
    ct_ctx *ctx = ct_ctx_new();
    ct_tile_style *s = flat_style(ctx);
    ct_tile_opts o = {.input = dem, .output = out, .style = s, .minzoom = 0, .maxzoom = 30};
    assert_int_equal(ct_tile_run(ctx, &o), CT_ERR_USAGE);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "would make"));
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "--force"));
    assert_int_equal(access(out, F_OK), -1);
    ct_style_free(s);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmtiles_id_known),
        cmocka_unit_test(test_pmtiles_roundtrip),
        cmocka_unit_test(test_tms_flip),
        cmocka_unit_test(test_lonlat_to_tile),
        cmocka_unit_test(test_tile_bounds),
        cmocka_unit_test(test_tile_range_count),
        cmocka_unit_test(test_png_types),
        cmocka_unit_test(test_style_parse),
        cmocka_unit_test(test_run_colours_nodata),
        cmocka_unit_test(test_run_official_shift),
        cmocka_unit_test(test_run_threads_same_bytes),
        cmocka_unit_test(test_run_atomic),
        cmocka_unit_test(test_run_refuses_billions),
    };
    return cmocka_run_group_tests_name("tile", tests, setup, scratch_remove);
}
