/*
 * gen-main.c — the sample-data generator: main(), the shared world model, wards, helpers.
 *
 * Usage: gen-samples OUTDIR   (make samples runs `build/gen-samples data-samples`)
 *
 * Determinism: no clock, no locale (the C locale is never changed), no hash-order
 * iteration; randomness from splitmix64 with fixed seeds. Files whose format stores a date (the
 * DBF header) get a fixed date patched in after writing.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "gen.h"

world W;
ct_ctx *CTX;
const char *OUTDIR;
json_object *KEY;

/* Along the Hậu bank (towards the SE) and across it (towards the river). */
const double U_DIR[2] = {0.593, -0.8052};
const double V_DIR[2] = {0.8052, 0.593};

/* ---------------------------------------------------------------------------------------- */
/* Random numbers                                                                            */

rng rng_new(uint64_t seed)
{
    rng r = {seed * 0x9E3779B97F4A7C15ull + 0x1234567ull};
    return r;
}

uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rng_unif(rng *r) { return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }
double rng_range(rng *r, double a, double b) { return a + (b - a) * rng_unif(r); }
int rng_int(rng *r, int n) { return (int)(rng_unif(r) * n); }

double rng_normal(rng *r)
{
    /* Box–Muller; one value per call is enough here */
    double u1 = rng_unif(r), u2 = rng_unif(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen-samples: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void check(ct_status st, const char *what)
{
    if (st != CT_OK)
        die("%s: %s (%s)", what, ct_ctx_errmsg(CTX), ct_strerror(st));
}

static void mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                die("%s: cannot create: %s", buf, strerror(errno));
            *p = '/';
        }
}

char *outpath(const char *rel)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", OUTDIR, rel);
    mkdirs(buf[k]);
    return buf[k];
}

FILE *out_open(const char *rel)
{
    FILE *f = fopen(outpath(rel), "wb");
    if (!f)
        die("%s: cannot write: %s", outpath(rel), strerror(errno));
    return f;
}

void out_close(FILE *f, const char *rel)
{
    if (ferror(f) | fclose(f))
        die("%s: write error", rel);
}

json_object *jnum(double v, int decimals)
{
    char s[64];
    snprintf(s, sizeof s, "%.*f", decimals, v);
    if (decimals == 0)
        return json_object_new_int64((int64_t)llround(v));
    return json_object_new_double_s(atof(s), s);
}

char *enc(ct_encoding e, const char *utf8)
{
    char *out = NULL;
    if (e == CT_ENC_UTF8)
        return strdup(utf8);
    check(ct_text_encode(CTX, e, utf8, &out, NULL), utf8);
    return out;
}

/* OGR stamps the DBF header (bytes 1-3: YY MM DD) with today's date; samples must not change
 * from one run to the next, so every DBF gets the same fixed date: 30 June 2019. */
void patch_dbf_date(const char *rel)
{
    FILE *f = fopen(outpath(rel), "r+b");
    if (!f)
        die("%s: cannot patch: %s", rel, strerror(errno));
    unsigned char d[3] = {119, 6, 30};
    if (fseek(f, 1, SEEK_SET) || fwrite(d, 1, 3, f) != 3)
        die("%s: cannot patch its date", rel);
    fclose(f);
}

/* The .prj as Vietnamese desktop software writes it for the Cần Thơ zone: a custom Transverse
 * Mercator on GCS_WGS_1984 (no datum shift stated) with k = 0.9999 and meridian 105°. ctgis must
 * recognise this as vn2000:105 (ct_crs_from_wkt); checked in main(). */
static const char PRJ_VN2000_105[] =
    "PROJCS[\"VN_2000_UTM_Zone_105_3do\",GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\","
    "SPHEROID[\"WGS_1984\",6378137.0,298.257223563]],PRIMEM[\"Greenwich\",0.0],"
    "UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
    "PARAMETER[\"False_Easting\",500000.0],PARAMETER[\"False_Northing\",0.0],"
    "PARAMETER[\"Central_Meridian\",105.0],PARAMETER[\"Scale_Factor\",0.9999],"
    "PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";

