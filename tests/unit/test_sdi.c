/* test_sdi.c — the SDI store: versions, supersede, remove, duplicates, undo, rasters, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"
#include "ct/sdi.h"
#include "ct/vector.h"

static char path[128];

static int setup(void **state)
{
    (void)state;
    if (scratch_make("sdi"))
        return -1;
    snprintf(path, sizeof path, "%s/city.sqlite", dir);
    return 0;
}

static GEOSGeometry *square(ct_ctx *ctx, double x, double y, double side)
{
    char wkt[256];
    snprintf(wkt, sizeof wkt, "POLYGON((%f %f,%f %f,%f %f,%f %f,%f %f))", x, y, x + side, y, x + side, y + side, x,
             y + side, x, y);
    GEOSWKTReader *r = GEOSWKTReader_create_r(ct_geos(ctx));
    GEOSGeometry *g = GEOSWKTReader_read_r(ct_geos(ctx), r, wkt);
    GEOSWKTReader_destroy_r(ct_geos(ctx), r);
    return g;
}

static long long count(ct_sdi *s, const char *sql)
{
    sqlite3_stmt *q = NULL;
    long long n = -1;
    if (sqlite3_prepare_v2(ct_sdi_db(s), sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* Puts parcel sheet/no with land use code at x; returns the op. */
static ct_sdi_op put(ct_ctx *ctx, ct_sdi *s, const char *no, const char *code, double x)
{
    const char *v[10] = {"1", no, "100", code, code, "Nguyễn Văn A", NULL, "khu vực 1", "31117", "100"};
    char key[32];
    snprintf(key, sizeof key, "1/%s", no);
    GEOSGeometry *g = square(ctx, x, 1109000, 10);
    ct_sdi_op op = (ct_sdi_op)-1;
    assert_int_equal(ct_sdi_put(ctx, s, CT_SDI_PARCELS, "sheet1.shp", key, g, v, &op), CT_OK);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    return op;
}

static void test_versions(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_sdi *s = NULL;
    long long v;
    assert_int_equal(ct_sdi_create(ctx, path, NULL, NULL, &s), CT_OK);
    assert_int_equal(ct_crs_epsg(ct_sdi_crs(s)), 5897);
    assert_int_equal(ct_sdi_current_version(s), 0);
    double area[4];
    ct_sdi_area(s, area);
    assert_true(area[0] < 586000 && area[2] > 586000 && area[1] < 1109000 && area[3] > 1109000);

    /* version 1: two parcels */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "cadastral", "sheet1.shp", &v), CT_OK);
    assert_int_equal(v, 1);
    assert_int_equal(put(ctx, s, "1", "ODT", 586000), CT_SDI_ADDED);
    assert_int_equal(put(ctx, s, "2", "ODT", 586010), CT_SDI_ADDED);
    assert_int_equal(put(ctx, s, "2", "ODT", 586010), CT_SDI_DUPLICATE);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM parcels_current"), 2);
    assert_int_equal(count(s, "SELECT count(*) FROM idx_parcels_geom"), 2);

    /* version 2: 1 unchanged, 2 changed, 3 added; nothing removed */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "cadastral", "sheet1.shp", &v), CT_OK);
    assert_int_equal(put(ctx, s, "1", "ODT", 586000), CT_SDI_SAME);
    assert_int_equal(put(ctx, s, "2", "TMD", 586010), CT_SDI_CHANGED);
    assert_int_equal(put(ctx, s, "3", "ODT", 586020), CT_SDI_ADDED);
    long long removed = -1;
    assert_int_equal(ct_sdi_remove_unseen(ctx, s, CT_SDI_PARCELS, "sheet1.shp", &removed), CT_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    assert_int_equal(count(s, "SELECT changed * 100 + added FROM sdi_version WHERE version = 2"), 101);
    /* the change log box of parcel 2 covers its square */
    assert_int_equal(count(s, "SELECT count(*) FROM sdi_change WHERE version = 2 AND fkey = '1/2' AND op = 'change'"
                              " AND minx = 586010 AND maxx = 586020 AND miny = 1109000 AND maxy = 1109010"), 1);

    /* version 3: parcel 3 dropped from the source */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "cadastral", "sheet1.shp", &v), CT_OK);
    put(ctx, s, "1", "ODT", 586000);
    put(ctx, s, "2", "TMD", 586010);
    assert_int_equal(ct_sdi_remove_unseen(ctx, s, CT_SDI_PARCELS, "sheet1.shp", &removed), CT_OK);
    assert_int_equal(removed, 1);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM parcels_current"), 2);
    assert_int_equal(count(s, "SELECT count(*) FROM parcels"), 4); /* history kept */

    /* undo 2 is refused: version 3 changed its features later */
    long long u = 0;
    assert_int_equal(ct_sdi_undo(ctx, s, 2, "test", &u), CT_ERR_INVALID);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "changed again later"));
    /* undo 3 brings parcel 3 back */
    assert_int_equal(ct_sdi_undo(ctx, s, 3, "test", &u), CT_OK);
    assert_int_equal(u, 4);
    assert_int_equal(count(s, "SELECT count(*) FROM parcels_current"), 3);
    assert_int_equal(count(s, "SELECT count(*) FROM sdi_change WHERE version = 4 AND op = 'add' AND fkey = '1/3'"), 1);
    assert_int_equal(count(s, "SELECT undone_by FROM sdi_version WHERE version = 3"), 4);
    assert_int_equal(ct_sdi_undo(ctx, s, 3, "test", &u), CT_ERR_INVALID); /* not twice */

    /* a rolled-back version leaves nothing */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "cadastral", "sheet1.shp", &v), CT_OK);
    put(ctx, s, "9", "ODT", 586090);
    ct_sdi_rollback(s);
    assert_int_equal(ct_sdi_current_version(s), 4);
    assert_int_equal(count(s, "SELECT count(*) FROM parcels WHERE fkey = '1/9'"), 0);

    assert_true(ct_sdi_field_restricted(s, "parcels", "owner"));
    assert_false(ct_sdi_field_restricted(s, "parcels", "address"));
    ct_sdi_close(s);
    ct_ctx_free(ctx);
}

