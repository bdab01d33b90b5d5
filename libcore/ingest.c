/* ingest.c — sources into the SDI: decode, transform, map, validate, repair, version. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gdal.h>
#include <gdal_alg.h>
#include <gdal_utils.h>
#include <cpl_string.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "ct/crs.h"
#include "ct/ingest.h"
#include "ct/landuse.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/text.h"
#include "ct/vector.h"
#include "context_int.h"
#include "coverage_int.h"
#include "raster_int.h"
#include "sdi_int.h"

/* What one run found, by reason, for the summary. */
typedef struct tally {
    long long read, loaded, same, added, changed, removed, repaired, rejected, skipped_sources;
    json_object *rejects;  /* reason -> count */
    json_object *findings; /* kind -> count */
} tally;

static void count(json_object *o, const char *key)
{
    json_object *v;
    if (json_object_object_get_ex(o, key, &v))
        json_object_set_int64(v, json_object_get_int64(v) + 1);
    else
        json_object_object_add(o, key, json_object_new_int64(1));
}

/* ---------------------------------------------------------------------------------------- */
/* Checksums: SHA-256 over a dataset's files (a shapefile is .shp, .shx, .dbf, .prj, .cpg).  */

static int hash_file(EVP_MD_CTX *m, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(m, buf, n);
    fclose(f);
    return 1;
}

/* The checksum of a source as loaded: its files, and the options that change what it loads
 * as (so that re-ingesting the same file with, say, another --valid-to is not a no-op). */
static void checksum(const char *path, const ct_ingest_opts *o, char hex[65])
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestInit_ex(m, EVP_sha256(), NULL);
    hash_file(m, path);
    const char *opt[] = {o->kind, o->srs, o->encoding, o->sheet, o->name, o->valid_from, o->valid_to};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        EVP_DigestUpdate(m, opt[i] ? opt[i] : "", strlen(opt[i] ? opt[i] : "") + 1);
    for (int i = 0; i < o->nignore; i++)
        EVP_DigestUpdate(m, o->ignore[i], strlen(o->ignore[i]) + 1);
    char cs[32];
    snprintf(cs, sizeof cs, "%.10g", o->cell_size);
    EVP_DigestUpdate(m, cs, strlen(cs));
    if (o->mapping)
        hash_file(m, o->mapping);
    const char *dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".shp")) {
        static const char *const sibs[] = {".shx", ".dbf", ".prj", ".cpg"};
        char sib[4096];
        for (size_t i = 0; i < sizeof sibs / sizeof sibs[0]; i++) {
            snprintf(sib, sizeof sib, "%.*s%s", (int)(dot - path), path, sibs[i]);
            hash_file(m, sib);
        }
    }
    unsigned char md[32];
    unsigned int len;
    EVP_DigestFinal_ex(m, md, &len);
    EVP_MD_CTX_free(m);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The checksum of a source that the SDI has never loaded, hashed on a thread of its own while
 * the source loads: nothing is compared with it, and the catalogue row that keeps it is
 * written only when the source has been read (source_sum()). */
typedef struct sum_job {
    pthread_t thread;
    int running;
    const char *path;
    const ct_ingest_opts *o;
    char *hex; /* 65 bytes */
} sum_job;

static void *sum_worker(void *arg)
{
    sum_job *j = arg;
    checksum(j->path, j->o, j->hex);
    return NULL;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ---------------------------------------------------------------------------------------- */
/* Field mapping                                                                             */

/* A mapping file: "column = SourceField" lines, '#' comments. Returns the source field for a
 * column, or NULL. Errors name the file and line. */
typedef struct mapping {
    char *column[64], *field[64];
    int n;
} mapping;

static ct_status read_mapping(ct_ctx *ctx, const char *path, const ct_sdi_layer_def *d, mapping *m)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    char line[512];
    int ln = 0;
    ct_status st = CT_OK;
    while (!st && fgets(line, sizeof line, f)) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char col[128], fld[256];
        if (sscanf(line, " %127[A-Za-z0-9_] = %255[^\r\n]", col, fld) != 2) {
            const char *p = line;
            while (isspace((unsigned char)*p))
                p++;
            if (*p)
                st = ct_error(ctx, CT_ERR_USAGE, "%s:%d: expected 'column = SourceField'", path, ln);
            continue;
        }
        for (char *e = fld + strlen(fld); e > fld && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        int known = 0;
        for (int c = 0; c < d->ncolumns; c++)
            known |= !strcmp(d->columns[c].name, col);
        if (!known)
            st = ct_error(ctx, CT_ERR_USAGE, "%s:%d: '%s' is not a column of %s", path, ln, col, d->name);
        else if (m->n < 64) {
            m->column[m->n] = strdup(col);
            m->field[m->n++] = strdup(fld);
        }
    }
    fclose(f);
    return st;
}

static void free_mapping(mapping *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->column[i]);
        free(m->field[i]);
    }
    m->n = 0;
}

/* map[i] = the column source field i feeds, -1 when ignored. */
static ct_status map_fields(ct_ctx *ctx, const char *path, ct_layer *l, const ct_sdi_layer_def *d,
                            const mapping *m, const ct_ingest_opts *o, int *map)
{
    int nf = ct_layer_field_count(l);
    for (int i = 0; i < nf; i++) {
        const char *raw = ct_layer_field_name(l, i);
        char *name = NULL;
        if (ct_text_decode(ctx, ct_layer_encoding(l), raw, strlen(raw), &name))
            name = strdup(raw);
        map[i] = -1;
        int ignored = 0;
        for (int k = 0; k < o->nignore; k++)
            ignored |= !strcasecmp(o->ignore[k], name);
        for (int c = 0; !ignored && map[i] < 0 && c < d->ncolumns; c++) {
            const char *col = d->columns[c].name;
            if (m->n) {
                for (int k = 0; k < m->n; k++)
                    if (!strcmp(m->column[k], col) && !strcasecmp(m->field[k], name))
                        map[i] = c;
            } else if (ct_sdi_alias_match(d->columns[c].aliases, name)) {
                map[i] = c;
            }
        }
        if (!ignored && map[i] < 0) {
            ct_status st = ct_error(ctx, CT_ERR_USAGE,
                                    "%s: field '%s' is not in the %s mapping of %s; map it with --mapping"
                                    " or leave it out with --ignore %s", path, name, m->n ? "given" : "built-in",
                                    d->name, name);
            free(name);
            return st;
        }
        free(name);
    }
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Numbers as text. In this process glibc's printf takes its slow path for every call (a library
 * GDAL loads, libquadmath, registers printf hooks, and then each call goes through the
 * positional-argument code): 1 100 instructions for a "%lld", 2 800 for a "%.2f". The numbers
 * written for every parcel are written here, to the same bytes.                             */

/* v as "%lld" writes it; buf holds at least 21 bytes. */
static void put_int(char *buf, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *buf++ = '-';
    while (n)
        *buf++ = tmp[--n];
    *buf = '\0';
}

/* a as "%.2f" writes it: the exact binary value rounded to the nearest hundredth, a tie to the
 * even one (glibc in the default rounding mode). a·100 = p + e exactly (e from fma); below 1e13
 * p < 2^53, so p's fraction and that fraction less 1/2 are exact, and comparing it with -e
 * decides the rounding exactly. Other values (negative, huge, NaN) go to snprintf. Checked
 * against glibc on 20 million values, exact ties among them. */
static void put_hundredths(char *buf, size_t size, double a)
{
    if (!(a >= 0 && a < 1e13) || signbit(a)) {
        snprintf(buf, size, "%.2f", a);
        return;
    }
    double p = a * 100, e = fma(a, 100, -p);
    double n = floor(p), h = (p - n) - 0.5;
    if (h > -e || (h == -e && fmod(n, 2) != 0))
        n += 1;
    long long c = (long long)n;
    put_int(buf, c / 100);
    size_t len = strlen(buf);
    buf[len] = '.';
    buf[len + 1] = (char)('0' + c % 100 / 10);
    buf[len + 2] = (char)('0' + c % 10);
    buf[len + 3] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Geometry checks                                                                           */

/* Keeps only the polygonal (or lineal) parts of a repaired geometry, as one multi-geometry. */
static GEOSGeometry *keep_dimension(GEOSContextHandle_t h, GEOSGeometry *g, int dim)
{
    int n = GEOSGetNumGeometries_r(h, g);
    GEOSGeometry **parts = calloc((size_t)n + 1, sizeof *parts);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
        if (GEOSGeom_getDimensions_r(h, p) == dim && !GEOSisEmpty_r(h, p)) {
            int np = GEOSGetNumGeometries_r(h, p);
            for (int j = 0; j < np; j++) {
                const GEOSGeometry *q = np > 1 ? GEOSGetGeometryN_r(h, p, j) : p;
                parts[k++] = GEOSGeom_clone_r(h, q);
                if (np == 1)
                    break;
            }
        }
    }
    GEOSGeometry *out = k ? GEOSGeom_createCollection_r(h, dim == 2 ? GEOS_MULTIPOLYGON : GEOS_MULTILINESTRING,
                                                        parts, (unsigned)k) : NULL;
    free(parts);
    GEOSGeom_destroy_r(h, g);
    return out;
}

/* ---------------------------------------------------------------------------------------- */

typedef struct run {
    ct_ctx *ctx;
    const ct_ingest_opts *o;
    ct_sdi *sdi;
    ct_sdi_layer layer;
    const ct_sdi_layer_def *def;
    tally t;
    double area[4];
    int isrc, nsrc;       /* progress: this source of how many */
    struct coverage *cov; /* parcels: where the sheet checks collect what was loaded */
    const char *sum;      /* the checksum of the source being loaded (checksum()), */
    sum_job *sum_job;     /* when still being hashed */
} run;

/* The checksum of the source being loaded, once its hashing (if any) is done. */
static const char *source_sum(run *r)
{
    if (r->sum_job && r->sum_job->running) {
        pthread_join(r->sum_job->thread, NULL);
        r->sum_job->running = 0;
    }
    return r->sum;
}

/* Bytes that are not text in the source's encoding, as Latin-1 (one character U+0000-U+00FF
 * per byte): valid UTF-8 for every store (PostgreSQL refuses anything else, and the whole
 * version with it), and the bytes can be read back exactly. */
static char *bytes_as_latin1(const char *raw)
{
    size_t n = strlen(raw);
    char *v = malloc(2 * n + 1), *w = v;
    for (const unsigned char *p = (const unsigned char *)raw; v && *p; p++) {
        if (*p < 0x80) {
            *w++ = (char)*p;
        } else {
            *w++ = (char)(0xC0 | *p >> 6);
            *w++ = (char)(0x80 | (*p & 0x3F));
        }
    }
    if (v)
        *w = 0;
    return v;
}

