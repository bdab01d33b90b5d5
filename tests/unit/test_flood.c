/* test_flood.c — scenario parsing (values, errors with file:line:key, overrides, relative paths),
 * time series, and the bathtub connection level against hand-worked answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scratch.h"
#include "ct/crs.h"
#include "ct/flood.h"
#include "ct/raster.h"

static int setup(void **state)
{
    (void)state;
    return scratch_make("flood");
}

static void test_scenario_values(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    const char *p = scratch_file("alarm.scn", "# Cần Thơ alarm levels\n"
                                            "name = alarm levels  # trailing comment\n"
                                            "model = bathtub\n"
                                            "dem = dem/ninhkieu.tif\n"
                                            "level = 1.80, 1.90 2.00;2.29\n"
                                            "slr_offset = 0.5\n"
                                            "\n"
                                            "duration = 72h\n"
                                            "output_interval = 15min\n"
                                            "dikes = /abs/dikes.gpkg\n");
    ct_scenario *s = NULL;
    assert_int_equal(ct_scenario_load(ctx, p, &s), CT_OK);
    assert_string_equal(ct_scenario_get(s, "name"), "alarm levels");
    assert_string_equal(ct_scenario_get(s, "model"), "bathtub");
    char want[512];
    snprintf(want, sizeof want, "%s/dem/ninhkieu.tif", dir);
    assert_string_equal(ct_scenario_path(s, "dem"), want);         /* relative to the scenario */
    assert_string_equal(ct_scenario_path(s, "dikes"), "/abs/dikes.gpkg");
    double *lv = NULL, x = 0;
    int n = 0;
    assert_int_equal(ct_scenario_numlist(ctx, s, "level", &lv, &n), CT_OK);
    assert_int_equal(n, 4);
    assert_true(lv[0] == 1.80 && lv[1] == 1.90 && lv[2] == 2.00 && lv[3] == 2.29);
    free(lv);
    assert_true(ct_scenario_number(s, "duration", &x) && x == 72 * 3600);
    assert_true(ct_scenario_number(s, "output_interval", &x) && x == 900);
    assert_true(ct_scenario_number(s, "slr_offset", &x) && x == 0.5);
    assert_false(ct_scenario_number(s, "rainfall", &x));
    snprintf(want, sizeof want, "%s:5", p);
    assert_string_equal(ct_scenario_where(s, "level"), want);
    /* overrides: a later value wins; a command-line path is the shell's, not the scenario's */
    assert_int_equal(ct_scenario_set_arg(ctx, s, "level=2.79"), CT_OK);
    assert_int_equal(ct_scenario_set_arg(ctx, s, "dem = other.tif"), CT_OK);
    assert_string_equal(ct_scenario_path(s, "dem"), "other.tif");
    assert_string_equal(ct_scenario_where(s, "level"), "--set");
    assert_int_equal(ct_scenario_numlist(ctx, s, "level", &lv, &n), CT_OK);
    assert_true(n == 1 && lv[0] == 2.79);
    free(lv);
    ct_scenario_free(s);
    ct_scenario_free(NULL);
    ct_ctx_free(ctx);
}

/* Each bad file gives an error naming the file, the line and the key. */
static void test_scenario_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        ct_status st;
        const char *msg; /* after "PATH:" */
    } cases[] = {
        {"name = x\nlevel = 2.2x\n", CT_ERR_INVALID, "2: level: '2.2x' is not a number"},
        {"# c\n\nlevle = 2\n", CT_ERR_FORMAT, "3: unknown key 'levle'"},
        {"model = flood\n", CT_ERR_INVALID, "1: model: 'flood' is not one of bathtub|simulate"},
        {"duration = 3 weeks\n", CT_ERR_INVALID, "1: duration: '3 weeks' is not a duration"},
        {"dem\n", CT_ERR_FORMAT, "1: expected 'key = value', found 'dem'"},
        {"slr_offset =\n", CT_ERR_INVALID, "1: slr_offset: '' is not a number"},
        {"level = ,\n", CT_ERR_INVALID, "1: level: no numbers given"},
    };
    ct_ctx *ctx = ct_ctx_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = scratch_file("bad.scn", cases[i].text);
        ct_scenario *s = (ct_scenario *)1;
        assert_int_equal(ct_scenario_load(ctx, p, &s), cases[i].st);
        assert_null(s);
        char want[512];
        snprintf(want, sizeof want, "%s:%s", p, cases[i].msg);
        if (strncmp(ct_ctx_errmsg(ctx), want, strlen(want)))
            fail_msg("case %zu: got '%s', want '%s...'", i, ct_ctx_errmsg(ctx), want);
    }
    ct_scenario *s = NULL;
    assert_int_equal(ct_scenario_load(ctx, "/nonexistent/x.scn", &s), CT_ERR_IO);
    s = ct_scenario_new(NULL);
    assert_int_equal(ct_scenario_set_arg(ctx, s, "nokey=1"), CT_ERR_USAGE);
    assert_int_equal(ct_scenario_set_arg(ctx, s, "level"), CT_ERR_USAGE);
    assert_int_equal(ct_scenario_set_arg(ctx, s, "alpha=fast"), CT_ERR_INVALID);
    assert_string_equal(ct_ctx_errmsg(ctx), "--set: alpha: 'fast' is not a number");
    ct_scenario_free(s);
    ct_ctx_free(ctx);
}

