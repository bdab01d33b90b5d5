/*
 * gen-cadastre.c — cadastral parcels (thửa đất) in nine map sheets (tờ bản đồ), their planted
 * defects, and the land-use planning zones (quy hoạch).
 *
 * How parcels are drawn: every street block of the world grid is a quadrilateral; inside it
 * (set back from its roads and canals) it is cut into rows parallel to its long side, and each
 * row into lots. A point of the block is the bilinear image of (u, v) in [0,1]², so the lines
 * of constant u or v are straight: lots are quadrilaterals whose shared edges are exactly the
 * same segments. Where a lot meets several lots of the next row, their corners are inserted
 * into its edge, so neighbours share every vertex (a clean coverage, and the DGN sheet can draw
 * each shared boundary once). Defects are then planted on purpose and listed in the key.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <cpl_string.h>
#include "gen.h"

GEOSGeometry *land_side(int side);

typedef struct row {
    double v0, v1;
    int n;        /* lots in the row */
    double *b;    /* n + 1 boundaries in u, b[0] and b[n] the row's ends */
    int alley;
} row;

typedef struct block {
    int i, j, cls;
    pt q[4]; /* P00 P10 P11 P01 */
    int nrows;
    row *rows;
    double lu, lv;
    int zone;
} block;

enum defect {
    D_NONE = 0, D_BOWTIE, D_OVERLAP, D_GAP, D_SLIVER, D_DUPLICATE, D_AREA, D_EMPTY, D_OUTSIDE,
    D_OLDCODE, D_MISSING_LINE
};
static const char *const DEFECT_NAME[] = {
    "none", "self_intersection", "overlap", "gap", "sliver", "duplicate_number",
    "area_mismatch", "empty_geometry", "outside_city", "pre2024_code", "missing_boundary_line",
};

typedef struct lot {
    int blk, row, k;      /* block, row, index in row */
    double u0, u1;        /* may differ from the row's boundaries after a defect */
    char code[4];
    pt c;                 /* centroid (local) */
    double area;          /* drawn area */
    double legal;         /* DienTich */
    int sheet, number, ward;
    int right;            /* the lot after it in the same row, -1 */
    int defect;           /* the planted geometric/number defect, D_NONE */
    int empty;            /* written without geometry */
    int index;            /* feature index in its file */
    char owner[96], addr[160];
} lot;

static block *B;
static int NB;
static lot *L;
static int NL;

/* Extra features that are not parcels of the grid: slivers and the parcel outside the city. */
typedef struct extra {
    int sheet, kind, number;
    pt ring[8];
    int n;
    double area;
    int index;
    char code[4];
    int from; /* the lot it was made from */
} extra;
static extra EX[16];
static int NEX;

/* ---------------------------------------------------------------------------------------- */

static pt bil(const block *b, double u, double v)
{
    const pt *q = b->q;
    return (pt){(1 - u) * (1 - v) * q[0].x + u * (1 - v) * q[1].x + u * v * q[2].x + (1 - u) * v * q[3].x,
                (1 - u) * (1 - v) * q[0].y + u * (1 - v) * q[1].y + u * v * q[2].y + (1 - u) * v * q[3].y};
}

static double inset_of(int kind)
{
    switch (kind) {
    case EDGE_MAJOR_ROAD: return 10.0;
    case EDGE_MINOR_ROAD: return 4.0;
    case EDGE_CANAL: return 9.0;
    default: return 1.5; /* a field bund or a boundary ditch */
    }
}

/* The ring of a lot, with the corners of the neighbouring rows' lots on its long edges. */
static int lot_ring(const lot *l, pt *out, int max, int bowtie)
{
    const block *b = &B[l->blk];
    const row *r = &b->rows[l->row];
    int n = 0;
    if (bowtie) {
        /* corners in the wrong order: the ring crosses itself */
        out[n++] = bil(b, l->u0, r->v0), out[n++] = bil(b, l->u1, r->v0);
        out[n++] = bil(b, l->u0, r->v1), out[n++] = bil(b, l->u1, r->v1);
        return n;
    }
    out[n++] = bil(b, l->u0, r->v0);
    if (l->row > 0) {
        const row *p = &b->rows[l->row - 1];
        for (int k = 1; k < p->n && n < max - 4; k++)
            if (p->b[k] > l->u0 && p->b[k] < l->u1)
                out[n++] = bil(b, p->b[k], r->v0);
    }
    out[n++] = bil(b, l->u1, r->v0);
    out[n++] = bil(b, l->u1, r->v1);
    if (l->row + 1 < b->nrows) {
        const row *p = &b->rows[l->row + 1];
        for (int k = p->n - 1; k >= 1 && n < max - 2; k--)
            if (p->b[k] < l->u1 && p->b[k] > l->u0)
                out[n++] = bil(b, p->b[k], r->v1);
    }
    out[n++] = bil(b, l->u0, r->v1);
    return n;
}

static double ring_area(const pt *p, int n)
{
    double a = 0;
    for (int i = 0; i < n; i++) {
        const pt *s = &p[i], *t = &p[(i + 1) % n];
        a += s->x * t->y - t->x * s->y;
    }
    return fabs(a) / 2;
}

static pt ring_centroid(const pt *p, int n)
{
    double a = 0, cx = 0, cy = 0;
    for (int i = 0; i < n; i++) {
        const pt *s = &p[i], *t = &p[(i + 1) % n];
        double f = s->x * t->y - t->x * s->y;
        a += f, cx += (s->x + t->x) * f, cy += (s->y + t->y) * f;
    }
    return (pt){cx / (3 * a), cy / (3 * a)};
}

/* ---------------------------------------------------------------------------------------- */
/* Blocks, rows and lots                                                                     */

static void add_row(block *b, double depth_frac, int alley)
{
    b->rows = realloc(b->rows, (size_t)(b->nrows + 1) * sizeof *b->rows);
    row *r = &b->rows[b->nrows++];
    memset(r, 0, sizeof *r);
    r->v1 = depth_frac; /* temporarily the depth; fixed up in cut_rows */
    r->alley = alley;
}

/* Cuts the block's inner v range into rows: depths in metres, scaled to fit exactly. */
static void cut_rows(block *b, double va, double vb)
{
    double sum = 0;
    for (int k = 0; k < b->nrows; k++)
        sum += b->rows[k].v1;
    double v = va;
    for (int k = 0; k < b->nrows; k++) {
        double d = b->rows[k].v1 / sum * (vb - va);
        b->rows[k].v0 = v;
        b->rows[k].v1 = (k + 1 == b->nrows) ? vb : v + d;
        v = b->rows[k].v1;
    }
}

static void cut_lots(row *r, double ua, double ub, double lu, double wmin, double wmax, rng *g)
{
    if (r->alley) {
        r->n = 1;
        r->b = malloc(2 * sizeof *r->b);
        r->b[0] = ua, r->b[1] = ub;
        return;
    }
    double w[2048], sum = 0;
    int n = 0;
    double avail = (ub - ua) * lu;
    while (sum < avail - wmin / 2 && n < 2047) {
        double x = rng_range(g, wmin, wmax);
        if (rng_unif(g) < 0.06)
            x *= wmax < 15 ? 1.4 : 1.8; /* a wider lot now and then: two plots bought together */
        w[n++] = x, sum += x;
    }
    if (n == 0)
        w[n++] = avail, sum = avail;
    r->n = n;
    r->b = malloc((size_t)(n + 1) * sizeof *r->b);
    double u = ua;
    for (int k = 0; k < n; k++) {
        r->b[k] = u;
        u += w[k] / sum * (ub - ua);
    }
    r->b[n] = ub;
}

