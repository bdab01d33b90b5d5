/* test_info.c — ct_info_describe as a library call: the JSON document of a raster and a layer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "ct/crs.h"
#include "ct/info.h"
#include "ct/raster.h"
#include "ct/text.h"
#include "ct/vector.h"

static int setup(void **state)
{
    (void)state;
    return scratch_make("info");
}

static json_object *get(json_object *o, const char *path)
{
    /* "bands.0.stats.mean": object keys and array indexes separated by dots */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, ".")) {
        json_object *next = NULL;
        if (json_object_is_type(o, json_type_array))
            next = json_object_array_get_idx(o, (size_t)atoi(tok));
        else
            json_object_object_get_ex(o, tok, &next);
        o = next;
    }
    return o;
}

static void test_raster_document(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *g = ct_grid_new(ctx, CT_FLOAT32, 3, 2);
    float *c = ct_grid_data(g);
    for (int i = 0; i < 6; i++)
        c[i] = (float)i; /* 0 1 2 / 3 4 5, cell 0 nodata */
    const double gt[6] = {586000, 5, 0, 1109010, 0, -5};
    ct_grid_set_geotransform(g, gt);
    ct_grid_set_nodata(g, 0);
    ct_crs *crs = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &crs), CT_OK);
    ct_grid_set_crs(g, crs);
    char path[128];
    snprintf(path, sizeof path, "%s/g.tif", dir);
    assert_int_equal(ct_grid_write_cog(ctx, g, path, NULL), CT_OK);

    ct_info_opts o = {.stats = 1};
    json_object *doc = NULL;
    assert_int_equal(ct_info_describe(ctx, path, &o, &doc), CT_OK);
    assert_string_equal(json_object_get_string(get(doc, "type")), "raster");
    assert_string_equal(json_object_get_string(get(doc, "driver")), "GTiff");
    assert_int_equal(json_object_get_int(get(doc, "size.0")), 3);
    assert_int_equal(json_object_get_int(get(doc, "size.1")), 2);
    assert_string_equal(json_object_get_string(get(doc, "crs.vn2000_zone")), "vn2000:105");
    assert_true(json_object_get_double(get(doc, "extent.0")) == 586000);
    assert_true(json_object_get_double(get(doc, "extent.1")) == 1109000);
    assert_true(json_object_get_double(get(doc, "extent.3")) == 1109010);
    assert_true(json_object_get_double(get(doc, "extent_wgs84.0")) > 105.78);
    assert_true(json_object_get_double(get(doc, "extent_wgs84.0")) < 105.79);
    assert_true(json_object_get_double(get(doc, "bands.0.stats.mean")) == 3.0); /* (1+2+3+4+5)/5 */
    assert_int_equal(json_object_get_int(get(doc, "bands.0.stats.nodata")), 1);
    json_object_put(doc);

    /* a missing file and a text file */
    snprintf(path, sizeof path, "%s/none.tif", dir);
    assert_int_equal(ct_info_describe(ctx, path, &o, &doc), CT_ERR_IO);
    assert_null(doc);
    snprintf(path, sizeof path, "%s/memo.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("not a map\n", f);
    fclose(f);
    assert_int_equal(ct_info_describe(ctx, path, &o, &doc), CT_ERR_FORMAT);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "memo.txt: not a raster or vector dataset"));
    ct_crs_free(crs);
    ct_grid_free(g);
    ct_ctx_free(ctx);
}

static void test_vector_document(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char path[128];
    snprintf(path, sizeof path, "%s/p.shp", dir);
    ct_crs *crs = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &crs), CT_OK);
    const ct_field_def fields[] = {{"TenChu", CT_FIELD_STRING, 40, 0}};
    ct_vsink_opts so = {.gtype = CT_GEOM_POINT, .crs = crs, .fields = fields, .nfields = 1,
                        .text_encoding = CT_ENC_TCVN3};
    ct_vsink *s = NULL;
    assert_int_equal(ct_vsink_create(ctx, path, &so, &s), CT_OK);
    static const char *names[] = {"Nguyễn Văn Thành", "Trần Thị Ánh Hồng", "Phường Tân An"};
    GEOSWKTReader *r = GEOSWKTReader_create_r(ct_geos(ctx));
    for (int i = 0; i < 3; i++) {
        char *bytes = NULL;
        assert_int_equal(ct_text_encode(ctx, CT_ENC_TCVN3, names[i], &bytes, NULL), CT_OK);
        GEOSGeometry *g = GEOSWKTReader_read_r(ct_geos(ctx), r, "POINT(586000 1109000)");
        const char *v[1] = {bytes};
        assert_int_equal(ct_vsink_write(ctx, s, g, v), CT_OK);
        GEOSGeom_destroy_r(ct_geos(ctx), g);
        free(bytes);
    }
    GEOSWKTReader_destroy_r(ct_geos(ctx), r);
    assert_int_equal(ct_vsink_commit(ctx, s), CT_OK);

    ct_info_opts o = {0};
    json_object *doc = NULL;
    assert_int_equal(ct_info_describe(ctx, path, &o, &doc), CT_OK);
    assert_string_equal(json_object_get_string(get(doc, "type")), "vector");
    assert_int_equal(json_object_get_int(get(doc, "layers.0.features")), 3);
    assert_string_equal(json_object_get_string(get(doc, "layers.0.encoding.name")), "tcvn3");
    assert_string_equal(json_object_get_string(get(doc, "layers.0.crs.vn2000_zone")), "vn2000:105");
    assert_string_equal(json_object_get_string(get(doc, "layers.0.fields.0.name")), "TenChu");
    json_object_put(doc);
    ct_crs_free(crs);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raster_document),
        cmocka_unit_test(test_vector_document),
    };
    return cmocka_run_group_tests(tests, setup, scratch_remove);
}
