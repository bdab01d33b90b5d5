/* test_coverage.c — ct_coverage_union(): hand-made coverages with known unions (a hole, a hole
 * touching its shell, shells meeting at a corner), parts that are no coverage, and the same
 * union as GEOS's GEOSCoverageUnion() on the sample cadastral sheets and blocks of them;
 * ct_polygon_simple(): rings it must prove valid, rings it must not, and never a polygon GEOS
 * finds invalid among the sample parcels. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>
#include <geos_c.h>

#include "coverage_int.h"

static GEOSContextHandle_t h;

static void quiet(const char *fmt, ...) { (void)fmt; }

static int setup(void **state)
{
    (void)state;
    h = GEOS_init_r();
    GEOSContext_setNoticeHandler_r(h, quiet);
    GEOSContext_setErrorHandler_r(h, quiet);
    GDALAllRegister();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    GEOS_finish_r(h);
    return 0;
}

static GEOSGeometry *wkt(const char *text)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, r, text);
    GEOSWKTReader_destroy_r(h, r);
    assert_non_null(g);
    return g;
}

/* The union of the parts given as WKT, or NULL. */
static GEOSGeometry *union_of(int n, const char *const *parts)
{
    GEOSGeometry *g[16];
    for (int i = 0; i < n; i++)
        g[i] = wkt(parts[i]);
    GEOSGeometry *u = ct_coverage_union(h, (const GEOSGeometry *const *)g, (size_t)n);
    for (int i = 0; i < n; i++)
        GEOSGeom_destroy_r(h, g[i]);
    return u;
}

/* u is valid and the same point set as the WKT expected, ring for ring after normalising. */
static void assert_union(GEOSGeometry *u, const char *expected)
{
    assert_non_null(u);
    assert_int_equal(GEOSisValid_r(h, u), 1);
    GEOSGeometry *e = wkt(expected);
    GEOSNormalize_r(h, u);
    GEOSNormalize_r(h, e);
    assert_int_equal(GEOSEqualsExact_r(h, u, e, 0), 1);
    GEOSGeom_destroy_r(h, e);
    GEOSGeom_destroy_r(h, u);
}

static void test_shared_edges(void **state)
{
    (void)state;
    /* one square drawn clockwise, the other counter-clockwise, with a repeated point */
    const char *two[] = {"POLYGON((0 0,0 1,1 1,1 0,0 0))", "POLYGON((1 0,2 0,2 1,1 1,1 1,1 0))"};
    assert_union(union_of(2, two), "POLYGON((0 0,1 0,2 0,2 1,1 1,0 1,0 0))");
}

static void test_hole(void **state)
{
    (void)state;
    /* eight unit squares around an empty centre: one polygon with a hole */
    const char *ring[8];
    char buf[8][96];
    int k = 0;
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++) {
            if (x == 1 && y == 1)
                continue;
            snprintf(buf[k], sizeof buf[k], "POLYGON((%d %d,%d %d,%d %d,%d %d,%d %d))", x, y, x + 1, y, x + 1, y + 1, x,
                     y + 1, x, y);
            ring[k] = buf[k];
            k++;
        }
    assert_union(union_of(8, ring), "POLYGON((0 0,1 0,2 0,3 0,3 1,3 2,3 3,2 3,1 3,0 3,0 2,0 1,0 0),"
                                    "(1 1,1 2,2 2,2 1,1 1))");
}

static void test_touching(void **state)
{
    (void)state;
    /* a hole touching its shell at one point stays a hole */
    const char *one[] = {"POLYGON((0 0,2 0,4 0,4 4,0 4,0 0),(2 0,3 1,1 1,2 0))"};
    assert_union(union_of(1, one), "POLYGON((0 0,2 0,4 0,4 4,0 4,0 0),(2 0,3 1,1 1,2 0))");
    /* two squares meeting at a corner are two polygons */
    const char *corner[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 1,2 1,2 2,1 2,1 1))"};
    assert_union(union_of(2, corner), "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((1 1,2 1,2 2,1 2,1 1)))");
    /* two parts meeting at two corners, the space between them outside: two polygons, not one
     * with a hole that cuts it in two (where the rings meet, the walk must turn left) */
    const char *pinch[] = {"POLYGON((0 0,2 0,1 1,2 2,0 2,0 0))", "POLYGON((2 0,4 0,4 2,2 2,3 1,2 0))"};
    assert_union(union_of(2, pinch), "MULTIPOLYGON(((0 0,2 0,1 1,2 2,0 2,0 0)),((2 0,4 0,4 2,2 2,3 1,2 0)))");
    /* an island in a lake in a field: the island is the field's hole's shell */
    const char *island[] = {"POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,2 8,8 8,8 2,2 2))",
                            "POLYGON((4 4,6 4,6 6,4 6,4 4))"};
    assert_union(union_of(2, island),
                 "MULTIPOLYGON(((0 0,10 0,10 10,0 10,0 0),(2 2,2 8,8 8,8 2,2 2)),((4 4,6 4,6 6,4 6,4 4)))");
}

