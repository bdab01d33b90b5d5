/*
 * coverage.c — cadastral polygon topology that GEOS 3.11 does slowly.
 *
 * The union of a polygonal coverage, from the edges its parts do not share.
 * Why not GEOSCoverageUnion() alone: the GEOS of Debian 12 (3.11) cancels the shared segments
 * the same way, but then makes a LineString of every segment left and runs its general
 * Polygonizer over them (a node map, an edge graph, a search for each hole's shell). For a
 * cadastral sheet that was most of the time of ct-ingest's sheet checks. In an edge-matched
 * coverage each segment left already knows which side is inside (the parts' shells walked
 * counter-clockwise, their holes clockwise): following them gives the rings directly.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct/context.h"
#include "coverage_int.h"

typedef struct seg {
    double ax, ay, bx, by;
} seg;

typedef struct cov {
    seg *s;
    unsigned char *alive, *used;
    size_t n;
    int32_t *slot; /* open addressing over both directions of a segment: -1 empty */
    size_t mask;
} cov;

static uint64_t mix(uint64_t h, double v)
{
    uint64_t b;
    if (v == 0)
        v = 0; /* -0 and 0 are the same point */
    memcpy(&b, &v, sizeof b);
    h ^= b + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    return h;
}

/* The same for a -> b and b -> a: both directions of a segment probe the same slots. */
static size_t seg_slot(const cov *c, double ax, double ay, double bx, double by)
{
    if (ax > bx || (ax == bx && ay > by)) {
        double t = ax;
        ax = bx;
        bx = t;
        t = ay;
        ay = by;
        by = t;
    }
    uint64_t h = mix(mix(mix(mix(0, ax), ay), bx), by);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return (size_t)h & c->mask;
}

/* Adds a -> b, or cancels the b -> a it meets. @return -1 when a -> b is there already. */
static int seg_add(cov *c, double ax, double ay, double bx, double by)
{
    size_t i = seg_slot(c, ax, ay, bx, by);
    for (; c->slot[i] >= 0; i = (i + 1) & c->mask) {
        const int32_t k = c->slot[i];
        const seg *o = &c->s[k];
        if (!c->alive[k])
            continue;
        if (o->ax == bx && o->ay == by && o->bx == ax && o->by == ay) {
            c->alive[k] = 0; /* shared by two parts: inside the union */
            return 0;
        }
        if (o->ax == ax && o->ay == ay && o->bx == bx && o->by == by)
            return -1; /* two parts on the same side of one edge: they overlap */
    }
    c->slot[i] = (int32_t)c->n;
    c->s[c->n] = (seg){ax, ay, bx, by};
    c->alive[c->n++] = 1;
    return 0;
}

static double ring_area2(const double *xy, size_t n) /* twice the signed area; > 0 counter-clockwise */
{
    double a = 0;
    for (size_t i = 0; i + 1 < n; i++)
        a += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) - (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    return a;
}

/* The segments of one ring, walked with the inside on their left. */
static int add_ring(GEOSContextHandle_t h, cov *c, const GEOSGeometry *ring, int hole, double **buf, size_t *bufcap)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
        return -1;
    if (n < 4)
        return -1;
    if (*bufcap < 2 * (size_t)n) {
        free(*buf);
        if (!(*buf = malloc(2 * (size_t)n * sizeof **buf)))
            return -1;
        *bufcap = 2 * (size_t)n;
    }
    double *xy = *buf;
    if (!GEOSCoordSeq_copyToBuffer_r(h, cs, xy, 0, 0))
        return -1;
    const double a = ring_area2(xy, n);
    if (a == 0)
        return -1;
    const int reverse = (a > 0) == hole; /* shells counter-clockwise, holes clockwise */
    for (size_t i = 0; i + 1 < n; i++) {
        size_t p = reverse ? n - 1 - i : i, q = reverse ? p - 1 : p + 1;
        const double ax = xy[2 * p], ay = xy[2 * p + 1], bx = xy[2 * q], by = xy[2 * q + 1];
        if ((ax != bx || ay != by) && seg_add(c, ax, ay, bx, by))
            return -1;
    }
    return 0;
}