void write_prj_esri_vn2000(const char *rel_shp)
{
    char rel[1024];
    snprintf(rel, sizeof rel, "%.*s.prj", (int)(strlen(rel_shp) - 4), rel_shp);
    FILE *f = out_open(rel);
    fputs(PRJ_VN2000_105, f);
    out_close(f, rel);
}

ct_crs *crs_vn2000(void)
{
    static ct_crs *c;
    if (!c)
        check(ct_crs_from_user(CTX, "vn2000:105", &c), "vn2000:105");
    return c;
}

GEOSGeometry *geos_ring_polygon(const pt *p, int n, int close)
{
    GEOSContextHandle_t h = ct_geos(CTX);
    int m = n + (close ? 1 : 0);
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)m, 2);
    for (int i = 0; i < m; i++) {
        const pt *q = &p[i % n];
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, X0 + q->x, Y0 + q->y);
    }
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(h, cs);
    if (!ring)
        die("cannot make a ring of %d points", n);
    return GEOSGeom_createPolygon_r(h, ring, NULL, 0);
}

GEOSGeometry *geos_line(const pt *p, int n)
{
    GEOSContextHandle_t h = ct_geos(CTX);
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
    for (int i = 0; i < n; i++)
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, X0 + p[i].x, Y0 + p[i].y);
    return GEOSGeom_createLineString_r(h, cs);
}

/* ---------------------------------------------------------------------------------------- */
/* The world                                                                                 */

/* Hậu river SW bank: v = HAU_V0 + 30 sin(u / 900); the bank passes 170 m NE of the wharf. */
#define HAU_V0 6549.0

double hau_s(double x, double y)
{
    double u = x * U_DIR[0] + y * U_DIR[1], v = x * V_DIR[0] + y * V_DIR[1];
    return v - (HAU_V0 + 30.0 * sin(u / 900.0));
}

double ct_dist(double x, double y, double *hw, int *side)
{
    double best = 1e30, bhw = 0;
    int bside = 1;
    for (int i = 0; i + 1 < W.nct; i++) {
        pt a = W.ct[i], b = W.ct[i + 1];
        double dx = b.x - a.x, dy = b.y - a.y, L2 = dx * dx + dy * dy;
        double t = ((x - a.x) * dx + (y - a.y) * dy) / L2;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double px = a.x + t * dx - x, py = a.y + t * dy - y, d = sqrt(px * px + py * py);
        if (d < best) {
            best = d;
            bhw = W.ct_hw[i] + t * (W.ct_hw[i + 1] - W.ct_hw[i]);
            bside = (dx * (y - a.y) - dy * (x - a.x)) >= 0 ? 1 : -1;
        }
    }
    if (hw)
        *hw = bhw;
    if (side)
        *side = bside;
    return best;
}

double urbanity(double x, double y)
{
    int side;
    ct_dist(x, y, NULL, &side);
    if (side > 0) {
        /* Ninh Kiều: the old core behind the wharf, and Cái Khế/An Hòa along the Hậu */
        double d1 = hypot(x - 4750, y - 3850), d2 = hypot(x - 3700, y - 5050);
        double a = exp(-d1 * d1 / (1250.0 * 1250.0)), b = 0.85 * exp(-d2 * d2 / (950.0 * 950.0));
        return a > b ? a : b;
    }
    /* Cái Răng: Hưng Phú across the river from the wharf */
    double d3 = hypot(x - 4850, y - 2450);
    return 0.75 * exp(-d3 * d3 / (800.0 * 800.0));
}

int on_land(double x, double y, double keep)
{
    if (x < MARGIN + 5 || y < MARGIN + 5 || x > SIZE - MARGIN - 5 || y > SIZE - MARGIN - 5)
        return 0;
    if (hau_s(x, y) > -keep)
        return 0;
    double hw;
    return ct_dist(x, y, &hw, NULL) > hw + keep;
}

/* The Cần Thơ river: from the SW edge, meandering NE to its mouth on the Hậu just SE of the
 * Ninh Kiều wharf. */
