/* test_raster.c — grids, windowed reads, statistics and atomic COG output (libcore/raster.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_srs_api.h>

#include "ct/context.h"
#include "ct/crs.h"
#include "ct/raster.h"

static char tmpdir[256];

static const char *tpath(const char *name)
{
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ct-test-raster.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static ct_ctx *new_ctx(void)
{
    ct_ctx *ctx = ct_ctx_new();
    assert_non_null(ctx);
    ct_ctx_set_threads(ctx, 1);
    return ctx;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The file at path holds exactly the n bytes of want. */
static void assert_file_is(const char *path, const unsigned char *want, size_t n)
{
    size_t len;
    unsigned char *got = slurp(path, &len);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
}

static int file_exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* The names in a folder other than . and .., counted; fails the test on a leftover temp file. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (strstr(de->d_name, ".tmp"))
            fail_msg("leftover temporary file %s in %s", de->d_name, dir);
        n++;
    }
    closedir(d);
    return n;
}

static const double test_gt[6] = {580000.0, 2.0, 0.0, 1112000.0, 0.0, -2.0};

/* A deterministic pattern spanning much of each type's range, with a few nodata cells. */
static double pattern(ct_dtype t, int c, int r)
{
    switch (t) {
    case CT_BYTE: return (c * 7 + r * 13) % 255;
    case CT_INT16: return (double)((c * 37 + r * 101) % 65535) - 32767;
    case CT_UINT16: return (c * 37 + r * 101) % 65535;
    case CT_INT32: return (double)(((int64_t)c * 100003 + (int64_t)r * 7919919) % 4294967295LL) - 2147483647.0;
    case CT_FLOAT32: return (float)(sin(c * 0.01) * cos(r * 0.013) * 1000.0 + r * 0.5);
    case CT_FLOAT64: return sin(c * 0.01) * cos(r * 0.013) * 1000.0 + r * 0.5 + c * 1e-9;
    }
    return 0;
}

static double nodata_for(ct_dtype t)
{
    switch (t) {
    case CT_BYTE: return 255;
    case CT_INT16: return -32768;
    case CT_UINT16: return 65535;
    case CT_INT32: return -2147483648.0;
    case CT_FLOAT32: return -9999;
    case CT_FLOAT64: return -3.4e38;
    }
    return 0;
}

static ct_grid *make_grid(ct_ctx *ctx, ct_dtype t, int w, int h, const ct_crs *crs)
{
    ct_grid *g = ct_grid_new(ctx, t, w, h);
    assert_non_null(g);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            ct_grid_set(g, c, r, (r * 31 + c) % 97 == 0 ? nodata_for(t) : pattern(t, c, r));
    ct_grid_set_geotransform(g, test_gt);
    ct_grid_set_nodata(g, nodata_for(t));
    ct_grid_set_crs(g, crs);
    return g;
}

static ct_crs *vn2000_105(ct_ctx *ctx)
{
    ct_crs *crs = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &crs), CT_OK);
    assert_non_null(crs);
    return crs;
}

/* ---------------------------------------------------------------------------------------- */