static int by_start(const void *a, const void *b, void *base)
{
    const seg *x = (const seg *)base + *(const int32_t *)a, *y = (const seg *)base + *(const int32_t *)b;
    if (x->ax != y->ax)
        return x->ax < y->ax ? -1 : 1;
    if (x->ay != y->ay)
        return x->ay < y->ay ? -1 : 1;
    return *(const int32_t *)a < *(const int32_t *)b ? -1 : *(const int32_t *)a > *(const int32_t *)b;
}

/* The first of the segments (in start order) leaving x y, and how many leave it. */
static size_t leaving(const cov *c, const int32_t *order, size_t m, double x, double y, size_t *count)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const seg *s = &c->s[order[mid]];
        if (s->ax < x || (s->ax == x && s->ay < y))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    while (k < m && c->s[order[k]].ax == x && c->s[order[k]].ay == y)
        k++;
    *count = k - lo;
    return lo;
}

/* The rings found: coordinates one after another, each closed. */
typedef struct rings {
    double *xy;
    size_t n, cap;      /* doubles */
    size_t *start;      /* first double of ring i; start[nr] = n */
    size_t nr, caprings;
} rings;

static int push_xy(rings *r, double x, double y)
{
    if (ct_grow(&r->xy, &r->cap, r->n + 2, sizeof *r->xy))
        return -1;
    r->xy[r->n++] = x;
    r->xy[r->n++] = y;
    return 0;
}

static int end_ring(rings *r)
{
    if (ct_grow(&r->start, &r->caprings, r->nr + 2, sizeof *r->start))
        return -1;
    r->start[++r->nr] = r->n;
    return 0;
}

/*
 * Walks the segments left into closed walks, each turning as far left as it can wherever
 * several segments leave a vertex: the walk goes round one face of the union, keeping it on
 * its left. A face whose boundary touches itself at a vertex (a hole touching its shell, two
 * shells meeting at a corner) gives one walk through that vertex twice; the walk is cut there
 * into simple rings. @return 0, or -1 when the segments do not close into walks.
 */
static int trace(cov *c, rings *r)
{
    size_t m = 0;
    int32_t *order = malloc((c->n + 1) * sizeof *order);
    /* a walk's vertices in walk[] (x, y), the offsets there of those not yet cut off in a ring
     * (stack), and of those of them where several segments leave (seen) */
    double *walk = NULL;
    size_t *stack = NULL, *seen = NULL, nst = 0, nseen = 0;
    int ok = order != NULL;
    for (size_t i = 0; ok && i < c->n; i++)
        if (c->alive[i])
            order[m++] = (int32_t)i;
    if (ok)
        qsort_r(order, m, sizeof *order, by_start, c->s);
    ok = ok && (stack = malloc((m + 2) * sizeof *stack)) && (seen = malloc((m + 2) * sizeof *seen)) &&
         (walk = malloc(2 * (m + 2) * sizeof *walk)) && (c->used = calloc(c->n + 1, 1)) &&
         !ct_grow(&r->start, &r->caprings, 1, sizeof *r->start);
    if (ok)
        r->start[0] = 0;
    for (size_t t = 0; ok && t < m; t++) {
        const int32_t s0 = order[t];
        if (c->used[s0])
            continue;
        size_t nw = 0;
        nst = nseen = 0;
        int32_t cur = s0;
        walk[nw++] = c->s[s0].ax;
        walk[nw++] = c->s[s0].ay;
        stack[nst++] = 0;
        seen[nseen++] = 0; /* the start: the walk ends there */
        for (;;) {
            c->used[cur] = 1;
            const seg *s = &c->s[cur];
            size_t k, first = leaving(c, order, m, s->bx, s->by, &k);
            if (k == 0) {
                ok = 0;
                break;
            }
            int32_t next = order[first];
            if (k > 1) { /* the sharpest left turn */
                const double dx = s->bx - s->ax, dy = s->by - s->ay;
                double best = -INFINITY;
                for (size_t q = first; q < first + k; q++) {
                    const seg *o = &c->s[order[q]];
                    const double ex = o->bx - o->ax, ey = o->by - o->ay;
                    const double turn = atan2(dx * ey - dy * ex, dx * ex + dy * ey);
                    if (turn == best) { /* two segments leave the same way: they overlap */
                        ok = 0;
                        break;
                    }
                    if (turn > best) {
                        best = turn;
                        next = order[q];
                    }
                }
                if (!ok)
                    break;
            }
            /* the vertex reached: cut off a ring where the walk was there before */
            const int branch = k > 1 || (s->bx == walk[0] && s->by == walk[1]);
            size_t at = SIZE_MAX;
            if (branch)
                for (size_t q = nseen; q-- > 0;)
                    if (walk[seen[q]] == s->bx && walk[seen[q] + 1] == s->by) {
                        at = q;
                        break;
                    }
            if (at != SIZE_MAX) {
                size_t from = seen[at], si = 0;
                while (stack[si] != from)
                    si++;
                for (size_t q = si; ok && q < nst; q++)
                    ok = push_xy(r, walk[stack[q]], walk[stack[q] + 1]) == 0;
                ok = ok && push_xy(r, s->bx, s->by) == 0 && end_ring(r) == 0;
                nst = si + 1;
                nseen = at + 1;
            } else {
                walk[nw] = s->bx;
                walk[nw + 1] = s->by;
                stack[nst++] = nw;
                if (branch)
                    seen[nseen++] = nw;
                nw += 2;
            }
            if (!ok)
                break;
            if (next == s0)
                break;
            if (c->used[next]) { /* a segment walked twice: not a coverage's boundary */
                ok = 0;
                break;
            }
            cur = next;
        }
        if (ok && nst != 1)
            ok = 0; /* the walk did not come back to where it started */
    }
    free(walk);
    free(order);
    free(stack);
    free(seen);
    return ok ? 0 : -1;
}

