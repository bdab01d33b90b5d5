/* test_landuse.c — the TT 08/2024 code table, old-code mapping, hierarchy and plan conformance. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ct/landuse.h"

static void test_table(void **state)
{
    (void)state;
    size_t n;
    const ct_landuse_code *t = ct_landuse_table(&n);
    assert_int_equal(n, 68);
    /* every parent and successor named in the table is itself in the table, and no code twice */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strlen(t[i].code), 3);
        if (t[i].parent)
            assert_non_null(ct_landuse_lookup(t[i].parent));
        if (t[i].replaced_by)
            assert_null(ct_landuse_lookup(t[i].replaced_by)->replaced_by);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(t[i].code, t[k].code);
    }
    assert_string_equal(ct_landuse_lookup(" odt ")->name_vi, "Đất ở tại đô thị");
    assert_null(ct_landuse_lookup("OD"));
    assert_null(ct_landuse_lookup("XYZ"));
    assert_null(ct_landuse_lookup(NULL));
}

static void test_normalise(void **state)
{
    (void)state;
    const char *c;
    assert_int_equal(ct_landuse_normalise("BHK", &c), CT_LANDUSE_MAPPED);
    assert_string_equal(c, "HNK");
    assert_int_equal(ct_landuse_normalise("nhk", &c), CT_LANDUSE_MAPPED);
    assert_string_equal(c, "HNK");
    assert_int_equal(ct_landuse_normalise("CNT", &c), CT_LANDUSE_CURRENT); /* new in TT 08/2024 */
    assert_string_equal(c, "CNT");
    assert_int_equal(ct_landuse_normalise("LUC", &c), CT_LANDUSE_CURRENT);
    assert_int_equal(ct_landuse_normalise("QQQ", &c), CT_LANDUSE_UNKNOWN);
    assert_null(c);
}

static void test_hierarchy_and_conformance(void **state)
{
    (void)state;
    assert_true(ct_landuse_within("LUC", "NNP"));   /* LUC > LUA > CHN > SXN > NNP */
    assert_true(ct_landuse_within("BHK", "CHN"));   /* through its successor HNK */
    assert_true(ct_landuse_within("TMD", "CSK"));
    assert_false(ct_landuse_within("ODT", "NNP"));
    assert_false(ct_landuse_within("ODT", "QQQ"));

    static const struct { const char *cur, *plan; int ok; } cases[] = {
        {"ODT", "ODT", 1}, {"ODT", "OCT", 1}, {"ONT", "ODT", 1}, {"TMD", "ODT", 1},
        {"DGT", "LUC", 1}, {"SON", "ODT", 1}, {"LUC", "ODT", 0}, {"CLN", "ODT", 0},
        {"ODT", "LUC", 0}, {"ODT", "TMD", 0}, {"BHK", "HNK", 1}, {"NTS", "NNP", 1},
        {"QQQ", "ODT", 0}, {"ODT", "QQQ", 0}, {"DGD", "CDG", 1}, {"DGD", "CCC", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ct_landuse_compatible(cases[i].cur, cases[i].plan), cases[i].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_hierarchy_and_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
