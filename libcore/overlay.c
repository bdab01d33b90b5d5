/* overlay.c — exact coverage fractions, zonal statistics and polygon overlay (see ct/overlay.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <dirent.h>
#include <json-c/json.h>

#include "ct/crs.h"
#include "ct/landuse.h"
#include "ct/overlay.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/text.h"
#include "ct/vector.h"
#include "raster_int.h"
#include <cpl_conv.h>

/* ---------------------------------------------------------------------------------------- */
/* Polygons as rings of plain coordinates.                                                   */

/* A set of polygons stored as rings; poly i owns rings [poly_ring[i], poly_ring[i + 1]). */
typedef struct rings {
    double *x, *y;       /* vertices, each ring closed (last == first) */
    size_t n, cap;
    size_t *ring_off;    /* ring j: vertices [ring_off[j], ring_off[j + 1]) */
    unsigned char *hole; /* ring j is a hole */
    size_t nrings, rcap;
} rings;

static void rings_free(rings *r)
{
    free(r->x);
    free(r->y);
    free(r->ring_off);
    free(r->hole);
    memset(r, 0, sizeof *r);
}

static int rings_reserve(rings *r, size_t more_pts, size_t more_rings)
{
    size_t cap = ct_grow_cap(r->cap, r->n + more_pts);
    if (cap > r->cap) {
        if (ct_resize(&r->x, cap, sizeof *r->x) || ct_resize(&r->y, cap, sizeof *r->y))
            return 0;
        r->cap = cap;
    }
    cap = ct_grow_cap(r->rcap, r->nrings + more_rings + 1);
    if (cap > r->rcap) {
        if (ct_resize(&r->ring_off, cap, sizeof *r->ring_off) || ct_resize(&r->hole, cap, sizeof *r->hole))
            return 0;
        r->rcap = cap;
    }
    return 1;
}

static int add_ring(GEOSContextHandle_t h, rings *r, const GEOSGeometry *ring, int hole)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return 0;
    if (n < 4)
        return 1; /* degenerate: no area */
    if (!rings_reserve(r, n, 1))
        return 0;
    if (r->nrings == 0)
        r->ring_off[0] = r->n;
    for (unsigned int i = 0; i < n; i++)
        GEOSCoordSeq_getXY_r(h, cs, i, &r->x[r->n + i], &r->y[r->n + i]);
    r->n += n;
    r->hole[r->nrings] = (unsigned char)hole;
    r->ring_off[++r->nrings] = r->n;
    return 1;
}

/* Appends the polygonal parts of g; @return 0 when out of memory. *npoly counts polygons seen. */
static int add_geom(GEOSContextHandle_t h, rings *r, const GEOSGeometry *g, int *npoly)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) == 1)
            return 1;
        ++*npoly;
        if (!add_ring(h, r, GEOSGetExteriorRing_r(h, g), 0))
            return 0;
        int ni = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < ni; i++)
            if (!add_ring(h, r, GEOSGetInteriorRingN_r(h, g, i), 1))
                return 0;
        return 1;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            if (!add_geom(h, r, GEOSGetGeometryN_r(h, g, i), npoly))
                return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Coverage fractions (the algorithm is described in ct/overlay.h).                          */

/* A polygon in cell coordinates: u = column, v = row, each ring with its sign. */
typedef struct cpoly {
    const double *u, *v;
    const size_t *ring_off; /* rings [0, nrings) of this polygon */
    const double *sign;
    size_t nrings;
} cpoly;

/* Scratch of one coverage window: partial trapezoids, left-of markers, right-of sums per row. */
typedef struct cover_buf {
    double *m, *right;
    size_t mcap, rcap;
} cover_buf;

static int cover_buf_reserve(cover_buf *b, size_t cells, size_t rows)
{
    return !ct_grow(&b->m, &b->mcap, cells, sizeof *b->m) && !ct_grow(&b->right, &b->rcap, rows, sizeof *b->right);
}

/* One edge piece inside row `row` (window-relative), from (ua, va) to (ub, vb). */
static inline void add_piece(double *part, double *m, double *right, int col0, int ncols, int row,
                             double ua, double va, double ub, double vb, double s)
{
    double dv = (vb - va) * s;
    double lo = ua < ub ? ua : ub, hi = ua < ub ? ub : ua;
    double *prow = part + (size_t)row * ncols, *mrow = m + (size_t)row * ncols;
    int cend = col0 + ncols;
    if (hi <= col0)
        return;                    /* left of the window: the window's cells are right of it */
    if (lo >= cend) {
        right[row] += dv;          /* right of the window: every cell of the row is left of it */
        return;
    }
    if (hi == lo) {                /* vertical */
        int k = (int)floor(lo);
        prow[k - col0] += dv * (lo - k);
        mrow[k - col0] += dv;
        return;
    }
    double span = hi - lo;
    if (hi > cend) {               /* the part right of the window */
        right[row] += dv * (hi - cend) / span;
    }
    int kfirst = (int)floor(lo), klast = (int)ceil(hi) - 1;
    if (kfirst < col0)
        kfirst = col0;
    if (klast > cend - 1)
        klast = cend - 1;
    for (int k = kfirst; k <= klast; k++) {
        double a = lo > k ? lo : k, b = hi < k + 1 ? hi : k + 1;
        if (b <= a)
            continue;
        double d = dv * (b - a) / span;
        prow[k - col0] += d * (0.5 * (a + b) - k);
        mrow[k - col0] += d;
    }
}

/* Coverage of p over the window into frac (ncols × nrows). */
static void cover_window(const cpoly *p, int col0, int row0, int ncols, int nrows, double *frac,
                         cover_buf *buf)
{
    size_t cells = (size_t)ncols * nrows;
    double *m = buf->m, *right = buf->right;
    memset(frac, 0, cells * sizeof *frac);
    memset(m, 0, cells * sizeof *m);
    memset(right, 0, (size_t)nrows * sizeof *right);
    int rend = row0 + nrows;
    for (size_t j = 0; j < p->nrings; j++) {
        double s = p->sign[j];
        for (size_t i = p->ring_off[j]; i + 1 < p->ring_off[j + 1]; i++) {
            double x0 = p->u[i], y0 = p->v[i], x1 = p->u[i + 1], y1 = p->v[i + 1];
            if (y0 == y1)
                continue; /* horizontal edges add nothing */
            double ylo = y0 < y1 ? y0 : y1, yhi = y0 < y1 ? y1 : y0;
            if (yhi <= row0 || ylo >= rend)
                continue;
            int rfirst = (int)floor(ylo), rlast = (int)ceil(yhi) - 1;
            if (rfirst < row0)
                rfirst = row0;
            if (rlast > rend - 1)
                rlast = rend - 1;
            double dudv = (x1 - x0) / (y1 - y0);
            for (int r = rfirst; r <= rlast; r++) {
                double va, vb;
                if (y1 > y0) {
                    va = y0 > r ? y0 : r;
                    vb = y1 < r + 1 ? y1 : r + 1;
                } else {
                    va = y0 < r + 1 ? y0 : r + 1;
                    vb = y1 > r ? y1 : r;
                }
                if (va == vb)
                    continue;
                double ua = va == y0 ? x0 : x0 + (va - y0) * dudv;
                double ub = vb == y1 ? x1 : x0 + (vb - y0) * dudv;
                add_piece(frac, m, right, col0, ncols, r - row0, ua, va, ub, vb, s);
            }
        }
    }
    for (int r = 0; r < nrows; r++) {
        double acc = right[r];
        double *f = frac + (size_t)r * ncols, *mr = m + (size_t)r * ncols;
        for (int c = ncols - 1; c >= 0; c--) {
            double v = f[c] + acc;
            acc += mr[c];
            f[c] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
}

/* Signed shoelace area of a closed ring. */
static double ring_area(const double *x, const double *y, size_t n)
{
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++)
        a += (x[i] - x[0]) * (y[i + 1] - y[0]) - (x[i + 1] - x[0]) * (y[i] - y[0]);
    return 0.5 * a;
}

/* Converts world coordinates to cell coordinates of gt, in place. */
static void to_cells(double *x, double *y, size_t n, const double gt[6])
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (x[i] - gt[0]) / gt[1];
        y[i] = (y[i] - gt[3]) / gt[5];
    }
}

/* Sign of each ring (+1 shell, -1 hole, whatever their orientation in cell space) and the
 * area of polygon rings [r0, r1) in cells. */
static double ring_signs(const rings *R, const double *u, const double *v, size_t r0, size_t r1,
                         double *sign)
{
    double area = 0;
    for (size_t j = r0; j < r1; j++) {
        size_t a = R->ring_off[j], n = R->ring_off[j + 1] - a;
        double ar = ring_area(u + a, v + a, n);
        double s = (ar >= 0 ? 1.0 : -1.0) * (R->hole[j] ? -1.0 : 1.0);
        sign[j] = s;
        area += s * ar;
    }
    return area;
}

static ct_status check_gt(ct_ctx *ctx, const double gt[6])
{
    if (gt[2] != 0 || gt[4] != 0)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "rotated or sheared grids are not supported");
    if (gt[1] == 0 || gt[5] == 0 || !isfinite(gt[1]) || !isfinite(gt[5]))
        return ct_error(ctx, CT_ERR_INVALID, "the grid has a zero cell size");
    return CT_OK;
}

/* Builds a one-polygon cpoly from g with cells of gt; frees with free() of *u, *v, *sign. */
static ct_status cpoly_from_geos(ct_ctx *ctx, const GEOSGeometry *g, const double gt[6], rings *R,
                                 cpoly *p, double **sign, double *area_cells)
{
    int np = 0;
    memset(R, 0, sizeof *R);
    if (!add_geom(ct_geos(ctx), R, g, &np))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    to_cells(R->x, R->y, R->n, gt);
    *sign = malloc((R->nrings + 1) * sizeof **sign);
    if (!*sign)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    *area_cells = ring_signs(R, R->x, R->y, 0, R->nrings, *sign);
    p->u = R->x;
    p->v = R->y;
    p->ring_off = R->ring_off;
    p->sign = *sign;
    p->nrings = R->nrings;
    return CT_OK;
}

