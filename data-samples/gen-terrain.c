/*
 * gen-terrain.c — the DEM (5 m COG, an ESRI ASCII subset, an XYZ survey) and the dikes.
 *
 * Heights are metres above the Hòn Dấu datum. The surface is built in layers, each applied on
 * top of the previous one, in the order a hydrologist would reason about it: natural ground
 * (fields low, the old urban core filled higher), roads raised on embankments, canals cut in,
 * dikes raised along the rivers (except where breached), then the river beds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <cpl_string.h>
#include "ct/raster.h"
#include "gen.h"

#define CELL 5.0
#define NC ((int)(SIZE / CELL))
#define NODATA (-9999.0f)

dike *DIKES;
int NDIKES;

static float *Z;    /* the final DEM, row 0 = north */
static float *ZB;   /* natural ground, before roads/canals/dikes */

/* ---------------------------------------------------------------------------------------- */
/* Smooth value noise, deterministic (hash of the lattice point, no state). */

static double lattice(int ix, int iy, uint64_t seed)
{
    rng r = rng_new(seed ^ ((uint64_t)(uint32_t)ix << 32) ^ (uint32_t)iy);
    return rng_unif(&r) * 2 - 1;
}

static double vnoise(double x, double y, uint64_t seed)
{
    int ix = (int)floor(x), iy = (int)floor(y);
    double fx = x - ix, fy = y - iy;
    fx = fx * fx * (3 - 2 * fx), fy = fy * fy * (3 - 2 * fy);
    double a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
    double c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
    return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
}

static double fbm(double x, double y, double scale, uint64_t seed)
{
    double s = 0, amp = 0.5;
    for (int o = 0; o < 4; o++, amp *= 0.5, scale *= 0.5)
        s += amp * vnoise(x / scale, y / scale, seed + (uint64_t)o);
    return s / 0.9375; /* about -1 .. 1 */
}