static void test_series(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_series s;
    const char *p = scratch_file("tide.csv", "time,level_m\n0,1.0\n1h,2.0\n7200,1.5\n");
    assert_int_equal(ct_series_read(ctx, p, &s), CT_OK);
    assert_int_equal(s.n, 3);
    assert_true(ct_series_at(&s, -5) == 1.0);
    assert_true(fabs(ct_series_at(&s, 1800) - 1.5) < 1e-12);
    assert_true(fabs(ct_series_at(&s, 5400) - 1.75) < 1e-12);
    assert_true(ct_series_at(&s, 1e6) == 1.5);
    ct_series_free(&s);
    p = scratch_file("bad.csv", "time,level_m\n0,1.0\n3600,2.0\n1800,1.5\n");
    assert_int_equal(ct_series_read(ctx, p, &s), CT_ERR_INVALID);
    char want[300];
    snprintf(want, sizeof want, "%s:4: time 1800 does not increase", p);
    assert_memory_equal(ct_ctx_errmsg(ctx), want, strlen(want));
    ct_ctx_free(ctx);
}

/* A 5 x 4 DEM worked by hand: source at the top-left; a ridge of 3 m with a 2.5 m saddle. */
static void test_connect_level(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const float z[4][5] = {
        {0.5f, 1.0f, 3.0f, 0.2f, 0.1f},
        {1.0f, 2.0f, 2.5f, 0.3f, 4.0f},
        {3.0f, 3.0f, 3.0f, 1.0f, 1.0f},
        {0.0f, 2.0f, 3.0f, 2.0f, NAN},
    };
    /* 8-connected: the right basin joins diagonally through the 2.5 m saddle at row 1, column 2;
     * the bottom-left pit (0 m) is walled by 3 m cells, so it joins at 3; the 4 m cell at 4;
     * the nodata cell never. */
    static const float want8[4][5] = {
        {0.5f, 1.0f, 3.0f, 2.5f, 2.5f},
        {1.0f, 2.0f, 2.5f, 2.5f, 4.0f},
        {3.0f, 3.0f, 3.0f, 2.5f, 2.5f},
        {3.0f, 3.0f, 3.0f, 2.5f, INFINITY},
    };
    ct_grid *dem = ct_grid_new(ctx, CT_FLOAT32, 5, 4), *src = ct_grid_new(ctx, CT_BYTE, 5, 4), *L = NULL;
    memcpy(ct_grid_data(dem), z, sizeof z);
    ((uint8_t *)ct_grid_data(src))[0] = 1;
    assert_int_equal(ct_flood_connect_level(ctx, dem, src, CT_CONN8, 10.0, &L), CT_OK);
    const float *l = ct_grid_cdata(L);
    for (int i = 0; i < 20; i++)
        if (!(l[i] == ((const float *)want8)[i]))
            fail_msg("8-connected cell %d: L = %g, want %g", i, l[i], ((const float *)want8)[i]);
    ct_grid_free(L);
    /* 4-connected: the right basin still joins through the saddle (1,2)-(1,3) */
    assert_int_equal(ct_flood_connect_level(ctx, dem, src, CT_CONN4, 10.0, &L), CT_OK);
    l = ct_grid_cdata(L);
    assert_true(l[3] == 2.5f && l[4 * 0 + 4] == 2.5f && l[3 * 5 + 0] == 3.0f && l[1 * 5 + 4] == 4.0f);
    ct_grid_free(L);
    /* a cut-off at 2 m leaves everything at or above 2 unreached */
    assert_int_equal(ct_flood_connect_level(ctx, dem, src, CT_CONN8, 2.0, &L), CT_OK);
    l = ct_grid_cdata(L);
    assert_true(l[0] == 0.5f && l[1] == 1.0f && l[5] == 1.0f && isinf(l[6]) && isinf(l[3]));
    ct_grid_free(L);
    ct_grid_free(dem);
    ct_grid_free(src);
    ct_ctx_free(ctx);
}

/* Every key of the table has a one-line help and a known type. */
static void test_key_table(void **state)
{
    (void)state;
    int n;
    const ct_skey *k = ct_scenario_keys(&n);
    assert_true(n >= 30);
    for (int i = 0; i < n; i++) {
        assert_non_null(k[i].help);
        assert_true((k[i].type == CT_SKEY_CHOICE) == (k[i].choices != NULL));
    }
}