ct_status ct_coverage_fractions(ct_ctx *ctx, const GEOSGeometry *g, const double gt[6], int col0,
                                int row0, int ncols, int nrows, double *frac)
{
    ct_status st = check_gt(ctx, gt);
    if (st)
        return st;
    if (ncols <= 0 || nrows <= 0)
        return ct_error(ctx, CT_ERR_USAGE, "coverage window of %d x %d cells", ncols, nrows);
    rings R;
    cpoly p;
    double *sign = NULL, area;
    cover_buf buf = {0};
    st = cpoly_from_geos(ctx, g, gt, &R, &p, &sign, &area);
    if (!st && !cover_buf_reserve(&buf, (size_t)ncols * nrows, (size_t)nrows))
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    if (!st) {
        if (R.nrings)
            cover_window(&p, col0, row0, ncols, nrows, frac, &buf);
        else
            memset(frac, 0, (size_t)ncols * nrows * sizeof *frac);
    }
    free(buf.m);
    free(buf.right);
    free(sign);
    rings_free(&R);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Accumulating statistics.                                                                  */

static const double default_classes[] = {0, 0.2, 0.5, 1.0};

/* Majority: an open-addressing table of value → weight. */
typedef struct hist {
    double *val, *w;
    size_t n, cap;
} hist;

static int hist_add(hist *h, double v, double w)
{
    if (2 * (h->n + 1) > h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        double *nv = malloc(cap * sizeof *nv), *nw = calloc(cap, sizeof *nw);
        if (!nv || !nw) {
            free(nv);
            free(nw);
            return 0;
        }
        for (size_t i = 0; i < cap; i++)
            nv[i] = NAN;
        for (size_t i = 0; i < h->cap; i++)
            if (!isnan(h->val[i])) {
                uint64_t b;
                memcpy(&b, &h->val[i], 8);
                size_t k = (size_t)((b * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
                while (!isnan(nv[k]))
                    k = (k + 1) & (cap - 1);
                nv[k] = h->val[i];
                nw[k] = h->w[i];
            }
        free(h->val);
        free(h->w);
        h->val = nv;
        h->w = nw;
        h->cap = cap;
    }
    if (v == 0)
        v = 0; /* -0.0 and 0.0 are one value */
    uint64_t b;
    memcpy(&b, &v, 8);
    size_t k = (size_t)((b * 0x9E3779B97F4A7C15ull) >> 20) & (h->cap - 1);
    while (!isnan(h->val[k]) && h->val[k] != v)
        k = (k + 1) & (h->cap - 1);
    if (isnan(h->val[k])) {
        h->val[k] = v;
        h->n++;
    }
    h->w[k] += w;
    return 1;
}

static double hist_majority(const hist *h)
{
    double best = NAN, bw = -1;
    for (size_t i = 0; i < h->cap; i++)
        if (!isnan(h->val[i]) && (h->w[i] > bw || (h->w[i] == bw && h->val[i] < best))) {
            best = h->val[i];
            bw = h->w[i];
        }
    return best;
}

/* Sums of one polygon over one raster, in cell units (weights). */
typedef struct acc {
    double w_all, w_nodata, w_valid, sum, min, max, w_wet;
    double *w_cls;  /* ncls + nabove, in a shared array */
    hist *hist;     /* majority, when asked */
    int oom;
} acc;

typedef struct zparams {
    double cls[CT_ZONAL_MAX_CLASSES], above[CT_ZONAL_MAX_CLASSES];
    int ncls, nabove, majority;
    double wet;
} zparams;

static ct_status zparams_init(ct_ctx *ctx, const ct_zonal_params *p, zparams *z)
{
    memset(z, 0, sizeof *z);
    const double *c = p && p->classes ? p->classes : default_classes;
    int n = p && p->classes ? p->nclasses : 4;
    if (n < 1 || n > CT_ZONAL_MAX_CLASSES)
        return ct_error(ctx, CT_ERR_USAGE, "between 1 and %d class breaks, not %d", CT_ZONAL_MAX_CLASSES, n);
    for (int i = 0; i < n; i++) {
        if (!isfinite(c[i]) || (i && c[i] <= c[i - 1]))
            return ct_error(ctx, CT_ERR_USAGE, "class breaks must be finite and increasing");
        z->cls[i] = c[i];
    }
    z->ncls = n;
    if (p && p->nabove) {
        if (p->nabove < 0 || p->nabove > CT_ZONAL_MAX_CLASSES || !p->above)
            return ct_error(ctx, CT_ERR_USAGE, "at most %d thresholds", CT_ZONAL_MAX_CLASSES);
        for (int i = 0; i < p->nabove; i++)
            z->above[i] = p->above[i];
        z->nabove = p->nabove;
    }
    z->wet = p ? p->wet : 0;
    z->majority = p ? p->majority : 0;
    if (!isfinite(z->wet))
        return ct_error(ctx, CT_ERR_USAGE, "the wet threshold must be a number");
    return CT_OK;
}

static void acc_init(acc *a, double *cls, int n)
{
    memset(a, 0, sizeof *a);
    a->min = INFINITY;
    a->max = -INFINITY;
    a->w_cls = cls;
    memset(cls, 0, (size_t)n * sizeof *cls);
}

static inline void acc_add(acc *a, const zparams *z, double w, double v, int has_nd, double nd)
{
    a->w_all += w;
    if (isnan(v) || (has_nd && v == nd)) {
        a->w_nodata += w;
        return;
    }
    a->w_valid += w;
    a->sum += w * v;
    if (v < a->min)
        a->min = v;
    if (v > a->max)
        a->max = v;
    if (v > z->wet)
        a->w_wet += w;
    if (v > z->cls[0]) {
        int k = z->ncls - 1;
        while (k > 0 && v <= z->cls[k])
            k--;
        a->w_cls[k] += w;
    }
    for (int i = 0; i < z->nabove; i++)
        if (v > z->above[i])
            a->w_cls[z->ncls + i] += w;
    if (z->majority) {
        if (!a->hist && !(a->hist = calloc(1, sizeof *a->hist)))
            a->oom = 1;
        else if (!hist_add(a->hist, v, w))
            a->oom = 1;
    }
}

static void acc_finish(acc *a, const zparams *z, double cell_area, double poly_area_units,
                       ct_zonal_stats *s)
{
    memset(s, 0, sizeof *s);
    s->poly_area = poly_area_units;
    s->area = a->w_all * cell_area;
    s->nodata_area = a->w_nodata * cell_area;
    s->count = a->w_valid;
    s->sum = a->sum;
    int any = a->w_valid > 0;
    s->mean = any ? a->sum / a->w_valid : NAN;
    s->min = any ? a->min : NAN;
    s->max = any ? a->max : NAN;
    s->majority = a->hist ? hist_majority(a->hist) : NAN;
    s->wet_area = a->w_wet * cell_area;
    s->wet_frac = any ? a->w_wet / a->w_valid : NAN;
    for (int i = 0; i < z->ncls; i++)
        s->class_area[i] = a->w_cls[i] * cell_area;
    for (int i = 0; i < z->nabove; i++)
        s->above_area[i] = a->w_cls[z->ncls + i] * cell_area;
}

static void acc_free(acc *a)
{
    if (a->hist) {
        free(a->hist->val);
        free(a->hist->w);
        free(a->hist);
        a->hist = NULL;
    }
}

/* Bounding box of rings [r0, r1) in cell coordinates, as whole cells clipped to [0,w)×[0,h).
 * @return 0 when it misses the grid. */
static int cell_box(const rings *R, const double *u, const double *v, size_t r0, size_t r1, int w,
                    int h, int box[4])
{
    if (r0 == r1)
        return 0;
    double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (size_t i = R->ring_off[r0]; i < R->ring_off[r1]; i++) {
        umin = fmin(umin, u[i]);
        umax = fmax(umax, u[i]);
        vmin = fmin(vmin, v[i]);
        vmax = fmax(vmax, v[i]);
    }
    if (!(umax > 0 && vmax > 0 && umin < w && vmin < h))
        return 0;
    box[0] = umin < 0 ? 0 : (int)floor(umin);
    box[1] = vmin < 0 ? 0 : (int)floor(vmin);
    box[2] = umax > w ? w : (int)ceil(umax);
    box[3] = vmax > h ? h : (int)ceil(vmax);
    return box[2] > box[0] && box[3] > box[1];
}

ct_status ct_zonal_grid(ct_ctx *ctx, const GEOSGeometry *g, const ct_grid *grid,
                        const ct_zonal_params *p, ct_zonal_stats *out)
{
    zparams z;
    double gt[6];
    ct_grid_get_geotransform(grid, gt);
    ct_status st = zparams_init(ctx, p, &z);
    if (!st)
        st = check_gt(ctx, gt);
    if (st)
        return st;
    rings R;
    cpoly cp;
    double *sign = NULL, area = 0, cls[2 * CT_ZONAL_MAX_CLASSES];
    double cell_area = fabs(gt[1] * gt[5]), nd = 0;
    int has_nd = ct_grid_get_nodata(grid, &nd);
    int w = ct_grid_width(grid), h = ct_grid_height(grid), box[4];
    cover_buf buf = {0};
    double *frac = NULL;
    acc a;
    acc_init(&a, cls, z.ncls + z.nabove);
    st = cpoly_from_geos(ctx, g, gt, &R, &cp, &sign, &area);
    if (!st && cell_box(&R, R.x, R.y, 0, R.nrings, w, h, box)) {
        int nc = box[2] - box[0], nr = box[3] - box[1];
        frac = malloc((size_t)nc * nr * sizeof *frac);
        if (!frac || !cover_buf_reserve(&buf, (size_t)nc * nr, (size_t)nr)) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        } else {
            cover_window(&cp, box[0], box[1], nc, nr, frac, &buf);
            for (int r = 0; r < nr; r++)
                for (int c = 0; c < nc; c++) {
                    double f = frac[(size_t)r * nc + c];
                    if (f > 0)
                        acc_add(&a, &z, f, ct_grid_get(grid, box[0] + c, box[1] + r), has_nd, nd);
                }
            if (a.oom)
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        }
    }
    if (!st)
        acc_finish(&a, &z, cell_area, area * cell_area, out);
    acc_free(&a);
    free(frac);
    free(buf.m);
    free(buf.right);
    free(sign);
    rings_free(&R);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Restricted fields.                                                                        */

/* A value that looks like a CMND (9 digits) or CCCD (12 digits) number. */
static int looks_like_id(const char *s)
{
    size_t n = 0;
    while (s[n] && isdigit((unsigned char)s[n]))
        n++;
    return !s[n] && (n == 9 || n == 12);
}

/* ---------------------------------------------------------------------------------------- */
/* Output rows: through ct_vsink, or CSV on a stream.                                        */

typedef struct rowout {
    ct_vsink *sink;
    FILE *csv;
    char *tmp, *dst; /* CSV files: written to tmp beside dst, renamed on success */
    int ncols;
    int with_geom;
} rowout;

static void csv_cell(FILE *f, const char *s)
{
    if (!s)
        return;
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

/* One CSV line of n cells (NULL: empty). */
static void csv_row(FILE *f, const char *const *cells, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        csv_cell(f, cells[i]);
    }
    fputc('\n', f);
}

static ct_status rowout_open(ct_ctx *ctx, rowout *o, const ct_overlay_opts *opts, const char *deflayer,
                             const ct_field_def *defs, int ncols, const ct_crs *crs, FILE *out)
{
    memset(o, 0, sizeof *o);
    o->ncols = ncols;
    const char *dot = strrchr(opts->output ? opts->output : "", '.');
    int is_csv = dot && !strcasecmp(dot, ".csv");
    if (!opts->output || !strcmp(opts->output, "-") || is_csv) {
        /* CSV is written here rather than by OGR, which quotes some numbers and not others */
        o->csv = out;
        if (is_csv) {
            size_t n = strlen(opts->output) + 16;
            o->dst = strdup(opts->output);
            o->tmp = malloc(n);
            if (!o->dst || !o->tmp)
                return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            snprintf(o->tmp, n, "%s.ct-XXXXXX", opts->output);
            int fd = mkstemp(o->tmp);
            if (fd < 0 || !(o->csv = fdopen(fd, "w"))) {
                if (fd >= 0) {
                    close(fd);
                    unlink(o->tmp);
                }
                free(o->tmp);
                o->tmp = NULL;
                return ct_error(ctx, CT_ERR_IO, "%s: cannot write in its folder: %s", opts->output, strerror(errno));
            }
            fchmod(fd, 0644);
        }
        for (int i = 0; i < ncols; i++) {
            if (i)
                fputc(',', o->csv);
            csv_cell(o->csv, defs[i].name);
        }
        fputc('\n', o->csv);
        return CT_OK;
    }
    o->with_geom = 1;
    ct_vsink_opts so = {.layer = opts->output_layer ? opts->output_layer : deflayer,
                        .gtype = CT_GEOM_UNKNOWN,
                        .crs = crs,
                        .fields = defs,
                        .nfields = ncols};
    return ct_vsink_create(ctx, opts->output, &so, &o->sink);
}

static ct_status rowout_write(ct_ctx *ctx, rowout *o, const GEOSGeometry *g, const char *const *vals)
{
    if (o->sink)
        return ct_vsink_write(ctx, o->sink, o->with_geom ? g : NULL, vals);
    csv_row(o->csv, vals, o->ncols);
    return CT_OK;
}

/* Completes the output where it is being written (its temporary file or folder), so that a
 * failure shows before anything else is committed; rowout_close() then puts it in place. */
static ct_status rowout_finish(ct_ctx *ctx, rowout *o)
{
    if (o->sink)
        return ct_vsink_finish(ctx, o->sink);
    if (o->tmp && o->csv) {
        int bad = ferror(o->csv) | fclose(o->csv);
        o->csv = NULL;
        return bad ? ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", o->dst, strerror(errno)) : CT_OK;
    }
    if (o->csv && fflush(o->csv))
        return ct_error(ctx, CT_ERR_IO, "cannot write the output");
    return CT_OK;
}

static ct_status rowout_close(ct_ctx *ctx, rowout *o, ct_status st)
{
    if (!st)
        st = rowout_finish(ctx, o);
    if (o->sink) {
        if (st)
            ct_vsink_abort(o->sink);
        else
            st = ct_vsink_commit(ctx, o->sink);
        o->sink = NULL;
    } else if (o->tmp) {
        if (o->csv)
            fclose(o->csv); /* not finished: the run failed before */
        o->csv = NULL;
        if (!st && rename(o->tmp, o->dst))
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot rename into place: %s", o->dst, strerror(errno));
        if (st)
            unlink(o->tmp);
    }
    free(o->tmp);
    free(o->dst);
    o->tmp = o->dst = NULL;
    return st;
}

/* Column names: grow-only string table. */
typedef struct names {
    char **v;
    ct_field_def *defs;
    int n;
    size_t cap;
} names;

static int names_add(names *nm, const char *name, ct_field_type t)
{
    size_t cap = ct_grow_cap(nm->cap, (size_t)nm->n + 1);
    if (cap > nm->cap) {
        if (ct_resize(&nm->v, cap, sizeof *nm->v) || ct_resize(&nm->defs, cap, sizeof *nm->defs))
            return 0;
        nm->cap = cap;
    }
    if (!(nm->v[nm->n] = strdup(name)))
        return 0;
    nm->defs[nm->n] = (ct_field_def){nm->v[nm->n], t, 0, 0};
    nm->n++;
    return 1;
}

static void names_free(names *nm)
{
    for (int i = 0; i < nm->n; i++)
        free(nm->v[i]);
    free(nm->v);
    free(nm->defs);
    memset(nm, 0, sizeof *nm);
}

static void fmt_num(char *buf, size_t n, double v, const char **out)
{
    if (!isfinite(v)) {
        *out = NULL;
        return;
    }
    snprintf(buf, n, "%.15g", v);
    *out = buf;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading a polygon layer.                                                                  */

typedef struct player {
    ct_vsource *src;
    ct_layer *layer;
    const char *path;       /* as the user named it ("sdi:parcels"), for messages */
    char *spec;             /* what was opened: an SDI layer resolves to "SDI|layername=..." */
    ct_sdi *sdi;            /* the SDI of an "sdi:" layer, for its restricted fields; NULL */
    char *sdi_layer;        /* its schema layer ("parcels"), owned */
    ct_crs *crs;            /* the layer CRS (or the one given), owned */
    int *copy;              /* fields copied to the output */
    int ncopy;
    int *restricted_guess;  /* per field: values looked like ID numbers */
    rings R;                /* world coordinates of the layer CRS */
    size_t *poly_ring;      /* polygon i: rings [poly_ring[i], poly_ring[i + 1]) */
    size_t npoly;
    long long nempty, nrepaired, nbad;
    /* units valid on a date only (the SDI's admin_units of one era): a date "YYYY-MM-DD" and
     * the fields valid_from, valid_to and level; features outside are skipped by player_next */
    char valid_on[16];
    int fi_from, fi_to, fi_level;
} player;

static void player_free(player *p)
{
    ct_vsource_close(p->src);
    ct_crs_free(p->crs);
    free(p->spec);
    free(p->sdi_layer);
    free(p->copy);
    free(p->restricted_guess);
    rings_free(&p->R);
    free(p->poly_ring);
    memset(p, 0, sizeof *p);
}

/* The SDI's "sdi:NAME" operand resolved: its path for GDAL/OGR in *spec (new), its schema layer
 * in *layer (new; NULL for a raster). A plain path is copied as it is. */
static ct_status resolve_operand(ct_ctx *ctx, ct_sdi *sdi, const char *arg, char **spec, char **layer)
{
    *spec = NULL;
    if (layer)
        *layer = NULL;
    const char *name = ct_sdi_ref(arg);
    if (!name) {
        if (!(*spec = strdup(arg)))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        return CT_OK;
    }
    if (!sdi)
        return ct_error(ctx, CT_ERR_USAGE, "%s: name the SDI with --sdi or $CT_SDI", arg);
    ct_sdi_input in;
    ct_status st = ct_sdi_resolve(ctx, sdi, name, &in);
    if (st)
        return st;
    *spec = in.path;
    in.path = NULL;
    int l = in.layer ? ct_sdi_layer_by_name(name) : -1;
    if (layer && l >= 0 && !(*layer = strdup(ct_sdi_layer_schema((ct_sdi_layer)l)->name))) {
        ct_sdi_input_free(&in);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    ct_sdi_input_free(&in);
    return CT_OK;
}

static ct_status player_open(ct_ctx *ctx, player *p, const char *path, const char *lname,
                             const char *srs, ct_sdi *sdi)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    ct_status st = resolve_operand(ctx, sdi, path, &p->spec, &p->sdi_layer);
    if (st)
        return st;
    if (p->sdi_layer)
        p->sdi = sdi;
    if ((st = ct_vsource_open(ctx, p->spec, &p->src)))
        return st;
    p->layer = lname ? ct_vsource_layer_by_name(p->src, lname)
                     : ct_vsource_layer_count(p->src) > 0 ? ct_vsource_layer(p->src, 0) : NULL;
    if (!p->layer)
        return lname ? ct_error(ctx, CT_ERR_USAGE, "%s: no layer named '%s'", path, lname)
                     : ct_error(ctx, CT_ERR_FORMAT, "%s: no layer", path);
    if (srs) {
        if ((st = ct_crs_from_user(ctx, srs, &p->crs)))
            return st;
    } else if (ct_layer_crs(p->layer)) {
        p->crs = ct_crs_clone(ct_layer_crs(p->layer));
    }
    ct_encoding enc = ct_layer_detect_encoding(ctx, p->layer, 2000, NULL);
    if (enc != CT_ENC_ASCII)
        ct_layer_set_encoding(p->layer, enc);
    ct_layer_rewind(p->layer);
    return CT_OK;
}

/* Keeps only the ward-level units valid on date (ISO "YYYY-MM-DD"): valid_from <= date <
 * valid_to, NULL meaning unbounded, and level NULL or below a district. */
static ct_status player_valid_on(ct_ctx *ctx, player *p, const char *date)
{
    p->fi_from = ct_layer_field_index(p->layer, "valid_from");
    p->fi_to = ct_layer_field_index(p->layer, "valid_to");
    p->fi_level = ct_layer_field_index(p->layer, "level");
    if (p->fi_from < 0 || p->fi_to < 0)
        return ct_error(ctx, CT_ERR_FORMAT, "%s: no valid_from and valid_to fields: not the SDI's admin_units",
                        p->path);
    snprintf(p->valid_on, sizeof p->valid_on, "%s", date);
    return CT_OK;
}

/* District level and above, by the first words of the SDI's level in any case, with or without
 * Vietnamese marks: "Quận", "QUẬN", "quan", "Thành phố", "tinh", "district", ... */
static int level_above_ward(const char *level)
{
    static const char *const up[] = {"quan", "huyen", "thi xa", "thanh pho", "tinh", "district", "province", "city"};
    char *f = ct_text_fold(level);
    int above = 0;
    for (size_t i = 0; f && !above && i < sizeof up / sizeof up[0]; i++)
        above = !strncmp(f, up[i], strlen(up[i]));
    free(f);
    return above;
}

/* The next feature of the layer that the player keeps (all, unless player_valid_on()). */
static ct_status player_next(ct_ctx *ctx, player *p, ct_feature **f)
{
    for (;;) {
        ct_status st = ct_layer_next(ctx, p->layer, f);
        if (st || !*f || !p->valid_on[0])
            return st;
        const char *from = ct_feature_is_null(*f, p->fi_from) ? NULL : ct_feature_raw(*f, p->fi_from);
        const char *to = ct_feature_is_null(*f, p->fi_to) ? NULL : ct_feature_raw(*f, p->fi_to);
        const char *level = p->fi_level < 0 || ct_feature_is_null(*f, p->fi_level) ? NULL
                                                                                     : ct_feature_raw(*f, p->fi_level);
        if ((!from || !*from || strcmp(from, p->valid_on) <= 0) && (!to || !*to || strcmp(to, p->valid_on) > 0) &&
            (!level || !level_above_ward(level)))
            return CT_OK;
    }
}

/* A field left out of the outputs: personal data, a restricted column of the SDI, an SDI
 * bookkeeping column, or values that looked like ID numbers. */
static int field_withheld(const player *p, int i)
{
    const char *name = ct_layer_field_name(p->layer, i);
    if (ct_sdi_field_personal(name) || (p->restricted_guess && p->restricted_guess[i]))
        return 1;
    if (p->sdi && ct_sdi_field_restricted(p->sdi, p->sdi_layer, name))
        return 1;
    return 0;
}

static int field_bookkeeping(const player *p, int i)
{
    const char *name = ct_layer_field_name(p->layer, i);
    return p->sdi && (!strcmp(name, "v_from") || !strcmp(name, "v_to") || !strcmp(name, "digest"));
}

/* Chooses the copied fields: the named ones, or every field not restricted. */
static ct_status player_fields(ct_ctx *ctx, player *p, const char *const *fields, int nfields)
{
    int nf = ct_layer_field_count(p->layer);
    p->copy = calloc((size_t)(nf + nfields + 1), sizeof *p->copy);
    if (!p->copy)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    if (fields) {
        for (int i = 0; i < nfields; i++) {
            int k = ct_layer_field_index(p->layer, fields[i]);
            if (k < 0)
                return ct_error(ctx, CT_ERR_USAGE, "%s: no field named '%s'", p->path, fields[i]);
            p->copy[p->ncopy++] = k;
        }
        return CT_OK;
    }
    for (int i = 0; i < nf; i++) {
        if (field_bookkeeping(p, i))
            continue;
        if (field_withheld(p, i)) {
            ct_log(ctx, CT_LOG_INFO, "%s: field %s is restricted (personal data): not copied; name it "
                   "with --field to copy it", p->path, ct_layer_field_name(p->layer, i));
            continue;
        }
        p->copy[p->ncopy++] = i;
    }
    return CT_OK;
}

/* Reads every feature's polygonal geometry into p->R (repairing invalid ones), transforming
 * nothing; guesses ID-number fields on the way. */
static ct_status player_read(ct_ctx *ctx, player *p, const char *what)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    long long total = ct_layer_feature_count(p->layer);
    int nf = ct_layer_field_count(p->layer);
    p->restricted_guess = calloc((size_t)nf + 1, sizeof *p->restricted_guess);
    size_t cap = 1024;
    p->poly_ring = malloc(cap * sizeof *p->poly_ring);
    if (!p->poly_ring || !p->restricted_guess)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    ct_layer_rewind(p->layer);
    ct_status st;
    ct_feature *f;
    for (;;) {
        if ((st = player_next(ctx, p, &f)))
            return st;
        if (!f)
            break;
        if (ct_grow(&p->poly_ring, &cap, p->npoly + 2, sizeof *p->poly_ring))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        p->poly_ring[p->npoly] = p->R.nrings;
        long long fid = ct_feature_fid(f);
        for (int i = 0; i < nf; i++)
            if (!p->restricted_guess[i] && ct_layer_field_type(p->layer, i) == CT_FIELD_STRING &&
                !ct_feature_is_null(f, i) && looks_like_id(ct_feature_raw(f, i)))
                p->restricted_guess[i] = 1;
        const GEOSGeometry *g = ct_feature_geom(ctx, f);
        GEOSGeometry *fixed = NULL;
        int np = 0;
        if (!g) {
            if (ct_ctx_status(ctx) == CT_ERR_FORMAT)
                ct_log(ctx, CT_LOG_WARN, "%s", ct_ctx_errmsg(ctx));
            else
                ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: empty geometry", p->path, fid);
            ct_ctx_clear_error(ctx);
            p->nempty++;
        } else {
            if (GEOSisValid_r(h, g) != 1) {
                fixed = GEOSMakeValid_r(h, g);
                if (fixed) {
                    p->nrepaired++;
                    ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: invalid geometry repaired", p->path, fid);
                    g = fixed;
                } else {
                    ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: invalid geometry cannot be repaired", p->path, fid);
                    g = NULL;
                    p->nbad++;
                }
            }
            if (g && !add_geom(h, &p->R, g, &np)) {
                GEOSGeom_destroy_r(h, fixed);
                return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            }
            if (g && !np) {
                ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: not a polygon: no area", p->path, fid);
                p->nbad++;
            }
            GEOSGeom_destroy_r(h, fixed);
        }
        p->npoly++;
        if ((p->npoly & 4095) == 0 && total > 0 &&
            (st = ct_progress(ctx, 0.1 * (double)p->npoly / (double)total, what)))
            return st;
    }
    p->poly_ring[p->npoly] = p->R.nrings;
    return CT_OK;
}

/* Transformation from the layer's CRS to dst (NULL when none is needed). */
static ct_status layer_transform(ct_ctx *ctx, const player *p, const ct_crs *dst, const char *dstname,
                                 ct_transform **t)
{
    *t = NULL;
    if (!p->crs && !dst)
        return CT_OK;
    if (!p->crs)
        return ct_error(ctx, CT_ERR_CRS, "%s: the layer has no CRS; give it with --layer-srs", p->path);
    if (!dst)
        return ct_error(ctx, CT_ERR_CRS, "%s: no CRS; give it with --raster-srs", dstname);
    if (ct_crs_equal(p->crs, dst))
        return CT_OK;
    return ct_transform_new(ctx, p->crs, dst, t);
}

/* ---------------------------------------------------------------------------------------- */
/* Zonal statistics.                                                                         */

typedef struct zraster {
    const char *path; /* as named ("sdi:bd3.max_depth") */
    char *file;       /* what was opened, owned */
    ct_raster *r;
    double gt[6];
    ct_crs *crs; /* owned */
    int w, h, bw, bh, has_nd;
    double nd;
    int group;   /* rasters of one group share the grid */
    int band;
    char prefix[64];
} zraster;

/* Column-name prefix of a raster: its file name without folder and extension, sanitised. */
static void raster_prefix(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t k = 0;
    for (; *b && *b != '.' && k + 2 < n; b++)
        out[k++] = isalnum((unsigned char)*b) ? *b : '_';
    out[k++] = '_';
    out[k] = 0;
}

static void class_name(char *buf, size_t n, const zparams *z, int i)
{
    if (i < z->ncls - 1)
        snprintf(buf, n, "area_%g_%g", z->cls[i], z->cls[i + 1]);
    else
        snprintf(buf, n, "area_gt_%g", z->cls[i]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One pass over the rasters of one group (one grid): fills acc[poly * nr + k] for the rasters
 * k of the group (k indexes the group's rasters in ids). */
static ct_status zonal_pass(ct_ctx *ctx, player *P, zraster *rs, const int *ids, int nr,
                            const zparams *z, acc *accs, int nall, double *poly_area, int first_group,
                            long long *noverlap, int group_no, int ngroups)
{
    zraster *r0 = &rs[ids[0]];
    rings *R = &P->R;
    size_t npts = R->n, np = P->npoly;
    double *u = malloc((npts + 1) * sizeof *u), *v = malloc((npts + 1) * sizeof *v);
    double *sign = malloc((R->nrings + 1) * sizeof *sign);
    int *box = malloc((np + 1) * 4 * sizeof *box);
    size_t *order = malloc((np + 1) * sizeof *order), *active = malloc((np + 1) * sizeof *active);
    double **data = calloc((size_t)nr, sizeof *data);
    ct_grid **grids = calloc((size_t)nr, sizeof *grids);
    ct_transform *t = NULL;
    ct_status st = CT_OK;
    if (!u || !v || !sign || !box || !order || !active || !data || !grids) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(u, R->x, npts * sizeof *u);
    memcpy(v, R->y, npts * sizeof *v);
    if ((st = layer_transform(ctx, P, r0->crs, r0->path, &t)))
        goto out;
    if (t && npts && (st = ct_transform_points(ctx, t, npts, u, v, NULL)))
        goto out;
    to_cells(u, v, npts, r0->gt);
    double cell_area = fabs(r0->gt[1] * r0->gt[5]);
    size_t nin = 0;
    for (size_t i = 0; i < np; i++) {
        size_t a = P->poly_ring[i], b = P->poly_ring[i + 1];
        double ar = ring_signs(R, u, v, a, b, sign);
        if (first_group)
            poly_area[i] = ar * cell_area;
        if (cell_box(R, u, v, a, b, r0->w, r0->h, box + 4 * i)) {
            order[nin++] = i;
            (*noverlap)++;
        }
    }
    /* spatial order: by first row, then input order ((row, index) packed in 64 bits) */
    {
        uint64_t *key = malloc((nin + 1) * sizeof *key);
        if (!key) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < nin; i++)
            key[i] = ((uint64_t)(uint32_t)box[4 * order[i] + 1] << 32) | (uint64_t)order[i];
        qsort(key, nin, sizeof *key, cmp_u64);
        for (size_t i = 0; i < nin; i++)
            order[i] = (size_t)(key[i] & 0xffffffffu);
        free(key);
    }

    int H = r0->h, W = r0->w;
    int sh = r0->bh >= 16 && r0->bh <= 1024 ? r0->bh : 256;
    if (sh > H)
        sh = H;
    size_t next = 0, nact = 0;
    int nthreads = ct_ctx_threads(ctx);
    for (int s0 = 0; s0 < H && !st; s0 += sh) {
        int s1 = s0 + sh < H ? s0 + sh : H;
        size_t k = 0;
        for (size_t i = 0; i < nact; i++) /* keep polygons that reach this strip */
            if (box[4 * active[i] + 3] > s0)
                active[k++] = active[i];
        nact = k;
        while (next < nin && box[4 * order[next] + 1] < s1)
            active[nact++] = order[next++];
        if (!nact)
            continue;
        int cmin = W, cmax = 0;
        for (size_t i = 0; i < nact; i++) {
            const int *bx = box + 4 * active[i];
            if (bx[0] < cmin)
                cmin = bx[0];
            if (bx[2] > cmax)
                cmax = bx[2];
        }
        int ww = cmax - cmin;
        for (int j = 0; j < nr && !st; j++) {
            ct_grid_free(grids[j]);
            grids[j] = NULL;
            st = ct_raster_read(ctx, rs[ids[j]].r, rs[ids[j]].band, cmin, s0, ww, s1 - s0, CT_FLOAT64, &grids[j]);
            if (!st)
                data[j] = ct_grid_data(grids[j]);
        }
        if (st)
            break;
        int oom = 0;
#pragma omp parallel num_threads(nthreads) reduction(|| : oom)
        {
            cover_buf buf = {0};
            double *frac = NULL;
            size_t fcap = 0;
#pragma omp for schedule(dynamic, 16)
            for (size_t i = 0; i < nact; i++) {
                size_t pi = active[i];
                const int *bx = box + 4 * pi;
                int r0w = bx[1] > s0 ? bx[1] : s0, r1w = bx[3] < s1 ? bx[3] : s1;
                int nc = bx[2] - bx[0], nrw = r1w - r0w;
                if (nrw <= 0 || nc <= 0)
                    continue;
                size_t cells = (size_t)nc * nrw;
                if (ct_grow(&frac, &fcap, cells, sizeof *frac) || !cover_buf_reserve(&buf, cells, (size_t)nrw)) {
                    oom = 1;
                    continue;
                }
                size_t ra = P->poly_ring[pi];
                cpoly cp = {u, v, R->ring_off + ra, sign + ra, P->poly_ring[pi + 1] - ra};
                cover_window(&cp, bx[0], r0w, nc, nrw, frac, &buf);
                for (int j = 0; j < nr; j++) {
                    zraster *zr = &rs[ids[j]];
                    acc *a = &accs[pi * (size_t)nall + (size_t)ids[j]];
                    for (int rr = 0; rr < nrw; rr++) {
                        const double *fr = frac + (size_t)rr * nc;
                        const double *dr = data[j] + (size_t)(r0w + rr - s0) * ww + (bx[0] - cmin);
                        for (int c = 0; c < nc; c++)
                            if (fr[c] > 0)
                                acc_add(a, z, fr[c], dr[c], zr->has_nd, zr->nd);
                    }
                    if (a->oom)
                        oom = 1;
                }
            }
            free(frac);
            free(buf.m);
            free(buf.right);
        }
        /* every block is read once: drop GDAL's cached copies to keep memory bounded by a strip */
        for (int j = 0; j < nr; j++)
            GDALFlushCache(ct_raster_gdal(rs[ids[j]].r));
        if (oom)
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory computing coverage fractions");
        if (!st)
            st = ct_progress(ctx, 0.1 + 0.8 * ((double)group_no + (double)s1 / H) / ngroups,
                             "zonal statistics");
    }
out:
    for (int j = 0; grids && j < nr; j++)
        ct_grid_free(grids[j]);
    free(grids);
    free(data);
    ct_transform_free(t);
    free(u);
    free(v);
    free(sign);
    free(box);
    free(order);
    free(active);
    return st;
}

static int same_grid(const zraster *a, const zraster *b)
{
    if (a->w != b->w || a->h != b->h || memcmp(a->gt, b->gt, sizeof a->gt))
        return 0;
    if (!a->crs || !b->crs)
        return !a->crs && !b->crs;
    return ct_crs_equal(a->crs, b->crs);
}

static ct_status open_rasters(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, zraster *rs, int *ngroups)
{
    ct_status st;
    int band = o->band ? o->band : 1;
    *ngroups = 0;
    for (int i = 0; i < o->nrasters; i++) {
        zraster *z = &rs[i];
        z->path = o->rasters[i];
        z->band = band;
        /* GTiff decodes the blocks of one read on several threads when asked at open time;
         * decoding is exact, so the results do not depend on it */
        char nt[16];
        snprintf(nt, sizeof nt, "%d", ct_ctx_threads(ctx));
        CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", nt);
        st = resolve_operand(ctx, sdi, z->path, &z->file, NULL);
        if (!st)
            st = ct_raster_open(ctx, z->file, &z->r);
        CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", NULL);
        if (st)
            return st;
        if (band < 1 || band > ct_raster_band_count(z->r))
            return ct_error(ctx, CT_ERR_USAGE, "%s: no band %d (it has %d)", z->path, band,
                            ct_raster_band_count(z->r));
        if (!ct_raster_geotransform(z->r, z->gt))
            return ct_error(ctx, CT_ERR_INVALID, "%s: the raster has no georeferencing", z->path);
        if ((st = check_gt(ctx, z->gt)))
            return ct_error(ctx, st, "%s: %s", z->path, ct_ctx_errmsg(ctx));
        if (ct_raster_crs(z->r))
            z->crs = ct_crs_clone(ct_raster_crs(z->r));
        else if (o->raster_srs && (st = ct_crs_from_user(ctx, o->raster_srs, &z->crs)))
            return st;
        z->w = ct_raster_width(z->r);
        z->h = ct_raster_height(z->r);
        ct_raster_block_size(z->r, &z->bw, &z->bh);
        z->has_nd = ct_raster_band_nodata(z->r, band, &z->nd);
        if (o->nrasters > 1)
            raster_prefix(z->path, z->prefix, sizeof z->prefix);
        z->group = -1;
        for (int j = 0; j < i; j++)
            if (same_grid(&rs[j], z)) {
                z->group = rs[j].group;
                break;
            }
        if (z->group < 0)
            z->group = (*ngroups)++;
    }
    for (int i = 0; i < o->nrasters; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(rs[i].prefix, rs[j].prefix))
                snprintf(rs[i].prefix, sizeof rs[i].prefix, "r%d_", i + 1);
    return CT_OK;
}

/* Names of the statistics columns of one raster. */
static int stat_columns(names *nm, const zraster *zr, const zparams *z)
{
    static const char *const base[] = {"area", "nodata_area", "count", "sum", "mean", "min", "max"};
    char buf[160];
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", zr->prefix, base[i]);
        if (!names_add(nm, buf, CT_FIELD_REAL))
            return 0;
    }
    if (z->majority) {
        snprintf(buf, sizeof buf, "%smajority", zr->prefix);
        if (!names_add(nm, buf, CT_FIELD_REAL))
            return 0;
    }
    snprintf(buf, sizeof buf, "%swet_area", zr->prefix);
    if (!names_add(nm, buf, CT_FIELD_REAL))
        return 0;
    snprintf(buf, sizeof buf, "%swet_frac", zr->prefix);
    if (!names_add(nm, buf, CT_FIELD_REAL))
        return 0;
    for (int i = 0; i < z->ncls; i++) {
        char c[96];
        class_name(c, sizeof c, z, i);
        snprintf(buf, sizeof buf, "%s%s", zr->prefix, c);
        if (!names_add(nm, buf, CT_FIELD_REAL))
            return 0;
    }
    for (int i = 0; i < z->nabove; i++) {
        snprintf(buf, sizeof buf, "%sabove_%g", zr->prefix, z->above[i]);
        if (!names_add(nm, buf, CT_FIELD_REAL))
            return 0;
    }
    return 1;
}

static int stat_values(const ct_zonal_stats *s, const zparams *z, char (*buf)[32], const char **vals)
{
    double v[8 + 2 * CT_ZONAL_MAX_CLASSES + 2];
    int n = 0;
    v[n++] = s->area;
    v[n++] = s->nodata_area;
    v[n++] = s->count;
    v[n++] = s->sum;
    v[n++] = s->mean;
    v[n++] = s->min;
    v[n++] = s->max;
    if (z->majority)
        v[n++] = s->majority;
    v[n++] = s->wet_area;
    v[n++] = s->wet_frac;
    for (int i = 0; i < z->ncls; i++)
        v[n++] = s->class_area[i];
    for (int i = 0; i < z->nabove; i++)
        v[n++] = s->above_area[i];
    for (int i = 0; i < n; i++)
        fmt_num(buf[i], sizeof buf[i], v[i], &vals[i]);
    return n;
}

static const char *sql_type(ct_field_type t)
{
    return t == CT_FIELD_INT ? "INTEGER" : t == CT_FIELD_REAL ? "REAL" : "TEXT";
}

/* An identifier of the SDI (a table or column name: a letter a-z, then a-z, 0-9 and _, at most
 * 60 characters; ct_sdi_table_create) from any text: folded to ASCII ("Đơn_vị" -> "don_vi"),
 * other characters made _ ("area_0_0.2" -> "area_0_0_2"), "f_" before a name that does not
 * start with a letter ("2024" -> "f_2024"), cut to n - 1 characters. */
static void sdi_ident(char *buf, size_t n, const char *text)
{
    char *f = ct_text_fold(text);
    const char *s = f ? f : text; /* not UTF-8: its other bytes become _ below */
    snprintf(buf, n, "%s%s", *s >= 'a' && *s <= 'z' ? "" : "f_", s);
    free(f);
    for (char *p = buf; *p; p++)
        *p = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : '_';
}

/* Starts result table `table` of the SDI with the columns of nm as SDI identifiers (sdi_ident;
 * at most 56 characters), a name already taken getting "_2", "_3" ... */
static ct_status sdi_table_start(ct_ctx *ctx, ct_sdi *sdi, const char *table, const char *title, const names *nm,
                                 ct_sdi_table **t)
{
    char **cols = calloc((size_t)nm->n + 1, sizeof *cols);
    const char **types = calloc((size_t)nm->n + 1, sizeof *types);
    ct_status st = CT_OK;
    for (int i = 0; cols && types && i < nm->n && !st; i++) {
        size_t len = 61;
        if (!(cols[i] = malloc(len))) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            break;
        }
        char *c = cols[i];
        sdi_ident(c, 57, nm->v[i]);
        size_t base = strlen(c);
        for (int k = 2, j = 0; j < i;) {
            if (strcmp(cols[j], c)) {
                j++;
                continue;
            }
            snprintf(c + base, len - base, "_%d", k++);
            j = 0;
        }
        types[i] = sql_type(nm->defs[i].type);
    }
    if (!cols || !types)
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    if (!st)
        st = ct_sdi_table_create(ctx, sdi, table, title, (const char *const *)cols, types, nm->n, t);
    for (int i = 0; cols && i < nm->n; i++)
        free(cols[i]);
    free(cols);
    free(types);
    return st;
}

/* Writes one row per polygon: re-reads the layer for attributes and geometry. With o->table,
 * the rows also go to that result table of the SDI, in a version of their own (*version), and
 * without o->output only there. The output is complete before the version is committed and is
 * put in place after, so that a failure of either leaves both as they were. */
static ct_status write_rows(ct_ctx *ctx, player *P, const ct_overlay_opts *o, ct_sdi *sdi, names *nm, int nfixed,
                            int (*fill)(void *, size_t, char (*)[32], const char **), void *user,
                            const char *deflayer, FILE *out, size_t expect, long long *version)
{
    rowout ro;
    memset(&ro, 0, sizeof ro);
    int to_out = !o->table || o->output;
    ct_sdi_table *tab = NULL;
    ct_status st = to_out ? rowout_open(ctx, &ro, o, deflayer, nm->defs, nm->n, P->crs, out) : CT_OK;
    if (st)
        return st;
    char (*buf)[32] = calloc((size_t)nm->n + 1, sizeof *buf);
    const char **vals = calloc((size_t)nm->n + 1, sizeof *vals);
    char **text = calloc((size_t)P->ncopy + 1, sizeof *text);
    if (!buf || !vals || !text)
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    if (!st && o->table) {
        char title[512];
        snprintf(title, sizeof title, "zonal statistics of %s over %s", o->rasters[0], P->path);
        if (!(st = ct_sdi_begin(ctx, sdi, o->invocation, "overlay", P->path, version)))
            st = sdi_table_start(ctx, sdi, o->table, title, nm, &tab);
    }
    ct_layer_rewind(P->layer);
    size_t i = 0;
    while (!st) {
        ct_feature *f;
        if ((st = player_next(ctx, P, &f)) || !f)
            break;
        if (i >= expect) {
            st = ct_error(ctx, CT_ERR_IO, "%s: the layer changed while being read", P->path);
            break;
        }
        snprintf(buf[0], sizeof buf[0], "%lld", ct_feature_fid(f));
        vals[0] = buf[0];
        for (int k = 0; k < P->ncopy && !st; k++) {
            free(text[k]);
            text[k] = NULL;
            if (!ct_feature_is_null(f, P->copy[k]))
                st = ct_feature_text(ctx, f, P->copy[k], &text[k]);
            vals[1 + k] = text[k];
        }
        if (st)
            break;
        fill(user, i, buf + nfixed, vals + nfixed);
        const GEOSGeometry *g = ro.with_geom ? ct_feature_geom(ctx, f) : NULL;
        ct_ctx_clear_error(ctx);
        if (to_out && (st = rowout_write(ctx, &ro, g, vals)))
            break;
        if (tab && (st = ct_sdi_table_add(ctx, tab, vals)))
            break;
        i++;
        if ((i & 4095) == 0 && expect && (st = ct_progress(ctx, 0.9 + 0.1 * (double)i / (double)expect, "writing")))
            break;
    }
    for (int k = 0; text && k < P->ncopy; k++)
        free(text[k]);
    free(text);
    free(buf);
    free(vals);
    if (!st)
        st = rowout_finish(ctx, &ro);
    if (tab) {
        if (!st)
            st = ct_sdi_table_close(ctx, tab);
        else
            ct_sdi_table_free(tab);
    }
    if (o->table && !st)
        st = ct_sdi_commit(ctx, sdi);
    else if (o->table)
        ct_sdi_rollback(sdi);
    return rowout_close(ctx, &ro, st);
}

typedef struct zfill {
    acc *accs;
    zraster *rs;
    int nr;
    const zparams *z;
    double *poly_area;
} zfill;

static int zonal_fill(void *user, size_t i, char (*buf)[32], const char **vals)
{
    zfill *zf = user;
    int n = 0;
    fmt_num(buf[n], sizeof buf[n], zf->poly_area[i], &vals[n]);
    n++;
    for (int k = 0; k < zf->nr; k++) {
        ct_zonal_stats s;
        const zraster *zr = &zf->rs[k];
        acc_finish(&zf->accs[i * (size_t)zf->nr + k], zf->z, fabs(zr->gt[1] * zr->gt[5]), 0, &s);
        n += stat_values(&s, zf->z, buf + n, vals + n);
    }
    return n;
}

/* The statistics of every polygon over every raster, in memory. */
typedef struct zresult {
    zparams z;
    zraster *rs;
    int nr, ngroups;
    player P;
    acc *accs;        /* accs[poly * nr + raster] */
    double *clsbuf, *poly_area;
    long long outside, overlapping;
} zresult;

static void zresult_free(zresult *r)
{
    if (r->accs)
        for (size_t i = 0; i < r->P.npoly * (size_t)r->nr; i++)
            acc_free(&r->accs[i]);
    free(r->accs);
    free(r->clsbuf);
    free(r->poly_area);
    for (int k = 0; r->rs && k < r->nr; k++) {
        ct_raster_close(r->rs[k].r);
        ct_crs_free(r->rs[k].crs);
        free(r->rs[k].file);
    }
    free(r->rs);
    player_free(&r->P);
    memset(r, 0, sizeof *r);
}

/* valid_on: keep only the units valid on that date (player_valid_on()); NULL: every feature.
 * lenient: a layer that misses every raster is a warning, not an error (a default layer). */
static ct_status zonal_compute(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, const char *valid_on,
                               int lenient, zresult *R)
{
    memset(R, 0, sizeof *R);
    if (o->nrasters < 1 || !o->rasters || !o->polygons)
        return ct_error(ctx, CT_ERR_USAGE, "zonal needs one or more rasters and a polygon layer");
    ct_status st = zparams_init(ctx, &o->params, &R->z);
    if (st)
        return st;
    const zparams *zp = &R->z;
    int nr = R->nr = o->nrasters;
    zraster *rs = R->rs = calloc((size_t)nr, sizeof *rs);
    player *P = &R->P;
    int *ids = calloc((size_t)nr, sizeof *ids);
    if (!rs || !ids) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = open_rasters(ctx, o, sdi, rs, &R->ngroups)))
        goto out;
    if ((st = player_open(ctx, P, o->polygons, o->layer, o->layer_srs, sdi)))
        goto out;
    if (valid_on && (st = player_valid_on(ctx, P, valid_on)))
        goto out;
    for (int k = 0; k < nr; k++) {
        if (!rs[k].crs && P->crs && !o->raster_srs) {
            st = ct_error(ctx, CT_ERR_CRS, "%s: the raster has no CRS and %s has one (%s); give the "
                          "raster's with --raster-srs", rs[k].path, P->path, ct_crs_name(P->crs));
            goto out;
        }
        if (rs[k].crs && !P->crs) {
            st = ct_error(ctx, CT_ERR_CRS, "%s: the layer has no CRS and %s has one (%s); give the "
                          "layer's with --layer-srs", P->path, rs[k].path, ct_crs_name(rs[k].crs));
            goto out;
        }
        if (!rs[k].crs && !P->crs)
            ct_log(ctx, CT_LOG_WARN, "%s and %s have no CRS: assuming they share one", rs[k].path, P->path);
    }
    if ((st = player_read(ctx, P, "reading polygons")))
        goto out;
    if ((st = player_fields(ctx, P, o->fields, o->nfields)))
        goto out;
    size_t np = P->npoly;
    int ncw = zp->ncls + zp->nabove;
    R->accs = calloc(np * (size_t)nr + 1, sizeof *R->accs);
    R->clsbuf = calloc((np * (size_t)nr + 1) * (size_t)(ncw ? ncw : 1), sizeof *R->clsbuf);
    R->poly_area = calloc(np + 1, sizeof *R->poly_area);
    if (!R->accs || !R->clsbuf || !R->poly_area) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory: %zu polygons × %d rasters", np, nr);
        goto out;
    }
    for (size_t i = 0; i < np * (size_t)nr; i++)
        acc_init(&R->accs[i], R->clsbuf + i * (size_t)ncw, ncw);
    for (int g = 0; g < R->ngroups && !st; g++) {
        int n = 0;
        for (int k = 0; k < nr; k++)
            if (rs[k].group == g)
                ids[n++] = k;
        long long nov = 0;
        st = zonal_pass(ctx, P, rs, ids, n, zp, R->accs, nr, R->poly_area, g == 0, &nov, g, R->ngroups);
    }
    if (st)
        goto out;
    /* polygons that overlap no raster at all */
    for (size_t i = 0; i < np; i++) {
        int any = 0;
        for (int k = 0; k < nr; k++)
            any |= R->accs[i * (size_t)nr + k].w_all > 0;
        R->overlapping += any;
        if (!any && P->poly_ring[i + 1] > P->poly_ring[i])
            R->outside++;
    }
    if (np > 0 && R->overlapping == 0 && lenient) {
        ct_log(ctx, CT_LOG_WARN, "%s: no polygon overlaps %s: reported with no flooded area", P->path, rs[0].path);
    } else if (np > 0 && R->overlapping == 0) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no polygon overlaps %s%s: check the CRSs and extents; "
                      "nothing written", P->path, rs[0].path, nr > 1 ? " or the other rasters" : "");
        goto out;
    }
    if (np == 0)
        ct_log(ctx, CT_LOG_WARN, "%s: the layer has no features: the output has no rows", P->path);
    if (R->outside)
        ct_log(ctx, CT_LOG_WARN, "%s: %lld polygons lie outside every raster (area 0, no statistics)",
               P->path, R->outside);