static void make_blocks(void)
{
    rng g = rng_new(23);
    B = calloc((size_t)NI * NJ, sizeof *B);
    for (int i = 0; i + 1 < NI; i++)
        for (int j = 0; j + 1 < NJ; j++) {
            block b = {.i = i, .j = j};
            b.q[0] = W.node[i][j], b.q[1] = W.node[i + 1][j], b.q[2] = W.node[i + 1][j + 1], b.q[3] = W.node[i][j + 1];
            pt c = bil(&b, 0.5, 0.5);
            if (!on_land(c.x, c.y, 0) || c.x < 0 || c.y < 0 || c.x > SIZE || c.y > SIZE)
                continue;
            double u = urbanity(c.x, c.y) + rng_range(&g, -0.06, 0.06);
            b.cls = u > 0.84 ? ZONE_URBAN : u > 0.3 ? ZONE_PERI : ZONE_RURAL;
            b.lu = (hypot(b.q[1].x - b.q[0].x, b.q[1].y - b.q[0].y) + hypot(b.q[2].x - b.q[3].x, b.q[2].y - b.q[3].y)) / 2;
            b.lv = (hypot(b.q[3].x - b.q[0].x, b.q[3].y - b.q[0].y) + hypot(b.q[2].x - b.q[1].x, b.q[2].y - b.q[1].y)) / 2;
            double ua = inset_of(W.vedge[i][j]) / b.lu, ub = 1 - inset_of(W.vedge[i + 1][j]) / b.lu;
            double va = inset_of(W.hedge[i][j]) / b.lv, vb = 1 - inset_of(W.hedge[i][j + 1]) / b.lv;
            double depth = (vb - va) * b.lv;
            double wmin, wmax;
            if (b.cls == ZONE_URBAN && rng_unif(&g) < 0.05) {
                /* a school, clinic, office or market: one to three large lots */
                add_row(&b, 1, 0);
                cut_rows(&b, va, vb);
                cut_lots(&b.rows[0], ua, ub, b.lu, 60, 110, &g);
                b.cls = 100; /* institutional */
            } else if (b.cls == ZONE_URBAN) {
                /* street-front houses back to back, an alley (hẻm) every two rows */
                double d = 0;
                int k = 0;
                while (d < depth - 15) {
                    int alley = (k % 3 == 2);
                    double x = alley ? 3.5 : rng_range(&g, 18, 26);
                    add_row(&b, x, alley);
                    d += x, k++;
                }
                wmin = 6, wmax = 12;
                cut_rows(&b, va, vb);
                for (int r = 0; r < b.nrows; r++)
                    cut_lots(&b.rows[r], ua, ub, b.lu, wmin, wmax, &g);
            } else {
                int peri = b.cls == ZONE_PERI;
                double d = 0;
                int k = 0;
                while (d < depth - 20) {
                    int alley = peri && (k % 4 == 3);
                    double x = alley ? 4.0 : peri ? rng_range(&g, 25, 40) : rng_range(&g, 35, 75);
                    add_row(&b, x, alley);
                    d += x, k++;
                }
                wmin = peri ? 10 : 18, wmax = peri ? 24 : 55;
                cut_rows(&b, va, vb);
                for (int r = 0; r < b.nrows; r++)
                    cut_lots(&b.rows[r], ua, ub, b.lu, wmin, wmax, &g);
            }
            B[NB++] = b;
        }
}

static const char *pick(rng *g, const char *const *codes, const double *w, int n)
{
    double x = rng_unif(g), s = 0;
    for (int i = 0; i < n; i++)
        if (x < (s += w[i]))
            return codes[i];
    return codes[n - 1];
}

static const char *lot_code(const block *b, int r, rng *g, int rural_ward)
{
    const row *rw = &b->rows[r];
    const char *home = rural_ward ? "ONT" : "ODT";
    if (rw->alley)
        return "DGT";
    int on_major = (r == 0 && W.hedge[b->i][b->j] == EDGE_MAJOR_ROAD) ||
                   (r == b->nrows - 1 && W.hedge[b->i][b->j + 1] == EDGE_MAJOR_ROAD);
    int on_road = on_major || (r == 0 && W.hedge[b->i][b->j] == EDGE_MINOR_ROAD) ||
                  (r == b->nrows - 1 && W.hedge[b->i][b->j + 1] == EDGE_MINOR_ROAD);
    int on_canal = (r == 0 && W.hedge[b->i][b->j] == EDGE_CANAL) ||
                   (r == b->nrows - 1 && W.hedge[b->i][b->j + 1] == EDGE_CANAL);
    if (b->cls == 100) {
        static const char *const c[] = {"DGD", "DYT", "TSC", "DVH", "TMD"};
        static const double w[] = {0.35, 0.15, 0.2, 0.1, 0.2};
        return pick(g, c, w, 5);
    }
    if (b->cls == ZONE_URBAN) {
        if (on_major && rng_unif(g) < 0.35)
            return "TMD";
        const char *c[] = {home, "TMD", "CLN", "SKC"};
        static const double w[] = {0.93, 0.04, 0.02, 0.01};
        return pick(g, c, w, 4);
    }
    if (b->cls == ZONE_PERI) {
        const char *c[] = {home, "CLN", "NTS", "TMD"};
        static const double w[] = {0.6, 0.3, 0.05, 0.05};
        return pick(g, c, w, 4);
    }
    if (on_road && rng_unif(g) < 0.7)
        return home;
    if (on_canal && rng_unif(g) < 0.4)
        return rng_unif(g) < 0.5 ? "NTS" : "SON";
    const char *c[] = {"LUC", "CLN", "NTS", "HNK"};
    static const double w[] = {0.6, 0.3, 0.07, 0.03};
    return pick(g, c, w, 4);
}

