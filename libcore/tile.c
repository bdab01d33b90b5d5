/* tile.c — tile maths, raster pyramid rendering, PNG/WebP encoding and the tileset sinks. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <ftw.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <json-c/json.h>
#include <libdeflate.h>
#include <omp.h>
#include <sqlite3.h>
#include <cairo.h>
#include <webp/encode.h>

#include "ct/crs.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/tile.h"
#include "ct/vector.h"
#include "raster_int.h"

#define TS 256 /* tile size in pixels */
/* The default PNG DEFLATE level: libdeflate's 4 (greedy parsing) against 6 (lazy) measured on
 * b700's relief tiles 8 % larger for 16 % less CPU in the whole run (deflate was a quarter of
 * it); 2 was 19 % larger. */
#define PNG_LEVEL 4

/* ======================================================================================== */
/* Tile maths                                                                                */

void ct_lonlat_to_merc(double lon, double lat, double *mx, double *my)
{
    const double maxlat = 85.0511287798066;
    if (lat > maxlat)
        lat = maxlat;
    if (lat < -maxlat)
        lat = -maxlat;
    *mx = lon * CT_MERC_HALF / 180.0;
    *my = log(tan((90.0 + lat) * M_PI / 360.0)) * CT_MERC_HALF / M_PI;
}

void ct_merc_to_lonlat(double mx, double my, double *lon, double *lat)
{
    *lon = mx / CT_MERC_HALF * 180.0;
    *lat = atan(exp(my / CT_MERC_HALF * M_PI)) * 360.0 / M_PI - 90.0;
}

void ct_tile_bounds(int z, uint32_t x, uint32_t y, double b[4])
{
    double size = 2.0 * CT_MERC_HALF / (double)(1ull << z);
    b[0] = -CT_MERC_HALF + x * size;
    b[2] = -CT_MERC_HALF + (x + 1.0) * size;
    b[3] = CT_MERC_HALF - y * size;
    b[1] = CT_MERC_HALF - (y + 1.0) * size;
}

void ct_tile_bounds_lonlat(int z, uint32_t x, uint32_t y, double b[4])
{
    double m[4];
    ct_tile_bounds(z, x, y, m);
    ct_merc_to_lonlat(m[0], m[1], &b[0], &b[1]);
    ct_merc_to_lonlat(m[2], m[3], &b[2], &b[3]);
}

static uint32_t clamp_tile(double t, int z)
{
    double n = (double)(1ull << z);
    if (!(t >= 0))
        return 0;
    if (t >= n)
        return (uint32_t)(n - 1);
    return (uint32_t)t;
}

int ct_tile_from_lonlat(double lon, double lat, int z, uint32_t *x, uint32_t *y)
{
    if (z < 0 || z > 30 || isnan(lon) || isnan(lat))
        return -1;
    double mx, my, n = (double)(1ull << z);
    ct_lonlat_to_merc(lon, lat, &mx, &my);
    *x = clamp_tile(floor((mx + CT_MERC_HALF) / (2 * CT_MERC_HALF) * n), z);
    *y = clamp_tile(floor((CT_MERC_HALF - my) / (2 * CT_MERC_HALF) * n), z);
    return 0;
}

void ct_tile_range(const double m[4], int z, uint32_t r[4])
{
    double n = (double)(1ull << z), w = 2 * CT_MERC_HALF;
    double fx0 = (m[0] + CT_MERC_HALF) / w * n, fx1 = (m[2] + CT_MERC_HALF) / w * n;
    double fy0 = (CT_MERC_HALF - m[3]) / w * n, fy1 = (CT_MERC_HALF - m[1]) / w * n;
    r[0] = clamp_tile(floor(fx0), z);
    r[1] = clamp_tile(floor(fy0), z);
    /* an edge exactly on a tile boundary does not reach into the next tile */
    r[2] = clamp_tile(ceil(fx1) - 1, z);
    r[3] = clamp_tile(ceil(fy1) - 1, z);
    if (r[2] < r[0])
        r[2] = r[0];
    if (r[3] < r[1])
        r[3] = r[1];
}

uint64_t ct_tile_count(const double m[4], int minz, int maxz)
{
    uint64_t n = 0;
    for (int z = minz; z <= maxz; z++) {
        uint32_t r[4];
        ct_tile_range(m, z, r);
        n += (uint64_t)(r[2] - r[0] + 1) * (r[3] - r[1] + 1);
    }
    return n;
}

uint32_t ct_tile_tms_row(int z, uint32_t y) { return (uint32_t)((1ull << z) - 1 - y); }

/* Hilbert curve of order z: the classic iterative conversion (quadrant by quadrant, rotating
 * the remaining coordinates so that each quadrant's curve starts where the previous ended). */
static void hilbert_rot(uint64_t n, uint64_t *x, uint64_t *y, uint64_t rx, uint64_t ry)
{
    if (ry == 0) {
        if (rx == 1) {
            *x = n - 1 - *x;
            *y = n - 1 - *y;
        }
        uint64_t t = *x;
        *x = *y;
        *y = t;
    }
}

uint64_t ct_pmtiles_id(int z, uint32_t x32, uint32_t y32)
{
    uint64_t base = (((uint64_t)1 << (2 * z)) - 1) / 3; /* tiles of zooms 0 .. z-1 */
    uint64_t n = (uint64_t)1 << z, x = x32, y = y32, d = 0;
    for (uint64_t s = n / 2; s > 0; s /= 2) {
        uint64_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        hilbert_rot(n, &x, &y, rx, ry);
    }
    return base + d;
}

int ct_pmtiles_zxy(uint64_t id, int *z, uint32_t *x, uint32_t *y)
{
    uint64_t base = 0;
    for (int zz = 0; zz <= 31; zz++) {
        uint64_t count = (uint64_t)1 << (2 * zz);
        if (id < base + count) {
            uint64_t t = id - base, n = (uint64_t)1 << zz, xx = 0, yy = 0;
            for (uint64_t s = 1; s < n; s *= 2) {
                uint64_t rx = 1 & (t / 2), ry = 1 & (t ^ rx);
                hilbert_rot(s, &xx, &yy, rx, ry);
                xx += s * rx;
                yy += s * ry;
                t /= 4;
            }
            *z = zz;
            *x = (uint32_t)xx;
            *y = (uint32_t)yy;
            return 0;
        }
        base += count;
    }
    return -1;
}

/* ======================================================================================== */
/* Colours                                                                                   */

/* The stop segment of v (st[lo].value <= v < st[lo + 1].value, v within the ramp); *hint is the
 * segment of the previous call (neighbouring cells usually share it), -1 to start. */
static inline int ramp_find(const ct_ramp_stop *st, int n, double v, int *hint)
{
    int lo = *hint;
    if (lo < 0 || lo >= n - 1 || !(st[lo].value <= v && v < st[lo + 1].value)) {
        int hi = n - 1; /* st[lo].value <= v < st[hi].value */
        lo = 0;
        while (hi - lo > 1) {
            int mid = (lo + hi) / 2;
            if (st[mid].value <= v)
                lo = mid;
            else
                hi = mid;
        }
        *hint = lo;
    }
    return lo;
}

/* Whether v is below the first stop or at or above the last; then *c is its colour. */
static inline int ramp_outside(const ct_tile_style *s, double v, ct_rgba *c)
{
    const ct_ramp_stop *last = &s->stops[s->nstops - 1];
    if (v < s->stops[0].value)
        *c = s->below;
    else if (v >= last->value)
        *c = v > last->value ? s->above : last->colour;
    else
        return 0;
    return 1;
}

/* The ramp colour of v. */
static ct_rgba ramp_at(const ct_tile_style *s, double v, int *hint)
{
    const ct_ramp_stop *st = s->stops;
    ct_rgba edge;
    if (ramp_outside(s, v, &edge))
        return edge;
    int lo = ramp_find(st, s->nstops, v, hint);
    if (s->discrete)
        return st[lo].colour;
    double f = (v - st[lo].value) / (st[lo + 1].value - st[lo].value);
    const ct_rgba a = st[lo].colour, b = st[lo + 1].colour;
    /* a + f (b - a) lies between a and b, so rounding is + 0.5 and a cut */
    ct_rgba c = {(uint8_t)(a.r + f * (b.r - a.r) + 0.5), (uint8_t)(a.g + f * (b.g - a.g) + 0.5),
                 (uint8_t)(a.b + f * (b.b - a.b) + 0.5), (uint8_t)(a.a + f * (b.a - a.a) + 0.5)};
    return c;
}

/* A ramp's colours at RAMP_STEPS points across each stop segment, at the centres of the steps:
 * a raster cell's colour is then a multiplication and a load instead of four interpolated
 * channels and a division (a sixth of b700's run). A step is a 1024th of a segment, so a channel
 * is at most an eighth of a level off the exact interpolation before rounding. */
enum { RAMP_STEPS = 1024 };

typedef struct ramp_lut {
    ct_rgba *c;    /* (nstops - 1) × RAMP_STEPS */
    double *scale; /* RAMP_STEPS / the segment's width */
} ramp_lut;

static int ramp_lut_build(ramp_lut *L, const ct_tile_style *s)
{
    int nseg = s->nstops > 1 ? s->nstops - 1 : 0;
    L->c = malloc(((size_t)nseg * RAMP_STEPS + 1) * sizeof *L->c);
    L->scale = malloc(((size_t)nseg + 1) * sizeof *L->scale);
    if (!L->c || !L->scale)
        return 0;
    for (int g = 0; g < nseg; g++) {
        double lo = s->stops[g].value, w = s->stops[g + 1].value - lo;
        L->scale[g] = RAMP_STEPS / w;
        for (int k = 0; k < RAMP_STEPS; k++) {
            int hint = g;
            L->c[(size_t)g * RAMP_STEPS + k] = ramp_at(s, lo + (k + 0.5) * w / RAMP_STEPS, &hint);
        }
    }
    return 1;
}

#if defined(__GNUC__)
__attribute__((always_inline)) /* once per cell of a raster: the call cost a third of it */
#endif
static inline ct_rgba ramp_lut_at(const ramp_lut *L, const ct_tile_style *s, double v, int *hint)
{
    const ct_ramp_stop *st = s->stops;
    ct_rgba edge;
    if (ramp_outside(s, v, &edge))
        return edge;
    int lo = ramp_find(st, s->nstops, v, hint), k = (int)((v - st[lo].value) * L->scale[lo]);
    return L->c[(size_t)lo * RAMP_STEPS + (k < RAMP_STEPS ? k : RAMP_STEPS - 1)];
}

ct_rgba ct_tile_style_colour(const ct_tile_style *s, double v)
{
    if (isnan(v) || s->nstops == 0)
        return s->nodata;
    int hint = -1;
    return ramp_at(s, v, &hint);
}

/* ======================================================================================== */
/* PNG — written here rather than through libpng: the container is five chunks, and
 * compressing with libdeflate (which libpng cannot use; it is tied to zlib) is 2-4× faster at a
 * better ratio. Decoders (libpng, browsers, GDAL) read the result as any other PNG.           */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t *png_chunk(uint8_t *p, const char *type, const uint8_t *data, size_t len)
{
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, data, len);
    put32(p + 8 + len, libdeflate_crc32(0, p + 4, len + 4));
    return p + 12 + len;
}

/* Filters one row of bpp-byte pixels (stride sbpp in src: RGB is read from RGBA) with Sub.
 * Measured on b700's relief (RGB, libdeflate level 4): the specification's adaptive choice
 * among None, Sub, Up and Paeth (section 12.8) made 45.43 MB, Paeth alone 45.43 MB, Up 47.0 MB
 * and Sub 45.71 MB (0.6 % more) for 6 % less CPU over the whole run than the adaptive choice. */
static void png_filter_sub(const uint8_t *src, int w, int sbpp, int bpp, uint8_t *out)
{
    out[0] = 1;
    out++;
    for (int k = 0; k < bpp; k++)
        out[k] = src[k];
    if (sbpp == bpp) /* one loop over the bytes, which the compiler vectorises */
        for (size_t i = (size_t)bpp, n = (size_t)w * bpp; i < n; i++)
            out[i] = (uint8_t)(src[i] - src[i - bpp]);
    else
        for (int x = 1; x < w; x++)
            for (int k = 0; k < bpp; k++)
                out[x * bpp + k] = (uint8_t)(src[x * sbpp + k] - src[(x - 1) * sbpp + k]);
}

/* Up to 256 distinct colours: palette index per pixel in idx, colours in pal. @return the
 * number of colours, or 257 when there are more. */
static int png_palette(const uint8_t *rgba, size_t npx, uint32_t pal[256], uint8_t *idx)
{
    enum { HS = 1024 };
    uint32_t key[HS];
    int16_t val[HS];
    memset(val, -1, sizeof val);
    int n = 0;
    uint32_t last = 0;
    int lasti = -1;
    for (size_t i = 0; i < npx; i++) {
        uint32_t c;
        memcpy(&c, rgba + 4 * i, 4);
        if (rgba[4 * i + 3] == 0)
            c = 0; /* all fully transparent pixels are one colour */
        if (lasti >= 0 && c == last) {
            idx[i] = (uint8_t)lasti;
            continue;
        }
        uint32_t h = (c * 2654435761u) >> 22;
        while (val[h] >= 0 && key[h] != c)
            h = (h + 1) & (HS - 1);
        if (val[h] < 0) {
            if (n == 256)
                return 257;
            key[h] = c;
            val[h] = (int16_t)n;
            pal[n++] = c;
        }
        idx[i] = (uint8_t)val[h];
        last = c;
        lasti = val[h];
    }
    return n;
}

uint8_t *ct_png_encode(const uint8_t *rgba, int w, int h, int level, size_t *len)
{
    size_t npx = (size_t)w * h;
    int opaque = 1;
    for (size_t i = 0; i < npx && opaque; i++)
        opaque = rgba[4 * i + 3] == 255;
    uint32_t pal[256];
    uint8_t *idx = malloc(npx);
    if (!idx)
        return NULL;
    int ncol = png_palette(rgba, npx, pal, idx);
    int ctype, bpp;
    if (ncol <= 256) {
        ctype = 3;
        bpp = 1;
    } else if (opaque) {
        ctype = 2;
        bpp = 3;
    } else {
        ctype = 6;
        bpp = 4;
    }
    size_t rowlen = (size_t)w * bpp, rawlen = (rowlen + 1) * h;
    uint8_t *raw = malloc(rawlen);
    uint8_t *out = NULL;
    if (!raw)
        goto done;
    for (int y = 0; y < h; y++) {
        const uint8_t *src = rgba + (size_t)y * w * 4;
        if (ctype == 3) { /* indexed rows are left unfiltered, as the PNG book advises */
            raw[(rowlen + 1) * y] = 0;
            memcpy(raw + (rowlen + 1) * y + 1, idx + (size_t)y * w, rowlen);
            continue;
        }
        png_filter_sub(src, w, 4, bpp, raw + (rowlen + 1) * y);
    }
    /* one compressor per thread and level, kept: allocating one per tile costs more than the
     * compression of a small tile (it is several hundred KiB of fresh pages) */
    static _Thread_local struct libdeflate_compressor *tl_comp;
    static _Thread_local int tl_level;
    if (level <= 0 || level > 12)
        level = PNG_LEVEL;
    if (!tl_comp || tl_level != level) {
        libdeflate_free_compressor(tl_comp);
        tl_comp = libdeflate_alloc_compressor(level);
        tl_level = level;
    }
    struct libdeflate_compressor *c = tl_comp;
    if (!c)
        goto done;
    size_t bound = libdeflate_zlib_compress_bound(c, rawlen);
    out = malloc(8 + 25 + 12 + 3 * 256 + 12 + 256 + 12 + bound + 12);
    if (!out)
        goto done;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(out, sig, 8);
    uint8_t ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;
    ihdr[9] = (uint8_t)ctype;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    uint8_t *p = png_chunk(out + 8, "IHDR", ihdr, 13);
    if (ctype == 3) {
        uint8_t plte[768], trns[256];
        int ntrns = 0;
        for (int i = 0; i < ncol; i++) {
            const uint8_t *cc = (const uint8_t *)&pal[i];
            plte[3 * i] = cc[0];
            plte[3 * i + 1] = cc[1];
            plte[3 * i + 2] = cc[2];
            trns[i] = cc[3];
            if (cc[3] != 255)
                ntrns = i + 1;
        }
        p = png_chunk(p, "PLTE", plte, (size_t)3 * ncol);
        if (ntrns)
            p = png_chunk(p, "tRNS", trns, (size_t)ntrns);
    }
    size_t zlen = libdeflate_zlib_compress(c, raw, rawlen, p + 8, bound);
    if (!zlen) {
        free(out);
        out = NULL;
        goto done;
    }
    put32(p, (uint32_t)zlen);
    memcpy(p + 4, "IDAT", 4);
    put32(p + 8 + zlen, libdeflate_crc32(0, p + 4, zlen + 4));
    p += 12 + zlen;
    p = png_chunk(p, "IEND", NULL, 0);
    *len = (size_t)(p - out);
done:
    free(idx);
    free(raw);
    return out;
}

/* Encodes one tile in the run's format. NULL when out of memory or the encoder failed. */
static uint8_t *encode_tile(const uint8_t *rgba, ct_tile_format fmt, int quality, int level, size_t *len)
{
    if (fmt == CT_TILE_PNG)
        return ct_png_encode(rgba, TS, TS, level, len);
    uint8_t *wp = NULL;
    size_t n = WebPEncodeRGBA(rgba, TS, TS, TS * 4, (float)quality, &wp);
    if (!n)
        return NULL;
    uint8_t *out = malloc(n);
    if (out)
        memcpy(out, wp, n);
    WebPFree(wp);
    *len = n;
    return out;
}

static int rgba_empty(const uint8_t *rgba, size_t npx)
{
    for (size_t i = 0; i < npx; i++)
        if (rgba[4 * i + 3])
            return 0;
    return 1;
}

/* One output pixel from four: colours weighted by alpha, alpha averaged (all in integers, so
 * that the result does not depend on the order of anything). */
static inline void avg4(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d, uint8_t *o)
{
    unsigned sa = (unsigned)a[3] + b[3] + c[3] + d[3];
    if (sa == 4 * 255) {
        /* opaque, the usual case: (255 Σ + 510) / 1020 is exactly (Σ + 2) / 4, without the
         * division by a variable */
        for (int k = 0; k < 3; k++)
            o[k] = (uint8_t)(((unsigned)a[k] + b[k] + c[k] + d[k] + 2) >> 2);
        o[3] = 255;
        return;
    }
    if (!sa) {
        o[0] = o[1] = o[2] = o[3] = 0;
        return;
    }
    for (int k = 0; k < 3; k++)
        o[k] = (uint8_t)(((unsigned)a[k] * a[3] + (unsigned)b[k] * b[3] + (unsigned)c[k] * c[3] +
                          (unsigned)d[k] * d[3] + sa / 2) / sa);
    o[3] = (uint8_t)((sa + 2) / 4);
}

/* Halves a w × h RGBA image (w, h even) into out (w/2 × h/2). */
static void downsample(const uint8_t *in, int w, int h, uint8_t *out)
{
    int ow = w / 2, oh = h / 2;
    for (int y = 0; y < oh; y++) {
        const uint8_t *r0 = in + (size_t)(2 * y) * w * 4, *r1 = r0 + (size_t)w * 4;
        uint8_t *o = out + (size_t)y * ow * 4;
        for (int x = 0; x < ow; x++)
            avg4(r0 + 8 * x, r0 + 8 * x + 4, r1 + 8 * x, r1 + 8 * x + 4, o + 4 * x);
    }
}

/* Four child tiles (NULL = empty; index (y&1)*2 + (x&1)) → their parent tile, or NULL when empty. */
static uint8_t *compose_parent(uint8_t *child[4])
{
    if (!child[0] && !child[1] && !child[2] && !child[3])
        return NULL;
    uint8_t *big = calloc((size_t)4 * TS * TS, 4), *out = malloc((size_t)TS * TS * 4);
    if (!big || !out) {
        free(big);
        free(out);
        return NULL;
    }
    for (int k = 0; k < 4; k++) {
        if (!child[k])
            continue;
        int ox = (k & 1) * TS, oy = (k >> 1) * TS;
        for (int y = 0; y < TS; y++)
            memcpy(big + ((size_t)(oy + y) * 2 * TS + ox) * 4, child[k] + (size_t)y * TS * 4, TS * 4);
    }
    downsample(big, 2 * TS, 2 * TS, out);
    free(big);
    if (rgba_empty(out, (size_t)TS * TS)) {
        free(out);
        return NULL;
    }
    return out;
}

/* ======================================================================================== */
/* Sinks                                                                                     */

/* Content hash of a tile: two independent 64-bit hashes (FNV-1a and a multiply-xorshift), so
 * that two different tiles sharing both — and their length — is beyond any tileset's size. */
typedef struct thash {
    uint64_t a, b;
} thash;

static thash tile_hash(const uint8_t *p, size_t n)
{
    /* eight bytes a step: tiles copied by a nightly run are hashed again, tens of MB */
    thash h = {1469598103934665603ull, 0x9E3779B97F4A7C15ull ^ n};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h.a = (h.a ^ w) * 1099511628211ull;
        h.a ^= h.a >> 32;
        h.b = (h.b + w) * 0xff51afd7ed558ccdull;
        h.b ^= h.b >> 29;
    }
    for (; i < n; i++) {
        h.a = (h.a ^ p[i]) * 1099511628211ull;
        h.b = (h.b + p[i]) * 0xff51afd7ed558ccdull;
        h.b ^= h.b >> 29;
    }
    return h;
}

typedef struct dedup_slot {
    thash h;
    uint64_t len;
    uint64_t ref; /* sink-specific: data offset (PMTiles) or image number (MBTiles) */
    int used;
} dedup_slot;

typedef struct dedup {
    dedup_slot *s;
    size_t cap, n;
} dedup;

/* @return the slot of (h, len): used == 1 when it was there already. NULL when out of memory. */
static dedup_slot *dedup_find(dedup *d, thash h, uint64_t len)
{
    if (d->n * 2 >= d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 4096;
        dedup_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < d->cap; i++)
            if (d->s[i].used) {
                size_t j = d->s[i].h.a & (ncap - 1);
                while (ns[j].used)
                    j = (j + 1) & (ncap - 1);
                ns[j] = d->s[i];
            }
        free(d->s);
        d->s = ns;
        d->cap = ncap;
    }
    size_t j = h.a & (d->cap - 1);
    while (d->s[j].used && !(d->s[j].h.a == h.a && d->s[j].h.b == h.b && d->s[j].len == len))
        j = (j + 1) & (d->cap - 1);
    return &d->s[j];
}

/* The tiles an incremental run makes again: per zoom, the sorted PMTiles ids of the tiles that a
 * changed box touches once the tile is widened by the renderer's margin. */
typedef struct dirty_set {
    int all;          /* a change without a box: every tile */
    double *box;      /* changed boxes, EPSG:3857 */
    size_t nbox, capbox;
    uint64_t *ids[31];
    size_t nids[31];
} dirty_set;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ids of zoom z from the boxes widened by margin metres. @return 0 when out of memory. */
static int dirty_build(dirty_set *d, int z, double margin)
{
    size_t n = 0, cap = 0;
    uint64_t *v = NULL;
    for (size_t i = 0; i < d->nbox; i++) {
        const double *b = d->box + 4 * i;
        double w[4] = {b[0] - margin, b[1] - margin, b[2] + margin, b[3] + margin};
        uint32_t r[4];
        ct_tile_range(w, z, r);
        for (uint32_t y = r[1]; y <= r[3]; y++)
            for (uint32_t x = r[0]; x <= r[2]; x++) {
                if (ct_grow(&v, &cap, n + 1, sizeof *v)) {
                    free(v);
                    return 0;
                }
                v[n++] = ct_pmtiles_id(z, x, y);
            }
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!k || v[i] != v[k - 1])
            v[k++] = v[i];
    free(d->ids[z]);
    d->ids[z] = v;
    d->nids[z] = k;
    return 1;
}

/* Whether tile id (PMTiles tile id, at zoom z) is dirty. */
static int dirty_has_id(const dirty_set *d, int z, uint64_t id)
{
    return d->all || (d->nids[z] && bsearch(&id, d->ids[z], d->nids[z], sizeof id, cmp_u64) != NULL);
}

static int dirty_has(const dirty_set *d, int z, uint32_t x, uint32_t y)
{
    return d->all || dirty_has_id(d, z, ct_pmtiles_id(z, x, y));
}

static void dirty_free(dirty_set *d)
{
    free(d->box);
    for (int z = 0; z < 31; z++)
        free(d->ids[z]);
    memset(d, 0, sizeof *d);
}

typedef struct pm_entry {
    uint64_t id, offset, length; /* offset into the temporary data file */
} pm_entry;

typedef struct sink {
    ct_tile_sink_kind kind;
    const char *path;
    char *tmp;          /* temporary folder or file beside path */
    const char *ext;    /* "png", "webp" */
    uint64_t bytes, unique, written, kept;
    dedup dd;
    dedup olddd;        /* incremental PMTiles runs: kept tiles by their old offset, unhashed (the
                           old archive holds each content once), see sink_put_ref */
    dedup madelen;      /* the lengths of the tiles made, not kept, so far */
    const dirty_set *only; /* incremental raster runs: tiles outside it are dropped (the old
                              tileset's are copied instead) */
    /* MBTiles */
    sqlite3 *db;
    sqlite3_stmt *ins_map, *ins_img;
    /* PMTiles */
    FILE *data;         /* tile contents, in the order they arrived */
    char *data_path;
    uint64_t data_len;
    pm_entry *ent;
    size_t nent, capent;
    int leaf_entries;   /* > 0: always leaf directories of this many entries */
    int old_fd;         /* incremental runs: the old archive, whose kept tile contents are
                           copied straight into the new one (refs with PM_OLD set) */
    uint64_t old_data_off;
} sink;

#define PM_OLD (1ull << 63)

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t k = 0;
    while (k < n) {
        ssize_t r = pread(fd, (char *)buf + k, n - k, (off_t)(off + k));
        if (r <= 0)
            return 0;
        k += (size_t)r;
    }
    return 1;
}


/* A tileset's name in its metadata: the name given, else the output's file name. */
static const char *tileset_name(const char *name, const char *path)
{
    const char *slash = strrchr(path, '/');
    return name ? name : slash ? slash + 1 : path;
}