static double smoothstep(double a, double b, double x)
{
    double t = (x - a) / (b - a);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

/* ---------------------------------------------------------------------------------------- */
/* Dikes: an embankment 12 m inland of the Hậu bank and a bank dike on each side of the Cần
 * Thơ river, cut into stretches of 300-600 m with their crest heights. A few stretches are
 * planted low (crest below BĐ III) or breached (no crest at all). */

static void add_dike(const pt *p, int n, const char *name, rng *r)
{
    if (n < 2)
        return;
    DIKES = realloc(DIKES, (size_t)(NDIKES + 1) * sizeof *DIKES);
    dike *d = &DIKES[NDIKES];
    memset(d, 0, sizeof *d);
    d->p = malloc((size_t)n * sizeof *p);
    memcpy(d->p, p, (size_t)n * sizeof *p);
    d->n = n;
    d->name = name;
    d->crest = floor(rng_range(r, 1.95, 2.45) * 100 + 0.5) / 100;
    snprintf(d->id, sizeof d->id, "D%03d", NDIKES + 1);
    NDIKES++;
}

/* Splits a polyline sampled every 10 m into stretches, dropping the points that fail keep(). */
static void split_stretches(const pt *p, const int *ok, int n, const char *name, rng *r)
{
    int i = 0;
    while (i < n) {
        while (i < n && !ok[i])
            i++;
        int start = i;
        int len = 30 + rng_int(r, 30); /* 300-600 m */
        while (i < n && ok[i] && i - start < len)
            i++;
        if (i - start >= 5) {
            add_dike(p + start, i - start, name, r);
            if (i < n && ok[i])
                i--; /* stretches share their end points */
        }
    }
}

/* Cuts a 40-70 m breach out of the middle of stretch i: i becomes [sound][breach][sound]. */
static void split_breach(int i)
{
    dike d = DIKES[i];
    int m = d.n / 2, w = 2;
    while (m + w < d.n - 2 && hypot(d.p[m + w].x - d.p[m].x, d.p[m + w].y - d.p[m].y) < 40)
        w++;
    DIKES = realloc(DIKES, (size_t)(NDIKES + 2) * sizeof *DIKES);
    memmove(&DIKES[i + 3], &DIKES[i + 1], (size_t)(NDIKES - i - 1) * sizeof *DIKES);
    NDIKES += 2;
    dike parts[3] = {d, d, d};
    int from[3] = {0, m, m + w}, to[3] = {m, m + w, d.n - 1};
    for (int k = 0; k < 3; k++) {
        parts[k].n = to[k] - from[k] + 1;
        parts[k].p = malloc((size_t)parts[k].n * sizeof *d.p);
        memcpy(parts[k].p, d.p + from[k], (size_t)parts[k].n * sizeof *d.p);
        DIKES[i + k] = parts[k];
    }
    DIKES[i + 1].state = 2;
    free(d.p);
}

void gen_dikes_plan(void)
{
    rng r = rng_new(7);
    enum { N = 1400 };
    pt *p = malloc(N * sizeof *p);
    int *ok = malloc(N * sizeof *ok);
    /* the Hậu embankment: follow the bank 12 m inland */
    for (int k = 0; k < N; k++) {
        double u = -6000 + k * 10.0, v = 6549.0 + 30.0 * sin(u / 900.0) - 12.0;
        p[k] = (pt){u * U_DIR[0] + v * V_DIR[0], u * U_DIR[1] + v * V_DIR[1]};
        double hw;
        ok[k] = p[k].x > MARGIN && p[k].y > MARGIN && p[k].x < SIZE - MARGIN && p[k].y < SIZE - MARGIN &&
                ct_dist(p[k].x, p[k].y, &hw, NULL) > hw + 8;
    }
    split_stretches(p, ok, N, "Kè sông Hậu", &r);
    /* the Cần Thơ river: both banks, 12 m outside the bank line */
    for (int side = 1; side >= -1; side -= 2) {
        int n = 0;
        for (int i = 0; i < W.nct && n < N; i++) {
            int a = i > 0 ? i - 1 : 0, b = i + 1 < W.nct ? i + 1 : W.nct - 1;
            double dx = W.ct[b].x - W.ct[a].x, dy = W.ct[b].y - W.ct[a].y, L = hypot(dx, dy);
            double off = side * (W.ct_hw[i] + 12.0);
            p[n] = (pt){W.ct[i].x - dy / L * off, W.ct[i].y + dx / L * off};
            ok[n] = p[n].x > MARGIN && p[n].y > MARGIN && p[n].x < SIZE - MARGIN && p[n].y < SIZE - MARGIN &&
                    hau_s(p[n].x, p[n].y) < -8;
            n++;
        }
        split_stretches(p, ok, n, side > 0 ? "Đê bao sông Cần Thơ (bờ Ninh Kiều)" : "Đê bao sông Cần Thơ (bờ Cái Răng)", &r);
    }
    free(p), free(ok);
    /* Planted weak points, where they matter: in the fields, whose ground lies below the
     * alarm levels (in town the ground behind the dike is often higher than a low crest).
     * Four low stretches (crest below BĐ I), two breaches (no crest at all in the DEM). */
    int nlow = 0, nbr = 0, last = -9;
    for (int i = 1; i < NDIKES && (nlow < 4 || nbr < 2); i++) {
        pt m = DIKES[i].p[DIKES[i].n / 2];
        if (urbanity(m.x, m.y) > 0.2 || i < last + 2)
            continue;
        last = i;
        if (nbr < 2 && (nlow + nbr) % 3 == 1) {
            split_breach(i);
            i += 2;
            last = i;
            nbr++;
        } else if (nlow < 4) {
            DIKES[i].state = 1;
            DIKES[i].crest = floor(rng_range(&r, 1.55, 1.75) * 100 + 0.5) / 100;
            nlow++;
        }
    }
    if (nlow < 4 || nbr < 2)
        die("dikes: not enough rural stretches for the weak points");
    for (int i = 0; i < NDIKES; i++)
        snprintf(DIKES[i].id, sizeof DIKES[i].id, "D%03d", i + 1);
}

void gen_dikes(void)
{
    ct_field_def f[] = {
        {"MaDe", CT_FIELD_STRING, 6, 0},     {"Ten", CT_FIELD_STRING, 60, 0},
        {"CaoTrinh", CT_FIELD_REAL, 6, 2},   {"TrangThai", CT_FIELD_STRING, 10, 0},
        {"ChieuDai", CT_FIELD_REAL, 8, 1},
    };
    ct_vsink_opts o = {.layer = "dikes", .gtype = CT_GEOM_LINE, .crs = crs_vn2000(),
                       .fields = f, .nfields = 5, .text_encoding = CT_ENC_UTF8};
    ct_vsink *s;
    check(ct_vsink_create(CTX, outpath("dikes/dikes.shp"), &o, &s), "dikes/dikes.shp");
    json_object *k = json_object_new_object(), *weak = json_object_new_array();
    GEOSContextHandle_t h = ct_geos(CTX);
    for (int i = 0; i < NDIKES; i++) {
        dike *d = &DIKES[i];
        double len = 0;
        for (int j = 1; j < d->n; j++)
            len += hypot(d->p[j].x - d->p[j - 1].x, d->p[j].y - d->p[j - 1].y);
        char crest[16], ls[16];
        /* A breach keeps the crest the dike was designed with in the register; the DEM shows
         * the ground instead. */
        snprintf(crest, sizeof crest, "%.2f", d->crest);
        snprintf(ls, sizeof ls, "%.1f", len);
        static const char *const state[] = {"tốt", "thấp", "vỡ"};
        const char *v[] = {d->id, d->name, crest, state[d->state], ls};
        GEOSGeometry *g = geos_line(d->p, d->n);
        check(ct_vsink_write(CTX, s, g, v), "dikes");
        GEOSGeom_destroy_r(h, g);
        if (d->state) {
            json_object *e = json_object_new_object();
            int m = d->n / 2;
            json_object_object_add(e, "index", json_object_new_int(i));
            json_object_object_add(e, "id", json_object_new_string(d->id));
            json_object_object_add(e, "kind", json_object_new_string(d->state == 1 ? "low_crest" : "breach"));
            json_object_object_add(e, "crest_m", jnum(d->crest, 2));
            json_object_object_add(e, "length_m", jnum(len, 1));
            json_object_object_add(e, "mid_x", jnum(X0 + d->p[m].x, 2));
            json_object_object_add(e, "mid_y", jnum(Y0 + d->p[m].y, 2));
            json_object_array_add(weak, e);
        }
    }
    check(ct_vsink_commit(CTX, s), "dikes/dikes.shp");
    patch_dbf_date("dikes/dikes.dbf");
    json_object_object_add(k, "file", json_object_new_string("dikes/dikes.shp"));
    json_object_object_add(k, "feature_count", json_object_new_int(NDIKES));
    json_object_object_add(k, "crest_range_m", json_object_new_string("1.95-2.45 for sound stretches"));
    json_object_object_add(k, "weak_stretches", weak);
    json_object_object_add(KEY, "dikes", k);
}

/* ---------------------------------------------------------------------------------------- */
/* The DEM                                                                                   */

/* Applies fn to every cell within r metres of segment a-b, with the distance. */
#define FOR_CELLS_NEAR(a, b, R, body)                                                      \
    do {                                                                                   \
        double mnx_ = fmin((a).x, (b).x) - (R), mxx_ = fmax((a).x, (b).x) + (R);           \
        double mny_ = fmin((a).y, (b).y) - (R), mxy_ = fmax((a).y, (b).y) + (R);           \
        int c0_ = (int)floor(mnx_ / CELL), c1_ = (int)ceil(mxx_ / CELL);                   \
        int r0_ = (int)floor((SIZE - mxy_) / CELL), r1_ = (int)ceil((SIZE - mny_) / CELL); \
        double dx_ = (b).x - (a).x, dy_ = (b).y - (a).y, L2_ = dx_ * dx_ + dy_ * dy_;      \
        for (int row = r0_ < 0 ? 0 : r0_; row <= r1_ && row < NC; row++)                  \
            for (int col = c0_ < 0 ? 0 : c0_; col <= c1_ && col < NC; col++) {             \
                double cx = (col + 0.5) * CELL, cy = SIZE - (row + 0.5) * CELL;            \
                double t_ = L2_ > 0 ? ((cx - (a).x) * dx_ + (cy - (a).y) * dy_) / L2_ : 0; \
                t_ = t_ < 0 ? 0 : t_ > 1 ? 1 : t_;                                         \
                double dist = hypot((a).x + t_ * dx_ - cx, (a).y + t_ * dy_ - cy);         \
                if (dist > (R))                                                            \
                    continue;                                                              \
                size_t k = (size_t)row * NC + (size_t)col;                                 \
                body;                                                                      \
            }                                                                              \
    } while (0)

typedef struct pit { double x, y, depth, sigma; } pit;
static pit PITS[6];

double dem_at(double x, double y); /* bilinear, used by the survey and the key */
double dem_at(double x, double y)
{
    double fc = x / CELL - 0.5, fr = (SIZE - y) / CELL - 0.5;
    int c = (int)floor(fc), r = (int)floor(fr);
    if (c < 0 || r < 0 || c + 1 >= NC || r + 1 >= NC)
        return NODATA;
    double tx = fc - c, ty = fr - r;
    float a = Z[(size_t)r * NC + c], b = Z[(size_t)r * NC + c + 1];
    float cc = Z[(size_t)(r + 1) * NC + c], d = Z[(size_t)(r + 1) * NC + c + 1];
    if (a == NODATA || b == NODATA || cc == NODATA || d == NODATA)
        return NODATA;
    return (a * (1 - tx) + b * tx) * (1 - ty) + (cc * (1 - tx) + d * tx) * ty;
}

static double cell_value(double x, double y)
{
    int c = (int)(x / CELL), r = (int)((SIZE - y) / CELL);
    return Z[(size_t)r * NC + c];
}

static void dem_ground(void)
{
    for (int row = 0; row < NC; row++)
        for (int col = 0; col < NC; col++) {
            double x = (col + 0.5) * CELL, y = SIZE - (row + 0.5) * CELL;
            double w = smoothstep(0.3, 0.65, urbanity(x, y));
            /* fields and floodplain 0.3-1.2 m, the filled urban core 1.4-2.3 m */
            double rural = 0.72 + 0.38 * fbm(x, y, 900, 100) + 0.04 * fbm(x, y, 60, 200);
            double urban = 1.82 + 0.36 * fbm(x, y, 700, 300) + 0.04 * fbm(x, y, 50, 400);
            double z = rural * (1 - w) + urban * w;
            if (hau_s(x, y) > HAU_WIDTH) /* the far (Vĩnh Long) bank: fields */
                z = rural;
            ZB[(size_t)row * NC + col] = (float)z;
        }
}

static void dem_depressions(void)
{
    /* closed hollows: old ponds and borrow pits, in fields and in town */
    static const pt at[6] = {{1200, 1700}, {900, 4300}, {2300, 2300}, {3050, 4150}, {4000, 1500}, {1800, 3300}};
    rng r = rng_new(13);
    for (int i = 0; i < 6; i++) {
        PITS[i] = (pit){at[i].x, at[i].y, rng_range(&r, 0.6, 1.1), rng_range(&r, 25, 45)};
        pt c = {at[i].x, at[i].y};
        double R = PITS[i].sigma * 3;
        FOR_CELLS_NEAR(c, c, R, {
            ZB[k] -= (float)(PITS[i].depth * exp(-dist * dist / (PITS[i].sigma * PITS[i].sigma)));
        });
    }
}

static void dem_roads_canals(void)
{
    rng r = rng_new(17);
    double canal_bed[NI > NJ ? NI : NJ][2];
    for (int i = 0; i < (NI > NJ ? NI : NJ); i++)
        canal_bed[i][0] = -1.0 - 2.0 * rng_unif(&r), canal_bed[i][1] = -1.0 - 2.0 * rng_unif(&r);
    /* roads first: a canal that crosses a road passes under a bridge */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < NI; i++)
            for (int j = 0; j < NJ; j++)
                for (int dir = 0; dir < 2; dir++) {
                    if ((dir == 0 && i + 1 >= NI) || (dir == 1 && j + 1 >= NJ))
                        continue;
                    int kind = dir == 0 ? W.hedge[i][j] : W.vedge[i][j];
                    pt a = W.node[i][j], b = dir == 0 ? W.node[i + 1][j] : W.node[i][j + 1];
                    if (pass == 0 && (kind == EDGE_MAJOR_ROAD || kind == EDGE_MINOR_ROAD)) {
                        double hw = kind == EDGE_MAJOR_ROAD ? 7.0 : 3.5, up = kind == EDGE_MAJOR_ROAD ? 0.55 : 0.35;
                        FOR_CELLS_NEAR(a, b, hw + 4, {
                            double f = dist <= hw ? 1.0 : 1.0 - (dist - hw) / 4.0;
                            float zz = (float)(ZB[k] + up * f);
                            if (zz > Z[k])
                                Z[k] = zz;
                        });
                    } else if (pass == 1 && kind == EDGE_CANAL) {
                        double bed = canal_bed[dir == 0 ? j : i][dir];
                        FOR_CELLS_NEAR(a, b, 9.0, {
                            double zz = dist <= 4 ? bed : bed + (ZB[k] - bed) * (dist - 4) / 5.0;
                            if (zz < Z[k])
                                Z[k] = (float)zz;
                        });
                    }
                }
}