static int in_ring(const double *xy, size_t n, double x, double y)
{
    int in = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        const double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static GEOSGeometry *make_ring(GEOSContextHandle_t h, const rings *r, size_t i)
{
    const size_t n = (r->start[i + 1] - r->start[i]) / 2;
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, r->xy + r->start[i], (unsigned)n, 0, 0);
    return cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
}

/* Polygons from the rings: the counter-clockwise ones are shells, each clockwise one a hole of
 * the smallest shell around it. */
static GEOSGeometry *build(GEOSContextHandle_t h, const rings *r)
{
    size_t nr = r->nr, ns = 0;
    double *area = malloc((nr + 1) * sizeof *area);
    size_t *owner = malloc((nr + 1) * sizeof *owner), *shells = malloc((nr + 1) * sizeof *shells);
    GEOSGeometry **polys = calloc(nr + 1, sizeof *polys), **holes = malloc((nr + 1) * sizeof *holes);
    GEOSGeometry *out = NULL;
    int ok = area && owner && shells && polys && holes;
    for (size_t i = 0; ok && i < nr; i++) {
        const size_t n = (r->start[i + 1] - r->start[i]) / 2;
        area[i] = n < 4 ? 0 : ring_area2(r->xy + r->start[i], n);
        ok = area[i] != 0;
        if (area[i] > 0)
            shells[ns++] = i;
    }
    ok = ok && ns > 0;
    for (size_t i = 0; ok && i < nr; i++) {
        if (area[i] > 0)
            continue;
        if (ns == 1) {
            owner[i] = shells[0];
            continue;
        }
        /* the middle of the hole's first edge: inside its shell, on no other ring */
        const double *p = r->xy + r->start[i];
        const double x = (p[0] + p[2]) / 2, y = (p[1] + p[3]) / 2;
        size_t best = SIZE_MAX;
        for (size_t q = 0; q < ns; q++) {
            const size_t k = shells[q];
            if ((best == SIZE_MAX || area[k] < area[best]) &&
                in_ring(r->xy + r->start[k], (r->start[k + 1] - r->start[k]) / 2, x, y))
                best = k;
        }
        owner[i] = best;
        ok = best != SIZE_MAX;
    }
    size_t np = 0;
    for (size_t q = 0; ok && q < ns; q++) {
        const size_t k = shells[q];
        size_t nh = 0;
        GEOSGeometry *shell = make_ring(h, r, k);
        ok = shell != NULL;
        for (size_t i = 0; ok && i < nr; i++)
            if (area[i] < 0 && owner[i] == k && !(holes[nh++] = make_ring(h, r, i)))
                ok = 0, nh--;
        if (!ok) {
            if (shell)
                GEOSGeom_destroy_r(h, shell);
            for (size_t i = 0; i < nh; i++)
                GEOSGeom_destroy_r(h, holes[i]);
        } else if ((polys[np] = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh))) { /* (it takes the rings) */
            np++;
        } else {
            ok = 0;
        }
    }
    /* (GEOS takes the polygons whether or not it makes the collection) */
    if (ok)
        out = np == 1 ? polys[0] : GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)np);
    else
        for (size_t i = 0; i < np; i++)
            GEOSGeom_destroy_r(h, polys[i]);
    free(area);
    free(owner);
    free(shells);
    free(polys);
    free(holes);
    return out;
}

