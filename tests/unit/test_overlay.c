/* test_overlay.c — exact coverage fractions against known answers and against a per-cell GEOS
 * intersection; weighted zonal statistics against brute-force supersampling; totals over a
 * partition. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/crs.h"
#include "ct/overlay.h"
#include "ct/sdi.h"
#include "ct/raster.h"
#include "ct/vector.h"
#include <sqlite3.h>

/* A VN-2000 TM-3-like grid: 5 m cells, north-up, origin at real Cần Thơ coordinates. */
static const double GT[6] = {586000, 5, 0, 1109100, 0, -5};

static GEOSGeometry *wkt(ct_ctx *ctx, const char *s)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(ct_geos(ctx));
    GEOSGeometry *g = GEOSWKTReader_read_r(ct_geos(ctx), r, s);
    GEOSWKTReader_destroy_r(ct_geos(ctx), r);
    assert_non_null(g);
    return g;
}

static double geos_area(ct_ctx *ctx, const GEOSGeometry *g)
{
    double a = 0;
    GEOSArea_r(ct_geos(ctx), g, &a);
    return a;
}

/* The reference: area of (cell ∩ g) / cell area, by GEOS, for every cell of the window. */
static double brute_frac(ct_ctx *ctx, const GEOSGeometry *g, int col, int row)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    double x0 = GT[0] + col * GT[1], y0 = GT[3] + row * GT[5];
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, x0, y0 + GT[5], x0 + GT[1], y0);
    GEOSGeometry *i = GEOSIntersection_r(h, box, g);
    double a = geos_area(ctx, i);
    GEOSGeom_destroy_r(h, i);
    GEOSGeom_destroy_r(h, box);
    return a / fabs(GT[1] * GT[5]);
}

/* Checks every fraction of the window against GEOS and the total against the polygon area. */
static void check_against_geos(ct_ctx *ctx, const GEOSGeometry *g, int col0, int row0, int nc, int nr,
                               int whole)
{
    double *f = malloc((size_t)nc * nr * sizeof *f);
    assert_int_equal(ct_coverage_fractions(ctx, g, GT, col0, row0, nc, nr, f), CT_OK);
    double total = 0, worst = 0;
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++) {
            double want = brute_frac(ctx, g, col0 + c, row0 + r), got = f[r * nc + c];
            worst = fmax(worst, fabs(got - want));
            total += got;
        }
    if (worst > 1e-9)
        fail_msg("largest fraction error %.3g", worst);
    if (whole) {
        double a = geos_area(ctx, g), got = total * fabs(GT[1] * GT[5]);
        print_message("    %d x %d cells: largest fraction error against GEOS %.2g, area error %.2g relative\n",
                      nc, nr, worst, fabs(got - a) / a);
        if (fabs(got - a) > 1e-9 * a)
            fail_msg("area %.12f, polygon %.12f", got, a);
    }
    free(f);
}

static double overlap(double a0, double a1, double b0, double b1)
{
    double lo = fmax(a0, b0), hi = fmin(a1, b1);
    return hi > lo ? hi - lo : 0;
}

/* A rectangle offset by fractions of a cell: each fraction is the product of two 1-D overlaps. */
static void test_square_offsets(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    const double offs[][4] = {{1.3, 2.6, 3.7, 5.2}, {0.5, 0.5, 1.5, 1.5}, {2, 3, 4, 6}, {0.01, 0.99, 0.02, 1.01}};
    for (size_t t = 0; t < sizeof offs / sizeof offs[0]; t++) {
        double c0 = offs[t][0], r0 = offs[t][1], c1 = offs[t][2], r1 = offs[t][3]; /* in cells */
        char s[256];
        snprintf(s, sizeof s, "POLYGON((%.10f %.10f,%.10f %.10f,%.10f %.10f,%.10f %.10f,%.10f %.10f))",
                 GT[0] + 5 * c0, GT[3] - 5 * r0, GT[0] + 5 * c1, GT[3] - 5 * r0, GT[0] + 5 * c1,
                 GT[3] - 5 * r1, GT[0] + 5 * c0, GT[3] - 5 * r1, GT[0] + 5 * c0, GT[3] - 5 * r0);
        GEOSGeometry *g = wkt(ctx, s);
        double f[8 * 8];
        assert_int_equal(ct_coverage_fractions(ctx, g, GT, 0, 0, 8, 8, f), CT_OK);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++) {
                double want = overlap(c, c + 1, c0, c1) * overlap(r, r + 1, r0, r1);
                if (fabs(f[r * 8 + c] - want) > 1e-9)
                    fail_msg("square %zu cell %d,%d: %.12f, want %.12f", t, c, r, f[r * 8 + c], want);
            }
        GEOSGeom_destroy_r(ct_geos(ctx), g);
    }
    ct_ctx_free(ctx);
}