static void build_ct_river(void)
{
    const pt A = {800, -150}, B = {5679, 3587};
    W.nct = 301;
    W.ct = calloc((size_t)W.nct, sizeof *W.ct);
    W.ct_hw = calloc((size_t)W.nct, sizeof *W.ct_hw);
    double dx = B.x - A.x, dy = B.y - A.y, L = hypot(dx, dy);
    double nx = -dy / L, ny = dx / L;
    for (int i = 0; i < W.nct; i++) {
        double t = (double)i / (W.nct - 1);
        double off = 230.0 * sin(2 * M_PI * 2.3 * t + 0.4) * pow(sin(M_PI * t), 0.6);
        W.ct[i].x = A.x + t * dx + off * nx;
        W.ct[i].y = A.y + t * dy + off * ny;
        W.ct_hw[i] = 95.0 + 45.0 * t;
    }
}

static unsigned char edge_kind(int line_mod, int major, int canal, double x, double y)
{
    if (!on_land(x, y, -40) || hau_s(x, y) > -5)
        return EDGE_NONE;
    double hw;
    if (ct_dist(x, y, &hw, NULL) < hw + 5)
        return EDGE_NONE;
    double urb = urbanity(x, y);
    if (line_mod == major)
        return EDGE_MAJOR_ROAD;
    if (line_mod == canal && urb < 0.5)
        return EDGE_CANAL;
    if (urb > 0.5)
        return EDGE_MINOR_ROAD;
    if (urb > 0.25)
        return (line_mod % 2) ? EDGE_MINOR_ROAD : EDGE_FIELD;
    return EDGE_FIELD;
}

void world_build(void)
{
    build_ct_river();
    rng r = rng_new(1);
    for (int i = 0; i < NI; i++)
        for (int j = 0; j < NJ; j++) {
            double u = (i + GI0) * 200.0, v = (j + GJ0) * 150.0;
            double x = u * U_DIR[0] + v * V_DIR[0], y = u * U_DIR[1] + v * V_DIR[1];
            /* smooth bends of the streets plus a little survey noise of each corner */
            x += 28.0 * sin(y / 700.0 + 0.3) + rng_range(&r, -7, 7);
            y += 22.0 * sin(x / 830.0 + 1.1) + rng_range(&r, -7, 7);
            W.node[i][j] = (pt){x, y};
        }
    for (int i = 0; i < NI; i++)
        for (int j = 0; j < NJ; j++) {
            int ii = i + GI0, jj = j + GJ0;
            if (i + 1 < NI) {
                pt a = W.node[i][j], b = W.node[i + 1][j];
                W.hedge[i][j] = edge_kind(((jj % 4) + 4) % 4, 0, 2, (a.x + b.x) / 2, (a.y + b.y) / 2);
            }
            if (j + 1 < NJ) {
                pt a = W.node[i][j], b = W.node[i][j + 1];
                W.vedge[i][j] = edge_kind(((ii % 6) + 6) % 6, 0, 3, (a.x + b.x) / 2, (a.y + b.y) / 2);
            }
        }
    for (int j = 0; j < NJ; j++)
        W.hname[j] = (j * 7 + 3) % NSTREETS;
    for (int i = 0; i < NI; i++)
        W.vname[i] = (i * 5 + 1) % NSTREETS;
}

/* ---------------------------------------------------------------------------------------- */
/* Wards: the units before 1 July 2025 (Ninh Kiều, Cái Răng and one commune of Phong Điền) and
 * the merged units after it. The names and codes are those of real units; the boundaries are
 * synthetic (Voronoi cells of a seed point per ward, cut by the rivers). */

const new_ward NEW_WARDS[] = {
    {"31135", "Phường Ninh Kiều"}, {"31117", "Phường Cái Khế"}, {"31149", "Phường Tân An"},
    {"31150", "Phường An Bình"},   {"31154", "Phường Hưng Phú"}, {"31153", "Phường Cái Răng"},
};
const int NNEW_WARDS = sizeof NEW_WARDS / sizeof NEW_WARDS[0];