static void dem_dikes(void)
{
    for (int i = 0; i < NDIKES; i++) {
        if (DIKES[i].state == 2)
            continue; /* breached: the ground shows through */
        for (int j = 1; j < DIKES[i].n; j++) {
            pt a = DIKES[i].p[j - 1], b = DIKES[i].p[j];
            double crest = DIKES[i].crest;
            FOR_CELLS_NEAR(a, b, 7.0, {
                double zz = dist <= 3 ? crest : crest - (crest - ZB[k]) * (dist - 3) / 4.0;
                if (zz > Z[k])
                    Z[k] = (float)zz;
            });
        }
    }
}

static void dem_rivers(void)
{
    for (int row = 0; row < NC; row++)
        for (int col = 0; col < NC; col++) {
            double x = (col + 0.5) * CELL, y = SIZE - (row + 0.5) * CELL;
            size_t k = (size_t)row * NC + col;
            double s = hau_s(x, y);
            if (s > -2 && s < HAU_WIDTH + 2) {
                /* the Hậu: banks falling to -8 m within 60 m, a thalweg at -15 m */
                double d = fmin(s, HAU_WIDTH - s), z;
                if (d < 60)
                    z = 0.4 - 8.4 * smoothstep(-2, 60, d);
                else
                    z = -8.0 - 7.0 * pow(sin(M_PI * (s - 60) / (HAU_WIDTH - 120)), 1.5);
                if (z < Z[k])
                    Z[k] = (float)z;
            }
            double hw;
            double d = ct_dist(x, y, &hw, NULL);
            if (d < hw + 2) {
                /* bed deepening towards the mouth: -5 m upstream, -7.5 m at the Hậu */
                double t = (hw - 95.0) / 45.0, bed = -5.0 - 2.5 * t, f = d / hw;
                double z = f >= 1 ? 0.3 : 0.3 + (bed - 0.3) * (1 - f * f);
                if (z < Z[k])
                    Z[k] = (float)z;
            }
        }
}

