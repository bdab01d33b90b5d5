/*
 * test_crs.c — the crs module: VN-2000 zones, the official EPSG:6960 shift, recognition of
 * Vietnamese .prj files, and the plumbing around them.
 */
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

#include "ct/crs.h"

#define MM 1e-3     /* projected tolerance: 1 mm */
#define DEG9 1e-9   /* geographic round-trip tolerance */

/* The three numbers every official pipeline holds, and two of EPSG:5194 that none may. */
static const char *const official_parts[] = {"x=-191.90441429", "y=-39.30318279",
                                             "z=-111.45032835", "s=0.252906278"};

/* The custom .prj Vietnamese software writes for Cần Thơ: TM-3 105°00′ on "WGS 84". */
static const char custom_prj[] =
    "PROJCS[\"VN_2000_Can_Tho\",GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\","
    "SPHEROID[\"WGS_1984\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],"
    "UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"False_Easting\",500000],PARAMETER[\"False_Northing\",0],"
    "PARAMETER[\"Central_Meridian\",105],PARAMETER[\"Scale_Factor\",0.9999],"
    "PARAMETER[\"Latitude_Of_Origin\",0],UNIT[\"Meter\",1]]";

/* An ESRI .prj on the VN-2000 datum, Vĩnh Long's 105°30′. */
static const char esri_vn2000_1055[] =
    "PROJCS[\"VN_2000_Vinh_Long\",GEOGCS[\"GCS_VN_2000\",DATUM[\"D_Vietnam_2000\","
    "SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],"
    "UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],"
    "PARAMETER[\"Central_Meridian\",105.5],PARAMETER[\"Scale_Factor\",0.9999],"
    "PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";

/* EPSG:5897 as a GeoTIFF or GDAL writes it without TOWGS84 (projinfo -o WKT1_GDAL, with the
 * TOWGS84 PROJ adds removed). */
static const char wkt_5897_bare[] =
    "PROJCS[\"VN-2000 / TM-3 zone 482\",GEOGCS[\"VN-2000\",DATUM[\"Vietnam_2000\","
    "SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],"
    "AUTHORITY[\"EPSG\",\"6756\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],"
    "UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
    "AUTHORITY[\"EPSG\",\"4756\"]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",105],"
    "PARAMETER[\"scale_factor\",0.9999],PARAMETER[\"false_easting\",500000],"
    "PARAMETER[\"false_northing\",0],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],"
    "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"5897\"]]";

/* The same zone carrying EPSG:5194's parameters as TOWGS84 (position vector). */
static const char wkt_5897_with_5194[] =
    "PROJCS[\"VN-2000 / TM-3 zone 482\",GEOGCS[\"VN-2000\",DATUM[\"Vietnam_2000\","
    "SPHEROID[\"WGS 84\",6378137,298.257223563],"
    "TOWGS84[-192.873,-39.382,-111.202,-0.00205,-0.0005,0.00335,0.0188]],"
    "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
    "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
    "PARAMETER[\"central_meridian\",105],PARAMETER[\"scale_factor\",0.9999],"
    "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]";

/* VN-2000 / UTM zone 48N (projinfo EPSG:3405 -o WKT1_GDAL). */
static const char wkt_3405[] =
    "PROJCS[\"VN-2000 / UTM zone 48N\",GEOGCS[\"VN-2000\",DATUM[\"Vietnam_2000\","
    "SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],"
    "AUTHORITY[\"EPSG\",\"6756\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],"
    "UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
    "AUTHORITY[\"EPSG\",\"4756\"]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",105],"
    "PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],"
    "PARAMETER[\"false_northing\",0],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],"
    "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"3405\"]]";

/* Plain WGS 84 / UTM 48N as ESRI writes it: k = 0.9996, must stay WGS 84. */
static const char esri_wgs84_utm48[] =
    "PROJCS[\"WGS_1984_UTM_Zone_48N\",GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\","
    "SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],"
    "UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],"
    "PARAMETER[\"Central_Meridian\",105.0],PARAMETER[\"Scale_Factor\",0.9996],"
    "PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";

/* ---------------------------------------------------------------------------------------- */

static int setup(void **state)
{
    *state = ct_ctx_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    ct_ctx_free(*state);
    return 0;
}

static ct_crs *crs_or_fail(ct_ctx *ctx, const char *def)
{
    ct_crs *c = NULL;
    ct_status st = ct_crs_from_user(ctx, def, &c);
    if (st != CT_OK)
        fail_msg("ct_crs_from_user(%.60s): %s", def, ct_ctx_errmsg(ctx));
    return c;
}

static ct_crs *wkt_or_fail(ct_ctx *ctx, const char *wkt)
{
    ct_crs *c = NULL;
    if (ct_crs_from_wkt(ctx, wkt, &c) != CT_OK)
        fail_msg("ct_crs_from_wkt(%.60s): %s", wkt, ct_ctx_errmsg(ctx));
    return c;
}