GEOSGeometry *ct_coverage_union(GEOSContextHandle_t h, const GEOSGeometry *const *g, size_t n)
{
    cov c = {0};
    rings r = {0};
    double *buf = NULL;
    size_t bufcap = 0, total = 0;
    GEOSGeometry *out = NULL;
    /* how many segments, and whether every part is polygonal */
    for (size_t i = 0; i < n; i++) {
        const int t = GEOSGeomTypeId_r(h, g[i]);
        if (t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON)
            return NULL;
        const int np = t == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g[i]);
        for (int p = 0; p < np; p++) {
            const GEOSGeometry *poly = t == GEOS_POLYGON ? g[i] : GEOSGetGeometryN_r(h, g[i], p);
            if (GEOSisEmpty_r(h, poly) == 1)
                continue;
            const int nh = GEOSGetNumInteriorRings_r(h, poly);
            for (int k = -1; k < nh; k++) {
                unsigned size = 0;
                const GEOSGeometry *ring = k < 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, k);
                if (!ring || !GEOSCoordSeq_getSize_r(h, GEOSGeom_getCoordSeq_r(h, ring), &size))
                    return NULL;
                total += size;
            }
        }
    }
    if (!total)
        return NULL;
    size_t cap = 1;
    while (cap < 2 * total)
        cap <<= 1;
    c.mask = cap - 1;
    c.s = malloc(total * sizeof *c.s);
    c.alive = malloc(total);
    c.slot = malloc(cap * sizeof *c.slot);
    int ok = c.s && c.alive && c.slot;
    if (ok)
        memset(c.slot, 0xff, cap * sizeof *c.slot);
    for (size_t i = 0; ok && i < n; i++) {
        const int t = GEOSGeomTypeId_r(h, g[i]);
        const int np = t == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g[i]);
        for (int p = 0; ok && p < np; p++) {
            const GEOSGeometry *poly = t == GEOS_POLYGON ? g[i] : GEOSGetGeometryN_r(h, g[i], p);
            if (GEOSisEmpty_r(h, poly) == 1)
                continue;
            const int nh = GEOSGetNumInteriorRings_r(h, poly);
            for (int k = -1; ok && k < nh; k++)
                ok = add_ring(h, &c, k < 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, k), k >= 0,
                              &buf, &bufcap) == 0;
        }
    }
    free(buf);
    free(c.slot);
    if (ok && trace(&c, &r) == 0)
        out = build(h, &r);
    free(c.s);
    free(c.alive);
    free(c.used);
    free(r.xy);
    free(r.start);
    return out;
}

/* ---------------------------------------------------------------------------------------- */
/*
 * The validity of a small parcel. GEOS's IsValidOp builds a noder of monotone chains for every
 * polygon it checks: about 2 µs for a parcel of six points, a twentieth of ct-ingest's CPU on a
 * large load. A ring of a few points is checked here pair of edges by pair of edges, with each
 * orientation's sign taken only when exact (Shewchuk's static error bound for the determinant
 * computed in doubles); what cannot be proven goes to GEOS.
 */

enum { SIMPLE_MAX_POINTS = 64 };

