/* test_sdi.c — the SDI store: versions, supersede, remove, duplicates, undo, rasters, errors.
 * On a SpatiaLite file; on PostGIS when CT_TEST_SDI_PG names an empty database ("PG:..."), as
 * tests/cli/t425 does with a server of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "scratch.h"
#include "ct/sdi.h"
#include "ct/vector.h"
#include "sdi_int.h"

static char path[512], rasters[128];
static int pg;

static int setup(void **state)
{
    (void)state;
    if (scratch_make("sdi"))
        return -1;
    const char *db = getenv("CT_TEST_SDI_PG");
    pg = db && *db;
    snprintf(path, sizeof path, pg ? "%s" : "%s/city.sqlite", pg ? db : dir);
    snprintf(rasters, sizeof rasters, "%s/city.rasters", dir);
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
    return ct_sdi_query_int(s, sql, -1);
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
    assert_int_equal(ct_sdi_create(ctx, path, NULL, pg ? rasters : NULL, &s), CT_OK);
    assert_int_equal(ct_crs_epsg(ct_sdi_crs(s)), 5897);
    assert_true(pg ? ct_sdi_db(s) == NULL : ct_sdi_db(s) != NULL);
    if (pg)
        assert_string_equal(ct_sdi_raster_dir(s), rasters);
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
    if (pg) /* the GiST index answers a box query */
        assert_int_equal(count(s, "SELECT count(*) FROM parcels WHERE geom && ST_MakeEnvelope(586001, 1109001, 586019, 1109009, 5897)"), 2);
    else /* the R*Tree rows ctgis writes itself */
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
    char want[600];
    if (pg)
        snprintf(want, sizeof want, "%s/dem.v%lld.tif", rasters, v);
    else
        snprintf(want, sizeof want, "%s.rasters/dem.v%lld.tif", path, v);
    assert_string_equal(p, want);
    assert_int_equal(stat(p, &sb), 0);
    free(p);
    ct_sdi_close(s);
    ct_ctx_free(ctx);
}

struct seen {
    int n;
    char names[8][64];
    double minx;
};

static ct_status collect_raster(void *user, const ct_sdi_raster_entry *r)
{
    struct seen *sn = user;
    if (sn->n < 8)
        snprintf(sn->names[sn->n], sizeof sn->names[0], "%s", r->name);
    sn->n++;
    return CT_OK;
}

static ct_status collect_change(void *user, const ct_sdi_change *c)
{
    struct seen *sn = user;
    if (sn->n < 8)
        snprintf(sn->names[sn->n], sizeof sn->names[0], "%lld %s %s %s", c->version, c->layer, c->key, c->op);
    if (!strcmp(c->layer, "rasters"))
        sn->minx = c->bbox[0];
    sn->n++;
    return CT_OK;
}

/* What flood, overlay and tile read: names, raster listings by prefix, the change log since a
 * version, kept copies of registered files, and result tables. */