static ct_transform *tf_or_fail(ct_ctx *ctx, const ct_crs *s, const ct_crs *d)
{
    ct_transform *t = NULL;
    if (ct_transform_new(ctx, s, d, &t) != CT_OK)
        fail_msg("ct_transform_new(%s -> %s): %s", ct_crs_name(s), ct_crs_name(d),
                 ct_ctx_errmsg(ctx));
    return t;
}

/* Asserts that a pipeline applies EPSG:6960 and nothing of EPSG:5194. */
static void assert_official(const char *def)
{
    size_t i;
    for (i = 0; i < sizeof official_parts / sizeof official_parts[0]; i++)
        if (!strstr(def, official_parts[i]))
            fail_msg("'%s' missing from pipeline: %s", official_parts[i], def);
    /* The rotations, in whichever convention PROJ writes them. */
    assert_true((strstr(def, "rx=-0.00928836") && strstr(def, "ry=0.01975479") &&
                 strstr(def, "rz=-0.00427372") && strstr(def, "coordinate_frame")) ||
                (strstr(def, "rx=0.00928836") && strstr(def, "ry=-0.01975479") &&
                 strstr(def, "rz=0.00427372") && strstr(def, "position_vector")));
    assert_null(strstr(def, "192.873"));
    assert_null(strstr(def, "111.202"));
}

/* Transforms one point from src to dst and checks it against (ex, ey) within tol. */
static void check_point(ct_ctx *ctx, const char *src, const char *dst, double x, double y,
                        double ex, double ey, double tol)
{
    ct_crs *s = crs_or_fail(ctx, src), *d = crs_or_fail(ctx, dst);
    ct_transform *t = tf_or_fail(ctx, s, d);
    assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
    if (fabs(x - ex) > tol || fabs(y - ey) > tol)
        fail_msg("%s -> %s: got %.4f %.4f, expected %.4f %.4f", src, dst, x, y, ex, ey);
    ct_transform_free(t);
    ct_crs_free(s);
    ct_crs_free(d);
}

/* ---------------------------------------------------------------------------------------- */
/* The zone table                                                                            */

static void test_zone_table(void **state)
{
    ct_ctx *ctx = *state;
    size_t n = 0, i;
    const ct_vn2000_zone *z = ct_vn2000_zones(&n);
    int seen = 0;

    assert_true(n >= 17);
    for (i = 0; i < n; i++) {
        char code[32];
        ct_crs *byname, *bycode;
        if (i)
            assert_true(z[i].meridian > z[i - 1].meridian);
        /* Each meridian a whole number of quarter degrees (15′ steps) within 102°–108°30′. */
        assert_true(fmod(z[i].meridian * 4.0, 1.0) == 0.0);
        assert_true(z[i].meridian >= 102.0 && z[i].meridian <= 108.5);
        assert_non_null(z[i].name);
        assert_non_null(z[i].provinces);
        assert_true(z[i].epsg > 0);

        byname = crs_or_fail(ctx, z[i].name);
        assert_ptr_equal(ct_crs_vn2000_zone(byname), &z[i]);
        assert_int_equal(ct_crs_epsg(byname), z[i].epsg);
        snprintf(code, sizeof code, "EPSG:%d", z[i].epsg);
        bycode = crs_or_fail(ctx, code);
        assert_ptr_equal(ct_crs_vn2000_zone(bycode), &z[i]);
        assert_true(ct_crs_equal(byname, bycode));
        ct_crs_free(byname);
        ct_crs_free(bycode);

        if (z[i].meridian == 105.0) {
            assert_int_equal(z[i].epsg, 5897);
            assert_non_null(strstr(z[i].provinces, "Cần Thơ"));
            assert_non_null(strstr(z[i].provinces, "Hậu Giang"));
            assert_non_null(strstr(z[i].provinces, "Đồng Tháp"));
            assert_non_null(strstr(z[i].provinces, "Bạc Liêu"));
            seen |= 1;
        } else if (z[i].meridian == 105.5) {
            assert_int_equal(z[i].epsg, 9209);
            assert_non_null(strstr(z[i].provinces, "Vĩnh Long"));
            assert_non_null(strstr(z[i].provinces, "Sóc Trăng"));
            assert_non_null(strstr(z[i].provinces, "Trà Vinh"));
            seen |= 2;
        } else if (z[i].meridian == 104.75) {
            assert_int_equal(z[i].epsg, 9208);
            assert_non_null(strstr(z[i].provinces, "An Giang"));
            seen |= 4;
        } else if (z[i].meridian == 104.5) {
            assert_int_equal(z[i].epsg, 9207);
            assert_non_null(strstr(z[i].provinces, "Kiên Giang"));
            assert_non_null(strstr(z[i].provinces, "Cà Mau"));
            seen |= 8;
        }
    }
    assert_int_equal(seen, 15);
}

/* ---------------------------------------------------------------------------------------- */
/* Points: WGS 84 → VN-2000 TM-3 and back                                                    */

/*
 * Expected eastings/northings were computed independently of this module, with PROJ's cs2cs
 * command and the official +towgs84 string of Decision 05/2007 (EPSG:6960):
 *
 *   echo "LON LAT" | cs2cs -f %.4f +proj=longlat +datum=WGS84 +no_defs +to \
 *     +proj=tmerc +lat_0=0 +lon_0=MERIDIAN +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 \
 *     +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 \
 *     +units=m +no_defs
 *
 * The first row is the check point of DESIGN.md (E 586 184.889, N 1 109 719.714).
 */