/* The JSON text of a feature's raw attributes, decoded where possible, for sdi_reject. */
static char *raw_attributes(ct_ctx *ctx, ct_layer *l, ct_feature *f)
{
    json_object *o = json_object_new_object();
    for (int i = 0; i < ct_layer_field_count(l); i++) {
        char *v = NULL;
        if (ct_feature_is_null(f, i))
            continue;
        if (ct_feature_text(ctx, f, i, &v)) {
            ct_ctx_clear_error(ctx);
            v = bytes_as_latin1(ct_feature_raw(f, i));
        }
        json_object_object_add(o, ct_layer_field_name(l, i), json_object_new_string(v));
        free(v);
    }
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

/* A feature's raw attributes for sdi_reject: given as text (DGN faces), or built from the OGR
 * feature only when it is rejected (raw_text()) — most features never need them. */
typedef struct raw_attrs {
    ct_layer *l;
    ct_feature *f;
    const char *text;
} raw_attrs;

/* Writes a reject; raw: the feature's raw attributes (JSON). */
static ct_status reject(run *r, const char *source, const char *id, const char *reason, const char *raw)
{
    /* the summary groups reasons by what precedes their numbers ("sliver: 5.79 m², ...") */
    char group[128];
    snprintf(group, sizeof group, "%.*s", (int)strcspn(reason, ":'("), reason);
    for (size_t n = strlen(group); n && group[n - 1] == ' ';)
        group[--n] = '\0';
    count(r->t.rejects, group);
    r->t.rejected++;
    ct_log(r->ctx, CT_LOG_WARN, "%s: feature %s rejected: %s", source, id, reason);
    return ct_sdi_reject(r->ctx, r->sdi, r->layer, source, id, reason, raw);
}

static ct_status finding(run *r, const char *source, const char *key, const char *kind, double value,
                         const char *detail)
{
    count(r->t.findings, kind);
    if (!strcmp(kind, "repaired"))
        r->t.repaired++;
    return ct_sdi_report(r->ctx, r->sdi, r->layer, source, key, kind, value, detail);
}

struct coverage;
static int coverage_add(struct coverage *c, GEOSContextHandle_t h, const char *sheet, const char *key,
                        unsigned char *wkb, size_t wkblen, int repaired);

/* A feature on its way in: read and checked by prepare_feature(), which touches no SDI state
 * (on ct-ingest's reading thread, see feed), then written in the order read by
 * store_feature(). */
typedef struct fitem {
    char id[128];
    char *values[16];    /* the layer's columns, code and drawn area rewritten */
    int read;            /* counts among the features read */
    char *reason, *raw;  /* rejected: why, and the raw attributes (JSON) */
    char *raw_dup;       /* the raw attributes, should the key turn out to be taken (not parcels) */
    char key[320];       /* the natural key */
    sdi_geom geom;       /* the geometry as the SDI writes it */
    char digest[65];     /* sdi_digest(), made with the geometry */
    char repaired[200], mapped[200], mismatch[200];
    double mismatch_m2;
} fitem;

static void fitem_free(fitem *it)
{
    if (!it)
        return;
    for (int c = 0; c < 16; c++)
        free(it->values[c]);
    free(it->reason);
    free(it->raw);
    free(it->raw_dup);
    sdi_geom_free(&it->geom);
    free(it);
}

/* The raw attributes of a feature: given, or built from the OGR feature. */
static char *raw_text(ct_ctx *c, const raw_attrs *a)
{
    return a->text ? strdup(a->text) : raw_attributes(c, a->l, a->f);
}

/* Rejects the feature being prepared. @return CT_OK, or CT_ERR_NOMEM. */
static ct_status refuse(ct_ctx *c, fitem *it, const char *reason, const raw_attrs *a)
{
    if (!(it->reason = strdup(reason)) || !(it->raw = raw_text(c, a)))
        return ct_error(c, CT_ERR_NOMEM, "feature %s: out of memory", it->id);
    return CT_OK;
}

/*
 * Validates and repairs one feature, and finds its key: everything a put needs but the SDI.
 * geom is owned by the caller (GEOS handle of c); it->values follow the layer's columns and may
 * be rewritten (land-use code, drawn area). On c's thread, whichever it is: reads only r's
 * settings. @return CT_OK (it is a put or a reject), or CT_ERR_NOMEM (message on c).
 */
static ct_status prepare_feature(const run *r, ct_ctx *c, GEOSGeometry *geom, fitem *it, const raw_attrs *attrs)
{
    GEOSContextHandle_t h = ct_geos(c);
    int polygonal = r->layer != CT_SDI_DIKES;
    char detail[400];
    char **values = it->values;
    it->read = 1;
    it->mismatch_m2 = NAN;

    if (!geom || GEOSisEmpty_r(h, geom))
        return refuse(c, it, "empty geometry", attrs);
    double b[4];
    GEOSGeom_getXMin_r(h, geom, &b[0]);
    GEOSGeom_getYMin_r(h, geom, &b[1]);
    GEOSGeom_getXMax_r(h, geom, &b[2]);
    GEOSGeom_getYMax_r(h, geom, &b[3]);
    if (b[2] < r->area[0] || b[0] > r->area[2] || b[3] < r->area[1] || b[1] > r->area[3])
        return refuse(c, it, "outside the city area", attrs);

    GEOSGeometry *g = GEOSGeom_clone_r(h, geom);
    if (!ct_polygon_simple(h, g) && GEOSisValid_r(h, g) != 1) {
        char *why = GEOSisValidReason_r(h, g);
        snprintf(it->repaired, sizeof it->repaired, "%s", why ? why : "invalid");
        GEOSFree_r(h, why);
        GEOSGeometry *fixed = GEOSMakeValid_r(h, g);
        GEOSGeom_destroy_r(h, g);
        g = fixed ? keep_dimension(h, fixed, polygonal ? 2 : 1) : NULL;
        if (!g)
            return refuse(c, it, "invalid geometry that cannot be repaired", attrs);
    }
    ct_status st = CT_OK;
    double drawn = 0; /* a parcel's area as drawn: the sliver test's and the drawn_area column's */
    if (r->layer == CT_SDI_PARCELS) {
        /* a sliver: a thin scrap between neighbours (mean width 2A/P under half a metre), a
         * digitising artefact rather than a parcel */
        GEOSArea_r(h, g, &drawn);
        const double a = drawn;
        double perim = 0;
        GEOSGeometry *ring = a < 50 ? GEOSBoundary_r(h, g) : NULL;
        if (ring) {
            GEOSLength_r(h, ring, &perim);
            GEOSGeom_destroy_r(h, ring);
        }
        if (a < 50 && perim > 0 && 2 * a / perim < 0.5) {
            snprintf(detail, sizeof detail, "sliver: %.2f m², mean width %.2f m", a, 2 * a / perim);
            st = refuse(c, it, detail, attrs);
            goto out;
        }
    }

    /* the natural key, and per-layer checks */
    if (r->layer == CT_SDI_PARCELS || r->layer == CT_SDI_ZONES) {
        int lu = r->layer == CT_SDI_PARCELS ? 3 : 2; /* landuse column */
        const char *code = values[lu], *tt08 = NULL;
        ct_landuse_check lc = code && *code ? ct_landuse_normalise(code, &tt08) : CT_LANDUSE_UNKNOWN;
        if (lc == CT_LANDUSE_UNKNOWN) {
            snprintf(detail, sizeof detail, "unknown land-use code '%s'", code ? code : "");
            st = refuse(c, it, detail, attrs);
            goto out;
        }
        free(values[lu + 1]);
        values[lu + 1] = strdup(code);
        if (lc == CT_LANDUSE_MAPPED)
            snprintf(it->mapped, sizeof it->mapped, "%s mapped to %s (TT 08/2024)", code, tt08);
        free(values[lu]);
        values[lu] = strdup(tt08);
    }
    char *key = it->key;
    const size_t keysz = sizeof it->key;
    if (r->layer == CT_SDI_PARCELS) {
        char buf[64];
        put_hundredths(buf, sizeof buf, drawn);
        free(values[9]);
        values[9] = strdup(buf);
        const char *sheet = values[0] ? values[0] : "", *number = values[1] ? values[1] : "";
        size_t ls = strlen(sheet), ln = strlen(number);
        if (ls + ln + 1 < keysz) { /* "%s/%s", without printf (see put_int) */
            memcpy(key, sheet, ls);
            key[ls] = '/';
            memcpy(key + ls + 1, number, ln + 1);
        } else {
            snprintf(key, keysz, "%s/%s", sheet, number);
        }
        double legal = values[2] ? atof(values[2]) : NAN;
        double tol = r->o->area_tolerance > 0 ? r->o->area_tolerance : 0.05;
        if (isfinite(legal) && legal > 0 && fabs(drawn - legal) > tol * legal) {
            snprintf(it->mismatch, sizeof it->mismatch, "legal area %.1f m², drawn %.1f m² (%+.1f %%)", legal, drawn,
                     100 * (drawn - legal) / legal);
            it->mismatch_m2 = drawn - legal;
        }
    } else {
        const char *k = values[0];
        if (r->layer == CT_SDI_ADMIN)
            snprintf(key, keysz, "%s@%s", k ? k : it->id, values[6] ? values[6] : "");
        else
            snprintf(key, keysz, "%s", k && *k ? k : it->id);
        /* a key another feature of the version has is a reject, known only when written */
        if (!(it->raw_dup = raw_text(c, attrs)))
            st = ct_error(c, CT_ERR_NOMEM, "feature %s: out of memory", it->id);
    }
    /* the WKB is written once: for the SDI row, its digest and the sheet checks; the digest is
     * made here too, off the loading thread */
    if (!st && sdi_geom_make(h, r->sdi, g, &it->geom))
        st = ct_error(c, CT_ERR_NOMEM, "feature %s: out of memory", it->id);
    if (!st && sdi_digest(c, r->layer, (const char *const *)values, &it->geom, it->digest))
        st = ct_error(c, CT_ERR_UNSUPPORTED, "feature %s: OpenSSL cannot compute SHA-256", it->id);
out:
    GEOSGeom_destroy_r(h, g);
    return st;
}

/* Writes a feature prepare_feature() made: the put (a parcel number its sheet already has as
 * sheet/number#2, #3, ...), or the reject; the findings; the parcel to the sheet checks. */
static ct_status store_feature(run *r, const char *source, fitem *it)
{
    ct_ctx *ctx = r->ctx;
    char detail[400], *key = it->key, **values = it->values;
    r->t.read += it->read;
    if (it->reason)
        return reject(r, source, it->id, it->reason, it->raw);
    ct_sdi_op op;
    ct_status st = sdi_put(ctx, r->sdi, r->layer, source, key, &it->geom, (const char *const *)values, it->digest, &op);
    if (!st && op == CT_SDI_DUPLICATE && r->layer != CT_SDI_PARCELS) {
        snprintf(detail, sizeof detail, "duplicate identifier '%s'", key);
        return reject(r, source, it->id, detail, it->raw_dup);
    }
    for (int nth = 2; !st && op == CT_SDI_DUPLICATE && nth < 1000; nth++) {
        char dup[300];
        snprintf(dup, sizeof dup, "%.250s#%d", key, nth);
        st = sdi_put(ctx, r->sdi, r->layer, source, dup, &it->geom, (const char *const *)values, it->digest, &op);
        if (!st && op != CT_SDI_DUPLICATE) {
            snprintf(detail, sizeof detail, "parcel number %s appears %d times in sheet %s", values[1], nth,
                     values[0] ? values[0] : "?");
            snprintf(key, sizeof it->key, "%s", dup);
            st = finding(r, source, key, "duplicate_number", NAN, detail);
        }
    }
    if (!st && *it->repaired)
        st = finding(r, source, key, "repaired", NAN, it->repaired);
    if (!st && *it->mapped)
        st = finding(r, source, key, "code_mapped", NAN, it->mapped);
    if (!st && *it->mismatch)
        st = finding(r, source, key, "area_mismatch", it->mismatch_m2, it->mismatch);
    if (!st && r->cov && op != CT_SDI_DUPLICATE) {
        unsigned char *wkb = it->geom.wkb; /* the sheet checks take it */
        it->geom.wkb = NULL;
        if (coverage_add(r->cov, ct_geos(ctx), values[0], key, wkb, it->geom.wkblen, *it->repaired != 0))
            st = ct_error(ctx, CT_ERR_NOMEM, "%s: feature %s: out of memory for the sheet checks", source, it->id);
    }
    if (st)
        return ct_error(ctx, st, "%s: feature %s: %s", source, it->id, ct_ctx_errmsg(ctx));
    r->t.loaded++;
    if (op == CT_SDI_SAME)
        r->t.same++;
    else if (op == CT_SDI_ADDED)
        r->t.added++;
    else
        r->t.changed++;
    return CT_OK;
}

/* Validates, repairs and puts one feature on the loading thread (DGN faces). values[] are
 * taken over. */
static ct_status put_feature(run *r, const char *source, const char *id, GEOSGeometry *geom, char **values,
                             const raw_attrs *attrs)
{
    fitem *it = calloc(1, sizeof *it);
    if (!it) {
        for (int c = 0; c < 16; c++)
            free(values[c]);
        return ct_error(r->ctx, CT_ERR_NOMEM, "%s: feature %s: out of memory", source, id);
    }
    snprintf(it->id, sizeof it->id, "%s", id);
    memcpy(it->values, values, sizeof it->values);
    ct_status st = prepare_feature(r, r->ctx, geom, it, attrs);
    st = st ? ct_error(r->ctx, st, "%s: %s", source, ct_ctx_errmsg(r->ctx)) : store_feature(r, source, it);
    fitem_free(it);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Overlaps and gaps between the parcels of one source, sheet by sheet (memory: a few sheets) */

/* A finding of the sheet checks, kept until the sheet's turn to be written. */
typedef struct sheet_finding {
    char *key, *kind, *detail;
    double value;
} sheet_finding;

/* The parcels of one sheet as loaded (final keys, repaired geometries), then what the checks
 * found in them. */
typedef struct sheet_job {
    char *sheet;
    GEOSGeometry **g;    /* the parcels being checked (sheet_from_wkb) */
    unsigned char **wkb; /* the parcels as loaded, as WKB: GEOS geometries cannot cross threads */
    size_t *wkblen;
    char **key;
    unsigned char *repaired; /* repaired by this load: a gap it leaves is the repair's */
    size_t n, cap;
    sheet_finding *f;
    size_t nf, capf;
    int oom; /* a finding or a parcel was lost for want of memory: the source fails */
    struct sheet_job *next, *queue_next;
} sheet_job;

/* Takes wkb, a malloc()ed block (freed when memory runs out). @return 0, or -1 out of memory. */
static int sheet_add(sheet_job *j, unsigned char *wkb, size_t wkblen, const char *key, int repaired)
{
    size_t cap = ct_grow_cap(j->cap, j->n + 1);
    char *k = strdup(key);
    if (!k || (cap > j->cap && (ct_resize(&j->wkb, cap, sizeof *j->wkb) || ct_resize(&j->wkblen, cap, sizeof *j->wkblen) ||
                                ct_resize(&j->key, cap, sizeof *j->key) || ct_resize(&j->repaired, cap, 1)))) {
        free(k);
        free(wkb);
        j->oom = 1;
        return -1;
    }
    j->cap = cap;
    j->wkb[j->n] = wkb;
    j->wkblen[j->n] = wkblen;
    j->key[j->n] = k;
    j->repaired[j->n++] = (unsigned char)repaired;
    return 0;
}

static void sheet_found(sheet_job *j, const char *key, const char *kind, double value, const char *detail)
{
    sheet_finding f = {strdup(key), strdup(kind), strdup(detail), value};
    if (!f.key || !f.kind || !f.detail || ct_grow(&j->f, &j->capf, j->nf + 1, sizeof *j->f)) {
        free(f.key);
        free(f.kind);
        free(f.detail);
        j->oom = 1;
        return;
    }
    j->f[j->nf++] = f;
}

/* Frees the parcels (findings stay). */
static void sheet_drop_parcels(GEOSContextHandle_t h, sheet_job *j)
{
    for (size_t i = 0; i < j->n; i++) {
        if (j->g && j->g[i])
            GEOSGeom_destroy_r(h, j->g[i]);
        if (j->wkb)
            free(j->wkb[i]);
        free(j->key[i]);
    }
    free(j->wkb);
    free(j->wkblen);
    j->wkb = NULL;
    j->wkblen = NULL;
    free(j->g);
    free(j->key);
    free(j->repaired);
    j->g = NULL;
    j->key = NULL;
    j->repaired = NULL;
    j->n = j->cap = 0;
}

static void sheet_free(GEOSContextHandle_t h, sheet_job *j)
{
    sheet_drop_parcels(h, j);
    for (size_t i = 0; i < j->nf; i++) {
        free(j->f[i].key);
        free(j->f[i].kind);
        free(j->f[i].detail);
    }
    free(j->f);
    free(j->sheet);
    free(j);
}

typedef struct pair_query {
    size_t self;
    size_t *hits;
    size_t nhits, cap;
    int oom;
} pair_query;

static void collect_pair(void *item, void *user)
{
    pair_query *q = user;
    size_t j = (size_t)(uintptr_t)item - 1;
    if (j <= q->self)
        return; /* each pair once */
    if (ct_grow(&q->hits, &q->cap, q->nhits + 1, sizeof *q->hits)) {
        q->oom = 1;
        return;
    }
    q->hits[q->nhits++] = j;
}

/* Whether u, the coverage union of polygons whose areas add up to sum, shows that none of them
 * overlap and their edges match: a valid polygon with that area. */
static int union_is_cover(GEOSContextHandle_t h, const GEOSGeometry *u, double sum)
{
    double a = 0;
    return u && GEOSisValid_r(h, u) == 1 && GEOSArea_r(h, u, &a) && fabs(a - sum) <= 1e-9 * sum;
}

/* The coverage union of the parcels that meet no other (meets[i] 0), checked (valid, with their
 * area); with joined (sheet_blocks()), the clean blocks stand in for their parcels. NULL when
 * it fails. */
static GEOSGeometry *rest_union(GEOSContextHandle_t h, const GEOSGeometry *const *g, size_t n,
                                const unsigned char *meets, const GEOSGeometry *joined, const size_t *block,
                                const unsigned char *clean)
{
    const GEOSGeometry **rest = malloc((n + 2) * sizeof *rest);
    if (!rest)
        return NULL;
    size_t nrest = 0;
    double sum = 0, a = 0;
    if (joined) {
        rest[nrest++] = joined;
        GEOSArea_r(h, joined, &sum);
    }
    for (size_t i = 0; i < n; i++) {
        if (meets[i] || (joined && clean[block[i]]))
            continue;
        rest[nrest++] = g[i];
        GEOSArea_r(h, g[i], &a);
        sum += a;
    }
    GEOSGeometry *cu = ct_coverage_union(h, rest, nrest);
    if (cu && !union_is_cover(h, cu, sum)) {
        GEOSGeom_destroy_r(h, cu);
        cu = NULL;
    }
    free(rest);
    return cu;
}

/* The union of a sheet whose coverage union failed: the coverage union of the parcels that
 * meet no other (the clean blocks' union standing in for theirs, when they join; a parcel of
 * theirs that meets one of another block is in it, and united again below, which changes
 * nothing), joined to those that do by a general union of a few geometries; the general
 * union of the whole sheet when that too fails (edges that do not match, say). */
static GEOSGeometry *sheet_union(GEOSContextHandle_t h, const GEOSGeometry *const *g, size_t n,
                                 const unsigned char *meets, const GEOSGeometry *all, const GEOSGeometry *joined,
                                 const size_t *block, const unsigned char *clean)
{
    GEOSGeometry **parts = malloc((n + 2) * sizeof *parts);
    if (!parts)
        return all ? GEOSUnaryUnion_r(h, all) : NULL;
    size_t nparts = 0;
    for (size_t i = 0; i < n; i++)
        if (meets[i])
            parts[nparts++] = GEOSGeom_clone_r(h, g[i]);
    GEOSGeometry *cu = joined ? rest_union(h, g, n, meets, joined, block, clean) : NULL;
    if (!cu)
        cu = rest_union(h, g, n, meets, NULL, NULL, NULL);
    GEOSGeometry *u = NULL;
    if (cu) {
        /* the few parcels that meet others united first, then with the rest in one overlay: in
         * one cascaded union the rest's large polygon would go through an overlay per level */
        GEOSGeometry *c = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)nparts);
        GEOSGeometry *met = c ? GEOSUnaryUnion_r(h, c) : NULL;
        if (c) {
            GEOSGeom_destroy_r(h, c);
            nparts = 0;
        }
        u = met ? GEOSUnion_r(h, cu, met) : NULL;
        if (met)
            GEOSGeom_destroy_r(h, met);
        GEOSGeom_destroy_r(h, cu);
    }
    for (size_t i = 0; i < nparts; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    return u ? u : all ? GEOSUnaryUnion_r(h, all) : NULL;
}

/* A parcel's envelope centre, to sort parcels into blocks. */
typedef struct centre {
    double k;
    size_t i;
} centre;

static int centre_cmp(const void *a, const void *b)
{
    const centre *x = a, *y = b;
    return x->k < y->k ? -1 : x->k > y->k ? 1 : x->i < y->i ? -1 : x->i > y->i;
}

enum { SHEET_BLOCK = 64 };

/* Which of the sheet's parcels can overlap one another, when the sheet's union showed that some
 * do: the parcels go into blocks of SHEET_BLOCK neighbours (sorted into vertical strips by x,
 * each strip cut by y), and a block whose own coverage union is valid with the area of its
 * parcels has no overlapping pair inside (the test check_sheet applies to the whole sheet).
 * The clean blocks' unions are then joined the same way: when that union is valid with
 * their parcels' area (*joined), no pair across clean blocks overlaps either. Only the pairs
 * of the other blocks then need GEOS's relate, which costs more than a block's union. block[i]
 * is the block of parcel i; clean[b] says block b passed; *joined is NULL when the clean
 * blocks do not join. @return the number of blocks, 0 when memory runs out (then every pair
 * is tested). */
static size_t sheet_blocks(GEOSContextHandle_t h, const GEOSGeometry *const *g, size_t n, size_t *block,
                           unsigned char **clean, GEOSGeometry **joined)
{
    centre *c = malloc((n + 1) * sizeof *c);
    size_t nb = (n + SHEET_BLOCK - 1) / SHEET_BLOCK, nbu = 0;
    *clean = calloc(nb + 1, 1);
    *joined = NULL;
    const GEOSGeometry **part = malloc((SHEET_BLOCK + 1) * sizeof *part);
    GEOSGeometry **bu = malloc((nb + 1) * sizeof *bu);
    if (!c || !*clean || !part || !bu) {
        free(c);
        free(*clean);
        free(part);
        free(bu);
        *clean = NULL;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        double x0 = 0, x1 = 0;
        GEOSGeom_getXMin_r(h, g[i], &x0);
        GEOSGeom_getXMax_r(h, g[i], &x1);
        c[i] = (centre){x0 + x1, i};
    }
    qsort(c, n, sizeof *c, centre_cmp);
    size_t strips = (size_t)ceil(sqrt((double)nb)), per = (n + strips - 1) / strips;
    for (size_t s0 = 0; s0 < n; s0 += per) {
        size_t s1 = s0 + per < n ? s0 + per : n;
        for (size_t k = s0; k < s1; k++) {
            double y0 = 0, y1 = 0;
            GEOSGeom_getYMin_r(h, g[c[k].i], &y0);
            GEOSGeom_getYMax_r(h, g[c[k].i], &y1);
            c[k].k = y0 + y1;
        }
        qsort(c + s0, s1 - s0, sizeof *c, centre_cmp);
    }
    double clean_sum = 0;
    for (size_t b = 0; b < nb; b++) {
        size_t k0 = b * SHEET_BLOCK, k1 = k0 + SHEET_BLOCK < n ? k0 + SHEET_BLOCK : n, np = 0;
        double sum = 0, a = 0;
        for (size_t k = k0; k < k1; k++) {
            block[c[k].i] = b;
            GEOSArea_r(h, g[c[k].i], &a);
            sum += a;
            part[np++] = g[c[k].i];
        }
        GEOSGeometry *u = ct_coverage_union(h, part, np);
        (*clean)[b] = union_is_cover(h, u, sum);
        if ((*clean)[b]) {
            bu[nbu++] = u;
            clean_sum += sum;
        } else if (u) {
            GEOSGeom_destroy_r(h, u);
        }
    }
    /* the clean blocks' unions joined the same way: valid with their parcels' area, no parcel of
     * a clean block overlaps one of another */
    GEOSGeometry *u = nbu ? ct_coverage_union(h, (const GEOSGeometry *const *)bu, nbu) : NULL;
    if (union_is_cover(h, u, clean_sum))
        *joined = u;
    else if (u)
        GEOSGeom_destroy_r(h, u);
    for (size_t k = 0; k < nbu; k++)
        GEOSGeom_destroy_r(h, bu[k]);
    free(bu);
    free(part);
    free(c);
    return nb;
}

enum { GAP_MIN_M2 = 5 }; /* a gap smaller is the specks of reflex corners */

/* What the closing may cut off a corner of the union, at most (m², a generous bound): the
 * buffers' round joins are chords of a circle, a chord of at most 67.5° (GEOS rounds a join to
 * whole 45° steps) passes 1 - cos 33.75° = 0.17 m inside the corner, and the triangle it cuts
 * off a corner of angle a is 0.17² tan(a/2): at most 0.045 m² (near a = 112°). */
#define CORNER_CUT_M2 0.1

typedef struct comp_query {
    size_t *hits, nhits; /* room for every component */
} comp_query;

static void collect_comp(void *item, void *user)
{
    comp_query *q = user;
    q->hits[q->nhits++] = (size_t)(uintptr_t)item - 1;
}

/*
 * What the closing adds to the union u: closed − u, each piece a gap candidate, as a
 * collection. The union grown by a micrometre stands in for u (see check_sheet()). The
 * closing of a sheet is a hundred or so components (blocks of parcels closer than 2 m), and
 * a component adds to the parts of u inside it at most its area less theirs, plus what it cut
 * off their corners (CORNER_CUT_M2 a vertex, at most): the difference is taken only for the
 * components where that reaches GAP_MIN_M2, one or two a sheet, each against its own parts.
 * (The difference of the whole closing was half the time of the sheet checks, and the
 * micrometre's buffer of the whole union another seventh.) NULL when GEOS fails.
 */
static GEOSGeometry *closing_gaps(GEOSContextHandle_t h, const GEOSGeometry *u, const GEOSGeometry *closed)
{
    const int multi_c = GEOSGeomTypeId_r(h, closed) == GEOS_MULTIPOLYGON;
    const int multi_u = GEOSGeomTypeId_r(h, u) == GEOS_MULTIPOLYGON;
    const size_t nc = multi_c ? (size_t)GEOSGetNumGeometries_r(h, closed) : 1;
    const size_t nu = multi_u ? (size_t)GEOSGetNumGeometries_r(h, u) : 1;
    const GEOSGeometry **comp = malloc((nc + 1) * sizeof *comp), **part = malloc((nu + 1) * sizeof *part);
    const GEOSPreparedGeometry **prep = calloc(nc + 1, sizeof *prep);
    double *excess = malloc((nc + 1) * sizeof *excess);
    size_t *owner = malloc((nu + 1) * sizeof *owner), *hits = malloc((nc + 1) * sizeof *hits);
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    GEOSGeometry **out = NULL, *res = NULL;
    size_t nout = 0, cap = 0;
    int ok = comp && part && prep && excess && owner && hits && tree;
    for (size_t k = 0; ok && k < nc; k++) {
        comp[k] = multi_c ? GEOSGetGeometryN_r(h, closed, (int)k) : closed;
        ok = GEOSArea_r(h, comp[k], &excess[k]) == 1;
        GEOSSTRtree_insert_r(h, tree, comp[k], (void *)(uintptr_t)(k + 1));
    }
    /* each part of u lies in one component of the closing, but for the corners it cuts, and
     * no other component comes within a metre of it: the one component whose envelope meets
     * the part's, or, of several, the one that meets the part */
    for (size_t i = 0; ok && i < nu; i++) {
        part[i] = multi_u ? GEOSGetGeometryN_r(h, u, (int)i) : u;
        comp_query q = {.hits = hits};
        GEOSSTRtree_query_r(h, tree, part[i], collect_comp, &q);
        size_t found = q.nhits == 1 ? hits[0] : SIZE_MAX;
        for (size_t t = 0; q.nhits > 1 && found == SIZE_MAX && t < q.nhits; t++) {
            if (!prep[hits[t]] && !(prep[hits[t]] = GEOSPrepare_r(h, comp[hits[t]])))
                break;
            if (GEOSPreparedIntersects_r(h, prep[hits[t]], part[i]) == 1)
                found = hits[t];
        }
        double a = 0;
        ok = found != SIZE_MAX && GEOSArea_r(h, part[i], &a) == 1;
        if (ok) {
            owner[i] = found;
            excess[found] += CORNER_CUT_M2 * GEOSGetNumCoordinates_r(h, part[i]) - a;
        }
    }
    const GEOSGeometry **mine = malloc((nu + 1) * sizeof *mine);
    ok = ok && mine;
    for (size_t k = 0; ok && k < nc; k++) {
        if (excess[k] < GAP_MIN_M2)
            continue; /* specks only */
        size_t nm = 0;
        for (size_t i = 0; i < nu; i++)
            if (owner[i] == k)
                mine[nm++] = part[i];
        GEOSGeometry **cl = malloc((nm + 1) * sizeof *cl);
        size_t ncl = 0;
        while (cl && ncl < nm && (cl[ncl] = GEOSGeom_clone_r(h, mine[ncl])))
            ncl++;
        GEOSGeometry *own = cl ? ct_geos_collection(h, GEOS_MULTIPOLYGON, cl, ncl, nm) : NULL;
        GEOSGeometry *apart = own ? GEOSBuffer_r(h, own, 1e-6, 1) : NULL;
        GEOSGeometry *d = apart ? GEOSDifference_r(h, comp[k], apart) : NULL;
        ok = d != NULL;
        for (int g = 0; ok && g < GEOSGetNumGeometries_r(h, d); g++) {
            if (nout == cap && ct_grow(&out, &cap, nout + 1, sizeof *out)) {
                ok = 0;
                break;
            }
            ok = (out[nout] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, d, g))) != NULL;
            nout += ok;
        }
        if (own)
            GEOSGeom_destroy_r(h, own);
        free(cl);
        if (apart)
            GEOSGeom_destroy_r(h, apart);
        if (d)
            GEOSGeom_destroy_r(h, d);
    }
    if (ok) /* (GEOS takes the pieces whether or not it makes the collection) */
        res = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, out, (unsigned)nout);
    else
        for (size_t i = 0; i < nout; i++)
            GEOSGeom_destroy_r(h, out[i]);
    for (size_t k = 0; prep && k < nc; k++)
        if (prep[k])
            GEOSPreparedGeom_destroy_r(h, prep[k]);
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    free(out);
    free(mine);
    free(comp);
    free(part);
    free(prep);
    free(excess);
    free(owner);
    free(hits);
    return res;
}