out:
    free(ids);
    if (st)
        zresult_free(R);
    return st;
}

static ct_status zonal_run(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, FILE *out)
{
    zresult R;
    ct_status st = zonal_compute(ctx, o, sdi, NULL, 0, &R);
    if (st)
        return st;
    names nm = {0};
    json_object *js = NULL;
    player *P = &R.P;
    zparams z = R.z;
    zraster *rs = R.rs;
    int nr = R.nr, ncw = z.ncls + z.nabove;
    acc *accs = R.accs;
    double *poly_area = R.poly_area;
    size_t np = P->npoly;
    long long outside = R.outside, overlapping = R.overlapping;
    if (!names_add(&nm, "src_fid", CT_FIELD_INT)) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int k = 0; k < P->ncopy; k++) {
        int fi = P->copy[k];
        ct_field_type ft = ct_layer_field_type(P->layer, fi);
        if (!names_add(&nm, ct_layer_field_name(P->layer, fi), ft == CT_FIELD_OTHER ? CT_FIELD_STRING : ft)) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    int nfixed = nm.n;
    int ok = names_add(&nm, "poly_area", CT_FIELD_REAL);
    for (int k = 0; k < nr && ok; k++)
        ok = stat_columns(&nm, &rs[k], &z);
    if (!ok) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    zfill zf = {accs, rs, nr, &z, poly_area};
    int csv_out = !o->output || !strcmp(o->output, "-");
    long long version = 0;
    if (!(o->json && csv_out && !o->table))
        st = write_rows(ctx, P, o, sdi, &nm, nfixed, zonal_fill, &zf, "zonal", out, np, &version);
    if (st)
        goto out;
    if (o->json) {
        js = json_object_new_object();
        json_object_object_add(js, "mode", json_object_new_string("zonal"));
        json_object_object_add(js, "polygons", json_object_new_string(P->path));
        json_object_object_add(js, "features", json_object_new_int64((int64_t)np));
        json_object_object_add(js, "overlapping", json_object_new_int64(overlapping));
        json_object_object_add(js, "outside", json_object_new_int64(outside));
        json_object_object_add(js, "empty", json_object_new_int64(P->nempty));
        json_object_object_add(js, "repaired", json_object_new_int64(P->nrepaired));
        json_object_object_add(js, "rejected", json_object_new_int64(P->nbad + P->nempty));
        json_object_object_add(js, "output", o->output && !csv_out ? json_object_new_string(o->output) : NULL);
        if (o->table) {
            json_object_object_add(js, "table", json_object_new_string(o->table));
            json_object_object_add(js, "version", json_object_new_int64(version));
        }
        json_object *ra = json_object_new_array();
        for (int k = 0; k < nr; k++) {
            double cell = fabs(rs[k].gt[1] * rs[k].gt[5]);
            double t[6 + 2 * CT_ZONAL_MAX_CLASSES] = {0};
            for (size_t i = 0; i < np; i++) {
                const acc *a = &accs[i * (size_t)nr + k];
                t[0] += a->w_all;
                t[1] += a->w_nodata;
                t[2] += a->w_wet;
                t[3] += a->w_valid;
                for (int c = 0; c < ncw; c++)
                    t[6 + c] += a->w_cls[c];
            }
            json_object *ro = json_object_new_object();
            json_object_object_add(ro, "path", json_object_new_string(rs[k].path));
            if (nr > 1)
                json_object_object_add(ro, "prefix", json_object_new_string(rs[k].prefix));
            json_object_object_add(ro, "crs", rs[k].crs ? json_object_new_string(ct_crs_name(rs[k].crs)) : NULL);
            json_object_object_add(ro, "area", json_object_new_double(t[0] * cell));
            json_object_object_add(ro, "nodata_area", json_object_new_double(t[1] * cell));
            json_object_object_add(ro, "wet_area", json_object_new_double(t[2] * cell));
            json_object_object_add(ro, "count", json_object_new_double(t[3]));
            json_object *cl = json_object_new_object();
            for (int c = 0; c < z.ncls; c++) {
                char cn[96];
                class_name(cn, sizeof cn, &z, c);
                json_object_object_add(cl, cn, json_object_new_double(t[6 + c] * cell));
            }
            for (int c = 0; c < z.nabove; c++) {
                char cn[96];
                snprintf(cn, sizeof cn, "above_%g", z.above[c]);
                json_object_object_add(cl, cn, json_object_new_double(t[6 + z.ncls + c] * cell));
            }
            json_object_object_add(ro, "classes", cl);
            json_object_array_add(ra, ro);
        }
        json_object_object_add(js, "rasters", ra);
        fprintf(out, "%s\n", json_object_to_json_string_ext(js, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    if (P->nbad + P->nempty > 0)
        st = ct_error(ctx, CT_REJECTED, "%s: %lld features without a usable polygon (empty, not polygonal "
                      "or unrepairable): their rows have no statistics", P->path, P->nbad + P->nempty);
out:
    if (js)
        json_object_put(js);
    names_free(&nm);
    zresult_free(&R);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Polygon overlay: parcels × zones.                                                         */

static ct_status intersect_run(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, FILE *out);
static ct_status impact_run(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, FILE *out);

/* Whether the run reads or writes the SDI (so that a $CT_SDI set for other tools is not opened
 * for a run on files). */
static int uses_sdi(const ct_overlay_opts *o)
{
    if (o->run || o->table || (o->mode == CT_OVERLAY_IMPACT && !o->polygons))
        return 1;
    if (ct_sdi_ref(o->polygons) || ct_sdi_ref(o->zones))
        return 1;
    for (int i = 0; i < o->nrasters; i++)
        if (ct_sdi_ref(o->rasters[i]))
            return 1;
    for (int i = 0; i < o->nwards; i++)
        if (ct_sdi_ref(o->wards[i]))
            return 1;
    return 0;
}

ct_status ct_overlay_run(ct_ctx *ctx, const ct_overlay_opts *opts)
{
    FILE *out = opts->out ? opts->out : stdout;
    ct_sdi *sdi = NULL;
    ct_status st;
    /* an option the mode would not use is refused: ignored, it would look as if it had worked */
    if (opts->run && opts->mode != CT_OVERLAY_IMPACT)
        return ct_error(ctx, CT_ERR_USAGE, "--run: only impact reads a flood run");
    if (opts->table && (opts->mode == CT_OVERLAY_INTERSECT || opts->mode == CT_OVERLAY_CONFORMANCE))
        return ct_error(ctx, CT_ERR_USAGE, "--table: only zonal and impact write result tables");
    if (uses_sdi(opts)) {
        if (!opts->sdi || !*opts->sdi)
            return ct_error(ctx, CT_ERR_USAGE, "%s: name the SDI with --sdi or $CT_SDI",
                            opts->run                                            ? "--run"
                            : opts->table                                        ? "--table"
                            : opts->mode == CT_OVERLAY_IMPACT && !opts->polygons ? "impact without PARCELS reads sdi:parcels"
                                                                                 : "an sdi: operand");
        if ((st = ct_sdi_open(ctx, opts->sdi, &sdi)))
            return st;
    }
    switch (opts->mode) {
    case CT_OVERLAY_ZONAL: st = zonal_run(ctx, opts, sdi, out); break;
    case CT_OVERLAY_INTERSECT:
    case CT_OVERLAY_CONFORMANCE: st = intersect_run(ctx, opts, sdi, out); break;
    case CT_OVERLAY_IMPACT: st = impact_run(ctx, opts, sdi, out); break;
    default: st = ct_error(ctx, CT_ERR_USAGE, "unknown overlay mode %d", (int)opts->mode);
    }
    ct_sdi_close(sdi);
    return st;
}

/* Reads up to max features to find string fields whose values look like ID numbers. */
static ct_status player_sniff(ct_ctx *ctx, player *p, int max)
{
    int nf = ct_layer_field_count(p->layer);
    p->restricted_guess = calloc((size_t)nf + 1, sizeof *p->restricted_guess);
    if (!p->restricted_guess)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    ct_layer_rewind(p->layer);
    ct_feature *f;
    ct_status st;
    for (int k = 0; k < max; k++) {
        if ((st = player_next(ctx, p, &f)))
            return st;
        if (!f)
            break;
        for (int i = 0; i < nf; i++)
            if (ct_layer_field_type(p->layer, i) == CT_FIELD_STRING && !ct_feature_is_null(f, i) &&
                looks_like_id(ct_feature_raw(f, i)))
                p->restricted_guess[i] = 1;
    }
    ct_layer_rewind(p->layer);
    return CT_OK;
}

/* A polygonal, valid copy of a feature's geometry (NULL with a log line when there is none). */
static GEOSGeometry *usable_polygon(ct_ctx *ctx, player *p, ct_feature *f)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    long long fid = ct_feature_fid(f);
    const GEOSGeometry *g = ct_feature_geom(ctx, f);
    if (!g) {
        ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: empty geometry", p->path, fid);
        ct_ctx_clear_error(ctx);
        p->nempty++;
        return NULL;
    }
    GEOSGeometry *c;
    if (GEOSisValid_r(h, g) != 1) {
        c = GEOSMakeValid_r(h, g);
        if (!c) {
            ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: invalid geometry cannot be repaired", p->path, fid);
            p->nbad++;
            return NULL;
        }
        p->nrepaired++;
        ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: invalid geometry repaired", p->path, fid);
    } else {
        c = GEOSGeom_clone_r(h, g);
    }
    double a = 0;
    if (!c || GEOSArea_r(h, c, &a) != 1 || !(a > 0)) {
        ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: not a polygon: no area", p->path, fid);
        GEOSGeom_destroy_r(h, c);
        p->nbad++;
        return NULL;
    }
    return c;
}

typedef struct zone {
    GEOSGeometry *g;
    const GEOSPreparedGeometry *prep;
    int value;  /* index into the sorted distinct values */
} zone;

typedef struct cand {
    size_t *v;
    size_t n, cap;
} cand;

static void cand_add(void *item, void *user)
{
    cand *c = user;
    if (ct_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v))
        return; /* the parcel then misses zones: reported as out of memory below */
    c->v[c->n++] = (size_t)(uintptr_t)item - 1;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ct_status intersect_run(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, FILE *out)
{
    if (!o->polygons || !o->zones)
        return ct_error(ctx, CT_ERR_USAGE, "intersect needs a parcel layer and a zone layer");
    GEOSContextHandle_t h = ct_geos(ctx);
    player P, Z;
    memset(&P, 0, sizeof P);
    memset(&Z, 0, sizeof Z);
    zone *zs = NULL;
    size_t nz = 0, zcap = 0, nvals = 0;
    char **zval = NULL, **vals = NULL;
    GEOSSTRtree *tree = NULL;
    ct_transform *t = NULL;
    names nm = {0};
    rowout ro;
    int ro_open = 0;
    double *acc_area = NULL, *tot_area = NULL;
    GEOSGeometry **pieces = NULL; /* the current parcel's pieces, one per zone at most */
    int *pval = NULL;
    cand cd = {0};
    char **text = NULL;
    const char **row = NULL;
    char nbuf[4][32];
    json_object *js = NULL;
    long long nparcels = 0, nrows = 0, nnozone = 0, nconflict = 0, nunknown = 0;
    char *use = NULL;
    ct_status st;

    if ((st = player_open(ctx, &P, o->polygons, o->layer, o->layer_srs, sdi)) ||
        (st = player_open(ctx, &Z, o->zones, o->zones_layer, NULL, sdi)))
        goto out;
    int conf = o->mode == CT_OVERLAY_CONFORMANCE;
    const char *zfname = o->zone_field ? o->zone_field : conf ? (Z.sdi ? "landuse" : "MaQH") : NULL;
    int zf = -1, uf = -1;
    if (zfname && (zf = ct_layer_field_index(Z.layer, zfname)) < 0) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: no field named '%s'%s", Z.path, zfname,
                      o->zone_field ? "" : " (the planned use): name it with --zone-field");
        goto out;
    }
    const char *ufname = o->use_field ? o->use_field : P.sdi ? "landuse" : "MucDich";
    if (conf && (uf = ct_layer_field_index(P.layer, ufname)) < 0) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: no field named '%s'%s", P.path, ufname,
                      o->use_field ? "" : " (the current use): name it with --use-field");
        goto out;
    }
    if (P.crs && !Z.crs) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: the zones have no CRS and %s has one (%s)", Z.path, P.path,
                      ct_crs_name(P.crs));
        goto out;
    }
    if (Z.crs && !P.crs) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: the layer has no CRS and %s has one (%s); give it with --layer-srs",
                      P.path, Z.path, ct_crs_name(Z.crs));
        goto out;
    }
    if (P.crs && !ct_crs_equal(P.crs, Z.crs) && (st = ct_transform_new(ctx, Z.crs, P.crs, &t)))
        goto out;

    /* the zones: valid, in the parcels' CRS, indexed */
    tree = GEOSSTRtree_create_r(h, 10);
    ct_layer_rewind(Z.layer);
    for (;;) {
        ct_feature *f;
        if ((st = player_next(ctx, &Z, &f)))
            goto out;
        if (!f)
            break;
        GEOSGeometry *g = usable_polygon(ctx, &Z, f);
        if (!g)
            continue;
        if (t) {
            GEOSGeometry *tg = NULL;
            ct_transform_geom(ctx, t, g, &tg);
            GEOSGeom_destroy_r(h, g);
            if (!tg) {
                st = ct_error(ctx, CT_ERR_CRS, "%s: feature %lld cannot be transformed to the parcels' CRS",
                              Z.path, ct_feature_fid(f));
                goto out;
            }
            g = tg;
        }
        size_t ncap = ct_grow_cap(zcap, nz + 1);
        if (ncap > zcap) {
            if (ct_resize(&zs, ncap, sizeof *zs) || ct_resize(&zval, ncap, sizeof *zval)) {
                GEOSGeom_destroy_r(h, g);
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                goto out;
            }
            zcap = ncap;
        }
        char *v = NULL;
        if (zf >= 0) {
            if (ct_feature_is_null(f, zf))
                v = strdup("");
            else if ((st = ct_feature_text(ctx, f, zf, &v))) {
                GEOSGeom_destroy_r(h, g);
                goto out;
            }
        } else {
            char b[32];
            snprintf(b, sizeof b, "%lld", ct_feature_fid(f));
            v = strdup(b);
        }
        zs[nz] = (zone){g, NULL, -1};
        zval[nz] = v;
        GEOSSTRtree_insert_r(h, tree, g, (void *)(uintptr_t)(nz + 1));
        nz++;
    }
    /* distinct zone values, sorted */
    vals = malloc((nz + 1) * sizeof *vals);
    if (!vals) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(vals, zval, nz * sizeof *vals);
    qsort(vals, nz, sizeof *vals, cmp_str);
    for (size_t i = 0; i < nz; i++)
        if (!nvals || strcmp(vals[nvals - 1], vals[i]))
            vals[nvals++] = vals[i];
    for (size_t i = 0; i < nz; i++) {
        char **hit = bsearch(&zval[i], vals, nvals, sizeof *vals, cmp_str);
        zs[i].value = (int)(hit - vals);
    }
    acc_area = calloc(nvals + 1, sizeof *acc_area);
    tot_area = calloc(nvals + 2, sizeof *tot_area);
    pieces = calloc(nz + 1, sizeof *pieces);
    pval = calloc(nz + 1, sizeof *pval);
    if (!acc_area || !tot_area || !pieces || !pval) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }

    if ((st = player_sniff(ctx, &P, 2000)) || (st = player_fields(ctx, &P, o->fields, o->nfields)))
        goto out;
    int ok = names_add(&nm, "src_fid", CT_FIELD_INT);
    for (int k = 0; k < P.ncopy && ok; k++) {
        ct_field_type ft = ct_layer_field_type(P.layer, P.copy[k]);
        ok = names_add(&nm, ct_layer_field_name(P.layer, P.copy[k]), ft == CT_FIELD_OTHER ? CT_FIELD_STRING : ft);
    }
    if (conf)
        ok = ok && names_add(&nm, "use", CT_FIELD_STRING);
    ok = ok && names_add(&nm, conf ? "planned" : "zone", CT_FIELD_STRING) && names_add(&nm, "area", CT_FIELD_REAL) &&
         names_add(&nm, "fraction", CT_FIELD_REAL);
    text = calloc((size_t)P.ncopy + 1, sizeof *text);
    row = calloc((size_t)nm.n + 1, sizeof *row);
    if (!ok || !text || !row) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    int csv_out = !o->output || !strcmp(o->output, "-");
    int write = !(o->json && csv_out);
    if (write) {
        if ((st = rowout_open(ctx, &ro, o, conf ? "conformance" : "intersect", nm.defs, nm.n, P.crs, out)))
            goto out;
        ro_open = 1;
    }

    long long total = ct_layer_feature_count(P.layer);
    ct_layer_rewind(P.layer);
    for (;;) {
        ct_feature *f;
        if ((st = player_next(ctx, &P, &f)))
            goto out;
        if (!f)
            break;
        nparcels++;
        if ((nparcels & 1023) == 0 && total > 0 &&
            (st = ct_progress(ctx, (double)nparcels / (double)total, "overlay")))
            goto out;
        GEOSGeometry *g = usable_polygon(ctx, &P, f);
        if (!g)
            continue;
        if (conf) {
            free(use);
            use = NULL;
            if (!ct_feature_is_null(f, uf) && (st = ct_feature_text(ctx, f, uf, &use))) {
                GEOSGeom_destroy_r(h, g);
                goto out;
            }
            if (!use || !ct_landuse_lookup(use)) {
                nunknown++;
                ct_log(ctx, CT_LOG_WARN, "%s: feature %lld: land-use code '%s' is not a TT 08/2024 code nor an "
                       "older one: it conforms to no zone", P.path, ct_feature_fid(f), use ? use : "");
            }
        }
        int conflict = 0;
        double pa = 0;
        GEOSArea_r(h, g, &pa);
        cd.n = 0;
        GEOSSTRtree_query_r(h, tree, g, cand_add, &cd);
        qsort(cd.v, cd.n, sizeof *cd.v, cmp_size);
        memset(acc_area, 0, nvals * sizeof *acc_area);
        int hit = 0, contained = 0;
        size_t npieces = 0;
        for (size_t k = 0; k < cd.n; k++) {
            zone *z = &zs[cd.v[k]];
            if (!z->prep && !(z->prep = GEOSPrepare_r(h, z->g))) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: zone %zu: GEOS cannot prepare its polygon", Z.path, cd.v[k] + 1);
                GEOSGeom_destroy_r(h, g);
                goto out;
            }
            double a = 0;
            GEOSGeometry *piece = NULL;
            if (GEOSPreparedContains_r(h, z->prep, g) == 1) {
                a = pa;
                contained = 1;
                piece = GEOSGeom_clone_r(h, g);
            } else if (GEOSPreparedIntersects_r(h, z->prep, g) == 1) {
                piece = GEOSIntersection_r(h, z->g, g);
                if (!piece) {
                    st = ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: the intersection with zone %s failed",
                                  P.path, ct_feature_fid(f), zval[cd.v[k]]);
                    GEOSGeom_destroy_r(h, g);
                    goto out;
                }
                GEOSArea_r(h, piece, &a);
            }
            if (a > 0) {
                acc_area[z->value] += a;
                hit = 1;
                pieces[npieces] = piece;
                pval[npieces++] = z->value;
            } else {
                GEOSGeom_destroy_r(h, piece);
            }
        }
        nnozone += !hit;
        /* the part of the parcel in no zone (zones may overlap: subtract their union) */
        double rest_area = contained ? 0 : pa, sum_pieces = 0;
        for (size_t v = 0; v < nvals; v++)
            sum_pieces += acc_area[v];
        /* pieces that add up to the parcel tile it (zones of a plan do not overlap): no union */
        if (!contained && npieces && fabs(sum_pieces - pa) <= 1e-9 * pa)
            rest_area = 0;
        GEOSGeometry *covered = NULL;
        if (!contained && npieces && (rest_area > 0 || (ro_open && ro.with_geom))) {
            /* the collection takes ownership of its members: give it copies */
            GEOSGeometry **cp = malloc(npieces * sizeof *cp);
            GEOSGeometry *coll = NULL;
            if (cp) {
                for (size_t k = 0; k < npieces; k++)
                    cp[k] = GEOSGeom_clone_r(h, pieces[k]);
                coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, cp, (unsigned)npieces);
                free(cp);
            }
            if (coll) {
                covered = GEOSUnaryUnion_r(h, coll);
                GEOSGeom_destroy_r(h, coll);
            }
            if (!covered) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: the union of its zone pieces failed",
                              P.path, ct_feature_fid(f));
                GEOSGeom_destroy_r(h, g);
                goto out;
            }
            double ca = 0;
            if (covered)
                GEOSArea_r(h, covered, &ca);
            rest_area = pa - ca;
        }
        /* rows: one per zone value, in sorted order, then the part in no zone */
        for (size_t v = 0; v <= nvals; v++) {
            double a = v < nvals ? acc_area[v] : rest_area;
            const char *zname = v < nvals ? vals[v] : NULL;
            if (v == nvals && (conf || a <= 1e-9 * pa))
                continue;
            if (!(a > 0))
                continue;
            if (conf) {
                if (use && ct_landuse_compatible(use, zname))
                    continue;
                conflict = 1;
            }
            tot_area[v] += a;
            nrows++;
            if (!ro_open)
                continue;
            snprintf(nbuf[0], sizeof nbuf[0], "%lld", ct_feature_fid(f));
            row[0] = nbuf[0];
            for (int k = 0; k < P.ncopy; k++) {
                if (!text[k] && !ct_feature_is_null(f, P.copy[k]) &&
                    (st = ct_feature_text(ctx, f, P.copy[k], &text[k]))) {
                    GEOSGeom_destroy_r(h, g);
                    GEOSGeom_destroy_r(h, covered);
                    goto out;
                }
                row[1 + k] = text[k];
            }
            int c = 1 + P.ncopy;
            if (conf)
                row[c++] = use;
            row[c++] = zname;
            fmt_num(nbuf[1], sizeof nbuf[1], a, &row[c++]);
            fmt_num(nbuf[2], sizeof nbuf[2], a / pa, &row[c]);
            GEOSGeometry *rg = NULL;
            if (ro.with_geom) {
                if (v < nvals) { /* the union of this value's pieces */
                    for (size_t k = 0; k < npieces; k++)
                        if (pval[k] == (int)v) {
                            GEOSGeometry *u = rg ? GEOSUnion_r(h, rg, pieces[k]) : GEOSGeom_clone_r(h, pieces[k]);
                            GEOSGeom_destroy_r(h, rg);
                            rg = u;
                        }
                } else {
                    rg = covered ? GEOSDifference_r(h, g, covered) : GEOSGeom_clone_r(h, g);
                }
            }
            st = rowout_write(ctx, &ro, rg, row);
            GEOSGeom_destroy_r(h, rg);
            if (st) {
                GEOSGeom_destroy_r(h, g);
                GEOSGeom_destroy_r(h, covered);
                goto out;
            }
        }
        nconflict += conflict;
        GEOSGeom_destroy_r(h, covered);
        for (size_t k = 0; k < npieces; k++) {
            GEOSGeom_destroy_r(h, pieces[k]);
            pieces[k] = NULL;
        }
        for (int k = 0; k < P.ncopy; k++) {
            free(text[k]);
            text[k] = NULL;
        }
        GEOSGeom_destroy_r(h, g);
        if (cd.n && !cd.v) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    if (ro_open) {
        ro_open = 0;
        if ((st = rowout_close(ctx, &ro, CT_OK)))
            goto out;
    }
    if (nnozone)
        ct_log(ctx, CT_LOG_WARN, "%s: %lld parcels lie in no zone of %s", P.path, nnozone, Z.path);
    if (conf)
        ct_log(ctx, CT_LOG_INFO, "%s: %lld of %lld parcels conflict with the plan %s", P.path, nconflict,
               nparcels, Z.path);
    if (o->json) {
        js = json_object_new_object();
        json_object_object_add(js, "mode", json_object_new_string(conf ? "conformance" : "intersect"));
        json_object_object_add(js, "parcels", json_object_new_string(P.path));
        json_object_object_add(js, "zones", json_object_new_string(Z.path));
        json_object_object_add(js, "features", json_object_new_int64(nparcels));
        json_object_object_add(js, "zone_features", json_object_new_int64((int64_t)nz));
        json_object_object_add(js, "rows", json_object_new_int64(nrows));
        json_object_object_add(js, "in_no_zone", json_object_new_int64(nnozone));
        json_object_object_add(js, "repaired", json_object_new_int64(P.nrepaired + Z.nrepaired));
        json_object_object_add(js, "rejected", json_object_new_int64(P.nbad + P.nempty + Z.nbad + Z.nempty));
        json_object_object_add(js, "output", o->output && !csv_out ? json_object_new_string(o->output) : NULL);
        json_object *a = json_object_new_object();
        for (size_t v = 0; v < nvals; v++)
            if (!conf || tot_area[v] > 0)
                json_object_object_add(a, vals[v], json_object_new_double(tot_area[v]));
        if (conf) {
            json_object_object_add(js, "conflicting_parcels", json_object_new_int64(nconflict));
            json_object_object_add(js, "unknown_codes", json_object_new_int64(nunknown));
            json_object_object_add(js, "conflict_area_by_planned_use", a);
        } else {
            json_object_object_add(js, "area_by_zone", a);
            json_object_object_add(js, "area_in_no_zone", json_object_new_double(tot_area[nvals]));
        }
        fprintf(out, "%s\n", json_object_to_json_string_ext(js, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    if (P.nbad + P.nempty + Z.nbad + Z.nempty > 0)
        st = ct_error(ctx, CT_REJECTED, "%lld parcels and %lld zones without a usable polygon were left out",
                      P.nbad + P.nempty, Z.nbad + Z.nempty);
out:
    if (ro_open)
        rowout_close(ctx, &ro, st ? st : CT_ERR_IO);
    if (js)
        json_object_put(js);
    for (size_t i = 0; i < nz; i++) {
        if (zs[i].prep)
            GEOSPreparedGeom_destroy_r(h, zs[i].prep);
        GEOSGeom_destroy_r(h, zs[i].g);
        free(zval[i]);
    }
    if (pieces)
        for (size_t v = 0; v <= nz; v++)
            GEOSGeom_destroy_r(h, pieces[v]);
    free(pval);
    if (text)
        for (int k = 0; k < P.ncopy; k++)
            free(text[k]);
    free(text);
    free(row);
    free(use);
    free(pieces);
    free(zs);
    free(zval);
    free(vals);
    free(acc_area);
    free(tot_area);
    free(cd.v);
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    ct_transform_free(t);
    names_free(&nm);
    player_free(&P);
    player_free(&Z);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Impact report: a flood raster × parcels and wards.                                        */

/* A label field of a layer: the first string field named like a name (Ten..., name), else the
 * first string field that is not restricted; -1 when none. */
static int label_field(ct_layer *l)
{
    int nf = ct_layer_field_count(l), first = -1;
    for (int i = 0; i < nf; i++) {
        const char *n = ct_layer_field_name(l, i);
        if (ct_layer_field_type(l, i) != CT_FIELD_STRING || ct_sdi_field_personal(n))
            continue;
        if (!strncasecmp(n, "Ten", 3) || strcasestr(n, "name"))
            return i;
        if (first < 0)
            first = i;
    }
    return first;
}

/* The class of a value (-1: not above the first break), as acc_add counts it. */
static int class_of(const zparams *z, double v)
{
    if (!(v > z->cls[0]))
        return -1;
    int k = z->ncls - 1;
    while (k > 0 && v <= z->cls[k])
        k--;
    return k;
}

static void class_label(char *buf, size_t n, const zparams *z, int k)
{
    if (k < 0)
        snprintf(buf, n, "dry");
    else if (k < z->ncls - 1)
        snprintf(buf, n, "%g-%g", z->cls[k], z->cls[k + 1]);
    else
        snprintf(buf, n, ">%g", z->cls[k]);
}

typedef struct usesum {
    char *code;
    long long parcels, flooded;
    double area, wet, cls[CT_ZONAL_MAX_CLASSES];
} usesum;

static int cmp_usesum(const void *a, const void *b)
{
    return strcmp(((const usesum *)a)->code, ((const usesum *)b)->code);
}

typedef struct wardrow {
    size_t i;
    char *label;
    double wet;
} wardrow;

static int cmp_wardrow(const void *a, const void *b)
{
    const wardrow *x = a, *y = b;
    if (x->wet != y->wet)
        return x->wet > y->wet ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

typedef struct deeprow {
    size_t i;
    double max;
} deeprow;

static int cmp_deep(const void *a, const void *b)
{
    const deeprow *x = a, *y = b;
    if (x->max != y->max)
        return x->max > y->max ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static FILE *report_file(ct_ctx *ctx, const char *dir, const char *name, ct_status *st)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        *st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", p, strerror(errno));
    return f;
}

static ct_status report_close(ct_ctx *ctx, FILE *f, const char *name, ct_status st)
{
    if (!f)
        return st;
    int bad = ferror(f) | fclose(f);
    if (!st && bad)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", name, strerror(errno));
    return st;
}

/* Area-weighted centroid of polygon rings [r0, r1), holes subtracted. @return 0 when degenerate. */
static int rings_centroid(const rings *R, size_t r0, size_t r1, double *cx, double *cy)
{
    if (r0 == r1)
        return 0;
    double x0 = R->x[R->ring_off[r0]], y0 = R->y[R->ring_off[r0]], W = 0, X = 0, Y = 0;
    for (size_t j = r0; j < r1; j++) {
        double a = 0, sx = 0, sy = 0;
        for (size_t i = R->ring_off[j]; i + 1 < R->ring_off[j + 1]; i++) {
            double xa = R->x[i] - x0, ya = R->y[i] - y0, xb = R->x[i + 1] - x0, yb = R->y[i + 1] - y0;
            double cr = xa * yb - xb * ya;
            a += cr;
            sx += (xa + xb) * cr;
            sy += (ya + yb) * cr;
        }
        if (a == 0)
            continue;
        double w = fabs(a) * (R->hole[j] ? -1 : 1);
        X += w * sx / (3 * a);
        Y += w * sy / (3 * a);
        W += w;
    }
    if (!(fabs(W) > 0))
        return 0;
    *cx = x0 + X / W;
    *cy = y0 + Y / W;
    return 1;
}

/* Point in polygon rings [r0, r1) (crossing parity over all rings, so holes count). */
static int point_in_rings(const rings *R, size_t r0, size_t r1, double px, double py)
{
    int in = 0;
    for (size_t j = r0; j < r1; j++)
        for (size_t i = R->ring_off[j]; i + 1 < R->ring_off[j + 1]; i++) {
            double xa = R->x[i], ya = R->y[i], xb = R->x[i + 1], yb = R->y[i + 1];
            if ((ya > py) != (yb > py) && px < (xb - xa) * (py - ya) / (yb - ya) + xa)
                in = !in;
        }
    return in;
}

/* For every parcel, the ward of W whose polygon contains the parcel's centroid (-1: none). */
static ct_status assign_wards(ct_ctx *ctx, const player *P, const player *W, long *ward)
{
    ct_transform *t = NULL;
    ct_status st = CT_OK;
    if (P->crs && W->crs && !ct_crs_equal(P->crs, W->crs) && (st = ct_transform_new(ctx, P->crs, W->crs, &t)))
        return st;
    size_t nw = W->npoly;
    double *bb = malloc((nw + 1) * 4 * sizeof *bb);
    if (!bb) {
        ct_transform_free(t);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    for (size_t w = 0; w < nw; w++) {
        double *b = bb + 4 * w;
        b[0] = b[1] = INFINITY;
        b[2] = b[3] = -INFINITY;
        for (size_t i = W->R.ring_off[W->poly_ring[w]]; W->poly_ring[w + 1] > W->poly_ring[w] &&
                                                         i < W->R.ring_off[W->poly_ring[w + 1]]; i++) {
            b[0] = fmin(b[0], W->R.x[i]);
            b[1] = fmin(b[1], W->R.y[i]);
            b[2] = fmax(b[2], W->R.x[i]);
            b[3] = fmax(b[3], W->R.y[i]);
        }
    }
    for (size_t i = 0; i < P->npoly; i++) {
        double x, y;
        ward[i] = -1;
        if (!rings_centroid(&P->R, P->poly_ring[i], P->poly_ring[i + 1], &x, &y))
            continue;
        if (t && ct_transform_points(ctx, t, 1, &x, &y, NULL)) {
            ct_ctx_clear_error(ctx);
            continue;
        }
        for (size_t w = 0; w < nw; w++) {
            const double *b = bb + 4 * w;
            if (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3] &&
                point_in_rings(&W->R, W->poly_ring[w], W->poly_ring[w + 1], x, y)) {
                ward[i] = (long)w;
                break;
            }
        }
    }
    free(bb);
    ct_transform_free(t);
    return CT_OK;
}

/* Flooded area by unit and class as stacked horizontal bars, largest first (up to 30 units). */
static ct_status impact_chart(ct_ctx *ctx, const char *path, const zparams *z, const wardrow *w, size_t nw,
                              const zresult *W, const char *title, const char *what)
{
    size_t n = nw < 30 ? nw : 30;
    int bar = 22, left = 230, right = 60, top = 70, width = 960;
    int height = top + (int)n * bar + 60;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    cairo_set_font_size(cr, 16);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_move_to(cr, 20, 28);
    cairo_show_text(cr, title);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    double maxwet = 0;
    for (size_t k = 0; k < n; k++)
        maxwet = fmax(maxwet, w[k].wet);
    if (!(maxwet > 0))
        maxwet = 1;
    double scale = (width - left - right) / maxwet;
    /* legend: one colour per class, light (shallow) to dark (deep) */
    double cell = fabs(W->rs[0].gt[1] * W->rs[0].gt[5]);
    for (int c = 0; c < z->ncls; c++) {
        double t = z->ncls > 1 ? (double)c / (z->ncls - 1) : 1;
        double rgb[3] = {0.78 - 0.75 * t, 0.88 - 0.70 * t, 0.98 - 0.56 * t};
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, left + c * 120, 40, 14, 14);
        cairo_fill(cr);
        char lab[64], m[72];
        class_label(lab, sizeof lab, z, c);
        snprintf(m, sizeof m, "%s m", lab);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, left + c * 120 + 18, 52);
        cairo_show_text(cr, m);
    }
    for (size_t k = 0; k < n; k++) {
        double y = top + (double)k * bar;
        const acc *a = &W->accs[w[k].i * (size_t)W->nr];
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_text_extents_t te;
        cairo_text_extents(cr, w[k].label, &te);
        cairo_move_to(cr, left - 8 - te.x_advance, y + bar * 0.7);
        cairo_show_text(cr, w[k].label);
        double x = left;
        for (int c = 0; c < z->ncls; c++) {
            double t = z->ncls > 1 ? (double)c / (z->ncls - 1) : 1;
            cairo_set_source_rgb(cr, 0.78 - 0.75 * t, 0.88 - 0.70 * t, 0.98 - 0.56 * t);
            double wpx = a->w_cls[c] * cell * scale;
            cairo_rectangle(cr, x, y + 3, wpx, bar - 6);
            cairo_fill(cr);
            x += wpx;
        }
        char v[48];
        snprintf(v, sizeof v, "%.1f ha", w[k].wet / 1e4);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, x + 6, y + bar * 0.7);
        cairo_show_text(cr, v);
    }
    char foot[160];
    snprintf(foot, sizeof foot, "flooded area (depth above the wet level) per %s and depth class; ctgis ct-overlay impact",
             what);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    cairo_move_to(cr, left, height - 24);
    cairo_show_text(cr, foot);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    cairo_status_t cs = cairo_surface_write_to_png(s, path);
    cairo_surface_destroy(s);
    if (cs != CAIRO_STATUS_SUCCESS)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write the chart: %s", path, cairo_status_to_string(cs));
    return CT_OK;
}

/* A result table of the SDI held in memory until the whole report is made: the SDI's write lock
 * is then taken only to load finished rows (held_load), not through the computing, during which
 * another ingest or flood run would wait and time out. */
typedef struct held_table {
    char *name, *title;
    names cols;
    char *rows; /* each value: 0 for NULL, or 1 and the NUL-terminated text */
    size_t len, cap, nrows;
} held_table;

typedef struct held_list {
    held_table *t;
    size_t n, cap;
} held_list;

static held_table *held_new(ct_ctx *ctx, held_list *l, const char *name, const char *title, const names *nm)
{
    if (ct_grow(&l->t, &l->cap, l->n + 1, sizeof *l->t)) {
        ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    held_table *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    int ok = (t->name = strdup(name)) && (t->title = strdup(title));
    for (int i = 0; ok && i < nm->n; i++)
        ok = names_add(&t->cols, nm->v[i], nm->defs[i].type);
    if (!ok) {
        ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return t;
}

static ct_status held_row(ct_ctx *ctx, held_table *t, const char *const *vals)
{
    for (int i = 0; i < t->cols.n; i++) {
        size_t n = vals[i] ? strlen(vals[i]) + 2 : 1;
        if (ct_grow(&t->rows, &t->cap, t->len + n, 1))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        t->rows[t->len] = vals[i] != NULL;
        if (vals[i])
            memcpy(t->rows + t->len + 1, vals[i], n - 1);
        t->len += n;
    }
    t->nrows++;
    return CT_OK;
}

/* Writes every held table into the open version of sdi. */
static ct_status held_load(ct_ctx *ctx, ct_sdi *sdi, const held_list *l)
{
    ct_status st = CT_OK;
    for (size_t k = 0; k < l->n && !st; k++) {
        const held_table *t = &l->t[k];
        ct_sdi_table *tab = NULL;
        const char **vals = calloc((size_t)t->cols.n + 1, sizeof *vals);
        if (!vals)
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        st = sdi_table_start(ctx, sdi, t->name, t->title, &t->cols, &tab);
        const char *p = t->rows;
        for (size_t r = 0; r < t->nrows && !st; r++) {
            for (int i = 0; i < t->cols.n; i++) {
                vals[i] = *p ? p + 1 : NULL;
                p += *p ? strlen(p + 1) + 2 : 1;
            }
            st = ct_sdi_table_add(ctx, tab, vals);
        }
        free(vals);
        if (tab)
            st = st ? (ct_sdi_table_free(tab), st) : ct_sdi_table_close(ctx, tab);
    }
    return st;
}

static void held_free(held_list *l)
{
    for (size_t k = 0; k < l->n; k++) {
        free(l->t[k].name);
        free(l->t[k].title);
        free(l->t[k].rows);
        names_free(&l->t[k].cols);
    }
    free(l->t);
    memset(l, 0, sizeof *l);
}

/* One table of the report: a CSV file, optionally the same rows with their geometry as GeoJSON,
 * and optionally a result table of the SDI, held until the report is complete. */
typedef struct rtab {
    FILE *csv;
    ct_vsink *gj;
    held_table *t;
    int n;
} rtab;

static ct_status rtab_open(ct_ctx *ctx, rtab *r, const char *dir, const char *file, const names *nm,
                           int geojson, const ct_crs *crs, held_list *held, const char *table, const char *title)
{
    memset(r, 0, sizeof *r);
    r->n = nm->n;
    char name[512];
    ct_status st = CT_OK;
    snprintf(name, sizeof name, "%s.csv", file);
    if (!(r->csv = report_file(ctx, dir, name, &st)))
        return st;
    csv_row(r->csv, (const char *const *)nm->v, nm->n);
    if (geojson) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s.geojson", dir, file);
        ct_vsink_opts so = {.layer = file, .gtype = CT_GEOM_UNKNOWN, .crs = crs, .fields = nm->defs, .nfields = nm->n};
        if ((st = ct_vsink_create(ctx, p, &so, &r->gj)))
            return st;
    }
    if (held && table && !(r->t = held_new(ctx, held, table, title, nm)))
        st = ct_ctx_status(ctx);
    return st;
}

static ct_status rtab_row(ct_ctx *ctx, rtab *r, const char *const *vals, const GEOSGeometry *g)
{
    csv_row(r->csv, vals, r->n);
    ct_status st = CT_OK;
    if (r->gj && (st = ct_vsink_write(ctx, r->gj, g, vals)))
        return st;
    if (r->t)
        st = held_row(ctx, r->t, vals);
    return st;
}

static ct_status rtab_close(ct_ctx *ctx, rtab *r, const char *file, ct_status st)
{
    st = report_close(ctx, r->csv, file, st);
    if (r->gj) {
        if (st)
            ct_vsink_abort(r->gj);
        else
            st = ct_vsink_commit(ctx, r->gj);
    }
    memset(r, 0, sizeof *r);
    return st;
}

/* A row's values being built: numbers formatted into buf, text owned by the caller. */
typedef struct rowv {
    char (*buf)[32];
    const char **vals;
    int n;
} rowv;

static int rowv_alloc(rowv *r, int n)
{
    r->buf = calloc((size_t)n + 1, sizeof *r->buf);
    r->vals = calloc((size_t)n + 1, sizeof *r->vals);
    r->n = 0;
    return r->buf && r->vals;
}

static void rowv_free(rowv *r)
{
    free(r->buf);
    free(r->vals);
    memset(r, 0, sizeof *r);
}

static void put_num(rowv *r, double v)
{
    fmt_num(r->buf[r->n], sizeof r->buf[r->n], v, &r->vals[r->n]);
    r->n++;
}

static void put_int(rowv *r, long long v)
{
    snprintf(r->buf[r->n], sizeof r->buf[r->n], "%lld", v);
    r->vals[r->n] = r->buf[r->n];
    r->n++;
}

static void put_str(rowv *r, const char *s)
{
    r->vals[r->n++] = s;
}

/* Adds the class-area columns (area_0_0.2 ...) and, with counts, parcels_0_0.2 ... */
static int class_columns(names *nm, const zparams *z, const char *prefix, ct_field_type t)
{
    for (int c = 0; c < z->ncls; c++) {
        char cn[96], col[128];
        class_name(cn, sizeof cn, z, c);
        snprintf(col, sizeof col, "%s%s", prefix, prefix[0] ? cn + 5 : cn);
        if (!names_add(nm, col, t))
            return 0;
    }
    return 1;
}

/* Polygons rings [r0, r1) of R as a GEOS MultiPolygon, coordinates transformed by t (may be
 * NULL). NULL when out of memory or the transformation fails. */
static GEOSGeometry *rings_geos(ct_ctx *ctx, const rings *R, size_t r0, size_t r1, ct_transform *t)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    size_t nshell = 0;
    for (size_t j = r0; j < r1; j++)
        nshell += !R->hole[j];
    GEOSGeometry **polys = calloc(nshell + 1, sizeof *polys), **holes = calloc(r1 - r0 + 1, sizeof *holes);
    GEOSGeometry *out = NULL;
    size_t np = 0;
    int bad = !polys || !holes;
    for (size_t j = r0; j < r1 && !bad;) {
        GEOSGeometry *ring[2] = {NULL, NULL};
        size_t nh = 0, j0 = j;
        for (; j < r1 && (j == j0 || R->hole[j]); j++) {
            size_t a = R->ring_off[j], n = R->ring_off[j + 1] - a;
            double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
            GEOSCoordSequence *cs = x && y ? GEOSCoordSeq_create_r(h, (unsigned)n, 2) : NULL;
            if (cs) {
                memcpy(x, R->x + a, n * sizeof *x);
                memcpy(y, R->y + a, n * sizeof *y);
                if (t && ct_transform_points(ctx, t, n, x, y, NULL))
                    bad = 1;
                for (size_t i = 0; i < n; i++)
                    GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, x[i], y[i]);
            }
            free(x);
            free(y);
            GEOSGeometry *lr = cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
            if (!lr)
                bad = 1;
            else if (j == j0)
                ring[0] = lr;
            else
                holes[nh++] = lr;
        }
        GEOSGeometry *poly = ring[0] && !bad ? GEOSGeom_createPolygon_r(h, ring[0], holes, (unsigned)nh) : NULL;
        if (!poly) {
            bad = 1;
            GEOSGeom_destroy_r(h, ring[0]);
            for (size_t k = 0; k < nh; k++)
                GEOSGeom_destroy_r(h, holes[k]);
        } else {
            polys[np++] = poly;
        }
    }
    if (!bad)
        out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)np);
    else
        for (size_t k = 0; k < np; k++)
            GEOSGeom_destroy_r(h, polys[k]);
    free(polys);
    free(holes);
    return out;
}