static void write_asc_subset(json_object *k)
{
    /* 1 km × 1 km around the Cần Thơ river mouth and the wharf: town, river, dikes */
    const int c0 = 860, r0 = 340, n = 200;
    GDALAllRegister();
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", n, n, 1, GDT_Float32, NULL);
    double gt[6] = {X0 + c0 * CELL, CELL, 0, Y0 + SIZE - r0 * CELL, 0, -CELL};
    GDALSetGeoTransform(mem, gt);
    GDALSetProjection(mem, ct_crs_wkt(crs_vn2000()));
    GDALRasterBandH b = GDALGetRasterBand(mem, 1);
    GDALSetRasterNoDataValue(b, NODATA);
    float *buf = malloc((size_t)n * n * sizeof *buf);
    for (int r = 0; r < n; r++)
        memcpy(buf + (size_t)r * n, Z + (size_t)(r0 + r) * NC + c0, (size_t)n * sizeof *buf);
    if (GDALRasterIO(b, GF_Write, 0, 0, n, n, buf, n, n, GDT_Float32, 0, 0) != CE_None)
        die("MEM raster write failed");
    char **opt = CSLSetNameValue(NULL, "DECIMAL_PRECISION", "3");
    GDALDatasetH out = GDALCreateCopy(GDALGetDriverByName("AAIGrid"), outpath("dem/dem-subset-5m.asc"), mem, FALSE, opt, NULL, NULL);
    CSLDestroy(opt);
    if (!out)
        die("dem/dem-subset-5m.asc: %s", CPLGetLastErrorMsg());
    GDALClose(out);
    GDALClose(mem);
    free(buf);
    /* GDAL writes an .aux.xml for the nodata of a Float32 band in some versions: not wanted */
    remove(outpath("dem/dem-subset-5m.asc.aux.xml"));
    json_object *a = json_object_new_object();
    json_object_object_add(a, "file", json_object_new_string("dem/dem-subset-5m.asc"));
    json_object_object_add(a, "width", json_object_new_int(n));
    json_object_object_add(a, "height", json_object_new_int(n));
    json_object_object_add(a, "xllcorner", jnum(gt[0], 1));
    json_object_object_add(a, "yllcorner", jnum(gt[3] - n * CELL, 1));
    json_object_object_add(a, "source_window_colrow", json_object_new_string("860 340 200 200"));
    json_object_object_add(k, "asc_subset", a);
}