const ward WARDS[] = {
    {"31117", "Cái Khế", "Phường", "Quận Ninh Kiều", 3500, 5500, 1, 1},
    {"31120", "An Hòa", "Phường", "Quận Ninh Kiều", 2500, 4950, 1, 1},
    {"31123", "Thới Bình", "Phường", "Quận Ninh Kiều", 3750, 4600, 1, 0},
    {"31126", "An Nghiệp", "Phường", "Quận Ninh Kiều", 4200, 4300, 1, 0},
    {"31129", "An Cư", "Phường", "Quận Ninh Kiều", 4650, 4150, 1, 0},
    {"31135", "Tân An", "Phường", "Quận Ninh Kiều", 5100, 3850, 1, 0},
    {"31138", "An Lạc", "Phường", "Quận Ninh Kiều", 4700, 3600, 1, 0},
    {"31141", "An Phú", "Phường", "Quận Ninh Kiều", 4150, 3750, 1, 0},
    {"31144", "Xuân Khánh", "Phường", "Quận Ninh Kiều", 3500, 3700, 1, 0},
    {"31147", "Hưng Lợi", "Phường", "Quận Ninh Kiều", 3100, 2900, 1, 2},
    {"31149", "An Khánh", "Phường", "Quận Ninh Kiều", 2500, 3900, 1, 2},
    {"31150", "An Bình", "Phường", "Quận Ninh Kiều", 1700, 2300, 1, 3},
    {"31309", "Mỹ Khánh", "Xã", "Huyện Phong Điền", 450, 3600, 1, 3},
    {"31153", "Lê Bình", "Phường", "Quận Cái Răng", 2600, 600, -1, 5},
    {"31157", "Hưng Thạnh", "Phường", "Quận Cái Răng", 3900, 1100, -1, 5},
    {"31154", "Hưng Phú", "Phường", "Quận Cái Răng", 4900, 2200, -1, 4},
    {"31168", "Tân Phú", "Phường", "Quận Cái Răng", 5700, 1400, -1, 4},
};
const int NWARDS = sizeof WARDS / sizeof WARDS[0];

int ward_at(double x, double y)
{
    if (hau_s(x, y) > 0)
        return -1;
    int side, best = -1;
    double hw, bd = 1e30;
    if (ct_dist(x, y, &hw, &side) < hw)
        return -1;
    for (int i = 0; i < NWARDS; i++)
        if (WARDS[i].side == side) {
            double d = hypot(x - WARDS[i].sx, y - WARDS[i].sy);
            if (d < bd)
                bd = d, best = i;
        }
    return best;
}

const char *const STREETS[] = {
    "Trần Hưng Đạo", "Nguyễn Trãi", "Hòa Bình", "30 Tháng 4", "Mậu Thân", "Nguyễn Văn Cừ",
    "3 Tháng 2", "Lý Tự Trọng", "Phan Đình Phùng", "Hai Bà Trưng", "Nguyễn Văn Linh",
    "Trần Văn Khéo", "Cách Mạng Tháng 8", "Võ Văn Kiệt", "Trần Phú", "Lê Hồng Phong",
    "Nguyễn An Ninh", "Đề Thám", "Hùng Vương", "Trần Quang Diệu", "Lê Bình", "Quang Trung",
};
const int NSTREETS = sizeof STREETS / sizeof STREETS[0];

/* A polygon of everything NE of the Hậu bank (the river and the far, Vĩnh Long, bank). */
static GEOSGeometry *hau_polygon(void)
{
    enum { N = 241 };
    pt p[N + 2];
    for (int k = 0; k < N; k++) {
        double u = -7000 + k * 50.0, v = HAU_V0 + 30.0 * sin(u / 900.0);
        p[k] = (pt){u * U_DIR[0] + v * V_DIR[0], u * U_DIR[1] + v * V_DIR[1]};
    }
    double u1 = -7000 + (N - 1) * 50.0, u0 = -7000, v = HAU_V0 + 20000;
    p[N] = (pt){u1 * U_DIR[0] + v * V_DIR[0], u1 * U_DIR[1] + v * V_DIR[1]};
    p[N + 1] = (pt){u0 * U_DIR[0] + v * V_DIR[0], u0 * U_DIR[1] + v * V_DIR[1]};
    return geos_ring_polygon(p, N + 2, 1);
}