static void make_lots(void)
{
    rng g = rng_new(29);
    size_t cap = 32768;
    L = calloc(cap, sizeof *L);
    pt ring[256];
    for (int bi = 0; bi < NB; bi++) {
        block *b = &B[bi];
        for (int r = 0; r < b->nrows; r++) {
            int prev = -1;
            for (int k = 0; k < b->rows[r].n; k++) {
                lot l = {.blk = bi, .row = r, .k = k, .u0 = b->rows[r].b[k], .u1 = b->rows[r].b[k + 1], .right = -1};
                int n = lot_ring(&l, ring, 256, 0);
                int ok = 1;
                for (int p = 0; p < n && ok; p++)
                    ok = on_land(ring[p].x, ring[p].y, 20);
                if (!ok) {
                    prev = -1;
                    continue;
                }
                l.c = ring_centroid(ring, n);
                l.area = ring_area(ring, n);
                l.ward = ward_at(l.c.x, l.c.y);
                if (l.ward < 0) {
                    prev = -1;
                    continue;
                }
                int rural = !strcmp(WARDS[l.ward].level, "Xã");
                snprintf(l.code, sizeof l.code, "%s", lot_code(b, r, &g, rural));
                int col = (int)(l.c.x / 2000), rw = (int)((SIZE - l.c.y) / 2000);
                l.sheet = rw * 3 + col + 1;
                if ((size_t)NL == cap)
                    L = realloc(L, (cap *= 2) * sizeof *L);
                if (prev >= 0)
                    L[prev].right = NL;
                prev = NL;
                L[NL++] = l;
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* People and addresses: synthetic names from common family, middle and given names.        */

static const char *const FAMILY[] = {
    "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi", "Đặng",
    "Đỗ", "Ngô", "Hồ", "Dương", "Lý", "Đinh", "Lâm", "Châu", "Tạ", "Quách", "Thái",
};
static const char *const MIDDLE_M[] = {"Văn", "Hữu", "Minh", "Quốc", "Thanh", "Hoàng", "Công", "Đức", "Tấn", "Văn"};
static const char *const MIDDLE_F[] = {"Thị", "Ngọc", "Thị Kim", "Thị Thu", "Thanh", "Mỹ", "Thị", "Thị Ngọc"};
static const char *const GIVEN_M[] = {
    "Hùng", "Dũng", "Phúc", "Tâm", "Nhân", "Khánh", "Tuấn", "Nghĩa", "Lộc", "Phước", "Sang",
    "Trí", "Út", "Bé", "Thành", "Hải", "Quang", "Long", "Đạt", "Hiếu", "Vũ", "Lợi", "Ẩn", "Ửng",
};
static const char *const GIVEN_F[] = {
    "Lan", "Hoa", "Thảo", "Vy", "Hạnh", "Hiền", "Thủy", "Xuân", "Yến", "Quyên", "Nhung",
    "Trinh", "Diễm", "Loan", "Hằng", "Phượng", "Ngân", "Út", "Bé", "Mỹ", "Ánh", "Ỷ",
};
#define NEL(a) ((int)(sizeof(a) / sizeof(a)[0]))

static void person(rng *g, char *out, size_t n)
{
    if (rng_unif(g) < 0.55)
        snprintf(out, n, "%s %s %s", FAMILY[rng_int(g, NEL(FAMILY))], MIDDLE_M[rng_int(g, NEL(MIDDLE_M))],
                 GIVEN_M[rng_int(g, NEL(GIVEN_M))]);
    else
        snprintf(out, n, "%s %s %s", FAMILY[rng_int(g, NEL(FAMILY))], MIDDLE_F[rng_int(g, NEL(MIDDLE_F))],
                 GIVEN_F[rng_int(g, NEL(GIVEN_F))]);
}

static const char *block_street(const block *b)
{
    if (W.hedge[b->i][b->j] == EDGE_MAJOR_ROAD)
        return STREETS[W.hname[b->j]];
    if (W.hedge[b->i][b->j + 1] == EDGE_MAJOR_ROAD)
        return STREETS[W.hname[b->j + 1]];
    if (W.vedge[b->i][b->j] == EDGE_MAJOR_ROAD)
        return STREETS[W.vname[b->i]];
    return STREETS[W.vname[b->i + 1 < NI ? b->i + 1 : b->i]];
}

static void owners_addresses(void)
{
    rng g = rng_new(31);
    for (int i = 0; i < NL; i++) {
        lot *l = &L[i];
        const ward *w = &WARDS[l->ward];
        const block *b = &B[l->blk];
        char wname[64];
        snprintf(wname, sizeof wname, "%s %s", !strcmp(w->level, "Xã") ? "xã" : "phường", w->name);
        if (!strcmp(l->code, "DGT") || !strcmp(l->code, "SON") || !strcmp(l->code, "TSC"))
            snprintf(l->owner, sizeof l->owner, "UBND %s", wname);
        else if (!strcmp(l->code, "DGD"))
            snprintf(l->owner, sizeof l->owner, "Trường Tiểu học %s", w->name);
        else if (!strcmp(l->code, "DYT"))
            snprintf(l->owner, sizeof l->owner, "Trạm Y tế %s", wname);
        else if (!strcmp(l->code, "DVH"))
            snprintf(l->owner, sizeof l->owner, "Nhà văn hóa %s", wname);
        else {
            person(&g, l->owner, sizeof l->owner);
            if (rng_unif(&g) < 0.12) {
                char spouse[48];
                person(&g, spouse, sizeof spouse);
                size_t n = strlen(l->owner);
                snprintf(l->owner + n, sizeof l->owner - n, " và %s", spouse);
            }
        }
        int kv = 1 + (b->i * 3 + b->j) % 9;
        if (b->cls == ZONE_URBAN || b->cls == 100)
            snprintf(l->addr, sizeof l->addr, "Số %d/%d, đường %s, khu vực %d, %s", 2 + 2 * rng_int(&g, 150),
                     1 + rng_int(&g, 80), block_street(b), kv, wname);
        else if (!strcmp(w->level, "Xã"))
            snprintf(l->addr, sizeof l->addr, "ấp Mỹ %s, %s", (const char *const[]){"Ái", "Nhơn", "Hội", "Lợi"}[kv % 4], wname);
        else
            snprintf(l->addr, sizeof l->addr, "khu vực %d, %s", kv, wname);
        /* the legal area: what the certificate says, within ±1.5 % of the drawing */
        double f = 0.004 * rng_normal(&g);
        f = f > 0.015 ? 0.015 : f < -0.015 ? -0.015 : f;
        l->legal = floor(l->area * (1 + f) * 10 + 0.5) / 10;
    }
}

/* Parcel numbers run through a sheet in bands from north to south, snaking west-east. */
static int cmp_sheet_order(const void *a, const void *b)
{
    const lot *p = &L[*(const int *)a], *q = &L[*(const int *)b];
    if (p->sheet != q->sheet)
        return p->sheet - q->sheet;
    int bp = (int)((SIZE - p->c.y) / 80), bq = (int)((SIZE - q->c.y) / 80);
    if (bp != bq)
        return bp - bq;
    double d = (bp % 2 ? -1 : 1) * (p->c.x - q->c.x);
    return d < 0 ? -1 : d > 0 ? 1 : (*(const int *)a - *(const int *)b);
}

static int *ORDER; /* lots by sheet and number */
static int SHEET_START[11];

static void number_lots(void)
{
    ORDER = malloc((size_t)NL * sizeof *ORDER);
    for (int i = 0; i < NL; i++)
        ORDER[i] = i;
    qsort(ORDER, (size_t)NL, sizeof *ORDER, cmp_sheet_order);
    int s = 0;
    for (int k = 0; k < NL; k++) {
        lot *l = &L[ORDER[k]];
        while (s < l->sheet)
            SHEET_START[++s] = k;
        l->number = k - SHEET_START[l->sheet] + 1;
        l->index = l->number - 1;
    }
    while (s < 10)
        SHEET_START[++s] = NL;
}

/* ---------------------------------------------------------------------------------------- */
/* Sheets and formats                                                                        */

enum fmt { F_TCVN3, F_VNI, F_GEOJSON, F_DGN };
static const enum fmt SHEET_FMT[10] = {0, F_TCVN3, F_TCVN3, F_TCVN3, F_TCVN3, F_TCVN3,
                                      F_TCVN3, F_DGN, F_GEOJSON, F_VNI};

static const char *sheet_file(int s)
{
    static char buf[64];
    switch (SHEET_FMT[s]) {
    case F_VNI: snprintf(buf, sizeof buf, "cadastral/thuadat-to%02d-vni.shp", s); break;
    case F_GEOJSON: snprintf(buf, sizeof buf, "cadastral/thuadat-to%02d-wgs84.geojson", s); break;
    case F_DGN: snprintf(buf, sizeof buf, "cadastral/thuadat-to%02d-famis.dgn", s); break;
    default: snprintf(buf, sizeof buf, "cadastral/thuadat-to%02d.shp", s);
    }
    return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* Planted defects                                                                           */

typedef struct planted {
    int sheet, kind, lot, other, extra;
    double a, b; /* the relevant numbers: overlap/gap/sliver area, legal vs drawn area ... */
    char oldcode[4];
    pt p0, p1;
} planted;
static planted PL[256];
static int NPL;

static int used(int li)
{
    for (int k = 0; k < NPL; k++)
        if (PL[k].lot == li || PL[k].other == li)
            return 1;
    return 0;
}

/* A lot of the sheet, not used by another defect, satisfying want (0: any private lot,
 * 1: with a right-hand neighbour in the same sheet, 2: agricultural). */
static int choose(rng *g, int sheet, int want)
{
    int n = SHEET_START[sheet + 1] - SHEET_START[sheet];
    if (n <= 0)
        die("sheet %d has no parcels", sheet);
    for (int tries = 0; tries < 100000; tries++) {
        int li = ORDER[SHEET_START[sheet] + rng_int(g, n)];
        lot *l = &L[li];
        if (used(li) || !strcmp(l->code, "DGT") || !strcmp(l->code, "SON"))
            continue;
        if (want == 1 && (l->right < 0 || L[l->right].sheet != sheet || used(l->right) ||
                          !strcmp(L[l->right].code, "DGT")))
            continue;
        if (want == 2 && strcmp(l->code, "CLN") && strcmp(l->code, "HNK") && strcmp(l->code, "LUC"))
            continue;
        return li;
    }
    die("sheet %d: no parcel fits defect kind %d", sheet, want);
}

static double lot_area_now(const lot *l)
{
    pt ring[256];
    int n = lot_ring(l, ring, 256, 0);
    return ring_area(ring, n);
}

static void plant(int sheet, int kind, rng *g)
{
    planted p = {.sheet = sheet, .kind = kind, .lot = -1, .other = -1, .extra = -1};
    GEOSContextHandle_t h = ct_geos(CTX);
    if (kind == D_BOWTIE) {
        p.lot = choose(g, sheet, 0);
        L[p.lot].defect = D_BOWTIE;
    } else if (kind == D_OVERLAP || kind == D_GAP) {
        p.lot = choose(g, sheet, 1);
        lot *l = &L[p.lot];
        p.other = l->right;
        double lu = B[l->blk].lu, before = lot_area_now(l);
        double d = kind == D_OVERLAP ? rng_range(g, 0.4, 0.9) : -rng_range(g, 0.3, 0.8);
        l->u1 += d / lu;
        l->defect = kind;
        l->area = lot_area_now(l);
        if (kind == D_GAP) {
            p.a = before - l->area;
        } else {
            pt r1[256], r2[256];
            int n1 = lot_ring(l, r1, 256, 0), n2 = lot_ring(&L[p.other], r2, 256, 0);
            GEOSGeometry *g1 = geos_ring_polygon(r1, n1, 1), *g2 = geos_ring_polygon(r2, n2, 1);
            GEOSGeometry *x = GEOSIntersection_r(h, g1, g2);
            GEOSArea_r(h, x, &p.a);
            GEOSGeom_destroy_r(h, x), GEOSGeom_destroy_r(h, g1), GEOSGeom_destroy_r(h, g2);
        }
        p.b = fabs(d);
    } else if (kind == D_SLIVER) {
        /* a thin stray polygon along a shared boundary, overlapping both neighbours, without
         * attributes: what a digitiser leaves behind */
        p.lot = choose(g, sheet, 1);
        p.other = L[p.lot].right;
        const lot *l = &L[p.lot];
        const block *b = &B[l->blk];
        const row *r = &b->rows[l->row];
        double e = rng_range(g, 0.08, 0.2) / b->lu;
        extra *x = &EX[NEX];
        memset(x, 0, sizeof *x);
        x->sheet = sheet, x->kind = D_SLIVER, x->from = p.lot;
        x->ring[0] = bil(b, l->u1 - e, r->v0), x->ring[1] = bil(b, l->u1 + e, r->v0);
        x->ring[2] = bil(b, l->u1 + e, r->v1), x->ring[3] = bil(b, l->u1 - e, r->v1);
        x->n = 4;
        x->area = ring_area(x->ring, 4);
        p.a = x->area, p.b = e * b->lu * 2;
        p.extra = NEX++;
    } else if (kind == D_DUPLICATE) {
        p.lot = choose(g, sheet, 0);
        /* the number of another parcel of the sheet, as when two parcels get the same number */
        int n = SHEET_START[sheet + 1] - SHEET_START[sheet];
        do
            p.other = ORDER[SHEET_START[sheet] + rng_int(g, n)];
        while (p.other == p.lot || used(p.other));
        p.a = L[p.lot].number; /* its right number */
        L[p.lot].number = L[p.other].number;
        L[p.lot].defect = D_DUPLICATE;
    } else if (kind == D_AREA) {
        p.lot = choose(g, sheet, 0);
        lot *l = &L[p.lot];
        double f = rng_range(g, 0.08, 0.35) * (rng_unif(g) < 0.5 ? -1 : 1);
        l->legal = floor(l->area * (1 + f) * 10 + 0.5) / 10;
        l->defect = D_AREA;
        p.a = l->legal, p.b = l->area;
    } else if (kind == D_EMPTY) {
        p.lot = choose(g, sheet, 0);
        L[p.lot].empty = 1;
        L[p.lot].defect = D_EMPTY;
    } else if (kind == D_OUTSIDE) {
        /* a parcel that belongs nowhere near Cần Thơ: its coordinates put it ~105 km north,
         * in Đồng Tháp/Long An (a sheet copied in with the wrong origin) */
        int src = choose(g, sheet, 0);
        pt ring[256];
        int n = lot_ring(&L[src], ring, 8, 0);
        extra *x = &EX[NEX];
        memset(x, 0, sizeof *x);
        x->sheet = sheet, x->kind = D_OUTSIDE, x->from = src;
        x->n = n > 8 ? 8 : n;
        for (int k = 0; k < x->n; k++)
            x->ring[k] = (pt){ring[k].x + 2000.0, ring[k].y + 105000.0};
        x->area = ring_area(x->ring, x->n);
        snprintf(x->code, sizeof x->code, "ONT");
        p.extra = NEX++;
        p.lot = -1;
        p.p0 = ring_centroid(x->ring, x->n);
    } else if (kind == D_OLDCODE) {
        p.lot = choose(g, sheet, 2);
        snprintf(p.oldcode, sizeof p.oldcode, "%s", rng_unif(g) < 0.75 ? "BHK" : "NHK");
        snprintf(L[p.lot].code, sizeof L[p.lot].code, "%s", p.oldcode);
    }
    PL[NPL++] = p;
}

static void plant_defects(void)
{
    rng g = rng_new(37);
    /* per sheet: which defects, how many */
    static const struct { int sheet, kind, n; } plan[] = {
        {1, D_BOWTIE, 1}, {1, D_OVERLAP, 1}, {1, D_GAP, 1}, {1, D_DUPLICATE, 1}, {1, D_AREA, 3},
        {1, D_EMPTY, 1}, {1, D_OLDCODE, 12},
        {2, D_BOWTIE, 1}, {2, D_SLIVER, 1}, {2, D_DUPLICATE, 1}, {2, D_AREA, 2}, {2, D_OUTSIDE, 1},
        {3, D_BOWTIE, 1}, {3, D_OVERLAP, 1}, {3, D_DUPLICATE, 1}, {3, D_AREA, 1},
        {4, D_OVERLAP, 1}, {4, D_GAP, 1}, {4, D_OLDCODE, 6},
        {5, D_BOWTIE, 1}, {5, D_DUPLICATE, 2}, {5, D_AREA, 2}, {5, D_OVERLAP, 1},
        {6, D_AREA, 1}, {6, D_SLIVER, 1},
        {7, D_DUPLICATE, 1}, {7, D_OLDCODE, 4},
        {8, D_BOWTIE, 1}, {8, D_OVERLAP, 1}, {8, D_DUPLICATE, 1}, {8, D_AREA, 1}, {8, D_GAP, 1},
        {8, D_OLDCODE, 3},
        {9, D_BOWTIE, 1}, {9, D_GAP, 1}, {9, D_DUPLICATE, 1}, {9, D_AREA, 2}, {9, D_OLDCODE, 3},
    };
    for (size_t k = 0; k < sizeof plan / sizeof plan[0]; k++)
        for (int n = 0; n < plan[k].n; n++)
            plant(plan[k].sheet, plan[k].kind, &g);
}

/* ---------------------------------------------------------------------------------------- */
/* Writing                                                                                   */

static GEOSGeometry *lot_geom(const lot *l, ct_transform *t)
{
    pt ring[256];
    int n = lot_ring(l, ring, 256, l->defect == D_BOWTIE);
    if (!t)
        return geos_ring_polygon(ring, n, 1);
    double x[257], y[257];
    for (int k = 0; k <= n; k++)
        x[k] = X0 + ring[k % n].x, y[k] = Y0 + ring[k % n].y;
    check(ct_transform_points(CTX, t, (size_t)n + 1, x, y, NULL), "VN-2000 → WGS 84");
    GEOSContextHandle_t h = ct_geos(CTX);
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n + 1, 2);
    for (int k = 0; k <= n; k++) /* 1e-8° is about a millimetre */
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)k, round(x[k] * 1e8) / 1e8, round(y[k] * 1e8) / 1e8);
    if (t) /* close exactly after rounding */
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)n, round(x[0] * 1e8) / 1e8, round(y[0] * 1e8) / 1e8);
    return GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
}