/* "DIR/.BASE.tmp.XXXXXX" beside path (the house convention, see ct_grid_write_cog). */
static char *temp_name(const char *path, const char *what)
{
    static atomic_uint counter;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    size_t len = strlen(path) + 48;
    char *t = malloc(len);
    if (!t)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^
                 ((uint64_t)atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull);
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char sfx[7];
    for (int i = 0; i < 6; i++, s /= 62)
        sfx[i] = al[s % 62];
    sfx[6] = '\0';
    snprintf(t, len, "%.*s.%s.%s.%s", (int)dirlen, path, base, what, sfx);
    return t;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void rm_tree(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static int fsync_path(const char *p)
{
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static ct_status sink_open(ct_ctx *ctx, sink *s)
{
    const char *p = s->path;
    /* a folder: .NAME.tmp.XXXXXX beside it; files: the same, single file */
    s->tmp = temp_name(p, "tmp");
    if (!s->tmp)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", p);
    if (s->kind == CT_SINK_DIR) {
        if (mkdir(s->tmp, 0777) != 0)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", p, s->tmp, strerror(errno));
        return CT_OK;
    }
    if (s->kind == CT_SINK_PMTILES) {
        s->data_path = temp_name(p, "data");
        if (!s->data_path)
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", p);
        s->data = fopen(s->data_path, "w+bx");
        if (!s->data)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", p, s->data_path, strerror(errno));
        unlink(s->data_path); /* the open stream keeps it; nothing is left behind if killed */
        return CT_OK;
    }
    /* MBTiles 1.3: map + images with a `tiles` view (the layout the spec allows for
     * deduplicated tilesets; GDAL, QGIS, mbview and tileservers read the view) */
    if (sqlite3_open_v2(s->tmp, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                        NULL) != SQLITE_OK)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", p, s->tmp,
                        s->db ? sqlite3_errmsg(s->db) : "out of memory");
    const char *schema =
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;"
        "CREATE TABLE metadata (name TEXT, value TEXT);"
        "CREATE UNIQUE INDEX name ON metadata (name);"
        "CREATE TABLE map (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_id INTEGER);"
        "CREATE TABLE images (tile_id INTEGER PRIMARY KEY, tile_data BLOB);"
        "CREATE VIEW tiles AS SELECT map.zoom_level AS zoom_level, map.tile_column AS tile_column,"
        " map.tile_row AS tile_row, images.tile_data AS tile_data FROM map JOIN images"
        " ON images.tile_id = map.tile_id;"
        "BEGIN;";
    char *err = NULL;
    if (sqlite3_exec(s->db, schema, NULL, NULL, &err) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT INTO map VALUES (?, ?, ?, ?)", -1, &s->ins_map, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT INTO images VALUES (?, ?)", -1, &s->ins_img, NULL) != SQLITE_OK) {
        ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot create the MBTiles schema: %s", p,
                                err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return st;
    }
    return CT_OK;
}

static ct_status mkdirs_for(ct_ctx *ctx, sink *s, int z, uint32_t x)
{
    /* z/x folders are created when their first tile arrives */
    char d[4096];
    snprintf(d, sizeof d, "%s/%d", s->tmp, z);
    if (mkdir(d, 0777) != 0 && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", s->path, d, strerror(errno));
    snprintf(d, sizeof d, "%s/%d/%u", s->tmp, z, x);
    if (mkdir(d, 0777) != 0 && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", s->path, d, strerror(errno));
    return CT_OK;
}

/* Stores a tile. old_ref: PMTiles, the tile's offset in the old archive's data (PM_OLD set) —
 * its bytes need not be written to the temporary data file — else 0. */
/* The slot of length len among the lengths of the tiles made so far (used: one was). */
static dedup_slot *made_len(sink *s, size_t len)
{
    return dedup_find(&s->madelen, (thash){len * 0x9E3779B97F4A7C15ull, len}, len);
}

/* Stores tile z/x/y (PMTiles tile id: id); old_ref: see keep_tile. */
static ct_status sink_put_ref(ct_ctx *ctx, sink *s, int z, uint32_t x, uint32_t y, uint64_t id, const uint8_t *data,
                              size_t len, uint64_t old_ref)
{
    ct_status st;
    if (s->only && !dirty_has_id(s->only, z, id))
        return CT_OK;
    s->written++;
    if (s->kind == CT_SINK_DIR) {
        char f[4096];
        if ((st = mkdirs_for(ctx, s, z, x)))
            return st;
        snprintf(f, sizeof f, "%s/%d/%u/%u.%s", s->tmp, z, x, y, s->ext);
        FILE *fp = fopen(f, "wb");
        if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
            int err = errno;
            if (fp)
                fclose(fp);
            return ct_error(ctx, CT_ERR_IO, "%s: cannot write %d/%u/%u: %s", s->path, z, x, y, strerror(err));
        }
        s->bytes += len;
        s->unique++;
        return CT_OK;
    }
    /* A kept tile of the old PMTiles archive is known by its old offset: hashing every kept tile
     * (tens of MB) only served to find the few that equal a made tile, and such a tile has the
     * made tile's length. So kept tiles are hashed only when a made tile has their length;
     * this needs the made tiles first, as ct_tile_run stores them before it keeps the rest. */
    thash h;
    dedup_slot *slot, *ls = made_len(s, len);
    if (!ls)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
    dedup *dd = &s->dd;
    if (old_ref && !ls->used) {
        h = (thash){old_ref * 0x9E3779B97F4A7C15ull, old_ref};
        dd = &s->olddd;
    } else {
        if (!old_ref && !ls->used) {
            *ls = (dedup_slot){{len * 0x9E3779B97F4A7C15ull, len}, len, 0, 1};
            s->madelen.n++;
        }
        h = tile_hash(data, len);
    }
    slot = dedup_find(dd, h, len);
    if (!slot)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
    if (!slot->used) {
        slot->used = 1;
        slot->h = h;
        slot->len = len;
        dd->n++;
        s->unique++;
        s->bytes += len;
        if (s->kind == CT_SINK_MBTILES) {
            slot->ref = s->unique;
            sqlite3_bind_int64(s->ins_img, 1, (sqlite3_int64)slot->ref);
            sqlite3_bind_blob(s->ins_img, 2, data, (int)len, SQLITE_STATIC);
            int rc = sqlite3_step(s->ins_img);
            sqlite3_reset(s->ins_img);
            if (rc != SQLITE_DONE)
                return ct_error(ctx, CT_ERR_IO, "%s: cannot write tile %d/%u/%u: %s", s->path, z, x, y,
                                sqlite3_errmsg(s->db));
        } else if (old_ref)
            slot->ref = old_ref;
        else {
            slot->ref = s->data_len;
            if (fwrite(data, 1, len, s->data) != len)
                return ct_error(ctx, CT_ERR_IO, "%s: cannot write tile data: %s", s->path, strerror(errno));
            s->data_len += len;
        }
    }
    if (s->kind == CT_SINK_MBTILES) {
        sqlite3_bind_int(s->ins_map, 1, z);
        sqlite3_bind_int64(s->ins_map, 2, x);
        sqlite3_bind_int64(s->ins_map, 3, ct_tile_tms_row(z, y));
        sqlite3_bind_int64(s->ins_map, 4, (sqlite3_int64)slot->ref);
        int rc = sqlite3_step(s->ins_map);
        sqlite3_reset(s->ins_map);
        if (rc != SQLITE_DONE)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot write tile %d/%u/%u: %s", s->path, z, x, y,
                            sqlite3_errmsg(s->db));
        return CT_OK;
    }
    if (ct_grow(&s->ent, &s->capent, s->nent + 1, sizeof *s->ent))
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
    s->ent[s->nent++] = (pm_entry){id, slot->ref, len};
    return CT_OK;
}

static ct_status sink_put(ct_ctx *ctx, sink *s, int z, uint32_t x, uint32_t y, const uint8_t *data, size_t len)
{
    return sink_put_ref(ctx, s, z, x, y, ct_pmtiles_id(z, x, y), data, len, 0);
}

/* What the metadata of every sink says. */
typedef struct tileset_meta {
    const char *name, *description, *attribution, *format;
    const char *vector_layers; /* MVT: {"vector_layers": [...]} as JSON text, else NULL */
    int minzoom, maxzoom;
    double bounds[4]; /* degrees */
    const char *shard;     /* "K/N" for a shard, else NULL */
    const char *input;     /* an "sdi:NAME" input, else NULL */
    long long sdi_version; /* with input: the SDI version the tiles were made from */
} tileset_meta;

/* Bounds as the metadata keep them, to 1e-7 degree (the PMTiles header's unit): a nightly run
 * reads them back exactly, so its metadata equals a full run's. */
static void meta_bounds(double b[4], const double ll[4])
{
    for (int k = 0; k < 4; k++)
        b[k] = (double)lrint(ll[k] * 1e7) / 1e7;
}

static void meta_center(const tileset_meta *m, double *lon, double *lat, int *z)
{
    *lon = (m->bounds[0] + m->bounds[2]) / 2;
    *lat = (m->bounds[1] + m->bounds[3]) / 2;
    *z = m->minzoom + (m->maxzoom - m->minzoom) / 2;
}

/* ---- PMTiles v3 ----
 * Written here: no C library for PMTiles is packaged for Debian (the reference implementations
 * are Go, JavaScript and Python). The layout follows the v3 specification: 127-byte header, root
 * directory, JSON metadata, leaf directories, tile data; directories are varint columns
 * (tile-id deltas, run lengths, lengths, offsets with 0 meaning "right after the previous"),
 * gzip-compressed. */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

typedef struct pm_dir_entry {
    uint64_t id, offset, length;
    uint32_t run;
} pm_dir_entry;

/* Serialises entries as a PMTiles directory and gzips it (libdeflate: no timestamp in the
 * header, so the same entries give the same bytes). */
static uint8_t *pm_dir(const pm_dir_entry *e, size_t n, size_t *outlen)
{
    uint8_t *raw = malloc(10 + n * 40), *out = NULL;
    if (!raw)
        return NULL;
    size_t k = put_varint(raw, n);
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        k += put_varint(raw + k, e[i].id - last);
        last = e[i].id;
    }
    for (size_t i = 0; i < n; i++)
        k += put_varint(raw + k, e[i].run);
    for (size_t i = 0; i < n; i++)
        k += put_varint(raw + k, e[i].length);
    for (size_t i = 0; i < n; i++)
        k += put_varint(raw + k, i > 0 && e[i].offset == e[i - 1].offset + e[i - 1].length ? 0 : e[i].offset + 1);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(9);
    if (c) {
        size_t bound = libdeflate_gzip_compress_bound(c, k);
        out = malloc(bound);
        if (out && !(*outlen = libdeflate_gzip_compress(c, raw, k, out, bound))) {
            free(out);
            out = NULL;
        }
        libdeflate_free_compressor(c);
    }
    free(raw);
    return out;
}

static uint8_t *gzip_bytes(const void *in, size_t n, int level, size_t *outlen)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!c)
        return NULL;
    size_t bound = libdeflate_gzip_compress_bound(c, n);
    uint8_t *out = malloc(bound);
    if (out && !(*outlen = libdeflate_gzip_compress(c, in, n, out, bound))) {
        free(out);
        out = NULL;
    }
    libdeflate_free_compressor(c);
    return out;
}

static int cmp_pm(const void *a, const void *b)
{
    const pm_entry *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorts the entries by tile id (each id is there once). They come in ascending runs: one in a
 * full run, two in a nightly run (the tiles it made, then the old ones it keeps), which are
 * merged in one pass instead of qsort's 53 M instructions at a hundred thousand tiles; more
 * runs go to qsort. @return 0 when out of memory. */
static int sort_entries(pm_entry *e, size_t n)
{
    size_t k = 1, j;
    while (k < n && e[k - 1].id < e[k].id)
        k++;
    for (j = k + 1; j < n && e[j - 1].id < e[j].id; j++)
        ;
    if (k >= n)
        return 1;
    if (j < n) {
        qsort(e, n, sizeof *e, cmp_pm);
        return 1;
    }
    pm_entry *a = malloc(k * sizeof *a);
    if (!a)
        return 0;
    memcpy(a, e, k * sizeof *a);
    size_t i = 0, b = k, o = 0; /* o < b while a has entries left: e[b..] is read before written */
    while (i < k && b < n)
        e[o++] = a[i].id < e[b].id ? a[i++] : e[b++];
    while (i < k)
        e[o++] = a[i++];
    free(a);
    return 1;
}

typedef struct off_map {
    uint64_t from, to;
} off_map;

static int cmp_off(const void *a, const void *b)
{
    const off_map *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void le32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(u >> (8 * i));
}

/* The state of copy_bytes across the runs it appends to one file: the buffer of its read and
 * write fallback, and how much it has copied since it last started the write-back. */
typedef struct copier {
    uint8_t *buf;
    uint64_t unsynced;
} copier;

/* Appends len bytes of in_fd from offset off to out_fd: copy_file_range(2), or read and write
 * where the kernel cannot (another file system on older kernels). Every 8 MiB it starts the
 * write-back of what is copied (sync_file_range), so the disk works while the copy goes on and
 * the fsync before the rename has little left to wait for: half the time of copying and syncing
 * a 220 MB archive here, and without it the copy itself stalls on the dirty-page limit.
 * @return 0 with errno set on failure (0 when in_fd ends early). */
static int copy_bytes(int in_fd, uint64_t off, int out_fd, uint64_t len, copier *c)
{
    int kernel = 1;
    while (len > 0) {
        ssize_t r;
        errno = 0;
        if (kernel) {
            loff_t o = (loff_t)off;
            r = copy_file_range(in_fd, &o, out_fd, NULL, len < ((uint64_t)8 << 20) ? len : (uint64_t)8 << 20, 0);
            if (r < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
                kernel = 0;
                continue;
            }
        } else {
            size_t n = len < ((size_t)1 << 20) ? (size_t)len : (size_t)1 << 20;
            if (!c->buf && !(c->buf = malloc((size_t)1 << 20)))
                return 0;
            r = pread(in_fd, c->buf, n, (off_t)off);
            for (ssize_t w = 0, k; r > 0 && w < r; w += k)
                if ((k = write(out_fd, c->buf + w, (size_t)(r - w))) < 0) {
                    if (errno == EINTR)
                        k = 0;
                    else
                        return 0;
                }
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        off += (uint64_t)r;
        len -= (uint64_t)r;
        if ((c->unsynced += (uint64_t)r) >= (uint64_t)8 << 20) {
            sync_file_range(out_fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a hint: its failure changes nothing */
            c->unsynced = 0;
        }
    }
    return 1;
}

static ct_status pm_write(ct_ctx *ctx, sink *s, const tileset_meta *m, FILE *out)
{
    ct_status st = CT_OK;
    pm_dir_entry *de = NULL, *root = NULL;
    off_map *om = NULL;
    uint8_t *rootbuf = NULL, *leafbuf = NULL, *metabuf = NULL;
    copier cp = {0};
    size_t nde = 0, rootlen = 0, leaflen = 0, leafcap = 0, metalen = 0;
    /* clustered: contents laid out in tile-id order of their first use */
    om = malloc((s->unique + 1) * sizeof *om);
    de = malloc((s->nent + 1) * sizeof *de);
    if (!om || !de || !sort_entries(s->ent, s->nent)) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
        goto out;
    }
    size_t nom = 0;
    uint64_t cur = 0;
    {
        /* first use of each temporary offset, found with a hash-free sort of a copy */
        off_map *seen = malloc((s->nent + 1) * sizeof *seen);
        if (!seen) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
            goto out;
        }
        for (size_t i = 0; i < s->nent; i++)
            seen[i] = (off_map){s->ent[i].offset, UINT64_MAX};
        qsort(seen, s->nent, sizeof *seen, cmp_off);
        for (size_t i = 0; i < s->nent; i++)
            if (!nom || seen[i].from != om[nom - 1].from)
                om[nom++] = (off_map){seen[i].from, UINT64_MAX};
        free(seen);
        for (size_t i = 0; i < s->nent; i++) {
            off_map key = {s->ent[i].offset, 0};
            off_map *f = bsearch(&key, om, nom, sizeof *om, cmp_off);
            if (f->to == UINT64_MAX) {
                f->to = cur;
                cur += s->ent[i].length;
            }
            uint64_t off = f->to;
            if (nde && de[nde - 1].id + de[nde - 1].run == s->ent[i].id && de[nde - 1].offset == off)
                de[nde - 1].run++;
            else
                de[nde++] = (pm_dir_entry){s->ent[i].id, off, s->ent[i].length, 1};
        }
    }
    /* root directory in the first 16 KiB; otherwise leaves of `leaf` entries each */
    rootbuf = pm_dir(de, nde, &rootlen);
    if (!rootbuf) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
        goto out;
    }
    if (rootlen > 16384 - 127 || s->leaf_entries > 0) {
        free(rootbuf);
        rootbuf = NULL;
        for (size_t leaf = s->leaf_entries > 0 ? (size_t)s->leaf_entries : 4096;; leaf *= 2) {
            size_t nleaves = (nde + leaf - 1) / leaf;
            free(root);
            free(leafbuf);
            root = malloc(nleaves * sizeof *root);
            leafbuf = NULL;
            leaflen = leafcap = 0;
            if (!root) {
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
                goto out;
            }
            for (size_t L = 0; L < nleaves; L++) {
                size_t a = L * leaf, n = nde - a < leaf ? nde - a : leaf, bl = 0;
                uint8_t *b = pm_dir(de + a, n, &bl);
                if (!b || ct_grow(&leafbuf, &leafcap, leaflen + bl, 1)) {
                    free(b);
                    st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
                    goto out;
                }
                memcpy(leafbuf + leaflen, b, bl);
                root[L] = (pm_dir_entry){de[a].id, leaflen, bl, 0};
                leaflen += bl;
                free(b);
            }
            rootbuf = pm_dir(root, nleaves, &rootlen);
            if (!rootbuf) {
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
                goto out;
            }
            if (rootlen <= 16384 - 127)
                break;
            free(rootbuf);
            rootbuf = NULL;
        }
    }
    /* metadata */
    json_object *j = json_object_new_object();
    json_object_object_add(j, "name", json_object_new_string(m->name));
    json_object_object_add(j, "format", json_object_new_string(m->format));
    json_object_object_add(j, "type", json_object_new_string("overlay"));
    if (m->description)
        json_object_object_add(j, "description", json_object_new_string(m->description));
    if (m->attribution)
        json_object_object_add(j, "attribution", json_object_new_string(m->attribution));
    json_object_object_add(j, "generator", json_object_new_string("ct-tile (ctgis)"));
    if (m->input) {
        json_object_object_add(j, "input", json_object_new_string(m->input));
        json_object_object_add(j, "sdi_version", json_object_new_int64(m->sdi_version));
    }
    if (m->shard)
        json_object_object_add(j, "shard", json_object_new_string(m->shard));
    if (m->vector_layers) {
        json_object *vl = json_tokener_parse(m->vector_layers), *arr;
        if (vl && json_object_object_get_ex(vl, "vector_layers", &arr))
            json_object_object_add(j, "vector_layers", json_object_get(arr));
        json_object_put(vl);
    }
    const char *js = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
    metabuf = gzip_bytes(js, strlen(js), 9, &metalen);
    json_object_put(j);
    if (!metabuf) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
        goto out;
    }
    uint8_t h[127] = "PMTiles";
    h[7] = 3;
    uint64_t root_off = 127, meta_off = root_off + rootlen, leaf_off = meta_off + metalen,
             data_off = leaf_off + leaflen;
    le64(h + 8, root_off);
    le64(h + 16, rootlen);
    le64(h + 24, meta_off);
    le64(h + 32, metalen);
    le64(h + 40, leaf_off);
    le64(h + 48, leaflen);
    le64(h + 56, data_off);
    le64(h + 64, cur);
    le64(h + 72, s->nent); /* addressed tiles */
    le64(h + 80, nde);     /* tile entries */
    le64(h + 88, nom);     /* tile contents */
    h[96] = 1;             /* clustered */
    h[97] = 2;             /* internal compression: gzip */
    h[98] = m->vector_layers ? 2 : 1; /* tile compression: gzip for MVT; PNG/WebP are compressed */
    h[99] = !strcmp(m->format, "png") ? 2 : !strcmp(m->format, "webp") ? 4 : !strcmp(m->format, "pbf") ? 1 : 0;
    h[100] = (uint8_t)m->minzoom;
    h[101] = (uint8_t)m->maxzoom;
    le32(h + 102, (int32_t)lrint(m->bounds[0] * 1e7));
    le32(h + 106, (int32_t)lrint(m->bounds[1] * 1e7));
    le32(h + 110, (int32_t)lrint(m->bounds[2] * 1e7));
    le32(h + 114, (int32_t)lrint(m->bounds[3] * 1e7));
    double clon, clat;
    int cz;
    meta_center(m, &clon, &clat, &cz);
    h[118] = (uint8_t)cz;
    le32(h + 119, (int32_t)lrint(clon * 1e7));
    le32(h + 123, (int32_t)lrint(clat * 1e7));
    if (fwrite(h, 1, 127, out) != 127 || fwrite(rootbuf, 1, rootlen, out) != rootlen ||
        fwrite(metabuf, 1, metalen, out) != metalen || (leaflen && fwrite(leafbuf, 1, leaflen, out) != leaflen)) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
        goto out;
    }
    /* tile contents in the order of their final offsets, copied by the kernel in runs that lie
     * end to end in their source (a nightly run's kept tiles come from the old archive in a
     * few long runs, without passing through this process) */
    if (fflush(out) != 0) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
        goto out;
    }
    {
        off_map *byto = malloc((nom + 1) * sizeof *byto);
        if (!byto) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", s->path);
            goto out;
        }
        for (size_t i = 0; i < nom; i++)
            byto[i] = (off_map){om[i].to, om[i].from};
        qsort(byto, nom, sizeof *byto, cmp_off);
        for (size_t i = 0, e; i < nom && st == CT_OK; i = e) {
            uint64_t src = byto[i].to, len = 0;
            for (e = i; e < nom && byto[e].to == src + len; e++)
                len += (e + 1 < nom ? byto[e + 1].from : cur) - byto[e].from;
            int old = (src & PM_OLD) != 0;
            uint64_t from = old ? s->old_data_off + (src & ~PM_OLD) : src;
            if (!copy_bytes(old ? s->old_fd : fileno(s->data), from, fileno(out), len, &cp))
                st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path,
                              errno ? strerror(errno) : "the old archive is cut short");
        }
        free(byto);
    }
out:
    free(de);
    free(root);
    free(om);
    free(rootbuf);
    free(leafbuf);
    free(metabuf);
    free(cp.buf);
    return st;
}

static ct_status mb_meta(ct_ctx *ctx, sink *s, const tileset_meta *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO metadata VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", s->path, sqlite3_errmsg(s->db));
    double clon, clat;
    int cz;
    meta_center(m, &clon, &clat, &cz);
    struct {
        const char *k;
        char v[160];
    } kv[13];
    int n = 0;
#define KV(key, ...) (kv[n].k = key, snprintf(kv[n].v, sizeof kv[n].v, __VA_ARGS__), n++)
    KV("name", "%s", m->name);
    KV("format", "%s", m->format);
    KV("type", "overlay");
    KV("version", "1");
    (void)0; /* MVT adds "json" below */
    KV("bounds", "%.7f,%.7f,%.7f,%.7f", m->bounds[0], m->bounds[1], m->bounds[2], m->bounds[3]);
    KV("center", "%.7f,%.7f,%d", clon, clat, cz);
    KV("minzoom", "%d", m->minzoom);
    KV("maxzoom", "%d", m->maxzoom);
    if (m->description)
        KV("description", "%s", m->description);
    if (m->attribution)
        KV("attribution", "%s", m->attribution);
    if (m->input) {
        KV("input", "%s", m->input);
        KV("sdi_version", "%lld", m->sdi_version);
    }
    if (m->shard)
        KV("shard", "%s", m->shard);
#undef KV
    for (int i = 0; i < n + (m->vector_layers != NULL); i++) {
        sqlite3_bind_text(st, 1, i < n ? kv[i].k : "json", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, i < n ? kv[i].v : m->vector_layers, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return ct_error(ctx, CT_ERR_IO, "%s: %s", s->path, sqlite3_errmsg(s->db));
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return CT_OK;
}

static void sink_abort(sink *s)
{
    if (s->ins_map)
        sqlite3_finalize(s->ins_map);
    if (s->ins_img)
        sqlite3_finalize(s->ins_img);
    if (s->db)
        sqlite3_close(s->db);
    s->db = NULL;
    s->ins_map = s->ins_img = NULL;
    if (s->data)
        fclose(s->data);
    s->data = NULL;
    if (s->tmp) {
        if (s->kind == CT_SINK_DIR)
            rm_tree(s->tmp);
        else
            unlink(s->tmp);
    }
    free(s->tmp);
    free(s->data_path);
    free(s->ent);
    free(s->dd.s);
    free(s->olddd.s);
    free(s->madelen.s);
    memset(s, 0, sizeof *s);
}

/* Puts the finished tileset at its place: files by rename(2); a folder by exchanging it with
 * the old one in one renameat2(RENAME_EXCHANGE), then removing the old one. */
static ct_status publish(ct_ctx *ctx, sink *s)
{
    if (s->kind != CT_SINK_DIR) {
        if (fsync_path(s->tmp) != 0 || rename(s->tmp, s->path) != 0)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
        return CT_OK;
    }
    struct stat sb;
    if (lstat(s->path, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return ct_error(ctx, CT_ERR_IO, "%s: exists and is not a folder", s->path);
        if (renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->path, RENAME_EXCHANGE) != 0)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot replace: %s", s->path, strerror(errno));
        rm_tree(s->tmp); /* now the old tileset */
        return CT_OK;
    }
    if (rename(s->tmp, s->path) != 0)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
    return CT_OK;
}

static ct_status sink_commit(ct_ctx *ctx, sink *s, const tileset_meta *m)
{
    ct_status st = CT_OK;
    if (s->kind == CT_SINK_MBTILES) {
        if ((st = mb_meta(ctx, s, m)))
            return st;
        sqlite3_finalize(s->ins_map);
        sqlite3_finalize(s->ins_img);
        s->ins_map = s->ins_img = NULL;
        char *err = NULL;
        if (sqlite3_exec(s->db, "CREATE UNIQUE INDEX map_index ON map (zoom_level, tile_column, tile_row);"
                                "COMMIT;", NULL, NULL, &err) != SQLITE_OK) {
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, err ? err : sqlite3_errmsg(s->db));
            sqlite3_free(err);
            return st;
        }
        if (sqlite3_close(s->db) != SQLITE_OK)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot close: %s", s->path, sqlite3_errmsg(s->db));
        s->db = NULL;
        struct stat sb;
        if (stat(s->tmp, &sb) == 0)
            s->bytes = (uint64_t)sb.st_size;
    } else if (s->kind == CT_SINK_PMTILES) {
        FILE *out = fopen(s->tmp, "wbx");
        if (!out)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot create %s: %s", s->path, s->tmp, strerror(errno));
        if (fflush(s->data) != 0) {
            fclose(out);
            return ct_error(ctx, CT_ERR_IO, "%s: cannot write tile data: %s", s->path, strerror(errno));
        }
        st = pm_write(ctx, s, m, out);
        if (fclose(out) != 0 && !st)
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", s->path, strerror(errno));
        if (st)
            return st;
        struct stat sb;
        if (stat(s->tmp, &sb) == 0)
            s->bytes = (uint64_t)sb.st_size;
    }
    if (s->kind == CT_SINK_DIR) {
        /* the folder layout tippecanoe and GDAL's MVT driver read: metadata.json beside {z}; it
         * also carries the SDI version that a later incremental run starts from */
        json_object *j = json_object_new_object();
        char b[160];
        double clon, clat;
        int cz;
        meta_center(m, &clon, &clat, &cz);
        json_object_object_add(j, "name", json_object_new_string(m->name));
        json_object_object_add(j, "format", json_object_new_string(m->format));
        snprintf(b, sizeof b, "%.7f,%.7f,%.7f,%.7f", m->bounds[0], m->bounds[1], m->bounds[2], m->bounds[3]);
        json_object_object_add(j, "bounds", json_object_new_string(b));
        snprintf(b, sizeof b, "%.7f,%.7f,%d", clon, clat, cz);
        json_object_object_add(j, "center", json_object_new_string(b));
        json_object_object_add(j, "minzoom", json_object_new_int(m->minzoom));
        json_object_object_add(j, "maxzoom", json_object_new_int(m->maxzoom));
        if (m->vector_layers)
            json_object_object_add(j, "json", json_object_new_string(m->vector_layers));
        if (m->input) {
            json_object_object_add(j, "input", json_object_new_string(m->input));
            json_object_object_add(j, "sdi_version", json_object_new_int64(m->sdi_version));
        }
        if (m->shard)
            json_object_object_add(j, "shard", json_object_new_string(m->shard));
        char f[4096];
        snprintf(f, sizeof f, "%s/metadata.json", s->tmp);
        int rc = json_object_to_file_ext(f, j, JSON_C_TO_STRING_PRETTY);
        json_object_put(j);
        if (rc != 0)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot write metadata.json: %s", s->path, strerror(errno));
    }
    if ((st = publish(ctx, s)))
        return st;
    free(s->tmp);
    s->tmp = NULL;
    return CT_OK;
}

/* ---- The tileset already at OUTPUT, which an incremental run updates ----
 * Read back from the three sinks as ct-tile writes them: metadata.json of a folder, the metadata
 * table of an MBTiles file, the header and JSON metadata of a PMTiles archive (gzip-compressed
 * directories, as pm_write makes them). */

typedef struct oldset {
    int exists, has_sdi;
    ct_tile_sink_kind kind;
    const char *path;
    long long sdi_version;
    char *input, *format, *vector_layers, *shard, *name, *description, *attribution;
    int minzoom, maxzoom;
    double bounds[4];
    sqlite3 *db;
    int fd;
    uint64_t pm_root[2], pm_meta[2], pm_leaf_off, pm_data_off;
    uint8_t *win; /* PMTiles: a window on the archive's bytes, see old_bytes */
    uint64_t win_off;
    size_t win_len, win_cap;
    struct { /* PMTiles: the root directory and the last leaf that old_tile read, decoded */
        uint64_t off, n, *e;
    } dir[2];
} oldset;

static void oldset_close(oldset *o)
{
    if (o->db)
        sqlite3_close(o->db);
    if (o->fd > 0)
        close(o->fd);
    free(o->input);
    free(o->format);
    free(o->vector_layers);
    free(o->shard);
    free(o->name);
    free(o->description);
    free(o->attribution);
    free(o->win);
    free(o->dir[0].e);
    free(o->dir[1].e);
    memset(o, 0, sizeof *o);
}

static uint8_t *gunzip_bytes(const uint8_t *in, size_t n, size_t *outlen)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    uint8_t *out = NULL;
    for (size_t cap = 4 * n + 4096; d && cap < ((size_t)1 << 32); cap *= 4) {
        out = malloc(cap);
        if (!out)
            break;
        enum libdeflate_result r = libdeflate_gzip_decompress(d, in, n, out, cap, outlen);
        if (r == LIBDEFLATE_SUCCESS)
            break;
        free(out);
        out = NULL;
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
            break;
    }
    libdeflate_free_decompressor(d);
    return out;
}

/* The text values of the old tileset's metadata, by key ("json" holds vector_layers). */
static const struct {
    const char *key;
    size_t field;
} old_meta_text[] = {
    {"input", offsetof(oldset, input)},       {"format", offsetof(oldset, format)},
    {"shard", offsetof(oldset, shard)},       {"name", offsetof(oldset, name)},
    {"description", offsetof(oldset, description)}, {"attribution", offsetof(oldset, attribution)},
    {"json", offsetof(oldset, vector_layers)},
};

/* One metadata value, as text (MBTiles, metadata.json) or a JSON value (PMTiles). */
static void old_meta_kv(oldset *o, const char *k, const char *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < sizeof old_meta_text / sizeof old_meta_text[0]; i++)
        if (!strcmp(k, old_meta_text[i].key)) {
            char **dst = (char **)((char *)o + old_meta_text[i].field);
            free(*dst);
            *dst = strdup(v);
            return;
        }
    if (!strcmp(k, "sdi_version")) {
        o->sdi_version = atoll(v);
        o->has_sdi = 1;
    } else if (!strcmp(k, "minzoom"))
        o->minzoom = atoi(v);
    else if (!strcmp(k, "maxzoom"))
        o->maxzoom = atoi(v);
    else if (!strcmp(k, "bounds"))
        sscanf(v, "%lf,%lf,%lf,%lf", &o->bounds[0], &o->bounds[1], &o->bounds[2], &o->bounds[3]);
}

static void old_meta_json(oldset *o, json_object *j)
{
    json_object_object_foreach(j, k, v)
    {
        if (!strcmp(k, "vector_layers")) {
            json_object *w = json_object_new_object();
            json_object_object_add(w, "vector_layers", json_object_get(v));
            old_meta_kv(o, "json", json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN));
            json_object_put(w);
        } else if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))
            old_meta_kv(o, k, json_object_get_string(v));
    }
}


static int32_t rd32(const uint8_t *p) { return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24); }
static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Opens the tileset at path when there is one; exists = 0 otherwise. A file that is there but
 * cannot be read as a ct-tile tileset is an error naming it. */
static ct_status oldset_open(ct_ctx *ctx, const char *path, ct_tile_sink_kind kind, oldset *o)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->path = path;
    o->fd = -1;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return CT_OK;
    o->exists = 1;
    if (kind == CT_SINK_DIR) {
        char f[4096];
        snprintf(f, sizeof f, "%s/metadata.json", path);
        json_object *j = json_object_from_file(f);
        if (!j)
            return CT_OK; /* a folder without our metadata: no version to start from */
        old_meta_json(o, j);
        json_object_put(j);
        return CT_OK;
    }
    if (kind == CT_SINK_MBTILES) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_open_v2(path, &o->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(o->db, "SELECT name, value FROM metadata", -1, &q, NULL) != SQLITE_OK)
            return ct_error(ctx, CT_ERR_FORMAT, "%s: not an MBTiles file: %s", path,
                            o->db ? sqlite3_errmsg(o->db) : "out of memory");
        while (sqlite3_step(q) == SQLITE_ROW)
            old_meta_kv(o, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1));
        sqlite3_finalize(q);
        return CT_OK;
    }
    uint8_t h[127];
    o->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (o->fd < 0 || !pread_all(o->fd, h, sizeof h, 0) || memcmp(h, "PMTiles", 7) || h[7] != 3 || h[97] != 2)
        return ct_error(ctx, CT_ERR_FORMAT, "%s: not a PMTiles v3 archive with gzip directories", path);
    o->pm_root[0] = rd64(h + 8);
    o->pm_root[1] = rd64(h + 16);
    o->pm_meta[0] = rd64(h + 24);
    o->pm_meta[1] = rd64(h + 32);
    o->pm_leaf_off = rd64(h + 40);
    o->pm_data_off = rd64(h + 56);
    o->minzoom = h[100];
    o->maxzoom = h[101];
    for (int i = 0; i < 4; i++)
        o->bounds[i] = rd32(h + 102 + 4 * i) / 1e7;
    uint8_t *raw = o->pm_meta[1] < (1u << 26) ? malloc(o->pm_meta[1] + 1) : NULL, *js = NULL;
    size_t jl = 0;
    if (!raw || !pread_all(o->fd, raw, o->pm_meta[1], o->pm_meta[0]) ||
        !(js = gunzip_bytes(raw, o->pm_meta[1], &jl))) {
        free(raw);
        return ct_error(ctx, CT_ERR_FORMAT, "%s: cannot read the PMTiles metadata", path);
    }
    json_tokener *tok = json_tokener_new();
    json_object *j = tok ? json_tokener_parse_ex(tok, (const char *)js, (int)jl) : NULL;
    json_tokener_free(tok);
    free(raw);
    free(js);
    if (j) {
        old_meta_json(o, j);
        json_object_put(j);
    }
    return CT_OK;
}

/* One old tile z/x/y (id: its PMTiles tile id, which the walk of a PMTiles archive has and the
 * callbacks need, rather than working it out again for each of 100 000 tiles): its bytes
 * (data), or a folder's file; ref: PMTiles, PM_OLD | its data offset (data NULL: read them with
 * old_bytes when needed). */