static void write_xyz_survey(json_object *k)
{
    /* A field survey as contractors deliver it: spot heights over An Bình's fields (about
     * 2 500 points) and three cross-sections of the Cần Thơ river every 5 m. */
    rng r = rng_new(19);
    FILE *f = out_open("dem/survey-anbinh.xyz");
    int n = 0;
    double zmin = 1e9, zmax = -1e9;
    for (int i = 0; i < 2500; i++) {
        double x = rng_range(&r, 1000, 2600), y = rng_range(&r, 1600, 3200);
        double z = dem_at(x, y);
        if (z == NODATA)
            continue;
        z += 0.02 * rng_normal(&r);
        fprintf(f, "%.3f %.3f %.3f\n", X0 + x, Y0 + y, z);
        n++;
        zmin = fmin(zmin, z), zmax = fmax(zmax, z);
    }
    static const int at[3] = {60, 110, 160}; /* centre-line points of the sections */
    for (int s = 0; s < 3; s++) {
        int i = at[s];
        double dx = W.ct[i + 1].x - W.ct[i - 1].x, dy = W.ct[i + 1].y - W.ct[i - 1].y, L = hypot(dx, dy);
        for (double o = -(W.ct_hw[i] + 40); o <= W.ct_hw[i] + 40; o += 5) {
            double x = W.ct[i].x - dy / L * o, y = W.ct[i].y + dx / L * o;
            double z = dem_at(x, y);
            if (z == NODATA)
                continue;
            z += 0.05 * rng_normal(&r);
            fprintf(f, "%.3f %.3f %.3f\n", X0 + x, Y0 + y, z);
            n++;
            zmin = fmin(zmin, z), zmax = fmax(zmax, z);
        }
    }
    out_close(f, "dem/survey-anbinh.xyz");
    json_object *a = json_object_new_object();
    json_object_object_add(a, "file", json_object_new_string("dem/survey-anbinh.xyz"));
    json_object_object_add(a, "points", json_object_new_int(n));
    json_object_object_add(a, "z_min", jnum(zmin, 3));
    json_object_object_add(a, "z_max", jnum(zmax, 3));
    json_object_object_add(k, "xyz_survey", a);
}