static json_object *code_counts(json_object **areas, int sheet)
{
    static const char *const order[] = {"ODT", "ONT", "TMD", "SKC", "DGD", "DYT", "TSC", "DVH",
                                        "DGT", "SON", "LUC", "CLN", "NTS", "HNK", "BHK", "NHK", ""};
    json_object *c = json_object_new_object();
    *areas = json_object_new_object();
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        int n = 0;
        double a = 0;
        for (int i = SHEET_START[sheet]; i < SHEET_START[sheet + 1]; i++)
            if (!strcmp(L[ORDER[i]].code, order[k]))
                n++, a += L[ORDER[i]].legal;
        for (int e = 0; e < NEX; e++)
            if (EX[e].sheet == sheet && !strcmp(EX[e].code, order[k]))
                n++, a += floor(EX[e].area * 10 + 0.5) / 10;
        if (n) {
            json_object_object_add(c, order[k], json_object_new_int(n));
            json_object_object_add(*areas, order[k], jnum(a, 1));
        }
    }
    return c;
}

static void write_sheet_vector(int s, json_object *kf)
{
    enum fmt f = SHEET_FMT[s];
    ct_encoding e = f == F_TCVN3 ? CT_ENC_TCVN3 : f == F_VNI ? CT_ENC_VNI : CT_ENC_UTF8;
    ct_field_def fd[] = {
        {"SoTo", CT_FIELD_INT, 4, 0},       {"SoThua", CT_FIELD_INT, 6, 0},
        {"DienTich", CT_FIELD_REAL, 12, 1}, {"MucDich", CT_FIELD_STRING, 5, 0},
        {"TenChu", CT_FIELD_STRING, 60, 0}, {"DiaChi", CT_FIELD_STRING, 100, 0},
        {"MaXa", CT_FIELD_STRING, 5, 0},
    };
    ct_crs *wgs = NULL;
    ct_transform *t = NULL;
    if (f == F_GEOJSON) {
        check(ct_crs_from_user(CTX, "EPSG:4326", &wgs), "EPSG:4326");
        check(ct_transform_new(CTX, crs_vn2000(), wgs, &t), "vn2000:105 → EPSG:4326");
    }
    char layer[32];
    snprintf(layer, sizeof layer, "thuadat_to%02d", s);
    ct_vsink_opts o = {.layer = layer, .gtype = CT_GEOM_POLYGON, .crs = wgs, .fields = fd,
                       .nfields = 7, .text_encoding = e};
    const char *rel = sheet_file(s);
    char relcopy[64];
    snprintf(relcopy, sizeof relcopy, "%s", rel);
    ct_vsink *sk;
    check(ct_vsink_create(CTX, outpath(relcopy), &o, &sk), relcopy);
    GEOSContextHandle_t h = ct_geos(CTX);
    int index = 0;
    char so[8], num[16], area[32];
    snprintf(so, sizeof so, "%d", s);
    for (int i = SHEET_START[s]; i < SHEET_START[s + 1]; i++) {
        lot *l = &L[ORDER[i]];
        l->index = index++;
        snprintf(num, sizeof num, "%d", l->number);
        snprintf(area, sizeof area, "%.1f", l->legal);
        char *owner = enc(e, l->owner), *addr = enc(e, l->addr);
        if (strlen(owner) > 60 || strlen(addr) > 100) /* the DBF would cut them silently */
            die("%s: parcel %d: owner or address too long for its field", relcopy, l->number);
        const char *v[] = {so, num, area, l->code, owner, addr, WARDS[l->ward].code};
        GEOSGeometry *g = l->empty ? NULL : lot_geom(l, t);
        check(ct_vsink_write(CTX, sk, g, v), relcopy);
        if (g)
            GEOSGeom_destroy_r(h, g);
        free(owner), free(addr);
    }
    int maxnum = SHEET_START[s + 1] - SHEET_START[s];
    for (int k = 0; k < NEX; k++) {
        extra *x = &EX[k];
        if (x->sheet != s)
            continue;
        x->index = index++;
        const char *v[7] = {so, "0", "0.0", "", "", "", ""};
        char *owner = NULL, *addr = NULL;
        if (x->kind == D_OUTSIDE) {
            const lot *src = &L[x->from];
            x->number = ++maxnum;
            snprintf(num, sizeof num, "%d", x->number);
            snprintf(area, sizeof area, "%.1f", floor(x->area * 10 + 0.5) / 10);
            owner = enc(e, src->owner), addr = enc(e, src->addr);
            v[1] = num, v[2] = area, v[3] = x->code, v[4] = owner, v[5] = addr, v[6] = WARDS[src->ward].code;
        }
        GEOSGeometry *g = geos_ring_polygon(x->ring, x->n, 1);
        check(ct_vsink_write(CTX, sk, g, v), relcopy);
        GEOSGeom_destroy_r(h, g);
        free(owner), free(addr);
    }
    check(ct_vsink_commit(CTX, sk), relcopy);
    if (f != F_GEOJSON) {
        char dbf[64];
        snprintf(dbf, sizeof dbf, "%.*s.dbf", (int)strlen(relcopy) - 4, relcopy);
        patch_dbf_date(dbf);
        write_prj_esri_vn2000(relcopy);
    }
    ct_transform_free(t);
    ct_crs_free(wgs);
    json_object_object_add(kf, "feature_count", json_object_new_int(index));
}