/* A 256-gon circle: total area equals the polygon's, and every cell equals GEOS's. */
static void test_circle(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSContextHandle_t h = ct_geos(ctx);
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, GT[0] + 41.3, GT[3] - 37.9);
    GEOSGeometry *c = GEOSBuffer_r(h, pt, 23.7, 64);
    check_against_geos(ctx, c, 0, 0, 20, 20, 1);
    /* and the area matches the analytic polygon area of a regular 256-gon */
    double n = 256, r = 23.7, want = 0.5 * n * r * r * sin(2 * M_PI / n);
    assert_true(fabs(geos_area(ctx, c) - want) < 1e-9 * want);
    GEOSGeom_destroy_r(h, c);
    GEOSGeom_destroy_r(h, pt);
    ct_ctx_free(ctx);
}

static void test_triangle(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSGeometry *g = wkt(ctx, "POLYGON((586001.7 1109098.2,586043.1 1109071.9,586012.4 1109052.3,586001.7 1109098.2))");
    /* shoelace by hand: the known area */
    double x[3] = {1.7, 43.1, 12.4}, y[3] = {98.2, 71.9, 52.3};
    double want = 0.5 * fabs((x[1] - x[0]) * (y[2] - y[0]) - (x[2] - x[0]) * (y[1] - y[0]));
    assert_true(fabs(geos_area(ctx, g) - want) < 1e-9 * want);
    check_against_geos(ctx, g, 0, 0, 10, 11, 1);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_ctx_free(ctx);
}

static void test_hole(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSGeometry *g = wkt(ctx, "POLYGON((586001 1109099,586039 1109099,586039 1109061,586001 1109061,586001 1109099),"
                               "(586010.5 1109090.5,586012.5 1109070.5,586030.5 1109072.5,586010.5 1109090.5))");
    check_against_geos(ctx, g, 0, 0, 9, 9, 1);
    /* the area is the shell minus the hole */
    double want = 38.0 * 38.0 - 0.5 * fabs(2.0 * -18 - 20.0 * -20);
    assert_true(fabs(geos_area(ctx, g) - want) < 1e-9 * want);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_ctx_free(ctx);
}

/* A diagonal strip 0.3 m wide (a twentieth of a cell) and a sliver inside one cell. */
static void test_thinner_than_a_cell(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSGeometry *g = wkt(ctx, "POLYGON((586000.5 1109099,586040.5 1109062,586040.8 1109062.3,586000.8 1109099.3,586000.5 1109099))");
    check_against_geos(ctx, g, 0, 0, 10, 10, 1);
    GEOSGeometry *s = wkt(ctx, "POLYGON((586011 1109088,586013.9 1109088,586013.9 1109087.95,586011 1109087.95,586011 1109088))");
    double f[9];
    assert_int_equal(ct_coverage_fractions(ctx, s, GT, 1, 1, 3, 3, f), CT_OK);
    /* 1109087.95 is not exact in binary: its rounding (~1e-10 m) bounds the error */
    if (fabs(f[4] - 2.9 * 0.05 / 25) > 1e-9 * 2.9 * 0.05 / 25)
        fail_msg("sliver fraction %.15g, want %.15g", f[4], 2.9 * 0.05 / 25);
    assert_true(f[0] == 0 && f[8] == 0);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    GEOSGeom_destroy_r(ct_geos(ctx), s);
    ct_ctx_free(ctx);
}