static void add_point_check(json_object *arr, const char *name, double x, double y, double lo, double hi)
{
    double z = cell_value(x, y);
    if (z < lo || z > hi)
        fprintf(stderr, "gen-samples: warning: DEM check %s: %.3f outside %.2f..%.2f\n", name, z, lo, hi);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "name", json_object_new_string(name));
    json_object_object_add(e, "x", jnum(X0 + x, 2));
    json_object_object_add(e, "y", jnum(Y0 + y, 2));
    json_object_object_add(e, "value", jnum(z, 3));
    json_object_object_add(e, "expect_min", jnum(lo, 2));
    json_object_object_add(e, "expect_max", jnum(hi, 2));
    json_object_array_add(arr, e);
}

/* Points in the middle of blocks of a given kind, away from roads and hollows. */
static void block_checks(json_object *arr)
{
    int nurb = 0, nrur = 0;
    for (int i = 0; i + 1 < NI && (nurb < 4 || nrur < 4); i += 3)
        for (int j = 0; j + 1 < NJ; j += 2) {
            pt c = {(W.node[i][j].x + W.node[i + 1][j + 1].x) / 2, (W.node[i][j].y + W.node[i + 1][j + 1].y) / 2};
            if (!on_land(c.x, c.y, 150))
                continue;
            int nearpit = 0;
            for (int p = 0; p < 6; p++)
                nearpit |= hypot(c.x - PITS[p].x, c.y - PITS[p].y) < 200;
            if (nearpit)
                continue;
            double u = urbanity(c.x, c.y);
            char name[64];
            if (u > 0.85 && nurb < 4) {
                snprintf(name, sizeof name, "urban_core_%d", ++nurb);
                add_point_check(arr, name, c.x, c.y, 1.4, 2.3);
            } else if (u < 0.05 && nrur < 4) {
                snprintf(name, sizeof name, "rice_field_%d", ++nrur);
                add_point_check(arr, name, c.x, c.y, 0.3, 1.2);
            }
        }
}