/* The FAMIS-era sheet: boundaries as lines, each shared boundary once, labels as TCVN3 text,
 * no CRS. Written with OGR's DGN (v7) driver directly: libctcore has no DGN text writer. */
typedef struct seg { double x0, y0, x1, y1; int a, b; } seg;

static int cmp_seg(const void *pa, const void *pb)
{
    const seg *a = pa, *b = pb;
    if (a->x0 != b->x0) return a->x0 < b->x0 ? -1 : 1;
    if (a->y0 != b->y0) return a->y0 < b->y0 ? -1 : 1;
    if (a->x1 != b->x1) return a->x1 < b->x1 ? -1 : 1;
    if (a->y1 != b->y1) return a->y1 < b->y1 ? -1 : 1;
    return 0;
}

static void dgn_text(OGRLayerH ly, double x, double y, const char *bytes, int level, double size)
{
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(ly));
    char style[512];
    snprintf(style, sizeof style, "LABEL(t:\"%s\",s:%.1fg)", bytes, size);
    OGR_F_SetStyleString(f, style);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "Level"), level);
    OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(g, 0, X0 + x, Y0 + y);
    OGR_F_SetGeometryDirectly(f, g);
    if (OGR_L_CreateFeature(ly, f) != OGRERR_NONE)
        die("DGN: cannot write a text element: %s", CPLGetLastErrorMsg());
    OGR_F_Destroy(f);
}