static void test_reading(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_sdi *s = NULL;
    long long v, before;
    assert_int_equal(ct_sdi_open(ctx, path, &s), CT_OK);
    before = ct_sdi_current_version(s);

    assert_null(ct_sdi_ref("dem.tif"));
    assert_string_equal(ct_sdi_ref("sdi:parcels"), "parcels");
    ct_sdi_input in;
    assert_int_equal(ct_sdi_resolve(ctx, s, "cadastral", &in), CT_OK);
    assert_string_equal(in.layer, "parcels_current");
    /* what ct_vsource_open() opens: that view alone, with the parcels of test_versions */
    ct_vsource *src = NULL;
    assert_int_equal(ct_vsource_open(ctx, in.path, &src), CT_OK);
    assert_int_equal(ct_vsource_layer_count(src), 1);
    assert_string_equal(ct_layer_name(ct_vsource_layer(src, 0)), "parcels_current");
    assert_int_equal(ct_layer_feature_count(ct_vsource_layer(src, 0)),
                     count(s, "SELECT count(*) FROM parcels WHERE v_to IS NULL"));
    ct_vsource_close(src);
    ct_sdi_input_free(&in);
    char bad[600];
    snprintf(bad, sizeof bad, "%s|layername=roads", path);
    assert_int_equal(ct_vsource_open(ctx, bad, &src), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "no layer named 'roads'"));
    assert_int_equal(ct_sdi_resolve(ctx, s, "dem", &in), CT_OK);
    assert_null(in.layer);
    assert_non_null(strstr(in.path, ".rasters/dem.v"));
    ct_sdi_input_free(&in);
    assert_int_equal(ct_sdi_resolve(ctx, s, "bd3.depth", &in), CT_ERR_INVALID);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "'bd3.depth'"));

    /* a kept copy: the caller's file stays, the SDI gets its own; the change log has its box */
    char file[160];
    snprintf(file, sizeof file, "%s/depth.tif", dir);
    FILE *f = fopen(file, "w");
    fputs("depth", f);
    fclose(f);
    ct_sdi_source_info info = {.name = "depth.tif", .title = "depth", .extent = {586000, 1109000, 587000, 1110000}};
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "flood", "bd3", &v), CT_OK);
    assert_int_equal(ct_sdi_add_raster(ctx, s, "bd3.depth", file, &info), CT_OK);
    info.name = "bd3.extent";
    assert_int_equal(ct_sdi_add_raster(ctx, s, "bd3.extent", file, &info), CT_OK);
    info.name = "bd3.depth";
    const char *cols[] = {"zone", "area_m2"}, *types[] = {"TEXT", "REAL"};
    ct_sdi_table *t = NULL;
    assert_int_equal(ct_sdi_table_create(ctx, s, "parcels", NULL, cols, types, 2, &t), CT_ERR_USAGE);
    assert_int_equal(ct_sdi_table_create(ctx, s, "Bad-Name", NULL, cols, types, 2, &t), CT_ERR_USAGE);
    assert_int_equal(ct_sdi_table_create(ctx, s, "impact_bd3", "impact", cols, types, 2, &t), CT_OK);
    const char *row1[] = {"Z1", "12.5"}, *row2[] = {"Z2", NULL};
    assert_int_equal(ct_sdi_table_add(ctx, t, row1), CT_OK);
    assert_int_equal(ct_sdi_table_add(ctx, t, row2), CT_OK);
    assert_int_equal(ct_sdi_table_close(ctx, t), CT_OK);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0);
    assert_int_equal(count(s, "SELECT sum(area_m2) * 10 + count(*) FROM impact_bd3"), 127);
    assert_int_equal(count(s, "SELECT rows FROM sdi_table WHERE name = 'impact_bd3' AND v_to IS NULL"), 2);

    struct seen sn = {0};
    assert_int_equal(ct_sdi_rasters(ctx, s, "bd3.", collect_raster, &sn), CT_OK);
    assert_int_equal(sn.n, 2);
    assert_string_equal(sn.names[0], "bd3.depth");
    assert_string_equal(sn.names[1], "bd3.extent");
    memset(&sn, 0, sizeof sn);
    assert_int_equal(ct_sdi_changes(ctx, s, before, collect_change, &sn), CT_OK);
    assert_int_equal(sn.n, 2);
    char want[64];
    snprintf(want, sizeof want, "%lld rasters bd3.depth add", v);
    assert_string_equal(sn.names[0], want);
    assert_true(sn.minx == 586000);

    /* a second run replaces the raster and the table; the change log says "change" */
    assert_int_equal(ct_sdi_begin(ctx, s, "test", "flood", "bd3", &v), CT_OK);
    assert_int_equal(ct_sdi_add_raster(ctx, s, "bd3.depth", file, &info), CT_OK);
    assert_int_equal(ct_sdi_table_create(ctx, s, "impact_bd3", "impact", cols, types, 2, &t), CT_OK);
    assert_int_equal(ct_sdi_table_add(ctx, t, row1), CT_OK);
    assert_int_equal(ct_sdi_table_close(ctx, t), CT_OK);
    assert_int_equal(ct_sdi_commit(ctx, s), CT_OK);
    assert_int_equal(count(s, "SELECT count(*) FROM impact_bd3"), 1);
    memset(&sn, 0, sizeof sn);
    assert_int_equal(ct_sdi_changes(ctx, s, v - 1, collect_change, &sn), CT_OK);
    assert_int_equal(sn.n, 1);
    snprintf(want, sizeof want, "%lld rasters bd3.depth change", v);
    assert_string_equal(sn.names[0], want);

    /* undoing it brings the earlier raster back, and says so in the change log */
    long long u;
    assert_int_equal(ct_sdi_undo(ctx, s, v, "test", &u), CT_OK);
    memset(&sn, 0, sizeof sn);
    assert_int_equal(ct_sdi_changes(ctx, s, v, collect_change, &sn), CT_OK);
    assert_int_equal(sn.n, 1);
    char *p = NULL;
    assert_int_equal(ct_sdi_raster_path(ctx, s, "bd3.depth", &p), CT_OK);
    snprintf(want, sizeof want, "bd3.depth.v%lld.tif", v - 1);
    assert_non_null(strstr(p, want));
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
    assert_int_equal(ct_sdi_open(ctx, "PG:password=x host=/nonexistent-ctgis", &s), CT_ERR_IO);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "PG:password=*** host=/nonexistent-ctgis: cannot connect"));
    assert_int_equal(ct_sdi_layer_by_name("cadastral"), CT_SDI_PARCELS);
    assert_int_equal(ct_sdi_layer_by_name("planning_zones"), CT_SDI_ZONES);
    assert_int_equal(ct_sdi_layer_by_name("roads"), -1);
    ct_sdi_close(NULL);
    ct_ctx_free(ctx);
}