static const struct vn_point {
    const char *where;
    const char *zone;
    double lon, lat; /* WGS 84 */
    double e, n;     /* VN-2000 TM-3 */
} vn_points[] = {
    {"DESIGN.md check point", "vn2000:105", 105.7880, 10.0340, 586184.8886, 1109719.7144},
    {"Ninh Kiều, Cần Thơ", "vn2000:105", 105.7469, 10.0452, 581676.4381, 1110947.9812},
    {"Vị Thanh, Hậu Giang", "vn2000:105", 105.4701, 9.7845, 551374.6337, 1082058.4632},
    {"Cao Lãnh, Đồng Tháp", "vn2000:105", 105.6329, 10.4602, 569089.4255, 1156822.6480},
    {"Bạc Liêu", "vn2000:105", 105.7278, 9.2940, 579759.9689, 1027858.3714},
    {"Vĩnh Long", "vn2000:105.5", 105.9722, 10.2537, 551530.7135, 1133952.7330},
    {"Sóc Trăng", "vn2000:105-30", 105.9739, 9.6025, 551819.6676, 1061930.4705},
    {"Trà Vinh", "EPSG:9209", 106.3455, 9.9347, 592516.7041, 1098752.3135},
    {"Cờ Đỏ, Cần Thơ, in Vĩnh Long's zone", "vn2000:105.5", 105.5210, 10.1850, 502105.2245,
     1126316.7694},
    {"Long Xuyên, An Giang", "vn2000:104.75", 105.4352, 10.3864, 574832.6936, 1148671.6644},
    {"Châu Đốc, An Giang", "vn2000:104-45", 105.1167, 10.7009, 539915.9699, 1183398.3791},
    {"Rạch Giá, Kiên Giang", "vn2000:104.5", 105.0809, 10.0125, 563485.7815, 1107294.2038},
    {"Cà Mau", "vn2000:104.5", 105.1524, 9.1769, 571499.7622, 1014890.8853},
    {"Phú Quốc, Kiên Giang", "EPSG:9207", 103.9637, 10.2270, 441050.9762, 1131010.0125},
};

static void test_points_wgs84_to_zones(void **state)
{
    ct_ctx *ctx = *state;
    size_t i;
    ct_crs *wgs84 = crs_or_fail(ctx, "EPSG:4326");

    for (i = 0; i < sizeof vn_points / sizeof vn_points[0]; i++) {
        const struct vn_point *p = &vn_points[i];
        ct_crs *zone = crs_or_fail(ctx, p->zone);
        ct_transform *t = tf_or_fail(ctx, wgs84, zone);
        double x = p->lon, y = p->lat;

        assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
        if (fabs(x - p->e) > MM || fabs(y - p->n) > MM)
            fail_msg("%s (%s): got E %.4f N %.4f, expected E %.4f N %.4f", p->where, p->zone,
                     x, y, p->e, p->n);
        assert_int_equal(ct_transform_points_inv(ctx, t, 1, &x, &y, NULL), CT_OK);
        if (fabs(x - p->lon) > DEG9 || fabs(y - p->lat) > DEG9)
            fail_msg("%s: round trip gave %.12f %.12f", p->where, x, y);
        ct_transform_free(t);

        /* The other direction, from the zone, lands on the WGS 84 point. */
        t = tf_or_fail(ctx, zone, wgs84);
        x = p->e, y = p->n;
        assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
        assert_true(fabs(x - p->lon) < 1e-8 && fabs(y - p->lat) < 1e-8);
        ct_transform_free(t);
        ct_crs_free(zone);
    }
    ct_crs_free(wgs84);
}

/* Many points at once, with z, through one transformation. */
static void test_points_batch(void **state)
{
    ct_ctx *ctx = *state;
    enum { N = 5 };
    double x[N], y[N], z[N];
    ct_crs *wgs84 = crs_or_fail(ctx, "EPSG:4326"), *zone = crs_or_fail(ctx, "vn2000:105");
    ct_transform *t = tf_or_fail(ctx, wgs84, zone);
    int i;

    for (i = 0; i < N; i++)
        x[i] = vn_points[i].lon, y[i] = vn_points[i].lat, z[i] = 0;
    assert_int_equal(ct_transform_points(ctx, t, N, x, y, z), CT_OK);
    for (i = 0; i < N; i++) {
        assert_true(fabs(x[i] - vn_points[i].e) < MM);
        assert_true(fabs(y[i] - vn_points[i].n) < MM);
    }
    assert_int_equal(ct_transform_points(ctx, t, 0, x, y, NULL), CT_OK);
    ct_transform_free(t);
    ct_crs_free(wgs84);
    ct_crs_free(zone);
}

/* Web Mercator input (the check point in EPSG:3857, from `cs2cs EPSG:4326 EPSG:3857`). */
static void test_points_from_web_mercator(void **state)
{
    check_point(*state, "EPSG:3857", "vn2000:105", 11776266.2920, 1122733.4265, 586184.8886,
                1109719.7144, MM);
}