static void write_sheet_dgn(int s, json_object *kf, json_object *defects, rng *g)
{
    const char *rel = sheet_file(s);
    char relcopy[64];
    snprintf(relcopy, sizeof relcopy, "%s", rel);
    GDALAllRegister();
    char **dsco = NULL;
    dsco = CSLSetNameValue(dsco, "MASTER_UNIT_NAME", "m");
    dsco = CSLSetNameValue(dsco, "SUB_UNIT_NAME", "mm");
    dsco = CSLSetNameValue(dsco, "SUB_UNITS_PER_MASTER_UNIT", "1000");
    dsco = CSLSetNameValue(dsco, "UOR_PER_SUB_UNIT", "1");
    dsco = CSLSetNameValue(dsco, "ORIGIN", "0,0,0");
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", outpath(relcopy));
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("DGN"), tmp, 0, 0, 0, GDT_Unknown, dsco);
    CSLDestroy(dsco);
    if (!ds)
        die("%s: %s", relcopy, CPLGetLastErrorMsg());
    OGRLayerH ly = GDALDatasetCreateLayer(ds, "elements", NULL, wkbUnknown, NULL);
    if (!ly)
        die("%s: no layer: %s", relcopy, CPLGetLastErrorMsg());
    /* Annotation first (title, wards, streets, canals), in TCVN3 as the FAMIS fonts (.VnTime)
     * expect, then the boundaries, then the parcel labels: the order such sheets come in. */
    int ntext = 0;
    char title[160];
    double sx = ((s - 1) % 3) * 2000.0, sy = SIZE - ((s - 1) / 3) * 2000.0;
    int cw = ward_at(sx + 1000, sy - 1000);
    if (cw < 0)
        cw = 11;
    snprintf(title, sizeof title, "Tờ bản đồ số %d - %s %s - %s - TP Cần Thơ", s,
             !strcmp(WARDS[cw].level, "Xã") ? "xã" : "phường", WARDS[cw].name, WARDS[cw].district);
    char *t1 = enc(CT_ENC_TCVN3, title);
    dgn_text(ly, sx + 1000, sy - 60, t1, 63, 12.0);
    ntext++;
    json_object *labels = json_object_new_array();
    json_object_array_add(labels, json_object_new_string(title));
    free(t1);
    for (int w = 0; w < NWARDS; w++) {
        double x = WARDS[w].sx, y = WARDS[w].sy;
        if (x < sx || x >= sx + 2000 || y > sy || y <= sy - 2000)
            continue;
        char name[96];
        snprintf(name, sizeof name, "%s %s", WARDS[w].level, WARDS[w].name);
        char *t = enc(CT_ENC_TCVN3, name);
        dgn_text(ly, x, y, t, 63, 8.0);
        free(t);
        json_object_array_add(labels, json_object_new_string(name));
        ntext++;
    }
    /* street and canal names along the sheet's major roads and canals */
    static const char *const CANALS[] = {"Rạch Cái Sơn", "Rạch Bà Bộ", "Rạch Mương Khai", "Rạch Ông Đề", "Kênh Thủy Lợi"};
    for (int i = 0; i + 1 < NI; i++)
        for (int j = 0; j < NJ; j++) {
            int kind = W.hedge[i][j];
            if ((kind != EDGE_MAJOR_ROAD && kind != EDGE_CANAL) || (i % 2))
                continue;
            pt m = {(W.node[i][j].x + W.node[i + 1][j].x) / 2, (W.node[i][j].y + W.node[i + 1][j].y) / 2};
            if (m.x < sx || m.x >= sx + 2000 || m.y > sy || m.y <= sy - 2000)
                continue;
            char name[96];
            if (kind == EDGE_MAJOR_ROAD)
                snprintf(name, sizeof name, "Đường %s", STREETS[W.hname[j]]);
            else
                snprintf(name, sizeof name, "%s", CANALS[(j / 4) % 5]);
            char *t = enc(CT_ENC_TCVN3, name);
            dgn_text(ly, m.x, m.y, t, 62, 4.0);
            free(t);
            ntext++;
            if (json_object_array_length(labels) < 12)
                json_object_array_add(labels, json_object_new_string(name));
        }

    /* unique boundary segments */
    int cap = 65536, ns = 0;
    seg *sg = malloc((size_t)cap * sizeof *sg);
    pt ring[256];
    for (int i = SHEET_START[s]; i < SHEET_START[s + 1]; i++) {
        const lot *l = &L[ORDER[i]];
        int n = lot_ring(l, ring, 256, 0);
        for (int k = 0; k < n; k++) {
            pt a = ring[k], b = ring[(k + 1) % n];
            /* millimetre coordinates: the DGN's resolution, and exact keys for dedup */
            double ax = round(a.x * 1000) / 1000, ay = round(a.y * 1000) / 1000;
            double bx = round(b.x * 1000) / 1000, by = round(b.y * 1000) / 1000;
            if (ax == bx && ay == by)
                continue;
            if (ns == cap)
                sg = realloc(sg, (size_t)(cap *= 2) * sizeof *sg);
            if (ax < bx || (ax == bx && ay < by))
                sg[ns++] = (seg){ax, ay, bx, by, ORDER[i], -1};
            else
                sg[ns++] = (seg){bx, by, ax, ay, ORDER[i], -1};
        }
    }
    qsort(sg, (size_t)ns, sizeof *sg, cmp_seg);
    int nu = 0;
    for (int k = 0; k < ns; k++) {
        if (nu && !cmp_seg(&sg[nu - 1], &sg[k])) {
            sg[nu - 1].b = sg[k].a;
            continue;
        }
        sg[nu++] = sg[k];
    }
    /* planted: one boundary between two parcels was never digitised */
    int missing = -1;
    for (int tries = 0; tries < 100000 && missing < 0; tries++) {
        int k = rng_int(g, nu);
        if (sg[k].b >= 0 && strcmp(L[sg[k].a].code, "DGT") && strcmp(L[sg[k].b].code, "DGT") &&
            hypot(sg[k].x1 - sg[k].x0, sg[k].y1 - sg[k].y0) > 15)
            missing = k;
    }
    int nlines = 0;
    for (int k = 0; k < nu; k++) {
        if (k == missing)
            continue;
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(ly));
        OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "Level"), 10);
        OGRGeometryH ln = OGR_G_CreateGeometry(wkbLineString);
        OGR_G_AddPoint_2D(ln, X0 + sg[k].x0, Y0 + sg[k].y0);
        OGR_G_AddPoint_2D(ln, X0 + sg[k].x1, Y0 + sg[k].y1);
        OGR_F_SetGeometryDirectly(f, ln);
        if (OGR_L_CreateFeature(ly, f) != OGRERR_NONE)
            die("%s: cannot write a line: %s", relcopy, CPLGetLastErrorMsg());
        OGR_F_Destroy(f);
        nlines++;
    }
    /* labels: the parcel number (level 13) above the land-use code (level 14), at the centroid */
    for (int i = SHEET_START[s]; i < SHEET_START[s + 1]; i++) {
        lot *l = &L[ORDER[i]];
        l->index = i - SHEET_START[s];
        char num[16];
        snprintf(num, sizeof num, "%d", l->number);
        double size = l->area < 300 ? 1.0 : 2.0;
        dgn_text(ly, l->c.x, l->c.y + size * 0.7, num, 13, size);
        dgn_text(ly, l->c.x, l->c.y - size * 0.7, l->code, 14, size);
        ntext += 2;
    }
    GDALClose(ds);
    if (rename(tmp, outpath(relcopy)))
        die("%s: cannot move into place", relcopy);

    json_object_object_add(kf, "feature_count", json_object_new_int(nlines + ntext));
    json_object_object_add(kf, "line_elements", json_object_new_int(nlines));
    json_object_object_add(kf, "text_elements", json_object_new_int(ntext));
    json_object_object_add(kf, "levels", json_object_new_string("10 boundaries, 13 parcel numbers, 14 land-use codes, 62 street and canal names, 63 title and ward names"));
    json_object_object_add(kf, "annotation_labels_utf8", labels);
    if (missing >= 0) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "kind", json_object_new_string(DEFECT_NAME[D_MISSING_LINE]));
        json_object_object_add(e, "sheet", json_object_new_int(s));
        json_object_object_add(e, "SoThua", json_object_new_int(L[sg[missing].a].number));
        json_object_object_add(e, "other_SoThua", json_object_new_int(L[sg[missing].b].number));
        json_object_object_add(e, "x0", jnum(X0 + sg[missing].x0, 3));
        json_object_object_add(e, "y0", jnum(Y0 + sg[missing].y0, 3));
        json_object_object_add(e, "x1", jnum(X0 + sg[missing].x1, 3));
        json_object_object_add(e, "y1", jnum(Y0 + sg[missing].y1, 3));
        json_object_array_add(defects, e);
    }
    free(sg);
}

/* ---------------------------------------------------------------------------------------- */
/* Planning zones: 2 × 2 blocks each; the plan keeps what is there, except where it does not. */

typedef struct zone {
    char id[16], code[4];
    double far, agri;
    int floors;
    const char *decision, *name;
    int nblocks, blocks[4];
} zone;

static int allowed(const char *zone_code, const char *lot_code)
{
    static const struct { const char *zone, *codes; } A[] = {
        {"ODT", "ODT ONT TMD DGD DYT TSC DVH DGT SON DTL SKC CLN"},
        {"TMD", "TMD ODT DGT"},
        {"LUC", "LUC CLN NTS HNK BHK NHK ONT ODT DGT SON DTL"},
        {"CLN", "LUC CLN NTS HNK BHK NHK ONT ODT DGT SON DTL"},
        {"DKV", "DKV DGT SON"},
        {"DGD", "DGD DGT"},
    };
    for (size_t k = 0; k < sizeof A / sizeof A[0]; k++)
        if (!strcmp(A[k].zone, zone_code))
            return strstr(A[k].codes, lot_code) != NULL;
    return 0;
}