typedef ct_status (*old_tile_fn)(ct_ctx *ctx, void *user, int z, uint32_t x, uint32_t y, uint64_t id,
                                 const uint8_t *data, size_t len, const char *file, uint64_t ref);

static int rd_varint(const uint8_t *p, size_t n, size_t *k, uint64_t *v)
{
    *v = 0;
    for (int s = 0; *k < n && s < 64; s += 7) {
        uint8_t b = p[(*k)++];
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            return 1;
    }
    return 0;
}

/* The old archive's bytes [off, off + len), through a window of a few MiB: the data of a
 * clustered archive is walked in order, so one read serves hundreds of tiles instead of a
 * pread each. @return NULL when they cannot be read; valid until the next call. */
static const uint8_t *old_bytes(oldset *o, uint64_t off, size_t len)
{
    if (o->win_len && off >= o->win_off && off + len <= o->win_off + o->win_len)
        return o->win + (off - o->win_off);
    size_t want = len > ((size_t)4 << 20) ? len : (size_t)4 << 20, got = 0;
    if (want > o->win_cap) {
        if (ct_resize(&o->win, want, 1))
            return NULL;
        o->win_cap = want;
    }
    o->win_len = 0;
    errno = 0;
    while (got < want) {
        ssize_t r = pread(o->fd, o->win + got, want - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < len)
        return NULL;
    o->win_off = off;
    o->win_len = got;
    return o->win;
}

/* The PMTiles directory at [off, off + len) of the old archive: *n entries as four columns of
 * *e (ids, run lengths, tile lengths, offsets), ids and offsets made absolute. */
static ct_status pm_dir_read(ct_ctx *ctx, oldset *o, uint64_t off, uint64_t len, uint64_t **e, uint64_t *n)
{
    uint8_t *raw = len < (1u << 28) ? malloc(len + 1) : NULL, *d = NULL;
    size_t dl = 0, k = 0;
    *e = NULL;
    int ok = raw && pread_all(o->fd, raw, len, off) && (d = gunzip_bytes(raw, len, &dl)) && rd_varint(d, dl, &k, n) &&
             *n <= dl && (*e = malloc((*n + 1) * 4 * sizeof **e));
    /* columns: ids (deltas), runs, lengths, offsets (0: right after the previous) */
    for (uint64_t i = 0; ok && i < 4 * *n; i++)
        ok = rd_varint(d, dl, &k, &(*e)[i]);
    for (uint64_t i = 0, last = 0; ok && i < *n; i++) {
        uint64_t *v = *e;
        last = v[i] += last;
        if (v[3 * *n + i] == 0 && i > 0)
            v[3 * *n + i] = v[3 * *n + i - 1] + v[2 * *n + i - 1];
        else
            v[3 * *n + i] -= 1;
    }
    free(raw);
    free(d);
    if (ok)
        return CT_OK;
    free(*e);
    *e = NULL;
    *n = 0;
    return ct_error(ctx, CT_ERR_FORMAT, "%s: cannot read a PMTiles directory", o->path);
}

static ct_status pm_walk(ct_ctx *ctx, oldset *o, uint64_t off, uint64_t len, int depth, old_tile_fn fn, void *user)
{
    uint64_t *e = NULL, n = 0;
    ct_status st = depth > 4 ? ct_error(ctx, CT_ERR_FORMAT, "%s: cannot read a PMTiles directory", o->path)
                             : pm_dir_read(ctx, o, off, len, &e, &n);
    for (uint64_t i = 0; i < n && st == CT_OK; i++) {
        uint64_t id = e[i], run = e[n + i], tl = e[2 * n + i], to = e[3 * n + i];
        if (run == 0) {
            st = pm_walk(ctx, o, o->pm_leaf_off + to, tl, depth + 1, fn, user);
            continue;
        }
        for (uint64_t r = 0; r < run && st == CT_OK; r++) {
            int z;
            uint32_t x, y;
            if (ct_pmtiles_zxy(id + r, &z, &x, &y) == 0)
                st = fn(ctx, user, z, x, y, id + r, NULL, tl, NULL, PM_OLD | to);
        }
    }
    free(e);
    return st;
}

typedef struct dir_walk {
    ct_ctx *ctx;
    oldset *o;
    old_tile_fn fn;
    void *user;
    ct_status st;
} dir_walk;

static _Thread_local dir_walk *g_walk; /* nftw has no user pointer; a walk runs on its calling thread */

static int dir_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    if (flag != FTW_F || ftw->level != 3)
        return 0;
    int z;
    unsigned x, y;
    char ext[8];
    const char *rel = p + strlen(g_walk->o->path);
    while (*rel == '/') /* "d0/" and "d0" name the same folder */
        rel++;
    if (sscanf(rel, "%d/%u/%u.%7s", &z, &x, &y, ext) != 4 || z < 0 || z > 30)
        return 0;
    g_walk->st = g_walk->fn(g_walk->ctx, g_walk->user, z, x, y, ct_pmtiles_id(z, x, y), NULL, (size_t)sb->st_size, p,
                            0);
    return g_walk->st != CT_OK;
}

/* Calls fn for every tile of the old tileset (a folder's tiles by file name, data NULL). */
static ct_status oldset_each(ct_ctx *ctx, oldset *o, old_tile_fn fn, void *user)
{
    if (o->kind == CT_SINK_DIR) {
        dir_walk w = {ctx, o, fn, user, CT_OK};
        g_walk = &w;
        int rc = nftw(o->path, dir_entry, 16, FTW_PHYS);
        g_walk = NULL;
        if (w.st)
            return w.st;
        return rc < 0 ? ct_error(ctx, CT_ERR_IO, "%s: cannot read: %s", o->path, strerror(errno)) : CT_OK;
    }
    if (o->kind == CT_SINK_MBTILES) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(o->db, "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles", -1, &q,
                               NULL) != SQLITE_OK)
            return ct_error(ctx, CT_ERR_FORMAT, "%s: %s", o->path, sqlite3_errmsg(o->db));
        ct_status st = CT_OK;
        int rc;
        while (st == CT_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            int z = sqlite3_column_int(q, 0);
            if (z < 0 || z > 30)
                continue;
            uint32_t x = (uint32_t)sqlite3_column_int64(q, 1);
            uint32_t y = ct_tile_tms_row(z, (uint32_t)sqlite3_column_int64(q, 2));
            st = fn(ctx, user, z, x, y, ct_pmtiles_id(z, x, y), sqlite3_column_blob(q, 3),
                    (size_t)sqlite3_column_bytes(q, 3), NULL, 0);
        }
        if (st == CT_OK && rc != SQLITE_DONE)
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: %s", o->path, sqlite3_errmsg(o->db));
        sqlite3_finalize(q);
        return st;
    }
    return pm_walk(ctx, o, o->pm_root[0], o->pm_root[1], 0, fn, user);
}

/* The old tile z/x/y, decompressed when it is gzip-compressed: a new buffer in *out, NULL when
 * the old tileset has no such tile. A PMTiles archive is looked up through its directories, a
 * folder by the file's name, an MBTiles file by a query. */
static ct_status old_tile(ct_ctx *ctx, oldset *o, const char *ext, int z, uint32_t x, uint32_t y, uint8_t **out,
                          size_t *len)
{
    uint8_t *raw = NULL;
    size_t rl = 0;
    ct_status st = CT_OK;
    *out = NULL;
    *len = 0;
    if (o->kind == CT_SINK_PMTILES) {
        uint64_t id = ct_pmtiles_id(z, x, y), off = o->pm_root[0], dl = o->pm_root[1];
        for (int depth = 0; depth < 4 && st == CT_OK; depth++) {
            /* the dirty tiles come in id order: most share their leaf with the one before */
            int c = depth ? 1 : 0;
            if (!o->dir[c].e || o->dir[c].off != off) {
                free(o->dir[c].e);
                o->dir[c].e = NULL;
                if ((st = pm_dir_read(ctx, o, off, dl, &o->dir[c].e, &o->dir[c].n)))
                    break;
                o->dir[c].off = off;
            }
            const uint64_t *e = o->dir[c].e, n = o->dir[c].n;
            size_t lo = 0, hi = n; /* the last entry whose id is at most id */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (e[mid] <= id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            uint64_t i = lo, run = i ? e[n + i - 1] : 0, tl = i ? e[2 * n + i - 1] : 0, to = i ? e[3 * n + i - 1] : 0;
            int leaf = i && run == 0, hit = i && run && id < e[i - 1] + run;
            if (leaf) {
                off = o->pm_leaf_off + to;
                dl = tl;
                continue;
            }
            if (hit) {
                if (!(raw = malloc(tl + 1)) || !pread_all(o->fd, raw, tl, o->pm_data_off + to))
                    st = ct_error(ctx, CT_ERR_IO, "%s: cannot read tile %d/%u/%u", o->path, z, x, y);
                rl = tl;
            }
            break;
        }
    } else if (o->kind == CT_SINK_DIR) {
        char f[4096];
        struct stat sb;
        snprintf(f, sizeof f, "%s/%d/%u/%u.%s", o->path, z, x, y, ext);
        FILE *in = stat(f, &sb) == 0 ? fopen(f, "rb") : NULL;
        if (in) {
            rl = (size_t)sb.st_size;
            if (!(raw = malloc(rl + 1)) || fread(raw, 1, rl, in) != rl)
                st = ct_error(ctx, CT_ERR_IO, "%s: cannot read %s", o->path, f);
            fclose(in);
        }
    } else {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(o->db, "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND "
                               "tile_row = ?3", -1, &q, NULL) != SQLITE_OK)
            return ct_error(ctx, CT_ERR_FORMAT, "%s: %s", o->path, sqlite3_errmsg(o->db));
        sqlite3_bind_int(q, 1, z);
        sqlite3_bind_int64(q, 2, x);
        sqlite3_bind_int64(q, 3, ct_tile_tms_row(z, y));
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            rl = (size_t)sqlite3_column_bytes(q, 0);
            if ((raw = malloc(rl + 1)) && rl)
                memcpy(raw, sqlite3_column_blob(q, 0), rl);
            else if (!raw)
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->path);
        } else if (rc != SQLITE_DONE)
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: %s", o->path, sqlite3_errmsg(o->db));
        sqlite3_finalize(q);
    }
    if (st == CT_OK && raw && rl >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        *out = gunzip_bytes(raw, rl, len);
        if (!*out)
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: tile %d/%u/%u is not valid gzip", o->path, z, x, y);
        free(raw);
        return st;
    }
    if (st == CT_OK) {
        *out = raw;
        *len = rl;
    } else
        free(raw);
    return st;
}

/* Copies the old tiles of zooms minz..maxz that are not dirty into the new tileset. */
typedef struct keep_ctx {
    sink *s;
    oldset *old;
    const dirty_set *dirty;
    int minz, maxz;
} keep_ctx;

static ct_status keep_tile(ct_ctx *ctx, void *user, int z, uint32_t x, uint32_t y, uint64_t id, const uint8_t *data,
                           size_t len, const char *file, uint64_t ref)
{
    keep_ctx *k = user;
    sink *s = k->s;
    if (z < k->minz || z > k->maxz || dirty_has_id(k->dirty, z, id))
        return CT_OK;
    if (file) { /* a folder: a hard link shares the bytes; a copy where links are refused */
        ct_status st;
        char f[4096];
        if ((st = mkdirs_for(ctx, s, z, x)))
            return st;
        snprintf(f, sizeof f, "%s/%d/%u/%u.%s", s->tmp, z, x, y, s->ext);
        if (link(file, f) != 0) {
            FILE *in = fopen(file, "rb");
            uint8_t *b = malloc(len + 1);
            size_t got = in && b ? fread(b, 1, len, in) : 0;
            if (in)
                fclose(in);
            st = got == len ? CT_OK : ct_error(ctx, CT_ERR_IO, "%s: cannot read %s: %s", s->path, file, strerror(errno));
            const dirty_set *only = s->only;
            s->only = NULL;
            if (st == CT_OK)
                st = sink_put(ctx, s, z, x, y, b, len);
            s->only = only;
            free(b);
            if (st == CT_OK)
                s->kept++;
            return st;
        }
        s->written++;
        s->unique++;
        s->bytes += len;
        s->kept++;
        return CT_OK;
    }
    /* a PMTiles tile's bytes, needed unless the sink copies them by their offset and need not
     * hash them (sink_put_ref) */
    dedup_slot *ls = NULL;
    if (!data && (s->old_fd <= 0 || !(ls = made_len(s, len)) || ls->used) &&
        !(data = old_bytes(k->old, k->old->pm_data_off + (ref & ~PM_OLD), len)))
        return ct_error(ctx, CT_ERR_IO, "%s: cannot read tile data: %s", k->old->path,
                        errno ? strerror(errno) : "the archive is cut short");
    const dirty_set *only = s->only;
    s->only = NULL;
    ct_status st = sink_put_ref(ctx, s, z, x, y, id, data, len, s->old_fd > 0 ? ref : 0);
    s->only = only;
    if (st == CT_OK)
        s->kept++;
    return st;
}

/* ======================================================================================== */
/* Rendering                                                                                 */

/* What every worker thread needs: its own source dataset, warp destination and transformer
 * (GDAL datasets and transformers are used by one thread at a time). */
typedef struct worker {
    GDALDatasetH src, dst;
    void *gen, *approx;
    float *fbuf;      /* (S + 2M)² elevations, or 4 planes of bytes for RGB */
    uint8_t *img;     /* S × S RGBA, then its halvings */
    uint8_t *tile;    /* one 256 × 256 RGBA tile */
    float *srcbuf;    /* the source window of a block */
    float *shade;     /* hillshade factors of one row */
    float *shade4;    /* the same per byte of the row's RGBA pixels */
    size_t srccap;
    double *rowx, *rowy, *rowz;
    int *rowok;
    int ok;
    char err[512];
} worker;

typedef struct enc_tile {
    int z;
    uint32_t x, y;
    uint8_t *data;
    size_t len;
} enc_tile;

typedef struct block_res {
    enc_tile *t;
    size_t n, cap;
    uint64_t empty;
    uint8_t *top; /* the block's top-zoom tile as RGBA when the levels above need it */
    char err[512];
    int failed;
} block_res;

typedef struct job {
    const ct_tile_opts *o;
    const ct_tile_style *style;
    ct_tile_mode mode;
    int band, nbands_rgb, src_alpha;
    int has_nodata;
    double nodata;
    double scale, offset; /* DEM and depth: the band's (stored v means v * scale + offset) */
    const char *src_wkt;
    char *merc_wkt;
    char *coord_op;        /* PROJ pipeline source → EPSG:3857, official VN-2000 shift */
    int minz, maxz, zb, d; /* block zoom, and levels in a block below it */
    int S, M;              /* block side in pixels, margin */
    double src_res;        /* source cell size in Web Mercator metres (the finer axis) */
    int dec;               /* source cells averaged per read cell when the base zoom is coarser
                              than the source (GDAL's RasterIO average), else 1 */
    double merc[4];        /* data bounds */
    int level, quality;
    GDALResampleAlg ralg;
    ramp_lut lut;          /* the style's ramp, for DEM and depth rasters */
} job;

static void worker_free(worker *w)
{
    if (w->approx)
        GDALDestroyApproxTransformer(w->approx); /* owns gen */
    else if (w->gen)
        GDALDestroyGenImgProjTransformer(w->gen);
    if (w->dst)
        GDALClose(w->dst);
    if (w->src)
        GDALClose(w->src);
    free(w->fbuf);
    free(w->img);
    free(w->tile);
    free(w->srcbuf);
    free(w->shade);
    free(w->shade4);
    free(w->rowx);
    free(w->rowy);
    free(w->rowz);
    free(w->rowok);
    memset(w, 0, sizeof *w);
}

static int worker_init(worker *w, const job *J)
{
    int side = J->S + 2 * J->M;
    size_t npx = (size_t)side * side;
    int rgb = J->mode == CT_TILE_RGB;
    w->src = GDALOpen(J->o->input, GA_ReadOnly);
    w->fbuf = malloc(rgb ? npx * 4 : npx * sizeof(float));
    w->img = malloc((size_t)J->S * J->S * 4);
    w->tile = malloc((size_t)TS * TS * 4);
    w->rowx = malloc(side * sizeof(double));
    w->rowy = malloc(side * sizeof(double));
    w->rowz = malloc(side * sizeof(double));
    w->rowok = malloc(side * sizeof(int));
    w->shade = malloc(side * sizeof(float));
    w->shade4 = malloc((size_t)side * 4 * sizeof(float));
    if (!w->src || !w->fbuf || !w->img || !w->tile || !w->rowx || !w->rowy || !w->rowz || !w->rowok || !w->shade ||
        !w->shade4) {
        snprintf(w->err, sizeof w->err, "%s: cannot open: %s", J->o->input,
                 w->src ? "out of memory" : CPLGetLastErrorMsg());
        return 0;
    }
    GDALDriverH mem = GDALGetDriverByName("MEM");
    w->dst = GDALCreate(mem, "", side, side, 0, rgb ? GDT_Byte : GDT_Float32, NULL);
    for (int b = 0; w->dst && b < (rgb ? 4 : 1); b++) {
        char ptr[64], *opts[2] = {ptr, NULL};
        void *p = rgb ? (void *)((uint8_t *)w->fbuf + npx * b) : (void *)w->fbuf;
        snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", p);
        if (GDALAddBand(w->dst, rgb ? GDT_Byte : GDT_Float32, opts) != CE_None)
            return 0;
    }
    if (!w->dst)
        return 0;
    double res = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << J->maxz));
    double gt[6] = {-CT_MERC_HALF, res, 0, CT_MERC_HALF, 0, -res};
    GDALSetGeoTransform(w->dst, gt);
    GDALSetProjection(w->dst, J->merc_wkt);
    /* The operation itself, not only the CRS: GDAL 3.6 / PROJ 9 read the TOWGS84 of
     * ct_crs_wkt() but, when the WKT also carries AUTHORITY["EPSG","5897"], still pick EPSG's
     * default operation (EPSG:5194, 0.8 m off; tests/unit/test_tile.c shows it). Handing GDAL
     * the pipeline ct_transform built makes it use the official EPSG:6960 parameters. */
    char *src_srs = CPLStrdup(CPLSPrintf("SRC_SRS=%s", J->src_wkt));
    char *op = J->coord_op ? CPLStrdup(CPLSPrintf("COORDINATE_OPERATION=%s", J->coord_op)) : NULL;
    char *topts[] = {src_srs, op, NULL};
    w->gen = GDALCreateGenImgProjTransformer2(w->src, w->dst, topts);
    CPLFree(src_srs);
    CPLFree(op);
    if (!w->gen) {
        snprintf(w->err, sizeof w->err, "%s: cannot transform to EPSG:3857: %s", J->o->input, CPLGetLastErrorMsg());
        return 0;
    }
    w->approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, w->gen, 0.125);
    GDALApproxTransformerOwnsSubtransformer(w->approx, TRUE);
    return 1;
}

/* Warps the block whose north-west base-zoom pixel is (px0, py0) (global pixel coordinates at
 * maxz) into w->fbuf, margin included. */
static int warp_block(worker *w, const job *J, double px0, double py0)
{
    int side = J->S + 2 * J->M, rgb = J->mode == CT_TILE_RGB;
    size_t npx = (size_t)side * side;
    double res = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << J->maxz));
    double gt[6] = {-CT_MERC_HALF + (px0 - J->M) * res, res, 0, CT_MERC_HALF - (py0 - J->M) * res, 0, -res};
    GDALSetGeoTransform(w->dst, gt);
    GDALSetGenImgProjTransformerDstGeoTransform(w->gen, gt);
    if (rgb)
        memset(w->fbuf, 0, npx * 4);
    else
        for (size_t i = 0; i < npx; i++)
            w->fbuf[i] = -FLT_MAX;
    GDALWarpOptions *wo = GDALCreateWarpOptions();
    wo->hSrcDS = w->src;
    wo->hDstDS = w->dst;
    int nb = rgb ? J->nbands_rgb : 1;
    wo->nBandCount = nb;
    wo->panSrcBands = CPLMalloc(sizeof(int) * nb);
    wo->panDstBands = CPLMalloc(sizeof(int) * nb);
    for (int b = 0; b < nb; b++) {
        wo->panSrcBands[b] = rgb ? b + 1 : J->band;
        wo->panDstBands[b] = b + 1;
    }
    if (rgb) {
        wo->nDstAlphaBand = 4;
        if (J->src_alpha)
            wo->nSrcAlphaBand = J->src_alpha;
    }
    if (J->has_nodata) {
        wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * nb);
        for (int b = 0; b < nb; b++)
            wo->padfSrcNoDataReal[b] = J->nodata;
    }
    if (!rgb) {
        wo->padfDstNoDataReal = CPLMalloc(sizeof(double));
        wo->padfDstNoDataReal[0] = -FLT_MAX;
    }
    wo->eResampleAlg = J->ralg;
    wo->eWorkingDataType = rgb ? GDT_Byte : GDT_Float32;
    wo->dfWarpMemoryLimit = 64.0 * 1024 * 1024;
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "NO_DATA");
    if (rgb && J->has_nodata)
        wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "UNIFIED_SRC_NODATA", "YES");
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = w->approx;
    GDALWarpOperationH op = GDALCreateWarpOperation(wo);
    CPLErr e = op ? GDALChunkAndWarpImage(op, 0, 0, side, side) : CE_Failure;
    if (op)
        GDALDestroyWarpOperation(op);
    wo->pTransformerArg = NULL;
    GDALDestroyWarpOptions(wo);
    if (e != CE_None) {
        snprintf(w->err, sizeof w->err, "%s: cannot read: %s", J->o->input, CPLGetLastErrorMsg());
        return 0;
    }
    return 1;
}

/* Resampling of DEM and depth rasters. GDAL's transformer (GenImgProj with the source CRS as
 * ct_crs_wkt(), so with the official VN-2000 TOWGS84, wrapped in its approximating transformer
 * exactly as gdalwarp sets it up) maps every block pixel to a source pixel; the source window is
 * read once with RasterIO (averaged by GDAL when the block is much coarser than the source); the
 * bilinear / cubic / nearest arithmetic is done here. Why not GDALWarp for this step: a source
 * with NoData sends GDAL 3.6 to its general warp kernel, which measured ~20 Mpx/s per core on the
 * benchmark DEM — 55 % of the whole run — while this loop does the same sums (weights renormalised
 * over valid cells, cubic falling back to bilinear next to NoData, as GDAL does) several times
 * faster. RGB rasters still go through GDALWarp (warp_block). */

static inline int valid(float v, const job *J)
{
    return !isnan(v) && !(J->has_nodata && v == (float)J->nodata);
}

static float samp_bilinear(const float *b, int bw, int bh, double u, double v, const job *J)
{
    int i0 = (int)floor(u), j0 = (int)floor(v);
    double fu = u - i0, fv = v - j0, sum = 0, ws = 0;
    for (int dj = 0; dj < 2; dj++) {
        int j = j0 + dj;
        if (j < 0 || j >= bh)
            continue;
        double wy = dj ? fv : 1 - fv;
        for (int di = 0; di < 2; di++) {
            int i = i0 + di;
            if (i < 0 || i >= bw)
                continue;
            float x = b[(size_t)j * bw + i];
            if (!valid(x, J))
                continue;
            double wgt = wy * (di ? fu : 1 - fu);
            sum += wgt * x;
            ws += wgt;
        }
    }
    return ws > 1e-6 ? (float)(sum / ws) : -FLT_MAX;
}

static inline void keys_weights(double t, double w[4])
{
    /* Keys (1981) cubic convolution, a = -0.5, at distances 1+t, t, 1-t, 2-t */
    const double a = -0.5;
    double d[4] = {1 + t, t, 1 - t, 2 - t};
    for (int k = 0; k < 4; k++) {
        double x = d[k];
        w[k] = x <= 1 ? ((a + 2) * x - (a + 3)) * x * x + 1 : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
}

static float samp_cubic(const float *b, int bw, int bh, double u, double v, const job *J)
{
    int i0 = (int)floor(u), j0 = (int)floor(v);
    if (i0 < 1 || j0 < 1 || i0 + 2 >= bw || j0 + 2 >= bh)
        return samp_bilinear(b, bw, bh, u, v, J);
    double wx[4], wy[4], sum = 0;
    keys_weights(u - i0, wx);
    keys_weights(v - j0, wy);
    for (int dj = 0; dj < 4; dj++) {
        const float *r = b + (size_t)(j0 - 1 + dj) * bw + i0 - 1;
        double rs = 0;
        for (int di = 0; di < 4; di++) {
            if (!valid(r[di], J))
                return samp_bilinear(b, bw, bh, u, v, J);
            rs += wx[di] * r[di];
        }
        sum += wy[dj] * rs;
    }
    return (float)sum;
}

/* Sets rows [r0, r1), columns [c0, c1) of a side-wide float block to NoData (-FLT_MAX). */
static void nodata_rows(float *f, int side, int c0, int c1, int r0, int r1)
{
    for (int r = r0; r < r1; r++)
        for (int i = c0; i < c1; i++)
            f[(size_t)r * side + i] = -FLT_MAX;
}

/* win = {x0, y0, x1, y1}: the part of the block (block pixels, end exclusive) whose tiles are in
 * range; only it (and the margin around it) is resampled. */
static int sample_block(worker *w, const job *J, double px0, double py0, const int win[4])
{
    int side = J->S + 2 * J->M;
    const int ax = win[0], ay = win[1], bx = win[2] + 2 * J->M, by = win[3] + 2 * J->M; /* in side coords */
    double res = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << J->maxz));
    double gt[6] = {-CT_MERC_HALF + (px0 - J->M) * res, res, 0, CT_MERC_HALF - (py0 - J->M) * res, 0, -res};
    GDALSetGenImgProjTransformerDstGeoTransform(w->gen, gt);
    /* colour_block reads the window only (margin included), and a cell left -FLT_MAX is NoData:
     * a resampled row is set so just before (while in cache), in place of the whole block */
    /* the source window: the block's outline (33 points a side) transformed to source pixels */
    enum { E = 33 };
    double ex[4 * E], ey[4 * E], ez[4 * E];
    int ok[4 * E], ne = 0;
    for (int k = 0; k < E; k++) {
        double tx = ax + (double)(bx - ax) * k / (E - 1), ty = ay + (double)(by - ay) * k / (E - 1);
        double pts[4][2] = {{tx, ay}, {tx, by}, {ax, ty}, {bx, ty}};
        for (int q = 0; q < 4; q++, ne++) {
            ex[ne] = pts[q][0];
            ey[ne] = pts[q][1];
            ez[ne] = 0;
        }
    }
    GDALGenImgProjTransform(w->gen, TRUE, ne, ex, ey, ez, ok);
    double mnx = HUGE_VAL, mny = HUGE_VAL, mxx = -HUGE_VAL, mxy = -HUGE_VAL;
    for (int i = 0; i < ne; i++)
        if (ok[i]) {
            mnx = fmin(mnx, ex[i]);
            mxx = fmax(mxx, ex[i]);
            mny = fmin(mny, ey[i]);
            mxy = fmax(mxy, ey[i]);
        }
    int W = GDALGetRasterXSize(w->src), H = GDALGetRasterYSize(w->src);
    if (!(mnx < mxx) || mxx < 0 || mxy < 0 || mnx > W || mny > H) {
        nodata_rows(w->fbuf, side, ax, bx, ay, by);
        return 1; /* the block does not reach the raster */
    }

    /* one decimation for the whole run, its grid anchored at the raster's origin: every block
     * then reads the same averaged cells, whatever its window (no seams between blocks) */
    int dec = J->dec, pad = 3 * dec;
    int x0 = (int)fmax(0, floor(mnx) - pad), y0 = (int)fmax(0, floor(mny) - pad);
    x0 -= x0 % dec;
    y0 -= y0 % dec;
    int x1 = (int)fmin(W, ceil(mxx) + pad), y1 = (int)fmin(H, ceil(mxy) + pad);
    if (x1 <= x0 || y1 <= y0) {
        nodata_rows(w->fbuf, side, ax, bx, ay, by);
        return 1;
    }
    int bw = (x1 - x0 + dec - 1) / dec, bh = (y1 - y0 + dec - 1) / dec;
    size_t need = (size_t)bw * bh;
    if (need > w->srccap) {
        free(w->srcbuf);
        w->srcbuf = malloc(need * sizeof(float));
        w->srccap = w->srcbuf ? need : 0;
        if (!w->srcbuf) {
            snprintf(w->err, sizeof w->err, "%s: out of memory", J->o->input);
            return 0;
        }
    }
    GDALRasterIOExtraArg xa;
    INIT_RASTERIO_EXTRA_ARG(xa);
    xa.eResampleAlg = dec > 1 ? GRIORA_Average : GRIORA_NearestNeighbour;
    if (GDALRasterIOEx(GDALGetRasterBand(w->src, J->band), GF_Read, x0, y0, x1 - x0, y1 - y0, w->srcbuf, bw, bh,
                       GDT_Float32, 0, 0, &xa) != CE_None) {
        snprintf(w->err, sizeof w->err, "%s: cannot read cells %d,%d-%d,%d: %s", J->o->input, x0, y0, x1, y1,
                 CPLGetLastErrorMsg());
        return 0;
    }
    double sx = (double)(x1 - x0) / bw, sy = (double)(y1 - y0) / bh;
    const double isx = 1 / sx, isy = 1 / sy;
    const float ndf = J->has_nodata ? (float)J->nodata : NAN; /* x != NaN holds for every x */
    if (J->scale != 1 || J->offset != 0) /* stored values to the band's units; GDAL averaged the stored ones (linear) */
        for (size_t i = 0; i < need; i++) {
            float x = w->srcbuf[i];
            if (x == x && x != ndf)
                w->srcbuf[i] = (float)(x * J->scale + J->offset);
        }
    /* a window without NoData (most of a DEM) is sampled without testing each neighbour: the
     * window is a twentieth of the cells resampled from it at the maximum zoom */
    int allvalid = J->ralg == GRA_Bilinear;
    for (size_t i = 0; allvalid && i < need; i++) {
        float x = w->srcbuf[i];
        allvalid = x == x && x != ndf;
    }
    double *xs = w->rowx, *ys = w->rowy, *zs = w->rowz;
    int *oks = w->rowok;
    for (int r = ay; r < by; r++) {
        nodata_rows(w->fbuf, side, ax, bx, r, r + 1);
        for (int i = 0; i < bx - ax; i++) {
            xs[i] = ax + i + 0.5;
            ys[i] = r + 0.5;
            zs[i] = 0;
        }
        GDALApproxTransform(w->approx, TRUE, bx - ax, xs, ys, zs, oks);
        float *o = w->fbuf + (size_t)r * side + ax;
        if (allvalid) { /* the bilinear case below, less its tests */
            for (int i = 0; i < bx - ax; i++) {
                if (!oks[i] || xs[i] < 0 || ys[i] < 0 || xs[i] > W || ys[i] > H)
                    continue;
                double u = (xs[i] - x0) * isx - 0.5, v = (ys[i] - y0) * isy - 0.5;
                int i0 = (int)(u + 1) - 1, j0 = (int)(v + 1) - 1;
                if (i0 >= 0 && j0 >= 0 && i0 + 1 < bw && j0 + 1 < bh) {
                    const float *p = w->srcbuf + (size_t)j0 * bw + i0;
                    float a = p[0], b = p[1], c = p[bw], d = p[bw + 1];
                    float fu = (float)(u - i0), fv = (float)(v - j0);
                    float top = a + (b - a) * fu, bot = c + (d - c) * fu;
                    o[i] = top + (bot - top) * fv;
                } else
                    o[i] = samp_bilinear(w->srcbuf, bw, bh, u, v, J);
            }
            continue;
        }
        for (int i = 0; i < bx - ax; i++) {
            if (!oks[i] || xs[i] < 0 || ys[i] < 0 || xs[i] > W || ys[i] > H)
                continue;
            double u = (xs[i] - x0) * isx - 0.5, v = (ys[i] - y0) * isy - 0.5;
            switch (J->ralg) {
            case GRA_NearestNeighbour: {
                int iu = (int)floor(u + 0.5), iv = (int)floor(v + 0.5);
                if (iu >= 0 && iv >= 0 && iu < bw && iv < bh) {
                    float x = w->srcbuf[(size_t)iv * bw + iu];
                    if (valid(x, J))
                        o[i] = x;
                }
                break;
            }
            case GRA_Cubic:
                o[i] = samp_cubic(w->srcbuf, bw, bh, u, v, J);
                break;
            default: {
                /* the common case inline: four valid neighbours inside the window
                 * (u, v > -1 here: a cast truncates towards zero, floor without a libm call) */
                int i0 = (int)(u + 1) - 1, j0 = (int)(v + 1) - 1;
                if (i0 >= 0 && j0 >= 0 && i0 + 1 < bw && j0 + 1 < bh) {
                    const float *p = w->srcbuf + (size_t)j0 * bw + i0;
                    float a = p[0], b = p[1], c = p[bw], d = p[bw + 1];
                    if (a == a && b == b && c == c && d == d && a != ndf && b != ndf && c != ndf && d != ndf) {
                        float fu = (float)(u - i0), fv = (float)(v - j0);
                        float top = a + (b - a) * fu, bot = c + (d - c) * fu;
                        o[i] = top + (bot - top) * fv;
                        break;
                    }
                }
                o[i] = samp_bilinear(w->srcbuf, bw, bh, u, v, J);
            }
            }
        }
    }
    return 1;
}