/* Plain EPSG:5897 must give the official position, not PROJ's default (586 184.079). */
static void test_points_epsg5897(void **state)
{
    check_point(*state, "EPSG:4326", "EPSG:5897", 105.7880, 10.0340, 586184.8886, 1109719.7144,
                MM);
}

/* Zone to zone on one datum: projection only. Expected from cs2cs between the two +proj=tmerc
 * definitions without any datum shift. */
static void test_points_zone_to_zone(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *a = crs_or_fail(ctx, "vn2000:105"), *b = crs_or_fail(ctx, "vn2000:105.5");
    ct_transform *t = tf_or_fail(ctx, a, b);
    double x = 586184.8886, y = 1109719.7144;

    assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
    assert_true(fabs(x - 531374.1326) < MM && fabs(y - 1109630.3275) < MM);
    assert_null(strstr(ct_transform_definition(t), "192.873"));
    assert_int_equal(ct_transform_points_inv(ctx, t, 1, &x, &y, NULL), CT_OK);
    assert_true(fabs(x - 586184.8886) < MM && fabs(y - 1109719.7144) < MM);
    ct_transform_free(t);
    ct_crs_free(a);
    ct_crs_free(b);
}

/* GIS order for geographic CRSs, even for EPSG:4756 whose EPSG axis order is lat, lon.
 * Expected from cs2cs (+proj=longlat +datum=WGS84 +to +proj=longlat +ellps=WGS84 +towgs84=…). */
static void test_points_geographic_axis_order(void **state)
{
    check_point(*state, "EPSG:4326", "EPSG:4756", 105.7880, 10.0340, 105.786215745, 10.035013890,
                1e-9);
    check_point(*state, "EPSG:4326", "vn2000", 105.7880, 10.0340, 105.786215745, 10.035013890,
                1e-9);
}

/* VN-2000 / UTM 48N: expected from cs2cs with +proj=utm +zone=48 and the official +towgs84. */
static void test_points_vn2000_utm(void **state)
{
    check_point(*state, "EPSG:4326", "EPSG:3405", 105.7880, 10.0340, 586159.0306, 1109386.7652,
                MM);
}

static void test_points_failure(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *a = crs_or_fail(ctx, "EPSG:4326"), *b = crs_or_fail(ctx, "vn2000:105");
    ct_transform *t = tf_or_fail(ctx, a, b);
    double x[2] = {105.788, 105.0}, y[2] = {10.034, 95.0};

    assert_int_equal(ct_transform_points(ctx, t, 2, x, y, NULL), CT_ERR_CRS);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "point 2"));
    assert_true(x[1] == HUGE_VAL && y[1] == HUGE_VAL);
    assert_true(fabs(x[0] - 586184.8886) < MM);
    ct_transform_free(t);
    ct_crs_free(a);
    ct_crs_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* The operation used                                                                        */

static void test_definitions_use_6960(void **state)
{
    static const struct {
        const char *src, *dst;
    } pairs[] = {
        {"EPSG:4326", "vn2000:105"}, {"vn2000:105", "EPSG:4326"},
        {"EPSG:3857", "vn2000:105"}, {"vn2000:105", "EPSG:3857"},
        {"EPSG:4326", "EPSG:5897"},  {"EPSG:5897", "EPSG:4326"},
        {"EPSG:4756", "EPSG:4326"},  {"EPSG:3405", "EPSG:32648"},
        {"EPSG:9209", "EPSG:4326"},  {"EPSG:4326", "vn2000:104.5"},
        {custom_prj, "EPSG:4326"},   {wkt_5897_bare, "EPSG:4326"},
        {wkt_5897_with_5194, "EPSG:4326"}, {esri_vn2000_1055, "EPSG:3857"},
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ct_crs *s = crs_or_fail(ctx, pairs[i].src), *d = crs_or_fail(ctx, pairs[i].dst);
        ct_transform *t = tf_or_fail(ctx, s, d);
        assert_official(ct_transform_definition(t));
        ct_transform_free(t);
        ct_crs_free(s);
        ct_crs_free(d);
    }
}

/* A .prj carrying EPSG:5194's numbers is still transformed with the official shift. */
static void test_definitions_replace_other_towgs84(void **state)
{
    check_point(*state, "EPSG:4326", wkt_5897_with_5194, 105.7880, 10.0340, 586184.8886,
                1109719.7144, MM);
}