/* The checks of one sheet: GEOS only, no SDI access, so that it can run on a worker thread with
 * the worker's GEOS handle h. The findings go to j->f; the parcels are freed. */
static void check_sheet(GEOSContextHandle_t h, sheet_job *j)
{
    char detail[400];
    /* The sheet's union, for the overlap test and the gaps. A sheet is a coverage: parcels share
     * their edges and do not overlap, and then its coverage union (ct_coverage_union(): the
     * shared edges dropped, the rest traced into rings, close to linear) gives it at a fraction
     * of the cost of a general union. When there is none, or it is not a valid polygon, or its
     * area is not the sum of the parcels' areas, parcels overlap or their edges do not match:
     * then the pairs of parcels whose interiors meet are found and the overlaps reported, and
     * the union is the coverage union of the other parcels, joined to those (the general union
     * of the whole sheet is the last resort). */
    double sum = 0;
    for (size_t i = 0; i < j->n; i++) {
        double a = 0;
        GEOSArea_r(h, j->g[i], &a);
        sum += a;
    }
    GEOSGeometry *all = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, j->g, (unsigned)j->n);
    if (all) /* the collection owns the parcels now */
        for (size_t i = 0; i < j->n; i++)
            j->g[i] = NULL;
    const GEOSGeometry **g = malloc((j->n + 1) * sizeof *g);
    for (size_t i = 0; g && i < j->n; i++)
        g[i] = all ? GEOSGetGeometryN_r(h, all, (int)i) : j->g[i];
    GEOSGeometry *u = g ? ct_coverage_union(h, g, j->n) : NULL;
    if (u && !union_is_cover(h, u, sum)) {
        GEOSGeom_destroy_r(h, u);
        u = NULL;
    }

    /* The pairwise tests, when the coverage union failed. (Overlaps add up to what the parcels'
     * areas exceed their union by: when it holds, no pair overlaps.) */
    unsigned char *meets = u ? NULL : calloc(j->n + 1, 1);
    if (meets) {
        size_t *block = malloc((j->n + 1) * sizeof *block);
        unsigned char *clean = NULL;
        GEOSGeometry *joined = NULL;
        if (!block || !sheet_blocks(h, g, j->n, block, &clean, &joined)) {
            free(block);
            block = NULL;
        }
        GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
        for (size_t i = 0; i < j->n; i++)
            GEOSSTRtree_insert_r(h, tree, g[i], (void *)(uintptr_t)(i + 1));
        pair_query q = {0};
        for (size_t i = 0; i < j->n; i++) {
            q.self = i;
            q.nhits = 0;
            GEOSSTRtree_query_r(h, tree, g[i], collect_pair, &q);
            if (block) { /* pairs inside a clean block, or across clean blocks that join, do not overlap */
                size_t keep = 0;
                for (size_t k = 0; k < q.nhits; k++) {
                    size_t bo = block[q.hits[k]], bi = block[i];
                    if (!(clean[bi] && clean[bo] && (bo == bi || joined)))
                        q.hits[keep++] = q.hits[k];
                }
                q.nhits = keep;
            }
            if (!q.nhits)
                continue;
            const GEOSPreparedGeometry *pg = GEOSPrepare_r(h, g[i]);
            for (size_t k = 0; k < q.nhits; k++) {
                size_t o = q.hits[k];
                /* disjoint (a cheap prepared test) or meeting along their edges only */
                if (GEOSPreparedIntersects_r(h, pg, g[o]) != 1 ||
                    (GEOSPreparedOverlaps_r(h, pg, g[o]) != 1 && GEOSPreparedContains_r(h, pg, g[o]) != 1 &&
                     GEOSPreparedWithin_r(h, pg, g[o]) != 1))
                    continue;
                meets[i] = meets[o] = 1;
                GEOSGeometry *x = GEOSIntersection_r(h, g[i], g[o]);
                double a = 0;
                if (x) {
                    GEOSArea_r(h, x, &a);
                    GEOSGeom_destroy_r(h, x);
                }
                if (a < 0.01)
                    continue; /* below survey precision */
                /* the pair named by its keys' order, not the parcels' (a sheet read back from
                 * the SDI comes in fid order, not in the order of the source) */
                size_t p1 = strcmp(j->key[i], j->key[o]) <= 0 ? i : o, p2 = p1 == i ? o : i;
                snprintf(detail, sizeof detail, "overlaps %s by %.2f m²", j->key[p2], a);
                sheet_found(j, j->key[p1], "overlap", a, detail);
            }
            GEOSPreparedGeom_destroy_r(h, pg);
        }
        free(q.hits);
        j->oom |= q.oom;
        GEOSSTRtree_destroy_r(h, tree);
        u = sheet_union(h, g, j->n, meets, all, joined, block, clean);
        if (joined)
            GEOSGeom_destroy_r(h, joined);
        free(block);
        free(clean);
        free(meets);
    }
    /* gaps: what a morphological closing of the sheet's union (buffer out and back by 1 m)
     * adds — the slits under 2 m wide between neighbours, whether enclosed or open to a road.
     * The round joins are two segments a quarter circle, not GEOS's eight: edges offset
     * exactly, so a slit's width is judged the same, and the buffers cost 40 % less (a gap's
     * mouth is drawn a little coarser: 0.02 m² less on sample sheet 1's 29.35 m²). Reflex
     * corners add specks of 1 - sin 45° = 0.29 m²: 5 m² is the floor. The closing keeps most of
     * the union's boundary to within rounding, and edges so close make GEOS's overlay fail in
     * floating point and start again with snapping, at three times the cost: the union is taken
     * out grown by a micrometre, so that the edges the two share lie apart (a gap loses a
     * micrometre along its sides: 1e-4 m² on a 100 m slit). */
    GEOSGeometry *grown = u ? GEOSBuffer_r(h, u, 1.0, 2) : NULL;
    GEOSGeometry *closed = grown ? GEOSBuffer_r(h, grown, -1.0, 2) : NULL;
    GEOSGeometry *gaps = closed ? closing_gaps(h, u, closed) : NULL;
    for (int i = 0; gaps && i < GEOSGetNumGeometries_r(h, gaps); i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, gaps, i);
        double a = 0, cx = 0, cy = 0;
        GEOSArea_r(h, p, &a);
        if (a < GAP_MIN_M2)
            continue; /* reflex corners */
        /* a repaired bow-tie lost a lobe: the hole it leaves is the repair's, reported as such
         * (the gap touches the repaired parcel, but for the micrometre above) */
        int by_repair = 0;
        for (size_t k = 0; !by_repair && k < j->n; k++)
            by_repair = j->repaired[k] && GEOSDistanceWithin_r(h, p, g[k], 1e-3) == 1;
        if (by_repair)
            continue;
        GEOSGeometry *c = GEOSPointOnSurface_r(h, p);
        GEOSGeomGetX_r(h, c, &cx);
        GEOSGeomGetY_r(h, c, &cy);
        GEOSGeom_destroy_r(h, c);
        char key[96];
        snprintf(key, sizeof key, "%s/gap@%.0f,%.0f", j->sheet, cx, cy);
        snprintf(detail, sizeof detail, "gap of %.2f m² at %.2f %.2f in sheet %s", a, cx, cy, j->sheet);
        sheet_found(j, key, "gap", a, detail);
    }
    free(g);
    if (gaps)
        GEOSGeom_destroy_r(h, gaps);
    if (closed)
        GEOSGeom_destroy_r(h, closed);
    if (grown)
        GEOSGeom_destroy_r(h, grown);
    if (u)
        GEOSGeom_destroy_r(h, u);
    if (all)
        GEOSGeom_destroy_r(h, all);
    sheet_drop_parcels(h, j);
}