/* The hillshade factor of one row (Horn's 3×3 gradient; a NoData neighbour counts as the centre
 * cell): branch-free and without libm calls, so that the compiler vectorises it (4× here). IEEE
 * + and × are exact roundings and no FMA is contracted in ISO C mode, so vector and scalar code
 * give the same bits. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static void shade_row(const float *restrict r0, const float *restrict r1, const float *restrict r2, int n,
                      const float p[6], float *restrict fct)
{
    const float kf = p[0], lx = p[1], ly = p[2], lz = p[3], hs1 = p[4], hsl = p[5];
    for (int x = 0; x < n; x++) {
        int c = x + 1;
        float v = r1[c];
        float a = r0[c - 1] == -FLT_MAX ? v : r0[c - 1], b = r0[c] == -FLT_MAX ? v : r0[c],
              cc = r0[c + 1] == -FLT_MAX ? v : r0[c + 1], d = r1[c - 1] == -FLT_MAX ? v : r1[c - 1],
              e = r1[c + 1] == -FLT_MAX ? v : r1[c + 1], g = r2[c - 1] == -FLT_MAX ? v : r2[c - 1],
              h = r2[c] == -FLT_MAX ? v : r2[c], i = r2[c + 1] == -FLT_MAX ? v : r2[c + 1];
        float dzdx = ((cc + 2 * e + i) - (a + 2 * d + g)) * kf;
        float dzdy = ((a + 2 * b + cc) - (g + 2 * h + i)) * kf; /* rows go south */
        /* 1/√q for q >= 1: the exponent-halving first guess refined by three Newton steps
         * (relative error < 1e-7, below float rounding of the shade), as plain arithmetic */
        float q = dzdx * dzdx + dzdy * dzdy + 1;
        union { float f; uint32_t u; } y0 = {.f = q};
        y0.u = 0x5f3759dfu - (y0.u >> 1);
        float y = y0.f;
        y = y * (1.5f - 0.5f * q * y * y);
        y = y * (1.5f - 0.5f * q * y * y);
        y = y * (1.5f - 0.5f * q * y * y);
        float shade = (-dzdx * lx - dzdy * ly + lz) * y;
        shade = shade < 0 ? 0 : shade;
        fct[x] = hs1 + hsl * shade; /* flat ground keeps its colour */
    }
}

/* Multiplies each byte of a row by its factor, rounded and capped at 255, in a separate pass
 * from the ramp lookup (which branches) so that the compiler vectorises it; the same float
 * operations per byte as a scalar loop, so the same bits. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static void shade_apply(uint8_t *restrict o, const float *restrict f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = (int)(o[i] * f[i] + 0.5f);
        o[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

/* Colours the warped block into w->img (S × S RGBA). */
static void colour_block(worker *w, const job *J, double py0, const int win[4])
{
    int S = J->S, M = J->M, side = S + 2 * M;
    size_t npx = (size_t)side * side;
    if (J->mode == CT_TILE_RGB) {
        const uint8_t *pl = (const uint8_t *)w->fbuf;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                size_t i = (size_t)y * side + x;
                uint8_t *o = w->img + ((size_t)y * S + x) * 4;
                o[3] = pl[3 * npx + i];
                if (J->nbands_rgb == 1)
                    o[0] = o[1] = o[2] = pl[i];
                else
                    for (int k = 0; k < 3; k++)
                        o[k] = pl[k * npx + i];
                if (!o[3])
                    o[0] = o[1] = o[2] = 0;
            }
        return;
    }
    const ct_tile_style *s = J->style;
    const float *f = w->fbuf;
    double res = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << J->maxz));
    double hs = J->mode == CT_TILE_DEM ? s->hillshade : 0;
    double az = s->azimuth * M_PI / 180, alt = s->altitude * M_PI / 180;
    /* light vector in (east, north, up) */
    double lx = sin(az) * cos(alt), ly = cos(az) * cos(alt), lz = sin(alt);
    if (win[0] > 0 || win[1] > 0 || win[2] < S || win[3] < S)
        memset(w->img, 0, (size_t)S * S * 4);
    for (int y = win[1]; y < win[3]; y++) {
        double my = CT_MERC_HALF - (py0 + y + 0.5) * res, lon, lat;
        ct_merc_to_lonlat(0, my, &lon, &lat);
        double ground = res * cos(lat * M_PI / 180); /* cell size on the ground, metres */
        const float sp[6] = {(float)(s->zfactor / (8 * ground)), (float)lx, (float)ly, (float)lz, (float)(1 - hs),
                             (float)(hs / lz)};
        const float *r0 = f + (size_t)(y + M - (M ? 1 : 0)) * side, *r1 = f + (size_t)(y + M) * side,
                    *r2 = f + (size_t)(y + M + (M ? 1 : 0)) * side;
        uint8_t *o = w->img + ((size_t)y * S + win[0]) * 4;
        int hint = -1, shaded = hs > 0 && M;
        if (shaded)
            shade_row(r0 + win[0], r1 + win[0], r2 + win[0], win[2] - win[0], sp, w->shade);
        float *f4 = w->shade4;
        for (int x = win[0]; x < win[2]; x++, o += 4, f4 += 4) {
            int c = x + M;
            float v = r1[c];
            ct_rgba col = v == -FLT_MAX ? s->nodata : ramp_lut_at(&J->lut, s, v, &hint);
            /* 1 leaves a byte as it is in shade_apply: NoData, transparent cells and alpha */
            float fct = shaded && v != -FLT_MAX && col.a ? w->shade[x - win[0]] : 1.0f;
            if (v != -FLT_MAX && !col.a)
                col.r = col.g = col.b = 0;
            o[0] = col.r;
            o[1] = col.g;
            o[2] = col.b;
            o[3] = col.a;
            f4[0] = f4[1] = f4[2] = fct;
            f4[3] = 1.0f;
        }
        if (shaded)
            shade_apply(w->img + ((size_t)y * S + win[0]) * 4, w->shade4, (size_t)(win[2] - win[0]) * 4);
    }
}

static int res_add(block_res *r, int z, uint32_t x, uint32_t y, uint8_t *data, size_t len)
{
    if (ct_grow(&r->t, &r->cap, r->n + 1, sizeof *r->t))
        return 0;
    r->t[r->n++] = (enc_tile){z, x, y, data, len};
    return 1;
}

static int in_range(const uint32_t r[4], uint32_t x, uint32_t y)
{
    return x >= r[0] && x <= r[2] && y >= r[1] && y <= r[3];
}

/* Renders block (zb, bx, by): all its tiles from maxz up to zb. */
static void render_block(worker *w, const job *J, uint32_t bx, uint32_t by, block_res *res)
{
    int S = J->S;
    double px0 = (double)bx * S, py0 = (double)by * S;
    /* the block's tiles that are in range at the base zoom */
    uint32_t rr[4];
    ct_tile_range(J->merc, J->maxz, rr);
    uint32_t n0 = 1u << (J->maxz - J->zb), tbx = bx << (J->maxz - J->zb), tby = by << (J->maxz - J->zb);
    int win[4] = {(int)((rr[0] > tbx ? rr[0] - tbx : 0) * TS), (int)((rr[1] > tby ? rr[1] - tby : 0) * TS),
                  (int)(((rr[2] < tbx + n0 - 1 ? rr[2] : tbx + n0 - 1) - tbx + 1) * TS),
                  (int)(((rr[3] < tby + n0 - 1 ? rr[3] : tby + n0 - 1) - tby + 1) * TS)};
    if (J->mode == CT_TILE_RGB)
        win[0] = win[1] = 0, win[2] = win[3] = S; /* GDALWarp does the whole block */
    if (!(J->mode == CT_TILE_RGB ? warp_block(w, J, px0, py0) : sample_block(w, J, px0, py0, win))) {
        res->failed = 1;
        snprintf(res->err, sizeof res->err, "%s", w->err);
        return;
    }
    colour_block(w, J, py0, win);
    int side = S;
    for (int z = J->maxz; z >= J->zb; z--) {
        int n = side / TS;
        uint32_t r[4];
        ct_tile_range(J->merc, z, r);
        uint32_t tx0 = bx << (z - J->zb), ty0 = by << (z - J->zb);
        for (int ty = 0; ty < n; ty++)
            for (int tx = 0; tx < n; tx++) {
                uint32_t x = tx0 + tx, y = ty0 + ty;
                if (!in_range(r, x, y))
                    continue;
                for (int row = 0; row < TS; row++)
                    memcpy(w->tile + (size_t)row * TS * 4, w->img + ((size_t)(ty * TS + row) * side + tx * TS) * 4,
                           TS * 4);
                if (rgba_empty(w->tile, (size_t)TS * TS)) {
                    res->empty++;
                    continue;
                }
                if (z == J->zb && z > J->minz) {
                    res->top = malloc((size_t)TS * TS * 4);
                    if (res->top)
                        memcpy(res->top, w->tile, (size_t)TS * TS * 4);
                }
                size_t len = 0;
                uint8_t *data = encode_tile(w->tile, J->o->format, J->quality, J->level, &len);
                if (!data || !res_add(res, z, x, y, data, len)) {
                    free(data);
                    res->failed = 1;
                    snprintf(res->err, sizeof res->err, "tile %d/%u/%u: cannot encode (out of memory)", z, x, y);
                    return;
                }
            }
        if (z > J->zb) {
            downsample(w->img, side, side, w->img); /* in place: output rows trail input rows */
            side /= 2;
        }
    }
}

/* The levels above the block zoom, built from the blocks' top tiles in Morton order with one
 * pending parent per zoom. */
typedef struct pending {
    int active;
    uint32_t x, y;
    uint8_t *child[4];
} pending;

typedef struct upper {
    ct_ctx *ctx;
    const job *J;
    sink *s;
    pending p[32];
    uint64_t written, empty;
    ct_status st;
} upper;

static void up_feed(upper *u, int z, uint32_t x, uint32_t y, uint8_t *img);

static void up_flush(upper *u, int pz)
{
    pending *p = &u->p[pz];
    uint8_t *img = compose_parent(p->child);
    for (int k = 0; k < 4; k++) {
        free(p->child[k]);
        p->child[k] = NULL;
    }
    p->active = 0;
    if (img && u->st == CT_OK) {
        size_t len = 0;
        uint8_t *data = encode_tile(img, u->J->o->format, u->J->quality, u->J->level, &len);
        if (!data)
            u->st = ct_error(u->ctx, CT_ERR_NOMEM, "tile %d/%u/%u: cannot encode (out of memory)", pz, p->x, p->y);
        else
            u->st = sink_put(u->ctx, u->s, pz, p->x, p->y, data, len);
        free(data);
        u->written++;
    } else if (!img)
        u->empty++;
    up_feed(u, pz, p->x, p->y, img);
}

static void up_feed(upper *u, int z, uint32_t x, uint32_t y, uint8_t *img)
{
    if (z <= u->J->minz) {
        free(img);
        return;
    }
    int pz = z - 1;
    pending *p = &u->p[pz];
    if (p->active && (p->x != x >> 1 || p->y != y >> 1))
        up_flush(u, pz);
    if (!p->active) {
        p->active = 1;
        p->x = x >> 1;
        p->y = y >> 1;
    }
    p->child[(y & 1) * 2 + (x & 1)] = img;
}

static uint64_t morton(uint32_t x, uint32_t y)
{
    uint64_t m = 0;
    for (int i = 0; i < 32; i++)
        m |= (uint64_t)((x >> i) & 1) << (2 * i) | (uint64_t)((y >> i) & 1) << (2 * i + 1);
    return m;
}

typedef struct bkey {
    uint64_t m;
    uint32_t x, y;
} bkey;

static int cmp_bkey(const void *a, const void *b)
{
    const bkey *p = a, *q = b;
    return p->m < q->m ? -1 : p->m > q->m;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *sink_name(ct_tile_sink_kind k)
{
    return k == CT_SINK_MBTILES ? "mbtiles" : k == CT_SINK_PMTILES ? "pmtiles" : "dir";
}

static int ends_with(const char *s, const char *sfx)
{
    size_t a = strlen(s), b = strlen(sfx);
    return a >= b && !strcasecmp(s + a - b, sfx);
}

/* The sink a path names: kind when given, else by its extension (a folder otherwise). */
static ct_tile_sink_kind sink_kind_of(const char *path, ct_tile_sink_kind kind)
{
    return kind                            ? kind
           : ends_with(path, ".mbtiles") ? CT_SINK_MBTILES
           : ends_with(path, ".pmtiles") ? CT_SINK_PMTILES
                                           : CT_SINK_DIR;
}

json_object *ct_tile_summary_json(const ct_tile_summary *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "sink", json_object_new_string(s->sink ? s->sink : ""));
    json_object_object_add(o, "format", json_object_new_string(s->format ? s->format : ""));
    json_object_object_add(o, "minzoom", json_object_new_int(s->minzoom));
    json_object_object_add(o, "maxzoom", json_object_new_int(s->maxzoom));
    json_object *b = json_object_new_array();
    for (int i = 0; i < 4; i++)
        json_object_array_add(b, json_object_new_double(s->bounds[i]));
    json_object_object_add(o, "bounds", b);
    json_object_object_add(o, "tiles_in_range", json_object_new_int64((int64_t)s->tiles_in_range));
    json_object_object_add(o, "tiles_written", json_object_new_int64((int64_t)s->tiles_written));
    json_object_object_add(o, "tiles_empty", json_object_new_int64((int64_t)s->tiles_empty));
    json_object_object_add(o, "tiles_unique", json_object_new_int64((int64_t)s->tiles_unique));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s->bytes));
    json_object_object_add(o, "seconds", json_object_new_double(s->seconds));
    json_object_object_add(o, "tiles_per_second",
                           json_object_new_double(s->seconds > 0 ? (s->tiles_written + s->tiles_empty) / s->seconds : 0));
    json_object_object_add(o, "threads", json_object_new_int(s->threads));
    if (s->features) { /* vector input */
        json_object_object_add(o, "features", json_object_new_int64((int64_t)s->features));
        json_object_object_add(o, "features_dropped", json_object_new_int64((int64_t)s->features_dropped));
    }
    if (s->sdi_version >= 0)
        json_object_object_add(o, "sdi_version", json_object_new_int64(s->sdi_version));
    if (s->since >= 0) { /* an incremental run */
        json_object_object_add(o, "since", json_object_new_int64(s->since));
        json_object_object_add(o, "tiles_kept", json_object_new_int64((int64_t)s->tiles_kept));
        json_object_object_add(o, "tiles_made", json_object_new_int64((int64_t)(s->tiles_written - s->tiles_kept)));
        json_object_object_add(o, "tiles_patched", json_object_new_int64((int64_t)s->tiles_patched));
    }
    return o;
}

static void format_count(uint64_t n, char *buf, size_t len)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    size_t l = strlen(tmp), k = 0;
    for (size_t i = 0; i < l && k + 2 < len; i++) {
        if (i && (l - i) % 3 == 0)
            buf[k++] = ' ';
        buf[k++] = tmp[i];
    }
    buf[k] = '\0';
}

/* ======================================================================================== */
/* Vector tiles (MVT 2.1)                                                                   */

/* A growable byte buffer with the protobuf primitives. */
typedef struct pbuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} pbuf;

static void pb_reserve(pbuf *b, size_t more)
{
    if (b->n + more > b->cap && ct_grow(&b->p, &b->cap, b->n + more, 1))
        b->oom = 1;
}

static void pb_varint(pbuf *b, uint64_t v)
{
    pb_reserve(b, 10);
    if (b->oom)
        return;
    b->n += put_varint(b->p + b->n, v);
}

static void pb_bytes(pbuf *b, const void *d, size_t n)
{
    pb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void pb_tag(pbuf *b, int field, int wire) { pb_varint(b, (uint64_t)(field << 3 | wire)); }

static void pb_ld(pbuf *b, int field, const void *d, size_t n)
{
    pb_tag(b, field, 2);
    pb_varint(b, n);
    pb_bytes(b, d, n);
}

static uint32_t zigzag(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }

/* One attribute value of a feature. */
typedef struct vval {
    int type; /* 0 null, 1 string, 2 integer, 3 double */
    char *s;
    long long i;
    double d;
} vval;

typedef struct vfeat {
    GEOSGeometry *g; /* EPSG:3857 */
    double b[4];
    long long fid;
    int layer;
    int near; /* with vsrc.pick: its box in the source's CRS meets one of them */
    vval *v;
} vfeat;

typedef struct vlayer {
    char *name;
    int nf;
    char **fname;
    ct_field_type *ftype;
    unsigned char *keep; /* written to MVT */
} vlayer;

typedef struct vdata {
    vlayer *L;
    int nl;
    vfeat *F;
    size_t nf, capf;
} vdata;

/* Frees feature f of d: its geometry and values. */
static void vfeat_free(GEOSContextHandle_t h, const vdata *d, vfeat *f)
{
    GEOSGeom_destroy_r(h, f->g);
    for (int k = 0; f->v && k < d->L[f->layer].nf; k++)
        free(f->v[k].s);
    free(f->v);
}

static void vdata_free(ct_ctx *ctx, vdata *d)
{
    for (size_t i = 0; i < d->nf; i++)
        vfeat_free(ct_geos(ctx), d, &d->F[i]);
    for (int l = 0; l < d->nl; l++) {
        for (int k = 0; k < d->L[l].nf; k++)
            free(d->L[l].fname[k]);
        free(d->L[l].fname);
        free(d->L[l].ftype);
        free(d->L[l].keep);
        free(d->L[l].name);
    }
    free(d->L);
    free(d->F);
}

/* Reusable coordinate arrays of xf_geom, and its memo of transformed points. */
typedef struct xf_memo {
    uint64_t x, y; /* the source point's bits */
    double tx, ty;
} xf_memo;

enum { XF_MEMO = 1 << 15 };

typedef struct xf_buf {
    double *x, *y, *z, *mx, *my;
    unsigned *mi;
    size_t cap;
    xf_memo *memo;
} xf_buf;

static void xf_buf_free(xf_buf *b)
{
    free(b->x);
    free(b->y);
    free(b->z);
    free(b->mx);
    free(b->my);
    free(b->mi);
    free(b->memo);
}

static xf_memo *xf_slot(xf_buf *b, double x, double y, uint64_t *bx, uint64_t *by)
{
    memcpy(bx, &x, 8);
    memcpy(by, &y, 8);
    uint64_t h = (*bx * 0x9E3779B97F4A7C15ull) ^ (*by * 0xC2B2AE3D27D4EB4Full);
    return &b->memo[(h ^ (h >> 29)) & (XF_MEMO - 1)];
}

/* cs transformed. Most vertices of a parcel layer are shared by two to four parcels read close
 * together, so a small memo of the points last transformed, looked up by their exact bits,
 * saves PROJ (the same point always gives the same result) half its work or more. */
static GEOSCoordSequence *xf_seq(GEOSContextHandle_t h, ct_ctx *ctx, ct_transform *t, const GEOSCoordSequence *cs,
                                 xf_buf *b)
{
    unsigned n = 0, dim = 2, nm = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || !GEOSCoordSeq_getDimensions_r(h, cs, &dim))
        return NULL;
    if (!b->memo) {
        if (!(b->memo = malloc(XF_MEMO * sizeof *b->memo)))
            return NULL;
        for (unsigned i = 0; i < XF_MEMO; i++) /* no double has these bits (a NaN): no false hit */
            b->memo[i] = (xf_memo){UINT64_MAX, UINT64_MAX, 0, 0};
    }
    if (n > b->cap) { /* six arrays of one capacity */
        size_t nc = ct_grow_cap(b->cap, n);
        double **arr[] = {&b->x, &b->y, &b->z, &b->mx, &b->my};
        for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
            if (ct_resize(arr[i], nc, sizeof(double)))
                return NULL;
        if (ct_resize(&b->mi, nc, sizeof *b->mi))
            return NULL;
        b->cap = nc;
    }
    double *z = dim > 2 ? b->z : NULL;
    if (!GEOSCoordSeq_copyToArrays_r(h, cs, b->x, b->y, z, NULL))
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        uint64_t bx, by;
        const xf_memo *m = xf_slot(b, b->x[i], b->y[i], &bx, &by);
        if (m->x == bx && m->y == by) {
            b->x[i] = m->tx;
            b->y[i] = m->ty;
        } else {
            b->mx[nm] = b->x[i];
            b->my[nm] = b->y[i];
            b->mi[nm++] = i;
        }
    }
    if (nm) {
        if (ct_transform_points(ctx, t, nm, b->mx, b->my, NULL) != CT_OK)
            return NULL;
        for (unsigned k = 0; k < nm; k++) {
            unsigned i = b->mi[k];
            uint64_t bx, by;
            xf_memo *m = xf_slot(b, b->x[i], b->y[i], &bx, &by);
            *m = (xf_memo){bx, by, b->mx[k], b->my[k]};
            b->x[i] = b->mx[k];
            b->y[i] = b->my[k];
        }
    }
    return GEOSCoordSeq_copyFromArrays_r(h, b->x, b->y, z, NULL, n);
}

/* g with its x and y transformed by t, a coordinate sequence at a time: one PROJ call per
 * sequence instead of GEOSGeom_transformXY_r's callback per point, which cost a third of
 * reading a layer. @return a new geometry, NULL when a point cannot be transformed (the error
 * is on ctx) or out of memory. */
static GEOSGeometry *xf_geom(GEOSContextHandle_t h, ct_ctx *ctx, ct_transform *t, const GEOSGeometry *g, xf_buf *b)
{
    int type = GEOSGeomTypeId_r(h, g);
    GEOSGeometry *r = NULL;
    if (GEOSisEmpty_r(h, g))
        return GEOSGeom_clone_r(h, g);
    if (type == GEOS_POINT || type == GEOS_LINESTRING || type == GEOS_LINEARRING) {
        GEOSCoordSequence *cs = xf_seq(h, ctx, t, GEOSGeom_getCoordSeq_r(h, g), b);
        if (cs && !(r = type == GEOS_POINT        ? GEOSGeom_createPoint_r(h, cs)
                        : type == GEOS_LINESTRING ? GEOSGeom_createLineString_r(h, cs)
                                                  : GEOSGeom_createLinearRing_r(h, cs)))
            GEOSCoordSeq_destroy_r(h, cs);
        return r;
    }
    int n = type == GEOS_POLYGON ? GEOSGetNumInteriorRings_r(h, g) : GEOSGetNumGeometries_r(h, g), k = 0;
    GEOSGeometry *shell = type == GEOS_POLYGON ? xf_geom(h, ctx, t, GEOSGetExteriorRing_r(h, g), b) : NULL;
    GEOSGeometry **parts = n >= 0 && (shell || type != GEOS_POLYGON) ? calloc((size_t)n + 1, sizeof *parts) : NULL;
    while (parts && k < n && (parts[k] = xf_geom(h, ctx, t, type == GEOS_POLYGON ? GEOSGetInteriorRingN_r(h, g, k)
                                                                                 : GEOSGetGeometryN_r(h, g, k), b)))
        k++;
    if (parts && k == n)
        r = type == GEOS_POLYGON ? GEOSGeom_createPolygon_r(h, shell, parts, (unsigned)n)
                                 : GEOSGeom_createCollection_r(h, type, parts, (unsigned)n);
    if (!r) {
        for (int i = 0; i < k; i++)
            GEOSGeom_destroy_r(h, parts[i]);
        if (shell)
            GEOSGeom_destroy_r(h, shell);
    }
    free(parts);
    return r;
}

/* Reads every layer of a vector dataset into memory, in EPSG:3857. */
/* Whether field name is kept in vector tiles: named in fields, or (no list) not personal data. */
static int keep_field(const char *name, const char *const *fields, int nfields)
{
    if (fields) {
        for (int i = 0; i < nfields; i++)
            if (!strcasecmp(fields[i], name))
                return 1;
        return 0;
    }
    return !ct_sdi_field_personal(name);
}

/* What vread reads: a dataset (path) named `name` in messages; for an SDI layer (sdi set) only
 * its natural key and schema columns are attributes, restricted ones never unless named, and the
 * features are put in fid order so that a partial read gives a tile the bytes a full one does. */
typedef struct vsrc {
    const char *path, *name;
    const char *const *fields;
    int nfields;
    const ct_sdi *sdi;
    const char *sdi_layer;
    int allow_empty; /* incremental runs: an area without features is no error */
    const double (*pick)[4]; /* boxes in the source's CRS: features meeting one are marked near */
    size_t npick;
} vsrc;

static int keep_sdi_field(const vsrc *v, const char *name)
{
    if (v->fields)
        return keep_field(name, v->fields, v->nfields);
    if (ct_sdi_field_personal(name) || ct_sdi_field_restricted(v->sdi, v->sdi_layer, name))
        return 0;
    if (!strcmp(name, "fkey"))
        return 1;
    const ct_sdi_layer_def *def = ct_sdi_layer_schema((ct_sdi_layer)ct_sdi_layer_by_name(v->sdi_layer));
    for (int c = 0; def && c < def->ncolumns; c++)
        if (!strcmp(def->columns[c].name, name))
            return 1;
    return 0; /* the SDI's bookkeeping: versions, digest, source file */
}

static int cmp_vfeat(const void *a, const void *b)
{
    const vfeat *p = a, *q = b;
    if (p->layer != q->layer)
        return p->layer < q->layer ? -1 : 1;
    return p->fid < q->fid ? -1 : p->fid > q->fid;
}