/* The Cần Thơ river as a polygon (both banks), extended at its SW end beyond the window. */
static GEOSGeometry *ct_polygon(void)
{
    int n = W.nct;
    pt *p = calloc((size_t)(2 * n), sizeof *p);
    for (int i = 0; i < n; i++) {
        int a = i > 0 ? i - 1 : 0, b = i + 1 < n ? i + 1 : n - 1;
        double dx = W.ct[b].x - W.ct[a].x, dy = W.ct[b].y - W.ct[a].y, L = hypot(dx, dy);
        double nx = -dy / L, ny = dx / L, hw = W.ct_hw[i];
        p[i] = (pt){W.ct[i].x + hw * nx, W.ct[i].y + hw * ny};
        p[2 * n - 1 - i] = (pt){W.ct[i].x - hw * nx, W.ct[i].y - hw * ny};
    }
    GEOSGeometry *g = geos_ring_polygon(p, 2 * n, 1);
    free(p);
    GEOSContextHandle_t h = ct_geos(CTX);
    GEOSGeometry *v = GEOSMakeValid_r(h, g);
    GEOSGeom_destroy_r(h, g);
    return v;
}

GEOSGeometry *land_side(int side); /* also used by the planning zones */

/* The city's land in the window on one side of the Cần Thơ river. */
GEOSGeometry *land_side(int side)
{
    static GEOSGeometry *cache[2];
    GEOSContextHandle_t h = ct_geos(CTX);
    if (cache[side > 0])
        return cache[side > 0];
    pt box[4] = {{0, 0}, {SIZE, 0}, {SIZE, SIZE}, {0, SIZE}};
    GEOSGeometry *b = geos_ring_polygon(box, 4, 1), *hp = hau_polygon(), *cp = ct_polygon();
    GEOSGeometry *l1 = GEOSDifference_r(h, b, hp), *l2 = GEOSDifference_r(h, l1, cp);
    GEOSGeom_destroy_r(h, b), GEOSGeom_destroy_r(h, hp), GEOSGeom_destroy_r(h, cp), GEOSGeom_destroy_r(h, l1);
    /* keep the parts whose inside point is on the requested side */
    int n = GEOSGetNumGeometries_r(h, l2);
    GEOSGeometry **keep = calloc((size_t)n, sizeof *keep);
    int nk = 0;
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(h, l2, i);
        GEOSGeometry *ps = GEOSPointOnSurface_r(h, part);
        double x, y;
        GEOSGeomGetX_r(h, ps, &x), GEOSGeomGetY_r(h, ps, &y);
        GEOSGeom_destroy_r(h, ps);
        int s;
        ct_dist(x - X0, y - Y0, NULL, &s);
        if (s == side)
            keep[nk++] = GEOSGeom_clone_r(h, part);
    }
    GEOSGeom_destroy_r(h, l2);
    cache[side > 0] = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, keep, (unsigned)nk);
    free(keep);
    return cache[side > 0];
}