/*
 * The sheet checks of one source run beside the loading: store_feature() hands each parcel it
 * loaded (final key, repaired geometry) to coverage_add(); when the sheet changes, the sheet
 * read so far goes to a worker thread (each has its own GEOS handle) while the main thread goes
 * on writing to the SDI. Sources come sheet by sheet, so a sheet is complete when the next one
 * starts; a sheet that comes back later in the source is checked again at the end, from what
 * the SDI then holds. The findings are written by the main thread once the source is read, in
 * the order the sheets were read: the same rows whatever the number of threads. Memory: the
 * sheet being read and at most COVERAGE_MAXWAITING waiting or being checked.
 *
 * The checks of a sheet cost about what loading it costs, and neither side keeps a core busy
 * all the time (the loading waits for the worker when sheets pile up, the worker for the next
 * sheet): with as many workers as sheets may wait, the cores take whichever thread has work.
 */
enum { COVERAGE_MAXWAITING = 2 };

typedef struct coverage {
    int threaded, started;     /* started: how many workers run */
    pthread_t thread[COVERAGE_MAXWAITING];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sheet_job *first, *last;   /* every sheet job of the source, in the order read */
    sheet_job *queue, *qlast;  /* waiting for the worker */
    int waiting, closing;
    int discard;               /* the load failed: the worker drops what waits, unchecked */
    sheet_job *cur;            /* the sheet being read, NULL when it comes back (not collected) */
    char *cur_sheet;
    json_object *sheets;       /* sheet -> 1: read in one stretch; 2: in several */
} coverage;

/* GEOS reports errors through a callback: kept quiet, the caller sees a NULL or 0 result. */
static void geos_quiet(const char *fmt, ...) { (void)fmt; }