static void test_definitions_same_datum(void **state)
{
    static const char *const pairs[][2] = {
        {"vn2000:105", "vn2000:105.5"},
        {"EPSG:5897", "EPSG:3405"},
        {"vn2000", "vn2000:104.75"},
        {custom_prj, "EPSG:9209"},
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        ct_crs *s = crs_or_fail(ctx, pairs[i][0]), *d = crs_or_fail(ctx, pairs[i][1]);
        ct_transform *t = tf_or_fail(ctx, s, d);
        const char *def = ct_transform_definition(t);
        if (strstr(def, "helmert"))
            fail_msg("datum shift within VN-2000: %s", def);
        ct_transform_free(t);
        ct_crs_free(s);
        ct_crs_free(d);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Names                                                                                     */

static void test_names_accepted(void **state)
{
    static const struct {
        const char *def;
        double meridian;
    } ok[] = {
        {"vn2000:105", 105.0},      {"VN2000:105", 105.0},        {"vn2000:105.0", 105.0},
        {"vn2000:105-00", 105.0},   {"vn2000:105.5", 105.5},      {"vn2000:105-30", 105.5},
        {"vn2000:105d30", 105.5},   {"vn2000:105°30′", 105.5},    {"vn2000:105°30'", 105.5},
        {"vn2000:104.75", 104.75},  {"vn2000:104-45", 104.75},    {"vn2000:104.5", 104.5},
        {"vn2000:104-30", 104.5},   {"vn-2000:105", 105.0},       {"  vn2000:105.5\n", 105.5},
        {"EPSG:5897", 105.0},       {"epsg:9209", 105.5},         {"EPSG:9208", 104.75},
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ct_crs *c = crs_or_fail(ctx, ok[i].def);
        const ct_vn2000_zone *z = ct_crs_vn2000_zone(c);
        if (!z || z->meridian != ok[i].meridian)
            fail_msg("'%s' should be the zone %g", ok[i].def, ok[i].meridian);
        assert_true(ct_crs_is_vn2000(c));
        assert_false(ct_crs_is_geographic(c));
        ct_crs_free(c);
    }
}

static void test_names_display(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *c = crs_or_fail(ctx, "vn2000:105");
    assert_string_equal(ct_crs_name(c), "VN-2000 / TM-3 105-00 (vn2000:105, EPSG:5897)");
    ct_crs_free(c);
    c = crs_or_fail(ctx, "vn2000:105-30");
    assert_string_equal(ct_crs_name(c), "VN-2000 / TM-3 105-30 (vn2000:105.5, EPSG:9209)");
    ct_crs_free(c);
    c = crs_or_fail(ctx, "EPSG:4326");
    assert_string_equal(ct_crs_name(c), "WGS 84 (EPSG:4326)");
    assert_int_equal(ct_crs_epsg(c), 4326);
    ct_crs_free(c);
    c = crs_or_fail(ctx, "vn2000");
    assert_true(ct_crs_is_vn2000(c));
    assert_true(ct_crs_is_geographic(c));
    assert_null(ct_crs_vn2000_zone(c));
    assert_int_equal(ct_crs_epsg(c), 4756);
    ct_crs_free(c);
}

static void test_names_rejected(void **state)
{
    static const char *const bad[] = {
        "vn2000:110",  "vn2000:105.25", "vn2000:abc",   "vn2000:105-75", "vn2000:",
        "vn2000105",   "vn2000:105-",   "vn2000:105.",  "foo",           "",
        "   ",         "EPSG:999999",   "EPSG:9807",    "/nonexistent/parcels.prj",
        "PROJCS[\"broken\"", "+proj=nonsense",
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ct_crs *c = (ct_crs *)1;
        ct_status st = ct_crs_from_user(ctx, bad[i], &c);
        if (st != CT_ERR_CRS)
            fail_msg("'%s' accepted (status %d, %s)", bad[i], (int)st, c ? ct_crs_name(c) : "");
        assert_null(c);
        assert_int_equal(strncmp(ct_ctx_errmsg(ctx), "unknown CRS '", 13), 0);
    }
    assert_int_equal(ct_crs_from_user(ctx, NULL, &(ct_crs *){NULL}), CT_ERR_CRS);
    /* An unknown meridian lists the known ones. */
    ct_crs *c = NULL;
    assert_int_equal(ct_crs_from_user(ctx, "vn2000:110", &c), CT_ERR_CRS);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "105-30"));
}

/* ---------------------------------------------------------------------------------------- */
/* Recognition                                                                               */

static void test_recognise_custom_wgs84_prj(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *c = wkt_or_fail(ctx, custom_prj), *ref = crs_or_fail(ctx, "vn2000:105");

    assert_non_null(ct_crs_vn2000_zone(c));
    assert_true(ct_crs_vn2000_zone(c)->meridian == 105.0);
    assert_true(ct_crs_is_vn2000(c));
    assert_int_equal(ct_crs_epsg(c), 5897);
    assert_false(ct_crs_default_uses_5194(c));
    assert_true(ct_crs_equal(c, ref));
    ct_crs_free(c);
    ct_crs_free(ref);
    /* ... and gives the official check point. */
    check_point(ctx, "EPSG:4326", custom_prj, 105.7880, 10.0340, 586184.8886, 1109719.7144, MM);
}

static void test_recognise_esri_vn2000(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *c = wkt_or_fail(ctx, esri_vn2000_1055);
    assert_non_null(ct_crs_vn2000_zone(c));
    assert_true(ct_crs_vn2000_zone(c)->meridian == 105.5);
    assert_int_equal(ct_crs_epsg(c), 9209);
    assert_true(ct_crs_default_uses_5194(c));
    ct_crs_free(c);
}