/* Whether two boxes (min x, min y, max x, max y) meet, edges included: OGR's spatial filter. */
static int box_meets(const double a[4], const double b[4])
{
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static ct_status vread(ct_ctx *ctx, const vsrc *vs, vdata *d, double merc[4], double ll[4], uint64_t *nfeat)
{
    const char *path = vs->name;
    const char *const *fields = vs->fields;
    int nfields = vs->nfields;
    ct_vsource *src = NULL;
    ct_crs *merc_crs = NULL;
    ct_status st;
    xf_buf xb = {0};
    GEOSContextHandle_t gh = ct_geos(ctx);
    merc[0] = merc[1] = HUGE_VAL;
    merc[2] = merc[3] = -HUGE_VAL;
    if ((st = ct_vsource_open(ctx, vs->path, &src)) || (st = ct_crs_from_user(ctx, "EPSG:3857", &merc_crs)))
        goto out;
    int nl = ct_vsource_layer_count(src);
    d->L = calloc((size_t)(nl ? nl : 1), sizeof *d->L);
    if (!d->L) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (int li = 0; li < nl; li++) {
        ct_layer *l = ct_vsource_layer(src, li);
        const ct_crs *crs = ct_layer_crs(l);
        if (!crs) {
            st = ct_error(ctx, CT_ERR_CRS, "%s: layer %s has no CRS: cannot place it on a map", path, ct_layer_name(l));
            goto out;
        }
        ct_transform *t = NULL;
        if ((st = ct_transform_new(ctx, crs, merc_crs, &t)))
            goto out;
        /* the SDI holds UTF-8 (ct-ingest decodes every source): no need to read features twice */
        ct_layer_set_encoding(l, vs->sdi ? CT_ENC_UTF8 : ct_layer_detect_encoding(ctx, l, 2000, NULL));
        vlayer *L = &d->L[d->nl++];
        L->name = strdup(ct_layer_name(l));
        L->nf = ct_layer_field_count(l);
        L->fname = calloc((size_t)L->nf + 1, sizeof *L->fname);
        L->ftype = calloc((size_t)L->nf + 1, sizeof *L->ftype);
        L->keep = calloc((size_t)L->nf + 1, 1);
        if (!L->fname || !L->ftype || !L->keep) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
        for (int k = 0; k < L->nf; k++) {
            const char *raw = ct_layer_field_name(l, k);
            char *u = NULL;
            if (ct_text_decode(ctx, ct_layer_encoding(l), raw, strlen(raw), &u) != CT_OK) {
                ct_ctx_clear_error(ctx);
                u = strdup(raw);
            }
            L->fname[k] = u;
            L->ftype[k] = ct_layer_field_type(l, k);
            L->keep[k] = u && (vs->sdi ? keep_sdi_field(vs, u) : keep_field(u, fields, nfields));
        }
        ct_layer_rewind(l);
        ct_feature *f;
        while ((st = ct_layer_next(ctx, l, &f)) == CT_OK && f) {
            const GEOSGeometry *g = ct_feature_geom(ctx, f);
            if (!g)
                continue;
            int near = 0;
            if (vs->pick) {
                double sb[4];
                GEOSGeom_getExtent_r(gh, g, &sb[0], &sb[1], &sb[2], &sb[3]);
                for (size_t i = 0; !near && i < vs->npick; i++)
                    near = box_meets(sb, vs->pick[i]);
            }
            GEOSGeometry *mg = xf_geom(gh, ctx, t, g, &xb);
            if (!mg) {
                ct_transform_free(t);
                st = ct_error(ctx, CT_ERR_CRS, "%s: layer %s feature %lld: cannot transform to EPSG:3857", path,
                              L->name, ct_feature_fid(f));
                goto out;
            }
            if (ct_grow(&d->F, &d->capf, d->nf + 1, sizeof *d->F)) {
                GEOSGeom_destroy_r(gh, mg);
                ct_transform_free(t);
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            vfeat *vf = &d->F[d->nf++];
            memset(vf, 0, sizeof *vf);
            vf->g = mg;
            vf->near = near;
            vf->fid = ct_feature_fid(f);
            vf->layer = d->nl - 1;
            GEOSGeom_getExtent_r(gh, mg, &vf->b[0], &vf->b[1], &vf->b[2], &vf->b[3]);
            merc[0] = fmin(merc[0], vf->b[0]);
            merc[1] = fmin(merc[1], vf->b[1]);
            merc[2] = fmax(merc[2], vf->b[2]);
            merc[3] = fmax(merc[3], vf->b[3]);
            vf->v = calloc((size_t)L->nf + 1, sizeof *vf->v);
            for (int k = 0; vf->v && k < L->nf; k++) {
                if (ct_feature_is_null(f, k))
                    continue;
                if (L->ftype[k] == CT_FIELD_INT) {
                    vf->v[k].type = 2;
                    vf->v[k].i = ct_feature_int(f, k);
                } else if (L->ftype[k] == CT_FIELD_REAL) {
                    vf->v[k].type = 3;
                    vf->v[k].d = ct_feature_double(f, k);
                } else if (ct_feature_text(ctx, f, k, &vf->v[k].s) == CT_OK)
                    vf->v[k].type = 1;
                else
                    ct_ctx_clear_error(ctx);
            }
            (*nfeat)++;
        }
        ct_transform_free(t);
        if (st)
            goto out;
    }
    if (!d->nf && !vs->allow_empty) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no features with a geometry", path);
        goto out;
    }
    if (vs->sdi) {
        qsort(d->F, d->nf, sizeof *d->F, cmp_vfeat);
        size_t k = 0; /* a feature read through two regions of an incremental run: once */
        for (size_t i = 0; i < d->nf; i++) {
            if (k && d->F[i].layer == d->F[k - 1].layer && d->F[i].fid == d->F[k - 1].fid) {
                vfeat_free(gh, d, &d->F[i]);
                (*nfeat)--;
                continue;
            }
            d->F[k++] = d->F[i];
        }
        d->nf = k;
    }
    ct_merc_to_lonlat(merc[0], merc[1], &ll[0], &ll[1]);
    ct_merc_to_lonlat(merc[2], merc[3], &ll[2], &ll[3]);
out:
    xf_buf_free(&xb);
    ct_crs_free(merc_crs);
    ct_vsource_close(src);
    return st;
}

/* Tile-coordinate geometry encoding. */
typedef struct ipt {
    int32_t x, y;
} ipt;

typedef struct genc {
    pbuf cmd;
    ipt cur; /* the cursor of the MVT command stream */
    ipt *tmp;
    size_t tmpcap;
    double b[4], scale;
} genc;

/* Quantises a coordinate sequence onto the tile grid, without repeats (and, for rings,
 * without exactly collinear vertices and the closing vertex). @return the vertex count. */
static size_t quantise(GEOSContextHandle_t h, genc *e, const GEOSCoordSequence *cs, int ring)
{
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h, cs, &n);
    if (ct_grow(&e->tmp, &e->tmpcap, n, sizeof *e->tmp))
        return 0;
    size_t k = 0;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
        ipt p = {(int32_t)lrint((x - e->b[0]) * e->scale), (int32_t)lrint((e->b[3] - y) * e->scale)};
        if (k && p.x == e->tmp[k - 1].x && p.y == e->tmp[k - 1].y)
            continue;
        e->tmp[k++] = p;
    }
    if (!ring)
        return k;
    if (k > 1 && e->tmp[0].x == e->tmp[k - 1].x && e->tmp[0].y == e->tmp[k - 1].y)
        k--;
    /* drop exactly collinear vertices (cyclically), until none is left */
    for (int changed = 1; changed && k >= 3;) {
        changed = 0;
        size_t m = 0;
        for (size_t i = 0; i < k; i++) {
            ipt a = m ? e->tmp[m - 1] : e->tmp[k - 1], p = e->tmp[i], c = e->tmp[(i + 1) % k];
            long long cross = (long long)(p.x - a.x) * (c.y - a.y) - (long long)(p.y - a.y) * (c.x - a.x);
            if (cross == 0) {
                changed = 1;
                continue;
            }
            e->tmp[m++] = p;
        }
        k = m;
    }
    return k >= 3 ? k : 0;
}

static void cmd_points(genc *e, const ipt *p, size_t n, int closed)
{
    pb_varint(&e->cmd, 1 | (1u << 3)); /* MoveTo 1 */
    pb_varint(&e->cmd, zigzag(p[0].x - e->cur.x));
    pb_varint(&e->cmd, zigzag(p[0].y - e->cur.y));
    e->cur = p[0];
    if (n > 1) {
        pb_varint(&e->cmd, 2 | (uint32_t)((n - 1) << 3)); /* LineTo n-1 */
        for (size_t i = 1; i < n; i++) {
            pb_varint(&e->cmd, zigzag(p[i].x - e->cur.x));
            pb_varint(&e->cmd, zigzag(p[i].y - e->cur.y));
            e->cur = p[i];
        }
    }
    if (closed)
        pb_varint(&e->cmd, 7 | (1u << 3)); /* ClosePath */
}

/* Encodes a (clipped) geometry; *type gets the MVT type. @return 1 when something was written. */
static int encode_geom(GEOSContextHandle_t h, genc *e, const GEOSGeometry *g, int *type)
{
    int t = GEOSGeomTypeId_r(h, g), wrote = 0;
    switch (t) {
    case GEOS_POINT:
    case GEOS_MULTIPOINT: {
        if (*type && *type != 1)
            return 0;
        int n = t == GEOS_POINT ? 1 : GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *p = t == GEOS_POINT ? g : GEOSGetGeometryN_r(h, g, i);
            if (GEOSisEmpty_r(h, p))
                continue;
            size_t k = quantise(h, e, GEOSGeom_getCoordSeq_r(h, p), 0);
            if (k) {
                cmd_points(e, e->tmp, 1, 0);
                wrote = 1;
            }
        }
        if (wrote)
            *type = 1;
        return wrote;
    }
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
    case GEOS_MULTILINESTRING: {
        if (*type && *type != 2)
            return 0;
        int n = t == GEOS_MULTILINESTRING ? GEOSGetNumGeometries_r(h, g) : 1;
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *l = t == GEOS_MULTILINESTRING ? GEOSGetGeometryN_r(h, g, i) : g;
            size_t k = quantise(h, e, GEOSGeom_getCoordSeq_r(h, l), 0);
            if (k >= 2) {
                cmd_points(e, e->tmp, k, 0);
                wrote = 1;
            }
        }
        if (wrote)
            *type = 2;
        return wrote;
    }
    case GEOS_POLYGON:
    case GEOS_MULTIPOLYGON: {
        if (*type && *type != 3)
            return 0;
        int n = t == GEOS_MULTIPOLYGON ? GEOSGetNumGeometries_r(h, g) : 1;
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *pg = t == GEOS_MULTIPOLYGON ? GEOSGetGeometryN_r(h, g, i) : g;
            if (GEOSisEmpty_r(h, pg))
                continue;
            int nr = GEOSGetNumInteriorRings_r(h, pg);
            for (int r = -1; r < nr; r++) {
                const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, pg) : GEOSGetInteriorRingN_r(h, pg, r);
                size_t k = quantise(h, e, GEOSGeom_getCoordSeq_r(h, ring), 1);
                if (!k) {
                    if (r < 0)
                        break; /* the exterior collapsed: the polygon is left out */
                    continue;
                }
                /* MVT: exterior rings have positive area in tile coordinates (y down) */
                long long a2 = 0;
                for (size_t j = 0; j < k; j++) {
                    ipt p = e->tmp[j], q = e->tmp[(j + 1) % k];
                    a2 += (long long)p.x * q.y - (long long)q.x * p.y;
                }
                if ((r < 0) != (a2 > 0))
                    for (size_t j = 0; j < k / 2; j++) {
                        ipt tmp = e->tmp[j];
                        e->tmp[j] = e->tmp[k - 1 - j];
                        e->tmp[k - 1 - j] = tmp;
                    }
                cmd_points(e, e->tmp, k, 1);
                wrote = 1;
            }
        }
        if (wrote)
            *type = 3;
        return wrote;
    }
    case GEOS_GEOMETRYCOLLECTION: {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            wrote |= encode_geom(h, e, GEOSGetGeometryN_r(h, g, i), type);
        return wrote;
    }
    }
    return 0;
}

/* Keys and values of one layer of one tile, each stored once. */
struct kv_slot {
    uint64_t h;
    int idx;
};

typedef struct kv_table {
    pbuf keys, vals;      /* encoded Layer.keys / Layer.values entries */
    int nkeys, nvals;
    int *keyidx;          /* field → key index, -1 when not yet used */
    struct kv_slot *vh;
    size_t vcap;
    pbuf fb, tags;        /* feat_put's buffers, reused from feature to feature */
} kv_table;

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Appends v encoded as an MVT Value message (without its length) to one. */
static void vval_bytes(pbuf *one, const vval *v)
{
    if (v->type == 1)
        pb_ld(one, 1, v->s, strlen(v->s));
    else if (v->type == 2) {
        pb_tag(one, 4, 0);
        pb_varint(one, (uint64_t)v->i);
    } else {
        pb_tag(one, 3, 1);
        uint8_t d[8];
        uint64_t u;
        memcpy(&u, &v->d, 8);
        for (int i = 0; i < 8; i++)
            d[i] = (uint8_t)(u >> (8 * i));
        pb_bytes(one, d, 8);
    }
}

/* The index of the encoded value v[0..n) in the layer's table (added when new): tiles made
 * from features and tiles patched from an old tile's values (mvt_patch) share it. */
static int kv_intern(kv_table *t, const uint8_t *v, size_t n)
{
    uint64_t h = hash_bytes(v, n, 7) | 1;
    if ((size_t)t->nvals * 2 >= t->vcap) {
        size_t nc = t->vcap ? t->vcap * 2 : 256;
        struct kv_slot *nv = calloc(nc, sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < t->vcap; i++)
            if (t->vh[i].h) {
                size_t j = t->vh[i].h & (nc - 1);
                while (nv[j].h)
                    j = (j + 1) & (nc - 1);
                nv[j] = t->vh[i];
            }
        free(t->vh);
        t->vh = nv;
        t->vcap = nc;
    }
    /* 64-bit hash of the encoded value; a collision would merge two values: with at most
     * 200 000 values per layer the chance is below 1e-9 */
    size_t j = h & (t->vcap - 1);
    while (t->vh[j].h && t->vh[j].h != h)
        j = (j + 1) & (t->vcap - 1);
    if (!t->vh[j].h) {
        t->vh[j].h = h;
        t->vh[j].idx = t->nvals++;
        pb_ld(&t->vals, 4, v, n);
    }
    return t->vh[j].idx;
}

/* ---- Simplification per zoom that keeps shared edges shared ----
 * GEOS 3.11 has no coverage simplifier (GEOSCoverageSimplifyVW came with 3.12) and its
 * TopologyPreservingSimplify works on one geometry at a time, so two neighbours simplify their
 * common edge differently. Here every polygon ring is cut at its nodes — the vertices where the
 * set of rings that share a vertex changes (found by a hash of the (fid, ring) ids per vertex,
 * so it does not depend on which features a partial read holds) — and each chain between two
 * nodes is simplified by Douglas–Peucker in one canonical direction: both sides of a shared edge
 * hold the same chain and keep the same vertices. A ring without nodes is cut at its smallest
 * vertex and the vertex farthest from it. A feature that comes out invalid or collapsed has its
 * vertices pinned and the zoom is simplified again, so that its neighbours keep them too. */

typedef struct vkey {
    double x, y;
    uint64_t sig;
    int used, pinned;
} vkey;

typedef struct vmap {
    vkey *k;
    size_t cap, n;
} vmap;

static uint64_t mix64(uint64_t v)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    v *= 0xc4ceb9fe1a85ec53ull;
    return v ^ (v >> 33);
}

static vkey *vmap_get(vmap *m, double x, double y, int add)
{
    if (add && m->n * 2 >= m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 65536;
        vkey *nk = calloc(nc, sizeof *nk);
        if (!nk)
            return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->k[i].used) {
                uint64_t bx, by;
                memcpy(&bx, &m->k[i].x, 8);
                memcpy(&by, &m->k[i].y, 8);
                size_t j = mix64(bx ^ mix64(by)) & (nc - 1);
                while (nk[j].used)
                    j = (j + 1) & (nc - 1);
                nk[j] = m->k[i];
            }
        free(m->k);
        m->k = nk;
        m->cap = nc;
    }
    if (!m->cap)
        return NULL;
    uint64_t bx, by;
    memcpy(&bx, &x, 8);
    memcpy(&by, &y, 8);
    size_t j = mix64(bx ^ mix64(by)) & (m->cap - 1);
    while (m->k[j].used && !(m->k[j].x == x && m->k[j].y == y))
        j = (j + 1) & (m->cap - 1);
    if (!m->k[j].used) {
        if (!add)
            return NULL;
        m->k[j] = (vkey){x, y, 0, 1, 0};
        m->n++;
    }
    return &m->k[j];
}

static int polygonal(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    return t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON;
}

/* Calls fn on every ring of polygonal g: ring number (exterior first, per polygon). */
typedef int (*ring_fn)(void *user, const GEOSGeometry *ring, uint64_t rid);

static int each_ring(GEOSContextHandle_t h, const GEOSGeometry *g, uint64_t base, ring_fn fn, void *user)
{
    int np = GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
    uint64_t r = 0;
    for (int p = 0; p < np; p++) {
        const GEOSGeometry *pg = np == 1 && GEOSGeomTypeId_r(h, g) == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, p);
        int nh = GEOSGetNumInteriorRings_r(h, pg);
        for (int k = -1; k < nh; k++)
            if (!fn(user, k < 0 ? GEOSGetExteriorRing_r(h, pg) : GEOSGetInteriorRingN_r(h, pg, k), mix64(base + r++)))
                return 0;
    }
    return 1;
}

typedef struct simp_ctx {
    GEOSContextHandle_t h;
    vmap *m;      /* shared; written only between the parallel passes */
    double tol;
    double *xy;   /* one ring's vertices */
    unsigned char *keep;
    size_t cap;
    int mode;     /* 0: count, 1: pin */
    int oom;
} simp_ctx;

static int ring_load(simp_ctx *c, const GEOSGeometry *ring, size_t *n)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(c->h, ring);
    unsigned int m = 0;
    GEOSCoordSeq_getSize_r(c->h, cs, &m);
    if (m + 1 > c->cap) { /* xy (two per vertex) and keep share one capacity */
        size_t nc = ct_grow_cap(c->cap, (size_t)m + 1);
        if (ct_resize(&c->xy, 2 * nc, sizeof *c->xy) || ct_resize(&c->keep, nc, 1))
            return c->oom = 1, 0;
        c->cap = nc;
    }
    for (unsigned int i = 0; i < m; i++)
        GEOSCoordSeq_getXY_r(c->h, cs, i, &c->xy[2 * i], &c->xy[2 * i + 1]);
    *n = m > 0 ? m - 1 : 0; /* without the closing vertex */
    return 1;
}

static int ring_count(void *user, const GEOSGeometry *ring, uint64_t rid)
{
    simp_ctx *c = user;
    size_t n;
    if (!ring_load(c, ring, &n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        vkey *k = vmap_get(c->m, c->xy[2 * i], c->xy[2 * i + 1], 1);
        if (!k)
            return c->oom = 1, 0;
        if (c->mode)
            k->pinned = 1;
        else
            k->sig += rid;
    }
    return 1;
}

static int lexless(const double *a, const double *b) { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]); }

/* Douglas–Peucker on the chain of vertices idx[0..n) (indices into xy), marking keep[]. */
static void dp_chain(const double *xy, const size_t *idx, size_t n, double tol, unsigned char *keep, size_t *stack)
{
    keep[idx[0]] = keep[idx[n - 1]] = 1;
    size_t sp = 0;
    stack[sp++] = 0;
    stack[sp++] = n - 1;
    while (sp) {
        size_t b = stack[--sp], a = stack[--sp];
        const double *p = xy + 2 * idx[a], *q = xy + 2 * idx[b];
        double dx = q[0] - p[0], dy = q[1] - p[1], L = hypot(dx, dy), best = -1;
        size_t bi = 0;
        for (size_t i = a + 1; i < b; i++) {
            const double *r = xy + 2 * idx[i];
            double d = L > 0 ? fabs(dy * (r[0] - p[0]) - dx * (r[1] - p[1])) / L : hypot(r[0] - p[0], r[1] - p[1]);
            if (d > best) {
                best = d;
                bi = i;
            }
        }
        if (best > tol) {
            keep[idx[bi]] = 1;
            stack[sp++] = a;
            stack[sp++] = bi;
            stack[sp++] = bi;
            stack[sp++] = b;
        }
    }
}

/* The simplified ring, or NULL when it keeps every vertex or collapses (*bad). */
static GEOSGeometry *simplify_ring(simp_ctx *c, const GEOSGeometry *ring, int *changed, int *bad)
{
    size_t n;
    if (!ring_load(c, ring, &n) || n < 3)
        return NULL;
    uint64_t *sig = malloc(n * sizeof *sig);
    unsigned char *node = calloc(n, 1);
    size_t *idx = malloc((n + 1) * sizeof *idx), *stack = malloc(4 * (n + 1) * sizeof *stack);
    GEOSGeometry *out = NULL;
    if (!sig || !node || !idx || !stack) {
        c->oom = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        vkey *k = vmap_get(c->m, c->xy[2 * i], c->xy[2 * i + 1], 0);
        sig[i] = k ? k->sig : 0;
        node[i] = k && k->pinned;
    }
    size_t nn = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        node[i] |= sig[i] != sig[(i + n - 1) % n] || sig[i] != sig[(i + 1) % n];
        nn += node[i];
    }
    if (nn < 2) { /* cut at the smallest vertex and the one farthest from it */
        size_t lo = 0, far = 0;
        for (size_t i = 1; i < n; i++)
            if (lexless(c->xy + 2 * i, c->xy + 2 * lo))
                lo = i;
        if (nn == 1)
            for (size_t i = 0; i < n; i++)
                if (node[i])
                    lo = i;
        double fd = -1;
        for (size_t i = 0; i < n; i++) {
            double d = hypot(c->xy[2 * i] - c->xy[2 * lo], c->xy[2 * i + 1] - c->xy[2 * lo + 1]);
            if (d > fd || (d == fd && lexless(c->xy + 2 * i, c->xy + 2 * far))) {
                fd = d;
                far = i;
            }
        }
        node[lo] = node[far] = 1;
    }
    while (!node[first])
        first++;
    memset(c->keep, 0, n);
    /* chains from node to node, each in the direction that starts at its smaller end */
    for (size_t s = 0; s < n;) {
        size_t a = (first + s) % n, len = 1;
        while (!node[(a + len) % n])
            len++;
        size_t m = 0;
        for (size_t k = 0; k <= len; k++)
            idx[m++] = (a + k) % n;
        if (lexless(c->xy + 2 * idx[m - 1], c->xy + 2 * idx[0]))
            for (size_t k = 0; k < m / 2; k++) {
                size_t t = idx[k];
                idx[k] = idx[m - 1 - k];
                idx[m - 1 - k] = t;
            }
        dp_chain(c->xy, idx, m, c->tol, c->keep, stack);
        s += len;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += c->keep[i];
    if (kept == n)
        goto done;
    if (kept < 3) {
        *bad = 1;
        goto done;
    }
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(c->h, (unsigned int)kept + 1, 2);
    size_t j = 0;
    for (size_t k = 0; cs && k < n; k++) {
        size_t i = (first + k) % n;
        if (c->keep[i])
            GEOSCoordSeq_setXY_r(c->h, cs, (unsigned int)j++, c->xy[2 * i], c->xy[2 * i + 1]);
    }
    if (cs)
        GEOSCoordSeq_setXY_r(c->h, cs, (unsigned int)j, c->xy[2 * first], c->xy[2 * first + 1]);
    out = cs ? GEOSGeom_createLinearRing_r(c->h, cs) : NULL;
    c->oom |= !out;
    *changed = 1;
done:
    free(sig);
    free(node);
    free(idx);
    free(stack);
    return out;
}

static GEOSGeometry *simplify_polygon(simp_ctx *c, const GEOSGeometry *pg, int *changed, int *bad)
{
    int nh = GEOSGetNumInteriorRings_r(c->h, pg);
    GEOSGeometry **holes = calloc((size_t)nh + 1, sizeof *holes), *shell;
    const GEOSGeometry *ext = GEOSGetExteriorRing_r(c->h, pg);
    shell = simplify_ring(c, ext, changed, bad);
    if (!shell)
        shell = GEOSGeom_clone_r(c->h, ext);
    for (int k = 0; holes && k < nh; k++) {
        const GEOSGeometry *r = GEOSGetInteriorRingN_r(c->h, pg, k);
        holes[k] = simplify_ring(c, r, changed, bad);
        if (!holes[k])
            holes[k] = GEOSGeom_clone_r(c->h, r);
    }
    int whole = holes && shell;
    for (int k = 0; whole && k < nh; k++)
        whole = holes[k] != NULL;
    GEOSGeometry *p = whole ? GEOSGeom_createPolygon_r(c->h, shell, holes, (unsigned int)nh) : NULL;
    if (!whole) { /* out of memory: free what was made (createPolygon owns it only on success) */
        GEOSGeom_destroy_r(c->h, shell);
        for (int k = 0; holes && k < nh; k++)
            GEOSGeom_destroy_r(c->h, holes[k]);
    }
    free(holes);
    c->oom |= !p;
    return p;
}

/* Feature g simplified (NULL when unchanged; *bad when invalid or collapsed). */
static GEOSGeometry *simplify_feature(simp_ctx *c, const GEOSGeometry *g, int *bad)
{
    GEOSContextHandle_t h = c->h;
    int changed = 0, t = GEOSGeomTypeId_r(h, g);
    int np = t == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = calloc((size_t)np + 1, sizeof *parts);
    int whole = parts != NULL;
    for (int p = 0; whole && p < np; p++)
        whole = (parts[p] = simplify_polygon(c, t == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, p), &changed, bad)) != NULL;
    GEOSGeometry *s = !whole ? NULL : t == GEOS_POLYGON ? parts[0]
                      : GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned int)np);
    for (int p = 0; !whole && parts && p < np; p++) /* out of memory: the parts made are ours */
        GEOSGeom_destroy_r(h, parts[p]);
    free(parts);
    c->oom |= !s;
    if (s && (!changed || *bad || GEOSisValid_r(h, s) != 1)) {
        *bad |= changed;
        GEOSGeom_destroy_r(h, s);
        s = NULL;
    }
    return s;
}

/* simp[i]: feature i simplified with tolerance tol (metres), or NULL when unchanged. Features
 * are simplified in parallel (gh: one GEOS handle per thread) against the shared vertex map;
 * the vertices of bad features are pinned between passes, so the result does not depend on
 * the order or the thread count. */
static int simplify_zoom(const vdata *d, double tol, GEOSGeometry **simp, GEOSContextHandle_t *gh, int nthreads)
{
    vmap m = {0};
    int oom = 0;
    simp_ctx *C = calloc((size_t)nthreads, sizeof *C);
    unsigned char *bad = calloc(d->nf + 1, 1);
    if (!C || !bad) {
        free(C);
        free(bad);
        return 0;
    }
    for (int t = 0; t < nthreads; t++)
        C[t] = (simp_ctx){.h = gh[t], .m = &m, .tol = tol};
    for (size_t i = 0; i < d->nf && !C[0].oom; i++)
        if (polygonal(gh[0], d->F[i].g))
            each_ring(gh[0], d->F[i].g, (uint64_t)d->F[i].fid << 16 ^ (uint64_t)d->F[i].layer << 56, ring_count, &C[0]);
    /* until no feature is bad: a bad feature's vertices are all pinned, so it cannot be bad
     * again, and the passes end within one per feature; stopping earlier would leave the last
     * bad ones whole beside neighbours simplified without their pins (a gap or an overlap) */
    while (!C[0].oom) {
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 256)
        for (size_t i = 0; i < d->nf; i++) {
            simp_ctx *c = &C[omp_get_thread_num()];
            if (simp[i])
                GEOSGeom_destroy_r(c->h, simp[i]);
            simp[i] = NULL;
            int b = 0;
            if (polygonal(c->h, d->F[i].g))
                simp[i] = simplify_feature(c, d->F[i].g, &b);
            bad[i] = (unsigned char)b;
        }
        int again = 0;
        C[0].mode = 1; /* pin: these features keep their vertices, and their neighbours keep them too */
        for (size_t i = 0; i < d->nf; i++)
            if (bad[i]) {
                each_ring(gh[0], d->F[i].g, 0, ring_count, &C[0]);
                again = 1;
            }
        C[0].mode = 0;
        if (!again)
            break;
    }
    for (int t = 0; t < nthreads; t++) {
        oom |= C[t].oom;
        free(C[t].xy);
        free(C[t].keep);
    }
    free(m.k);
    free(C);
    free(bad);
    return !oom;
}

/* MVT_SIMPLIFY: the Douglas–Peucker tolerance below the maximum zoom, in tile units (half a
 * pixel of a 256-pixel tile) */
enum { MVT_EXTENT = 4096, MVT_BUFFER = 64, MVT_MAX_FEATURES = 200000, MVT_MAX_LAYER_BYTES = 500000, MVT_SIMPLIFY = 8 };

typedef struct vtile_res {
    uint8_t *data;
    size_t len;
    uint64_t dropped;
    int failed;
    int skip; /* incremental runs: not dirty, copied from the old tileset */
} vtile_res;

/* The geometry encoder of tile z/x/y, and the tile's box widened by the buffer (cb). */
static void genc_tile(genc *e, int z, uint32_t x, uint32_t y, double cb[4])
{
    ct_tile_bounds(z, x, y, e->b);
    e->scale = MVT_EXTENT / (e->b[2] - e->b[0]);
    double buf = MVT_BUFFER / e->scale;
    cb[0] = e->b[0] - buf, cb[1] = e->b[1] - buf, cb[2] = e->b[2] + buf, cb[3] = e->b[3] + buf;
}

/* Encodes feature f (g: its geometry simplified for the zoom, or its own) clipped to the tile's
 * buffered box cb into e->cmd. @return its MVT geometry type, 0 when nothing is in the tile. */
static int feat_geom(GEOSContextHandle_t h, genc *e, const vfeat *f, const GEOSGeometry *g, const double cb[4])
{
    GEOSGeometry *clip = NULL;
    if (f->b[0] < cb[0] || f->b[1] < cb[1] || f->b[2] > cb[2] || f->b[3] > cb[3]) {
        clip = GEOSClipByRect_r(h, g, cb[0], cb[1], cb[2], cb[3]);
        if (!clip || GEOSisEmpty_r(h, clip)) {
            if (clip)
                GEOSGeom_destroy_r(h, clip);
            return 0;
        }
        g = clip;
    }
    e->cmd.n = 0;
    e->cur = (ipt){0, 0};
    int type = 0;
    int wrote = encode_geom(h, e, g, &type);
    if (clip)
        GEOSGeom_destroy_r(h, clip);
    return wrote ? type : 0;
}

/* One tag of a feature being written: field k of its layer, and its encoded Value at
 * [off, off + n) of a buffer. */
typedef struct vtag {
    int k;
    size_t off, n;
} vtag;

/* The tags of feature f: its kept, non-null fields, their values encoded into vb. @return the
 * count. */
static int feat_tags(const vlayer *L, const vfeat *f, pbuf *vb, vtag *tg)
{
    int n = 0;
    vb->n = 0;
    for (int k = 0; f->v && k < L->nf; k++) {
        if (!f->v[k].type || !L->keep[k])
            continue;
        size_t o = vb->n;
        vval_bytes(vb, &f->v[k]);
        tg[n++] = (vtag){k, o, vb->n - o};
    }
    return n;
}

static int kv_init(kv_table *kv, const vlayer *L)
{
    memset(kv, 0, sizeof *kv);
    kv->keyidx = malloc(((size_t)L->nf + 1) * sizeof(int));
    for (int k = 0; kv->keyidx && k < L->nf; k++)
        kv->keyidx[k] = -1;
    return kv->keyidx != NULL;
}

static void kv_free(kv_table *kv)
{
    free(kv->keys.p);
    free(kv->vals.p);
    free(kv->keyidx);
    free(kv->vh);
    free(kv->fb.p);
    free(kv->tags.p);
}

/* Appends a feature to a layer's features: its id (fid < 0: none), tags tg[0..ntg) with values
 * in vb (keys and values go into kv in the order they first come, as in every tile), geometry
 * type and commands cmd[0..ncmd). */
static void feat_put(pbuf *feats, kv_table *kv, const vlayer *L, long long fid, const vtag *tg, int ntg,
                     const uint8_t *vb, int type, const uint8_t *cmd, size_t ncmd, vtile_res *res)
{
    pbuf *fb = &kv->fb, *tags = &kv->tags;
    fb->n = tags->n = 0;
    for (int i = 0; i < ntg; i++) {
        int k = tg[i].k;
        if (kv->keyidx[k] < 0) {
            kv->keyidx[k] = kv->nkeys++;
            pb_ld(&kv->keys, 3, L->fname[k], strlen(L->fname[k]));
        }
        int vi = kv_intern(kv, vb + tg[i].off, tg[i].n);
        if (vi < 0) {
            res->failed = 1;
            continue;
        }
        pb_varint(tags, (uint64_t)kv->keyidx[k]);
        pb_varint(tags, (uint64_t)vi);
    }
    if (fid >= 0) {
        pb_tag(fb, 1, 0);
        pb_varint(fb, (uint64_t)fid);
    }
    if (tags->n)
        pb_ld(fb, 2, tags->p, tags->n);
    pb_tag(fb, 3, 0);
    pb_varint(fb, (uint64_t)type);
    pb_ld(fb, 4, cmd, ncmd);
    pb_ld(feats, 2, fb->p, fb->n);
    res->failed |= fb->oom | tags->oom;
}

/* Appends layer L with its features and keys/values tables to the tile (nothing when it has no
 * feature). */
static void layer_put(pbuf *tile, const vlayer *L, const pbuf *feats, int nfeat, const kv_table *kv,
                      vtile_res *res)
{
    pbuf layer = {0};
    if (nfeat) {
        pb_tag(&layer, 15, 0);
        pb_varint(&layer, 2);
        pb_ld(&layer, 1, L->name, strlen(L->name));
        pb_bytes(&layer, feats->p, feats->n);
        pb_bytes(&layer, kv->keys.p, kv->keys.n);
        pb_bytes(&layer, kv->vals.p, kv->vals.n);
        pb_tag(&layer, 5, 0);
        pb_varint(&layer, MVT_EXTENT);
        pb_ld(tile, 3, layer.p, layer.n);
    }
    res->failed |= layer.oom | feats->oom | kv->keys.oom | kv->vals.oom;
    free(layer.p);
}

/* The tile's bytes into res (gzip-compressed when gz), or none when it is empty. */
static void tile_finish(pbuf *tile, int gz, vtile_res *res)
{
    res->failed |= tile->oom;
    if (!tile->n || res->failed) {
        free(tile->p);
        return;
    }
    if (gz) {
        /* level 6, zlib's default that tippecanoe and GDAL use: level 9 takes three times as
         * long for about 1 % less */
        res->data = gzip_bytes(tile->p, tile->n, 6, &res->len);
        free(tile->p);
        res->failed |= !res->data;
    } else {
        res->data = tile->p;
        res->len = tile->n;
    }
}