/* The relative error bound of l - r, each a product of two differences, computed in doubles
 * (Shewchuk, "Adaptive precision floating-point arithmetic and fast robust geometric
 * predicates", 1997: ccwerrboundA = (3 + 16 eps) eps): beyond it the sign is exact. */
#define SUM_OF_PRODUCTS_BOUND 3.3306690738754716e-16

/* The sign of the orientation of c against a -> b: 1 left, -1 right, 0 when the determinant in
 * doubles is within its error bound. */
static int orient(const double *a, const double *b, const double *c)
{
    const double l = (a[0] - c[0]) * (b[1] - c[1]), r = (a[1] - c[1]) * (b[0] - c[0]);
    const double det = l - r, bound = SUM_OF_PRODUCTS_BOUND * (fabs(l) + fabs(r));
    return det > bound ? 1 : det < -bound ? -1 : 0;
}

/* Edges a-b and c-d lie apart: one's ends both strictly on one side of the other's line. */
static int apart(const double *a, const double *b, const double *c, const double *d)
{
    if (fmax(a[0], b[0]) < fmin(c[0], d[0]) || fmax(c[0], d[0]) < fmin(a[0], b[0]) ||
        fmax(a[1], b[1]) < fmin(c[1], d[1]) || fmax(c[1], d[1]) < fmin(a[1], b[1]))
        return 1;
    int o1 = orient(a, b, c), o2 = orient(a, b, d);
    if (o1 && o1 == o2)
        return 1;
    o1 = orient(c, d, a);
    o2 = orient(c, d, b);
    return o1 && o1 == o2;
}

int ct_polygon_simple(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    if (GEOSGeomTypeId_r(h, g) == GEOS_MULTIPOLYGON) {
        if (GEOSGetNumGeometries_r(h, g) != 1)
            return 0;
        g = GEOSGetGeometryN_r(h, g, 0);
    }
    if (!g || GEOSGeomTypeId_r(h, g) != GEOS_POLYGON || GEOSGetNumInteriorRings_r(h, g) != 0 || GEOSisEmpty_r(h, g) != 0)
        return 0;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, g));
    unsigned n = 0;
    double p[2 * SIMPLE_MAX_POINTS];
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4 || n > SIMPLE_MAX_POINTS ||
        !GEOSCoordSeq_copyToBuffer_r(h, cs, p, 0, 0))
        return 0;
    for (unsigned i = 0; i < 2 * n; i++)
        if (!isfinite(p[i]))
            return 0;
    if (p[0] != p[2 * n - 2] || p[1] != p[2 * n - 1])
        return 0;
    const unsigned m = n - 1; /* edges: p[i] -> p[i + 1] */
    for (unsigned i = 0; i < m; i++) {
        const double *a = p + 2 * i, *b = a + 2, *c = p + 2 * ((i + 1) % m + 1);
        if (a[0] == b[0] && a[1] == b[1])
            return 0; /* a repeated point: GEOS's call */
        /* neighbours share b only, unless the ring folds back along itself there */
        const double dl = (b[0] - a[0]) * (c[0] - b[0]), dr = (b[1] - a[1]) * (c[1] - b[1]);
        if (!(dl + dr > SUM_OF_PRODUCTS_BOUND * (fabs(dl) + fabs(dr))) && !orient(a, b, c))
            return 0;
        for (unsigned j = i + 2; j < m; j++) {
            if (i == 0 && j == m - 1)
                continue; /* the first and last edges meet at the closing point */
            if (!apart(a, b, p + 2 * j, p + 2 * j + 2))
                return 0;
        }
    }
    return 1;
}

GEOSGeometry *ct_geos_polygon(GEOSContextHandle_t h, GEOSGeometry **ring, size_t made, size_t n)
{
    if (n >= 1 && made == n)
        return GEOSGeom_createPolygon_r(h, ring[0], ring + 1, (unsigned)(n - 1));
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, ring[i]);
    return NULL;
}

GEOSGeometry *ct_geos_collection(GEOSContextHandle_t h, int type, GEOSGeometry **parts, size_t made, size_t n)
{
    if (made == n)
        return GEOSGeom_createCollection_r(h, type, parts, (unsigned)n);
    for (size_t i = 0; i < made; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    return NULL;
}