static void test_recognise_proj_strings(void **state)
{
    static const struct {
        const char *def;
        double meridian; /* 0: VN-2000 but no zone; -1: not VN-2000 */
    } cases[] = {
        {"+proj=tmerc +lat_0=0 +lon_0=104.75 +k=0.9999 +x_0=500000 +y_0=0 +datum=WGS84", 104.75},
        {"+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +ellps=WGS84 "
         "+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,"
         "0.252906278 +units=m +no_defs",
         105.0},
        {"+proj=tmerc +lon_0=105.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +towgs84=0,0,0 +type=crs",
         105.5},
        {"+proj=utm +zone=48 +datum=WGS84", -1},
        {"+proj=tmerc +lon_0=105.25 +k=0.9999 +x_0=500000 +datum=WGS84", -1},
        {"+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +ellps=krass", -1},
        {"+proj=tmerc +lon_0=105 +k=0.9999 +x_0=0 +datum=WGS84", -1},
        {"+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +datum=WGS84 +units=us-ft", -1},
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_crs *c = crs_or_fail(ctx, cases[i].def);
        const ct_vn2000_zone *z = ct_crs_vn2000_zone(c);
        if (cases[i].meridian > 0) {
            if (!z || z->meridian != cases[i].meridian)
                fail_msg("'%s' not recognised as zone %g", cases[i].def, cases[i].meridian);
        } else {
            if (z || ct_crs_is_vn2000(c))
                fail_msg("'%s' taken for VN-2000", cases[i].def);
        }
        ct_crs_free(c);
    }
}

static void test_recognise_vn2000_datum(void **state)
{
    ct_ctx *ctx = *state;
    static const char *const utm[] = {"EPSG:3405", "EPSG:3406", wkt_3405, "EPSG:6957"};
    size_t i;
    ct_crs *c;

    for (i = 0; i < sizeof utm / sizeof utm[0]; i++) {
        c = crs_or_fail(ctx, utm[i]);
        assert_true(ct_crs_is_vn2000(c));
        assert_null(ct_crs_vn2000_zone(c));
        assert_true(ct_crs_default_uses_5194(c));
        ct_crs_free(c);
    }
    c = wkt_or_fail(ctx, wkt_3405);
    assert_int_equal(ct_crs_epsg(c), 3405);
    ct_crs_free(c);

    c = wkt_or_fail(ctx, wkt_5897_bare);
    assert_non_null(ct_crs_vn2000_zone(c));
    assert_int_equal(ct_crs_epsg(c), 5897);
    ct_crs_free(c);

    c = crs_or_fail(ctx, "EPSG:4756");
    assert_true(ct_crs_is_vn2000(c));
    assert_true(ct_crs_is_geographic(c));
    ct_crs_free(c);

    /* A compound CRS (zone + Hòn Dấu 1992 height): its horizontal part is the zone. */
    c = crs_or_fail(ctx, "EPSG:5897+5727");
    assert_non_null(ct_crs_vn2000_zone(c));
    assert_int_equal(ct_crs_epsg(c), 5897);
    ct_crs_free(c);
}

static void test_recognise_negative(void **state)
{
    static const char *const not_vn[] = {
        "EPSG:32648", "EPSG:32649", "EPSG:4326", "EPSG:3857", esri_wgs84_utm48,
        /* TM-3 look-alike on another datum and ellipsoid (Hanoi 1972, Krassowsky). */
        "PROJCS[\"HN72 TM\",GEOGCS[\"Hanoi 1972\",DATUM[\"Hanoi_1972\","
        "SPHEROID[\"Krassowsky 1940\",6378245,298.3]],PRIMEM[\"Greenwich\",0],"
        "UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
        "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",105],"
        "PARAMETER[\"scale_factor\",0.9999],PARAMETER[\"false_easting\",500000],"
        "PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]",
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof not_vn / sizeof not_vn[0]; i++) {
        ct_crs *c = crs_or_fail(ctx, not_vn[i]);
        if (ct_crs_is_vn2000(c) || ct_crs_vn2000_zone(c) || ct_crs_default_uses_5194(c))
            fail_msg("'%.40s' taken for VN-2000", not_vn[i]);
        ct_crs_free(c);
    }
    ct_crs *c = wkt_or_fail(ctx, esri_wgs84_utm48);
    assert_int_equal(ct_crs_epsg(c), 32648);
    ct_crs_free(c);

    /* ct_crs_from_wkt takes WKT only. */
    c = NULL;
    assert_int_equal(ct_crs_from_wkt(ctx, "EPSG:4326", &c), CT_ERR_CRS);
    assert_null(c);
    assert_int_equal(ct_crs_from_wkt(ctx, "", &c), CT_ERR_CRS);
}

/* ---------------------------------------------------------------------------------------- */
/* The EPSG:5194 warning                                                                     */