static void test_rasters(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_sdi *s = NULL;
    long long v;
    assert_int_equal(ct_sdi_open(ctx, path, &s), CT_OK);
    char cog[160], *p = NULL;
    snprintf(cog, sizeof cog, "%s/dem.tmp", dir);
    FILE *f = fopen(cog, "w");
    fputs("not really a tiff", f);
    fclose(f);

    /* rolled back: the file is deleted, no catalogue row */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "dem", "dem.tif", &v), CT_OK);
    assert_int_equal(ct_sdi_register_raster(ctx, s, "dem", cog, NULL), CT_OK);
    ct_sdi_rollback(s);
    struct stat sb;
    assert_int_not_equal(stat(cog, &sb), 0);
    assert_int_equal(ct_sdi_raster_path(ctx, s, "dem", &p), CT_ERR_INVALID);

    /* committed: moved into the raster folder under a versioned name */
    f = fopen(cog, "w");
    fputs("not really a tiff", f);
    fclose(f);
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "dem", "dem.tif", &v), CT_OK);
    assert_int_equal(ct_sdi_register_raster(ctx, s, "dem", cog, NULL), CT_OK);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    assert_int_equal(ct_sdi_raster_path(ctx, s, "dem", &p), CT_OK);
    char want[200];
    snprintf(want, sizeof want, "%s.rasters/dem.v%lld.tif", path, v);
    assert_string_equal(p, want);
    assert_int_equal(stat(p, &sb), 0);
    free(p);
    ct_sdi_close(s);
    ct_ctx_free(ctx);
}

static void test_errors(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_sdi *s = NULL;
    assert_int_equal(ct_sdi_create(ctx, path, NULL, NULL, &s), CT_ERR_USAGE); /* exists */
    char other[160];
    snprintf(other, sizeof other, "%s/missing.sqlite", dir);
    assert_int_equal(ct_sdi_open(ctx, other, &s), CT_ERR_IO);
    snprintf(other, sizeof other, "%s/plain.sqlite", dir);
    sqlite3 *db;
    sqlite3_open(other, &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(ct_sdi_open(ctx, other, &s), CT_ERR_DB);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "not a ctgis SDI"));
    /* a server that is not there: named, without the password of the connection string */
    assert_int_equal(ct_sdi_open(ctx, "PG:host=/nonexistent-ctgis password=s3cret dbname=city", &s), CT_ERR_IO);
    assert_null(s);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "PG:host=/nonexistent-ctgis password=*** dbname=city: cannot connect"));
    assert_null(strstr(ct_ctx_errmsg(ctx), "s3cret"));
    assert_int_equal(ct_sdi_layer_by_name("cadastral"), CT_SDI_PARCELS);
    assert_int_equal(ct_sdi_layer_by_name("planning_zones"), CT_SDI_ZONES);
    assert_int_equal(ct_sdi_layer_by_name("roads"), -1);
    ct_sdi_close(NULL);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_rasters),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, scratch_remove);
}