static void test_not_a_coverage(void **state)
{
    (void)state;
    /* the same parcel twice: an edge walked twice the same way */
    const char *twice[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((0 0,1 0,1 1,0 1,0 0))"};
    assert_null(union_of(2, twice));
    /* a neighbour with an extra vertex on the shared edge: the edges do not match */
    const char *tee[] = {"POLYGON((0 0,1 0,1 2,0 2,0 0))", "POLYGON((1 0,2 0,2 2,1 2,1 1,1 0))"};
    GEOSGeometry *u = union_of(2, tee);
    assert_true(!u || GEOSisValid_r(h, u) != 1);
    if (u)
        GEOSGeom_destroy_r(h, u);
    /* overlapping squares sharing no edge: whatever comes back is not a valid cover */
    const char *overlap[] = {"POLYGON((0 0,2 0,2 2,0 2,0 0))", "POLYGON((1 1,3 1,3 3,1 3,1 1))"};
    u = union_of(2, overlap);
    double a = 0;
    assert_true(!u || GEOSisValid_r(h, u) != 1 || (GEOSArea_r(h, u, &a) && fabs(a - 8) > 1e-9));
    if (u)
        GEOSGeom_destroy_r(h, u);
    /* not polygonal */
    const char *line[] = {"LINESTRING(0 0,1 1)"};
    assert_null(union_of(1, line));
}

static int simple(const char *text)
{
    GEOSGeometry *g = wkt(text);
    int s = ct_polygon_simple(h, g);
    GEOSGeom_destroy_r(h, g);
    return s;
}

static void test_simple(void **state)
{
    (void)state;
    assert_int_equal(simple("POLYGON((0 0,1 0,1 1,0 1,0 0))"), 1);
    assert_int_equal(simple("MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)))"), 1);
    /* a point in the middle of a straight edge, a sharp but open turn */
    assert_int_equal(simple("POLYGON((0 0,1 0,2 0,2 1,0 0.001,0 0))"), 1);
    /* in projected metres, as parcels are */
    assert_int_equal(simple("POLYGON((582952.71 1111826.10,583012.68 1111830.02,583002.33 1111881.32,"
                            "582960.11 1111870.55,582952.71 1111826.10))"), 1);
    /* a bow-tie; a ring touching itself at a vertex; a spike back along an edge; a repeated
     * point; too few points; a hole; two parts; an edge through a vertex of the ring */
    assert_int_equal(simple("POLYGON((0 0,1 1,1 0,0 1,0 0))"), 0);
    assert_int_equal(simple("POLYGON((0 0,2 0,1 1,2 2,0 2,1 1,0 0))"), 0);
    assert_int_equal(simple("POLYGON((0 0,2 0,2 1,2 3,2 2,0 2,0 0))"), 0);
    assert_int_equal(simple("POLYGON((0 0,1 0,1 0,1 1,0 1,0 0))"), 0);
    assert_int_equal(simple("POLYGON((0 0,1 0,0 0))"), 0);
    assert_int_equal(simple("POLYGON((0 0,3 0,3 3,0 3,0 0),(1 1,2 1,2 2,1 1))"), 0);
    assert_int_equal(simple("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))"), 0);
    assert_int_equal(simple("POLYGON((0 0,4 0,4 4,2 0,0 4,0 0))"), 0);
    /* a vertex on another edge, within rounding (decimals doubles do not hold exactly): not
     * decided here */
    assert_int_equal(simple("POLYGON((0.1 0.1,0.7 0.7,0.7 1,0.3 0.3,0 1,0.1 0.1))"), 0);
    /* a point a hair off the line of its neighbours, in numbers doubles hold: decided */
    assert_int_equal(simple("POLYGON((0 0,1 1e-300,2 0,2 1,0 1,0 0))"), 1);
    assert_int_equal(simple("LINESTRING(0 0,1 1)"), 0);
}

/* Valid, with the parts' area. */
static int is_cover(GEOSGeometry *u, double sum)
{
    double a = 0;
    return u && GEOSisValid_r(h, u) == 1 && GEOSArea_r(h, u, &a) && fabs(a - sum) <= 1e-9 * sum;
}

/* The sample sheets, whole and in blocks of 16 parcels in file order: where GEOS's coverage
 * union is a valid cover, this one is the same rings; where GEOS's is not, neither is this. */
static void test_samples_as_geos(void **state)
{
    (void)state;
    const char *top = getenv("CT_TOP") ? getenv("CT_TOP") : ".";
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    int covers = 0, failures = 0;
    for (int sheet = 1; sheet <= 6; sheet++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/data-samples/cadastral/thuadat-to%02d.shp", top, sheet);
        GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
        assert_non_null(ds);
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        GEOSGeometry **g = malloc(((size_t)OGR_L_GetFeatureCount(l, 1) + 1) * sizeof *g);
        size_t n = 0;
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(l))) {
            OGRGeometryH og = OGR_F_GetGeometryRef(f);
            if (og) {
                int size = OGR_G_WkbSize(og);
                unsigned char *b = malloc((size_t)size);
                OGR_G_ExportToWkb(og, wkbNDR, b);
                GEOSGeometry *p = GEOSWKBReader_read_r(h, rd, b, (size_t)size);
                free(b);
                if (p && GEOSisValid_r(h, p) == 1 && GEOSisEmpty_r(h, p) != 1)
                    g[n++] = p; /* (the invalid ones ct-ingest repairs first) */
                else if (p)
                    GEOSGeom_destroy_r(h, p);
            }
            OGR_F_Destroy(f);
        }
        GDALClose(ds);
        /* a parcel proven valid is valid to GEOS; most are proven */
        size_t proven = 0;
        for (size_t i = 0; i < n; i++)
            if (ct_polygon_simple(h, g[i])) {
                assert_int_equal(GEOSisValid_r(h, g[i]), 1);
                proven++;
            }
        assert_true(proven > 9 * n / 10);
        for (size_t size = n; size >= 16; size = size == n ? 16 : 0) {
            for (size_t b0 = 0; b0 < n; b0 += size) {
                size_t m = b0 + size < n ? size : n - b0;
                double sum = 0, a = 0;
                GEOSGeometry **part = malloc(m * sizeof *part);
                for (size_t i = 0; i < m; i++) {
                    part[i] = GEOSGeom_clone_r(h, g[b0 + i]);
                    GEOSArea_r(h, g[b0 + i], &a);
                    sum += a;
                }
                GEOSGeometry *all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, part, (unsigned)m);
                GEOSGeometry *theirs = GEOSCoverageUnion_r(h, all);
                GEOSGeometry *ours = ct_coverage_union(h, (const GEOSGeometry *const *)(g + b0), m);
                int ct = is_cover(theirs, sum), co = is_cover(ours, sum);
                assert_int_equal(co, ct);
                if (ct) {
                    GEOSNormalize_r(h, theirs);
                    GEOSNormalize_r(h, ours);
                    assert_int_equal(GEOSEqualsExact_r(h, ours, theirs, 0), 1);
                    covers++;
                } else {
                    failures++;
                }
                if (theirs)
                    GEOSGeom_destroy_r(h, theirs);
                if (ours)
                    GEOSGeom_destroy_r(h, ours);
                GEOSGeom_destroy_r(h, all);
                free(part);
            }
        }
        for (size_t i = 0; i < n; i++)
            GEOSGeom_destroy_r(h, g[i]);
        free(g);
    }
    GEOSWKBReader_destroy_r(h, rd);
    /* the samples' planted overlaps make some blocks fail; most are covers */
    assert_true(covers > 200);
    assert_true(failures > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_edges),    cmocka_unit_test(test_hole),
        cmocka_unit_test(test_touching),        cmocka_unit_test(test_not_a_coverage),
        cmocka_unit_test(test_simple),          cmocka_unit_test(test_samples_as_geos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