/* A multipolygon with one part on a diagonal and a window that cuts through everything. */
static void test_multipolygon_and_window(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSGeometry *g = wkt(ctx, "MULTIPOLYGON(((586002 1109098,586018 1109096,586011 1109083,586002 1109098)),"
                               "((586021.2 1109079.9,586046.6 1109079.9,586046.6 1109050.1,586021.2 1109050.1,586021.2 1109079.9)))");
    check_against_geos(ctx, g, 0, 0, 11, 11, 1);
    check_against_geos(ctx, g, 3, 2, 4, 5, 0); /* a window that cuts both parts */
    check_against_geos(ctx, g, -3, -2, 4, 5, 0); /* one reaching outside the grid's origin */
    /* orientation does not matter */
    GEOSGeometry *rev = GEOSReverse_r(ct_geos(ctx), g);
    check_against_geos(ctx, rev, 0, 0, 11, 11, 1);
    GEOSGeom_destroy_r(ct_geos(ctx), rev);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_ctx_free(ctx);
}

static ct_grid *make_grid(ct_ctx *ctx, int w, int h, unsigned seed)
{
    ct_grid *g = ct_grid_new(ctx, CT_FLOAT64, w, h);
    ct_grid_set_geotransform(g, GT);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            seed = seed * 1103515245u + 12345u;
            ct_grid_set(g, c, r, ((seed >> 8) % 2000) / 1000.0 - 0.5); /* -0.5 .. 1.5 */
        }
    return g;
}

/* The 20 x 20 grid of make_grid(ctx, 20, 20, 5) in VN-2000 / TM-3 105, written as a COG to tif. */
static ct_grid *cog_fixture(ct_ctx *ctx, const char *tif, ct_crs **crs)
{
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", crs), CT_OK);
    ct_grid *grid = make_grid(ctx, 20, 20, 5);
    ct_grid_set_crs(grid, *crs);
    assert_int_equal(ct_grid_write_cog(ctx, grid, tif, NULL), CT_OK);
    return grid;
}

/* A polygon crossing the raster's edge: only the part over the raster counts. */
static void test_crossing_raster_edge(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *grid = make_grid(ctx, 10, 10, 7);
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 10; c++)
            ct_grid_set(grid, c, r, 1.0);
    /* 30 × 20 m square, 12.5 m of its width west of the raster */
    GEOSGeometry *g = wkt(ctx, "POLYGON((585987.5 1109080,586017.5 1109080,586017.5 1109060,585987.5 1109060,585987.5 1109080))");
    ct_zonal_stats s;
    assert_int_equal(ct_zonal_grid(ctx, g, grid, NULL, &s), CT_OK);
    assert_true(fabs(s.poly_area - 600) < 1e-9);
    assert_true(fabs(s.area - 17.5 * 20) < 1e-9);
    assert_true(fabs(s.sum - 17.5 * 20 / 25) < 1e-9);
    assert_true(fabs(s.mean - 1) < 1e-12);
    assert_true(fabs(s.class_area[2] - 350) < 1e-9); /* 1.0 is in (0.5, 1.0] */
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    /* entirely outside: area 0, no mean */
    g = wkt(ctx, "POLYGON((585900 1109000,585950 1109000,585950 1108950,585900 1109000))");
    assert_int_equal(ct_zonal_grid(ctx, g, grid, NULL, &s), CT_OK);
    assert_true(s.area == 0 && s.count == 0 && isnan(s.mean) && isnan(s.min));
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_grid_free(grid);
    ct_ctx_free(ctx);
}

/* Point in polygon with holes (crossing number over every ring). */
static int inside(const double *x, const double *y, const int *ring_end, int nrings, double px, double py)
{
    int in = 0, start = 0;
    for (int k = 0; k < nrings; k++) {
        for (int i = start, j = ring_end[k] - 1; i < ring_end[k]; j = i++)
            if ((y[i] > py) != (y[j] > py) && px < (x[j] - x[i]) * (py - y[i]) / (y[j] - y[i]) + x[i])
                in = !in;
        start = ring_end[k];
    }
    return in;
}