/* The parts of the parcels of P inside each unit of U, as polygons of Q (in P's CRS) with
 * qunit[k] and qparcel[k]: a parcel inside one unit is taken whole (one prepared "contains"),
 * one across a boundary is cut with GEOSIntersection. */
static ct_status cut_parcels(ct_ctx *ctx, const player *P, const player *U, player *Q, size_t **qunit,
                             size_t **qparcel)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    ct_transform *t = NULL;
    ct_status st = CT_OK;
    size_t nu = U->npoly, cap = P->npoly + 16;
    GEOSGeometry **ug = calloc(nu + 1, sizeof *ug);
    const GEOSPreparedGeometry **prep = calloc(nu + 1, sizeof *prep);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    cand cd = {0};
    memset(Q, 0, sizeof *Q);
    Q->path = P->path;
    Q->crs = P->crs ? ct_crs_clone(P->crs) : NULL;
    if (P->crs && !Q->crs) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    Q->poly_ring = malloc(cap * sizeof *Q->poly_ring);
    *qunit = malloc(cap * sizeof **qunit);
    *qparcel = malloc(cap * sizeof **qparcel);
    if (!ug || !prep || !tree || !Q->poly_ring || !*qunit || !*qparcel) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (U->crs && P->crs && !ct_crs_equal(U->crs, P->crs) && (st = ct_transform_new(ctx, U->crs, P->crs, &t)))
        goto out;
    for (size_t u = 0; u < nu; u++) {
        if (U->poly_ring[u + 1] == U->poly_ring[u])
            continue;
        if (!(ug[u] = rings_geos(ctx, &U->R, U->poly_ring[u], U->poly_ring[u + 1], t))) {
            st = ct_error(ctx, CT_ERR_CRS, "%s: unit %zu cannot be transformed into the parcels' CRS", U->path, u + 1);
            goto out;
        }
        if (!(prep[u] = GEOSPrepare_r(h, ug[u]))) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s: unit %zu: GEOS cannot prepare its polygon", U->path, u + 1);
            goto out;
        }
        GEOSSTRtree_insert_r(h, tree, ug[u], (void *)(uintptr_t)(u + 1));
    }
    for (size_t i = 0; i < P->npoly && !st; i++) {
        if (P->poly_ring[i + 1] == P->poly_ring[i])
            continue;
        GEOSGeometry *g = rings_geos(ctx, &P->R, P->poly_ring[i], P->poly_ring[i + 1], NULL);
        if (!g) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            break;
        }
        cd.n = 0;
        GEOSSTRtree_query_r(h, tree, g, cand_add, &cd);
        qsort(cd.v, cd.n, sizeof *cd.v, cmp_size);
        for (size_t k = 0; k < cd.n && !st; k++) {
            size_t u = cd.v[k];
            GEOSGeometry *piece = NULL;
            int whole = GEOSPreparedContains_r(h, prep[u], g) == 1;
            if (!whole && GEOSPreparedIntersects_r(h, prep[u], g) == 1) {
                piece = GEOSIntersection_r(h, ug[u], g);
                if (!piece) {
                    ct_log(ctx, CT_LOG_WARN, "%s: parcel %zu: cannot be cut at the boundary of unit %zu of %s: "
                           "left out of the land use per unit", P->path, i + 1, u + 1, U->path);
                    continue;
                }
            } else if (!whole) {
                continue;
            }
            size_t ncap = ct_grow_cap(cap, Q->npoly + 2);
            if (ncap > cap) {
                if (ct_resize(&Q->poly_ring, ncap, sizeof *Q->poly_ring) || ct_resize(qunit, ncap, sizeof **qunit) ||
                    ct_resize(qparcel, ncap, sizeof **qparcel)) {
                    GEOSGeom_destroy_r(h, piece);
                    st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                    break;
                }
                cap = ncap;
            }
            Q->poly_ring[Q->npoly] = Q->R.nrings;
            int npp = 0;
            if (!add_geom(h, &Q->R, whole ? g : piece, &npp))
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            GEOSGeom_destroy_r(h, piece);
            if (Q->R.nrings > Q->poly_ring[Q->npoly]) {
                (*qunit)[Q->npoly] = u;
                (*qparcel)[Q->npoly] = i;
                Q->npoly++;
            }
            if (whole)
                break; /* the units of one layer do not overlap */
        }
        GEOSGeom_destroy_r(h, g);
        if ((i & 4095) == 4095 && (st = ct_progress(ctx, (double)i / (double)P->npoly, "cutting parcels at unit boundaries")))
            break;
    }
    if (Q->poly_ring)
        Q->poly_ring[Q->npoly] = Q->R.nrings;