static int cancel_half(double done, const char *what, void *user)
{
    (void)user;
    return !what || strcmp(what, "simulating") || done < 0.55;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Writes dem (freed) as the COG name in the scratch folder: VN-2000 105°, cells of cell metres,
 * its north-west corner at (586000, 1109640). */
static void write_dem(ct_ctx *ctx, ct_grid *dem, double cell, const char *name)
{
    double gt[6] = {586000, cell, 0, 1109640, 0, -cell};
    ct_grid_set_geotransform(dem, gt);
    ct_crs *crs = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:105", &crs), CT_OK);
    ct_grid_set_crs(dem, crs);
    ct_crs_free(crs);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(ct_grid_write_cog(ctx, dem, path, NULL), CT_OK);
    ct_grid_free(dem);
}

/* A run cancelled half-way keeps its checkpoint; --resume then finishes it with the same bytes
 * as a run that was never interrupted. Also: simulate through the library call. */
static void test_simulate_resume(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *dem = ct_grid_new(ctx, CT_FLOAT32, 96, 64);
    float *z = ct_grid_data(dem);
    for (int r = 0; r < 64; r++)
        for (int c = 0; c < 96; c++)
            z[r * 96 + c] = (float)(1.0 + sin(c / 7.0) * cos(r / 5.0) + 0.02 * ((c * 7 + r * 13) % 11));
    write_dem(ctx, dem, 10, "dem.tif");
    char a[600], b[600];
    scratch_file("q.csv", "time,q\n0,0\n300,3\n1800,3\n3600,0\n");
    scratch_file("in.csv", "x,y\n586105,1109325\n");
    scratch_file("g.csv", "name,x,y\nG1,586105,1109325\nG2,586505,1109205\n");
    /* both schemes: the q-centred one keeps two flux buffers, each with its own written spans */
    FILE *devnull = fopen("/dev/null", "w");
    for (int qc = 0; qc < 2; qc++) {
        const char *scn = scratch_file(qc ? "rq.scn" : "r.scn",
                                       qc ? "model = simulate\ndem = dem.tif\ninflow = in.csv\ninflow_series = q.csv\n"
                                            "gauges = g.csv\nduration = 1h\noutput_interval = 15min\n"
                                            "checkpoint_interval = 5min\nscheme = qcentred\n"
                                          : "model = simulate\ndem = dem.tif\ninflow = in.csv\ninflow_series = q.csv\n"
                                            "gauges = g.csv\nduration = 1h\noutput_interval = 15min\n"
                                            "checkpoint_interval = 5min\n");
        char full[300], part[300];
        snprintf(full, sizeof full, "%s/full%d", dir, qc);
        snprintf(part, sizeof part, "%s/part%d", dir, qc);
        ct_flood_opts o = {.scenario = scn, .outdir = full, .out = devnull};
        assert_int_equal(ct_flood_run(ctx, &o), CT_OK);
        ct_ctx_set_progress(ctx, cancel_half, NULL);
        o.outdir = part;
        assert_int_equal(ct_flood_run(ctx, &o), CT_ERR_CANCELLED);
        snprintf(a, sizeof a, "%s/max_depth.tif", part);
        assert_int_not_equal(access(a, F_OK), 0); /* nothing moved into place */
        snprintf(a, sizeof a, "%s/.ct-flood.partial/checkpoint.bin", part);
        assert_int_equal(access(a, F_OK), 0);
        ct_ctx_set_progress(ctx, NULL, NULL);
        o.resume = 1;
        assert_int_equal(ct_flood_run(ctx, &o), CT_OK);
        static const char *const files[] = {"max_depth.tif", "max_velocity.tif", "arrival_time.tif", "gauges.csv",
                                            "mass_balance.csv", "depth-0003600s.tif"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(a, sizeof a, "%s/%s", full, files[i]);
            snprintf(b, sizeof b, "%s/%s", part, files[i]);
            if (!same_file(a, b))
                fail_msg("%s differs after --resume", files[i]);
        }
        snprintf(a, sizeof a, "%s/.ct-flood.partial", part);
        assert_int_not_equal(access(a, F_OK), 0); /* cleaned up */
    }
    fclose(devnull);
    ct_ctx_free(ctx);
}

/* Cancels a bathtub run once its first level is written. */
static int cancel_after_first_level(double done, const char *what, void *user)
{
    (void)done;
    int *levels = user;
    return !what || strcmp(what, "writing levels") || ++*levels < 1;
}

/* The bathtub on one thread and on two (the fill on its own thread, the levels written as it
 * finishes them): the same bytes; and a run cancelled after its first level, on either, stops
 * the fill, leaves the previous results as they were and no staging folder behind. */
static void test_bathtub_threads_and_cancel(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    ct_grid *dem = ct_grid_new(ctx, CT_FLOAT32, 400, 300);
    float *z = ct_grid_data(dem);
    for (int r = 0; r < 300; r++)
        for (int c = 0; c < 400; c++) /* a river along row 150 in rolling ground, a hole of no data */
            z[r * 400 + c] = abs(r - 150) < 3 ? -1.0f
                           : r > 40 && r < 50 && c > 40 && c < 60 ? -9999.0f
                           : (float)(1.2 + sin(c / 17.0) * cos(r / 11.0) + 0.01 * ((c * 7 + r * 13) % 17));
    ct_grid_set_nodata(dem, -9999);
    write_dem(ctx, dem, 5, "bt-dem.tif");
    char a[600], b[600];
    const char *scn = scratch_file("bt.scn", "model = bathtub\ndem = bt-dem.tif\nsource_below = 0\n"
                                             "level = 1.5, 0.5, 2.0, 1.0, 1.5\n");
    FILE *devnull = fopen("/dev/null", "w");
    char out1[300], out2[300];
    snprintf(out1, sizeof out1, "%s/bt1", dir);
    snprintf(out2, sizeof out2, "%s/bt2", dir);
    ct_flood_opts o = {.scenario = scn, .outdir = out1, .out = devnull};
    ct_ctx_set_threads(ctx, 1);
    assert_int_equal(ct_flood_run(ctx, &o), CT_OK);
    ct_ctx_set_threads(ctx, 2);
    o.outdir = out2;
    assert_int_equal(ct_flood_run(ctx, &o), CT_OK);
    static const char *const files[] = {"extent-0.50.tif", "depth-0.50.tif", "extent-1.50.tif", "depth-1.50.tif",
                                        "extent-2.00.tif", "depth-2.00.tif", "summary.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", out1, files[i]);
        snprintf(b, sizeof b, "%s/%s", out2, files[i]);
        if (!same_file(a, b))
            fail_msg("%s differs between 1 and 2 threads", files[i]);
    }
    /* 40 levels (more than the fill's state counts level by level): the rasters of the
     * levels also asked above are the same bytes */
    char many[400] = "model = bathtub\ndem = bt-dem.tif\nsource_below = 0\nlevel = 0.05";
    for (int k = 2; k <= 40; k++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ", %.2f", 0.05 * k);
    strcat(many, "\n");
    char out3[300];
    snprintf(out3, sizeof out3, "%s/bt3", dir);
    ct_flood_opts m = {.scenario = scratch_file("bt-many.scn", many), .outdir = out3, .out = devnull};
    assert_int_equal(ct_flood_run(ctx, &m), CT_OK);
    for (size_t i = 0; i + 1 < sizeof files / sizeof files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", out1, files[i]);
        snprintf(b, sizeof b, "%s/%s", out3, files[i]);
        if (!same_file(a, b))
            fail_msg("%s differs between 5 levels and 40", files[i]);
    }
    const char *other = scratch_file("bt-other.scn", "model = bathtub\ndem = bt-dem.tif\nsource_below = 0\n"
                                                     "level = 0.5, 0.7, 0.9, 1.1\n");
    for (int threads = 1; threads <= 2; threads++) {
        int levels = 0;
        ct_ctx_set_threads(ctx, threads);
        ct_ctx_set_progress(ctx, cancel_after_first_level, &levels);
        ct_flood_opts c = {.scenario = other, .outdir = out1, .out = devnull};
        assert_int_equal(ct_flood_run(ctx, &c), CT_ERR_CANCELLED);
        ct_ctx_set_progress(ctx, NULL, NULL);
        assert_int_equal(levels, 1);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) { /* the first run's, untouched */
            snprintf(a, sizeof a, "%s/%s", out1, files[i]);
            snprintf(b, sizeof b, "%s/%s", out2, files[i]);
            if (!same_file(a, b))
                fail_msg("%s changed by a cancelled run on %d thread(s)", files[i], threads);
        }
        snprintf(a, sizeof a, "%s/extent-0.70.tif", out1);
        assert_int_not_equal(access(a, F_OK), 0);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q '^\\.ct-flood'", out1);
        assert_int_not_equal(system(cmd), 0); /* no staging folder left */
    }
    fclose(devnull);
    ct_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_values), cmocka_unit_test(test_scenario_errors),
        cmocka_unit_test(test_series), cmocka_unit_test(test_connect_level), cmocka_unit_test(test_key_table),
        cmocka_unit_test(test_simulate_resume), cmocka_unit_test(test_bathtub_threads_and_cancel),
    };
    return cmocka_run_group_tests(tests, setup, scratch_remove);
}