/* Encodes tile z/x/y from the features fidx[0..n) (sorted by layer, then input order). */
static void mvt_tile(GEOSContextHandle_t h, const vdata *d, GEOSGeometry *const *simp, int z, uint32_t x, uint32_t y,
                     const size_t *fidx, size_t n, int gz, vtile_res *res)
{
    pbuf tile = {0}, vb = {0};
    genc e = {0};
    double cb[4];
    genc_tile(&e, z, x, y, cb);
    for (size_t i = 0; i < n;) {
        int li = d->F[fidx[i]].layer;
        const vlayer *L = &d->L[li];
        pbuf feats = {0};
        kv_table kv;
        vtag *tg = malloc(((size_t)L->nf + 1) * sizeof *tg);
        int nfeat = 0;
        if (!kv_init(&kv, L) || !tg)
            res->failed = 1;
        for (; i < n && d->F[fidx[i]].layer == li; i++) {
            const vfeat *f = &d->F[fidx[i]];
            if (nfeat >= MVT_MAX_FEATURES || feats.n > MVT_MAX_LAYER_BYTES) {
                res->dropped++;
                continue;
            }
            int type = res->failed ? 0 : feat_geom(h, &e, f, simp && simp[fidx[i]] ? simp[fidx[i]] : f->g, cb);
            if (!type)
                continue;
            int ntg = feat_tags(L, f, &vb, tg);
            feat_put(&feats, &kv, L, f->fid, tg, ntg, vb.p, type, e.cmd.p, e.cmd.n, res);
            res->failed |= e.cmd.oom | vb.oom;
            nfeat++;
        }
        layer_put(&tile, L, &feats, nfeat, &kv, res);
        free(feats.p);
        free(tg);
        kv_free(&kv);
    }
    free(e.cmd.p);
    free(e.tmp);
    free(vb.p);
    tile_finish(&tile, gz, res);
}

/* ---- Patching a tile of a nightly run ----
 * An ancestor tile of a changed sheet holds thousands of features, nearly all unchanged; made
 * again, every one of them would be read, simplified and encoded. Instead the old tile (our own
 * MVT, read back) keeps the encoded geometry and tags of every feature that did not change and
 * lies near no change, and only the changed features and their neighbours (whose simplification
 * depends on the vertices they share, simplify_zoom) are encoded again; the layer is written in
 * the same fid order with keys and values interned the same way as a full run, which makes the
 * same bytes. */

/* One feature of an old tile: id (-1: none), type, packed tags and geometry commands. */
typedef struct ofeat {
    long long id;
    int type;
    const uint8_t *tags, *geom;
    size_t ntags, ngeom;
} ofeat;

/* The one layer of an old tile, pointing into its bytes; feat_bytes: its Feature entries. */
typedef struct olayer {
    const uint8_t *name;
    size_t nname, feat_bytes;
    ofeat *f;
    size_t nf, capf;
    const uint8_t **key, **val;
    size_t *nkey, *nval;
    size_t nk, nv, capk, capv;
} olayer;

/* The next field of a protobuf message p[*k..n): its number, and its value (*v) or, for a
 * length-delimited field, its bytes (*ld, *v long). @return 0 at the end or on a bad field. */
static int pb_field(const uint8_t *p, size_t n, size_t *k, int *field, uint64_t *v, const uint8_t **ld)
{
    uint64_t key;
    *ld = NULL;
    if (*k >= n || !rd_varint(p, n, k, &key))
        return 0;
    *field = (int)(key >> 3);
    switch (key & 7) {
    case 0:
        return rd_varint(p, n, k, v);
    case 1:
    case 5:
        *v = (key & 7) == 1 ? 8 : 4;
        break;
    case 2:
        if (!rd_varint(p, n, k, v))
            return 0;
        break;
    default:
        return 0;
    }
    if (*v > n - *k)
        return 0;
    *ld = p + *k;
    *k += *v;
    return 1;
}

static void olayer_free(olayer *l)
{
    free(l->f);
    free(l->key);
    free(l->val);
    free(l->nkey);
    free(l->nval);
    memset(l, 0, sizeof *l);
}

/* Parses tile p[0..n) into l. @return 0 when it is not a tile of one layer of 4096 units that
 * this code could have written (or memory runs out). */
static int olayer_parse(const uint8_t *p, size_t n, olayer *l)
{
    size_t k = 0, lk = 0, lsz = 0;
    int field, nl = 0;
    uint64_t v;
    const uint8_t *ld, *lp = NULL;
    memset(l, 0, sizeof *l);
    while (k < n) {
        if (!pb_field(p, n, &k, &field, &v, &ld) || field != 3 || !ld || nl++)
            return 0;
        lp = ld;
        lsz = (size_t)v;
    }
    uint64_t extent = 4096;
    while (lp && lk < lsz) {
        size_t at = lk;
        if (!pb_field(lp, lsz, &lk, &field, &v, &ld))
            return 0;
        if (field == 1 && ld) {
            l->name = ld;
            l->nname = (size_t)v;
        } else if (field == 5 && !ld)
            extent = v;
        else if (field == 3 && ld) {
            if (ct_grow(&l->key, &l->capk, l->nk + 1, sizeof *l->key) || ct_resize(&l->nkey, l->capk, sizeof *l->nkey))
                return 0;
            l->key[l->nk] = ld;
            l->nkey[l->nk++] = (size_t)v;
        } else if (field == 4 && ld) {
            if (ct_grow(&l->val, &l->capv, l->nv + 1, sizeof *l->val) || ct_resize(&l->nval, l->capv, sizeof *l->nval))
                return 0;
            l->val[l->nv] = ld;
            l->nval[l->nv++] = (size_t)v;
        } else if (field == 2 && ld) {
            if (ct_grow(&l->f, &l->capf, l->nf + 1, sizeof *l->f))
                return 0;
            ofeat *f = &l->f[l->nf++];
            *f = (ofeat){.id = -1};
            size_t fk = 0, fn = (size_t)v;
            const uint8_t *fp = ld;
            while (fk < fn) {
                if (!pb_field(fp, fn, &fk, &field, &v, &ld))
                    return 0;
                if (field == 1 && !ld)
                    f->id = v > (uint64_t)LLONG_MAX ? -1 : (long long)v;
                else if (field == 2 && ld)
                    f->tags = ld, f->ntags = (size_t)v;
                else if (field == 3 && !ld)
                    f->type = (int)v;
                else if (field == 4 && ld)
                    f->geom = ld, f->ngeom = (size_t)v;
            }
            if (f->id < 0 || !f->geom)
                return 0;
            l->feat_bytes += lk - at;
        } else if (field != 15)
            return 0;
    }
    return extent == MVT_EXTENT && (!lp || l->name);
}

/* What the tiles of a nightly run are patched with: the changed keys, sorted (strcmp); the
 * features near a change (indices into the vdata, in fid order) and their fids; the field of the
 * natural key. */
typedef struct patch_set {
    char **keys;
    size_t nkeys;
    size_t *near;
    long long *fid;
    size_t nnear;
    int fkey;
} patch_set;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* A string value's bytes (p, n) against a changed key, in the strcmp order ps->keys is sorted in. */
typedef struct key_bytes {
    const uint8_t *p;
    size_t n;
} key_bytes;

static int cmp_key_bytes(const void *a, const void *b)
{
    const key_bytes *v = a;
    const char *s = *(char *const *)b;
    size_t m = strlen(s);
    int c = memcmp(v->p, s, v->n < m ? v->n : m);
    return c ? c : (v->n > m) - (v->n < m);
}

/* Whether the encoded Value v[0..n) is a string among the changed keys. */
static int key_changed(const patch_set *ps, const uint8_t *v, size_t n)
{
    size_t k = 0;
    int field;
    uint64_t len;
    const uint8_t *ld;
    if (!pb_field(v, n, &k, &field, &len, &ld) || field != 1 || !ld)
        return 0;
    key_bytes key = {ld, (size_t)len};
    return bsearch(&key, ps->keys, ps->nkeys, sizeof *ps->keys, cmp_key_bytes) != NULL;
}

/* Tile z/x/y from its old layer ol (NULL: there was no tile) and the features near a change:
 * old features whose key changed or which are near a change are left out, the near ones that
 * reach into the tile encoded again, all in fid order. res->failed with *declined when the old
 * tile cannot be patched to what a full run makes (its layer had features left out over the
 * limits, or keys this run's layer does not have). */
/* Whether unchanged feature f (same fid as of, its encoding in the old tile) is whole in one of
 * the old tile and this run and simplified in the other (s: its simplification now, NULL when
 * whole): the mark of a feature pinned in one run and not in the other (simplify_zoom), which
 * changes how its neighbours simplify — also the neighbours a patch copies from the old tile.
 * e->cmd holds f's encoding in this run and is overwritten. */
static int pin_flipped(GEOSContextHandle_t h, genc *e, const vfeat *f, const GEOSGeometry *s, const ofeat *of,
                       const double cb[4])
{
    if (of->ngeom == e->cmd.n && !memcmp(of->geom, e->cmd.p, e->cmd.n))
        return 0;
    if (!s) /* whole now: simplified before, as the whole encodings of one geometry are equal */
        return 1;
    return feat_geom(h, e, f, f->g, cb) && of->ngeom == e->cmd.n && !memcmp(of->geom, e->cmd.p, e->cmd.n);
}

static void mvt_patch(GEOSContextHandle_t h, const vdata *d, GEOSGeometry *const *simp, int z, uint32_t x, uint32_t y,
                      const olayer *ol, const uint8_t *obase, const patch_set *ps, int gz, vtile_res *res,
                      int *declined)
{
    const vlayer *L = &d->L[0];
    pbuf tile = {0}, feats = {0}, vb = {0};
    genc e = {0};
    kv_table kv;
    double cb[4];
    int *okey = ol ? malloc((ol->nk + 1) * sizeof *okey) : NULL, ofkey = -1, nfeat = 0;
    vtag *tg = malloc(((size_t)L->nf + 1) * sizeof *tg);
    genc_tile(&e, z, x, y, cb);
    double bufm = MVT_BUFFER / e.scale;
    if (!kv_init(&kv, L) || !tg || (ol && !okey)) {
        res->failed = 1;
        goto out;
    }
    if (ol && (ol->nname != strlen(L->name) || memcmp(ol->name, L->name, ol->nname) || ol->nf >= MVT_MAX_FEATURES ||
               ol->feat_bytes > MVT_MAX_LAYER_BYTES)) {
        *declined = res->failed = 1;
        goto out;
    }
    for (size_t j = 0; ol && j < ol->nk; j++) {
        okey[j] = -1;
        for (int k = 0; k < L->nf; k++)
            if (L->keep[k] && strlen(L->fname[k]) == ol->nkey[j] && !memcmp(L->fname[k], ol->key[j], ol->nkey[j]))
                okey[j] = k;
        if (okey[j] < 0) {
            *declined = res->failed = 1;
            goto out;
        }
        if (okey[j] == ps->fkey)
            ofkey = (int)j;
    }
    size_t i = 0, j = 0, no = ol ? ol->nf : 0;
    while (!res->failed && (i < no || j < ps->nnear)) {
        const ofeat *of = i < no ? &ol->f[i] : NULL;
        const vfeat *f = j < ps->nnear ? &d->F[ps->near[j]] : NULL;
        int ntg = 0;
        if (of && (!f || of->id < f->fid)) {
            i++;
            if (bsearch(&of->id, ps->fid, ps->nnear, sizeof *ps->fid, cmp_ll))
                continue;
            int drop = 0;
            for (size_t t = 0; t < of->ntags && !drop;) { /* packed (key, value) index pairs */
                uint64_t ki, vi;
                if (!rd_varint(of->tags, of->ntags, &t, &ki) || !rd_varint(of->tags, of->ntags, &t, &vi) ||
                    ki >= ol->nk || vi >= ol->nv || ntg >= L->nf) {
                    *declined = res->failed = 1;
                    break;
                }
                if ((int)ki == ofkey && key_changed(ps, ol->val[vi], ol->nval[vi]))
                    drop = 1;
                tg[ntg++] = (vtag){okey[ki], (size_t)(ol->val[vi] - obase), ol->nval[vi]};
            }
            if (drop || res->failed)
                continue;
            if (nfeat >= MVT_MAX_FEATURES || feats.n > MVT_MAX_LAYER_BYTES) {
                res->dropped++;
                continue;
            }
            feat_put(&feats, &kv, L, of->id, tg, ntg, obase, of->type, of->geom, of->ngeom, res);
            nfeat++;
            continue;
        }
        size_t fi = ps->near[j++];
        double b[4] = {f->b[0] - bufm, f->b[1] - bufm, f->b[2] + bufm, f->b[3] + bufm};
        uint32_t r[4];
        ct_tile_range(b, z, r);
        if (x < r[0] || x > r[2] || y < r[1] || y > r[3])
            continue;
        if (nfeat >= MVT_MAX_FEATURES || feats.n > MVT_MAX_LAYER_BYTES) {
            res->dropped++;
            continue;
        }
        int type = feat_geom(h, &e, f, simp && simp[fi] ? simp[fi] : f->g, cb);
        if (!type)
            continue;
        ntg = feat_tags(L, f, &vb, tg);
        feat_put(&feats, &kv, L, f->fid, tg, ntg, vb.p, type, e.cmd.p, e.cmd.n, res);
        res->failed |= e.cmd.oom | vb.oom;
        nfeat++;
        /* the features copied above and below were simplified beside f's old pins: when those
         * change, the dirty tiles are made anew from all the features around them */
        if (simp && of && of->id == f->fid && pin_flipped(h, &e, f, simp[fi], of, cb))
            *declined = res->failed = 1;
    }
    layer_put(&tile, L, &feats, nfeat, &kv, res);
out:
    free(feats.p);
    free(vb.p);
    free(tg);
    free(okey);
    free(e.cmd.p);
    free(e.tmp);
    kv_free(&kv);
    tile_finish(&tile, gz, res);
}

typedef struct tpair {
    uint64_t id;
    size_t f;
} tpair;

static int cmp_tpair(const void *a, const void *b)
{
    const tpair *p = a, *q = b;
    if (p->id != q->id)
        return p->id < q->id ? -1 : 1;
    return p->f < q->f ? -1 : p->f > q->f;
}

/* The tiles of one zoom that vector features touch: (tile id, feature) pairs sorted by tile, so
 * that tile t has the features fidx[start[t] .. start[t + 1]) in input order (layers stay
 * grouped). The buffers are reused from zoom to zoom. */
typedef struct tile_groups {
    tpair *pairs;
    size_t npairs, cap;
    size_t *start, *fidx;
    size_t ntiles;
} tile_groups;

static ct_status group_tiles(ct_ctx *ctx, const char *output, const vdata *d, int z, double bufm, tile_groups *g)
{
    g->npairs = 0;
    for (size_t i = 0; i < d->nf; i++) {
        double b[4] = {d->F[i].b[0] - bufm, d->F[i].b[1] - bufm, d->F[i].b[2] + bufm, d->F[i].b[3] + bufm};
        uint32_t r[4];
        ct_tile_range(b, z, r);
        for (uint32_t ty = r[1]; ty <= r[3]; ty++)
            for (uint32_t tx = r[0]; tx <= r[2]; tx++) {
                if (ct_grow(&g->pairs, &g->cap, g->npairs + 1, sizeof *g->pairs))
                    return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", output);
                g->pairs[g->npairs++] = (tpair){ct_pmtiles_id(z, tx, ty), i};
            }
    }
    qsort(g->pairs, g->npairs, sizeof *g->pairs, cmp_tpair);
    free(g->start);
    free(g->fidx);
    g->start = malloc((g->npairs + 1) * sizeof *g->start);
    g->fidx = malloc((g->npairs + 1) * sizeof *g->fidx);
    if (!g->start || !g->fidx)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", output);
    g->ntiles = 0;
    for (size_t i = 0; i < g->npairs; i++) {
        if (!i || g->pairs[i].id != g->pairs[i - 1].id)
            g->start[g->ntiles++] = i;
        g->fidx[i] = g->pairs[i].f;
    }
    g->start[g->ntiles] = g->npairs;
    return CT_OK;
}

static void tile_groups_free(tile_groups *g)
{
    free(g->pairs);
    free(g->start);
    free(g->fidx);
}

/* Stores the tiles one zoom made, in tile order, frees them, and reports progress. */
static ct_status store_tiles(ct_ctx *ctx, sink *S, ct_tile_summary *sum, int z, int minz, int maxz,
                             const tile_groups *g, vtile_res *res, uint64_t *done, double t0)
{
    ct_status st = CT_OK;
    for (size_t t = 0; t < g->ntiles; t++) {
        int zz;
        uint32_t tx, ty;
        ct_pmtiles_zxy(g->pairs[g->start[t]].id, &zz, &tx, &ty);
        if (res[t].skip)
            continue;
        if (res[t].failed && st == CT_OK)
            st = ct_error(ctx, CT_ERR_NOMEM, "tile %d/%u/%u: out of memory", z, tx, ty);
        if (res[t].data && st == CT_OK) {
            st = sink_put(ctx, S, z, tx, ty, res[t].data, res[t].len);
        } else if (!res[t].data)
            sum->tiles_empty++;
        sum->features_dropped += res[t].dropped;
        free(res[t].data);
    }
    *done += g->ntiles;
    if (st == CT_OK) {
        double el = now_s() - t0;
        char what[96];
        snprintf(what, sizeof what, "zoom %d: %llu tiles, %.0f tiles/s", z, (unsigned long long)*done,
                 *done / (el > 0 ? el : 1e-9));
        st = ct_progress(ctx, (double)(z - minz + 1) / (maxz - minz + 1) * 0.98, what);
    }
    return st;
}

/* The vector_layers JSON of the metadata. */
static char *vector_layers_json(const vdata *d, int minz, int maxz)
{
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    for (int l = 0; l < d->nl; l++) {
        json_object *o = json_object_new_object(), *f = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(d->L[l].name));
        for (int k = 0; k < d->L[l].nf; k++)
            if (d->L[l].keep[k])
                json_object_object_add(f, d->L[l].fname[k],
                                   json_object_new_string(d->L[l].ftype[k] == CT_FIELD_INT || d->L[l].ftype[k] == CT_FIELD_REAL
                                                              ? "Number" : "String"));
        json_object_object_add(o, "fields", f);
        json_object_object_add(o, "minzoom", json_object_new_int(minz));
        json_object_object_add(o, "maxzoom", json_object_new_int(maxz));
        json_object_array_add(arr, o);
    }
    json_object_object_add(root, "vector_layers", arr);
    char *s = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return s;
}

/* ct_tile_run for vector input. */
/* The zoom range of a vector run: the options', else from the zoom where the data fits one tile
 * up to default_max; refused when out of range or, unless --force, when it makes too many tiles. */
static ct_status vector_zooms(ct_ctx *ctx, const ct_tile_opts *o, const double merc[4], int default_max,
                              ct_tile_summary *sum, int *minz_out, int *maxz_out)
{
    int zfit = (int)floor(log2(2 * CT_MERC_HALF / fmax(fmax(merc[2] - merc[0], merc[3] - merc[1]), 1)));
    zfit = zfit < 0 ? 0 : zfit > 16 ? 16 : zfit;
    int minz = o->minzoom >= 0 ? o->minzoom : zfit, maxz = o->maxzoom >= 0 ? o->maxzoom : default_max;
    if (o->minzoom >= 0 && o->maxzoom < 0 && maxz < minz)
        maxz = minz;
    if (o->maxzoom >= 0 && o->minzoom < 0 && minz > maxz)
        minz = maxz;
    *minz_out = minz;
    *maxz_out = maxz;
    if (minz < 0 || maxz > 30 || minz > maxz)
        return ct_error(ctx, CT_ERR_USAGE, "zoom range %d-%d: zooms go from 0 to 30, minimum first", minz, maxz);
    uint64_t total = ct_tile_count(merc, minz, maxz);
    sum->tiles_in_range = total;
    if (total > CT_TILE_MAX_TILES && !o->force) {
        char a[40], b[40];
        format_count(total, a, sizeof a);
        format_count(CT_TILE_MAX_TILES, b, sizeof b);
        return ct_error(ctx, CT_ERR_USAGE, "%s: zooms %d-%d would make %s tiles (more than %s): "
                        "narrow the zoom range, or give --force", o->input, minz, maxz, a, b);
    }
    return CT_OK;
}

/* The shard of a tile (ct/tile.h): a hash of its ancestor two zooms above maxz (or itself). */
static int shard_of(int z, uint32_t x, uint32_t y, int minz, int maxz, int n)
{
    int za = maxz - 2 > minz ? maxz - 2 : minz;
    if (z > za) {
        x >>= z - za;
        y >>= z - za;
        z = za;
    }
    uint64_t h = ct_pmtiles_id(z, x, y) * 0x9E3779B97F4A7C15ull;
    return (int)((h >> 32) % (uint64_t)n);
}

/* ---- Incremental runs (see ct/tile.h) ---- */

typedef struct incr {
    int on;                 /* only dirty tiles are made; the rest is copied from old */
    dirty_set dirty;
    oldset old;
    const ct_sdi *sdi;      /* SDI layer inputs */
    const char *sdi_view, *sdi_layer;
    const ct_crs *sdi_crs;
    double (*chg)[4];       /* the changes' boxes in the SDI's CRS */
    char **keys;            /* the changed features' natural keys: a set, not paired with chg
                               (patch_zooms sorts it for its look-ups) */
    size_t nchg, capchg, nkeys, capkeys;
} incr;

/* Is tile z/x/y made by this run: dirty, in an incremental run, and in the shard asked for? */
static int tile_in_run(const incr *in, const ct_tile_opts *o, int z, uint32_t x, uint32_t y, int minz, int maxz)
{
    return (!in->on || dirty_has(&in->dirty, z, x, y)) &&
           (o->shard_n <= 0 || shard_of(z, x, y, minz, maxz, o->shard_n) == o->shard_k);
}

static void incr_free(incr *in)
{
    dirty_free(&in->dirty);
    oldset_close(&in->old);
    for (size_t i = 0; i < in->nkeys; i++)
        free(in->keys[i]);
    free(in->keys);
    free(in->chg);
}

/* Builds the dirty ids of zooms minz..maxz with margin(z) = a + b × (tile size at z). */
static ct_status incr_build(ct_ctx *ctx, incr *in, int minz, int maxz, double a, double b, const char *output)
{
    for (int z = minz; in->on && z <= maxz; z++)
        if (!dirty_build(&in->dirty, z, a + b * 2 * CT_MERC_HALF / (double)(1ull << z)))
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", output);
    return CT_OK;
}

static void xml_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;
        if (ent)
            fputs(ent, f);
        else
            fputc(*s, f);
    }
}

/* The boxes, in the SDI's CRS (t: from EPSG:3857), of the dirty tiles of zoom z each widened by
 * margin metres, a metre more (the transformed box approximates the tile's outline). @return a
 * new array of *n boxes, NULL when out of memory or a box cannot be transformed. */
static double (*incr_boxes(ct_ctx *ctx, const incr *in, ct_transform *t, int z, double margin, size_t *n))[4]
{
    size_t nb = in->dirty.nids[z];
    double (*box)[4] = calloc(nb + 1, sizeof *box);
    if (!box)
        return NULL;
    for (size_t i = 0; i < nb; i++) {
        int zz;
        uint32_t x, y;
        double b[4];
        ct_pmtiles_zxy(in->dirty.ids[z][i], &zz, &x, &y);
        ct_tile_bounds(z, x, y, b);
        b[0] -= margin, b[1] -= margin, b[2] += margin, b[3] += margin;
        if (ct_transform_bounds(ctx, t, b, box[i]) != CT_OK) {
            free(box);
            return NULL;
        }
        box[i][0] -= 1, box[i][1] -= 1, box[i][2] += 1, box[i][3] += 1;
    }
    *n = nb;
    return box;
}

/* The OGR VRT that reads an SDI layer's current features as a layer named after it: all of them
 * (nbox 0), or those whose box meets one of the regions (SDI CRS; more than 64 become their
 * union). @return a new string, NULL when out of memory. */