/* sdi_wkb_geom() reads back what sdi_wkb() wrote, point for point; other WKB through GEOS's
 * reader; cut WKB is refused. */
static void test_wkb_read(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    GEOSContextHandle_t h = ct_geos(ctx);
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    const char *wkt[] = {"POLYGON((582952.71 1111826.1,583012.68 1111830.02,583002.33 1111881.32,582952.71 1111826.1),"
                         "(582990 1111850,582995 1111850,582995 1111855,582990 1111850))",
                         "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5),(5.2 5.1,5.8 5.1,5.8 5.7,5.2 5.1)))",
                         "POLYGON EMPTY", "LINESTRING(0 0,1 1,2 0)"};
    for (size_t i = 0; i < sizeof wkt / sizeof *wkt; i++) {
        GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt[i]);
        size_t len = 0;
        unsigned char *wkb = sdi_wkb(h, g, &len);
        assert_non_null(wkb);
        GEOSGeometry *back = sdi_wkb_geom(h, wkb, len);
        assert_non_null(back);
        assert_int_equal(GEOSGeomTypeId_r(h, back), GEOSGeomTypeId_r(h, g));
        assert_int_equal(GEOSEqualsExact_r(h, back, g, 0), 1);
        GEOSGeom_destroy_r(h, back);
        /* cut short anywhere: not read */
        for (size_t cut = 1; cut < len; cut += 7)
            assert_null(sdi_wkb_geom(h, wkb, cut));
        free(wkb);
        GEOSGeom_destroy_r(h, g);
    }
    GEOSWKTReader_destroy_r(h, r);
    ct_ctx_free(ctx);
}

/* Row k's bytes: a xorshift stream seeded by k, the same on reading back. */
static void bulk_row(long long k, unsigned char *v, size_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = (unsigned char)x;
    }
}

/* A transaction of 48 MB in an SQLite file (whichever SDI the other tests use): the checkpoint
 * at its commit leaves the database's pages out of the page cache once they are on the disk
 * (sdidb.c's VFS), but for the last windows (unless the folder is on a tmpfs, whose pages have
 * no disk to go to); what is read back, from the disk, is what was written. */
static void test_bulk_checkpoint(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s/bulk.sqlite", dir);
    ct_ctx *ctx = ct_ctx_new();
    sdi_db db;
    assert_int_equal(sdi_db_open(ctx, &db, p, p, 1), CT_OK);
    assert_int_equal(sdi_db_exec(ctx, &db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL;"
                                           "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB); BEGIN"), CT_OK);
    enum { ROWS = 4000, LEN = 12000 };
    static unsigned char v[LEN], back[LEN];
    sdi_stmt *q = sdi_db_prepare(ctx, &db, "INSERT INTO t VALUES (?, ?)");
    assert_non_null(q);
    for (long long k = 0; k < ROWS; k++) {
        bulk_row(k, v, LEN);
        sdi_bind_int64(q, 1, k);
        sdi_bind_blob(q, 2, v, LEN);
        assert_int_equal(sdi_step(q), SDI_DONE);
        sdi_reset(q);
    }
    sdi_finalize(q);
    assert_int_equal(sdi_db_exec(ctx, &db, "COMMIT"), CT_OK); /* and the checkpoint of 4 000 pages */

    int fd = open(p, O_RDONLY);
    struct stat st;
    assert_true(fd >= 0 && fstat(fd, &st) == 0 && st.st_size > (off_t)ROWS * LEN);
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    const size_t pg_size = (size_t)sysconf(_SC_PAGESIZE), npages = ((size_t)st.st_size + pg_size - 1) / pg_size;
    unsigned char *in = malloc(npages);
    assert_int_equal(mincore(m, (size_t)st.st_size, in), 0);
    size_t resident = 0;
    for (size_t i = 0; i < npages; i++)
        resident += in[i] & 1;
    munmap(m, (size_t)st.st_size);
    close(fd);
    free(in);
    /* the windows before the last two (16 MB) are dropped: about a third is left */
    struct statfs fs;
    if (statfs(dir, &fs) != 0 || fs.f_type != 0x01021994) /* TMPFS_MAGIC */
        assert_true(resident * 2 < npages);

    q = sdi_db_prepare(ctx, &db, "SELECT k, v FROM t ORDER BY k");
    long long n = 0;
    while (sdi_step(q) == SDI_ROW) {
        bulk_row(sdi_column_int64(q, 0), v, LEN);
        assert_int_equal(sdi_column_bytes(q, 1), LEN);
        memcpy(back, sdi_column_blob(q, 1), LEN);
        assert_memory_equal(back, v, LEN);
        n++;
    }
    sdi_finalize(q);
    assert_int_equal(n, ROWS);
    sdi_db_close(&db);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wkb_read),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_rasters),
        cmocka_unit_test(test_reading),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bulk_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, scratch_remove);
}