static void write_planning(json_object *kp)
{
    int nz = 0;
    zone *Zs = calloc((size_t)NB, sizeof *Zs);
    int zmap[NI / 2 + 1][NJ / 2 + 1];
    memset(zmap, -1, sizeof zmap);
    for (int bi = 0; bi < NB; bi++) {
        int zi = B[bi].i / 2, zj = B[bi].j / 2;
        if (zmap[zi][zj] < 0) {
            zmap[zi][zj] = nz;
            snprintf(Zs[nz].id, sizeof Zs[nz].id, "QH-%03d", nz + 1);
            nz++;
        }
        zone *z = &Zs[zmap[zi][zj]];
        z->blocks[z->nblocks++] = bi;
        B[bi].zone = zmap[zi][zj];
    }
    /* what the land is used for now, by area */
    double *res = calloc((size_t)nz, sizeof *res), *agr = calloc((size_t)nz, sizeof *agr),
           *cln = calloc((size_t)nz, sizeof *cln);
    double *urb = calloc((size_t)nz, sizeof *urb);
    for (int i = 0; i < NL; i++) {
        int z = B[L[i].blk].zone;
        const char *c = L[i].code;
        if (!strcmp(c, "LUC") || !strcmp(c, "NTS") || !strcmp(c, "HNK") || !strcmp(c, "BHK") || !strcmp(c, "NHK"))
            agr[z] += L[i].area;
        else if (!strcmp(c, "CLN"))
            cln[z] += L[i].area;
        else
            res[z] += L[i].area;
        if (B[L[i].blk].cls == ZONE_URBAN || B[L[i].blk].cls == 100)
            urb[z] += L[i].area;
    }
    rng g = rng_new(41);
    for (int z = 0; z < nz; z++) {
        zone *q = &Zs[z];
        if (res[z] >= agr[z] + cln[z]) {
            int core = urb[z] > res[z] * 0.5;
            snprintf(q->code, sizeof q->code, "ODT");
            q->far = core ? 3.0 + 0.5 * rng_int(&g, 5) : 1.5 + 0.5 * rng_int(&g, 3);
            q->floors = core ? 5 + rng_int(&g, 5) : 3 + rng_int(&g, 3);
            q->name = core ? "Khu dân cư hiện hữu chỉnh trang" : "Khu dân cư mật độ thấp";
            q->decision = "1515/QĐ-UBND ngày 30/12/2022";
        } else {
            snprintf(q->code, sizeof q->code, "%s", agr[z] >= cln[z] ? "LUC" : "CLN");
            q->far = 0.0;
            q->floors = 1;
            q->name = agr[z] >= cln[z] ? "Vùng sản xuất lúa chất lượng cao" : "Vùng cây ăn trái";
            q->decision = "2038/QĐ-UBND ngày 15/09/2021";
        }
    }
    /* planted conflicts: a park and a school planned over existing houses, and a residential
     * extension planned over fields (decision of 2023 adjusting the 2022 plan) */
    int *nlots = calloc((size_t)nz, sizeof *nlots);
    for (int i = 0; i < NL; i++)
        nlots[B[L[i].blk].zone]++;
    int done[3] = {-1, -1, -1};
    for (int z = nz / 3; z < nz; z++) {
        zone *q = &Zs[z];
        int peri = 0;
        for (int k = 0; k < q->nblocks; k++)
            peri |= B[q->blocks[k]].cls == ZONE_PERI;
        if (done[0] < 0 && peri && !strcmp(q->code, "ODT") && nlots[z] >= 20 && nlots[z] <= 90) {
            done[0] = z;
            snprintf(q->code, sizeof q->code, "DKV"), q->far = 0.1, q->floors = 1;
            q->name = "Công viên cây xanh - khu vui chơi công cộng";
            q->decision = "3249/QĐ-UBND ngày 28/12/2023";
        } else if (done[1] < 0 && done[0] >= 0 && z > done[0] + 5 && !strcmp(q->code, "ODT") &&
                   nlots[z] >= 10 && nlots[z] <= 150) {
            done[1] = z;
            snprintf(q->code, sizeof q->code, "DGD"), q->far = 1.5, q->floors = 4;
            q->name = "Trường trung học cơ sở (quy hoạch mới)";
            q->decision = "3249/QĐ-UBND ngày 28/12/2023";
        } else if (done[2] < 0 && done[1] >= 0 && z > done[1] + 5 && strcmp(q->code, "ODT") &&
                   nlots[z] >= 5 && nlots[z] <= 60) {
            done[2] = z;
            snprintf(q->code, sizeof q->code, "ODT"), q->far = 2.0, q->floors = 5;
            q->name = "Khu đô thị mới (mở rộng)";
            q->decision = "3249/QĐ-UBND ngày 28/12/2023";
        }
    }
    free(nlots);
    json_object *planted_zones = json_object_new_array();
    for (int k = 0; k < 3; k++)
        if (done[k] >= 0)
            json_object_array_add(planted_zones, json_object_new_string(Zs[done[k]].id));
        else
            fprintf(stderr, "gen-samples: warning: planned conflict zone %d not placed\n", k);
    json_object_object_add(kp, "planted_conflict_zones", planted_zones);

    ct_field_def fd[] = {
        {"MaKhu", CT_FIELD_STRING, 8, 0},    {"TenKhu", CT_FIELD_STRING, 80, 0},
        {"MaQH", CT_FIELD_STRING, 5, 0},     {"HeSoSDD", CT_FIELD_REAL, 5, 1},
        {"TangCao", CT_FIELD_INT, 3, 0},     {"QuyetDinh", CT_FIELD_STRING, 60, 0},
    };
    ct_vsink_opts o = {.layer = "quy_hoach", .gtype = CT_GEOM_MULTIPOLYGON, .crs = crs_vn2000(),
                       .fields = fd, .nfields = 6, .text_encoding = CT_ENC_UTF8};
    ct_vsink *sk;
    const char *rel = "planning/quy-hoach-phan-khu.shp";
    check(ct_vsink_create(CTX, outpath(rel), &o, &sk), rel);
    GEOSContextHandle_t h = ct_geos(CTX);
    GEOSGeometry *lands[2] = {land_side(1), land_side(-1)};
    GEOSGeometry *land = GEOSUnion_r(h, lands[0], lands[1]);
    json_object *zc = json_object_new_object();
    int nwritten = 0;
    for (int z = 0; z < nz; z++) {
        zone *q = &Zs[z];
        GEOSGeometry *parts[4];
        for (int k = 0; k < q->nblocks; k++)
            parts[k] = geos_ring_polygon(B[q->blocks[k]].q, 4, 1);
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)q->nblocks);
        GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
        GEOSGeometry *x = GEOSIntersection_r(h, u, land);
        GEOSGeom_destroy_r(h, coll), GEOSGeom_destroy_r(h, u);
        /* keep only the polygons (an intersection may add stray lines or points) */
        int np = GEOSGetNumGeometries_r(h, x), kept = 0;
        GEOSGeometry **polys = calloc((size_t)np + 1, sizeof *polys);
        for (int k = 0; k < np; k++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(h, x, k);
            if (GEOSGeomTypeId_r(h, p) == GEOS_POLYGON)
                polys[kept++] = GEOSGeom_clone_r(h, p);
            else if (GEOSGeomTypeId_r(h, p) == GEOS_MULTIPOLYGON)
                for (int m = 0; m < GEOSGetNumGeometries_r(h, p); m++)
                    polys[kept++] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, p, m)), polys = realloc(polys, (size_t)(kept + np + 1) * sizeof *polys);
        }
        GEOSGeom_destroy_r(h, x);
        GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)kept);
        free(polys);
        char far[16], fl[8];
        snprintf(far, sizeof far, "%.1f", q->far);
        snprintf(fl, sizeof fl, "%d", q->floors);
        const char *v[] = {q->id, q->name, q->code, far, fl, q->decision};
        check(ct_vsink_write(CTX, sk, mp, v), rel);
        GEOSGeom_destroy_r(h, mp);
        nwritten++;
        json_object *cnt = json_object_object_get(zc, q->code);
        json_object_object_add(zc, q->code, json_object_new_int(cnt ? json_object_get_int(cnt) + 1 : 1));
    }
    GEOSGeom_destroy_r(h, land);
    check(ct_vsink_commit(CTX, sk), rel);
    patch_dbf_date("planning/quy-hoach-phan-khu.dbf");

    json_object *conf = json_object_new_array();
    int nconf = 0;
    for (int k = 0; k < NL; k++) {
        lot *l = &L[ORDER[k]];
        if (l->empty || l->defect == D_BOWTIE)
            continue;
        const zone *q = &Zs[B[l->blk].zone];
        if (allowed(q->code, l->code))
            continue;
        json_object *e = json_object_new_object();
        json_object_object_add(e, "file", json_object_new_string(sheet_file(l->sheet)));
        json_object_object_add(e, "sheet", json_object_new_int(l->sheet));
        json_object_object_add(e, "SoThua", json_object_new_int(l->number));
        json_object_object_add(e, "index", json_object_new_int(l->index));
        json_object_object_add(e, "MucDich", json_object_new_string(l->code));
        json_object_object_add(e, "zone", json_object_new_string(q->id));
        json_object_object_add(e, "MaQH", json_object_new_string(q->code));
        json_object_object_add(e, "x", jnum(X0 + l->c.x, 2));
        json_object_object_add(e, "y", jnum(Y0 + l->c.y, 2));
        json_object_array_add(conf, e);
        nconf++;
    }
    json_object_object_add(kp, "file", json_object_new_string(rel));
    json_object_object_add(kp, "feature_count", json_object_new_int(nwritten));
    json_object_object_add(kp, "zones_by_code", zc);
    json_object_object_add(kp, "conflict_rule", json_object_new_string(
        "a parcel conflicts when its MucDich is not allowed in the zone holding its centroid: "
        "ODT allows ODT ONT TMD DGD DYT TSC DVH DGT SON DTL SKC CLN; TMD allows TMD ODT DGT; "
        "LUC and CLN allow LUC CLN NTS HNK BHK NHK ONT ODT DGT SON DTL; DKV allows DKV DGT SON; "
        "DGD allows DGD DGT. Bow-tie and empty parcels are left out."));
    json_object_object_add(kp, "conflict_count", json_object_new_int(nconf));
    json_object_object_add(kp, "conflicts", conf);
    free(res), free(agr), free(cln), free(urb), free(Zs);
}