/* GEOS geometries must not cross threads: every geometry counts references on its handle's
 * factory without a lock, so the main thread reading the next sheet and the worker checking
 * this one would race on the count. A sheet travels as the WKB its parcels were stored as
 * (exact: the same doubles), read here on the checking thread's handle. The WKB is freed.
 * @return 1 when every parcel came back. */
static int sheet_from_wkb(GEOSContextHandle_t h, sheet_job *j)
{
    j->g = calloc(j->n + 1, sizeof *j->g);
    int all = j->g != NULL;
    for (size_t i = 0; all && i < j->n; i++)
        all = (j->g[i] = sdi_wkb_geom(h, j->wkb[i], j->wkblen[i])) != NULL;
    for (size_t i = 0; i < j->n; i++)
        free(j->wkb[i]);
    free(j->wkb);
    free(j->wkblen);
    j->wkb = NULL;
    j->wkblen = NULL;
    if (!all)
        j->oom = 1;
    return all;
}

/* How much a worker yields to the reading and loading threads (a nice value: with 10, about a
 * tenth of their weight). The loading thread sets the pace of a load; the sheet checks can
 * wait, and take what CPU the other two leave, or all of it when the loading thread waits for
 * them (two sheets behind). Without it, the scheduler gave the four threads equal shares and
 * the two cores were busy 85 % of b400's load, with it 95-100 %. */
enum { WORKER_NICE = 10 };

static void *coverage_worker(void *arg)
{
    coverage *c = arg;
    /* Linux sets a nice value per thread (a failure leaves the thread as it was) */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), getpriority(PRIO_PROCESS, (id_t)gettid()) + WORKER_NICE);
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSContext_setNoticeHandler_r(h, geos_quiet);
    GEOSContext_setErrorHandler_r(h, geos_quiet);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->queue && !c->closing)
            pthread_cond_wait(&c->cv, &c->mu);
        sheet_job *j = c->queue;
        if (!j)
            break;
        c->queue = j->queue_next;
        int discard = c->discard;
        pthread_mutex_unlock(&c->mu);
        if (!discard && sheet_from_wkb(h, j))
            check_sheet(h, j);
        else
            sheet_drop_parcels(h, j);
        pthread_mutex_lock(&c->mu);
        c->waiting--;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    GEOS_finish_r(h);
    return NULL;
}

static void coverage_init(coverage *c, ct_ctx *ctx)
{
    memset(c, 0, sizeof *c);
    c->sheets = json_object_new_object();
    int workers = ct_ctx_threads(ctx) > 1 ? ct_ctx_threads(ctx) : 0;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    while (c->started < workers && c->started < COVERAGE_MAXWAITING &&
           pthread_create(&c->thread[c->started], NULL, coverage_worker, c) == 0)
        c->started++;
    c->threaded = c->started > 0;
}

/* The sheet being read is complete: to the worker, or checked here without one. */
static void coverage_close(coverage *c, GEOSContextHandle_t h)
{
    sheet_job *j = c->cur;
    c->cur = NULL;
    if (!j)
        return;
    if (!c->threaded) {
        if (sheet_from_wkb(h, j))
            check_sheet(h, j);
        else
            sheet_drop_parcels(h, j);
        return;
    }
    pthread_mutex_lock(&c->mu);
    if (c->qlast && c->queue)
        c->qlast->queue_next = j;
    else
        c->queue = j;
    c->qlast = j;
    c->waiting++;
    pthread_cond_broadcast(&c->cv);
    while (c->waiting > COVERAGE_MAXWAITING)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

/* Takes wkb (malloc()ed). @return 0, or -1 out of memory. */
static int coverage_add(coverage *c, GEOSContextHandle_t h, const char *sheet, const char *key, unsigned char *wkb,
                        size_t wkblen, int repaired)
{
    sheet = sheet ? sheet : "";
    if (!c->cur_sheet || strcmp(c->cur_sheet, sheet)) {
        coverage_close(c, h);
        free(c->cur_sheet);
        c->cur_sheet = strdup(sheet);
        json_object *seen;
        if (json_object_object_get_ex(c->sheets, sheet, &seen)) {
            json_object_set_int(seen, 2); /* back again: checked from the SDI at the end */
        } else {
            json_object_object_add(c->sheets, sheet, json_object_new_int(1));
            sheet_job *j = calloc(1, sizeof *j);
            j->sheet = strdup(sheet);
            if (c->last)
                c->last->next = j;
            else
                c->first = j;
            c->last = j;
            c->cur = j;
        }
    }
    if (c->cur)
        return sheet_add(c->cur, wkb, wkblen, key, repaired);
    free(wkb);
    return 0;
}

/* Waits for the worker; frees the jobs unless keep. A failed or cancelled load (!keep) checks
 * nothing more: the sheet being read is dropped and the worker drops what waits. */
static void coverage_end(coverage *c, GEOSContextHandle_t h, int keep)
{
    if (keep) {
        coverage_close(c, h);
    } else if (c->cur) {
        sheet_drop_parcels(h, c->cur);
        c->cur = NULL;
    }
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->discard = !keep;
        c->closing = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        while (c->started > 0)
            pthread_join(c->thread[--c->started], NULL);
    }
    if (keep)
        return;
    for (sheet_job *j = c->first, *next; j; j = next) {
        next = j->next;
        sheet_free(h, j);
    }
    c->first = c->last = NULL;
    free(c->cur_sheet);
    c->cur_sheet = NULL;
    json_object_put(c->sheets);
    c->sheets = NULL;
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* A sheet that came in several stretches, read back from the SDI. */
static ct_status sheet_from_sdi(run *r, const char *source, sheet_job *j)
{
    ct_ctx *ctx = r->ctx;
    GEOSContextHandle_t h = ct_geos(ctx);
    json_object *repaired = json_object_new_object();
    sdi_stmt *rq = ct_sdi_prepare(ctx, r->sdi, "SELECT fkey FROM sdi_report WHERE version = ? AND source = ? AND kind = 'repaired'");
    if (rq) {
        sdi_bind_int64(rq, 1, r->sdi->version);
        sdi_bind_text(rq, 2, source);
        while (sdi_step(rq) == SDI_ROW)
            json_object_object_add(repaired, sdi_column_text(rq, 0), NULL);
        sdi_finalize(rq);
    }
    /* "sheet = ?" rather than coalesce(sheet, ''): the index parcels_sheet serves it, where
     * otherwise every sheet read back scans all the source's parcels (quadratic on a source
     * whose sheets are interleaved) */
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT fkey, %s(geom) FROM parcels WHERE source = ? AND %s AND v_to IS NULL"
             " ORDER BY fid", r->sdi->sql->as_wkb, *j->sheet ? "sheet = ?" : "coalesce(sheet, '') = ?");
    sdi_stmt *q = ct_sdi_prepare(ctx, r->sdi, sql);
    if (!q) {
        json_object_put(repaired);
        return CT_ERR_DB;
    }
    sdi_stream(q);
    sdi_bind_text(q, 1, source);
    sdi_bind_text(q, 2, j->sheet);
    sheet_drop_parcels(h, j);
    int rc;
    while ((rc = sdi_step(q)) == SDI_ROW) {
        size_t n = (size_t)sdi_column_bytes(q, 1);
        unsigned char *wkb = malloc(n + 1);
        const char *key = sdi_column_text(q, 0);
        if (wkb)
            memcpy(wkb, sdi_column_blob(q, 1), n);
        if (!wkb || sheet_add(j, wkb, n, key, json_object_object_get_ex(repaired, key, NULL))) {
            j->oom = 1;
            break;
        }
    }
    ct_status st = CT_OK;
    if (j->oom)
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: sheet %s: out of memory for the sheet checks", source, j->sheet);
    else if (rc == SDI_ERROR)
        st = ct_error(ctx, CT_ERR_DB, "%s: cannot read the parcels of %s back: %s", ct_sdi_path(r->sdi), source,
                      sdi_db_errmsg(&r->sdi->db));
    sdi_finalize(q);
    json_object_put(repaired);
    if (!st && sheet_from_wkb(h, j))
        check_sheet(h, j);
    else if (!st)
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: sheet %s: out of memory for the sheet checks", source, j->sheet);
    return st;
}