static void test_default_uses_5194(void **state)
{
    static const struct {
        const char *def;
        int expect;
    } cases[] = {
        {"EPSG:5897", 1},     /* a GeoTIFF's code: GDAL/QGIS pick 5194 in the delta */
        {"EPSG:4756", 1},     {"EPSG:9209", 1},     {"EPSG:3405", 1},
        {wkt_5897_bare, 1},   {wkt_5897_with_5194, 1}, {esri_vn2000_1055, 1},
        {"vn2000:105", 0},    /* ctgis's own names stand for the official shift */
        {"vn2000", 0},        {"EPSG:4326", 0},     {"EPSG:32648", 0},
        {custom_prj, 0},      /* datum WGS 84: nobody applies 5194 to it */
    };
    ct_ctx *ctx = *state;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_crs *c = crs_or_fail(ctx, cases[i].def);
        if (ct_crs_default_uses_5194(c) != cases[i].expect)
            fail_msg("'%.50s': default_uses_5194 should be %d", cases[i].def, cases[i].expect);
        ct_crs_free(c);
    }
}

/* Reading back the WKT ctgis writes finds the official TOWGS84: no warning any more. */
static void test_default_uses_5194_after_rewrite(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *c = crs_or_fail(ctx, "EPSG:5897"), *back;
    assert_true(ct_crs_default_uses_5194(c));
    back = wkt_or_fail(ctx, ct_crs_wkt(c));
    assert_false(ct_crs_default_uses_5194(back));
    assert_ptr_equal(ct_crs_vn2000_zone(back), ct_crs_vn2000_zone(c));
    ct_crs_free(back);
    ct_crs_free(c);
}

/* ---------------------------------------------------------------------------------------- */
/* WKT out, files, clone, equality                                                          */

static void test_wkt_output(void **state)
{
    static const char *const vn[] = {"vn2000:105", "EPSG:5897", "EPSG:4756", "EPSG:3405",
                                     custom_prj, wkt_5897_with_5194};
    ct_ctx *ctx = *state;
    size_t i;
    ct_crs *c;

    for (i = 0; i < sizeof vn / sizeof vn[0]; i++) {
        ct_crs *back;
        c = crs_or_fail(ctx, vn[i]);
        if (!strstr(ct_crs_wkt(c), "TOWGS84[-191.90441429,-39.30318279,-111.45032835,"
                                   "0.00928836,-0.01975479,0.00427372,0.252906278]"))
            fail_msg("no official TOWGS84 in %s", ct_crs_wkt(c));
        back = wkt_or_fail(ctx, ct_crs_wkt(c));
        assert_true(ct_crs_equal(c, back));
        assert_true(ct_crs_is_vn2000(back));
        ct_crs_free(back);
        ct_crs_free(c);
    }
    c = crs_or_fail(ctx, "vn2000:105");
    assert_int_equal(strncmp(ct_crs_wkt(c), "PROJCS[", 7), 0);
    assert_non_null(strstr(ct_crs_wkt(c), "AUTHORITY[\"EPSG\",\"5897\"]"));
    ct_crs_free(c);

    c = crs_or_fail(ctx, "EPSG:4326");
    assert_int_equal(strncmp(ct_crs_wkt(c), "GEOGCS[", 7), 0);
    assert_null(strstr(ct_crs_wkt(c), "TOWGS84"));
    ct_crs_free(c);
}

static void test_from_file(void **state)
{
    ct_ctx *ctx = *state;
    char path[] = "/tmp/test_crs_XXXXXX.prj";
    int fd = mkstemps(path, 4);
    FILE *fp;
    ct_crs *c;

    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    fputs("\xEF\xBB\xBF", fp); /* a BOM, as some Windows tools write */
    fputs(custom_prj, fp);
    fputs("\r\n", fp);
    fclose(fp);
    c = crs_or_fail(ctx, path);
    assert_non_null(ct_crs_vn2000_zone(c));
    assert_int_equal(ct_crs_epsg(c), 5897);
    ct_crs_free(c);

    /* A file that holds no CRS. */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a CRS\n", fp);
    fclose(fp);
    c = NULL;
    assert_int_equal(ct_crs_from_user(ctx, path, &c), CT_ERR_CRS);
    assert_null(c);
    assert_int_equal(strncmp(ct_ctx_errmsg(ctx), "unknown CRS '", 13), 0);
    unlink(path);
}

static void test_clone_equal_free(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *a = crs_or_fail(ctx, "vn2000:105"), *b = ct_crs_clone(a);
    ct_crs *g = crs_or_fail(ctx, "EPSG:4326"), *g2 = ct_crs_clone(g);
    ct_crs *z = crs_or_fail(ctx, "vn2000:105.5");
    ct_transform *t;
    double x = 105.788, y = 10.034;

    assert_non_null(b);
    assert_true(ct_crs_equal(a, b));
    assert_true(ct_crs_equal(g, g2));
    assert_false(ct_crs_equal(a, g));
    assert_false(ct_crs_equal(a, z));
    assert_string_equal(ct_crs_name(a), ct_crs_name(b));
    assert_string_equal(ct_crs_wkt(a), ct_crs_wkt(b));
    assert_ptr_equal(ct_crs_vn2000_zone(a), ct_crs_vn2000_zone(b));
    ct_crs_free(a); /* the clone lives on its own */
    t = tf_or_fail(ctx, g2, b);
    assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
    assert_true(fabs(x - 586184.8886) < MM);
    ct_transform_free(t);
    ct_crs_free(b);
    ct_crs_free(g);
    ct_crs_free(g2);
    ct_crs_free(z);
    ct_crs_free(NULL);
    ct_transform_free(NULL);
    assert_null(ct_crs_clone(NULL));
}