/* Weighted statistics against brute-force supersampling (n × n points per cell). */
static void test_stats_vs_supersampling(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *grid = make_grid(ctx, 12, 12, 42);
    ct_grid_set_nodata(grid, -9999);
    ct_grid_set(grid, 5, 5, -9999);
    /* a concave polygon with a hole, coordinates relative to the origin */
    const double x[] = {3.1, 51.7, 44.2, 27.3, 9.8, 3.1, /* shell */ 20.2, 30.1, 24.4, 20.2};
    const double y[] = {-2.7, -9.3, -55.1, -31.4, -48.8, -2.7, /* hole */ -20.5, -22.2, -29.9, -20.5};
    const int ring_end[] = {6, 10};
    char s[1024];
    int n = 0;
    n += snprintf(s + n, sizeof s - n, "POLYGON((");
    for (int i = 0; i < 10; i++)
        n += snprintf(s + n, sizeof s - n, "%s%.10f %.10f%s", i == 6 ? "(" : "", GT[0] + x[i], GT[3] + y[i],
                      i == 5 ? ")," : i == 9 ? "))" : ",");
    GEOSGeometry *g = wkt(ctx, s);
    double classes[] = {0, 0.5, 1.0};
    double above[] = {0.75};
    ct_zonal_params p = {.classes = classes, .nclasses = 3, .above = above, .nabove = 1, .wet = 0.1};
    ct_zonal_stats st;
    assert_int_equal(ct_zonal_grid(ctx, g, grid, &p, &st), CT_OK);

    const int ns = 200; /* 40 000 samples per cell */
    double w_all = 0, w_nd = 0, w_valid = 0, sum = 0, wet = 0, cls[3] = {0}, ab = 0, mn = INFINITY, mx = -INFINITY;
    for (int r = 0; r < 12; r++)
        for (int c = 0; c < 12; c++) {
            int k = 0;
            for (int i = 0; i < ns; i++)
                for (int j = 0; j < ns; j++)
                    k += inside(x, y, ring_end, 2, (c + (j + 0.5) / ns) * 5, -(r + (i + 0.5) / ns) * 5);
            double w = (double)k / (ns * ns), v = ct_grid_get(grid, c, r);
            if (!k)
                continue;
            w_all += w;
            if (v == -9999) {
                w_nd += w;
                continue;
            }
            w_valid += w;
            sum += w * v;
            mn = fmin(mn, v);
            mx = fmax(mx, v);
            wet += v > 0.1 ? w : 0;
            if (v > 0)
                cls[v <= 0.5 ? 0 : v <= 1.0 ? 1 : 2] += w;
            ab += v > 0.75 ? w : 0;
        }
    /* supersampling converges as 1/ns: compare to a few parts in 10^4 of the polygon */
    double tol = 25 * 2e-3 * (st.area / 25) / 10;
    assert_true(fabs(st.area - 25 * w_all) < tol);
    assert_true(fabs(st.nodata_area - 25 * w_nd) < tol);
    assert_true(st.nodata_area > 0);
    assert_true(fabs(st.count - w_valid) < tol / 25);
    assert_true(fabs(st.sum - sum) < tol / 25 * 1.5);
    assert_true(fabs(st.mean - sum / w_valid) < 1e-3);
    assert_true(st.min == mn && st.max == mx);
    assert_true(fabs(st.wet_area - 25 * wet) < tol);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(st.class_area[i] - 25 * cls[i]) < tol);
    assert_true(fabs(st.above_area[0] - 25 * ab) < tol);
    /* and the exact area is the polygon's to 1e-9 */
    assert_true(fabs(st.poly_area - geos_area(ctx, g)) < 1e-9 * st.poly_area);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_grid_free(grid);
    ct_ctx_free(ctx);
}

/* Majority on a class raster: the class with the largest covered area wins. */
static void test_majority(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *grid = ct_grid_new(ctx, CT_INT16, 4, 1);
    ct_grid_set_geotransform(grid, GT);
    ct_grid_set(grid, 0, 0, 3);
    ct_grid_set(grid, 1, 0, 7);
    ct_grid_set(grid, 2, 0, 7);
    ct_grid_set(grid, 3, 0, 3);
    /* covers 30 % of each cell: a tie (0.6 each), which goes to the smaller value */
    GEOSGeometry *g = wkt(ctx, "POLYGON((586000 1109100,586020 1109100,586020 1109098.5,586000 1109098.5,586000 1109100))");
    ct_zonal_params p = {.majority = 1};
    ct_zonal_stats st;
    assert_int_equal(ct_zonal_grid(ctx, g, grid, &p, &st), CT_OK);
    assert_true(st.majority == 3);
    assert_true(fabs(st.count - 4 * 0.3) < 1e-12);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    g = wkt(ctx, "POLYGON((586003 1109100,586015 1109100,586015 1109095,586003 1109095,586003 1109100))");
    assert_int_equal(ct_zonal_grid(ctx, g, grid, &p, &st), CT_OK);
    assert_true(st.majority == 7); /* 0.4 of class 3, 2.0 of class 7 */
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_grid_free(grid);
    ct_ctx_free(ctx);
}