/* Waits for the checks of the source's sheets and writes their findings. */
static ct_status coverage_finish(run *r, coverage *c, const char *source)
{
    GEOSContextHandle_t h = ct_geos(r->ctx);
    coverage_end(c, h, 1);
    ct_status st = CT_OK;
    for (sheet_job *j = c->first; !st && j; j = j->next) {
        json_object *seen = NULL;
        json_object_object_get_ex(c->sheets, j->sheet, &seen);
        if (json_object_get_int(seen) > 1) {
            for (size_t i = 0; i < j->nf; i++) {
                free(j->f[i].key);
                free(j->f[i].kind);
                free(j->f[i].detail);
            }
            j->nf = 0;
            st = sheet_from_sdi(r, source, j);
        }
        if (!st && j->oom)
            st = ct_error(r->ctx, CT_ERR_NOMEM, "%s: sheet %s: out of memory for the sheet checks", source, j->sheet);
        for (size_t i = 0; !st && i < j->nf; i++)
            st = finding(r, source, j->f[i].key, j->f[i].kind, j->f[i].value, j->f[i].detail);
    }
    coverage_end(c, h, 0);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* DGN sheets: boundary lines and text labels                                                */

typedef struct label {
    double x, y;
    char *text;
} label;

/* The sheet number of a DGN sheet: --sheet, or the number after "to" in its name (to07). */
static int dgn_sheet(const char *path, const char *given, char *out, size_t n)
{
    if (given) {
        snprintf(out, n, "%s", given);
        return 1;
    }
    const char *b = base_name(path);
    for (const char *p = b; *p; p++)
        if (!strncasecmp(p, "to", 2) && isdigit((unsigned char)p[2])) {
            snprintf(out, n, "%d", atoi(p + 2));
            return 1;
        }
    return 0;
}

static int is_number(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Collects the number and land-use code among the labels inside one face. */
typedef struct face_labels {
    GEOSContextHandle_t h;
    const GEOSPreparedGeometry *face;
    const char *number, *code, *second_number;
} face_labels;

static void face_label(void *item, void *user)
{
    label *lb = item;
    face_labels *fl = user;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(fl->h, lb->x, lb->y);
    int inside = GEOSPreparedContains_r(fl->h, fl->face, pt) == 1;
    GEOSGeom_destroy_r(fl->h, pt);
    if (!inside)
        return;
    const char *txt = lb->text;
    while (isspace((unsigned char)*txt))
        txt++;
    if (is_number(txt) && !fl->number)
        fl->number = txt;
    else if (is_number(txt) && !fl->second_number)
        fl->second_number = txt;
    else if (ct_landuse_lookup(txt) && !fl->code)
        fl->code = txt;
}

static ct_status ingest_dgn(run *r, const char *path, ct_layer *l, ct_transform *t)
{
    ct_ctx *ctx = r->ctx;
    GEOSContextHandle_t h = ct_geos(ctx);
    const char *source = base_name(path);
    char sheet[32];
    if (!dgn_sheet(path, r->o->sheet, sheet, sizeof sheet))
        return ct_error(ctx, CT_ERR_USAGE, "%s: cannot tell the map sheet from the name; give --sheet", path);
    int itext = ct_layer_field_index(l, "Text");
    size_t nlines = 0, caplines = 0, nlabels = 0, caplabels = 0;
    GEOSGeometry **lines = NULL;
    label *labels = NULL;
    ct_feature *f;
    ct_status st = CT_OK;
    /* Lines and labels stay in the sheet's own coordinates until each parcel is built. */
    while (!(st = ct_layer_next(ctx, l, &f)) && f) {
        const GEOSGeometry *g = ct_feature_geom(ctx, f);
        if (!g)
            continue;
        int type = GEOSGeomTypeId_r(h, g);
        if (type == GEOS_POINT && itext >= 0 && !ct_feature_is_null(f, itext)) {
            char *txt = NULL;
            if ((st = ct_feature_text(ctx, f, itext, &txt)))
                break;
            double x, y;
            GEOSGeomGetX_r(h, g, &x);
            GEOSGeomGetY_r(h, g, &y);
            if (ct_grow(&labels, &caplabels, nlabels + 1, sizeof *labels)) {
                free(txt);
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory for the text labels", path);
                break;
            }
            labels[nlabels++] = (label){x, y, txt};
        } else if (type == GEOS_LINESTRING || type == GEOS_MULTILINESTRING || type == GEOS_LINEARRING) {
            if (ct_grow(&lines, &caplines, nlines + 1, sizeof *lines)) {
                st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory for the boundary lines", path);
                break;
            }
            lines[nlines++] = GEOSGeom_clone_r(h, g);
        }
    }
    /* node the boundary lines where they cross, and polygonise the faces */
    GEOSGeometry *all = st ? NULL : GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, lines, (unsigned)nlines);
    GEOSGeometry *noded = all ? GEOSUnaryUnion_r(h, all) : NULL;
    if (all)
        GEOSGeom_destroy_r(h, all);
    else
        for (size_t i = 0; i < nlines; i++)
            GEOSGeom_destroy_r(h, lines[i]);
    free(lines);
    const GEOSGeometry *in[1] = {noded};
    GEOSGeometry *polys = noded ? GEOSPolygonize_r(h, in, 1) : NULL;
    if (noded)
        GEOSGeom_destroy_r(h, noded);
    if (!st && !polys)
        st = ct_error(ctx, CT_ERR_FORMAT, "%s: the boundary lines cannot be polygonised", path);
    int npoly = polys ? GEOSGetNumGeometries_r(h, polys) : 0;
    /* labels in an STRtree, so that each face only tests the labels within its envelope */
    GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
    GEOSGeometry **pts = malloc((nlabels + 1) * sizeof *pts);
    for (size_t k = 0; k < nlabels; k++) {
        pts[k] = GEOSGeom_createPointFromXY_r(h, labels[k].x, labels[k].y);
        GEOSSTRtree_insert_r(h, tree, pts[k], &labels[k]);
    }
    for (int i = 0; !st && i < npoly; i++) {
        const GEOSGeometry *p = GEOSGetGeometryN_r(h, polys, i);
        const GEOSPreparedGeometry *pp = GEOSPrepare_r(h, p);
        face_labels fl = {h, pp, NULL, NULL, NULL};
        GEOSSTRtree_query_r(h, tree, p, face_label, &fl);
        const char *number = fl.number, *code = fl.code;
        GEOSPreparedGeom_destroy_r(h, pp);
        /* a face with no number is not a parcel: the sheet frame, a road strip, a title box */
        if (!number)
            continue;
        if (fl.second_number) {
            char id[96], why[160], attrs[160];
            snprintf(id, sizeof id, "face %d (parcels %s and %s)", i + 1, number, fl.second_number);
            snprintf(why, sizeof why, "two parcel numbers (%s, %s) in one face: a boundary line is missing", number,
                     fl.second_number);
            snprintf(attrs, sizeof attrs, "{\"sheet\": \"%s\", \"numbers\": [\"%s\", \"%s\"]}", sheet, number, fl.second_number);
            r->t.read++;
            st = reject(r, source, id, why, attrs);
            continue;
        }
        char *values[16] = {0};
        values[0] = strdup(sheet);
        values[1] = strdup(number);
        values[3] = code ? strdup(code) : NULL;
        char id[64], attrs[160];
        snprintf(id, sizeof id, "face %d (parcel %s)", i + 1, number);
        snprintf(attrs, sizeof attrs, "{\"sheet\": \"%s\", \"number\": \"%s\", \"code\": \"%s\"}", sheet, number,
                 code ? code : "");
        GEOSGeometry *g = NULL;
        st = ct_transform_geom(ctx, t, p, &g);
        if (!st)
            st = put_feature(r, source, id, g, values, &(raw_attrs){.text = attrs});
        else
            for (int c = 0; c < 16; c++)
                free(values[c]);
        if (g)
            GEOSGeom_destroy_r(h, g);
    }
    GEOSSTRtree_destroy_r(h, tree);
    for (size_t k = 0; k < nlabels; k++)
        GEOSGeom_destroy_r(h, pts[k]);
    free(pts);
    if (polys)
        GEOSGeom_destroy_r(h, polys);
    for (size_t k = 0; k < nlabels; k++)
        free(labels[k].text);
    free(labels);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Vector sources                                                                            */

static ct_status open_transform(ct_ctx *ctx, const char *path, const ct_crs *src, const ct_sdi *sdi,
                                ct_transform **t)
{
    *t = NULL;
    if (ct_crs_equal(src, ct_sdi_crs(sdi)))
        return CT_OK;
    ct_status st = ct_transform_new(ctx, src, ct_sdi_crs(sdi), t);
    return st ? ct_error(ctx, st, "%s: %s", path, ct_ctx_errmsg(ctx)) : CT_OK;
}

/* The source's CRS: the file's own, or --srs for a file that has none. A file whose CRS differs
 * from --srs keeps its own, with a warning: the file knows better than a batch option. */
static ct_status source_crs(run *r, const char *path, const ct_crs *file_crs, ct_crs **out)
{
    ct_ctx *ctx = r->ctx;
    *out = NULL;
    if (file_crs) {
        *out = ct_crs_clone(file_crs);
        ct_crs *given = NULL;
        if (r->o->srs && !ct_crs_from_user(ctx, r->o->srs, &given) && !ct_crs_equal(given, file_crs))
            ct_log(ctx, CT_LOG_WARN, "%s: has its own CRS (%s); --srs %s applies to sources without one", path,
                   ct_crs_name(file_crs), r->o->srs);
        ct_crs_free(given);
        ct_ctx_clear_error(ctx);
        return CT_OK;
    }
    if (!r->o->srs)
        return ct_error(ctx, CT_ERR_CRS, "%s: no CRS in the file; give it with --srs (e.g. --srs vn2000:105)", path);
    return ct_crs_from_user(ctx, r->o->srs, out);
}

/* A wrong CRS shows as a source far from the city: refuse it whole rather than reject every
 * feature one by one. */
static ct_status check_extent(run *r, const char *path, ct_layer *l, ct_transform *t, const ct_crs *crs)
{
    double e[4];
    if (!ct_layer_extent(l, e))
        return CT_OK;
    if (t && ct_transform_bounds(r->ctx, t, e, e)) {
        return ct_error(r->ctx, CT_ERR_CRS, "%s: its extent cannot be transformed from %s; is the CRS right?", path,
                        ct_crs_name(crs));
    }
    if (e[2] < r->area[0] || e[0] > r->area[2] || e[3] < r->area[1] || e[1] > r->area[3])
        return ct_error(r->ctx, CT_ERR_CRS,
                        "%s: no part of it lies in the city area when read as %s (extent %.1f %.1f %.1f %.1f in the"
                        " SDI CRS); is the CRS right? (--srs)", path, ct_crs_name(crs), e[0], e[1], e[2], e[3]);
    return CT_OK;
}

/*
 * The features of a vector source, read, decoded, transformed and checked (prepare_feature())
 * on a thread of its own while the loading thread writes the ones before (store_feature()),
 * in the order read: the loading thread, which also hands the sheets to their checks, was the
 * critical path of an ingest. The reading thread has its own context (errors, GEOS handle);
 * only finished items cross, through a ring of FEED_RING. An error of the reading side
 * (a corrupt record, undecodable text) ends its stream: the items before it are written first,
 * as when one thread does both. With one thread, the loading thread reads each item itself.
 * A side that sleeps on an empty or a full ring is woken when FEED_BATCH items, or places,
 * are ready for it, not at the first: woken at once, each would sleep again after one item
 * (b400: a million context switches, half a CPU-second).
 */
enum { FEED_RING = 256, FEED_BATCH = 32 };

typedef struct feed {
    const run *r;
    ct_ctx *ctx; /* the reading side's: r->ctx without a thread */
    ct_layer *l;
    ct_transform *t;
    const int *map;
    int nf;
    const char *path;
    pthread_t thread;
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    fitem *ring[FEED_RING];
    size_t head, tail; /* items taken, items put */
    int ended, stop;   /* the reading side is done; the loading side wants no more */
    int waiting;       /* a side sleeps on cv */
    ct_status st;      /* why the reading side ended early */
    char *errmsg;
} feed;

/* The next feature of the source as an item, or *out NULL at its end. */
static ct_status feed_read(feed *fd, fitem **out)
{
    const run *r = fd->r;
    ct_ctx *c = fd->ctx;
    ct_feature *f;
    *out = NULL;
    ct_status st = ct_layer_next(c, fd->l, &f);
    if (st || !f)
        return st;
    fitem *it = calloc(1, sizeof *it);
    if (!it)
        return ct_error(c, CT_ERR_NOMEM, "%s: out of memory", fd->path);
    put_int(it->id, ct_feature_fid(f));
    char **values = it->values;
    if (r->layer == CT_SDI_ADMIN) { /* validity from the command line unless the source has it */
        values[6] = r->o->valid_from ? strdup(r->o->valid_from) : NULL;
        values[7] = r->o->valid_to ? strdup(r->o->valid_to) : NULL;
    }
    for (int i = 0; !st && i < fd->nf; i++) {
        if (fd->map[i] < 0 || ct_feature_is_null(f, i))
            continue;
        free(values[fd->map[i]]);
        if (ct_layer_field_type(fd->l, i) == CT_FIELD_STRING) {
            st = ct_feature_text(c, f, i, &values[fd->map[i]]);
        } else if (ct_layer_field_type(fd->l, i) == CT_FIELD_INT) {
            char num[24]; /* the digits OGR's text of it has, without its printf (put_int) */
            put_int(num, ct_feature_int(f, i));
            values[fd->map[i]] = strdup(num);
        } else {
            values[fd->map[i]] = strdup(ct_feature_raw(f, i));
        }
    }
    if (st) {
        st = ct_error(c, st, "%s: feature %s: %s", fd->path, it->id, ct_ctx_errmsg(c));
    } else {
        raw_attrs attrs = {.l = fd->l, .f = f};
        const GEOSGeometry *g = ct_feature_geom(c, f);
        GEOSGeometry *gt = NULL;
        ct_ctx_clear_error(c);
        if (g && ct_transform_geom(c, fd->t, g, &gt)) {
            ct_ctx_clear_error(c);
            st = refuse(c, it, "coordinates cannot be transformed", &attrs);
        } else {
            st = prepare_feature(r, c, gt, it, &attrs);
        }
        if (gt)
            GEOSGeom_destroy_r(ct_geos(c), gt);
        if (st)
            st = ct_error(c, st, "%s: %s", fd->path, ct_ctx_errmsg(c));
    }
    if (st) {
        fitem_free(it);
        return st;
    }
    *out = it;
    return CT_OK;
}

static void *feed_thread(void *arg)
{
    feed *fd = arg;
    ct_status st = CT_OK;
    for (;;) {
        fitem *it = NULL;
        st = feed_read(fd, &it);
        pthread_mutex_lock(&fd->mu);
        while (it && !fd->stop && fd->tail - fd->head == FEED_RING) {
            fd->waiting = 1;
            pthread_cond_wait(&fd->cv, &fd->mu);
        }
        int stop = fd->stop || !it;
        if (!fd->stop && it) {
            fd->ring[fd->tail++ % FEED_RING] = it;
            it = NULL;
        }
        if (stop) {
            fd->ended = 1;
            fd->st = st;
            fd->errmsg = st ? strdup(ct_ctx_errmsg(fd->ctx)) : NULL;
        }
        if ((fd->waiting && fd->tail - fd->head >= FEED_BATCH) || stop) {
            fd->waiting = 0;
            pthread_cond_broadcast(&fd->cv);
        }
        pthread_mutex_unlock(&fd->mu);
        fitem_free(it);
        if (stop)
            return NULL;
    }
}

/* Starts the reading side: a thread when ctx allows two or more. */
static void feed_start(feed *fd, const run *r, ct_layer *l, ct_transform *t, const int *map, int nf, const char *path)
{
    *fd = (feed){.r = r, .ctx = r->ctx, .l = l, .t = t, .map = map, .nf = nf, .path = path};
    if (ct_ctx_threads(r->ctx) < 2 || !(fd->ctx = ct_ctx_new())) {
        fd->ctx = r->ctx;
        return;
    }
    ct_ctx_set_log(fd->ctx, r->ctx->log, r->ctx->log_user);
    pthread_mutex_init(&fd->mu, NULL);
    pthread_cond_init(&fd->cv, NULL);
    fd->threaded = pthread_create(&fd->thread, NULL, feed_thread, fd) == 0;
    if (!fd->threaded) {
        pthread_mutex_destroy(&fd->mu);
        pthread_cond_destroy(&fd->cv);
        ct_ctx_free(fd->ctx);
        fd->ctx = r->ctx;
    }
}

/* The next item in the order read, or *out NULL at the end; an error of the reading side goes
 * to the loading side's context. */
static ct_status feed_next(feed *fd, fitem **out)
{
    if (!fd->threaded)
        return feed_read(fd, out);
    pthread_mutex_lock(&fd->mu);
    while (fd->head == fd->tail && !fd->ended) {
        fd->waiting = 1;
        pthread_cond_wait(&fd->cv, &fd->mu);
    }
    *out = fd->head < fd->tail ? fd->ring[fd->head++ % FEED_RING] : NULL;
    if (fd->waiting && fd->tail - fd->head <= FEED_RING - FEED_BATCH) {
        fd->waiting = 0;
        pthread_cond_broadcast(&fd->cv);
    }
    ct_status st = *out || !fd->st ? CT_OK : ct_error(fd->r->ctx, fd->st, "%s", fd->errmsg);
    pthread_mutex_unlock(&fd->mu);
    return st;
}

/* Stops the reading side (at once, when the load failed) and drops what it read ahead. */
static void feed_end(feed *fd)
{
    if (!fd->threaded)
        return;
    pthread_mutex_lock(&fd->mu);
    fd->stop = 1;
    pthread_cond_broadcast(&fd->cv);
    pthread_mutex_unlock(&fd->mu);
    pthread_join(fd->thread, NULL);
    while (fd->head < fd->tail)
        fitem_free(fd->ring[fd->head++ % FEED_RING]);
    free(fd->errmsg);
    pthread_mutex_destroy(&fd->mu);
    pthread_cond_destroy(&fd->cv);
    ct_ctx_free(fd->ctx);
    fd->threaded = 0;
}

static ct_status ingest_vector(run *r, const char *path, const mapping *m, json_object *summary)
{
    ct_ctx *ctx = r->ctx;
    GEOSContextHandle_t h = ct_geos(ctx);
    const char *source = base_name(path);
    ct_vsource *src = NULL;
    ct_status st = ct_vsource_open(ctx, path, &src);
    if (st)
        return st;
    int dgn = !strcmp(ct_vsource_driver(src), "DGN");
    if (ct_vsource_layer_count(src) != 1) {
        ct_vsource_close(src);
        return ct_error(ctx, CT_ERR_USAGE, "%s: %d layers; ct-ingest reads sources of one layer", path,
                        ct_vsource_layer_count(src));
    }
    ct_layer *l = ct_vsource_layer(src, 0);

    /* encoding */
    ct_encoding enc = CT_ENC_UNKNOWN;
    double conf = 1;
    if (r->o->encoding && strcasecmp(r->o->encoding, "auto")) {
        enc = ct_encoding_from_name(r->o->encoding);
        if (enc == CT_ENC_UNKNOWN) {
            ct_vsource_close(src);
            return ct_error(ctx, CT_ERR_USAGE, "unknown encoding '%s' (tcvn3, vni, cp1258, utf8 or auto)", r->o->encoding);
        }
    } else {
        enc = ct_layer_detect_encoding(ctx, l, 5000, &conf);
        if (enc == CT_ENC_UNKNOWN || enc == CT_ENC_ASCII)
            enc = CT_ENC_UTF8;
        ct_log(ctx, CT_LOG_DEBUG, "%s: text is %s (confidence %.2f)", path, ct_encoding_name(enc), conf);
    }
    ct_layer_set_encoding(l, enc);

    ct_crs *crs = NULL;
    ct_transform *t = NULL;
    if (!(st = source_crs(r, path, ct_layer_crs(l), &crs)) && !(st = open_transform(ctx, path, crs, r->sdi, &t)))
        st = check_extent(r, path, l, t, crs);

    int nf = ct_layer_field_count(l);
    int *map = calloc((size_t)nf + 1, sizeof *map);
    if (!st && !dgn)
        st = map_fields(ctx, path, l, r->def, m, r->o, map);

    tally before = r->t;
    coverage cov;
    if (r->layer == CT_SDI_PARCELS) {
        coverage_init(&cov, ctx);
        r->cov = &cov;
    }
    if (!st && dgn) {
        if (r->layer != CT_SDI_PARCELS)
            st = ct_error(ctx, CT_ERR_USAGE, "%s: DGN sheets load as cadastral parcels only", path);
        else
            st = ingest_dgn(r, path, l, t);
    } else if (!st) {
        long long total = ct_layer_feature_count(l), k = 0;
        feed fd;
        feed_start(&fd, r, l, t, map, nf, path);
        fitem *it;
        while (!st && !(st = feed_next(&fd, &it)) && it) {
            st = store_feature(r, source, it);
            fitem_free(it);
            if (!st && (++k & 1023) == 0 && total > 0)
                st = ct_progress(ctx, (r->isrc + (double)k / (double)total) / r->nsrc, source);
        }
        feed_end(&fd);
    }
    if (st && !strstr(ct_ctx_errmsg(ctx), source))
        st = ct_error(ctx, st, "%s: %s", path, ct_ctx_errmsg(ctx));
    long long removed = 0;
    if (!st)
        st = ct_sdi_remove_unseen(ctx, r->sdi, r->layer, source, &removed);
    r->t.removed += removed;
    if (r->cov) {
        if (!st)
            st = coverage_finish(r, &cov, source);
        else
            coverage_end(&cov, h, 0);
        r->cov = NULL;
    }
    if (!st) {
        ct_sdi_source_info info = {
            .name = source, .title = r->o->title, .path = path, .checksum = source_sum(r),
            .source_crs = ct_crs_name(crs), .encoding = ct_encoding_name(enc), .licence = r->o->licence,
            .features = r->t.loaded - before.loaded, .extent = {NAN, NAN, NAN, NAN},
        };
        double e[4];
        if (ct_layer_extent(l, e) && (!t || !ct_transform_bounds(ctx, t, e, e)))
            memcpy(info.extent, e, sizeof e);
        st = ct_sdi_register_source(ctx, r->sdi, r->def->name, &info);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "source", json_object_new_string(path));
        json_object_object_add(o, "encoding", json_object_new_string(ct_encoding_name(enc)));
        json_object_object_add(o, "crs", json_object_new_string(ct_crs_name(crs)));
        json_object_object_add(o, "read", json_object_new_int64(r->t.read - before.read));
        json_object_object_add(o, "loaded", json_object_new_int64(r->t.loaded - before.loaded));
        json_object_object_add(o, "rejected", json_object_new_int64(r->t.rejected - before.rejected));
        json_object_object_add(o, "removed", json_object_new_int64(removed));
        json_object_array_add(summary, o);
    }
    free(map);
    ct_transform_free(t);
    ct_crs_free(crs);
    ct_vsource_close(src);
    return st;
}

/* admin crosswalk: a CSV with old_code and new_code columns (first line: names). */
static ct_status ingest_crosswalk(run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(r->ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    char line[1024];
    int ln = 1, iold = -1, inew = -1;
    ct_status st = CT_OK;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return ct_error(r->ctx, CT_ERR_FORMAT, "%s: empty", path);
    }
    char *save = NULL;
    int col = 0;
    for (char *tok = strtok_r(line, ",\r\n", &save); tok; tok = strtok_r(NULL, ",\r\n", &save), col++) {
        if (!strcmp(tok, "old_code"))
            iold = col;
        if (!strcmp(tok, "new_code"))
            inew = col;
    }
    if (iold < 0 || inew < 0) {
        fclose(f);
        return ct_error(r->ctx, CT_ERR_FORMAT, "%s:1: a crosswalk needs old_code and new_code columns", path);
    }
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE admin_crosswalk SET v_to = %lld WHERE v_to IS NULL", r->sdi->version);
    st = ct_sdi_exec(r->ctx, r->sdi, sql);
    sdi_stmt *q = st ? NULL : ct_sdi_prepare(r->ctx, r->sdi, "INSERT INTO admin_crosswalk VALUES (?, ?, ?, NULL)");
    while (q && !st && fgets(line, sizeof line, f)) {
        ln++;
        char *v[16] = {0};
        int n = 0;
        save = NULL;
        for (char *tok = strtok_r(line, ",\r\n", &save); tok && n < 16; tok = strtok_r(NULL, ",\r\n", &save))
            v[n++] = tok;
        if (n <= iold || n <= inew) {
            st = ct_error(r->ctx, CT_ERR_FORMAT, "%s:%d: expected at least %d columns", path, ln, (iold > inew ? iold : inew) + 1);
            break;
        }
        sdi_reset(q);
        sdi_bind_text(q, 1, v[iold]);
        sdi_bind_text(q, 2, v[inew]);
        sdi_bind_int64(q, 3, r->sdi->version);
        if (sdi_step(q) != SDI_DONE)
            st = ct_error(r->ctx, CT_ERR_DB, "%s:%d: cannot store the row", path, ln);
        r->t.read++;
        r->t.loaded++;
    }
    sdi_finalize(q);
    fclose(f);
    if (!q && !st)
        st = CT_ERR_DB;
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* DEMs                                                                                      */

static ct_status ingest_dem(run *r, const char *path, json_object *summary)
{
    ct_ctx *ctx = r->ctx;
    ct_gdal_init();
    const char *dot = strrchr(path, '.');
    int xyz_points = dot && !strcasecmp(dot, ".xyz");
    char tmp[4096];
    /* written in the raster folder, where ct_sdi_commit() renames it: one file system */
    snprintf(tmp, sizeof tmp, "%s/ingest-%d.tif", ct_sdi_raster_dir(r->sdi), (int)getpid());
    ct_crs *crs = NULL;
    ct_status st = CT_OK;
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    GDALDatasetH src = NULL, gridded = NULL;
    char **argv = NULL;
    char cell[64];
    double cs = r->o->cell_size > 0 ? r->o->cell_size : 5.0;
    snprintf(cell, sizeof cell, "%.10g", cs);

    if (xyz_points) {
        /* A survey of scattered "x y z" lines: read through an OGR VRT over the CSV driver and
         * grid with GDAL's linear interpolation (a Delaunay triangulation), cell size cs. */
        if (!r->o->srs) {
            st = ct_error(ctx, CT_ERR_CRS, "%s: XYZ points carry no CRS; give it with --srs", path);
            goto out;
        }
        char vrt[8192];
        snprintf(vrt, sizeof vrt,
                 "<OGRVRTDataSource><OGRVRTLayer name=\"points\"><SrcDataSource>CSV:%s</SrcDataSource>"
                 "<SrcLayer>%.*s</SrcLayer>"
                 "<OpenOptions><OOI key=\"SEPARATOR\">SPACE</OOI><OOI key=\"HEADERS\">NO</OOI></OpenOptions>"
                 "<GeometryType>wkbPoint25D</GeometryType>"
                 "<GeometryField encoding=\"PointFromColumns\" x=\"field_1\" y=\"field_2\" z=\"field_3\"/>"
                 "</OGRVRTLayer></OGRVRTDataSource>", path, (int)(dot - base_name(path)), base_name(path));
        GDALDatasetH pts = GDALOpenEx(vrt, GDAL_OF_VECTOR, NULL, NULL, NULL);
        if (!pts) {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: not \"x y z\" lines: %s", path, ct_gdal_errs_msg(&e, "unreadable"));
            goto out;
        }
        OGREnvelope env;
        OGR_L_GetExtent(GDALDatasetGetLayer(pts, 0), &env, TRUE);
        char *gargv[] = {"-a", "linear:nodata=-9999", "-ot", "Float32", "-of", "MEM",
                         "-txe", NULL, NULL, "-tye", NULL, NULL, "-tr", cell, cell, NULL};
        char b[4][32];
        /* snap the grid to multiples of the cell size, so that it lines up with other DEMs */
        snprintf(b[0], 32, "%.10g", floor(env.MinX / cs) * cs);
        snprintf(b[1], 32, "%.10g", ceil(env.MaxX / cs) * cs);
        snprintf(b[2], 32, "%.10g", ceil(env.MaxY / cs) * cs);
        snprintf(b[3], 32, "%.10g", floor(env.MinY / cs) * cs);
        gargv[7] = b[0], gargv[8] = b[1], gargv[10] = b[2], gargv[11] = b[3];
        /* -tr and -txe/-tye together need GDAL 3.2+; Debian 12 has 3.6 */
        GDALGridOptions *go = GDALGridOptionsNew(gargv, NULL);
        int usage = 0;
        src = go ? GDALGrid("", pts, go, &usage) : NULL;
        GDALGridOptionsFree(go);
        GDALClose(pts);
        if (!src) {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: cannot grid the points: %s", path, ct_gdal_errs_msg(&e, "unknown reason"));
            goto out;
        }
    } else {
        src = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    }
    if (!src) {
        struct stat sb;
        st = stat(path, &sb) ? ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno))
                             : ct_error(ctx, CT_ERR_FORMAT, "%s: not a raster GDAL can read: %s", path, ct_gdal_errs_msg(&e, "unknown format"));
        goto out;
    }
    const char *wkt = GDALGetProjectionRef(src);
    ct_crs *file_crs = NULL;
    if (wkt && *wkt && ct_crs_from_wkt(ctx, wkt, &file_crs))
        ct_ctx_clear_error(ctx);
    st = source_crs(r, path, file_crs, &crs);
    ct_crs_free(file_crs);
    if (st)
        goto out;
    /* gdalwarp to the SDI CRS, then the COG driver: both stream by blocks. */
    double gt[6];
    GDALGetGeoTransform(src, gt);
    argv = CSLAddString(argv, "-s_srs");
    argv = CSLAddString(argv, ct_crs_wkt(crs));
    argv = CSLAddString(argv, "-t_srs");
    argv = CSLAddString(argv, ct_crs_wkt(ct_sdi_crs(r->sdi)));
    /* the operation itself, not only the two CRSs: given WKT with an EPSG authority, GDAL 3.6
     * picks EPSG's default datum shift (EPSG:5194 in the delta) whatever TOWGS84 it carries */
    ct_transform *ct = NULL;
    if (!ct_crs_equal(crs, ct_sdi_crs(r->sdi))) {
        double cx = gt[0] + gt[1] * GDALGetRasterXSize(src) / 2, cy = gt[3] + gt[5] * GDALGetRasterYSize(src) / 2;
        if ((st = ct_transform_new(ctx, crs, ct_sdi_crs(r->sdi), &ct)) ||
            (st = ct_transform_points(ctx, ct, 1, &cx, &cy, NULL))) {
            ct_transform_free(ct);
            st = ct_error(ctx, st, "%s: %s", path, ct_ctx_errmsg(ctx));
            goto out;
        }
        /* ct_transform works in GIS order (lon, lat); gdalwarp's -ct takes the CRSs' own axis
         * order, which is (lat, lon) for geographic CRSs: swap at the ends that need it */
        const char *def = ct_transform_definition(ct);
        const char *steps = strncmp(def, "proj=pipeline ", 14) ? NULL : def + 14;
        char *pipe = CPLStrdup(CPLSPrintf("proj=pipeline %s%s%s%s",
                                          ct_crs_is_geographic(crs) ? "step proj=axisswap order=2,1 " : "",
                                          steps ? steps : "step ", steps ? "" : def,
                                          ct_crs_is_geographic(ct_sdi_crs(r->sdi)) ? " step proj=axisswap order=2,1" : ""));
        argv = CSLAddString(argv, "-ct");
        argv = CSLAddString(argv, pipe);
        CPLFree(pipe);
        ct_transform_free(ct);
    }
    argv = CSLAddString(argv, "-r");
    argv = CSLAddString(argv, "bilinear");
    argv = CSLAddString(argv, "-ot");
    argv = CSLAddString(argv, "Float32");
    argv = CSLAddString(argv, "-of");
    argv = CSLAddString(argv, "VRT");
    if (r->o->cell_size > 0 || !ct_crs_equal(crs, ct_sdi_crs(r->sdi))) {
        argv = CSLAddString(argv, "-tr");
        argv = CSLAddString(argv, r->o->cell_size > 0 ? cell : CPLSPrintf("%.10g", fabs(gt[1])));
        argv = CSLAddString(argv, r->o->cell_size > 0 ? cell : CPLSPrintf("%.10g", fabs(gt[5])));
        argv = CSLAddString(argv, "-tap");
    }
    if (!GDALGetRasterNoDataValue(GDALGetRasterBand(src, 1), NULL)) {
        argv = CSLAddString(argv, "-dstnodata");
        argv = CSLAddString(argv, "-9999");
    }
    GDALWarpAppOptions *wo = GDALWarpAppOptionsNew(argv, NULL);
    int usage = 0;
    gridded = GDALWarp("", NULL, 1, &src, wo, &usage);
    GDALWarpAppOptionsFree(wo);
    if (!gridded) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: cannot warp to the SDI CRS: %s", path, ct_gdal_errs_msg(&e, "unknown reason"));
        goto out;
    }
    if (mkdir(ct_sdi_raster_dir(r->sdi), 0777) != 0 && errno != EEXIST) {
        st = ct_error(ctx, CT_ERR_IO, "%s: %s", ct_sdi_raster_dir(r->sdi), strerror(errno));
        goto out;
    }
    char **co = NULL;
    co = CSLSetNameValue(co, "COMPRESS", "DEFLATE");
    co = CSLSetNameValue(co, "PREDICTOR", "YES");
    co = CSLSetNameValue(co, "BLOCKSIZE", "512");
    co = CSLSetNameValue(co, "OVERVIEWS", "AUTO");
    co = CSLSetNameValue(co, "RESAMPLING", "AVERAGE");
    co = CSLSetNameValue(co, "NUM_THREADS", CPLSPrintf("%d", ct_ctx_threads(ctx)));
    GDALDatasetH cog = GDALCreateCopy(GDALGetDriverByName("COG"), tmp, gridded, FALSE, co, NULL, NULL);
    CSLDestroy(co);
    if (cog)
        GDALClose(cog); /* flushes the last tiles: a full disk shows here */
    if (!cog || e.failed) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write the COG: %s", tmp, ct_gdal_errs_msg(&e, "unknown reason"));
        unlink(tmp);
        goto out;
    }
    {
        ct_sdi_source_info info = {
            .name = base_name(path), .title = r->o->title, .path = path, .checksum = source_sum(r),
            .source_crs = ct_crs_name(crs), .encoding = NULL, .licence = r->o->licence, .features = 0,
            .extent = {NAN, NAN, NAN, NAN},
        };
        double g2[6];
        GDALGetGeoTransform(gridded, g2);
        info.extent[0] = g2[0];
        info.extent[3] = g2[3];
        info.extent[2] = g2[0] + g2[1] * GDALGetRasterXSize(gridded);
        info.extent[1] = g2[3] + g2[5] * GDALGetRasterYSize(gridded);
        st = ct_sdi_register_raster(ctx, r->sdi, r->o->name ? r->o->name : "dem", tmp, &info);
        if (st)
            unlink(tmp);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "source", json_object_new_string(path));
        json_object_object_add(o, "raster", json_object_new_string(r->o->name ? r->o->name : "dem"));
        json_object_object_add(o, "size", json_object_new_string(CPLSPrintf("%dx%d", GDALGetRasterXSize(gridded), GDALGetRasterYSize(gridded))));
        json_object_object_add(o, "crs", json_object_new_string(ct_crs_name(crs)));
        json_object_array_add(summary, o);
    }