static char *incr_vrt(const incr *in, const double (*box)[4], size_t nbox)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    double all[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (size_t i = 0; i < nbox; i++)
        for (int k = 0; k < 4; k++)
            all[k] = k < 2 ? fmin(all[k], box[i][k]) : fmax(all[k], box[i][k]);
    size_t nsrc = nbox > 64 ? 1 : nbox;
    /* one region needs no union layer, whose schema GDAL works out from its sources at some
     * cost (a quarter of a nightly run's read) */
    int uni = nsrc > 1;
    fputs("<OGRVRTDataSource>", f);
    if (uni) {
        /* one source per region, each with a POLYGON SrcRegion (GDAL 3.6 leaves a MULTIPOLYGON
         * region unused); features on several are read twice, vread keeps one */
        fputs("<OGRVRTUnionLayer name=\"", f);
        xml_escaped(f, in->sdi_layer);
        fputs("\"><PreserveSrcFID>ON</PreserveSrcFID>", f);
    }
    for (size_t i = 0; i < (nsrc ? nsrc : 1); i++) {
        fputs("<OGRVRTLayer name=\"", f);
        if (uni)
            fprintf(f, "r%zu", i);
        else
            xml_escaped(f, in->sdi_layer);
        fputs("\"><SrcDataSource shared=\"1\">", f);
        xml_escaped(f, ct_sdi_path(in->sdi)); /* the dataset OGR opens; sdi_view is the layer */
        fputs("</SrcDataSource><SrcLayer>", f);
        xml_escaped(f, in->sdi_view);
        fputs("</SrcLayer>", f);
        if (nsrc) {
            const double *b = nbox > 64 ? all : box[i];
            fprintf(f, "<SrcRegion>POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))</SrcRegion>", b[0],
                    b[1], b[2], b[1], b[2], b[3], b[0], b[3], b[0], b[1]);
        }
        fputs("</OGRVRTLayer>", f);
    }
    fputs(uni ? "</OGRVRTUnionLayer></OGRVRTDataSource>" : "</OGRVRTDataSource>", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Whether an incremental run has anything to make at all. */
static int incr_idle(const incr *in, int minz)
{
    return in->on && !in->dirty.all && in->dirty.nids[minz] == 0;
}

/* Data bounds of an incremental run: what was read together with the old tileset's, in degrees
 * (the old ones are read back exactly: metadata bounds are kept to 1e-7 degree, see meta_bounds). */
static void incr_bounds(const incr *in, double merc[4], double ll[4], int nread)
{
    for (int k = 0; k < 4; k++)
        ll[k] = !nread ? in->old.bounds[k] : k < 2 ? fmin(ll[k], in->old.bounds[k]) : fmax(ll[k], in->old.bounds[k]);
    ct_lonlat_to_merc(ll[0], ll[1], &merc[0], &merc[1]);
    ct_lonlat_to_merc(ll[2], ll[3], &merc[2], &merc[3]);
}

/* vread through the VRT of incr_vrt(in, box, nbox) for an SDI layer, else vs->path. */
static ct_status vread_vrt(ct_ctx *ctx, vsrc *vs, const incr *in, const double (*box)[4], size_t nbox, vdata *d,
                           double merc[4], double ll[4], uint64_t *nfeat)
{
    char mem[96] = "", *vrt = NULL;
    if (in->sdi) {
        /* ct_vsource_open reads files and /vsi paths: the VRT goes to GDAL's memory files */
        static atomic_uint seq;
        if (!(vrt = incr_vrt(in, box, nbox)))
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", vs->name);
        snprintf(mem, sizeof mem, "/vsimem/ct-tile-%ld-%u.vrt", (long)getpid(), atomic_fetch_add(&seq, 1));
        VSIFCloseL(VSIFileFromMemBuffer(mem, (GByte *)vrt, (vsi_l_offset)strlen(vrt), FALSE));
        vs->path = mem;
    }
    ct_status st = vread(ctx, vs, d, merc, ll, nfeat);
    if (*mem)
        VSIUnlink(mem);
    free(vrt);
    return st;
}

static ct_status merc_to_sdi(ct_ctx *ctx, const incr *in, ct_transform **t)
{
    ct_crs *merc = NULL;
    ct_status st = ct_crs_from_user(ctx, "EPSG:3857", &merc);
    if (st == CT_OK)
        st = ct_transform_new(ctx, merc, in->sdi_crs, t);
    ct_crs_free(merc);
    return st;
}

/* The features around the dirty tiles of zoom z (margin metres). */
static ct_status vread_dirty(ct_ctx *ctx, vsrc *vs, const incr *in, int z, double margin, vdata *d, double merc[4],
                             double ll[4], uint64_t *nfeat)
{
    ct_transform *t = NULL;
    size_t nbox = 0;
    double (*box)[4] = NULL;
    ct_status st = merc_to_sdi(ctx, in, &t);
    if (st == CT_OK && !(box = incr_boxes(ctx, in, t, z, margin, &nbox)))
        st = ct_error(ctx, CT_ERR_CRS, "%s: cannot place the changed area in the SDI's CRS", vs->name);
    ct_transform_free(t);
    if (st == CT_OK)
        st = vread_vrt(ctx, vs, in, (const double(*)[4])box, nbox, d, merc, ll, nfeat);
    free(box);
    return st;
}

/* Keeps the features whose box meets r (EPSG:3857), and sets the bounds from them. */
static void vdata_keep(ct_ctx *ctx, vdata *d, const double r[4], double merc[4], double ll[4], uint64_t *nfeat)
{
    GEOSContextHandle_t gh = ct_geos(ctx);
    size_t k = 0;
    merc[0] = merc[1] = HUGE_VAL;
    merc[2] = merc[3] = -HUGE_VAL;
    for (size_t i = 0; i < d->nf; i++) {
        vfeat *f = &d->F[i];
        if (!box_meets(f->b, r)) {
            vfeat_free(gh, d, f);
            continue;
        }
        for (int c = 0; c < 4; c++)
            merc[c] = c < 2 ? fmin(merc[c], f->b[c]) : fmax(merc[c], f->b[c]);
        d->F[k++] = *f;
    }
    d->nf = k;
    *nfeat = k;
    ct_merc_to_lonlat(merc[0], merc[1], &ll[0], &ll[1]);
    ct_merc_to_lonlat(merc[2], merc[3], &ll[2], &ll[3]);
}

/* Reads the features whose box meets the region wm (EPSG:3857), marks those that meet one of
 * the boxes pick[0..npick) (SDI CRS) near, and keeps every feature that meets the extent of the
 * near ones widened by ring metres: the neighbours of a near feature, without which the
 * simplification would see other nodes than a full run (simplify_zoom), all meet that extent.
 * When that extent reaches beyond the region (features that large), it is read again. */
static ct_status vread_near(ct_ctx *ctx, vsrc *vs, const incr *in, const double (*pick)[4], size_t npick,
                            const double wm[4], double ring, vdata *d, double merc[4], double ll[4], uint64_t *nfeat)
{
    ct_transform *t = NULL;
    double wide[4], ext[4], r[4];
    ct_status st = merc_to_sdi(ctx, in, &t);
    if (st == CT_OK && ct_transform_bounds(ctx, t, wm, wide) != CT_OK)
        st = ct_error(ctx, CT_ERR_CRS, "%s: cannot place the changed area in the SDI's CRS", vs->name);
    if (st == CT_OK) {
        vs->pick = pick;
        vs->npick = npick;
        st = vread_vrt(ctx, vs, in, (const double(*)[4])&wide, 1, d, merc, ll, nfeat);
        vs->pick = NULL;
    }
    if (st == CT_OK) {
        ext[0] = ext[1] = HUGE_VAL;
        ext[2] = ext[3] = -HUGE_VAL;
        for (size_t i = 0; i < d->nf; i++)
            for (int c = 0; d->F[i].near && c < 4; c++)
                ext[c] = c < 2 ? fmin(ext[c], d->F[i].b[c] - ring) : fmax(ext[c], d->F[i].b[c] + ring);
        if (!(ext[0] <= ext[2])) /* nothing around the changes */
            vdata_keep(ctx, d, ext, merc, ll, nfeat);
        else if (ct_transform_bounds(ctx, t, ext, r) != CT_OK)
            st = ct_error(ctx, CT_ERR_CRS, "%s: cannot place the changed area in the SDI's CRS", vs->name);
        else {
            r[0] -= 1, r[1] -= 1, r[2] += 1, r[3] += 1;
            if (r[0] >= wide[0] && r[1] >= wide[1] && r[2] <= wide[2] && r[3] <= wide[3])
                vdata_keep(ctx, d, ext, merc, ll, nfeat);
            else {
                vdata_free(ctx, d);
                memset(d, 0, sizeof *d);
                *nfeat = 0;
                vs->pick = pick;
                vs->npick = npick;
                st = vread_vrt(ctx, vs, in, (const double(*)[4])&r, 1, d, merc, ll, nfeat);
                vs->pick = NULL;
            }
        }
    }
    ct_transform_free(t);
    return st;
}

/* The features around the dirty tiles of zoom z (margin metres), and their neighbours: one read
 * of the dirty area widened by a sixteenth of a tile holds them unless features are that large. */
static ct_status vread_tiles_near(ct_ctx *ctx, vsrc *vs, const incr *in, int z, double margin, vdata *d,
                                  double merc[4], double ll[4], uint64_t *nfeat)
{
    ct_transform *t = NULL;
    size_t nbox = 0;
    double (*box)[4] = NULL, wide[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    ct_status st = merc_to_sdi(ctx, in, &t);
    if (st == CT_OK && !(box = incr_boxes(ctx, in, t, z, margin, &nbox)))
        st = ct_error(ctx, CT_ERR_CRS, "%s: cannot place the changed area in the SDI's CRS", vs->name);
    ct_transform_free(t);
    double grow = margin + 2 * CT_MERC_HALF / (double)(1ull << z) / 16;
    for (size_t i = 0; st == CT_OK && i < in->dirty.nids[z]; i++) {
        int zz;
        uint32_t x, y;
        double b[4];
        ct_pmtiles_zxy(in->dirty.ids[z][i], &zz, &x, &y);
        ct_tile_bounds(z, x, y, b);
        for (int c = 0; c < 4; c++)
            wide[c] = c < 2 ? fmin(wide[c], b[c] - grow) : fmax(wide[c], b[c] + grow);
    }
    if (st == CT_OK)
        st = vread_near(ctx, vs, in, (const double(*)[4])box, nbox, wide, 0, d, merc, ll, nfeat);
    free(box);
    return st;
}

/* PATCH_RING: how far (metres) around the changed features a patching run reads their
 * neighbours' neighbours, so that the features whose simplification the changes touch see
 * the same vertex nodes and pins as in a full run: several parcels deep. */
enum { PATCH_RING = 150 };

/* The changed features, the features near them (their boxes meet a change's box, marked near)
 * and the neighbours around those, PATCH_RING metres deep. */
static ct_status vread_changed(ct_ctx *ctx, vsrc *vs, const incr *in, vdata *d, double merc[4], double ll[4],
                               uint64_t *nfeat)
{
    double wide[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (size_t i = 0; i < in->dirty.nbox; i++)
        for (int c = 0; c < 4; c++)
            wide[c] = c < 2 ? fmin(wide[c], in->dirty.box[4 * i + c] - 2 * PATCH_RING)
                            : fmax(wide[c], in->dirty.box[4 * i + c] + 2 * PATCH_RING);
    return vread_near(ctx, vs, in, (const double(*)[4])in->chg, in->nchg, wide, PATCH_RING, d, merc, ll, nfeat);
}

/* A change moves the nodes on the rings of the features around it (marked near by
 * vread_changed), and below the maximum zoom their simplification can then change anywhere
 * along the chains between nodes: a long neighbour's far end too. So the tiles over the near
 * features' whole boxes are dirty at those zooms (margins as incr_build). */
static ct_status incr_widen_near(ct_ctx *ctx, incr *in, const vdata *d, int minz, int maxz, double a, double b,
                                 const char *output)
{
    dirty_set *ds = &in->dirty;
    for (size_t i = 0; i < d->nf; i++) {
        if (!d->F[i].near)
            continue;
        if (ct_grow(&ds->box, &ds->capbox, ds->nbox + 1, 4 * sizeof *ds->box))
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", output);
        memcpy(ds->box + 4 * ds->nbox++, d->F[i].b, sizeof d->F[i].b);
    }
    for (int z = minz; z < maxz; z++)
        if (!dirty_build(ds, z, a + b * 2 * CT_MERC_HALF / (double)(1ull << z)))
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", output);
    return CT_OK;
}

/* Reads the features a vector run needs: all of them, or in an incremental run those around the
 * dirty tiles of zoom minz (margin metres) and, for simplified MVT (simplify 1), their
 * neighbours, or for patched MVT tiles (simplify 2) only the changed features' surroundings
 * (vread_changed); none when nothing changed (*idle). Fixes the zoom range and the bounds. */
static ct_status vread_run(ct_ctx *ctx, const ct_tile_opts *o, incr *in, vdata *d, ct_tile_summary *sum,
                           double ll[4], int default_max, double mg_a, double mg_b, int simplify, int *minz, int *maxz,
                           int *idle)
{
    ct_status st;
    double merc[4];
    *idle = 0;
    vsrc vs = {o->input, o->input, o->fields, o->nfields, in->sdi, in->sdi_layer, in->on, NULL, 0};
    if (in->on) {
        *minz = o->minzoom;
        *maxz = o->maxzoom;
        if ((st = incr_build(ctx, in, *minz, *maxz, mg_a, mg_b, o->output)))
            return st;
        if ((*idle = incr_idle(in, *minz))) {
            incr_bounds(in, merc, ll, 0);
            sum->tiles_in_range = ct_tile_count(merc, *minz, *maxz);
            return CT_OK;
        }
    }
    if (in->on && !in->dirty.all) {
        double margin = mg_a + mg_b * 2 * CT_MERC_HALF / (double)(1ull << *minz);
        if ((st = simplify == 2 ? vread_changed(ctx, &vs, in, d, merc, ll, &sum->features)
                  : simplify    ? vread_tiles_near(ctx, &vs, in, *minz, margin, d, merc, ll, &sum->features)
                                : vread_dirty(ctx, &vs, in, *minz, margin, d, merc, ll, &sum->features)))
            return st;
        if (simplify == 2 && (st = incr_widen_near(ctx, in, d, *minz, *maxz, mg_a, mg_b, o->output)))
            return st;
    } else if ((st = vread_vrt(ctx, &vs, in, NULL, 0, d, merc, ll, &sum->features)))
        return st;
    if (in->on) {
        incr_bounds(in, merc, ll, d->nf > 0);
        sum->tiles_in_range = ct_tile_count(merc, *minz, *maxz);
        return CT_OK;
    }
    return vector_zooms(ctx, o, merc, default_max, sum, minz, maxz);
}

/* One dirty tile of a patching run: its old bytes and layer, and what mvt_patch made. */
typedef struct ptile {
    int z;
    uint32_t x, y;
    uint8_t *raw;
    size_t len;
    olayer ol;
    vtile_res res;
} ptile;

/* The dirty tiles of an incremental MVT run, patched from the old ones (mvt_patch) with the
 * features d that vread_changed read. The few features are simplified for every zoom first and
 * all tiles are patched in one parallel loop: each parallel region costs an idle thread a spin
 * of several milliseconds, more than the work of a small zoom. Every tile is made before any
 * is stored, so that a tile that cannot be patched (*declined) leaves the sink untouched for a
 * run that makes them anew. */
static ct_status patch_zooms(ct_ctx *ctx, const ct_tile_opts *o, incr *in, sink *S, ct_tile_summary *sum,
                             const vdata *d, GEOSContextHandle_t *gh, int nthreads, int minz, int maxz, double t0,
                             int *declined)
{
    ct_status st = CT_OK;
    patch_set ps = {.keys = in->keys, .nkeys = in->nkeys, .fkey = -1};
    GEOSGeometry **simp[31] = {0};
    ptile *P = NULL;
    size_t np = 0;
    *declined = 0;
    for (int k = 0; d->nl == 1 && k < d->L[0].nf; k++)
        if (d->L[0].keep[k] && !strcmp(d->L[0].fname[k], "fkey"))
            ps.fkey = k;
    if (d->nl != 1 || ps.fkey < 0 || !in->nkeys) { /* features known by their natural key only */
        *declined = 1;
        return CT_OK;
    }
    for (int z = minz; z <= maxz; z++)
        np += in->dirty.nids[z];
    ps.near = malloc((d->nf + 1) * sizeof *ps.near);
    ps.fid = malloc((d->nf + 1) * sizeof *ps.fid);
    P = calloc(np + 1, sizeof *P);
    if (!ps.near || !ps.fid || !P) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    qsort(in->keys, in->nkeys, sizeof *in->keys, cmp_str);
    for (size_t i = 0; i < d->nf; i++)
        if (d->F[i].near) {
            ps.near[ps.nnear] = i;
            ps.fid[ps.nnear++] = d->F[i].fid; /* d is in fid order (vread) */
        }
    /* a few thousand features: simplified on one thread (see above) */
    int sthreads = d->nf > 16384 ? nthreads : 1;
    for (int z = minz; z < maxz && st == CT_OK; z++)
        if (!(simp[z] = calloc(d->nf + 1, sizeof *simp[z])) ||
            !simplify_zoom(d, MVT_SIMPLIFY * (2 * CT_MERC_HALF / (double)(1ull << z)) / MVT_EXTENT, simp[z], gh,
                           sthreads))
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
    const char *ext = S->kind == CT_SINK_DIR ? S->ext : "pbf";
    size_t k = 0;
    for (int z = minz; z <= maxz && st == CT_OK && !*declined; z++)
        for (size_t t = 0; t < in->dirty.nids[z] && st == CT_OK && !*declined; t++, k++) {
            ptile *p = &P[k];
            ct_pmtiles_zxy(in->dirty.ids[z][t], &p->z, &p->x, &p->y);
            if ((st = old_tile(ctx, &in->old, ext, z, p->x, p->y, &p->raw, &p->len)) == CT_OK && p->raw &&
                !olayer_parse(p->raw, p->len, &p->ol))
                *declined = 1;
        }
    int dec = *declined, gz = S->kind != CT_SINK_DIR;
    if (st == CT_OK && !dec) {
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) reduction(| : dec)
        for (size_t t = 0; t < np; t++) {
            ptile *p = &P[t];
            int dt = 0;
            mvt_patch(gh[omp_get_thread_num()], d, p->z < maxz ? simp[p->z] : NULL, p->z, p->x, p->y,
                      p->raw ? &p->ol : NULL, p->raw, &ps, gz, &p->res, &dt);
            dec |= dt;
        }
    }
    *declined = dec;
    if (st == CT_OK && *declined)
        ct_log(ctx, CT_LOG_INFO, "%s: an old tile cannot be patched: the dirty tiles are made anew", o->output);
    for (size_t t = 0; t < np && st == CT_OK && !*declined; t++) {
        vtile_res *r = &P[t].res;
        if (r->failed)
            st = ct_error(ctx, CT_ERR_NOMEM, "tile %d/%u/%u: out of memory", P[t].z, P[t].x, P[t].y);
        else if (r->data) {
            st = sink_put(ctx, S, P[t].z, P[t].x, P[t].y, r->data, r->len);
            sum->tiles_patched++;
        } else
            sum->tiles_empty++;
        sum->features_dropped += r->dropped;
        if (st == CT_OK && (t + 1 == np || P[t + 1].z != P[t].z)) {
            double el = now_s() - t0;
            char what[96];
            snprintf(what, sizeof what, "zoom %d: %zu tiles patched, %.0f tiles/s", P[t].z, t + 1,
                     (t + 1) / (el > 0 ? el : 1e-9));
            st = ct_progress(ctx, (double)(P[t].z - minz + 1) / (maxz - minz + 1) * 0.98, what);
        }
    }
out:
    for (size_t t = 0; P && t < np; t++) {
        olayer_free(&P[t].ol);
        free(P[t].raw);
        free(P[t].res.data);
    }
    free(P);
    for (int z = 0; z < 31; z++) {
        for (size_t i = 0; simp[z] && i < d->nf; i++)
            if (simp[z][i])
                GEOSGeom_destroy_r(gh[0], simp[z][i]);
        free(simp[z]);
    }
    free(ps.near);
    free(ps.fid);
    return st;
}

static ct_status run_mvt(ct_ctx *ctx, const ct_tile_opts *o, incr *in, sink *S, ct_tile_summary *sum, double ll[4],
                         char **layers_json, int *minz_out, int *maxz_out, double t0)
{
    vdata d = {0};
    ct_status st;
    tile_groups g = {0};
    GEOSGeometry **simp = NULL; /* the features simplified for the zoom below maxz being made */
    int nthreads = ct_ctx_threads(ctx), idle = 0;
    GEOSContextHandle_t *gh = calloc((size_t)nthreads, sizeof *gh);
    if (!gh)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
    /* zooms: from the one where everything fits in a tile, to 16 */
    int minz = 0, maxz = 0;
    /* an incremental run from the SDI patches its dirty tiles, unless one cannot be patched */
    int patch = in->on && in->sdi && !in->dirty.all && in->nchg > 0, declined = 0;
    for (int i = 0; i < nthreads; i++)
        gh[i] = GEOS_init_r();
again:
    if ((st = vread_run(ctx, o, in, &d, sum, ll, 16, 0, (double)MVT_BUFFER / MVT_EXTENT, patch ? 2 : 1, &minz, &maxz,
                        &idle)))
        goto out;
    *minz_out = minz;
    *maxz_out = maxz;
    ct_log(ctx, CT_LOG_DEBUG, "%s: %llu features read: %.3f s", o->output, (unsigned long long)d.nf, now_s() - t0);
    if (idle) {
        if (!(*layers_json = strdup(in->old.vector_layers ? in->old.vector_layers : "{\"vector_layers\":[]}")))
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    if (patch) {
        if ((st = patch_zooms(ctx, o, in, S, sum, &d, gh, nthreads, minz, maxz, t0, &declined)) || !declined) {
            if (st == CT_OK && !(*layers_json = vector_layers_json(&d, minz, maxz)))
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
            goto out;
        }
        vdata_free(ctx, &d);
        memset(&d, 0, sizeof d);
        sum->features = 0;
        patch = 0;
        goto again;
    }
    if (!(*layers_json = vector_layers_json(&d, minz, maxz)) || !(simp = calloc(d.nf + 1, sizeof *simp))) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    uint64_t done = 0;
    for (int z = minz; z <= maxz && st == CT_OK; z++) {
        double tsz = 2 * CT_MERC_HALF / (double)(1ull << z), bufm = tsz * MVT_BUFFER / MVT_EXTENT;
        if ((st = group_tiles(ctx, o->output, &d, z, bufm, &g)))
            goto out;
        if (z < maxz && !simplify_zoom(&d, MVT_SIMPLIFY * tsz / MVT_EXTENT, simp, gh, nthreads)) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
            goto out;
        }
        vtile_res *res = calloc(g.ntiles + 1, sizeof *res);
        if (!res) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
            goto out;
        }
        int gz = S->kind != CT_SINK_DIR;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 4)
        for (size_t t = 0; t < g.ntiles; t++) {
            int zz;
            uint32_t tx, ty;
            ct_pmtiles_zxy(g.pairs[g.start[t]].id, &zz, &tx, &ty);
            if (!tile_in_run(in, o, z, tx, ty, minz, maxz)) {
                res[t].skip = 1;
                continue;
            }
            mvt_tile(gh[omp_get_thread_num()], &d, z < maxz ? simp : NULL, z, tx, ty, g.fidx + g.start[t],
                     g.start[t + 1] - g.start[t], gz, &res[t]);
        }
        st = store_tiles(ctx, S, sum, z, minz, maxz, &g, res, &done, t0);
        free(res);
    }
    if (sum->features_dropped)
        ct_log(ctx, CT_LOG_WARN, "%s: %llu feature pieces left out of tiles over the limits (%d features, %d bytes per layer)",
               o->output, (unsigned long long)sum->features_dropped, MVT_MAX_FEATURES, MVT_MAX_LAYER_BYTES);
out:
    for (size_t i = 0; simp && i < d.nf; i++)
        if (simp[i])
            GEOSGeom_destroy_r(ct_geos(ctx), simp[i]);
    free(simp);
    for (int i = 0; i < nthreads; i++)
        if (gh[i])
            GEOS_finish_r(gh[i]);
    free(gh);
    tile_groups_free(&g);
    vdata_free(ctx, &d);
    return st;
}

/* ======================================================================================== */
/* Vector layers drawn with a class style (cairo)                                            */

/* Draws one tile: fills at 4 × 4 supersampling without antialiasing, so that every subpixel
 * belongs to exactly one polygon and two neighbours leave no background line between them
 * (the conflation artefact of per-polygon antialiasing), then averaged down — antialiased edges
 * all the same. Every feature is drawn whole, in one global pixel grid, so tiles meet without
 * seams; features reach into a tile from a buffer of the outline width. */
enum { SS = 4 };

static void path_ring(GEOSContextHandle_t h, cairo_t *cr, const GEOSGeometry *ring, const double b[4], double sc)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h, cs, &n);
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(h, cs, i, &x, &y);
        double px = (x - b[0]) * sc, py = (b[3] - y) * sc;
        if (i)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
    }
}

static int path_geom(GEOSContextHandle_t h, cairo_t *cr, const GEOSGeometry *g, const double b[4], double sc)
{
    int t = GEOSGeomTypeId_r(h, g), area = 0;
    if (t == GEOS_POLYGON) {
        path_ring(h, cr, GEOSGetExteriorRing_r(h, g), b, sc);
        cairo_close_path(cr);
        for (int r = 0; r < GEOSGetNumInteriorRings_r(h, g); r++) {
            path_ring(h, cr, GEOSGetInteriorRingN_r(h, g, r), b, sc);
            cairo_close_path(cr);
        }
        return 1;
    }
    if (t == GEOS_LINESTRING || t == GEOS_LINEARRING) {
        path_ring(h, cr, g, b, sc);
        return 0;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_MULTILINESTRING || t == GEOS_GEOMETRYCOLLECTION)
        for (int i = 0; i < GEOSGetNumGeometries_r(h, g); i++)
            area |= path_geom(h, cr, GEOSGetGeometryN_r(h, g, i), b, sc);
    return area;
}

static void draw_tile(GEOSContextHandle_t h, const vdata *d, const ct_tile_style *st, const ct_rgba *fill, int z,
                      uint32_t x, uint32_t y, const size_t *fidx, size_t n, uint8_t *rgba)
{
    int W = TS * SS;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, W);
    cairo_t *cr = cairo_create(surf);
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    double b[4];
    ct_tile_bounds(z, x, y, b);
    double sc = W / (b[2] - b[0]);
    /* fills (and lines) in input order, then the outlines over them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            const vfeat *f = &d->F[fidx[i]];
            ct_rgba c = fill[fidx[i]];
            cairo_new_path(cr);
            int area = path_geom(h, cr, f->g, b, sc);
            if (pass == 0 && area && c.a) {
                cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0);
                cairo_fill(cr);
            } else if (pass == 0 && !area && c.a) {
                cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, c.a / 255.0);
                cairo_set_line_width(cr, st->line_width * SS);
                cairo_stroke(cr);
            } else if (pass == 1 && area && st->outline.a && st->outline_width > 0) {
                ct_rgba o = st->outline;
                cairo_set_source_rgba(cr, o.r / 255.0, o.g / 255.0, o.b / 255.0, o.a / 255.0);
                cairo_set_line_width(cr, st->outline_width * SS);
                cairo_stroke(cr);
            }
        }
    cairo_surface_flush(surf);
    const uint8_t *px = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (int oy = 0; oy < TS; oy++)
        for (int ox = 0; ox < TS; ox++) {
            unsigned s[4] = {0, 0, 0, 0}; /* premultiplied a, r, g, b */
            for (int sy = 0; sy < SS; sy++) {
                const uint32_t *row = (const uint32_t *)(px + (size_t)(oy * SS + sy) * stride);
                for (int sx = 0; sx < SS; sx++) {
                    uint32_t v = row[ox * SS + sx];
                    s[0] += v >> 24;
                    s[1] += (v >> 16) & 255;
                    s[2] += (v >> 8) & 255;
                    s[3] += v & 255;
                }
            }
            uint8_t *o = rgba + ((size_t)oy * TS + ox) * 4;
            unsigned a = s[0];
            if (!a) {
                o[0] = o[1] = o[2] = o[3] = 0;
                continue;
            }
            for (int k = 0; k < 3; k++) {
                unsigned v = (s[k + 1] * 255 + a / 2) / a;
                o[k] = (uint8_t)(v > 255 ? 255 : v);
            }
            o[3] = (uint8_t)((a + SS * SS / 2) / (SS * SS));
        }
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
}

static ct_status run_draw(ct_ctx *ctx, const ct_tile_opts *o, incr *in, sink *S, ct_tile_summary *sum,
                          double ll[4], int *minz_out, int *maxz_out, double t0)
{
    vdata d = {0};
    ct_status st;
    const ct_tile_style *sty = o->style;
    tile_groups g = {0};
    ct_rgba *fill = NULL;
    int nthreads = ct_ctx_threads(ctx), idle = 0, minz = 0, maxz = 0;
    GEOSContextHandle_t *gh = calloc((size_t)nthreads, sizeof *gh);
    if (!gh)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
    /* the margin of a drawn tile: half the widest line and a pixel (bufm below) */
    if ((st = vread_run(ctx, o, in, &d, sum, ll, 17, 0, (fmax(sty->outline_width, sty->line_width) / 2 + 1) / TS, 0,
                        &minz, &maxz, &idle)))
        goto out;
    *minz_out = minz;
    *maxz_out = maxz;
    if (idle)
        goto out;
    const char *cfield = o->class_field ? o->class_field : sty->field;
    /* each feature's fill from its class */
    fill = calloc(d.nf + 1, sizeof *fill);
    int *fld = calloc((size_t)d.nl + 1, sizeof *fld);
    if (!fill || !fld) {
        free(fld);
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    for (int l = 0; l < d.nl; l++) {
        fld[l] = -1;
        for (int k = 0; cfield && k < d.L[l].nf; k++)
            if (!strcasecmp(d.L[l].fname[k], cfield))
                fld[l] = k;
        if (cfield && fld[l] < 0) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s: layer %s has no field %s (named by %s)", o->input,
                          d.L[l].name, cfield, o->class_field ? "--class-field" : sty->name);
            free(fld);
            goto out;
        }
    }
    for (size_t i = 0; i < d.nf; i++) {
        fill[i] = sty->fill_default;
        int k = fld[d.F[i].layer];
        if (k < 0 || !d.F[i].v)
            continue;
        char num[64];
        const vval *v = &d.F[i].v[k];
        const char *key = v->type == 1 ? v->s : num;
        if (v->type == 2)
            snprintf(num, sizeof num, "%lld", v->i);
        else if (v->type == 3)
            snprintf(num, sizeof num, "%g", v->d);
        else if (v->type != 1)
            continue;
        for (int c = 0; c < sty->nclasses; c++)
            if (!strcmp(sty->classes[c].key, key)) {
                fill[i] = sty->classes[c].fill;
                break;
            }
    }
    free(fld);
    for (int i = 0; i < nthreads; i++)
        gh[i] = GEOS_init_r();
    int level = o->level ? o->level : PNG_LEVEL, quality = o->quality ? o->quality : 80;
    uint64_t done = 0;
    for (int z = minz; z <= maxz && st == CT_OK; z++) {
        double px_m = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << z));
        double bufm = (fmax(sty->outline_width, sty->line_width) / 2 + 1) * px_m;
        if ((st = group_tiles(ctx, o->output, &d, z, bufm, &g)))
            goto out;
        vtile_res *res = calloc(g.ntiles + 1, sizeof *res);
        if (!res) {
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
            goto out;
        }
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 2)
        for (size_t t = 0; t < g.ntiles; t++) {
            int zz;
            uint32_t tx, ty;
            ct_pmtiles_zxy(g.pairs[g.start[t]].id, &zz, &tx, &ty);
            if (!tile_in_run(in, o, z, tx, ty, minz, maxz)) {
                res[t].skip = 1;
                continue;
            }
            uint8_t *img = malloc((size_t)TS * TS * 4);
            if (!img) {
                res[t].failed = 1;
                continue;
            }
            draw_tile(gh[omp_get_thread_num()], &d, sty, fill, z, tx, ty, g.fidx + g.start[t], g.start[t + 1] - g.start[t],
                      img);
            if (!rgba_empty(img, (size_t)TS * TS)) {
                res[t].data = encode_tile(img, o->format, quality, level, &res[t].len);
                res[t].failed = !res[t].data;
            }
            free(img);
        }
        st = store_tiles(ctx, S, sum, z, minz, maxz, &g, res, &done, t0);
        free(res);
    }
out:
    for (int i = 0; i < nthreads; i++)
        if (gh[i])
            GEOS_finish_r(gh[i]);
    free(gh);
    tile_groups_free(&g);
    free(fill);
    vdata_free(ctx, &d);
    return st;
}

/* Reads what the run needs to know about the input, and the data bounds. */
static ct_status prepare(ct_ctx *ctx, const ct_tile_opts *o, job *J, double ll[4], int *auto_minz, int *auto_maxz)
{
    ct_raster *r = NULL;
    ct_crs *merc = NULL, *wgs = NULL;
    ct_transform *tm = NULL, *tw = NULL;
    ct_status st;
    if ((st = ct_raster_open(ctx, o->input, &r)))
        return st;
    const ct_crs *crs = ct_raster_crs(r);
    double gt[6];
    if (!crs || !ct_raster_geotransform(r, gt)) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: no %s: cannot place it on a map (assign one with gdal_edit.py -a_srs)",
                      o->input, crs ? "geotransform" : "CRS");
        goto out;
    }
    int nb = ct_raster_band_count(r), w = ct_raster_width(r), h = ct_raster_height(r);
    J->mode = o->mode;
    if (J->mode == CT_TILE_AUTO)
        J->mode = nb >= 3 && ct_raster_band_dtype(r, 1) == CT_BYTE ? CT_TILE_RGB : CT_TILE_DEM;
    J->band = o->band ? o->band : 1;
    if (J->mode == CT_TILE_RGB) {
        if (nb != 1 && nb < 3) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: %d bands: an RGB raster has 3 (or 4 with alpha)", o->input, nb);
            goto out;
        }
        J->nbands_rgb = nb >= 3 ? 3 : 1;
        J->src_alpha = nb >= 4 ? 4 : 0;
        J->has_nodata = ct_raster_band_nodata(r, 1, &J->nodata);
    } else {
        if (J->band < 1 || J->band > nb) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: no band %d (it has %d)", o->input, J->band, nb);
            goto out;
        }
        if (!o->style || !o->style->nstops) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: a colour ramp style is needed to draw a %s", o->input,
                          J->mode == CT_TILE_DEM ? "DEM" : "depth raster");
            goto out;
        }
        J->has_nodata = ct_raster_band_nodata(r, J->band, &J->nodata);
        ct_raster_band_scale(r, J->band, &J->scale, &J->offset); /* e.g. ct-flood's depths in mm */
    }
    J->src_wkt = strdup(ct_crs_wkt(crs));
    double ext[4] = {gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1], gt[3]};
    if (gt[5] > 0) {
        ext[1] = gt[3];
        ext[3] = gt[3] + h * gt[5];
    }
    if ((st = ct_crs_from_user(ctx, "EPSG:3857", &merc)) || (st = ct_crs_from_user(ctx, "EPSG:4326", &wgs)) ||
        (st = ct_transform_new(ctx, crs, merc, &tm)) || (st = ct_transform_new(ctx, crs, wgs, &tw)) ||
        (st = ct_transform_bounds(ctx, tm, ext, J->merc)) || (st = ct_transform_bounds(ctx, tw, ext, ll)))
        goto out;
    J->merc_wkt = strdup(ct_crs_wkt(merc));
    {
        /* the operation PROJ chose is known once a point went through it */
        double cx = (ext[0] + ext[2]) / 2, cy = (ext[1] + ext[3]) / 2;
        ct_transform_points(ctx, tm, 1, &cx, &cy, NULL);
        ct_ctx_clear_error(ctx);
        const char *def = ct_transform_definition(tm);
        if (def && (!strncmp(def, "proj=", 5) || !strncmp(def, "+proj=", 6)))
            J->coord_op = strdup(def);
    }
    /* automatic zooms, as gdal2tiles chooses them: the first zoom at least as fine as the
     * source, and the zoom where the whole raster fits in one tile */
    double mw = J->merc[2] - J->merc[0], mh = J->merc[3] - J->merc[1];
    double res = fmin(mw / w, mh / h);
    J->src_res = res;
    int zmax = (int)ceil(log2(2 * CT_MERC_HALF / (TS * res)) - 1e-9);
    int zmin = (int)floor(log2(2 * CT_MERC_HALF / fmax(mw, mh)));
    *auto_maxz = zmax < 0 ? 0 : zmax > 24 ? 24 : zmax;
    *auto_minz = zmin < 0 ? 0 : zmin > *auto_maxz ? *auto_maxz : zmin;
out:
    ct_transform_free(tm);
    ct_transform_free(tw);
    ct_crs_free(merc);
    ct_crs_free(wgs);
    ct_raster_close(r);
    return st;
}


/* The changes of the input's layer (or raster) after `since`, as boxes in EPSG:3857. */
typedef struct change_ctx {
    ct_ctx *ctx;
    incr *in;
    const char *layer, *raster; /* one of them */
    ct_transform *t;
    int projected; /* the SDI's CRS is projected (metres) */
    ct_status st;
} change_ctx;

/* CHANGE_CORNERS: the largest side (metres) of a change box moved to EPSG:3857 by its four
 * corners alone. Between two conformal projections a straight edge of length L bows by about
 * L^2 / 8 times the gradient of the log scale factor, which for Web Mercator is tan(latitude) /
 * 6.4e6 per metre (under 2.7e-7 below 60 degrees): for 200 m under 1.4 mm, inside the
 * centimetre every box gets. Larger boxes have their edges sampled (ct_transform_bounds): a
 * nightly run's hundreds of parcel boxes cost a twentieth as many points. */
enum { CHANGE_CORNERS = 200 };

