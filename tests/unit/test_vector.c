/* test_vector.c — OGR round trips through ct_vsink and ct_vsource, raw legacy text, atomic commit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "ct/crs.h"
#include "ct/text.h"
#include "ct/vector.h"

static int setup(void **state)
{
    (void)state;
    return scratch_make("vector");
}

/* Number of entries in dir, ".", ".." excluded: a commit or abort must leave no temp folder. */
static int count_entries(const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

static GEOSGeometry *wkt(ct_ctx *ctx, const char *s)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(ct_geos(ctx));
    GEOSGeometry *g = GEOSWKTReader_read_r(ct_geos(ctx), r, s);
    GEOSWKTReader_destroy_r(ct_geos(ctx), r);
    return g;
}

static const ct_field_def fields[] = {
    {"SoThua", CT_FIELD_INT, 6, 0},
    {"TenChu", CT_FIELD_STRING, 60, 0},
    {"DienTich", CT_FIELD_REAL, 12, 2},
};

/* Writes two parcels to path with the given text encoding. */
static void write_parcels(ct_ctx *ctx, const char *path, ct_encoding enc, const char *names[2])
{
    ct_crs *crs = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &crs), CT_OK);
    ct_vsink_opts o = {.layer = "parcels", .gtype = CT_GEOM_POLYGON, .crs = crs, .fields = fields,
                       .nfields = 3, .text_encoding = enc};
    ct_vsink *s = NULL;
    assert_int_equal(ct_vsink_create(ctx, path, &o, &s), CT_OK);
    const char *geoms[2] = {"POLYGON((586000 1109000,586020 1109000,586020 1109010,586000 1109010,586000 1109000))",
                            "POLYGON((586020 1109000,586035 1109000,586035 1109010,586020 1109000))"};
    for (int i = 0; i < 2; i++) {
        char *bytes = NULL;
        assert_int_equal(ct_text_encode(ctx, enc == CT_ENC_UNKNOWN ? CT_ENC_UTF8 : enc, names[i], &bytes, NULL), CT_OK);
        const char *vals[3] = {i ? "2" : "1", bytes, i ? "75.00" : "200.00"};
        GEOSGeometry *g = wkt(ctx, geoms[i]);
        assert_int_equal(ct_vsink_write(ctx, s, g, vals), CT_OK);
        GEOSGeom_destroy_r(ct_geos(ctx), g);
        free(bytes);
    }
    assert_int_equal(ct_vsink_commit(ctx, s), CT_OK);
    ct_crs_free(crs);
}

static void read_back(ct_ctx *ctx, const char *path, ct_encoding enc, const char *names[2])
{
    ct_vsource *src = NULL;
    assert_int_equal(ct_vsource_open(ctx, path, &src), CT_OK);
    assert_int_equal(ct_vsource_layer_count(src), 1);
    ct_layer *l = ct_vsource_layer(src, 0);
    assert_int_equal(ct_layer_feature_count(l), 2);
    assert_non_null(ct_layer_crs(l));
    assert_non_null(ct_crs_vn2000_zone(ct_layer_crs(l)));
    assert_int_equal(ct_layer_field_count(l), 3);
    int name_field = ct_layer_field_index(l, "tenchu");
    assert_int_equal(name_field, 1);
    assert_int_equal(ct_layer_field_type(l, 0), CT_FIELD_INT);
    assert_int_equal(ct_layer_field_type(l, 2), CT_FIELD_REAL);

    double conf = 0;
    assert_int_equal(ct_layer_detect_encoding(ctx, l, 100, &conf), enc);
    ct_layer_set_encoding(l, enc);

    double ext[4];
    assert_true(ct_layer_extent(l, ext));
    assert_true(ext[0] == 586000 && ext[1] == 1109000 && ext[2] == 586035 && ext[3] == 1109010);

    static const double areas[2] = {200.0, 75.0};
    ct_feature *f;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ct_layer_next(ctx, l, &f), CT_OK);
        assert_non_null(f);
        assert_int_equal(ct_feature_int(f, 0), i + 1);
        assert_true(ct_feature_double(f, 2) == areas[i]);
        char *name = NULL;
        assert_int_equal(ct_feature_text(ctx, f, name_field, &name), CT_OK);
        assert_string_equal(name, names[i]);
        free(name);
        const GEOSGeometry *g = ct_feature_geom(ctx, f);
        assert_non_null(g);
        double area = 0;
        assert_int_equal(GEOSArea_r(ct_geos(ctx), g, &area), 1);
        assert_true(area == areas[i]);
    }
    assert_int_equal(ct_layer_next(ctx, l, &f), CT_OK);
    assert_null(f);
    ct_vsource_close(src);
}