void gen_wards(void)
{
    GEOSContextHandle_t h = ct_geos(CTX);
    GEOSGeometry *cells[32] = {0};
    for (int side = -1; side <= 1; side += 2) {
        GEOSGeometry *pts[32];
        int idx[32], n = 0;
        for (int i = 0; i < NWARDS; i++)
            if (WARDS[i].side == side) {
                int s;
                ct_dist(WARDS[i].sx, WARDS[i].sy, NULL, &s);
                if (s != side)
                    die("ward %s: its seed is on the wrong side of the Cần Thơ river", WARDS[i].name);
                GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 1, 2);
                GEOSCoordSeq_setXY_r(h, cs, 0, X0 + WARDS[i].sx, Y0 + WARDS[i].sy);
                idx[n] = i;
                pts[n++] = GEOSGeom_createPoint_r(h, cs);
            }
        GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOINT, pts, (unsigned)n);
        GEOSGeometry *land = land_side(side);
        GEOSGeometry *vor = GEOSVoronoiDiagram_r(h, mp, land, 0.0, 0);
        for (int c = 0; c < GEOSGetNumGeometries_r(h, vor); c++) {
            const GEOSGeometry *cell = GEOSGetGeometryN_r(h, vor, c);
            for (int k = 0; k < n; k++)
                if (GEOSContains_r(h, cell, GEOSGetGeometryN_r(h, mp, k)) == 1)
                    cells[idx[k]] = GEOSIntersection_r(h, cell, land);
        }
        GEOSGeom_destroy_r(h, vor);
        GEOSGeom_destroy_r(h, mp);
    }

    json_object *kw = json_object_new_object(), *kold = json_object_new_array(),
                *knew = json_object_new_array();
    /* before 1 July 2025 */
    ct_field_def f_old[] = {
        {"MaPX", CT_FIELD_STRING, 5, 0},     {"TenPX", CT_FIELD_STRING, 40, 0},
        {"Cap", CT_FIELD_STRING, 10, 0},     {"QuanHuyen", CT_FIELD_STRING, 40, 0},
        {"MaPX2025", CT_FIELD_STRING, 5, 0}, {"DienTich", CT_FIELD_REAL, 14, 1},
    };
    ct_vsink_opts o = {.layer = "wards_2024", .gtype = CT_GEOM_MULTIPOLYGON, .crs = crs_vn2000(),
                       .fields = f_old, .nfields = 6, .text_encoding = CT_ENC_UTF8};
    ct_vsink *s;
    check(ct_vsink_create(CTX, outpath("admin/wards-2024.shp"), &o, &s), "admin/wards-2024.shp");
    FILE *cw = out_open("admin/ward-crosswalk.csv");
    fputs("old_code,old_name,old_district,new_code,new_name,area_share,area_m2\n", cw);
    double new_area[16] = {0};
    for (int i = 0; i < NWARDS; i++) {
        if (!cells[i])
            die("ward %s: no Voronoi cell", WARDS[i].name);
        GEOSGeometry *mp = cells[i];
        if (GEOSGeomTypeId_r(h, mp) == GEOS_POLYGON) {
            GEOSGeometry *one = GEOSGeom_clone_r(h, mp);
            mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, &one, 1);
            GEOSGeom_destroy_r(h, cells[i]);
            cells[i] = mp;
        }
        double a;
        GEOSArea_r(h, mp, &a);
        new_area[WARDS[i].merged] += a;
        char name[96], area[32];
        snprintf(name, sizeof name, "%s %s", WARDS[i].level, WARDS[i].name);
        snprintf(area, sizeof area, "%.1f", a);
        const char *v[] = {WARDS[i].code, name, WARDS[i].level, WARDS[i].district,
                           NEW_WARDS[WARDS[i].merged].code, area};
        check(ct_vsink_write(CTX, s, mp, v), "wards-2024");
        fprintf(cw, "%s,%s,%s,%s,%s,1.0,%.1f\n", WARDS[i].code, name, WARDS[i].district,
                NEW_WARDS[WARDS[i].merged].code, NEW_WARDS[WARDS[i].merged].name, a);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(WARDS[i].code));
        json_object_object_add(e, "name", json_object_new_string(name));
        json_object_object_add(e, "new_code", json_object_new_string(NEW_WARDS[WARDS[i].merged].code));
        json_object_object_add(e, "area_m2", jnum(a, 1));
        json_object_array_add(kold, e);
    }
    check(ct_vsink_commit(CTX, s), "admin/wards-2024.shp");
    patch_dbf_date("admin/wards-2024.dbf");
    out_close(cw, "admin/ward-crosswalk.csv");

    /* after 1 July 2025: the union of each group */
    ct_field_def f_new[] = {
        {"MaPX", CT_FIELD_STRING, 5, 0}, {"TenPX", CT_FIELD_STRING, 40, 0},
        {"ThanhPho", CT_FIELD_STRING, 40, 0}, {"DienTich", CT_FIELD_REAL, 14, 1},
    };
    o.layer = "wards_2025", o.fields = f_new, o.nfields = 4;
    check(ct_vsink_create(CTX, outpath("admin/wards-2025.shp"), &o, &s), "admin/wards-2025.shp");
    for (int k = 0; k < NNEW_WARDS; k++) {
        GEOSGeometry *parts[32];
        int n = 0;
        json_object *from = json_object_new_array();
        for (int i = 0; i < NWARDS; i++)
            if (WARDS[i].merged == k) {
                parts[n++] = GEOSGeom_clone_r(h, cells[i]);
                json_object_array_add(from, json_object_new_string(WARDS[i].code));
            }
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
        GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
        GEOSGeom_destroy_r(h, coll);
        if (GEOSGeomTypeId_r(h, u) == GEOS_POLYGON) {
            GEOSGeometry *one = u;
            u = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, &one, 1);
        }
        char area[32];
        snprintf(area, sizeof area, "%.1f", new_area[k]);
        const char *v[] = {NEW_WARDS[k].code, NEW_WARDS[k].name, "Thành phố Cần Thơ", area};
        check(ct_vsink_write(CTX, s, u, v), "wards-2025");
        GEOSGeom_destroy_r(h, u);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(NEW_WARDS[k].code));
        json_object_object_add(e, "name", json_object_new_string(NEW_WARDS[k].name));
        json_object_object_add(e, "from", from);
        json_object_array_add(knew, e);
    }
    check(ct_vsink_commit(CTX, s), "admin/wards-2025.shp");
    patch_dbf_date("admin/wards-2025.dbf");
    for (int i = 0; i < NWARDS; i++)
        GEOSGeom_destroy_r(h, cells[i]);

    json_object_object_add(kw, "wards_2024_file", json_object_new_string("admin/wards-2024.shp"));
    json_object_object_add(kw, "wards_2024_count", json_object_new_int(NWARDS));
    json_object_object_add(kw, "wards_2024", kold);
    json_object_object_add(kw, "wards_2025_file", json_object_new_string("admin/wards-2025.shp"));
    json_object_object_add(kw, "wards_2025_count", json_object_new_int(NNEW_WARDS));
    json_object_object_add(kw, "wards_2025", knew);
    json_object_object_add(kw, "crosswalk_file", json_object_new_string("admin/ward-crosswalk.csv"));
    json_object_object_add(kw, "crosswalk_rows", json_object_new_int(NWARDS));
    json_object_object_add(KEY, "admin", kw);
}

/* ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-samples OUTDIR\n");
        return 2;
    }
    OUTDIR = argv[1];
    CTX = ct_ctx_new();
    if (!CTX)
        die("out of memory");
    ct_ctx_set_threads(CTX, 1);
    KEY = json_object_new_object();
    json_object_object_add(KEY, "about", json_object_new_string(
        "Answer key of the synthetic Can Tho sample dataset, written by data-samples/gen-*.c. "
        "Coordinates are VN-2000 TM-3 105-00 (vn2000:105) unless a file says otherwise; "
        "feature indices are 0-based in file order (OGR FID of shapefiles)."));

    /* The .prj we write must be recognised as the 105°00′ zone: stop if it is not. */
    ct_crs *c = NULL;
    if (ct_crs_from_wkt(CTX, PRJ_VN2000_105, &c) != CT_OK)
        fprintf(stderr, "gen-samples: warning: ct_crs_from_wkt rejects the ESRI .prj: %s\n", ct_ctx_errmsg(CTX));
    else if (!ct_crs_vn2000_zone(c) || ct_crs_vn2000_zone(c)->meridian != 105.0)
        fprintf(stderr, "gen-samples: warning: the ESRI .prj is not recognised as vn2000:105 (%s)\n", ct_crs_name(c));
    ct_crs_free(c);

    world_build();
    fprintf(stderr, "gen-samples: wards\n");
    gen_wards();
    fprintf(stderr, "gen-samples: dikes\n");
    gen_dikes_plan();
    gen_dikes();
    fprintf(stderr, "gen-samples: DEM\n");
    gen_dem();
    fprintf(stderr, "gen-samples: cadastre\n");
    gen_cadastre();
    fprintf(stderr, "gen-samples: flood inputs\n");
    gen_flood();

    FILE *f = out_open("answer-key.json");
    fputs(json_object_to_json_string_ext(KEY, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                  JSON_C_TO_STRING_NOSLASHESCAPE), f);
    fputc('\n', f);
    out_close(f, "answer-key.json");
    json_object_put(KEY);
    ct_crs_free(crs_vn2000());
    ct_ctx_free(CTX);
    return 0;
}