out:
    if (gridded)
        GDALClose(gridded);
    if (src)
        GDALClose(src);
    ct_gdal_errs_pop(&e);
    CSLDestroy(argv);
    ct_crs_free(crs);
    return st;
}

/* ---------------------------------------------------------------------------------------- */

static void print_summary(FILE *out, const ct_ingest_opts *o, const run *r, long long version, json_object *sources)
{
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "sdi", json_object_new_string(o->sdi));
        json_object_object_add(j, "kind", json_object_new_string(o->kind));
        json_object_object_add(j, "version", version ? json_object_new_int64(version) : NULL);
        json_object_object_add(j, "sources", json_object_get(sources));
        json_object_object_add(j, "unchanged_sources", json_object_new_int64(r->t.skipped_sources));
        json_object_object_add(j, "read", json_object_new_int64(r->t.read));
        json_object_object_add(j, "loaded", json_object_new_int64(r->t.loaded));
        json_object_object_add(j, "added", json_object_new_int64(r->t.added));
        json_object_object_add(j, "changed", json_object_new_int64(r->t.changed));
        json_object_object_add(j, "unchanged", json_object_new_int64(r->t.same));
        json_object_object_add(j, "removed", json_object_new_int64(r->t.removed));
        json_object_object_add(j, "repaired", json_object_new_int64(r->t.repaired));
        json_object_object_add(j, "rejected", json_object_new_int64(r->t.rejected));
        json_object_object_add(j, "rejected_by_reason", json_object_get(r->t.rejects));
        json_object_object_add(j, "findings", json_object_get(r->t.findings));
        fprintf(out, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(j);
        return;
    }
    if (!version) {
        fprintf(out, "%s: nothing to do: %lld source%s unchanged since last loaded\n", o->sdi, r->t.skipped_sources,
                r->t.skipped_sources == 1 ? "" : "s");
        return;
    }
    fprintf(out, "%s: version %lld: %s\n", o->sdi, version, o->kind);
    if (!strcmp(o->kind, "dem")) {
        for (size_t i = 0; i < json_object_array_length(sources); i++) {
            json_object *x = json_object_array_get_idx(sources, i), *v;
            json_object_object_get_ex(x, "raster", &v);
            fprintf(out, "  raster %s", json_object_get_string(v));
            json_object_object_get_ex(x, "size", &v);
            fprintf(out, ": %s cells", json_object_get_string(v));
            json_object_object_get_ex(x, "source", &v);
            fprintf(out, " from %s\n", json_object_get_string(v));
        }
        return;
    }
    fprintf(out, "  read %lld, loaded %lld (added %lld, changed %lld, unchanged %lld), removed %lld\n", r->t.read,
            r->t.loaded, r->t.added, r->t.changed, r->t.same, r->t.removed);
    fprintf(out, "  repaired %lld, rejected %lld\n", r->t.repaired, r->t.rejected);
    json_object_object_foreach(r->t.rejects, reason, n)
        fprintf(out, "    rejected: %lld %s\n", (long long)json_object_get_int64(n), reason);
    json_object_object_foreach(r->t.findings, kind, m)
        fprintf(out, "    found: %lld %s\n", (long long)json_object_get_int64(m), kind);
    if (r->t.skipped_sources)
        fprintf(out, "  %lld source%s unchanged, skipped\n", r->t.skipped_sources, r->t.skipped_sources == 1 ? "" : "s");
}