/* Wet areas per polygon over a full partition of the raster add up to the raster's wet area. */
static void test_partition_totals(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    const int W = 40, H = 30, N = 9, M = 7; /* N × M jittered quads over the whole raster */
    ct_grid *grid = make_grid(ctx, W, H, 2026);
    double want = 0;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            want += ct_grid_get(grid, c, r) > 0 ? 25 : 0;
    double px[N + 1][M + 1], py[N + 1][M + 1];
    unsigned seed = 99;
    for (int i = 0; i <= N; i++)
        for (int j = 0; j <= M; j++) {
            seed = seed * 1103515245u + 12345u;
            double jx = (i > 0 && i < N) ? ((seed >> 8) % 1000 / 1000.0 - 0.5) * 0.6 : 0;
            seed = seed * 1103515245u + 12345u;
            double jy = (j > 0 && j < M) ? ((seed >> 8) % 1000 / 1000.0 - 0.5) * 0.6 : 0;
            px[i][j] = GT[0] + (i + jx) * (W * 5.0 / N);
            py[i][j] = GT[3] - (j + jy) * (H * 5.0 / M);
        }
    double got = 0, area = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++) {
            char s[512];
            snprintf(s, sizeof s, "POLYGON((%.9f %.9f,%.9f %.9f,%.9f %.9f,%.9f %.9f,%.9f %.9f))", px[i][j], py[i][j],
                     px[i + 1][j], py[i + 1][j], px[i + 1][j + 1], py[i + 1][j + 1], px[i][j + 1], py[i][j + 1],
                     px[i][j], py[i][j]);
            GEOSGeometry *g = wkt(ctx, s);
            ct_zonal_stats st;
            assert_int_equal(ct_zonal_grid(ctx, g, grid, NULL, &st), CT_OK);
            got += st.wet_area;
            area += st.area;
            GEOSGeom_destroy_r(ct_geos(ctx), g);
        }
    if (fabs(got - want) > 1e-6 * want)
        fail_msg("wet area %.9f, raster %.9f", got, want);
    assert_true(fabs(area - W * H * 25.0) < 1e-6 * area);
    ct_grid_free(grid);
    ct_ctx_free(ctx);
}

static void test_restricted_and_errors(void **state)
{
    (void)state;
    assert_true(ct_sdi_field_personal("TenChu"));
    assert_true(ct_sdi_field_personal("chususdung") == 0);
    assert_true(ct_sdi_field_personal("ChuSuDung"));
    assert_true(ct_sdi_field_personal("cccd"));
    assert_false(ct_sdi_field_personal("SoThua"));
    assert_false(ct_sdi_field_personal("GhiChu"));
    assert_true(ct_sdi_field_personal("owner"));    /* the SDI's own restricted columns */
    assert_true(ct_sdi_field_personal("OWNER_ID"));
    assert_false(ct_sdi_field_personal("address"));
    ct_ctx *ctx = ct_ctx_new();
    GEOSGeometry *g = wkt(ctx, "POLYGON((0 0,1 0,1 1,0 0))");
    double f[4], rot[6] = {0, 1, 0.1, 0, 0, -1};
    assert_int_equal(ct_coverage_fractions(ctx, g, rot, 0, 0, 2, 2, f), CT_ERR_UNSUPPORTED);
    assert_int_equal(ct_coverage_fractions(ctx, g, GT, 0, 0, 0, 2, f), CT_ERR_USAGE);
    ct_grid *grid = make_grid(ctx, 3, 3, 1);
    double bad[] = {1, 0.5};
    ct_zonal_params p = {.classes = bad, .nclasses = 2};
    ct_zonal_stats st;
    assert_int_equal(ct_zonal_grid(ctx, g, grid, &p, &st), CT_ERR_USAGE);
    ct_grid_free(grid);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_ctx_free(ctx);
}

/* ct_overlay_run as a library call: a COG and a GeoPackage written by libctcore, CSV read back;
 * a failing run (no overlap) leaves the previous output in place. */