/* ---------------------------------------------------------------------------------------- */
/* Bounds                                                                                    */

static void test_bounds(void **state)
{
    ct_ctx *ctx = *state;
    ct_crs *g = crs_or_fail(ctx, "EPSG:4326"), *z = crs_or_fail(ctx, "vn2000:105");
    ct_transform *t = tf_or_fail(ctx, g, z);
    double box[4] = {105.0, 9.5, 106.0, 10.5}, out[4], x, y;
    int i;

    assert_int_equal(ct_transform_bounds(ctx, t, box, out), CT_OK);
    /* Every point of the box's edges lies inside; the top edge bulges north away from the
     * central meridian, so corners alone would not be enough. */
    for (i = 0; i <= 100; i++) {
        double f = i / 100.0;
        double px[4] = {105.0 + f, 105.0 + f, 105.0, 106.0};
        double py[4] = {9.5, 10.5, 9.5 + f, 9.5 + f};
        assert_int_equal(ct_transform_points(ctx, t, 4, px, py, NULL), CT_OK);
        for (int k = 0; k < 4; k++) {
            assert_true(px[k] >= out[0] - 0.5 && px[k] <= out[2] + 0.5);
            assert_true(py[k] >= out[1] - 0.5 && py[k] <= out[3] + 0.5);
        }
    }
    /* Tight: the box's south-west corner gives the west and south limits. */
    x = 105.0, y = 9.5;
    assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
    assert_true(fabs(out[0] - x) < 1.0);
    assert_true(fabs(out[1] - y) < 1.0);
    /* The north-east corner is north of the north-west one (TM parallels curve). */
    x = 106.0, y = 10.5;
    assert_int_equal(ct_transform_points(ctx, t, 1, &x, &y, NULL), CT_OK);
    assert_true(fabs(out[3] - y) < 1.0);

    /* in and out may be the same array; a projected box back to degrees. */
    ct_transform_free(t);
    t = tf_or_fail(ctx, z, g);
    box[0] = 570000, box[1] = 1090000, box[2] = 600000, box[3] = 1120000;
    assert_int_equal(ct_transform_bounds(ctx, t, box, box), CT_OK);
    assert_true(box[0] > 105.6 && box[0] < 105.7);
    assert_true(box[2] > 105.9 && box[2] < 106.0);
    assert_true(box[1] > 9.8 && box[3] < 10.2 && box[1] < box[3]);

    box[0] = 10, box[2] = 5;
    assert_int_equal(ct_transform_bounds(ctx, t, box, out), CT_ERR_INVALID);
    ct_transform_free(t);
    ct_crs_free(g);
    ct_crs_free(z);
}

/* ---------------------------------------------------------------------------------------- */
/* Threads: transformations built on one thread and used on several give the same numbers.   */

static void test_threads(void **state)
{
    ct_ctx *ctx = *state;
    enum { NT = 4, NP = 2000 };
    ct_crs *g = crs_or_fail(ctx, "EPSG:4326"), *z = crs_or_fail(ctx, "vn2000:105");
    ct_transform *t[NT];
    int bad = 0, i;

    for (i = 0; i < NT; i++)
        t[i] = tf_or_fail(ctx, g, z);
#pragma omp parallel for reduction(+ : bad)
    for (i = 0; i < NT; i++) {
        double x[NP], y[NP];
        int k;
        ct_ctx *tctx = ct_ctx_new(); /* a context per thread, as context.h asks */
        for (k = 0; k < NP; k++)
            x[k] = 105.7880, y[k] = 10.0340;
        if (!tctx || ct_transform_points(tctx, t[i], NP, x, y, NULL) != CT_OK)
            bad++;
        ct_ctx_free(tctx);
        for (k = 0; k < NP; k++)
            if (fabs(x[k] - 586184.8886) > MM || fabs(y[k] - 1109719.7144) > MM)
                bad++;
    }
    assert_int_equal(bad, 0);
    for (i = 0; i < NT; i++)
        ct_transform_free(t[i]);
    ct_crs_free(g);
    ct_crs_free(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_zone_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_wgs84_to_zones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_from_web_mercator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_epsg5897, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_zone_to_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_geographic_axis_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_vn2000_utm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_points_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_definitions_use_6960, setup, teardown),
        cmocka_unit_test_setup_teardown(test_definitions_replace_other_towgs84, setup, teardown),
        cmocka_unit_test_setup_teardown(test_definitions_same_datum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_display, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognise_custom_wgs84_prj, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognise_esri_vn2000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognise_proj_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognise_vn2000_datum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognise_negative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_uses_5194, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_uses_5194_after_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wkt_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clone_equal_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests_name("crs", tests, NULL, NULL);
}