static void test_dtype_names_and_sizes(void **state)
{
    (void)state;
    static const struct { ct_dtype t; size_t size; const char *name; } tab[] = {
        {CT_BYTE, 1, "Byte"},     {CT_INT16, 2, "Int16"},     {CT_UINT16, 2, "UInt16"},
        {CT_INT32, 4, "Int32"},   {CT_FLOAT32, 4, "Float32"}, {CT_FLOAT64, 8, "Float64"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
        assert_int_equal(ct_dtype_size(tab[i].t), tab[i].size);
        assert_string_equal(ct_dtype_name(tab[i].t), tab[i].name);
    }
    assert_int_equal(ct_dtype_size((ct_dtype)0), 0);
}

static void test_grid_new_has_documented_defaults(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = ct_grid_new(ctx, CT_INT16, 3, 2);
    assert_non_null(g);
    assert_int_equal(ct_grid_width(g), 3);
    assert_int_equal(ct_grid_height(g), 2);
    assert_int_equal(ct_grid_dtype(g), CT_INT16);
    double gt[6], nd = 42;
    ct_grid_get_geotransform(g, gt);
    const double id[6] = {0, 1, 0, 0, 0, -1};
    assert_memory_equal(gt, id, sizeof id);
    assert_null(ct_grid_crs(g));
    assert_int_equal(ct_grid_get_nodata(g, &nd), 0);
    assert_true(nd == 42);
    for (int i = 0; i < 6; i++)
        assert_int_equal(((const int16_t *)ct_grid_cdata(g))[i], 0);
    ct_grid_set_nodata(g, -1);
    assert_int_equal(ct_grid_get_nodata(g, &nd), 1);
    assert_true(nd == -1);
    ct_grid_clear_nodata(g);
    assert_int_equal(ct_grid_get_nodata(g, NULL), 0);
    ct_grid_free(g);
    ct_grid_free(NULL);

    assert_null(ct_grid_new(ctx, CT_BYTE, 0, 5));
    assert_int_equal(ct_ctx_status(ctx), CT_ERR_USAGE);
    ct_ctx_free(ctx);
}

static void test_grid_set_rounds_and_clamps_integers(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *b = ct_grid_new(ctx, CT_BYTE, 4, 1);
    ct_grid_set(b, 0, 0, 2.5);
    ct_grid_set(b, 1, 0, -3);
    ct_grid_set(b, 2, 0, 300);
    ct_grid_set(b, 3, 0, NAN);
    assert_true(ct_grid_get(b, 0, 0) == 3);
    assert_true(ct_grid_get(b, 1, 0) == 0);
    assert_true(ct_grid_get(b, 2, 0) == 255);
    assert_true(ct_grid_get(b, 3, 0) == 0);
    ct_grid *i = ct_grid_new(ctx, CT_INT16, 2, 1);
    ct_grid_set(i, 0, 0, -2.5);
    ct_grid_set(i, 1, 0, -1e9);
    assert_true(ct_grid_get(i, 0, 0) == -3);
    assert_true(ct_grid_get(i, 1, 0) == -32768);
    ct_grid *f = ct_grid_new(ctx, CT_FLOAT64, 1, 1);
    ct_grid_set(f, 0, 0, 0.1);
    assert_true(ct_grid_get(f, 0, 0) == 0.1);
    ct_grid_free(b);
    ct_grid_free(i);
    ct_grid_free(f);
    ct_ctx_free(ctx);
}

/* Write a COG of each type, read it back: same cells, geotransform, nodata, CRS and type. */
static void cog_round_trip(ct_dtype t)
{
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    ct_grid *g = make_grid(ctx, t, 600, 530, crs);
    char name[64];
    snprintf(name, sizeof name, "rt-%s.tif", ct_dtype_name(t));
    const char *path = tpath(name);
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);

    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    assert_string_equal(ct_raster_driver(r), "GTiff");
    assert_int_equal(ct_raster_band_count(r), 1);
    assert_int_equal(ct_raster_band_dtype(r, 1), t);
    assert_non_null(ct_raster_crs(r));
    assert_true(ct_crs_equal(ct_raster_crs(r), crs));
    ct_raster_close(r);

    ct_grid *back;
    assert_int_equal(ct_grid_read(ctx, path, 1, t, &back), CT_OK);
    assert_int_equal(ct_grid_width(back), 600);
    assert_int_equal(ct_grid_height(back), 530);
    assert_int_equal(ct_grid_dtype(back), t);
    assert_memory_equal(ct_grid_cdata(back), ct_grid_cdata(g), 600 * 530 * ct_dtype_size(t));
    double gt[6], nd;
    ct_grid_get_geotransform(back, gt);
    assert_memory_equal(gt, test_gt, sizeof gt);
    assert_int_equal(ct_grid_get_nodata(back, &nd), 1);
    assert_true(nd == nodata_for(t));
    assert_non_null(ct_grid_crs(back));
    assert_true(ct_crs_equal(ct_grid_crs(back), crs));
    assert_int_equal(ct_crs_epsg(ct_grid_crs(back)), 5897);

    ct_grid_free(back);
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

#define ROUND_TRIP(T, NAME) \
    static void test_cog_round_trip_##NAME(void **state) \
    { \
        (void)state; \
        cog_round_trip(T); \
    }
ROUND_TRIP(CT_BYTE, byte)
ROUND_TRIP(CT_INT16, int16)
ROUND_TRIP(CT_UINT16, uint16)
ROUND_TRIP(CT_INT32, int32)
ROUND_TRIP(CT_FLOAT32, float32)
ROUND_TRIP(CT_FLOAT64, float64)

/* The file itself carries the official VN-2000 → WGS 84 parameters (EPSG:6960), so that other
 * software does not fall back to EPSG:5194. GDAL strips TOWGS84 on reading unless told not to. */
static void test_cog_carries_official_towgs84(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    ct_grid *g = make_grid(ctx, CT_BYTE, 20, 20, crs);
    const char *path = tpath("towgs84.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    CPLSetThreadLocalConfigOption("OSR_STRIP_TOWGS84", "NO");
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds); /* GTiff reads the keys lazily */
    CPLSetThreadLocalConfigOption("OSR_STRIP_TOWGS84", NULL);
    assert_non_null(srs);
    double p[7];
    assert_int_equal(OSRGetTOWGS84(srs, p, 7), OGRERR_NONE);
    static const double official[7] = {-191.90441429, -39.30318279, -111.45032835, 0.00928836,
                                       -0.01975479,   0.00427372,   0.252906278};
    for (int i = 0; i < 7; i++)
        assert_true(fabs(p[i] - official[i]) < 1e-9);
    GDALClose(ds);
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

static void test_grid_without_crs_or_nodata_round_trips(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 40, 30, NULL);
    ct_grid_clear_nodata(g);
    const char *path = tpath("plain.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    ct_grid *back;
    assert_int_equal(ct_grid_read(ctx, path, 1, CT_FLOAT32, &back), CT_OK);
    assert_null(ct_grid_crs(back));
    assert_int_equal(ct_grid_get_nodata(back, NULL), 0);
    assert_memory_equal(ct_grid_cdata(back), ct_grid_cdata(g), 40 * 30 * sizeof(float));
    ct_grid_free(back);
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

/* What gdalinfo would show of a COG: layout, compression, predictor, tiles and overviews. */
static void test_cog_is_tiled_deflated_with_overviews(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 1300, 1100, NULL);
    const char *path = tpath("layout.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);

    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    const char *layout = GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE");
    const char *comp = GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE");
    assert_non_null(layout);
    assert_string_equal(layout, "COG");
    assert_non_null(comp);
    assert_string_equal(comp, "DEFLATE");
    /* Floating-point predictor for a Float32 grid (2, horizontal differencing, for integers). */
    const char *pred = GDALGetMetadataItem(ds, "PREDICTOR", "IMAGE_STRUCTURE");
    assert_non_null(pred);
    assert_string_equal(pred, "3");
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    int bw, bh;
    GDALGetBlockSize(b, &bw, &bh);
    assert_int_equal(bw, 512);
    assert_int_equal(bh, 512);
    assert_true(GDALGetOverviewCount(b) > 0);
    GDALGetBlockSize(GDALGetOverview(b, 0), &bw, &bh);
    assert_int_equal(bw, 512);
    GDALClose(ds);

    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    ct_raster_block_size(r, &bw, &bh);
    assert_int_equal(bw, 512);
    assert_int_equal(bh, 512);
    ct_raster_close(r);

    /* Options: another tile size, no overviews. */
    ct_cog_opts o = {.blocksize = 256, .level = 9, .no_overviews = 1};
    path = tpath("layout-256.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, &o), CT_OK);
    ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    b = GDALGetRasterBand(ds, 1);
    GDALGetBlockSize(b, &bw, &bh);
    assert_int_equal(bw, 256);
    assert_int_equal(GDALGetOverviewCount(b), 0);
    assert_string_equal(GDALGetMetadataItem(ds, "LAYOUT", "IMAGE_STRUCTURE"), "COG");
    GDALClose(ds);

    o = (ct_cog_opts){.level = 12};
    assert_int_equal(ct_grid_write_cog(ctx, g, tpath("bad-level.tif"), &o), CT_ERR_USAGE);
    assert_false(file_exists(tpath("bad-level.tif")));
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

static void test_window_equals_part_of_full_read(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = make_grid(ctx, CT_INT32, 700, 600, NULL);
    const char *path = tpath("window.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);

    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    assert_int_equal(ct_raster_width(r), 700);
    assert_int_equal(ct_raster_height(r), 600);
    ct_grid *full, *win;
    assert_int_equal(ct_raster_read(ctx, r, 1, 0, 0, 700, 600, CT_INT32, &full), CT_OK);
    /* A window across tile boundaries, read as another type. */
    assert_int_equal(ct_raster_read(ctx, r, 1, 490, 37, 210, 500, CT_FLOAT64, &win), CT_OK);
    for (int y = 0; y < 500; y++)
        for (int x = 0; x < 210; x++)
            assert_true(ct_grid_get(win, x, y) == ct_grid_get(full, 490 + x, 37 + y));
    double gt[6];
    ct_grid_get_geotransform(win, gt);
    assert_true(gt[0] == test_gt[0] + 490 * test_gt[1]);
    assert_true(gt[3] == test_gt[3] + 37 * test_gt[5]);
    assert_true(gt[1] == test_gt[1] && gt[5] == test_gt[5]);
    assert_int_equal(ct_grid_get_nodata(win, NULL), 1);

    ct_grid *bad = (ct_grid *)1;
    assert_int_equal(ct_raster_read(ctx, r, 1, 600, 0, 101, 10, CT_INT32, &bad), CT_ERR_USAGE);
    assert_null(bad);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "window.tif"));
    assert_int_equal(ct_raster_read(ctx, r, 1, -1, 0, 10, 10, CT_INT32, &bad), CT_ERR_USAGE);
    assert_int_equal(ct_raster_read(ctx, r, 2, 0, 0, 10, 10, CT_INT32, &bad), CT_ERR_USAGE);
    assert_int_equal(ct_raster_band_dtype(r, 2), 0);

    ct_grid_free(full);
    ct_grid_free(win);
    ct_raster_close(r);
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

/* Statistics by block against a plain two-pass computation over the whole grid. */
static void check_stats(ct_ctx *ctx, const ct_grid *g, const char *path)
{
    double nd = 0;
    int has_nd = ct_grid_get_nodata(g, &nd);
    int w = ct_grid_width(g), h = ct_grid_height(g);
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    uint64_t n = 0, bad = 0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            double v = ct_grid_get(g, c, r);
            if (!isfinite(v) || (has_nd && v == nd)) {
                bad++;
                continue;
            }
            n++;
            sum += v;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
    double mean = sum / (double)n, ss = 0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            double v = ct_grid_get(g, c, r);
            if (isfinite(v) && !(has_nd && v == nd))
                ss += (v - mean) * (v - mean);
        }
    double sd = sqrt(ss / (double)n);

    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    ct_band_stats s;
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_OK);
    assert_int_equal(s.valid, n);
    assert_int_equal(s.nodata, bad);
    assert_true(s.min == mn);
    assert_true(s.max == mx);
    assert_true(fabs(s.mean - mean) <= 1e-9 * fmax(1, fabs(mean)));
    assert_true(fabs(s.stddev - sd) <= 1e-9 * fmax(1, sd));
    ct_raster_close(r);
}

static void test_stats_match_independent_computation(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    /* Float32 with nodata, NaN and infinities: all three are left out. */
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 1100, 777, NULL);
    float *f = ct_grid_data(g);
    f[5] = NAN;
    f[1100 * 600 + 3] = INFINITY;
    f[1100 * 776 + 1099] = -INFINITY;
    /* A large offset: a sum of squares would lose the spread, a two-pass/merge does not. */
    for (size_t i = 0; i < 1100u * 777u; i++)
        if (isfinite(f[i]) && f[i] != -9999.0f)
            f[i] = 100000.0f + f[i] / 1000.0f;
    const char *path = tpath("stats-f32.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    check_stats(ctx, g, path);
    ct_grid_free(g);

    /* A small known grid: 1..8 with 0 as nodata → mean 4.5, population sd sqrt(5.25). */
    g = ct_grid_new(ctx, CT_INT16, 3, 3);
    int16_t *v = ct_grid_data(g);
    for (int i = 0; i < 9; i++)
        v[i] = (int16_t)i;
    ct_grid_set_nodata(g, 0);
    path = tpath("stats-known.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    ct_band_stats s;
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_OK);
    assert_int_equal(s.valid, 8);
    assert_int_equal(s.nodata, 1);
    assert_true(s.min == 1 && s.max == 8);
    assert_true(fabs(s.mean - 4.5) < 1e-12);
    assert_true(fabs(s.stddev - sqrt(5.25)) < 1e-12);
    ct_raster_close(r);
    check_stats(ctx, g, path);
    ct_grid_free(g);

    /* All nodata: no valid cells, NaN statistics, still CT_OK. */
    g = ct_grid_new(ctx, CT_BYTE, 4, 4);
    ct_grid_set_nodata(g, 0);
    path = tpath("stats-empty.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_OK);
    assert_int_equal(s.valid, 0);
    assert_int_equal(s.nodata, 16);
    assert_true(isnan(s.mean));
    assert_int_equal(ct_raster_band_stats(ctx, r, 3, &s), CT_ERR_USAGE);
    ct_raster_close(r);
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

static int progress_calls;
static double progress_last;

static int count_progress(double done, const char *what, void *user)
{
    (void)what, (void)user;
    progress_calls++;
    assert_true(done >= progress_last - 1e-12 && done <= 1.0);
    progress_last = done;
    return 1;
}

static int cancel_progress(double done, const char *what, void *user)
{
    (void)what, (void)user;
    return done < 0.3;
}

static void test_stats_report_progress_and_can_be_cancelled(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = make_grid(ctx, CT_UINT16, 1100, 1100, NULL);
    const char *path = tpath("stats-progress.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    ct_band_stats s;
    progress_calls = 0;
    progress_last = 0;
    ct_ctx_set_progress(ctx, count_progress, NULL);
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_OK);
    assert_true(progress_calls >= 9); /* 3x3 tiles */
    assert_true(progress_last == 1.0);
    ct_ctx_set_progress(ctx, cancel_progress, NULL);
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_ERR_CANCELLED);
    ct_raster_close(r);
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

static void test_write_into_missing_folder_fails_and_leaves_nothing(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = make_grid(ctx, CT_BYTE, 10, 10, NULL);
    const char *dir = tpath("no-such-folder");
    char path[600];
    snprintf(path, sizeof path, "%s/out.tif", dir);
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_ERR_IO);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "out.tif"));
    assert_false(file_exists(dir));
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

/* A write that fails half-way (cancelled) keeps the old file byte for byte, and no temp file. */
static void test_failed_write_keeps_old_file(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    char sub[600];
    snprintf(sub, sizeof sub, "%s/keep", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/dem.tif", sub);

    ct_grid *old = make_grid(ctx, CT_FLOAT32, 300, 200, NULL);
    assert_int_equal(ct_grid_write_cog(ctx, old, path, NULL), CT_OK);
    size_t n0, n1;
    unsigned char *before = slurp(path, &n0);

    ct_grid *new = make_grid(ctx, CT_FLOAT64, 1200, 1000, NULL);
    ct_ctx_set_progress(ctx, cancel_progress, NULL);
    assert_int_equal(ct_grid_write_cog(ctx, new, path, NULL), CT_ERR_CANCELLED);
    ct_ctx_set_progress(ctx, NULL, NULL);
    unsigned char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(count_entries(sub), 1);

    /* Renaming onto a folder fails after GDAL succeeded: the temp file goes too. */
    char dirpath[700];
    snprintf(dirpath, sizeof dirpath, "%s/adir", sub);
    assert_int_equal(mkdir(dirpath, 0755), 0);
    char inner[800];
    snprintf(inner, sizeof inner, "%s/x", dirpath);
    assert_int_equal(mkdir(inner, 0755), 0);
    assert_int_equal(ct_grid_write_cog(ctx, old, dirpath, NULL), CT_ERR_IO);
    assert_int_equal(count_entries(sub), 2);

    /* A successful write replaces the file, with an ordinary (umask) mode, not mkstemp's 0600. */
    assert_int_equal(ct_grid_write_cog(ctx, new, path, NULL), CT_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    mode_t um = umask(022);
    umask(um);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~um);
    assert_int_equal(count_entries(sub), 2);
    ct_grid *back;
    assert_int_equal(ct_grid_read(ctx, path, 1, CT_FLOAT64, &back), CT_OK);
    assert_int_equal(ct_grid_width(back), 1200);
    ct_grid_free(back);

    free(before);
    free(after);
    ct_grid_free(old);
    ct_grid_free(new);
    ct_ctx_free(ctx);
}

static void test_same_grid_gives_same_bytes(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 1100, 900, crs);
    const char *a = tpath("same-a.tif"), *b = tpath("same-b.tif"), *c = tpath("same-c.tif");
    assert_int_equal(ct_grid_write_cog(ctx, g, a, NULL), CT_OK);
    sleep(1); /* a timestamp in the file would now differ */
    assert_int_equal(ct_grid_write_cog(ctx, g, b, NULL), CT_OK);
    ct_ctx_set_threads(ctx, 4);
    assert_int_equal(ct_grid_write_cog(ctx, g, c, NULL), CT_OK);
    size_t na, nb, nc;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb), *bc = slurp(c, &nc);
    assert_int_equal(na, nb);
    assert_memory_equal(ba, bb, na);
    assert_int_equal(na, nc);
    assert_memory_equal(ba, bc, na);
    free(ba);
    free(bb);
    free(bc);
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* Band 1 or its overview i (-1: full resolution) as doubles. */
static double *read_level(GDALDatasetH ds, int i, int *w, int *h)
{
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    if (i >= 0)
        b = GDALGetOverview(b, i);
    *w = GDALGetRasterBandXSize(b);
    *h = GDALGetRasterBandYSize(b);
    double *v = malloc((size_t)*w * *h * sizeof *v);
    assert_non_null(v);
    assert_int_equal(GDALRasterIO(b, GF_Read, 0, 0, *w, *h, v, *w, *h, GDT_Float64, 0, 0), CE_None);
    return v;
}

/* The direct writer (ct_cog_opts.direct) against GDAL's COG driver on the same grid, for every
 * type and every compression (DEFLATE, ZSTD, and DEFLATE Huffman-coded by ctgis against GDAL's
 * DEFLATE, decoded by GDAL's zlib): the same cells at full resolution and in every
 * overview (2 x 2 averages of the valid cells, nearest for Byte), georeferencing, nodata, COG
 * layout and compression. */
static void test_direct_cog_equals_gdal_cog(void **state)
{
    (void)state;
    static const ct_dtype types[] = {CT_BYTE, CT_INT16, CT_UINT16, CT_INT32, CT_FLOAT32, CT_FLOAT64};
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    const size_t ntypes = sizeof types / sizeof *types;
    for (size_t kk = 0; kk < 3 * ntypes; kk++) {
        const size_t k = kk % ntypes;
        const ct_cog_compress comp = kk < ntypes ? CT_COG_DEFLATE : kk < 2 * ntypes ? CT_COG_ZSTD : CT_COG_DEFLATE_HUFFMAN;
        ct_grid *g = make_grid(ctx, types[k], 1100, 900, crs);
        const char *a = tpath("gdal.tif"), *b = tpath("direct.tif");
        ct_cog_opts o = {.direct = 1, .compress = comp},
                    og = {.compress = comp == CT_COG_DEFLATE_HUFFMAN ? CT_COG_DEFLATE : comp};
        assert_int_equal(ct_grid_write_cog(ctx, g, a, &og), CT_OK);
        assert_int_equal(ct_grid_write_cog(ctx, g, b, &o), CT_OK);
        GDALDatasetH da = GDALOpen(a, GA_ReadOnly), db = GDALOpen(b, GA_ReadOnly);
        assert_non_null(da);
        assert_non_null(db);
        assert_string_equal(GDALGetProjectionRef(da), GDALGetProjectionRef(db));
        double ga[6], gb[6];
        assert_int_equal(GDALGetGeoTransform(db, gb), CE_None);
        GDALGetGeoTransform(da, ga);
        assert_memory_equal(ga, gb, sizeof ga);
        int hna, hnb;
        assert_true(GDALGetRasterNoDataValue(GDALGetRasterBand(db, 1), &hnb) == nodata_for(types[k]));
        assert_true(GDALGetRasterNoDataValue(GDALGetRasterBand(da, 1), &hna) == nodata_for(types[k]));
        assert_true(hna && hnb);
        assert_int_equal(GDALGetRasterDataType(GDALGetRasterBand(db, 1)), GDALGetRasterDataType(GDALGetRasterBand(da, 1)));
        assert_string_equal(GDALGetMetadataItem(db, "LAYOUT", "IMAGE_STRUCTURE"), "COG");
        const char *cname = comp == CT_COG_ZSTD ? "ZSTD" : "DEFLATE";
        assert_string_equal(GDALGetMetadataItem(db, "COMPRESSION", "IMAGE_STRUCTURE"), cname);
        assert_string_equal(GDALGetMetadataItem(da, "COMPRESSION", "IMAGE_STRUCTURE"), cname);
        int nov = GDALGetOverviewCount(GDALGetRasterBand(da, 1));
        assert_int_equal(nov, 2); /* 550 x 450, 275 x 225 */
        assert_int_equal(GDALGetOverviewCount(GDALGetRasterBand(db, 1)), nov);
        for (int i = -1; i < nov; i++) {
            int wa, ha, wb, hb;
            double *va = read_level(da, i, &wa, &ha), *vb = read_level(db, i, &wb, &hb);
            assert_int_equal(wa, wb);
            assert_int_equal(ha, hb);
            /* GDAL averages Int32 and Float64 cells in single precision, the direct writer in
             * double: those two agree within single precision of the largest cell */
            double tol = 0, big = 0;
            for (size_t j = 0; j < (size_t)wa * ha; j++)
                big = fabs(va[j]) > big && va[j] != nodata_for(types[k]) ? fabs(va[j]) : big;
            if (i >= 0 && (types[k] == CT_INT32 || types[k] == CT_FLOAT64))
                tol = big * 0x1p-22;
            for (size_t j = 0; j < (size_t)wa * ha; j++)
                if (!(fabs(va[j] - vb[j]) <= tol ||
                      (isnan(va[j]) && isnan(vb[j]))))
                    fail_msg("%s, level %d, cell %zu: GDAL %.17g, direct %.17g", ct_dtype_name(types[k]), i, j, va[j], vb[j]);
            free(va);
            free(vb);
        }
        GDALClose(da);
        GDALClose(db);
        ct_grid_free(g);
    }
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 100, 100, crs);
    ct_cog_opts o = {.direct = 1, .overview_resampling = "CUBIC"};
    assert_int_equal(ct_grid_write_cog(ctx, g, tpath("cubic.tif"), &o), CT_ERR_USAGE);
    ct_cog_opts oz = {.direct = 1, .compress = CT_COG_ZSTD, .level = 23};
    assert_int_equal(ct_grid_write_cog(ctx, g, tpath("zstd23.tif"), &oz), CT_ERR_USAGE);
    ct_cog_opts oh = {.compress = CT_COG_DEFLATE_HUFFMAN}; /* GDAL's COG driver has no such coder */
    assert_int_equal(ct_grid_write_cog(ctx, g, tpath("huffman-gdal.tif"), &oh), CT_ERR_USAGE);
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* Uniform tiles (compressed once and reused) and mixed ones, on 1 and 3 threads: the same
 * bytes, and the same cells as written; DEFLATE, ZSTD and Huffman-coded DEFLATE. The same bytes again through a
 * scratch that a smaller grid used before (ct_cog_opts.scratch), and through the page cache
 * instead of direct I/O (CT_DIRECT_IO=0). */
static void test_direct_cog_same_bytes_any_threads(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    ct_grid *g = make_grid(ctx, CT_FLOAT32, 2100, 1300, crs);
    float *z = ct_grid_data(g);
    for (size_t i = 0; i < (size_t)2100 * 1300; i++)
        if (i % 2100 < 1400) /* west two thirds: dry (0), the rest: the pattern */
            z[i] = (i / 2100) < 600 ? 0.0f : -9999.0f;
    const char *a = tpath("thr-1.tif"), *b = tpath("thr-3.tif");
    static const ct_cog_compress comps[] = {CT_COG_DEFLATE, CT_COG_ZSTD, CT_COG_DEFLATE_HUFFMAN};
    for (int k = 0; k < 3; k++) {
        ct_cog_opts o = {.direct = 1, .level = 1, .compress = comps[k]};
        ct_ctx_set_threads(ctx, 1);
        assert_int_equal(ct_grid_write_cog(ctx, g, a, &o), CT_OK);
        ct_ctx_set_threads(ctx, 3);
        assert_int_equal(ct_grid_write_cog(ctx, g, b, &o), CT_OK);
        size_t na;
        unsigned char *ba = slurp(a, &na);
        assert_file_is(b, ba, na);
        ct_cog_scratch *sc = ct_cog_scratch_new();
        assert_non_null(sc);
        ct_cog_opts os = o;
        os.scratch = sc;
        ct_grid *small = make_grid(ctx, CT_FLOAT32, 700, 600, crs);
        assert_int_equal(ct_grid_write_cog(ctx, small, tpath("small.tif"), &os), CT_OK);
        ct_grid_free(small);
        for (int cached = 0; cached < 2; cached++) {
            const char *c = tpath(cached ? "thr-cached.tif" : "thr-scratch.tif");
            if (cached)
                setenv("CT_DIRECT_IO", "0", 1);
            assert_int_equal(ct_grid_write_cog(ctx, g, c, &os), CT_OK);
            unsetenv("CT_DIRECT_IO");
            assert_file_is(c, ba, na);
        }
        ct_cog_scratch_free(sc);
        free(ba);
        ct_grid *back;
        assert_int_equal(ct_grid_read(ctx, b, 1, CT_FLOAT32, &back), CT_OK);
        assert_memory_equal(ct_grid_cdata(back), z, (size_t)2100 * 1300 * sizeof *z);
        ct_grid_free(back);
    }
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* Spans of the rows outside which the cells are zero (ct_cog_opts.span_lo): the same bytes as
 * without them, for UInt16 averages (ZSTD and Huffman-coded DEFLATE, whose code is counted on
 * rows the spans say are zero too) and Byte nearest cells, with cells of no data among the
 * zeros; a row declared zero that is not gives other bytes (the spans are used). */
static void test_direct_cog_spans_same_bytes(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    const int w = 2100, h = 1300;
    int *lo = malloc(h * sizeof *lo), *hi = malloc(h * sizeof *hi);
    assert_non_null(lo);
    assert_non_null(hi);
    for (int kind = 0; kind < 3; kind++) {
        const int byte = kind == 2;
        ct_grid *g = make_grid(ctx, byte ? CT_BYTE : CT_UINT16, w, h, crs);
        ct_grid_set_nodata(g, byte ? 255 : 65535);
        for (int r = 0; r < h; r++) {
            lo[r] = w;
            hi[r] = 0;
            for (int c = 0; c < w; c++) {
                /* a wet band with a ragged edge, one cell of no data on some dry rows */
                double v = r >= 400 && r < 900 && c >= 300 + r % 7 && c < 1700 - r % 5 ? 1 + (r * 31 + c * 17) % 200 : 0;
                if (r % 97 == 3 && c == 2000)
                    v = byte ? 255 : 65535;
                if (byte && v > 0 && v < 255)
                    v = 1;
                ct_grid_set(g, c, r, v);
                if (v != 0) {
                    lo[r] = c < lo[r] ? c : lo[r];
                    hi[r] = c + 1;
                }
            }
        }
        ct_cog_opts o = {.direct = 1, .level = 1, .compress = kind == 1 ? CT_COG_DEFLATE_HUFFMAN : CT_COG_ZSTD,
                         .overview_resampling = byte ? "NEAREST" : "AVERAGE"};
        const char *a = tpath("span-no.tif"), *b = tpath("span-yes.tif");
        assert_int_equal(ct_grid_write_cog(ctx, g, a, &o), CT_OK);
        o.span_lo = lo;
        o.span_hi = hi;
        assert_int_equal(ct_grid_write_cog(ctx, g, b, &o), CT_OK);
        size_t na;
        unsigned char *ba = slurp(a, &na);
        assert_file_is(b, ba, na);
        hi[500] = lo[500]; /* row 500 declared zero: not what the grid holds */
        assert_int_equal(ct_grid_write_cog(ctx, g, b, &o), CT_OK);
        size_t nb;
        unsigned char *bb = slurp(b, &nb);
        assert_true(nb != na || memcmp(ba, bb, na) != 0);
        free(ba);
        free(bb);
        ct_grid_free(g);
    }
    free(lo);
    free(hi);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* One bit a cell (ct_cog_opts.one_bit) for a Byte grid of 0 and 1, 1100 x 900 cells (edge
 * tiles 76 cells wide: not whole bytes), ZSTD and DEFLATE: GDAL reads NBITS=1 and the same
 * cells as the eight-bit file at full resolution and in every overview; other grids, or GDAL's
 * COG driver, are usage errors. */
static void test_direct_cog_one_bit(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs = vn2000_105(ctx);
    ct_grid *g = ct_grid_new(ctx, CT_BYTE, 1100, 900);
    assert_non_null(g);
    ct_grid_set_geotransform(g, test_gt);
    ct_grid_set_crs(g, crs);
    for (int r = 0; r < 900; r++) /* a ragged wet band, specks, and whole dry and wet tiles */
        for (int c = 0; c < 1100; c++)
            ct_grid_set(g, c, r, (c > 300 + r % 13 && c < 800 - r % 7) || (r * 7 + c * 3) % 11 == 0 || r >= 512);
    for (int k = 0; k < 2; k++) {
        const ct_cog_compress comp = k ? CT_COG_DEFLATE : CT_COG_ZSTD;
        ct_cog_opts o8 = {.direct = 1, .level = 1, .compress = comp}, o1 = o8;
        o1.one_bit = 1;
        assert_int_equal(ct_grid_write_cog(ctx, g, tpath("byte.tif"), &o8), CT_OK);
        assert_int_equal(ct_grid_write_cog(ctx, g, tpath("bit.tif"), &o1), CT_OK);
        GDALDatasetH da = GDALOpen(tpath("byte.tif"), GA_ReadOnly), db = GDALOpen(tpath("bit.tif"), GA_ReadOnly);
        assert_non_null(da);
        assert_non_null(db);
        assert_string_equal(GDALGetMetadataItem(GDALGetRasterBand(db, 1), "NBITS", "IMAGE_STRUCTURE"), "1");
        assert_null(GDALGetMetadataItem(GDALGetRasterBand(da, 1), "NBITS", "IMAGE_STRUCTURE"));
        assert_int_equal(GDALGetOverviewCount(GDALGetRasterBand(db, 1)), 2);
        for (int i = -1; i < 2; i++) {
            int wa, ha, wb, hb;
            double *va = read_level(da, i, &wa, &ha), *vb = read_level(db, i, &wb, &hb);
            assert_int_equal(wa, wb);
            assert_int_equal(ha, hb);
            assert_memory_equal(va, vb, (size_t)wa * ha * sizeof *va);
            free(va);
            free(vb);
        }
        GDALClose(da);
        GDALClose(db);
    }
    ct_grid *u = make_grid(ctx, CT_UINT16, 100, 100, crs);
    ct_cog_opts bad = {.direct = 1, .one_bit = 1};
    assert_int_equal(ct_grid_write_cog(ctx, u, tpath("bit16.tif"), &bad), CT_ERR_USAGE);
    bad.direct = 0;
    assert_int_equal(ct_grid_write_cog(ctx, g, tpath("bitgdal.tif"), &bad), CT_ERR_USAGE);
    ct_grid_free(u);
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

static void test_missing_and_non_raster_files(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_raster *r = (ct_raster *)1;
    const char *missing = tpath("missing.tif");
    assert_int_equal(ct_raster_open(ctx, missing, &r), CT_ERR_IO);
    assert_null(r);
    char want[700];
    snprintf(want, sizeof want, "%s: no such file", missing);
    assert_string_equal(ct_ctx_errmsg(ctx), want);

    const char *txt = tpath("notes.tif");
    FILE *f = fopen(txt, "w");
    assert_non_null(f);
    fputs("this is not a raster\n", f);
    fclose(f);
    assert_int_equal(ct_raster_open(ctx, txt, &r), CT_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: not a raster GDAL can read", txt);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), want));

    ct_grid *g = (ct_grid *)1;
    assert_int_equal(ct_grid_read(ctx, missing, 1, CT_BYTE, &g), CT_ERR_IO);
    assert_null(g);
    ct_raster_close(NULL);
    ct_ctx_free(ctx);
}

/* A GeoTIFF cut in half gives an error naming the file, not a crash, and prints nothing. */
static void test_truncated_geotiff_is_an_error(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *g = ct_grid_new(ctx, CT_FLOAT64, 1024, 1024);
    double *d = ct_grid_data(g);
    uint64_t s = 88172645463325252ull; /* xorshift: poorly compressible cells */
    for (size_t i = 0; i < 1024u * 1024u; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        d[i] = (double)(s >> 11) / 9007199254740992.0;
    }
    const char *path = tpath("truncated.tif");
    ct_cog_opts o = {.no_overviews = 1};
    assert_int_equal(ct_grid_write_cog(ctx, g, path, &o), CT_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size / 2), 0);

    /* libcore must not print: send stderr to a file while it runs. */
    fflush(stderr);
    int saved = dup(2);
    const char *errf = tpath("stderr.txt");
    int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);

    ct_grid *back = NULL;
    ct_status st = ct_grid_read(ctx, path, 1, CT_FLOAT64, &back);
    ct_raster *r = NULL;
    ct_status st_open = ct_raster_open(ctx, path, &r);
    ct_band_stats bs;
    ct_status st_stats = r ? ct_raster_band_stats(ctx, r, 1, &bs) : CT_ERR_FORMAT;
    ct_raster_close(r);
    ct_raster *r2;
    ct_status st_missing = ct_raster_open(ctx, tpath("nope.tif"), &r2);
    FILE *txt = fopen(tpath("text.tif"), "w");
    if (txt) {
        fputs("not a tiff\n", txt);
        fclose(txt);
    }
    ct_status st_text = ct_raster_open(ctx, tpath("text.tif"), &r2);

    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_true(st == CT_ERR_IO || st == CT_ERR_FORMAT);
    assert_null(back);
    assert_true(st_open == CT_OK || st_open == CT_ERR_FORMAT);
    assert_true(st_stats == CT_ERR_IO || st_stats == CT_ERR_FORMAT);
    assert_int_equal(st_missing, CT_ERR_IO);
    assert_int_equal(st_text, CT_ERR_FORMAT);
    ct_grid_read(ctx, path, 1, CT_FLOAT64, &back);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "truncated.tif: cannot read window"));
    struct stat eb;
    assert_int_equal(stat(errf, &eb), 0);
    if (eb.st_size != 0) {
        size_t n;
        unsigned char *t = slurp(errf, &n);
        fail_msg("libcore printed to stderr: %.*s", (int)n, (const char *)t);
    }
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

static void test_reads_esri_ascii_grid(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    const char *path = tpath("dem.asc");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("ncols 4\nnrows 3\nxllcorner 586000\nyllcorner 1109000\ncellsize 5\n"
          "NODATA_value -9999\n"
          "1.5 2.5 -9999 0.25\n"
          "-1.0 1.80 1.90 2.00\n"
          "2.25 2.27 2.29 -9999\n",
          f);
    fclose(f);

    ct_raster *r;
    assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
    assert_string_equal(ct_raster_driver(r), "AAIGrid");
    assert_int_equal(ct_raster_width(r), 4);
    assert_int_equal(ct_raster_height(r), 3);
    double gt[6], nd;
    assert_int_equal(ct_raster_geotransform(r, gt), 1);
    const double want_gt[6] = {586000, 5, 0, 1109015, 0, -5};
    assert_memory_equal(gt, want_gt, sizeof gt);
    assert_int_equal(ct_raster_band_nodata(r, 1, &nd), 1);
    assert_true(nd == -9999);
    assert_null(ct_raster_crs(r));

    ct_grid *g;
    assert_int_equal(ct_raster_read(ctx, r, 1, 0, 0, 4, 3, CT_FLOAT64, &g), CT_OK);
    static const double want[12] = {1.5, 2.5, -9999, 0.25, -1.0, 1.80, 1.90, 2.00, 2.25, 2.27, 2.29, -9999};
    for (int i = 0; i < 12; i++)
        assert_true(fabs(ct_grid_get(g, i % 4, i / 4) - want[i]) < 1e-6);

    ct_band_stats s;
    assert_int_equal(ct_raster_band_stats(ctx, r, 1, &s), CT_OK);
    assert_int_equal(s.valid, 10);
    assert_int_equal(s.nodata, 2);
    assert_true(fabs(s.min - -1.0) < 1e-6);
    assert_true(fabs(s.max - 2.5) < 1e-6);
    double sum = 0;
    for (int i = 0; i < 12; i++)
        if (want[i] != -9999)
            sum += want[i];
    assert_true(fabs(s.mean - sum / 10) < 1e-6);
    ct_grid_free(g);
    ct_raster_close(r);
    ct_ctx_free(ctx);
}

/* A Float32 grid of w x h cells of size cs at (x0, y0 top-left) in crs (NULL: none), values
 * from f, written as a COG at name; @return its path. */
static const char *write_grid(ct_ctx *ctx, const char *name, int w, int h, double x0, double y0, double cs,
                              const char *crs, float (*f)(int c, int r))
{
    ct_grid *g = ct_grid_new(ctx, CT_FLOAT32, w, h);
    assert_non_null(g);
    const double gt[6] = {x0, cs, 0, y0, 0, -cs};
    ct_grid_set_geotransform(g, gt);
    if (crs) {
        ct_crs *c;
        assert_int_equal(ct_crs_from_user(ctx, crs, &c), CT_OK);
        ct_grid_set_crs(g, c);
        ct_crs_free(c);
    }
    float *v = ct_grid_data(g);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            v[r * w + c] = f(c, r);
    const char *path = tpath(name);
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);
    ct_grid_free(g);
    return path;
}

static float checker9(int c, int r) { return (c + r) % 2 ? 9 : 0; }
static float ramp10(int c, int r) { return (void)r, c ? 10.0f : 0.0f; }
static float seven(int c, int r) { return (void)c, (void)r, 7.0f; }

static void test_read_onto_resamples_by_cell_size(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_grid *like = ct_grid_new(ctx, CT_FLOAT32, 2, 2), *a = NULL, *b = NULL;
    const double gt3[6] = {500000, 3, 0, 1100006, 0, -3};
    ct_grid_set_geotransform(like, gt3);
    ct_crs *c5897;
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:5897", &c5897), CT_OK);
    ct_grid_set_crs(like, c5897);

    /* 1 m cells onto 3 m: the average of each 3 x 3 block, 4 or 5 nines of 9 */
    const char *fine = write_grid(ctx, "fine.tif", 6, 6, 500000, 1100006, 1, "EPSG:5897", checker9);
    assert_int_equal(ct_grid_read_onto(ctx, fine, like, NULL, &a), CT_OK);
    assert_int_equal(ct_grid_read_onto(ctx, fine, like, "average", &b), CT_OK);
    const float *va = ct_grid_cdata(a);
    assert_memory_equal(va, ct_grid_cdata(b), 4 * sizeof(float));
    assert_float_equal(va[0], 4, 1e-6);
    assert_float_equal(va[1], 5, 1e-6);
    assert_float_equal(va[2], 5, 1e-6);
    assert_float_equal(va[3], 4, 1e-6);
    double gt[6];
    ct_grid_get_geotransform(a, gt);
    assert_memory_equal(gt, gt3, sizeof gt);
    assert_true(ct_crs_equal(ct_grid_crs(a), c5897));
    ct_grid_free(a);
    ct_grid_free(b);

    /* 10 m cells (0 and 10 in each of 3 rows) onto 1 m: bilinear, rising from the first centre to
     * the second (GDAL 3.6 falls back to nearest on a one-row source) */
    ct_grid *fine_like = ct_grid_new(ctx, CT_FLOAT32, 20, 10);
    const double gt1[6] = {500000, 1, 0, 1100010, 0, -1};
    ct_grid_set_geotransform(fine_like, gt1);
    ct_grid_set_crs(fine_like, c5897);
    const char *coarse = write_grid(ctx, "coarse.tif", 2, 3, 500000, 1100020, 10, "EPSG:5897", ramp10);
    assert_int_equal(ct_grid_read_onto(ctx, coarse, fine_like, NULL, &a), CT_OK);
    assert_int_equal(ct_grid_read_onto(ctx, coarse, fine_like, "bilinear", &b), CT_OK);
    va = ct_grid_cdata(a);
    assert_memory_equal(va, ct_grid_cdata(b), 200 * sizeof(float));
    for (int c = 5; c < 14; c++) /* centres at x = 5.5 ... 13.5: 10 * (x - 5) / 10 */
        assert_float_equal(va[5 * 20 + c], c + 0.5 - 5, 1e-4);
    ct_grid_free(a);
    ct_grid_free(b);

    /* another CRS, not covering the whole target: 7 where it reaches, NaN beyond */
    const char *geo = write_grid(ctx, "geo.tif", 10, 10, 105.0, 9.9298, 0.00001, "EPSG:4326", seven);
    double x = 105.00005, y = 9.92975;
    ct_transform *tr;
    ct_crs *c4326;
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:4326", &c4326), CT_OK);
    assert_int_equal(ct_transform_new(ctx, c4326, c5897, &tr), CT_OK);
    assert_int_equal(ct_transform_points(ctx, tr, 1, &x, &y, NULL), CT_OK);
    ct_transform_free(tr);
    ct_crs_free(c4326);
    const double gtw[6] = {floor(x) - 10, 1, 0, floor(y) + 10, 0, -1}; /* 20 m around the raster's centre */
    ct_grid_set_geotransform(fine_like, gtw);
    assert_int_equal(ct_grid_read_onto(ctx, geo, fine_like, NULL, &a), CT_OK);
    va = ct_grid_cdata(a);
    assert_float_equal(va[5 * 20 + 10], 7, 1e-5); /* the centre (the raster is ~1.1 m across) */
    assert_true(isnan(va[0]) && isnan(va[199]));
    ct_grid_free(a);

    /* a source without CRS is refused, naming the file */
    const char *nocrs = write_grid(ctx, "nocrs.tif", 2, 2, 500000, 1100006, 3, NULL, seven);
    assert_int_equal(ct_grid_read_onto(ctx, nocrs, like, NULL, &a), CT_ERR_CRS);
    assert_null(a);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "nocrs.tif: the raster has no CRS"));

    ct_grid_free(fine_like);
    ct_grid_free(like);
    ct_crs_free(c5897);
    ct_ctx_free(ctx);
}


/* The direct writer's failures keep the old file and leave no temporary one: cancelled half-way,
 * and when the rename onto the target fails (a non-empty folder there). */
static void test_direct_failed_write_keeps_old_file(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    const ct_cog_opts direct = {.direct = 1};
    char sub[600], path[700], dirpath[700], inner[800];
    snprintf(sub, sizeof sub, "%s/keep-direct", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/depth.tif", sub);
    ct_grid *old = make_grid(ctx, CT_FLOAT32, 300, 200, NULL);
    assert_int_equal(ct_grid_write_cog(ctx, old, path, &direct), CT_OK);
    size_t n0, n1;
    unsigned char *before = slurp(path, &n0);

    ct_grid *new = make_grid(ctx, CT_FLOAT32, 2000, 1500, NULL);
    ct_ctx_set_progress(ctx, cancel_progress, NULL);
    assert_int_equal(ct_grid_write_cog(ctx, new, path, &direct), CT_ERR_CANCELLED);
    ct_ctx_set_progress(ctx, NULL, NULL);
    unsigned char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_int_equal(count_entries(sub), 1);

    snprintf(dirpath, sizeof dirpath, "%s/adir", sub);
    snprintf(inner, sizeof inner, "%s/x", dirpath);
    assert_int_equal(mkdir(dirpath, 0755), 0);
    assert_int_equal(mkdir(inner, 0755), 0);
    assert_int_equal(ct_grid_write_cog(ctx, old, dirpath, &direct), CT_ERR_IO);
    assert_int_equal(count_entries(sub), 2); /* depth.tif and adir: no temporary file left */

    free(before);
    free(after);
    ct_grid_free(old);
    ct_grid_free(new);
    ct_ctx_free(ctx);
}

/* A raster already on the target grid is read as it is, its nodata cells as NaN. */
static void test_read_onto_same_grid_nodata(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    const char *src = tpath("same.asc");
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs("ncols 3\nnrows 2\nxllcorner 500000\nyllcorner 1100000\ncellsize 5\nNODATA_value -9999\n"
          "1 2 -9999\n4 5 6\n", f);
    fclose(f);
    ct_grid *like = ct_grid_new(ctx, CT_FLOAT32, 3, 2), *a = NULL;
    const double gt[6] = {500000, 5, 0, 1100010, 0, -5};
    ct_grid_set_geotransform(like, gt);
    ct_crs *crs;
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:5897", &crs), CT_OK);
    ct_grid_set_crs(like, crs);
    /* the ASCII grid has no CRS: written again as a GeoTIFF with one */
    const char *tif = tpath("same.tif");
    ct_grid *g = NULL;
    assert_int_equal(ct_grid_read(ctx, src, 1, CT_FLOAT32, &g), CT_OK);
    ct_grid_set_crs(g, crs);
    assert_int_equal(ct_grid_write_cog(ctx, g, tif, NULL), CT_OK);
    ct_grid_free(g);
    assert_int_equal(ct_grid_read_onto(ctx, tif, like, NULL, &a), CT_OK);
    const float *v = ct_grid_cdata(a);
    assert_float_equal(v[0], 1, 0);
    assert_float_equal(v[1], 2, 0);
    assert_true(isnan(v[2]));
    assert_float_equal(v[5], 6, 0);
    ct_grid_free(a);
    ct_grid_free(like);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* A UInt16 grid of millimetres (scale 0.001, offset 0.25, nodata 65535), written by the direct
 * writer and by GDAL's COG driver: the file carries the scale and offset; read to Float32 or
 * Float64 every valid cell comes back as v * 0.001 + 0.25 and the nodata cell as 65535; read to
 * UInt16 as stored, with the scale on the grid; read onto the same grid and onto a grid of
 * cells twice as large (warped: the average of the stored values, which GDAL rounds to a stored
 * unit, then scaled), in metres. */
static void test_scaled_uint16_reads_in_units(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *crs;
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:5897", &crs), CT_OK);
    ct_grid *g = ct_grid_new(ctx, CT_UINT16, 600, 560);
    const double gt[6] = {500000, 5, 0, 1100000, 0, -5};
    ct_grid_set_geotransform(g, gt);
    ct_grid_set_crs(g, crs);
    ct_grid_set_nodata(g, 65535);
    assert_int_equal(ct_grid_get_scale(g, NULL, NULL), 0);
    ct_grid_set_scale(g, 0.001, 0.25);
    uint16_t *v = ct_grid_data(g);
    for (int i = 0; i < 600 * 560; i++)
        v[i] = (uint16_t)((i * 7919u) % 65535u); /* 0..65534 */
    v[5] = 65535;
    for (int direct = 0; direct < 2; direct++) {
        const char *path = tpath(direct ? "mm-direct.tif" : "mm-gdal.tif");
        ct_cog_opts o = {.direct = direct, .compress = CT_COG_ZSTD, .level = 1};
        assert_int_equal(ct_grid_write_cog(ctx, g, path, &o), CT_OK);
        ct_raster *r = NULL;
        assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
        double sc, of;
        assert_int_equal(ct_raster_band_scale(r, 1, &sc, &of), 1);
        assert_float_equal(sc, 0.001, 0);
        assert_float_equal(of, 0.25, 0);
        ct_grid *f = NULL, *d = NULL, *u = NULL;
        assert_int_equal(ct_raster_read(ctx, r, 1, 0, 0, 600, 560, CT_FLOAT32, &f), CT_OK);
        assert_int_equal(ct_raster_read(ctx, r, 1, 0, 0, 600, 560, CT_FLOAT64, &d), CT_OK);
        assert_int_equal(ct_raster_read(ctx, r, 1, 0, 0, 600, 560, CT_UINT16, &u), CT_OK);
        const float *fv = ct_grid_cdata(f);
        const double *dv = ct_grid_cdata(d);
        for (int i = 0; i < 600 * 560; i++) {
            double want = i == 5 ? 65535 : v[i] * 0.001 + 0.25;
            if (fv[i] != (float)want || dv[i] != want)
                fail_msg("direct %d, cell %d: stored %u, read %.9g and %.17g, want %.17g", direct, i, v[i], fv[i], dv[i], want);
        }
        assert_memory_equal(ct_grid_cdata(u), v, sizeof *v * 600 * 560);
        assert_int_equal(ct_grid_get_scale(u, &sc, &of), 1);
        assert_float_equal(sc, 0.001, 0);
        assert_float_equal(of, 0.25, 0);
        assert_int_equal(ct_grid_get_scale(f, NULL, NULL), 0); /* already in units */
        ct_grid_free(f);
        ct_grid_free(d);
        ct_grid_free(u);
        ct_raster_close(r);
        ct_grid *like = ct_grid_new(ctx, CT_FLOAT32, 300, 280), *w = NULL;
        const double gt2[6] = {500000, 10, 0, 1100000, 0, -10};
        ct_grid_set_geotransform(like, gt2);
        ct_grid_set_crs(like, crs);
        assert_int_equal(ct_grid_read_onto(ctx, path, like, "average", &w), CT_OK);
        const float *wv = ct_grid_cdata(w);
        for (int rr = 0; rr < 280; rr++)
            for (int c = 0; c < 300; c++) {
                double s = 0;
                int n = 0;
                for (int k = 0; k < 4; k++) {
                    int i = (2 * rr + k / 2) * 600 + 2 * c + k % 2;
                    if (i != 5)
                        s += v[i], n++;
                }
                double want = s / n * 0.001 + 0.25;
                if (fabs(wv[rr * 300 + c] - want) > 0.0005 + 1e-6 * want) /* GDAL's warper rounds means of integers */
                    fail_msg("direct %d, warped cell %d,%d: %.9g, want %.9g", direct, c, rr, wv[rr * 300 + c], want);
            }
        ct_grid_free(w);
        ct_grid_free(like);
    }
    ct_grid_free(g);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

/* The direct writer remembers the georeferencing tags of its last grids: a grid written again
 * with another nodata, scale, geotransform or CRS gets its own, not the remembered ones. */
static void test_direct_cog_georef_follows_each_grid(void **state)
{
    (void)state;
    ct_ctx *ctx = new_ctx();
    ct_crs *a, *b;
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:5897", &a), CT_OK);
    assert_int_equal(ct_crs_from_user(ctx, "EPSG:32648", &b), CT_OK);
    ct_grid *g = ct_grid_new(ctx, CT_UINT16, 40, 30);
    const double gt1[6] = {500000, 5, 0, 1100000, 0, -5}, gt2[6] = {600000, 10, 0, 1200000, 0, -10};
    const ct_cog_opts o = {.direct = 1};
    for (int step = 0; step < 5; step++) {
        ct_grid_set_geotransform(g, step >= 3 ? gt2 : gt1);
        ct_grid_set_crs(g, step >= 4 ? b : a);
        ct_grid_set_nodata(g, step >= 1 ? 7 : 9);
        ct_grid_set_scale(g, step >= 2 ? 0.01 : 1, 0);
        const char *path = tpath("memo.tif");
        assert_int_equal(ct_grid_write_cog(ctx, g, path, &o), CT_OK);
        ct_raster *r = NULL;
        assert_int_equal(ct_raster_open(ctx, path, &r), CT_OK);
        double nd = 0, sc = 0, gt[6];
        assert_int_equal(ct_raster_band_nodata(r, 1, &nd), 1);
        assert_float_equal(nd, step >= 1 ? 7 : 9, 0);
        ct_raster_band_scale(r, 1, &sc, NULL);
        assert_float_equal(sc, step >= 2 ? 0.01 : 1, 0);
        assert_int_equal(ct_raster_geotransform(r, gt), 1);
        assert_memory_equal(gt, step >= 3 ? gt2 : gt1, sizeof gt);
        assert_true(ct_crs_equal(ct_raster_crs(r), step >= 4 ? b : a));
        ct_raster_close(r);
    }
    ct_grid_free(g);
    ct_crs_free(a);
    ct_crs_free(b);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtype_names_and_sizes),
        cmocka_unit_test(test_grid_new_has_documented_defaults),
        cmocka_unit_test(test_grid_set_rounds_and_clamps_integers),
        cmocka_unit_test(test_cog_round_trip_byte),
        cmocka_unit_test(test_cog_round_trip_int16),
        cmocka_unit_test(test_cog_round_trip_uint16),
        cmocka_unit_test(test_cog_round_trip_int32),
        cmocka_unit_test(test_cog_round_trip_float32),
        cmocka_unit_test(test_cog_round_trip_float64),
        cmocka_unit_test(test_cog_carries_official_towgs84),
        cmocka_unit_test(test_grid_without_crs_or_nodata_round_trips),
        cmocka_unit_test(test_cog_is_tiled_deflated_with_overviews),
        cmocka_unit_test(test_window_equals_part_of_full_read),
        cmocka_unit_test(test_stats_match_independent_computation),
        cmocka_unit_test(test_stats_report_progress_and_can_be_cancelled),
        cmocka_unit_test(test_write_into_missing_folder_fails_and_leaves_nothing),
        cmocka_unit_test(test_failed_write_keeps_old_file),
        cmocka_unit_test(test_same_grid_gives_same_bytes),
        cmocka_unit_test(test_direct_cog_equals_gdal_cog),
        cmocka_unit_test(test_direct_cog_same_bytes_any_threads),
        cmocka_unit_test(test_direct_cog_spans_same_bytes),
        cmocka_unit_test(test_direct_cog_one_bit),
        cmocka_unit_test(test_missing_and_non_raster_files),
        cmocka_unit_test(test_truncated_geotiff_is_an_error),
        cmocka_unit_test(test_reads_esri_ascii_grid),
        cmocka_unit_test(test_read_onto_resamples_by_cell_size),
        cmocka_unit_test(test_direct_failed_write_keeps_old_file),
        cmocka_unit_test(test_read_onto_same_grid_nodata),
        cmocka_unit_test(test_scaled_uint16_reads_in_units),
        cmocka_unit_test(test_direct_cog_georef_follows_each_grid),
    };
    return cmocka_run_group_tests_name("raster", tests, group_setup, group_teardown);
}