out:
    free(cd.v);
    for (size_t u = 0; u < nu; u++) {
        if (prep && prep[u])
            GEOSPreparedGeom_destroy_r(h, prep[u]);
        if (ug && ug[u])
            GEOSGeom_destroy_r(h, ug[u]);
    }
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    free(prep);
    free(ug);
    ct_transform_free(t);
    return st;
}

/* A layer the report is given per unit of: wards of one era, or the planning zones. */
typedef struct unitset {
    const char *path;     /* operand: a file or "sdi:admin_units" */
    const char *valid_on; /* only the units valid on this date; NULL: all */
    int zones;            /* planning zones: no land use per unit */
    int lenient;          /* a default of the SDI: may miss the raster (a warning) */
    char file[160];       /* "wards-wards_a", "ward-2024", "zones" */
    char tname[160];      /* table suffix: "wards_wards_a", "ward_2024", "zones" */
} unitset;

/* The per-unit results of one unit set in one scenario. */
typedef struct unitres {
    zresult W;
    long long *count;     /* per unit: parcels (by centroid) by class of maximum depth, dry first */
    long long *fid;
    char **label;
    wardrow *order;       /* units by flooded area */
    usesum *lu;           /* land use per unit: sums of the parcel parts by (unit, code) */
    size_t *lu_unit, nlu;
} unitres;