ct_status ct_ingest_run(ct_ctx *ctx, const ct_ingest_opts *o)
{
    int kind = ct_sdi_layer_by_name(o->kind);
    int dem = !strcmp(o->kind, "dem");
    if (kind < 0 && !dem)
        return ct_error(ctx, CT_ERR_USAGE, "unknown kind '%s' (cadastral, planning, admin, dikes or dem)", o->kind);
    if (!o->sdi)
        return ct_error(ctx, CT_ERR_USAGE, "no SDI: give --sdi or set CT_SDI");
    run r = {.ctx = ctx, .o = o, .layer = kind < 0 ? CT_SDI_PARCELS : (ct_sdi_layer)kind};
    r.def = ct_sdi_layer_schema(r.layer);
    r.t.rejects = json_object_new_object();
    r.t.findings = json_object_new_object();
    mapping m = {0};
    json_object *sources = json_object_new_array();
    long long version = 0;
    ct_status st = ct_sdi_open(ctx, o->sdi, &r.sdi);
    if (!st && o->mapping && !dem)
        st = read_mapping(ctx, o->mapping, r.def, &m);
    if (st)
        goto out;
    ct_sdi_area(r.sdi, r.area);

    /* Leave out the sources that are unchanged since they were last loaded. A source never
     * loaded is hashed while it loads (sum_job), with threads to spare. */
    const char **todo = calloc((size_t)o->nsources + 1, sizeof *todo);
    /* of the sources in todo; empty for a source hashed while it loads */
    char (*sums)[65] = calloc((size_t)o->nsources + 1, sizeof *sums);
    int ntodo = 0;
    const char *layer = dem ? "rasters" : r.def->name;
    if (!todo || !sums)
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < o->nsources; i++) {
        struct stat sb;
        if (stat(o->sources[i], &sb) != 0) {
            st = ct_error(ctx, CT_ERR_IO, "%s: %s", o->sources[i], strerror(errno));
            break;
        }
        char sum[65] = "";
        char *old = ct_sdi_source_checksum(ctx, r.sdi, layer, base_name(o->sources[i]));
        if (old || ct_ctx_threads(ctx) < 2)
            checksum(o->sources[i], o, sum);
        if (old && !strcmp(old, sum)) {
            r.t.skipped_sources++;
            ct_log(ctx, CT_LOG_INFO, "%s: unchanged since last loaded, skipped", o->sources[i]);
        } else {
            memcpy(sums[ntodo], sum, sizeof sum);
            todo[ntodo++] = o->sources[i];
        }
        free(old);
    }
    if (!st && ntodo) {
        st = ct_sdi_begin(ctx, r.sdi, o->command, o->kind, ntodo == 1 ? base_name(todo[0]) : "several", &version);
        r.nsrc = ntodo;
        for (int i = 0; !st && i < ntodo; i++) {
            const char *dot = strrchr(todo[i], '.');
            r.isrc = i;
            r.sum = sums[i];
            sum_job job = {.path = todo[i], .o = o, .hex = sums[i]};
            if (!*sums[i] && !(job.running = pthread_create(&job.thread, NULL, sum_worker, &job) == 0))
                checksum(todo[i], o, sums[i]);
            r.sum_job = &job;
            if (dem)
                st = ingest_dem(&r, todo[i], sources);
            else if (r.layer == CT_SDI_ADMIN && dot && !strcasecmp(dot, ".csv"))
                st = ingest_crosswalk(&r, todo[i]);
            else
                st = ingest_vector(&r, todo[i], &m, sources);
            source_sum(&r);
            r.sum_job = NULL;
            if (!st)
                st = ct_progress(ctx, (double)(i + 1) / ntodo, base_name(todo[i]));
        }
        if (!st)
            st = ct_sdi_commit(ctx, r.sdi);
        else
            ct_sdi_rollback(r.sdi);
    }
    free(todo);
    free(sums);
    if (!st)
        print_summary(o->out ? o->out : stdout, o, &r, version, sources);
    if (!st && r.t.rejected)
        st = CT_REJECTED;
out:
    free_mapping(&m);
    json_object_put(sources);
    json_object_put(r.t.rejects);
    json_object_put(r.t.findings);
    ct_sdi_close(r.sdi);
    return st;
}