static const char *names[2] = {"Nguyễn Văn Thành", "Đặng Thị Ánh Hồng"};

static void test_geojson_round_trip(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char path[128];
    snprintf(path, sizeof path, "%s/parcels.geojson", dir);
    write_parcels(ctx, path, CT_ENC_UTF8, names);
    read_back(ctx, path, CT_ENC_UTF8, names);
    assert_int_equal(count_entries(".ct-"), 0);
    ct_ctx_free(ctx);
}

/* Legacy bytes go into the DBF unchanged and come back out decoded: the GDAL #2045 path. */
static void test_shapefile_tcvn3_and_vni(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char path[128];
    snprintf(path, sizeof path, "%s/tcvn3.shp", dir);
    write_parcels(ctx, path, CT_ENC_TCVN3, names);
    read_back(ctx, path, CT_ENC_TCVN3, names);
    snprintf(path, sizeof path, "%s/vni.shp", dir);
    write_parcels(ctx, path, CT_ENC_VNI, names);
    read_back(ctx, path, CT_ENC_VNI, names);
    assert_int_equal(count_entries("tcvn3."), 4); /* .shp .shx .dbf .prj, no .cpg */
    ct_ctx_free(ctx);
}

static void test_abort_and_replace(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char path[128];
    snprintf(path, sizeof path, "%s/keep.geojson", dir);
    write_parcels(ctx, path, CT_ENC_UTF8, names);
    FILE *f = fopen(path, "rb");
    char before[4096];
    size_t nbefore = fread(before, 1, sizeof before, f);
    fclose(f);

    /* an aborted rewrite leaves the old file as it was and no temporary folder */
    ct_vsink_opts o = {.gtype = CT_GEOM_POINT};
    ct_vsink *s = NULL;
    assert_int_equal(ct_vsink_create(ctx, path, &o, &s), CT_OK);
    GEOSGeometry *g = wkt(ctx, "POINT(1 2)");
    assert_int_equal(ct_vsink_write(ctx, s, g, NULL), CT_OK);
    ct_vsink_abort(s);
    f = fopen(path, "rb");
    char after[4096];
    size_t nafter = fread(after, 1, sizeof after, f);
    fclose(f);
    assert_int_equal(nbefore, nafter);
    assert_memory_equal(before, after, nbefore);
    assert_int_equal(count_entries(".ct-"), 0);

    /* a committed rewrite replaces it */
    assert_int_equal(ct_vsink_create(ctx, path, &o, &s), CT_OK);
    assert_int_equal(ct_vsink_write(ctx, s, g, NULL), CT_OK);
    assert_int_equal(ct_vsink_commit(ctx, s), CT_OK);
    ct_vsource *src = NULL;
    assert_int_equal(ct_vsource_open(ctx, path, &src), CT_OK);
    assert_int_equal(ct_layer_feature_count(ct_vsource_layer(src, 0)), 1);
    ct_vsource_close(src);
    GEOSGeom_destroy_r(ct_geos(ctx), g);
    ct_vsink_abort(NULL);
    ct_ctx_free(ctx);
}

static void test_open_errors(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char path[128];
    ct_vsource *src = NULL;
    snprintf(path, sizeof path, "%s/none.shp", dir);
    assert_int_equal(ct_vsource_open(ctx, path, &src), CT_ERR_IO);
    assert_null(src);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "none.shp"));

    snprintf(path, sizeof path, "%s/memo.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("\x01\x02 not a map\n", f);
    fclose(f);
    assert_int_equal(ct_vsource_open(ctx, path, &src), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "memo.txt: not a vector dataset"));

    ct_vsink *s = NULL;
    ct_vsink_opts o = {0};
    snprintf(path, sizeof path, "%s/out.unknown", dir);
    assert_int_equal(ct_vsink_create(ctx, path, &o, &s), CT_ERR_USAGE);
    assert_int_equal(ct_vsink_create(ctx, "/nonexistent-dir/x.geojson", &o, &s), CT_ERR_IO);
    assert_null(s);
    ct_vsource_close(NULL);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geojson_round_trip),
        cmocka_unit_test(test_shapefile_tcvn3_and_vni),
        cmocka_unit_test(test_abort_and_replace),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, setup, scratch_remove);
}