static void unitres_free(unitres *u)
{
    for (size_t i = 0; u->label && i < u->W.P.npoly; i++)
        free(u->label[i]);
    free(u->label);
    free(u->count);
    free(u->fid);
    free(u->order);
    free(u->lu);
    free(u->lu_unit);
    zresult_free(&u->W);
    memset(u, 0, sizeof *u);
}

typedef struct lukey {
    size_t unit;
    const char *code;
    size_t piece;
} lukey;

static int cmp_lukey(const void *a, const void *b)
{
    const lukey *x = a, *y = b;
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    return x->piece < y->piece ? -1 : x->piece > y->piece;
}

/* Land use per unit: cuts the parcels at the unit boundaries, computes the pieces' statistics
 * over the raster, and sums them by (unit, code) into u->lu. */
static ct_status landuse_per_unit(ct_ctx *ctx, zresult *PR, char **use, unitres *u)
{
    player Q;
    size_t *qunit = NULL, *qparcel = NULL;
    acc *accs = NULL;
    double *cls = NULL, *parea = NULL;
    lukey *keys = NULL;
    const zparams *z = &PR->z;
    int ncw = z->ncls + z->nabove;
    ct_status st = cut_parcels(ctx, &PR->P, &u->W.P, &Q, &qunit, &qparcel);
    size_t nq = Q.npoly;
    if (st)
        goto out;
    accs = calloc(nq + 1, sizeof *accs);
    cls = calloc((nq + 1) * (size_t)(ncw ? ncw : 1), sizeof *cls);
    parea = calloc(nq + 1, sizeof *parea);
    keys = calloc(nq + 1, sizeof *keys);
    u->lu = calloc(nq + 1, sizeof *u->lu);
    u->lu_unit = calloc(nq + 1, sizeof *u->lu_unit);
    if (!accs || !cls || !parea || !keys || !u->lu || !u->lu_unit) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < nq; k++)
        acc_init(&accs[k], cls + k * (size_t)ncw, ncw);
    int id = 0;
    long long nov = 0;
    if (nq && (st = zonal_pass(ctx, &Q, PR->rs, &id, 1, z, accs, 1, parea, 1, &nov, 0, 1)))
        goto out;
    double cell = fabs(PR->rs[0].gt[1] * PR->rs[0].gt[5]);
    for (size_t k = 0; k < nq; k++)
        keys[k] = (lukey){qunit[k], use[qparcel[k]], k};
    qsort(keys, nq, sizeof *keys, cmp_lukey);
    for (size_t k = 0; k < nq; k++) {
        if (!k || keys[k].unit != keys[k - 1].unit || strcmp(keys[k].code, keys[k - 1].code)) {
            u->lu_unit[u->nlu] = keys[k].unit;
            u->lu[u->nlu++].code = (char *)keys[k].code; /* owned by use[] */
        }
        usesum *s = &u->lu[u->nlu - 1];
        const acc *a = &accs[keys[k].piece];
        s->parcels++;
        s->flooded += a->w_wet > 0;
        s->area += parea[keys[k].piece];
        s->wet += a->w_wet * cell;
        for (int c = 0; c < z->ncls; c++)
            s->cls[c] += a->w_cls[c] * cell;
    }
out:
    for (size_t k = 0; accs && k < nq; k++)
        acc_free(&accs[k]);
    free(accs);
    free(cls);
    free(parea);
    free(keys);
    free(qunit);
    free(qparcel);
    player_free(&Q);
    return st;
}

/* The identifier field of a unit layer (the SDI's zone_id or code, a shapefile's MaKhu or
 * MaPX), -1 when none: zones often share a name ("Vùng sản xuất lúa chất lượng cao"). */
static int code_field(ct_layer *l)
{
    static const char *const ids[] = {"zone_id", "code", "MaKhu", "MaPX"};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        int i = ct_layer_field_index(l, ids[k]);
        if (i >= 0)
            return i;
    }
    return -1;
}

/* The fids and labels ("CODE NAME", or what there is) of a unit layer's kept features. */
static ct_status unit_labels(ct_ctx *ctx, unitres *u)
{
    player *P = &u->W.P;
    size_t n = P->npoly;
    u->fid = calloc(n + 1, sizeof *u->fid);
    u->label = calloc(n + 1, sizeof *u->label);
    if (!u->fid || !u->label)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    int lf = label_field(P->layer), cf = code_field(P->layer);
    ct_layer_rewind(P->layer);
    ct_status st = CT_OK;
    for (size_t i = 0; i < n && !st; i++) {
        ct_feature *ft;
        if ((st = player_next(ctx, P, &ft)) || !ft)
            break;
        char *name = NULL, *code = NULL, b[32];
        u->fid[i] = ct_feature_fid(ft);
        /* undecodable text is an error naming the feature, as in every other table of the report */
        if ((lf >= 0 && !ct_feature_is_null(ft, lf) && (st = ct_feature_text(ctx, ft, lf, &name))) ||
            (cf >= 0 && cf != lf && !ct_feature_is_null(ft, cf) && (st = ct_feature_text(ctx, ft, cf, &code)))) {
            free(name);
            break;
        }
        if (!name && !code)
            snprintf(b, sizeof b, "#%lld", u->fid[i]);
        size_t len = (name ? strlen(name) : 0) + (code ? strlen(code) : 0) + 34;
        if ((u->label[i] = malloc(len)))
            snprintf(u->label[i], len, "%s%s%s", code ? code : "", code && name ? " " : "", name ? name : code ? "" : b);
        else
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        free(name);
        free(code);
    }
    return st;
}

/* Result table name PREFIX_SUFFIX as an SDI identifier (sdi_ident). */
static void table_name(char *buf, size_t n, const char *prefix, const char *suffix)
{
    char t[1024];
    snprintf(t, sizeof t, "%s_%s", prefix, suffix);
    sdi_ident(buf, n, t);
}

/* One flood raster: the report's files in dir, the tables (prefix: NULL for none) held for the
 * SDI in held, the JSON summary in *js. */
typedef struct impact_in {
    const char *raster;   /* operand: a file or "sdi:<run>.<product>" */
    const char *parcels;
    const unitset *units;
    int nunits;
    const char *dir;
    const char *prefix;
    held_list *held;
} impact_in;

