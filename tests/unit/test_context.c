/* test_context.c — statuses, error messages, progress cancellation and the option parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct/context.h"

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(ct_exit_code(CT_OK), 0);
    assert_int_equal(ct_exit_code(CT_ERR_IO), 1);
    assert_int_equal(ct_exit_code(CT_ERR_FORMAT), 1);
    assert_int_equal(ct_exit_code(CT_ERR_USAGE), 2);
    assert_int_equal(ct_exit_code(CT_REJECTED), 3);
    for (int s = CT_OK; s <= CT_REJECTED; s++)
        assert_true(strlen(ct_strerror((ct_status)s)) > 0);
    assert_string_equal(ct_strerror(CT_ERR_CANCELLED), "cancelled");
}

static void test_error_message(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    assert_string_equal(ct_ctx_errmsg(ctx), "");
    assert_int_equal(ct_error(ctx, CT_ERR_IO, "%s: cannot open", "dem.tif"), CT_ERR_IO);
    assert_string_equal(ct_ctx_errmsg(ctx), "dem.tif: cannot open");
    assert_int_equal(ct_ctx_status(ctx), CT_ERR_IO);
    /* wrapping the current message in a new one */
    ct_error(ctx, CT_ERR_FORMAT, "scenario.txt:3: dem: %s", ct_ctx_errmsg(ctx));
    assert_string_equal(ct_ctx_errmsg(ctx), "scenario.txt:3: dem: dem.tif: cannot open");
    ct_ctx_clear_error(ctx);
    assert_string_equal(ct_ctx_errmsg(ctx), "");
    assert_int_equal(ct_ctx_status(ctx), CT_OK);
    ct_ctx_free(ctx);
    ct_ctx_free(NULL);
}

static int stop_after_half(double done, const char *what, void *user)
{
    (void)what;
    *(int *)user += 1;
    return done < 0.5;
}

static void test_progress_cancel(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    int calls = 0;
    assert_int_equal(ct_progress(ctx, 0.9, "nothing installed"), CT_OK);
    ct_ctx_set_progress(ctx, stop_after_half, &calls);
    assert_int_equal(ct_progress(ctx, 0.25, "reading"), CT_OK);
    assert_int_equal(ct_progress(ctx, 0.5, "reading"), CT_ERR_CANCELLED);
    assert_int_equal(calls, 2);
    assert_string_equal(ct_ctx_errmsg(ctx), "reading: cancelled");
    ct_ctx_free(ctx);
}

static void collect_log(ct_log_level level, const char *msg, void *user)
{
    snprintf(user, 128, "%d:%s", (int)level, msg);
}

static void test_log_and_threads(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char got[128] = "";
    ct_log(ctx, CT_LOG_WARN, "dropped");
    ct_ctx_set_log(ctx, collect_log, got);
    ct_log(ctx, CT_LOG_WARN, "sheet %d: %s", 12, "3 parcels rejected");
    assert_string_equal(got, "2:sheet 12: 3 parcels rejected");
    assert_int_equal(ct_ctx_threads(ctx), 1);
    ct_ctx_set_threads(ctx, 3);
    assert_int_equal(ct_ctx_threads(ctx), 3);
    ct_ctx_set_threads(ctx, 0);
    assert_true(ct_ctx_threads(ctx) >= 1);
    ct_ctx_free(ctx);
}

/* A tool's table as a test fixture. */
typedef struct fixture {
    int flag;
    const char *name;
    int count;
    double level;
    ct_strlist layers;
    ct_option opts[6];
    ct_cli cli;
} fixture;