static ct_status change_box(change_ctx *cc, const double b[4], double m[4])
{
    if (!cc->projected || b[2] - b[0] > CHANGE_CORNERS || b[3] - b[1] > CHANGE_CORNERS)
        return ct_transform_bounds(cc->ctx, cc->t, b, m);
    double x[4] = {b[0], b[2], b[2], b[0]}, y[4] = {b[1], b[1], b[3], b[3]};
    if (ct_transform_points(cc->ctx, cc->t, 4, x, y, NULL) != CT_OK) { /* sampled edges may still pass */
        ct_ctx_clear_error(cc->ctx);
        return ct_transform_bounds(cc->ctx, cc->t, b, m);
    }
    for (int i = 0; i < 4; i++) {
        m[0] = i ? fmin(m[0], x[i]) : x[i];
        m[1] = i ? fmin(m[1], y[i]) : y[i];
        m[2] = i ? fmax(m[2], x[i]) : x[i];
        m[3] = i ? fmax(m[3], y[i]) : y[i];
    }
    return CT_OK;
}

static ct_status take_change(void *user, const ct_sdi_change *c)
{
    change_ctx *cc = user;
    dirty_set *d = &cc->in->dirty;
    if (cc->layer ? strcmp(c->layer, cc->layer) : strcmp(c->layer, "rasters") || strcmp(c->key, cc->raster))
        return CT_OK;
    if (!(isfinite(c->bbox[0]) && isfinite(c->bbox[1]) && isfinite(c->bbox[2]) && isfinite(c->bbox[3]))) {
        d->all = 1; /* a change without a box: everything may have moved */
        return CT_OK;
    }
    double m[4];
    if (change_box(cc, c->bbox, m) != CT_OK) {
        ct_ctx_clear_error(cc->ctx);
        d->all = 1;
        return CT_OK;
    }
    if (ct_grow(&d->box, &d->capbox, d->nbox + 1, 4 * sizeof *d->box))
        return ct_error(cc->ctx, CT_ERR_NOMEM, "out of memory");
    /* a centimetre more: ct_transform_bounds samples the box's edges */
    double *b = d->box + 4 * d->nbox++;
    b[0] = m[0] - 0.01, b[1] = m[1] - 0.01, b[2] = m[2] + 0.01, b[3] = m[3] + 0.01;
    if (cc->layer) { /* what a nightly MVT run patches its tiles with (mvt_patch) */
        incr *in = cc->in;
        char *key = strdup(c->key ? c->key : "");
        if (!key || ct_grow(&in->chg, &in->capchg, in->nchg + 1, sizeof *in->chg) ||
            ct_grow(&in->keys, &in->capkeys, in->nkeys + 1, sizeof *in->keys)) {
            free(key);
            return ct_error(cc->ctx, CT_ERR_NOMEM, "out of memory");
        }
        memcpy(in->chg[in->nchg++], c->bbox, sizeof c->bbox);
        in->keys[in->nkeys++] = key;
    }
    return CT_OK;
}

/* An "sdi:NAME" input: opens the SDI, resolves NAME into *oo (the dataset to read), and, when
 * OUTPUT holds a tileset made from the same input, prepares an incremental run. */
static ct_status sdi_setup(ct_ctx *ctx, const ct_tile_opts *o, const char *name, ct_tile_opts *oo, ct_sdi **sdi,
                           ct_sdi_input *sin, incr *in, int *vector, ct_tile_summary *sum)
{
    ct_status st;
    if (!o->sdi)
        return ct_error(ctx, CT_ERR_USAGE, "%s: an SDI input needs --sdi SDI (or $CT_SDI)", o->input);
    if ((st = ct_sdi_open(ctx, o->sdi, sdi)) || (st = ct_sdi_resolve(ctx, *sdi, name, sin)))
        return st;
    long long current = ct_sdi_current_version(*sdi);
    sum->sdi_version = current;
    int draw = 0;
    const char *ext = o->format == CT_TILE_WEBP ? "webp" : "png";
    if (sin->layer) {
        const ct_sdi_layer_def *def = ct_sdi_layer_schema((ct_sdi_layer)ct_sdi_layer_by_name(name));
        in->sdi = *sdi;
        in->sdi_view = sin->layer;
        in->sdi_layer = def->name;
        in->sdi_crs = ct_sdi_crs(*sdi);
        *vector = 1;
        draw = o->style && o->style->nclasses > 0;
        if (!draw)
            ext = "pbf";
    } else
        oo->input = sin->path;
    if (o->full || o->shard_n > 0) /* a shard is always made whole */
        return CT_OK;
    ct_tile_sink_kind kind = sink_kind_of(o->output, o->sink);
    if (oldset_open(ctx, o->output, kind, &in->old) != CT_OK) {
        /* something is there that is not a tileset ct-tile made: replaced by a full run */
        ct_log(ctx, CT_LOG_WARN, "%s; every tile is made", ct_ctx_errmsg(ctx));
        ct_ctx_clear_error(ctx);
        oldset_close(&in->old);
        if (o->since > 0)
            return ct_error(ctx, CT_ERR_USAGE, "%s: --since %lld needs a tileset that ct-tile made there", o->output,
                            o->since);
        return CT_OK;
    }
    oldset *old = &in->old;
    int same = old->exists && old->has_sdi && old->input && !strcmp(old->input, o->input) && old->format &&
               !strcmp(old->format, ext);
    if (!same) {
        if (o->since > 0)
            return ct_error(ctx, CT_ERR_USAGE, "%s: --since %lld needs the tileset that an earlier run made there "
                            "from %s (%s)", o->output, o->since, o->input,
                            !old->exists ? "there is none" : !old->has_sdi ? "it records no SDI version"
                            : old->input && strcmp(old->input, o->input) ? "it was made from another input"
                                                                         : "it has another tile format");
        return CT_OK;
    }
    if ((o->minzoom >= 0 && o->minzoom != old->minzoom) || (o->maxzoom >= 0 && o->maxzoom != old->maxzoom)) {
        if (o->since > 0)
            return ct_error(ctx, CT_ERR_USAGE, "%s: --since with zooms %d-%d, but the tileset has %d-%d", o->output,
                            o->minzoom, o->maxzoom, old->minzoom, old->maxzoom);
        ct_log(ctx, CT_LOG_INFO, "%s: zooms differ from the tileset's (%d-%d): every tile is made", o->output,
               old->minzoom, old->maxzoom);
        return CT_OK;
    }
    /* changes between the tileset's version and a later --since would never be made */
    if (o->since > old->sdi_version)
        return ct_error(ctx, CT_ERR_USAGE, "%s: --since %lld, but the tileset was made from version %lld: the "
                        "changes in between would be missed (give --since %lld or less)", o->output, o->since,
                        old->sdi_version, old->sdi_version);
    long long since = o->since > 0 ? o->since : old->sdi_version;
    if (since > current)
        return ct_error(ctx, CT_ERR_INVALID, "%s: made from version %lld of %s, which is only at version %lld: "
                        "another SDI? (give --full)", o->output, since, o->sdi, current);
    in->on = 1;
    oo->minzoom = old->minzoom;
    oo->maxzoom = old->maxzoom;
    sum->since = since;
    ct_crs *merc = NULL;
    change_ctx cc = {ctx, in, sin->layer ? in->sdi_layer : NULL, sin->layer ? NULL : name, NULL,
                     !ct_crs_is_geographic(ct_sdi_crs(*sdi)), CT_OK};
    if ((st = ct_crs_from_user(ctx, "EPSG:3857", &merc)) == CT_OK &&
        (st = ct_transform_new(ctx, ct_sdi_crs(*sdi), merc, &cc.t)) == CT_OK)
        st = ct_sdi_changes(ctx, *sdi, since, take_change, &cc);
    ct_transform_free(cc.t);
    ct_crs_free(merc);
    return st;
}

/* Copies the old tiles that the run did not make again. */
static ct_status incr_keep(ct_ctx *ctx, incr *in, sink *S, int minz, int maxz)
{
    if (S->kind == CT_SINK_PMTILES && in->old.kind == CT_SINK_PMTILES) {
        S->old_fd = in->old.fd;
        S->old_data_off = in->old.pm_data_off;
    }
    keep_ctx k = {S, &in->old, &in->dirty, minz, maxz};
    return oldset_each(ctx, &in->old, keep_tile, &k);
}


ct_status ct_tile_run(ct_ctx *ctx, const ct_tile_opts *o)
{
    double t0 = now_s();
    ct_status st = CT_OK;
    job J = {0};
    sink S = {0};
    worker *W = NULL;
    bkey *blocks = NULL;
    block_res *res = NULL;
    int nthreads = ct_ctx_threads(ctx), nw = 0;
    upper U = {0};
    ct_tile_summary sum = {0};
    double ll[4] = {0};
    int aminz = 0, amaxz = 0;
    GIntBig cache_old = 0;
    ct_sdi *sdi = NULL;
    ct_sdi_input sin = {0};
    incr in = {0};
    ct_tile_opts oo = {0}; /* the options with an SDI input resolved */
    const char *sdiname = o ? ct_sdi_ref(o->input) : NULL, *inname = o ? o->input : NULL;
    ct_gdal_errs ge;
    ct_gdal_errs_push(&ge, ctx);
    sum.sdi_version = sum.since = -1;

    if (!o || !o->input || !o->output || !*o->output) {
        st = ct_error(ctx, CT_ERR_USAGE, "ct-tile: an input raster and an output are needed");
        goto out;
    }
    if (o->format != CT_TILE_PNG && o->format != CT_TILE_WEBP) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: unknown tile format", o->output);
        goto out;
    }
    if (o->quality < 0 || o->quality > 100 || o->level < 0 || o->level > 12) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: WebP quality must be 1-100 and PNG level 1-12", o->output);
        goto out;
    }
    if (o->shard_n < 0 || (o->shard_n > 0 && (o->shard_k < 0 || o->shard_k >= o->shard_n))) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: shard %d/%d: give K/N with 0 <= K < N", o->output, o->shard_k, o->shard_n);
        goto out;
    }
    int vector = o->mode == CT_TILE_MVT;
    oo = *o;
    if (sdiname) {
        vector = 0;
        if ((st = sdi_setup(ctx, o, sdiname, &oo, &sdi, &sin, &in, &vector, &sum)))
            goto out;
        o = &oo;
        ct_log(ctx, CT_LOG_DEBUG, "%s: SDI and changes read: %.3f s", o->output, now_s() - t0);
    } else if (o->mode == CT_TILE_AUTO) { /* a vector dataset that is not also a raster */
        ct_gdal_init();
        CPLPushErrorHandler(CPLQuietErrorHandler);
        GDALDatasetH h = GDALOpenEx(o->input, GDAL_OF_RASTER, NULL, NULL, NULL);
        if (!h && (h = GDALOpenEx(o->input, GDAL_OF_VECTOR, NULL, NULL, NULL)))
            vector = 1;
        if (h)
            GDALClose(h);
        CPLPopErrorHandler();
    }
    if (vector) {
        char *layers = NULL;
        int minz = 0, maxz = 0;
        int draw = o->style && o->style->nclasses > 0; /* a class style: drawn tiles, else MVT */
        S.kind = sink_kind_of(o->output, o->sink);
        S.path = o->output;
        S.ext = draw ? (o->format == CT_TILE_WEBP ? "webp" : "png") : "pbf";
        S.leaf_entries = o->pmtiles_leaf_entries;
        if ((st = sink_open(ctx, &S)) == CT_OK)
            st = draw ? run_draw(ctx, o, &in, &S, &sum, ll, &minz, &maxz, t0)
                      : run_mvt(ctx, o, &in, &S, &sum, ll, &layers, &minz, &maxz, t0);
        J.minz = minz;
        J.maxz = maxz;
        ct_log(ctx, CT_LOG_DEBUG, "%s: tiles made: %.3f s", o->output, now_s() - t0);
        if (st == CT_OK && in.on)
            st = incr_keep(ctx, &in, &S, minz, maxz);
        if (st == CT_OK) {
            tileset_meta m = {0};
            m.input = sdiname ? inname : NULL;
            m.sdi_version = sum.sdi_version;
            m.name = tileset_name(o->name, o->output);
            m.description = o->description;
            m.attribution = o->attribution;
            m.format = S.ext;
            m.minzoom = minz;
            m.maxzoom = maxz;
            m.vector_layers = layers;
            meta_bounds(m.bounds, ll);
            char shard[48];
            snprintf(shard, sizeof shard, "%d/%d", o->shard_k, o->shard_n);
            m.shard = o->shard_n > 0 ? shard : NULL;
            ct_log(ctx, CT_LOG_DEBUG, "%s: old tiles kept: %.3f s", o->output, now_s() - t0);
            st = sink_commit(ctx, &S, &m);
            ct_log(ctx, CT_LOG_DEBUG, "%s: published: %.3f s", o->output, now_s() - t0);
        }
        free(layers);
        if (st == CT_OK)
            st = ct_progress(ctx, 1.0, "done");
        goto out;
    }
    if (o->shard_n > 0) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: --shard: raster pyramids are not sharded (their lower zooms are "
                      "averaged across blocks)", o->input);
        goto out;
    }
    J.o = o;
    J.style = o->style;
    J.quality = o->quality ? o->quality : 80;
    J.level = o->level ? o->level : PNG_LEVEL;
    J.ralg = o->resampling == CT_RESAMPLE_CUBIC ? GRA_Cubic : o->resampling == CT_RESAMPLE_NEAREST ? GRA_NearestNeighbour
                                                                                                  : GRA_Bilinear;
    if ((st = prepare(ctx, o, &J, ll, &aminz, &amaxz)))
        goto out;
    if (J.mode != CT_TILE_RGB && J.style && J.style->nstops > 0 && !ramp_lut_build(&J.lut, J.style)) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    J.minz = o->minzoom >= 0 ? o->minzoom : aminz;
    J.maxz = o->maxzoom >= 0 ? o->maxzoom : amaxz;
    if (o->minzoom >= 0 && o->maxzoom < 0 && J.maxz < J.minz)
        J.maxz = J.minz;
    if (o->maxzoom >= 0 && o->minzoom < 0 && J.minz > J.maxz)
        J.minz = J.maxz;
    if (J.minz < 0 || J.maxz > 30 || J.minz > J.maxz) {
        st = ct_error(ctx, CT_ERR_USAGE, "zoom range %d-%d: zooms go from 0 to 30, minimum first", J.minz, J.maxz);
        goto out;
    }
    uint64_t total = ct_tile_count(J.merc, J.minz, J.maxz);
    sum.tiles_in_range = total;
    if (total > CT_TILE_MAX_TILES && !o->force) {
        char a[40], b[40];
        format_count(total, a, sizeof a);
        format_count(CT_TILE_MAX_TILES, b, sizeof b);
        st = ct_error(ctx, CT_ERR_USAGE, "%s: zooms %d-%d would make %s tiles (more than %s): "
                      "narrow the zoom range, or give --force", o->input, J.minz, J.maxz, a, b);
        goto out;
    }
    /* GDAL's block cache is global and defaults to 5 % of RAM; the warp of one block needs a few
     * source blocks, so a small cache keeps memory bounded by the block size (restored below) */
    cache_old = GDALGetCacheMax64();
    GIntBig cache_want = (GIntBig)(64 + 32 * nthreads) << 20;
    if (cache_old > cache_want)
        GDALSetCacheMax64(cache_want);
    J.zb = J.maxz - 3 > J.minz ? J.maxz - 3 : J.minz;
    J.d = J.maxz - J.zb;
    J.S = TS << J.d;
    J.M = J.mode == CT_TILE_DEM ? 1 : 0;
    {
        double ratio = 2 * CT_MERC_HALF / ((double)TS * (double)(1ull << J.maxz)) / J.src_res;
        J.dec = ratio >= 2 ? (int)floor(ratio) : 1;
    }

    S.kind = sink_kind_of(o->output, o->sink);
    S.path = o->output;
    S.ext = o->format == CT_TILE_WEBP ? "webp" : "png";
    S.leaf_entries = o->pmtiles_leaf_entries;
    if ((st = sink_open(ctx, &S)))
        goto out;
    int idle = 0;
    if (in.on) {
        /* the margin of a raster tile: the hillshade's and the resampling's neighbours */
        if ((st = incr_build(ctx, &in, J.minz, J.maxz, 2 * J.src_res, 2.0 / TS, o->output)))
            goto out;
        S.only = &in.dirty;
        idle = incr_idle(&in, J.minz); /* the raster did not change: nothing to read */
    }

    /* blocks at zoom zb, in Morton order */
    uint32_t br[4];
    ct_tile_range(J.merc, J.zb, br);
    size_t nblocks = (size_t)(br[2] - br[0] + 1) * (br[3] - br[1] + 1), k = 0;
    blocks = malloc(nblocks * sizeof *blocks);
    W = calloc((size_t)nthreads, sizeof *W);
    if (!blocks || !W) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    for (uint32_t y = br[1]; y <= br[3]; y++)
        for (uint32_t x = br[0]; x <= br[2]; x++)
            blocks[k++] = (bkey){morton(x, y), x, y};
    qsort(blocks, nblocks, sizeof *blocks, cmp_bkey);

    U.ctx = ctx;
    U.J = &J;
    U.s = &S;
    nw = nthreads;
    size_t batch = (size_t)nthreads * 4; /* blocks differ in cost: a few per thread even out */
    res = calloc(2 * batch, sizeof *res);
    if (!res) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->output);
        goto out;
    }
    uint64_t done_tiles = 0;
    /* Rendering and storing overlap: while the tasks of one batch of blocks render, this thread
     * (the caller's: errors and progress stay on it) stores the batch before, block by block in
     * Morton order as before, so the same bytes whatever the threads. Stored serially after
     * each batch, the tiles (a file each in a folder) left the other threads idle for a fifth
     * of b700's run. */
#pragma omp parallel num_threads(nthreads)
#pragma omp master
    {
        size_t prev_b0 = 0, prev_nb = 0;
        for (size_t b0 = 0;; b0 += batch) {
            size_t nb = 0;
            block_res *cur = res + (b0 / batch % 2) * batch;
            if (b0 < nblocks && st == CT_OK && !idle) {
                nb = nblocks - b0 < batch ? nblocks - b0 : batch;
                for (size_t i = 0; i < nb; i++) {
#pragma omp task firstprivate(i, cur, b0) shared(W, J, blocks)
                    {
                        worker *w = &W[omp_get_thread_num()];
                        CPLPushErrorHandler(CPLQuietErrorHandler);
                        if (!w->ok && !w->err[0])
                            w->ok = worker_init(w, &J);
                        if (!w->ok) {
                            cur[i].failed = 1;
                            snprintf(cur[i].err, sizeof cur[i].err, "%s",
                                     w->err[0] ? w->err : "cannot start a worker");
                        } else
                            render_block(w, &J, blocks[b0 + i].x, blocks[b0 + i].y, &cur[i]);
                        CPLPopErrorHandler();
                    }
                }
            }
            block_res *prev = res + (prev_b0 / batch % 2) * batch;
            for (size_t i = 0; i < prev_nb; i++) {
                block_res *r = &prev[i];
                if (r->failed && st == CT_OK)
                    st = ct_error(ctx, CT_ERR_IO, "%s", r->err);
                for (size_t t = 0; t < r->n; t++) {
                    if (st == CT_OK)
                        st = sink_put(ctx, &S, r->t[t].z, r->t[t].x, r->t[t].y, r->t[t].data, r->t[t].len);
                    free(r->t[t].data);
                }
                done_tiles += (uint64_t)r->n + r->empty;
                sum.tiles_written += (uint64_t)r->n;
                sum.tiles_empty += r->empty;
                if (st == CT_OK && J.zb > J.minz) {
                    up_feed(&U, J.zb, blocks[prev_b0 + i].x, blocks[prev_b0 + i].y, r->top);
                    st = U.st;
                } else
                    free(r->top);
                free(r->t);
                memset(r, 0, sizeof *r);
            }
            if (st == CT_OK && prev_nb) {
                double el = now_s() - t0, rate = done_tiles / (el > 0 ? el : 1e-9);
                double frac = (double)(prev_b0 + prev_nb) / nblocks;
                char what[96];
                snprintf(what, sizeof what, "%llu tiles, %.0f tiles/s, ETA %.0f s", (unsigned long long)done_tiles,
                         rate, frac > 0 ? el * (1 - frac) / frac : 0);
                st = ct_progress(ctx, frac * 0.98, what);
            }
            if (!nb)
                break;
#pragma omp taskwait
            prev_b0 = b0;
            prev_nb = nb;
        }
    }
    if (st == CT_OK)
        for (int z = J.zb - 1; z >= J.minz && U.st == CT_OK; z--)
            if (U.p[z].active)
                up_flush(&U, z);
    if (st == CT_OK)
        st = U.st;
    sum.tiles_written += U.written;
    sum.tiles_empty += U.empty;
    if (st == CT_OK && in.on)
        st = incr_keep(ctx, &in, &S, J.minz, J.maxz);
    if (st == CT_OK) {
        tileset_meta m = {0};
        m.input = sdiname ? inname : NULL;
        m.sdi_version = sum.sdi_version;
        m.name = tileset_name(o->name, o->output);
        m.description = o->description;
        m.attribution = o->attribution;
        m.format = S.ext;
        m.minzoom = J.minz;
        m.maxzoom = J.maxz;
        meta_bounds(m.bounds, ll);
        st = sink_commit(ctx, &S, &m);
    }
    if (st == CT_OK)
        st = ct_progress(ctx, 1.0, "done");
out:
    for (int i = 0; i < 32; i++)
        for (int c = 0; c < 4; c++)
            free(U.p[i].child[c]);
    for (int i = 0; W && i < nw; i++)
        worker_free(&W[i]);
    free(W);
    free(blocks);
    free(res);
    sum.minzoom = J.minz;
    sum.maxzoom = J.maxz;
    memcpy(sum.bounds, ll, sizeof ll);
    sum.tiles_unique = S.unique;
    sum.tiles_written = S.written;
    sum.tiles_kept = S.kept;
    sum.bytes = S.bytes;
    sum.sink = sink_name(S.kind ? S.kind : CT_SINK_DIR);
    sum.format = S.ext ? S.ext : o && o->format == CT_TILE_WEBP ? "webp" : "png";
    sum.threads = nthreads;
    sum.seconds = now_s() - t0;
    if (o && o->summary)
        *o->summary = sum;
    sink_abort(&S); /* after a commit only frees; otherwise removes the temporary tileset */
    free((char *)J.src_wkt);
    free(J.merc_wkt);
    free(J.coord_op);
    free(J.lut.c);
    free(J.lut.scale);
    incr_free(&in);
    ct_sdi_input_free(&sin);
    ct_sdi_close(sdi);
    if (cache_old && GDALGetCacheMax64() != cache_old)
        GDALSetCacheMax64(cache_old);
    ct_gdal_errs_pop(&ge);
    return st;
}

/* ======================================================================================== */
/* Merging shards                                                                            */

typedef struct mentry {
    uint64_t id, ref, len;
    int part;
} mentry;

typedef struct merge_ctx {
    mentry *e;
    size_t n, cap;
    int part;
} merge_ctx;

static ct_status collect_tile(ct_ctx *ctx, void *user, int z, uint32_t x, uint32_t y, uint64_t id, const uint8_t *data,
                              size_t len, const char *file, uint64_t ref)
{
    (void)z, (void)x, (void)y;
    (void)data;
    (void)file;
    merge_ctx *m = user;
    if (ct_grow(&m->e, &m->cap, m->n + 1, sizeof *m->e))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    m->e[m->n++] = (mentry){id, ref, len, m->part};
    return CT_OK;
}

static int cmp_mentry(const void *a, const void *b)
{
    const mentry *p = a, *q = b;
    return p->id < q->id ? -1 : p->id > q->id;
}

/* The bytes of one tile of part o. */
static ct_status part_tile(ct_ctx *ctx, oldset *o, sqlite3_stmt *q, const mentry *e, uint8_t **buf, size_t *cap)
{
    int z;
    uint32_t x, y;
    ct_pmtiles_zxy(e->id, &z, &x, &y);
    if (e->len > *cap) {
        free(*buf);
        *cap = e->len;
        if (!(*buf = malloc(*cap)))
            return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", o->path);
    }
    if (o->kind == CT_SINK_PMTILES) {
        if (!pread_all(o->fd, *buf, e->len, o->pm_data_off + (e->ref & ~PM_OLD)))
            return ct_error(ctx, CT_ERR_IO, "%s: cannot read tile %d/%u/%u: %s", o->path, z, x, y, strerror(errno));
        return CT_OK;
    }
    if (o->kind == CT_SINK_MBTILES) {
        sqlite3_reset(q);
        sqlite3_bind_int(q, 1, z);
        sqlite3_bind_int64(q, 2, x);
        sqlite3_bind_int64(q, 3, ct_tile_tms_row(z, y));
        if (sqlite3_step(q) != SQLITE_ROW || (size_t)sqlite3_column_bytes(q, 0) != e->len)
            return ct_error(ctx, CT_ERR_FORMAT, "%s: cannot read tile %d/%u/%u: %s", o->path, z, x, y,
                            sqlite3_errmsg(o->db));
        memcpy(*buf, sqlite3_column_blob(q, 0), e->len);
        return CT_OK;
    }
    char f[4096];
    snprintf(f, sizeof f, "%s/%d/%u/%u.%s", o->path, z, x, y, o->format);
    FILE *fp = fopen(f, "rb");
    size_t got = fp ? fread(*buf, 1, e->len, fp) : 0;
    if (fp)
        fclose(fp);
    return got == e->len ? CT_OK : ct_error(ctx, CT_ERR_IO, "%s: cannot read %s: %s", o->path, f, strerror(errno));
}

/* Two optional texts are the same (both absent, or equal). */
static int same_text(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }

ct_status ct_tile_merge(ct_ctx *ctx, const ct_tile_merge_opts *mo)
{
    double t0 = now_s();
    ct_status st = CT_OK;
    ct_tile_summary sum = {.sdi_version = -1, .since = -1};
    sink S = {0};
    merge_ctx mc = {0};
    uint8_t *buf = NULL;
    size_t cap = 0;
    int np = mo ? mo->nparts : 0;
    oldset *P = np > 0 ? calloc((size_t)np, sizeof *P) : NULL;
    sqlite3_stmt **Q = np > 0 ? calloc((size_t)np, sizeof *Q) : NULL;
    char *seen = np > 0 ? calloc((size_t)np, 1) : NULL;
    if (!mo || !mo->output || np < 1) {
        st = ct_error(ctx, CT_ERR_USAGE, "ct-tile merge: an output and the shards are needed");
        goto out;
    }
    if (!P || !Q || !seen) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", mo->output);
        goto out;
    }
    S.kind = sink_kind_of(mo->output, CT_SINK_AUTO);
    for (int i = 0; i < np && st == CT_OK; i++) {
        const char *p = mo->parts[i];
        ct_tile_sink_kind k = sink_kind_of(p, CT_SINK_AUTO);
        if ((st = oldset_open(ctx, p, k, &P[i])))
            break;
        int sk = -1, sn = -1;
        if (!P[i].exists || !P[i].shard || sscanf(P[i].shard, "%d/%d", &sk, &sn) != 2 || !P[i].format) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: not a shard that ct-tile --shard made", p);
            break;
        }
        if (k != S.kind) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: a shard of another kind than %s (merge into the same kind)", p,
                          mo->output);
            break;
        }
        /* shards of one run record the same run: format, zooms, input, bounds (of the whole
         * input, not the shard), layers, description and attribution */
        if (sn != np || sk < 0 || sk >= np || seen[sk] ||
            (i && (strcmp(P[i].format, P[0].format) || P[i].minzoom != P[0].minzoom || P[i].maxzoom != P[0].maxzoom ||
                   !same_text(P[i].input, P[0].input) || P[i].sdi_version != P[0].sdi_version ||
                   memcmp(P[i].bounds, P[0].bounds, sizeof P[0].bounds) ||
                   !same_text(P[i].vector_layers, P[0].vector_layers) ||
                   !same_text(P[i].description, P[0].description) || !same_text(P[i].attribution, P[0].attribution)))) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: shard %s does not fit: %d shards given%s", p, P[i].shard, np,
                          sk >= 0 && sk < np && seen[sk]
                              ? ", this one twice"
                              : i ? ", or its format, zooms, input, bounds or layers differ from the first's" : "");
            break;
        }
        seen[sk] = 1;
        if (k == CT_SINK_MBTILES &&
            sqlite3_prepare_v2(P[i].db, "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                               -1, &Q[i], NULL) != SQLITE_OK) {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: %s", p, sqlite3_errmsg(P[i].db));
            break;
        }
        mc.part = i;
        st = oldset_each(ctx, &P[i], collect_tile, &mc);
    }
    if (st)
        goto out;
    /* in tile-id order: the order in which a vector run stores its tiles */
    qsort(mc.e, mc.n, sizeof *mc.e, cmp_mentry);
    S.path = mo->output;
    S.ext = P[0].format;
    if ((st = sink_open(ctx, &S)))
        goto out;
    for (size_t i = 0; i < mc.n && st == CT_OK; i++) {
        const mentry *e = &mc.e[i];
        int z;
        uint32_t x, y;
        ct_pmtiles_zxy(e->id, &z, &x, &y);
        if (i && e->id == mc.e[i - 1].id) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: tile %d/%u/%u is also in %s: not shards of one run",
                          mo->parts[e->part], z, x, y, mo->parts[mc.e[i - 1].part]);
            break;
        }
        if ((st = part_tile(ctx, &P[e->part], Q[e->part], e, &buf, &cap)) == CT_OK)
            st = sink_put(ctx, &S, z, x, y, buf, e->len);
        if (st == CT_OK && (i & 4095) == 4095)
            st = ct_progress(ctx, (double)i / mc.n * 0.98, "merging");
    }
    if (st == CT_OK) {
        tileset_meta m = {0};
        /* shards named with --name share it; else each has its own file's name, and the merged
         * tileset takes its output's, as the unsharded run would */
        int named = 1;
        for (int i = 1; i < np; i++)
            named &= same_text(P[i].name, P[0].name);
        m.name = tileset_name(named ? P[0].name : NULL, S.path);
        m.description = P[0].description;
        m.attribution = P[0].attribution;
        m.format = S.ext;
        m.minzoom = P[0].minzoom;
        m.maxzoom = P[0].maxzoom;
        m.vector_layers = P[0].vector_layers;
        m.input = P[0].input;
        m.sdi_version = P[0].sdi_version;
        memcpy(m.bounds, P[0].bounds, sizeof m.bounds);
        st = sink_commit(ctx, &S, &m);
    }
    if (st == CT_OK)
        st = ct_progress(ctx, 1.0, "done");
out:
    sum.minzoom = np > 0 && P ? P[0].minzoom : 0;
    sum.maxzoom = np > 0 && P ? P[0].maxzoom : 0;
    if (np > 0 && P)
        memcpy(sum.bounds, P[0].bounds, sizeof sum.bounds);
    sum.tiles_written = S.written;
    sum.tiles_unique = S.unique;
    sum.bytes = S.bytes;
    sum.sink = sink_name(S.kind ? S.kind : CT_SINK_DIR);
    const char *fmt = np > 0 && P && P[0].format ? P[0].format : "";
    sum.format = !strcmp(fmt, "pbf") ? "pbf" : !strcmp(fmt, "webp") ? "webp" : "png"; /* static strings */
    sum.threads = 1;
    sum.seconds = now_s() - t0;
    if (mo && mo->summary)
        *mo->summary = sum;
    sink_abort(&S);
    for (int i = 0; i < np && P; i++) {
        if (Q && Q[i])
            sqlite3_finalize(Q[i]);
        oldset_close(&P[i]);
    }
    free(P);
    free(Q);
    free(seen);
    free(mc.e);
    free(buf);
    return st;
}