static ct_status impact_one(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, const impact_in *in,
                            json_object **jsout)
{
    double threshold = o->threshold > 0 ? o->threshold : 0.5;
    ct_status st;
    zresult PR;
    memset(&PR, 0, sizeof PR);
    unitres *U = calloc((size_t)in->nunits + 1, sizeof *U);
    char **use = NULL;
    usesum *us = NULL;
    size_t nus = 0, ndeep = 0;
    signed char *pcls = NULL; /* per parcel: class of its maximum depth, -1 dry */
    long *pward = NULL;
    deeprow *deep = NULL;
    char label[64], tname[256], title[512];
    long long by_class[CT_ZONAL_MAX_CLASSES + 1] = {0};
    double area_class[CT_ZONAL_MAX_CLASSES + 1] = {0};
    names nm = {0};
    rowv rv = {0};
    rtab rt;
    memset(&rt, 0, sizeof rt);
    FILE *f = NULL;
    json_object *tables = json_object_new_array();
    if (!U || !tables) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }

    ct_overlay_opts po = *o;
    po.mode = CT_OVERLAY_ZONAL;
    po.params.majority = 0;
    po.rasters = &in->raster;
    po.nrasters = 1;
    po.polygons = in->parcels;
    if ((st = zonal_compute(ctx, &po, sdi, NULL, 0, &PR)))
        goto out;
    const zparams *z = &PR.z;
    double cell = fabs(PR.rs[0].gt[1] * PR.rs[0].gt[5]);
    size_t np = PR.P.npoly;
    int ncls = z->ncls;

    /* the parcels' land-use codes, normalised to TT 08/2024 */
    const char *ufname = o->use_field ? o->use_field : PR.P.sdi ? "landuse" : "MucDich";
    int uf = ct_layer_field_index(PR.P.layer, ufname);
    if (uf < 0 && o->use_field) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: no field named '%s'", PR.P.path, ufname);
        goto out;
    }
    if (uf < 0)
        ct_log(ctx, CT_LOG_WARN, "%s: no %s field: land uses are not reported (name one with --use-field)",
               PR.P.path, ufname);
    use = calloc(np + 1, sizeof *use);
    us = calloc(np + 1, sizeof *us);
    deep = calloc(np + 1, sizeof *deep);
    pcls = calloc(np + 1, sizeof *pcls);
    pward = calloc(np + 1, sizeof *pward);
    if (!use || !us || !deep || !pcls || !pward) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    ct_layer_rewind(PR.P.layer);
    for (size_t i = 0; i < np; i++) {
        ct_feature *ft;
        if ((st = player_next(ctx, &PR.P, &ft)))
            goto out;
        if (!ft)
            break;
        char *t = NULL;
        if (uf >= 0 && !ct_feature_is_null(ft, uf) && (st = ct_feature_text(ctx, ft, uf, &t)))
            goto out;
        const char *tt08 = NULL;
        if (t && ct_landuse_normalise(t, &tt08) != CT_LANDUSE_UNKNOWN && tt08) {
            free(t);
            t = strdup(tt08);
        }
        if (!(use[i] = t ? t : strdup(uf >= 0 ? "" : "-"))) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    /* per parcel: class of the maximum depth, sums by land use, deep parcels */
    for (size_t i = 0; i < np; i++) {
        const acc *a = &PR.accs[i];
        int k = a->w_valid > 0 && a->max > z->wet ? class_of(z, a->max) : -1;
        if (a->w_valid > 0 && a->max > z->wet && k < 0)
            k = 0; /* wet but not above the first break: counts in the first class */
        by_class[k + 1]++;
        pcls[i] = (signed char)k;
        area_class[k + 1] += PR.poly_area[i];
        if (a->w_valid > 0 && a->max > threshold)
            deep[ndeep++] = (deeprow){i, a->max};
        usesum *u = NULL;
        for (size_t j = 0; j < nus && !u; j++) /* codes are few: a linear scan is enough */
            if (!strcmp(us[j].code, use[i]))
                u = &us[j];
        if (!u) {
            u = &us[nus++];
            u->code = use[i];
        }
        u->parcels++;
        u->flooded += a->w_wet > 0;
        u->area += PR.poly_area[i];
        u->wet += a->w_wet * cell;
        for (int c = 0; c < ncls; c++)
            u->cls[c] += a->w_cls[c] * cell;
    }
    qsort(us, nus, sizeof *us, cmp_usesum);
    qsort(deep, ndeep, sizeof *deep, cmp_deep);

    /* the units: statistics over the raster, parcels by centroid, land use per unit */
    for (int w = 0; w < in->nunits; w++) {
        const unitset *us1 = &in->units[w];
        unitres *u = &U[w];
        ct_overlay_opts wo = po;
        wo.polygons = us1->path;
        wo.layer = NULL;
        wo.layer_srs = NULL;
        wo.fields = NULL;
        wo.nfields = 0;
        if ((st = zonal_compute(ctx, &wo, sdi, us1->valid_on, us1->lenient, &u->W)) || (st = unit_labels(ctx, u)))
            goto out;
        if ((st = assign_wards(ctx, &PR.P, &u->W.P, pward)))
            goto out;
        size_t ncol = (size_t)ncls + 1, nw = u->W.P.npoly;
        u->count = calloc((nw + 1) * ncol, sizeof *u->count);
        u->order = calloc(nw + 1, sizeof *u->order);
        if (!u->count || !u->order) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < np; i++)
            if (pward[i] >= 0 && PR.P.poly_ring[i + 1] > PR.P.poly_ring[i])
                u->count[(size_t)pward[i] * ncol + (size_t)(pcls[i] + 1)]++;
        for (size_t i = 0; i < nw; i++)
            u->order[i] = (wardrow){i, u->label[i], u->W.accs[i].w_wet * cell};
        qsort(u->order, nw, sizeof *u->order, cmp_wardrow);
        if (!us1->zones && uf >= 0 && (st = landuse_per_unit(ctx, &PR, use, u)))
            goto out;
    }

    /* per unit: wards-NAME / zones (.csv, .geojson, table) */
    for (int w = 0; w < in->nunits; w++) {
        unitres *u = &U[w];
        player *W = &u->W.P;
        names_free(&nm);
        rowv_free(&rv);
        int ok = names_add(&nm, "src_fid", CT_FIELD_INT);
        for (int k = 0; k < W->ncopy && ok; k++) {
            ct_field_type ft = ct_layer_field_type(W->layer, W->copy[k]);
            ok = names_add(&nm, ct_layer_field_name(W->layer, W->copy[k]), ft == CT_FIELD_OTHER ? CT_FIELD_STRING : ft);
        }
        ok = ok && names_add(&nm, "area", CT_FIELD_REAL) && names_add(&nm, "nodata_area", CT_FIELD_REAL) &&
             names_add(&nm, "wet_area", CT_FIELD_REAL) && names_add(&nm, "wet_frac", CT_FIELD_REAL) &&
             class_columns(&nm, z, "", CT_FIELD_REAL) && names_add(&nm, "parcels", CT_FIELD_INT) &&
             names_add(&nm, "parcels_wet", CT_FIELD_INT) && class_columns(&nm, z, "parcels_", CT_FIELD_INT) &&
             rowv_alloc(&rv, nm.n);
        if (!ok) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (in->prefix)
            table_name(tname, sizeof tname, in->prefix, in->units[w].tname);
        snprintf(title, sizeof title, "flood impact of %s per %s of %s%s%s", in->raster,
                 in->units[w].zones ? "planning zone" : "ward", in->units[w].path,
                 in->units[w].valid_on ? " valid on " : "", in->units[w].valid_on ? in->units[w].valid_on : "");
        if ((st = rtab_open(ctx, &rt, in->dir, in->units[w].file, &nm, 1, W->crs, in->held, in->prefix ? tname : NULL, title)))
            goto out;
        if (in->prefix)
            json_object_array_add(tables, json_object_new_string(tname));
        char **text = calloc((size_t)W->ncopy + 1, sizeof *text);
        if (!text)
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        ct_layer_rewind(W->layer);
        size_t ncol = (size_t)ncls + 1;
        for (size_t i = 0; i < W->npoly && !st; i++) {
            ct_feature *ft;
            if ((st = player_next(ctx, W, &ft)) || !ft)
                break;
            ct_zonal_stats zs;
            acc_finish(&u->W.accs[i], z, cell, u->W.poly_area[i], &zs);
            rv.n = 0;
            put_int(&rv, ct_feature_fid(ft));
            for (int k = 0; k < W->ncopy && !st; k++) {
                free(text[k]);
                text[k] = NULL;
                if (!ct_feature_is_null(ft, W->copy[k]))
                    st = ct_feature_text(ctx, ft, W->copy[k], &text[k]);
                put_str(&rv, text[k]);
            }
            put_num(&rv, zs.area);
            put_num(&rv, zs.nodata_area);
            put_num(&rv, zs.wet_area);
            put_num(&rv, zs.wet_frac);
            for (int c = 0; c < ncls; c++)
                put_num(&rv, zs.class_area[c]);
            long long tot = 0, *wc = u->count + i * ncol;
            for (size_t c = 0; c < ncol; c++)
                tot += wc[c];
            put_int(&rv, tot);
            put_int(&rv, tot - wc[0]);
            for (size_t c = 1; c < ncol; c++)
                put_int(&rv, wc[c]);
            const GEOSGeometry *g = ct_feature_geom(ctx, ft);
            ct_ctx_clear_error(ctx);
            if (!st)
                st = rtab_row(ctx, &rt, rv.vals, g);
        }
        for (int k = 0; text && k < W->ncopy; k++)
            free(text[k]);
        free(text);
        if ((st = rtab_close(ctx, &rt, in->units[w].file, st)))
            goto out;
    }

    /* land use per ward: landuse-NAME (.csv, table) */
    for (int w = 0; w < in->nunits; w++) {
        unitres *u = &U[w];
        if (in->units[w].zones || uf < 0)
            continue;
        names_free(&nm);
        rowv_free(&rv);
        int ok = names_add(&nm, "unit_fid", CT_FIELD_INT) && names_add(&nm, "unit", CT_FIELD_STRING) &&
                 names_add(&nm, "code", CT_FIELD_STRING) && names_add(&nm, "name", CT_FIELD_STRING) &&
                 names_add(&nm, "parcels", CT_FIELD_INT) && names_add(&nm, "parcels_flooded", CT_FIELD_INT) &&
                 names_add(&nm, "area", CT_FIELD_REAL) && names_add(&nm, "wet_area", CT_FIELD_REAL) &&
                 class_columns(&nm, z, "", CT_FIELD_REAL) && rowv_alloc(&rv, nm.n);
        if (!ok) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        char file[200], suffix[200];
        snprintf(file, sizeof file, "landuse-%s", in->units[w].file);
        snprintf(suffix, sizeof suffix, "landuse_%s", in->units[w].tname);
        if (in->prefix)
            table_name(tname, sizeof tname, in->prefix, suffix);
        snprintf(title, sizeof title, "flooded area of %s by land use within each ward of %s%s%s", in->raster,
                 in->units[w].path, in->units[w].valid_on ? " valid on " : "",
                 in->units[w].valid_on ? in->units[w].valid_on : "");
        if ((st = rtab_open(ctx, &rt, in->dir, file, &nm, 0, NULL, in->held, in->prefix ? tname : NULL, title)))
            goto out;
        if (in->prefix)
            json_object_array_add(tables, json_object_new_string(tname));
        size_t j = 0;
        for (size_t i = 0; i < u->W.P.npoly && !st; i++) {
            ct_zonal_stats zs;
            acc_finish(&u->W.accs[i], z, cell, u->W.poly_area[i], &zs);
            /* the rest of the unit: its flooded area outside every parcel part */
            double rest_area = u->W.poly_area[i], rest_wet = zs.wet_area, rest_cls[CT_ZONAL_MAX_CLASSES];
            memcpy(rest_cls, zs.class_area, sizeof rest_cls);
            for (; j < u->nlu && u->lu_unit[j] == i && !st; j++) {
                const usesum *s = &u->lu[j];
                const ct_landuse_code *lc = ct_landuse_lookup(s->code);
                rv.n = 0;
                put_int(&rv, u->fid[i]);
                put_str(&rv, u->label[i]);
                put_str(&rv, s->code);
                put_str(&rv, lc ? lc->name_vi : "");
                put_int(&rv, s->parcels);
                put_int(&rv, s->flooded);
                put_num(&rv, s->area);
                put_num(&rv, s->wet);
                for (int c = 0; c < ncls; c++) {
                    put_num(&rv, s->cls[c]);
                    rest_cls[c] -= s->cls[c];
                }
                rest_area -= s->area;
                rest_wet -= s->wet;
                st = rtab_row(ctx, &rt, rv.vals, NULL);
            }
            rv.n = 0;
            put_int(&rv, u->fid[i]);
            put_str(&rv, u->label[i]);
            put_str(&rv, "-");
            put_str(&rv, "outside parcels");
            put_int(&rv, 0);
            put_int(&rv, 0);
            /* rounding leaves ~1e-10 m² where parcels cover the unit: shown as 0 */
            double eps = 1e-9 * fmax(u->W.poly_area[i], 1);
            if (rest_wet < -eps) /* overlapping parcels count their common part twice */
                ct_log(ctx, CT_LOG_WARN, "%s: %s: parcels overlap there: their flooded parts exceed its flooded "
                       "area by %.2f m2, so its rest row '-' is negative", in->units[w].path, u->label[i], -rest_wet);
            put_num(&rv, fabs(rest_area) < eps ? 0 : rest_area);
            put_num(&rv, fabs(rest_wet) < eps ? 0 : rest_wet);
            for (int c = 0; c < ncls; c++)
                put_num(&rv, fabs(rest_cls[c]) < eps ? 0 : rest_cls[c]);
            if (!st)
                st = rtab_row(ctx, &rt, rv.vals, NULL);
        }
        if ((st = rtab_close(ctx, &rt, file, st)))
            goto out;
    }

    /* per land-use code */
    names_free(&nm);
    rowv_free(&rv);
    if (!names_add(&nm, "code", CT_FIELD_STRING) || !names_add(&nm, "name", CT_FIELD_STRING) ||
        !names_add(&nm, "parcels", CT_FIELD_INT) || !names_add(&nm, "parcels_flooded", CT_FIELD_INT) ||
        !names_add(&nm, "area", CT_FIELD_REAL) || !names_add(&nm, "wet_area", CT_FIELD_REAL) ||
        !class_columns(&nm, z, "", CT_FIELD_REAL) || !rowv_alloc(&rv, nm.n)) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (in->prefix) {
        table_name(tname, sizeof tname, in->prefix, "landuse");
        json_object_array_add(tables, json_object_new_string(tname));
    }
    snprintf(title, sizeof title, "flood impact of %s per land-use code of the parcels", in->raster);
    if ((st = rtab_open(ctx, &rt, in->dir, "landuse", &nm, 0, NULL, in->held, in->prefix ? tname : NULL, title)))
        goto out;
    for (size_t j = 0; j < nus && !st; j++) {
        const ct_landuse_code *lc = ct_landuse_lookup(us[j].code);
        rv.n = 0;
        put_str(&rv, us[j].code);
        put_str(&rv, lc ? lc->name_vi : "");
        put_int(&rv, us[j].parcels);
        put_int(&rv, us[j].flooded);
        put_num(&rv, us[j].area);
        put_num(&rv, us[j].wet);
        for (int c = 0; c < ncls; c++)
            put_num(&rv, us[j].cls[c]);
        st = rtab_row(ctx, &rt, rv.vals, NULL);
    }
    if ((st = rtab_close(ctx, &rt, "landuse", st)))
        goto out;

    /* parcels by class */
    names_free(&nm);
    rowv_free(&rv);
    if (!names_add(&nm, "class", CT_FIELD_STRING) || !names_add(&nm, "parcels", CT_FIELD_INT) ||
        !names_add(&nm, "area", CT_FIELD_REAL) || !rowv_alloc(&rv, nm.n)) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (in->prefix) {
        table_name(tname, sizeof tname, in->prefix, "parcels_by_class");
        json_object_array_add(tables, json_object_new_string(tname));
    }
    snprintf(title, sizeof title, "parcels by the class of their maximum depth in %s", in->raster);
    if ((st = rtab_open(ctx, &rt, in->dir, "parcels-by-class", &nm, 0, NULL, in->held, in->prefix ? tname : NULL, title)))
        goto out;
    for (int c = -1; c < ncls && !st; c++) {
        class_label(label, sizeof label, z, c);
        rv.n = 0;
        put_str(&rv, label);
        put_int(&rv, by_class[c + 1]);
        put_num(&rv, area_class[c + 1]);
        st = rtab_row(ctx, &rt, rv.vals, NULL);
    }
    if ((st = rtab_close(ctx, &rt, "parcels-by-class", st)))
        goto out;

    /* the deep parcels with their attributes, deepest first: one more pass over the layer */
    names_free(&nm);
    rowv_free(&rv);
    {
        int ok = names_add(&nm, "src_fid", CT_FIELD_INT);
        for (int k = 0; k < PR.P.ncopy && ok; k++) {
            ct_field_type ft = ct_layer_field_type(PR.P.layer, PR.P.copy[k]);
            ok = names_add(&nm, ct_layer_field_name(PR.P.layer, PR.P.copy[k]), ft == CT_FIELD_OTHER ? CT_FIELD_STRING : ft);
        }
        ok = ok && names_add(&nm, "use", CT_FIELD_STRING) && names_add(&nm, "max", CT_FIELD_REAL) &&
             names_add(&nm, "mean", CT_FIELD_REAL) && names_add(&nm, "wet_area", CT_FIELD_REAL) &&
             names_add(&nm, "wet_frac", CT_FIELD_REAL) && rowv_alloc(&rv, nm.n);
        char ***rows = calloc(ndeep + 1, sizeof *rows); /* the deep parcels' attribute texts */
        long long *dfid = calloc(ndeep + 1, sizeof *dfid);
        size_t *pos = malloc((np + 1) * sizeof *pos);
        if (!ok || !rows || !dfid || !pos) {
            free(rows);
            free(dfid);
            free(pos);
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < np; i++)
            pos[i] = (size_t)-1;
        for (size_t d = 0; d < ndeep; d++)
            pos[deep[d].i] = d;
        ct_layer_rewind(PR.P.layer);
        for (size_t i = 0; i < np && !st; i++) {
            ct_feature *ft;
            if ((st = player_next(ctx, &PR.P, &ft)) || !ft)
                break;
            if (pos[i] == (size_t)-1)
                continue;
            char **t = rows[pos[i]] = calloc((size_t)PR.P.ncopy + 1, sizeof *t);
            if (!t) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                break;
            }
            dfid[pos[i]] = ct_feature_fid(ft);
            for (int k = 0; k < PR.P.ncopy && !st; k++)
                if (!ct_feature_is_null(ft, PR.P.copy[k]))
                    st = ct_feature_text(ctx, ft, PR.P.copy[k], &t[k]);
        }
        if (in->prefix) {
            table_name(tname, sizeof tname, in->prefix, "parcels_deep");
            json_object_array_add(tables, json_object_new_string(tname));
        }
        snprintf(title, sizeof title, "parcels deeper than %g m in %s", threshold, in->raster);
        if (!st)
            st = rtab_open(ctx, &rt, in->dir, "parcels-deep", &nm, 0, NULL, in->held, in->prefix ? tname : NULL, title);
        for (size_t d = 0; d < ndeep && !st; d++) {
            const acc *a = &PR.accs[deep[d].i];
            rv.n = 0;
            put_int(&rv, dfid[d]);
            for (int k = 0; k < PR.P.ncopy; k++)
                put_str(&rv, rows[d] ? rows[d][k] : NULL);
            put_str(&rv, use[deep[d].i]);
            put_num(&rv, a->max);
            put_num(&rv, a->sum / a->w_valid);
            put_num(&rv, a->w_wet * cell);
            put_num(&rv, a->w_wet / a->w_valid);
            st = rtab_row(ctx, &rt, rv.vals, NULL);
        }
        if (rt.csv)
            st = rtab_close(ctx, &rt, "parcels-deep", st);
        for (size_t d = 0; d < ndeep; d++) {
            for (int k = 0; rows[d] && k < PR.P.ncopy; k++)
                free(rows[d][k]);
            free(rows[d]);
        }
        free(rows);
        free(dfid);
        free(pos);
        if (st)
            goto out;
    }

    /* charts: chart.png for the first ward layer, chart-NAME.png for the others and the zones */
    int first_ward = -1;
    for (int w = 0; w < in->nunits && first_ward < 0; w++)
        if (!in->units[w].zones)
            first_ward = w;
    const char *rb = strrchr(in->raster, '/');
    rb = rb ? rb + 1 : in->raster;
    for (int w = 0; w < in->nunits; w++) {
        if (!U[w].W.P.npoly)
            continue;
        const char *what = in->units[w].zones ? "planning zone" : "ward";
        char cp[4096];
        if (w == first_ward)
            snprintf(cp, sizeof cp, "%s/chart.png", in->dir);
        else
            snprintf(cp, sizeof cp, "%s/chart-%s.png", in->dir, in->units[w].file);
        snprintf(title, sizeof title, "Flooded area by %s and depth class: %s%s%s%s", what, rb,
                 in->units[w].valid_on ? " (units of " : "", in->units[w].valid_on ? in->units[w].valid_on : "",
                 in->units[w].valid_on ? ")" : "");
        if ((st = impact_chart(ctx, cp, z, U[w].order, U[w].W.P.npoly, &U[w].W, title, what)))
            goto out;
    }

    /* the Markdown summary */
    double tot_wet = 0, tot_cls[CT_ZONAL_MAX_CLASSES] = {0};
    long long nflooded = 0;
    for (size_t i = 0; i < np; i++) {
        tot_wet += PR.accs[i].w_wet * cell;
        nflooded += PR.accs[i].w_wet > 0;
        for (int c = 0; c < ncls; c++)
            tot_cls[c] += PR.accs[i].w_cls[c] * cell;
    }
    if (!(f = report_file(ctx, in->dir, "summary.md", &st)))
        goto out;
    fprintf(f, "# Flood impact: %s\n\n", in->raster);
    fprintf(f, "Parcels: `%s` (%zu). Depth raster: `%s`. Cells are weighted by the exact fraction of their "
               "area inside each parcel, ward or zone. A cell is flooded when its depth is above %g m.\n\n",
            PR.P.path, np, in->raster, z->wet);
    fprintf(f, "- **%lld parcels flooded** of %zu (%.1f %%), %.2f ha of parcel land under water.\n", nflooded, np,
            np ? 100.0 * (double)nflooded / (double)np : 0.0, tot_wet / 1e4);
    fprintf(f, "- **%zu parcels deeper than %g m** somewhere (listed in `parcels-deep.csv`).\n", ndeep, threshold);
    for (int w = 0; w < in->nunits; w++)
        if (U[w].W.P.npoly)
            fprintf(f, "- Most flooded %s (%s): **%s**, %.2f ha.\n", in->units[w].zones ? "planning zone" : "ward",
                    in->units[w].file, U[w].order[0].label, U[w].order[0].wet / 1e4);
    fprintf(f, "\n## Parcels by maximum depth\n\n| depth (m) | parcels | parcel area (ha) | flooded area (ha) |\n|---|---:|---:|---:|\n");
    for (int c = -1; c < ncls; c++) {
        class_label(label, sizeof label, z, c);
        fprintf(f, "| %s | %lld | %.2f | ", label, by_class[c + 1], area_class[c + 1] / 1e4);
        if (c >= 0)
            fprintf(f, "%.2f |\n", tot_cls[c] / 1e4);
        else
            fprintf(f, "– |\n");
    }
    for (int w = 0; w < in->nunits; w++) {
        unitres *u = &U[w];
        size_t nw = u->W.P.npoly, ncol = (size_t)ncls + 1;
        if (!nw)
            continue;
        char what[256];
        if (in->units[w].valid_on)
            snprintf(what, sizeof what, "%s, the units valid on %s", in->units[w].path, in->units[w].valid_on);
        else
            snprintf(what, sizeof what, "%s", in->units[w].path);
        fprintf(f, "\n## %s (%s), most flooded first\n\n| %s | flooded (ha) | share of %s | parcels flooded |",
                in->units[w].zones ? "Planning zones" : "Wards", what,
                in->units[w].zones ? "zone" : "ward", in->units[w].zones ? "zone" : "ward");
        for (int c = 0; c < ncls; c++) {
            class_label(label, sizeof label, z, c);
            fprintf(f, " %s m (ha) |", label);
        }
        fprintf(f, "\n|---|---:|---:|---:|");
        for (int c = 0; c < ncls; c++)
            fprintf(f, "---:|");
        fputc('\n', f);
        for (size_t k = 0; k < nw && k < 15; k++) {
            const acc *a = &u->W.accs[u->order[k].i];
            const long long *wc = u->count + u->order[k].i * ncol;
            long long tot = 0;
            for (size_t c = 0; c < ncol; c++)
                tot += wc[c];
            fprintf(f, "| %s | %.2f | %.1f %% | %lld of %lld |", u->order[k].label, u->order[k].wet / 1e4,
                    a->w_valid > 0 ? 100 * a->w_wet / a->w_valid : 0.0, tot - wc[0], tot);
            for (int c = 0; c < ncls; c++)
                fprintf(f, " %.2f |", a->w_cls[c] * cell / 1e4);
            fputc('\n', f);
        }
        if (w == first_ward)
            fprintf(f, "\n![Flooded area by ward and depth class](chart.png)\n");
        else
            fprintf(f, "\n![Flooded area by %s and depth class](chart-%s.png)\n",
                    in->units[w].zones ? "planning zone" : "ward", in->units[w].file);
        if (u->nlu) {
            fprintf(f, "\nFlooded land by use in the five most flooded of these wards, five largest uses each (the "
                       "parts of parcels inside each ward; `landuse-%s.csv` has every ward and code):\n\n| ward | code | land use | flooded (ha) |\n"
                       "|---|---|---|---:|\n", in->units[w].file);
            for (size_t k = 0; k < nw && k < 5; k++) {
                size_t i = u->order[k].i, top[5], nt = 0;
                /* the ward's five largest flooded uses, largest first */
                for (size_t j = 0; j < u->nlu; j++) {
                    if (u->lu_unit[j] != i || !(u->lu[j].wet > 0))
                        continue;
                    size_t p = nt < 5 ? nt++ : 5;
                    while (p > 0 && u->lu[top[p - 1]].wet < u->lu[j].wet) {
                        if (p < 5)
                            top[p] = top[p - 1];
                        p--;
                    }
                    if (p < 5)
                        top[p] = j;
                }
                for (size_t q = 0; q < nt; q++) {
                    const usesum *s1 = &u->lu[top[q]];
                    const ct_landuse_code *lc = ct_landuse_lookup(s1->code);
                    fprintf(f, "| %s | %s | %s | %.2f |\n", u->order[k].label, s1->code, lc ? lc->name_vi : "",
                            s1->wet / 1e4);
                }
            }
        }
    }
    if (uf >= 0) {
        fprintf(f, "\n## Land uses hit (TT 08/2024 codes)\n\n| code | land use | parcels flooded | flooded (ha) |\n|---|---|---:|---:|\n");
        for (size_t j = 0; j < nus; j++)
            if (us[j].flooded) {
                const ct_landuse_code *lc = ct_landuse_lookup(us[j].code);
                fprintf(f, "| %s | %s | %lld of %lld | %.2f |\n", us[j].code, lc ? lc->name_vi : "", us[j].flooded,
                        us[j].parcels, us[j].wet / 1e4);
            }
    }
    /* the files as written (the summary comes last): which exist depends on the unit layers,
     * the use field and the flooding */
    struct dirent **ents = NULL;
    int nents = scandir(in->dir, &ents, NULL, alphasort);
    fprintf(f, "\nFiles:");
    for (int k = 0, n = 0; k < nents; k++) {
        if (ents[k]->d_name[0] != '.' && strcmp(ents[k]->d_name, "summary.md"))
            fprintf(f, "%s `%s`", n++ ? "," : "", ents[k]->d_name);
        free(ents[k]);
    }
    free(ents);
    fprintf(f, "%s. Owner names and ID numbers are not included.\n", in->prefix ? "; the tables also in the SDI" : "");
    st = report_close(ctx, f, "summary.md", st);
    f = NULL;
    if (st)
        goto out;

    json_object *js = json_object_new_object();
    json_object_object_add(js, "mode", json_object_new_string("impact"));
    json_object_object_add(js, "raster", json_object_new_string(in->raster));
    json_object_object_add(js, "parcels", json_object_new_int64((int64_t)np));
    json_object_object_add(js, "parcels_flooded", json_object_new_int64(nflooded));
    json_object_object_add(js, "parcels_deeper_than_threshold", json_object_new_int64((int64_t)ndeep));
    json_object_object_add(js, "threshold", json_object_new_double(threshold));
    json_object_object_add(js, "flooded_parcel_area", json_object_new_double(tot_wet));
    json_object *bc = json_object_new_object();
    for (int c = -1; c < ncls; c++) {
        class_label(label, sizeof label, z, c);
        json_object_object_add(bc, label, json_object_new_int64(by_class[c + 1]));
    }
    json_object_object_add(js, "parcels_by_class", bc);
    json_object *wa = json_object_new_array();
    json_object *zo = NULL;
    for (int w = 0; w < in->nunits; w++) {
        double t = 0;
        for (size_t i = 0; i < U[w].W.P.npoly; i++)
            t += U[w].W.accs[i].w_wet * cell;
        json_object *wo = json_object_new_object();
        json_object_object_add(wo, "layer", json_object_new_string(in->units[w].path));
        json_object_object_add(wo, "name", json_object_new_string(in->units[w].file));
        if (in->units[w].valid_on)
            json_object_object_add(wo, "valid_on", json_object_new_string(in->units[w].valid_on));
        json_object_object_add(wo, "units", json_object_new_int64((int64_t)U[w].W.P.npoly));
        json_object_object_add(wo, "wet_area", json_object_new_double(t));
        if (in->units[w].zones && !zo)
            zo = wo;
        else
            json_object_array_add(wa, wo);
    }
    json_object_object_add(js, "wards", wa);
    json_object_object_add(js, "zones", zo);
    json_object_object_add(js, "tables", tables);
    tables = NULL;
    *jsout = js;
    if (PR.P.nbad + PR.P.nempty > 0)
        st = ct_error(ctx, CT_REJECTED, "%s: %lld features without a usable polygon were left out of the report",
                      PR.P.path, PR.P.nbad + PR.P.nempty);