static fixture *new_fixture(unsigned shared)
{
    fixture *f = calloc(1, sizeof *f);
    ct_option o[] = {
        {CT_OPT_FLAG, 'f', "force", &f->flag, NULL, "force"},
        {CT_OPT_STRING, 'n', "name", &f->name, "NAME", "a name"},
        {CT_OPT_INT, 0, "count", &f->count, "N", "a count"},
        {CT_OPT_DOUBLE, 'l', "level", &f->level, "M", "a level"},
        {CT_OPT_LIST, 0, "layer", &f->layers, "L", "repeatable"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    memcpy(f->opts, o, sizeof o);
    f->cli = (ct_cli){.name = "ct-test", .operands = "FILE ...", .summary = "test",
                      .options = f->opts, .shared = shared, .min_operands = 1, .max_operands = 2};
    return f;
}

static ct_status parse(ct_ctx *ctx, fixture *f, int argc, const char *const *argv)
{
    return ct_cli_parse(ctx, &f->cli, argc, (char **)argv);
}

static void test_cli_values(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    fixture *f = new_fixture(CT_CLI_SDI | CT_CLI_THREADS);
    const char *argv[] = {"ct-test", "-fq", "--name=Tân An", "--count", "42", "-l", "2.29",
                          "--layer", "parcels", "--layer=zones", "--threads", "2",
                          "--sdi", "city.sqlite", "--json", "a.shp", "--", "-b.shp"};
    assert_int_equal(parse(ctx, f, (int)(sizeof argv / sizeof *argv), argv), CT_OK);
    assert_int_equal(f->flag, 1);
    assert_string_equal(f->name, "Tân An");
    assert_int_equal(f->count, 42);
    assert_true(f->level == 2.29);
    assert_int_equal(f->layers.n, 2);
    assert_string_equal(f->layers.v[0], "parcels");
    assert_string_equal(f->layers.v[1], "zones");
    assert_int_equal(f->cli.common.quiet, 1);
    assert_int_equal(f->cli.common.json, 1);
    assert_int_equal(f->cli.common.threads, 2);
    assert_int_equal(ct_ctx_threads(ctx), 2);
    assert_string_equal(f->cli.common.sdi, "city.sqlite");
    assert_int_equal(f->cli.noperands, 2);
    assert_string_equal(f->cli.operand[0], "a.shp");
    assert_string_equal(f->cli.operand[1], "-b.shp");
    assert_int_equal(f->cli.done, 0);
    ct_cli_free(&f->cli);
    assert_null(f->layers.v);
    free(f);
    ct_ctx_free(ctx);
}

static void test_cli_errors(void **state)
{
    (void)state;
    static const struct {
        int argc;
        const char *argv[4];
        const char *msg;
    } cases[] = {
        {3, {"ct-test", "--bogus", "a"}, "unknown option --bogus"},
        {3, {"ct-test", "-x", "a"}, "unknown option -x"},
        {3, {"ct-test", "a", "--count"}, "option --count needs an argument"},
        {4, {"ct-test", "--count", "4x", "a"}, "option --count: '4x' is not a whole number"},
        {4, {"ct-test", "--level", "high", "a"}, "option --level: 'high' is not a number"},
        {3, {"ct-test", "--force=1", "a"}, "option --force takes no argument"},
        {4, {"ct-test", "--threads", "2", "a"}, "unknown option --threads"}, /* not enabled */
        {1, {"ct-test"}, "expected FILE ..."},
        {4, {"ct-test", "a", "b", "c"}, "unexpected operand 'c'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_ctx *ctx = ct_ctx_new();
        fixture *f = new_fixture(0);
        assert_int_equal(parse(ctx, f, cases[i].argc, cases[i].argv), CT_ERR_USAGE);
        assert_string_equal(ct_ctx_errmsg(ctx), cases[i].msg);
        ct_cli_free(&f->cli);
        free(f);
        ct_ctx_free(ctx);
    }
}

static void test_cli_help(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    fixture *f = new_fixture(CT_CLI_SDI);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ct_cli_usage(&f->cli, mem);
    fclose(mem);
    assert_non_null(strstr(buf, "usage: ct-test [options] FILE ...\n"));
    assert_non_null(strstr(buf, "  -n, --name NAME"));
    assert_non_null(strstr(buf, "      --sdi SDI"));
    assert_null(strstr(buf, "--threads"));
    free(buf);

    /* --help stops before the operand check: no FILE needed */
    const char *argv[] = {"ct-test", "--version"};
    assert_int_equal(parse(ctx, f, 2, argv), CT_OK);
    assert_int_equal(f->cli.done, 1);
    ct_cli_free(&f->cli);
    free(f);
    ct_ctx_free(ctx);
}

/* ct_grow keeps every element through growth, doubles from 16, and refuses an overflowing size
 * without touching the array it was given. */
static void test_grow(void **state)
{
    (void)state;
    int *a = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < 1000; i++) {
        assert_int_equal(ct_grow(&a, &cap, i + 1, sizeof *a), 0);
        assert_true(cap >= i + 1);
        a[i] = (int)i * 7;
    }
    assert_int_equal(cap, 1024); /* 16, 32, ..., 1024 */
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(a[i], (int)i * 7);
    assert_int_equal(ct_grow_cap(0, 3), 16);
    assert_int_equal(ct_grow_cap(16, 16), 16);
    assert_int_equal(ct_grow_cap(16, 100), 100);
    assert_int_equal(ct_grow_cap(40, 41), 80);

    int *keep = a;
    size_t kept = cap;
    assert_int_equal(ct_grow(&a, &cap, SIZE_MAX / 2, sizeof *a), -1);
    assert_ptr_equal(a, keep);
    assert_int_equal(cap, kept);
    assert_int_equal(ct_resize(&a, SIZE_MAX / 2, sizeof *a), -1);
    assert_ptr_equal(a, keep);
    assert_int_equal(a[999], 999 * 7);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),      cmocka_unit_test(test_error_message),
        cmocka_unit_test(test_progress_cancel), cmocka_unit_test(test_log_and_threads),
        cmocka_unit_test(test_cli_values),      cmocka_unit_test(test_cli_errors),
        cmocka_unit_test(test_cli_help),        cmocka_unit_test(test_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