static void test_run_library_call(void **state)
{
    (void)state;
    char dir[] = "/tmp/ct-test-overlay-XXXXXX", tif[96], gpkg[96], far[96], csv[96], cmd[160];
    assert_non_null(mkdtemp(dir));
    snprintf(tif, sizeof tif, "%s/d.tif", dir);
    snprintf(gpkg, sizeof gpkg, "%s/p.gpkg", dir);
    snprintf(far, sizeof far, "%s/far.gpkg", dir);
    snprintf(csv, sizeof csv, "%s/out.csv", dir);
    ct_ctx *ctx = ct_ctx_new();
    ct_crs *crs = NULL;
    ct_grid *grid = cog_fixture(ctx, tif, &crs);
    static const ct_field_def fd[] = {{"SoThua", CT_FIELD_INT, 0, 0}, {"TenChu", CT_FIELD_STRING, 0, 0}};
    const char *polys[2] = {"POLYGON((586003.3 1109097.1,586061.2 1109091.4,586040 1109032.2,586003.3 1109097.1))",
                            "POLYGON((586070.5 1109060,586140 1109060,586140 1108990,586070.5 1108990,586070.5 1109060))"};
    for (int k = 0; k < 2; k++) {
        ct_vsink_opts so = {.layer = "p", .gtype = CT_GEOM_POLYGON, .crs = crs, .fields = fd, .nfields = 2};
        ct_vsink *sk = NULL;
        assert_int_equal(ct_vsink_create(ctx, k ? far : gpkg, &so, &sk), CT_OK);
        for (int i = 0; i < 2; i++) {
            GEOSGeometry *g = wkt(ctx, polys[i]);
            if (k) { /* far away: 10 km east */
                GEOSGeometry *m = wkt(ctx, i ? "POLYGON((596000 1109000,596010 1109000,596010 1109010,596000 1109000))"
                                             : "POLYGON((597000 1109000,597010 1109000,597010 1109010,597000 1109000))");
                GEOSGeom_destroy_r(ct_geos(ctx), g);
                g = m;
            }
            const char *vals[2] = {i ? "2" : "1", i ? "Lê Văn B" : "Nguyễn Thị A"};
            assert_int_equal(ct_vsink_write(ctx, sk, g, vals), CT_OK);
            GEOSGeom_destroy_r(ct_geos(ctx), g);
        }
        assert_int_equal(ct_vsink_commit(ctx, sk), CT_OK);
    }
    const char *rasters[1] = {tif};
    ct_overlay_opts o = {.mode = CT_OVERLAY_ZONAL, .rasters = rasters, .nrasters = 1, .polygons = gpkg, .output = csv};
    assert_int_equal(ct_overlay_run(ctx, &o), CT_OK);
    /* the same statistics as ct_zonal_grid on the grid in memory */
    FILE *f = fopen(csv, "r");
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_null(strstr(line, "TenChu"));
    for (int i = 0; i < 2; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_null(strstr(line, "Nguy"));
        double v[16];
        char *p = line;
        for (int k = 0; k < 16; k++) {
            v[k] = strtod(p, &p);
            p += *p == ',';
        }
        GEOSGeometry *g = wkt(ctx, polys[i]);
        ct_zonal_stats st;
        assert_int_equal(ct_zonal_grid(ctx, g, grid, NULL, &st), CT_OK);
        GEOSGeom_destroy_r(ct_geos(ctx), g);
        /* columns: src_fid SoThua poly_area area nodata_area count sum mean min max wet_area ... */
        assert_true(fabs(v[3] - st.area) < 1e-9 * st.area);
        assert_true(fabs(v[6] - st.sum) <= 1e-12 * fabs(st.sum) + 1e-12);
        assert_true(fabs(v[10] - st.wet_area) <= 1e-9 * st.area);
        if (i == 1) /* the second polygon crosses the raster's east and south edges */
            assert_true(st.area < st.poly_area - 1);
    }
    fclose(f);
    /* no overlap: an error naming the layer, and the previous CSV is still there */
    o.polygons = far;
    assert_int_equal(ct_overlay_run(ctx, &o), CT_ERR_INVALID);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "no polygon overlaps"));
    f = fopen(csv, "r");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "src_fid,SoThua"));
    fclose(f);
    ct_grid_free(grid);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The SDI as a library caller sees it: planning zones and a depth raster registered in an SDI,
 * zonal statistics into a result table with the values ct_zonal_grid gives; an unknown raster
 * name fails and writes no version. */