void gen_dem(void)
{
    size_t n = (size_t)NC * NC;
    Z = malloc(n * sizeof *Z);
    ZB = malloc(n * sizeof *ZB);
    dem_ground();
    dem_depressions();
    memcpy(Z, ZB, n * sizeof *Z);
    dem_roads_canals();
    dem_dikes();
    dem_rivers();
    /* round to 1/1024 m (about a millimetre, a survey's resolution: binary fractions leave the
     * low mantissa bits zero, so the COG packs to a fraction of its size) and cut the margin */
    for (int row = 0; row < NC; row++)
        for (int col = 0; col < NC; col++) {
            size_t k = (size_t)row * NC + col;
            double x = (col + 0.5) * CELL, y = SIZE - (row + 0.5) * CELL;
            if (x < MARGIN || y < MARGIN || x > SIZE - MARGIN || y > SIZE - MARGIN)
                Z[k] = NODATA;
            else
                Z[k] = (float)(floor(Z[k] * 1024.0 + 0.5) / 1024.0);
        }

    ct_grid *g = ct_grid_new(CTX, CT_FLOAT32, NC, NC);
    if (!g)
        die("DEM grid: %s", ct_ctx_errmsg(CTX));
    memcpy(ct_grid_data(g), Z, n * sizeof *Z);
    double gt[6] = {X0, CELL, 0, Y0 + SIZE, 0, -CELL};
    ct_grid_set_geotransform(g, gt);
    ct_grid_set_crs(g, crs_vn2000());
    ct_grid_set_nodata(g, NODATA);
    check(ct_grid_write_cog(CTX, g, outpath("dem/dem-5m.tif"), NULL), "dem/dem-5m.tif");
    ct_grid_free(g);

    double zmin = 1e9, zmax = -1e9;
    long valid = 0;
    for (size_t k = 0; k < n; k++)
        if (Z[k] != NODATA)
            valid++, zmin = fmin(zmin, Z[k]), zmax = fmax(zmax, Z[k]);

    json_object *k = json_object_new_object(), *checks = json_object_new_array();
    json_object_object_add(k, "file", json_object_new_string("dem/dem-5m.tif"));
    json_object_object_add(k, "width", json_object_new_int(NC));
    json_object_object_add(k, "height", json_object_new_int(NC));
    json_object_object_add(k, "pixel_m", jnum(CELL, 1));
    json_object_object_add(k, "nodata", jnum(NODATA, 1));
    json_object_object_add(k, "valid_cells", json_object_new_int64(valid));
    json_object_object_add(k, "nodata_cells", json_object_new_int64((int64_t)n - valid));
    json_object_object_add(k, "min", jnum(zmin, 3));
    json_object_object_add(k, "max", jnum(zmax, 3));
    json_object_object_add(k, "datum", json_object_new_string("Hon Dau, metres"));

    /* points whose height the design fixes */
    pt hau = {0, 0};
    for (double u = 0; u > -6000; u -= 100) {
        double v = 6549 + 30.0 * sin(u / 900.0) + HAU_WIDTH / 2;
        hau = (pt){u * U_DIR[0] + v * V_DIR[0], u * U_DIR[1] + v * V_DIR[1]};
        if (hau.x > MARGIN + 10 && hau.x < SIZE - MARGIN - 10 && hau.y > MARGIN + 10 && hau.y < SIZE - MARGIN - 10)
            break;
    }
    add_point_check(checks, "hau_river_thalweg", hau.x, hau.y, -15.0, -8.0);
    add_point_check(checks, "can_tho_river_centre", W.ct[150].x, W.ct[150].y, -7.5, -4.0);
    block_checks(checks);
    for (int i = 0; i < NDIKES; i++) {
        if (i % 5 && DIKES[i].state == 0)
            continue;
        /* the vertex nearest the middle where no road crosses the crest */
        const dike *d = &DIKES[i];
        int m = d->n / 2;
        for (int o = 0; o < d->n / 2; o++) {
            int a = d->n / 2 + o, b = d->n / 2 - o;
            if (d->state == 2 || fabs(cell_value(d->p[a].x, d->p[a].y) - d->crest) < 0.015) {
                m = a;
                break;
            }
            if (fabs(cell_value(d->p[b].x, d->p[b].y) - d->crest) < 0.015) {
                m = b;
                break;
            }
        }
        char name[64];
        snprintf(name, sizeof name, "dike_%s_%s", d->id, d->state == 2 ? "breach" : d->state == 1 ? "low_crest" : "crest");
        if (d->state == 2)
            add_point_check(checks, name, d->p[m].x, d->p[m].y, -1.0, 1.5);
        else
            add_point_check(checks, name, d->p[m].x, d->p[m].y, d->crest - 0.02, d->crest + 0.02);
    }
    json_object_object_add(k, "point_checks", checks);
    json_object *pits = json_object_new_array();
    for (int i = 0; i < 6; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "x", jnum(X0 + PITS[i].x, 1));
        json_object_object_add(e, "y", jnum(Y0 + PITS[i].y, 1));
        json_object_object_add(e, "depth_m", jnum(PITS[i].depth, 2));
        json_object_object_add(e, "radius_m", jnum(PITS[i].sigma * 3, 1));
        json_object_object_add(e, "bottom", jnum(cell_value(PITS[i].x, PITS[i].y), 3));
        json_object_array_add(pits, e);
    }
    json_object_object_add(k, "closed_depressions", pits);
    write_asc_subset(k);
    write_xyz_survey(k);
    json_object_object_add(KEY, "dem", k);
}