out:
    if (f)
        fclose(f);
    if (rt.csv)
        rtab_close(ctx, &rt, "", st ? st : CT_ERR_IO);
    if (tables)
        json_object_put(tables);
    names_free(&nm);
    rowv_free(&rv);
    if (use)
        for (size_t i = 0; i < PR.P.npoly; i++)
            free(use[i]);
    free(use);
    free(us);
    free(deep);
    free(pcls);
    free(pward);
    for (int w = 0; U && w < in->nunits; w++)
        unitres_free(&U[w]);
    free(U);
    zresult_free(&PR);
    return st;
}

/* Removes a report folder being made (files and sub-folders). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[4096];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (!lstat(p, &sb) && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Renames the files of from into to (created when missing), sub-folders file by file, so that
 * files of an earlier report that this run does not make stay. */
static ct_status move_into(ct_ctx *ctx, const char *from, const char *to)
{
    if (mkdir(to, 0755) && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create the folder: %s", to, strerror(errno));
    DIR *d = opendir(from);
    if (!d)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot read: %s", from, strerror(errno));
    struct dirent *e;
    ct_status st = CT_OK;
    while (!st && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        struct stat sb;
        if (!lstat(a, &sb) && S_ISDIR(sb.st_mode))
            st = move_into(ctx, a, b);
        else if (rename(a, b))
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot rename into place: %s", b, strerror(errno));
    }
    closedir(d);
    return st;
}

typedef struct runlist {
    ct_ctx *ctx;
    char **product; /* "max_depth", "depth-2.00" */
    int n;
    size_t cap;
} runlist;

static ct_status run_raster(void *user, const ct_sdi_raster_entry *r)
{
    runlist *l = user;
    const char *dot = strchr(r->name, '.'); /* names are "<run>.<product>"; the prefix matched */
    const char *p = dot ? dot + 1 : r->name;
    if (strcmp(p, "max_depth") && strncmp(p, "depth-", 6))
        return CT_OK;
    if (ct_grow(&l->product, &l->cap, (size_t)l->n + 1, sizeof *l->product) || !(l->product[l->n] = strdup(p)))
        return ct_error(l->ctx, CT_ERR_NOMEM, "out of memory");
    l->n++;
    return CT_OK;
}

/* Every result table name the report will use, checked against the SDI's rule (at most 60
 * characters) before any computing, so that a long --table or run name fails at once. */
static ct_status table_names_fit(ct_ctx *ctx, const char *prefix, const runlist *rl, int per_product,
                                 const unitset *units, int nu)
{
    for (int k = 0; k < (per_product ? rl->n : 1); k++) {
        char pre[512], t[1024];
        if (per_product)
            table_name(pre, sizeof pre, prefix, rl->product[k]);
        else
            snprintf(pre, sizeof pre, "%s", prefix);
        for (int u = -3; u < 2 * nu; u++) {
            const char *suffix = u == -3 ? "landuse" : u == -2 ? "parcels_by_class" : u == -1 ? "parcels_deep" : NULL;
            if (u >= 0 && u % 2 && units[u / 2].zones)
                continue; /* zones: no land use per unit */
            char sfx[200];
            if (!suffix) {
                snprintf(sfx, sizeof sfx, "%s%s", u % 2 ? "landuse_" : "", units[u / 2].tname);
                suffix = sfx;
            }
            table_name(t, sizeof t, pre, suffix);
            if (strlen(t) > 60)
                return ct_error(ctx, CT_ERR_USAGE, "result table '%s' would be longer than 60 characters: "
                                "name a shorter prefix with --table", t);
        }
    }
    return CT_OK;
}

static ct_status impact_run(ct_ctx *ctx, const ct_overlay_opts *o, ct_sdi *sdi, FILE *out)
{
    if (!o->output || !strcmp(o->output, "-"))
        return ct_error(ctx, CT_ERR_USAGE, "impact writes a report folder: name it with -o DIR");
    if (o->run ? o->nrasters != 0 : o->nrasters != 1)
        return ct_error(ctx, CT_ERR_USAGE, o->run ? "impact --run takes no raster operand: the run's depth rasters "
                                                    "come from the SDI"
                                                  : "impact needs one flood raster (or --run NAME) and a parcel layer");
    const char *parcels = o->polygons ? o->polygons : "sdi:parcels";
    runlist rl = {.ctx = ctx};
    held_list held = {0};
    unitset *units = calloc((size_t)o->nwards + 3, sizeof *units);
    json_object *arr = json_object_new_array();
    char tmp[4096] = "", prefix[256] = "", rejmsg[1024] = "";
    long long version = 0;
    int in_version = 0, rejected = 0;
    ct_status st = CT_OK;
    if (!units || !arr) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (o->run) {
        char pre[256];
        snprintf(pre, sizeof pre, "%s.", o->run);
        if ((st = ct_sdi_rasters(ctx, sdi, pre, run_raster, &rl)))
            goto out;
        if (!rl.n) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s: no depth raster of run '%s' (%s.max_depth or %s.depth-LEVEL)",
                          o->sdi, o->run, o->run, o->run);
            goto out;
        }
    }
    /* the unit layers: the wards named, else the SDI's wards of both eras; the planning zones */
    int nu = 0;
    for (int w = 0; w < o->nwards; w++, nu++) {
        char stem[128];
        raster_prefix(ct_sdi_ref(o->wards[w]) ? ct_sdi_ref(o->wards[w]) : o->wards[w], stem, sizeof stem);
        stem[strlen(stem) - 1] = 0;
        units[nu].path = o->wards[w];
        /* two layers of one name (2024/phuong.shp, 2025/phuong.shp): the second is phuong-2 */
        size_t len = strlen(stem);
        for (int k = 2, clash = 1; clash; k++) {
            clash = 0;
            for (int j = 0; j < nu; j++)
                clash |= !strcmp(units[j].file + 6, stem);
            if (clash)
                snprintf(stem + len, sizeof stem - len, "-%d", k);
        }
        snprintf(units[nu].file, sizeof units[nu].file, "wards-%s", stem);
        table_name(units[nu].tname, sizeof units[nu].tname, "wards", stem);
    }
    if (!o->nwards && sdi) {
        units[nu++] = (unitset){.path = "sdi:admin_units", .valid_on = "2025-06-30", .lenient = 1, .file = "ward-2024",
                                .tname = "ward_2024"};
        units[nu++] = (unitset){.path = "sdi:admin_units", .valid_on = "2025-07-01", .lenient = 1, .file = "ward-2025",
                                .tname = "ward_2025"};
    }
    if (o->zones || sdi)
        units[nu++] = (unitset){.path = o->zones ? o->zones : "sdi:planning_zones", .zones = 1, .lenient = !o->zones,
                                .file = "zones", .tname = "zones"};
    if (o->table && (!(*o->table >= 'a' && *o->table <= 'z') ||
                     strspn(o->table, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(o->table))) {
        st = ct_error(ctx, CT_ERR_USAGE, "--table '%s': a table name prefix is a lower-case letter, then lower-case "
                      "letters, digits and _", o->table);
        goto out;
    }
    if (o->table)
        snprintf(prefix, sizeof prefix, "%s", o->table);
    else if (o->run)
        table_name(prefix, sizeof prefix, "impact", o->run);
    /* a bathtub run's levels: a sub-folder and table prefix each, however many levels it has */
    int per_product = o->run && !strncmp(rl.product[0], "depth-", 6);
    if (prefix[0] && (st = table_names_fit(ctx, prefix, &rl, per_product, units, nu)))
        goto out;

    snprintf(tmp, sizeof tmp, "%s.ct-XXXXXX", o->output);
    if (!mkdtemp(tmp)) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write beside it: %s", o->output, strerror(errno));
        tmp[0] = 0;
        goto out;
    }
    chmod(tmp, 0755);
    int nsc = o->run ? rl.n : 1;
    for (int k = 0; k < nsc && !st; k++) {
        char raster[512], dir[4200], pre[512];
        impact_in in = {.parcels = parcels, .units = units, .nunits = nu, .dir = tmp,
                        .prefix = prefix[0] ? prefix : NULL, .held = &held};
        if (o->run) {
            snprintf(raster, sizeof raster, "sdi:%s.%s", o->run, rl.product[k]);
            in.raster = raster;
        } else {
            in.raster = o->rasters[0];
        }
        if (per_product) {
            snprintf(dir, sizeof dir, "%s/%s", tmp, rl.product[k]);
            if (mkdir(dir, 0755)) {
                st = ct_error(ctx, CT_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
                break;
            }
            in.dir = dir;
            table_name(pre, sizeof pre, prefix, rl.product[k]);
            in.prefix = pre;
        }
        json_object *js = NULL;
        ct_status s1 = impact_one(ctx, o, sdi, &in, &js);
        if (js) {
            if (per_product)
                json_object_object_add(js, "product", json_object_new_string(rl.product[k]));
            json_object_array_add(arr, js);
        }
        if (s1 == CT_REJECTED) { /* the report is complete: said at the end */
            rejected = 1;
            snprintf(rejmsg, sizeof rejmsg, "%s", ct_ctx_errmsg(ctx));
            ct_ctx_clear_error(ctx);
        } else {
            st = s1;
        }
    }
    /* the report is complete in tmp: only now the SDI's version, then the renames */
    if (!st && prefix[0]) {
        if (!(st = ct_sdi_begin(ctx, sdi, o->invocation, "overlay", o->run ? o->run : o->rasters[0], &version))) {
            in_version = 1;
            if (!(st = held_load(ctx, sdi, &held)) && !(st = ct_sdi_commit(ctx, sdi)))
                in_version = 0;
        }
    }
    if (!st)
        st = move_into(ctx, tmp, o->output);
    if (!st && o->json) {
        json_object *js;
        if (!per_product) {
            js = json_object_get(json_object_array_get_idx(arr, 0));
        } else {
            js = json_object_new_object();
            json_object_object_add(js, "mode", json_object_new_string("impact"));
            json_object_object_add(js, "scenarios", json_object_get(arr));
        }
        if (o->run)
            json_object_object_add(js, "run", json_object_new_string(o->run));
        if (prefix[0])
            json_object_object_add(js, "version", json_object_new_int64(version));
        json_object_object_add(js, "output", json_object_new_string(o->output));
        fprintf(out, "%s\n", json_object_to_json_string_ext(js, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(js);
    }
    if (!st && rejected)
        st = ct_error(ctx, CT_REJECTED, "%s", rejmsg);
out:
    if (in_version)
        ct_sdi_rollback(sdi);
    if (tmp[0])
        remove_tree(tmp);
    for (int k = 0; k < rl.n; k++)
        free(rl.product[k]);
    free(rl.product);
    held_free(&held);
    free(units);
    if (arr)
        json_object_put(arr);
    return st;
}