static void test_sdi_zonal_table(void **state)
{
    (void)state;
    char dir[] = "/tmp/ct-test-overlay-sdi-XXXXXX", path[96], tif[96], cmd[160];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/city.sqlite", dir);
    snprintf(tif, sizeof tif, "%s/d.tif", dir);
    ct_ctx *ctx = ct_ctx_new();
    ct_crs *crs = NULL;
    ct_grid *grid = cog_fixture(ctx, tif, &crs);
    ct_sdi *s = NULL;
    long long v = 0;
    assert_int_equal(ct_sdi_create(ctx, path, crs, NULL, &s), CT_OK);
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "planning", "zones.shp", &v), CT_OK);
    const char *polys[2] = {"MULTIPOLYGON(((586003.3 1109097.1,586061.2 1109091.4,586040 1109032.2,586003.3 1109097.1)))",
                            "MULTIPOLYGON(((586070.5 1109060,586140 1109060,586140 1108990,586070.5 1108990,586070.5 1109060)))"};
    const char *vals[16] = {NULL};
    for (int i = 0; i < 2; i++) {
        GEOSGeometry *g = wkt(ctx, polys[i]);
        ct_sdi_op op;
        vals[0] = i ? "Z2" : "Z1";
        assert_int_equal(ct_sdi_put(ctx, s, CT_SDI_ZONES, "zones.shp", vals[0], g, vals, &op), CT_OK);
        GEOSGeom_destroy_r(ct_geos(ctx), g);
    }
    ct_sdi_source_info info = {.name = "r.max_depth", .title = "depth", .extent = {586000, 1109000, 586100, 1109100}};
    assert_int_equal(ct_sdi_add_raster(ctx, s, "r.max_depth", tif, &info), CT_OK);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    long long before = ct_sdi_current_version(s);

    const char *rasters[1] = {"sdi:r.max_depth"};
    ct_overlay_opts o = {.mode = CT_OVERLAY_ZONAL, .rasters = rasters, .nrasters = 1,
                         .polygons = "sdi:planning_zones", .sdi = path, .table = "zonal_r", .invocation = "test"};
    assert_int_equal(ct_overlay_run(ctx, &o), CT_OK);
    sqlite3 *db = ct_sdi_db(s);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT zone_id, area, sum, wet_area FROM zonal_r ORDER BY zone_id", -1, &q,
                                        NULL), SQLITE_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), i ? "Z2" : "Z1");
        GEOSGeometry *g = wkt(ctx, polys[i]);
        ct_zonal_stats st;
        assert_int_equal(ct_zonal_grid(ctx, g, grid, NULL, &st), CT_OK);
        GEOSGeom_destroy_r(ct_geos(ctx), g);
        assert_true(fabs(sqlite3_column_double(q, 1) - st.area) < 1e-9 * st.area);
        assert_true(fabs(sqlite3_column_double(q, 2) - st.sum) <= 1e-12 * fabs(st.sum) + 1e-12);
        assert_true(fabs(sqlite3_column_double(q, 3) - st.wet_area) <= 1e-9 * st.area);
    }
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    assert_int_equal(ct_sdi_current_version(s), before + 1);

    /* an unknown raster: named, nothing written */
    rasters[0] = "sdi:nosuch.max_depth";
    o.table = "zonal_x";
    assert_int_equal(ct_overlay_run(ctx, &o), CT_ERR_INVALID);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "nosuch.max_depth"));
    ct_sdi_close(s);
    assert_int_equal(ct_sdi_open(ctx, path, &s), CT_OK);
    assert_int_equal(ct_sdi_current_version(s), before + 1);
    /* an sdi: operand without an SDI is a usage error */
    o.sdi = NULL;
    assert_int_equal(ct_overlay_run(ctx, &o), CT_ERR_USAGE);

    ct_sdi_close(s);
    ct_grid_free(grid);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square_offsets),
        cmocka_unit_test(test_circle),
        cmocka_unit_test(test_triangle),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_thinner_than_a_cell),
        cmocka_unit_test(test_multipolygon_and_window),
        cmocka_unit_test(test_crossing_raster_edge),
        cmocka_unit_test(test_stats_vs_supersampling),
        cmocka_unit_test(test_majority),
        cmocka_unit_test(test_partition_totals),
        cmocka_unit_test(test_restricted_and_errors),
        cmocka_unit_test(test_run_library_call),
        cmocka_unit_test(test_sdi_zonal_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