/* ---------------------------------------------------------------------------------------- */

static json_object *defect_json(const planted *p)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "kind", json_object_new_string(DEFECT_NAME[p->kind]));
    json_object_object_add(e, "sheet", json_object_new_int(p->sheet));
    if (p->lot >= 0) {
        const lot *l = &L[p->lot];
        json_object_object_add(e, "index", json_object_new_int(l->index));
        json_object_object_add(e, "SoThua", json_object_new_int(l->number));
    }
    switch (p->kind) {
    case D_OVERLAP:
    case D_GAP:
        json_object_object_add(e, "neighbour_index", json_object_new_int(L[p->other].index));
        json_object_object_add(e, "neighbour_SoThua", json_object_new_int(L[p->other].number));
        json_object_object_add(e, p->kind == D_GAP ? "gap_area_m2" : "overlap_area_m2", jnum(p->a, 3));
        json_object_object_add(e, "width_m", jnum(p->b, 3));
        break;
    case D_SLIVER:
        json_object_object_add(e, "index", json_object_new_int(EX[p->extra].index));
        json_object_object_add(e, "SoThua", json_object_new_int(0));
        json_object_object_add(e, "between_SoThua", json_object_new_int(L[p->lot].number));
        json_object_object_add(e, "and_SoThua", json_object_new_int(L[p->other].number));
        json_object_object_add(e, "area_m2", jnum(p->a, 3));
        json_object_object_add(e, "width_m", jnum(p->b, 3));
        break;
    case D_DUPLICATE:
        json_object_object_add(e, "other_index", json_object_new_int(L[p->other].index));
        json_object_object_add(e, "true_SoThua", jnum(p->a, 0));
        break;
    case D_AREA:
        json_object_object_add(e, "DienTich", jnum(p->a, 1));
        json_object_object_add(e, "drawn_area_m2", jnum(p->b, 2));
        json_object_object_add(e, "diff_pct", jnum((p->a - p->b) / p->b * 100, 2));
        break;
    case D_OUTSIDE:
        json_object_object_add(e, "index", json_object_new_int(EX[p->extra].index));
        json_object_object_add(e, "SoThua", json_object_new_int(EX[p->extra].number));
        json_object_object_add(e, "x", jnum(X0 + p->p0.x, 2));
        json_object_object_add(e, "y", jnum(Y0 + p->p0.y, 2));
        break;
    case D_OLDCODE:
        json_object_object_add(e, "MucDich", json_object_new_string(p->oldcode));
        break;
    case D_BOWTIE:
        json_object_object_add(e, "DienTich", jnum(L[p->lot].legal, 1));
        break;
    default:
        break;
    }
    return e;
}

static void sample_strings(json_object *kf, int s)
{
    json_object *arr = json_object_new_array();
    int n = SHEET_START[s + 1] - SHEET_START[s];
    static const double at[3] = {0.1, 0.5, 0.9};
    for (int k = 0; k < 3; k++) {
        const lot *l = &L[ORDER[SHEET_START[s] + (int)(at[k] * n)]];
        json_object *e = json_object_new_object();
        char wname[96];
        snprintf(wname, sizeof wname, "%s %s", WARDS[l->ward].level, WARDS[l->ward].name);
        json_object_object_add(e, "index", json_object_new_int(l->index));
        json_object_object_add(e, "SoThua", json_object_new_int(l->number));
        json_object_object_add(e, "MucDich", json_object_new_string(l->code));
        json_object_object_add(e, "TenChu", json_object_new_string(l->owner));
        json_object_object_add(e, "DiaChi", json_object_new_string(l->addr));
        json_object_object_add(e, "MaXa", json_object_new_string(WARDS[l->ward].code));
        json_object_object_add(e, "ward_name", json_object_new_string(wname));
        json_object_array_add(arr, e);
    }
    json_object_object_add(kf, "sample_strings", arr);
}

void gen_cadastre(void)
{
    make_blocks();
    make_lots();
    owners_addresses();
    number_lots();
    plant_defects();

    json_object *kc = json_object_new_object(), *files = json_object_new_array(), *totals = json_object_new_object();
    rng g = rng_new(43);
    int nfeat = 0;
    for (int s = 1; s <= 9; s++) {
        json_object *kf = json_object_new_object(), *defs = json_object_new_array();
        enum fmt f = SHEET_FMT[s];
        json_object_object_add(kf, "file", json_object_new_string(sheet_file(s)));
        json_object_object_add(kf, "sheet", json_object_new_int(s));
        static const char *const fmtname[] = {"ESRI Shapefile", "ESRI Shapefile", "GeoJSON", "DGN"};
        static const char *const encname[] = {"tcvn3", "vni", "utf8", "tcvn3"};
        static const char *const crsname[] = {
            "vn2000:105 (ESRI .prj: custom Transverse_Mercator on GCS_WGS_1984, k 0.9999, meridian 105)",
            "vn2000:105 (ESRI .prj: custom Transverse_Mercator on GCS_WGS_1984, k 0.9999, meridian 105)",
            "EPSG:4326 (transformed from vn2000:105 with the official EPSG:6960 parameters)",
            "none (coordinates are vn2000:105 metres)"};
        json_object_object_add(kf, "format", json_object_new_string(fmtname[f]));
        json_object_object_add(kf, "encoding", json_object_new_string(encname[f]));
        json_object_object_add(kf, "crs", json_object_new_string(crsname[f]));
        json_object_object_add(kf, "parcels", json_object_new_int(SHEET_START[s + 1] - SHEET_START[s]));
        if (f == F_DGN)
            write_sheet_dgn(s, kf, defs, &g);
        else
            write_sheet_vector(s, kf);
        nfeat += SHEET_START[s + 1] - SHEET_START[s];
        json_object *areas;
        json_object_object_add(kf, "landuse_counts", code_counts(&areas, s));
        json_object_object_add(kf, "landuse_legal_area_m2", areas);
        for (int k = 0; k < NPL; k++)
            if (PL[k].sheet == s) {
                json_object *e = defect_json(&PL[k]);
                json_object_object_add(e, "file", json_object_new_string(sheet_file(s)));
                json_object_array_add(defs, e);
                const char *kind = DEFECT_NAME[PL[k].kind];
                json_object *c = json_object_object_get(totals, kind);
                json_object_object_add(totals, kind, json_object_new_int(c ? json_object_get_int(c) + 1 : 1));
            }
        json_object_object_add(kf, "defects", defs);
        sample_strings(kf, s);
        json_object_array_add(files, kf);
    }
    json_object_object_add(totals, DEFECT_NAME[D_MISSING_LINE], json_object_new_int(1));
    json_object_object_add(kc, "parcels_total", json_object_new_int(nfeat));
    json_object_object_add(kc, "fields", json_object_new_string(
        "SoTo sheet, SoThua parcel number, DienTich legal area m2, MucDich land-use code, "
        "TenChu owner (synthetic), DiaChi address, MaXa ward code (before 1 July 2025)"));
    json_object_object_add(kc, "defect_totals", totals);
    json_object_object_add(kc, "files", files);
    json_object_object_add(KEY, "cadastral", kc);

    json_object *kp = json_object_new_object();
    write_planning(kp);
    json_object_object_add(KEY, "planning", kp);
    fprintf(stderr, "gen-samples: %d parcels in %d blocks\n", NL, NB);
}
