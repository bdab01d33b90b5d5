/* vector.c — OGR feature streams with GEOS geometries; OGR writers with atomic commit. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "ct/vector.h"
#include "context_int.h"
#include "coverage_int.h"
#include "raster_int.h"

/* ---------------------------------------------------------------------------------------- */
/* GEOS handle per context                                                                   */

static void geos_free(void *h) { GEOS_finish_r((GEOSContextHandle_t)h); }

/* GEOS reports errors through a callback; keep the text quiet (libcore never prints): the
 * caller sees a NULL/0 result and reports the feature at fault. */
static void geos_quiet(const char *fmt, ...) { (void)fmt; }

GEOSContextHandle_t ct_geos(ct_ctx *ctx)
{
    GEOSContextHandle_t h = ct_ctx_slot(ctx, CT_SLOT_GEOS);
    if (!h) {
        h = GEOS_init_r();
        GEOSContext_setNoticeHandler_r(h, geos_quiet);
        GEOSContext_setErrorHandler_r(h, geos_quiet);
        ct_ctx_set_slot(ctx, CT_SLOT_GEOS, h, geos_free);
    }
    return h;
}

typedef struct xy_job {
    ct_ctx *ctx;
    ct_transform *t;
} xy_job;

static int transform_xy(double *x, double *y, void *user)
{
    xy_job *j = user;
    return ct_transform_points(j->ctx, j->t, 1, x, y, NULL) == CT_OK;
}

ct_status ct_transform_geom(ct_ctx *ctx, ct_transform *t, const GEOSGeometry *g, GEOSGeometry **out)
{
    GEOSContextHandle_t h = ct_geos(ctx);
    xy_job j = {ctx, t};
    *out = t ? GEOSGeom_transformXY_r(h, g, transform_xy, &j) : GEOSGeom_clone_r(h, g);
    if (!*out)
        return ct_ctx_status(ctx) == CT_ERR_CRS ? CT_ERR_CRS : ct_error(ctx, CT_ERR_CRS, "a geometry cannot be transformed");
    return CT_OK;
}

const char *ct_field_type_name(ct_field_type t)
{
    static const char *n[] = {"String", "Integer", "Real", "Date", "Other"};
    return (unsigned)t <= CT_FIELD_OTHER ? n[t] : "Other";
}

/* ---------------------------------------------------------------------------------------- */
/* Reading                                                                                   */

struct ct_feature {
    OGRFeatureH h;
    ct_layer *layer;
    GEOSGeometry *geom;
    int geom_done;
};

struct ct_layer {
    OGRLayerH h;
    OGRFeatureDefnH defn;
    ct_vsource *src;
    char *name;
    ct_crs *crs;
    ct_encoding enc;
    ct_feature feat;
};

struct ct_vsource {
    GDALDatasetH ds;
    ct_ctx *ctx; /* for the GEOS handle of features read through it */
    int nlayers;
    ct_layer *layers;
};

static void feature_reset(ct_feature *f, ct_ctx *ctx)
{
    if (f->geom)
        GEOSGeom_destroy_r(ct_geos(ctx), f->geom);
    if (f->h)
        OGR_F_Destroy(f->h);
    f->geom = NULL;
    f->h = NULL;
    f->geom_done = 0;
}

/* The layer part of a QGIS-style "PATH|layername=NAME" data source, or NULL. */
static const char *layer_part(const char *spec)
{
    const char *bar = strstr(spec, "|layername=");
    return bar ? bar + strlen("|layername=") : NULL;
}

ct_status ct_vsource_open(ct_ctx *ctx, const char *spec, ct_vsource **out)
{
    *out = NULL;
    ct_gdal_init();
    const char *only = layer_part(spec);
    char path[4096];
    snprintf(path, sizeof path, "%.*s", only ? (int)(only - spec - strlen("|layername=")) : (int)strlen(spec), spec);
    struct stat sb;
    if (strncmp(path, "/vsi", 4) && strncmp(path, "PG:", 3) && stat(path, &sb) != 0)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));

    /* Raw DBF bytes: recoding is done in ct/text.h (see the header for why). Drivers other
     * than the shapefile one ignore the option (with a warning that ct_gdal_errs swallows). */
    const char *open_opts[] = {"ENCODING=", NULL};
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, open_opts, NULL);
    ct_gdal_errs_pop(&e);
    if (!ds)
        return ct_error(ctx, CT_ERR_FORMAT, "%s: not a vector dataset OGR can read%s%s", path,
                        e.failed ? ": " : "", e.msg);
    /* OGR opens a .shp whose .dbf is missing, with no attributes at all: for a cadastral sheet
     * that is a broken delivery, not a layer without fields. */
    const char *dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".shp") && !strcmp(GDALGetDriverShortName(GDALGetDatasetDriver(ds)), "ESRI Shapefile")) {
        char dbf[4096];
        struct stat db;
        snprintf(dbf, sizeof dbf, "%.*s.dbf", (int)(dot - path), path);
        int found = stat(dbf, &db) == 0;
        snprintf(dbf, sizeof dbf, "%.*s.DBF", (int)(dot - path), path);
        if (!found && stat(dbf, &db) != 0) {
            GDALClose(ds);
            return ct_error(ctx, CT_ERR_FORMAT, "%s: no .dbf beside it: the attributes are missing", path);
        }
    }
    ct_vsource *s = calloc(1, sizeof *s);
    if (!s) {
        GDALClose(ds);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    s->ds = ds;
    s->ctx = ctx;
    OGRLayerH named = only ? GDALDatasetGetLayerByName(ds, only) : NULL;
    if (only && !named) {
        ct_vsource_close(s);
        return ct_error(ctx, CT_ERR_FORMAT, "%s: no layer named '%s'", path, only);
    }
    s->nlayers = only ? 1 : GDALDatasetGetLayerCount(ds);
    s->layers = calloc((size_t)(s->nlayers > 0 ? s->nlayers : 1), sizeof *s->layers);
    if (!s->layers) {
        ct_vsource_close(s);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->nlayers; i++) {
        ct_layer *l = &s->layers[i];
        l->h = named ? named : GDALDatasetGetLayer(ds, i);
        l->defn = OGR_L_GetLayerDefn(l->h);
        l->src = s;
        l->enc = CT_ENC_UTF8;
        l->feat.layer = l;
        l->name = strdup(OGR_L_GetName(l->h));
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l->h);
        /* WKT2: PROJ parses it in a third of the instructions of the WKT1 of OSRExportToWkt,
         * which sends it looking names up in its database (50 M instructions a layer) */
        static const char *const wkt2[] = {"FORMAT=WKT2_2019", NULL};
        char *wkt = NULL;
        if (srs && OSRExportToWktEx(srs, &wkt, wkt2) == OGRERR_NONE && wkt) {
            if (ct_crs_from_wkt(ctx, wkt, &l->crs) != CT_OK) {
                ct_log(ctx, CT_LOG_WARN, "%s: layer %s: CRS not understood: %s", path, l->name,
                       ct_ctx_errmsg(ctx));
                ct_ctx_clear_error(ctx);
            }
        }
        CPLFree(wkt);
    }
    *out = s;
    return CT_OK;
}

void ct_vsource_close(ct_vsource *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nlayers && s->layers; i++) {
        feature_reset(&s->layers[i].feat, s->ctx);
        free(s->layers[i].name);
        ct_crs_free(s->layers[i].crs);
    }
    free(s->layers);
    if (s->ds)
        GDALClose(s->ds);
    free(s);
}

const char *ct_vsource_driver(const ct_vsource *s) { return GDALGetDriverShortName(GDALGetDatasetDriver(s->ds)); }
int ct_vsource_layer_count(const ct_vsource *s) { return s->nlayers; }
ct_layer *ct_vsource_layer(ct_vsource *s, int i) { return i >= 0 && i < s->nlayers ? &s->layers[i] : NULL; }

ct_layer *ct_vsource_layer_by_name(ct_vsource *s, const char *name)
{
    for (int i = 0; i < s->nlayers; i++)
        if (!strcmp(s->layers[i].name, name))
            return &s->layers[i];
    return NULL;
}

const char *ct_layer_name(const ct_layer *l) { return l->name; }

long long ct_layer_feature_count(ct_layer *l) { return (long long)OGR_L_GetFeatureCount(l->h, TRUE); }

const char *ct_layer_geom_type_name(const ct_layer *l) { return OGRGeometryTypeToName(OGR_L_GetGeomType(l->h)); }

int ct_layer_field_count(const ct_layer *l) { return OGR_FD_GetFieldCount(l->defn); }

const char *ct_layer_field_name(const ct_layer *l, int i) { return OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(l->defn, i)); }

int ct_layer_field_index(ct_layer *l, const char *name)
{
    int n = ct_layer_field_count(l);
    for (int i = 0; i < n; i++) {
        const char *raw = ct_layer_field_name(l, i);
        if (!strcasecmp(raw, name))
            return i;
        char *dec = NULL;
        ct_ctx *ctx = l->src->ctx;
        if (ct_text_decode(ctx, l->enc, raw, strlen(raw), &dec) == CT_OK) {
            int same = !strcasecmp(dec, name);
            free(dec);
            if (same)
                return i;
        } else {
            ct_ctx_clear_error(ctx);
        }
    }
    return -1;
}

ct_field_type ct_layer_field_type(const ct_layer *l, int i)
{
    switch (OGR_Fld_GetType(OGR_FD_GetFieldDefn(l->defn, i))) {
    case OFTString: return CT_FIELD_STRING;
    case OFTInteger:
    case OFTInteger64: return CT_FIELD_INT;
    case OFTReal: return CT_FIELD_REAL;
    case OFTDate:
    case OFTDateTime: return CT_FIELD_DATE;
    default: return CT_FIELD_OTHER;
    }
}

int ct_layer_field_width(const ct_layer *l, int i) { return OGR_Fld_GetWidth(OGR_FD_GetFieldDefn(l->defn, i)); }

const ct_crs *ct_layer_crs(const ct_layer *l) { return l->crs; }

int ct_layer_extent(ct_layer *l, double ext[4])
{
    OGREnvelope e;
    if (ct_layer_feature_count(l) <= 0 || OGR_L_GetExtent(l->h, &e, TRUE) != OGRERR_NONE)
        return 0;
    ext[0] = e.MinX;
    ext[1] = e.MinY;
    ext[2] = e.MaxX;
    ext[3] = e.MaxY;
    return 1;
}

void ct_layer_set_encoding(ct_layer *l, ct_encoding enc) { l->enc = enc; }
ct_encoding ct_layer_encoding(const ct_layer *l) { return l->enc; }

void ct_layer_rewind(ct_layer *l)
{
    feature_reset(&l->feat, l->src->ctx);
    OGR_L_ResetReading(l->h);
}

ct_status ct_layer_next(ct_ctx *ctx, ct_layer *l, ct_feature **f)
{
    feature_reset(&l->feat, ctx);
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    l->feat.h = OGR_L_GetNextFeature(l->h);
    ct_gdal_errs_pop(&e);
    /* A driver that failed mid-feature (a truncated .shp, a corrupt record) may still hand one
     * back, hollowed out: that is a corrupt file, not an empty geometry. */
    if (e.failed) {
        *f = NULL;
        long long next = l->feat.h ? ct_feature_fid(&l->feat) : -1;
        feature_reset(&l->feat, ctx);
        if (next >= 0)
            return ct_error(ctx, CT_ERR_FORMAT, "layer %s: feature %lld: corrupt or truncated: %s", l->name, next, e.msg);
        return ct_error(ctx, CT_ERR_FORMAT, "layer %s: cannot read a feature: %s", l->name, e.msg);
    }
    if (!l->feat.h) {
        *f = NULL;
        return CT_OK;
    }
    *f = &l->feat;
    return CT_OK;
}

ct_encoding ct_layer_detect_encoding(ct_ctx *ctx, ct_layer *l, int max_features, double *confidence)
{
    /* Concatenate the text of the source, separated by newlines: the detector scores the
     * whole sample, which is far surer than any single short field. */
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int nf = ct_layer_field_count(l);
    if (!buf)
        return CT_ENC_UNKNOWN;
    for (int i = 0; i < nf; i++) {
        const char *s = ct_layer_field_name(l, i);
        size_t n = strlen(s);
        if (len + n + 2 > cap)
            break;
        memcpy(buf + len, s, n);
        len += n;
        buf[len++] = '\n';
    }
    ct_layer_rewind(l);
    ct_feature *f;
    for (int k = 0; k < max_features && ct_layer_next(ctx, l, &f) == CT_OK && f; k++) {
        for (int i = 0; i < nf; i++) {
            if (ct_layer_field_type(l, i) != CT_FIELD_STRING || ct_feature_is_null(f, i))
                continue;
            const char *s = ct_feature_raw(f, i);
            size_t n = strlen(s);
            if (ct_grow(&buf, &cap, len + n + 2, 1))
                break;
            memcpy(buf + len, s, n);
            len += n;
            buf[len++] = '\n';
        }
    }
    ct_layer_rewind(l);
    ct_ctx_clear_error(ctx);
    ct_encoding e = ct_text_detect(buf, len, confidence);
    free(buf);
    return e;
}

long long ct_feature_fid(const ct_feature *f) { return (long long)OGR_F_GetFID(f->h); }

int ct_feature_has_geom(const ct_feature *f)
{
    OGRGeometryH g = OGR_F_GetGeometryRef(f->h);
    return g && !OGR_G_IsEmpty(g);
}

/* A ring of OGR as a GEOS ring, its points copied once. */
static GEOSGeometry *ogr_ring(GEOSContextHandle_t h, OGRGeometryH r)
{
    const int n = OGR_G_GetPointCount(r);
    double stack[2 * 64], *xy = n <= 64 ? stack : malloc(16 * (size_t)n);
    if (!xy)
        return NULL;
    OGR_G_GetPoints(r, xy, 16, xy + 1, 16, NULL, 0);
    GEOSCoordSequence *cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
    if (xy != stack)
        free(xy);
    return cs ? GEOSGeom_createLinearRing_r(h, cs) : NULL;
}

static GEOSGeometry *ogr_polygon(GEOSContextHandle_t h, OGRGeometryH p)
{
    const int nr = OGR_G_GetGeometryCount(p);
    if (nr < 1)
        return GEOSGeom_createEmptyPolygon_r(h);
    GEOSGeometry *stack[17], **ring = nr <= 17 ? stack : malloc(sizeof *ring * (size_t)nr);
    if (!ring)
        return NULL;
    int k = 0;
    while (k < nr && (ring[k] = ogr_ring(h, OGR_G_GetGeometryRef(p, k))))
        k++;
    GEOSGeometry *g = ct_geos_polygon(h, ring, (size_t)k, (size_t)nr);
    if (ring != stack)
        free(ring);
    return g;
}

/* A 2D polygon or multipolygon of OGR straight into GEOS (the rings' points copied once):
 * through WKB, OGR writes a byte stream that GEOS's reader parses again, a tenth of reading a
 * parcel. NULL for other geometries, or when GEOS refuses a ring (as its reader would). */
static GEOSGeometry *ogr_polygonal(GEOSContextHandle_t h, OGRGeometryH g)
{
    const OGRwkbGeometryType t = OGR_G_GetGeometryType(g);
    if (t == wkbPolygon)
        return ogr_polygon(h, g);
    if (t != wkbMultiPolygon)
        return NULL;
    const int np = OGR_G_GetGeometryCount(g);
    GEOSGeometry **parts = malloc(sizeof *parts * (size_t)(np + 1)), *m = NULL;
    int n = 0;
    while (parts && n < np && (parts[n] = ogr_polygon(h, OGR_G_GetGeometryRef(g, n))))
        n++;
    if (parts)
        m = ct_geos_collection(h, GEOS_MULTIPOLYGON, parts, (size_t)n, (size_t)np);
    free(parts);
    return m;
}

const GEOSGeometry *ct_feature_geom(ct_ctx *ctx, ct_feature *f)
{
    if (f->geom_done)
        return f->geom;
    f->geom_done = 1;
    OGRGeometryH g = OGR_F_GetGeometryRef(f->h);
    if (!g || OGR_G_IsEmpty(g))
        return NULL;
    /* (wkbPolygon and wkbMultiPolygon are the 2D types without measures) */
    if ((f->geom = ogr_polygonal(ct_geos(ctx), g)))
        return f->geom;
    OGRGeometryH lin = NULL;
    if (OGR_G_HasCurveGeometry(g, TRUE))
        g = lin = OGR_G_GetLinearGeometry(g, 0, NULL);
    int size = OGR_G_WkbSize(g);
    unsigned char *wkb = malloc((size_t)size);
    if (wkb && OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) == OGRERR_NONE) {
        GEOSContextHandle_t h = ct_geos(ctx);
        GEOSWKBReader *r = GEOSWKBReader_create_r(h);
        f->geom = GEOSWKBReader_read_r(h, r, wkb, (size_t)size);
        GEOSWKBReader_destroy_r(h, r);
    }
    free(wkb);
    if (lin)
        OGR_G_DestroyGeometry(lin);
    if (!f->geom)
        ct_error(ctx, CT_ERR_FORMAT, "layer %s: feature %lld: geometry cannot be read",
                 f->layer->name, ct_feature_fid(f));
    return f->geom;
}

int ct_feature_is_null(const ct_feature *f, int i) { return !OGR_F_IsFieldSetAndNotNull(f->h, i); }
const char *ct_feature_raw(const ct_feature *f, int i) { return OGR_F_GetFieldAsString(f->h, i); }
long long ct_feature_int(const ct_feature *f, int i) { return (long long)OGR_F_GetFieldAsInteger64(f->h, i); }
double ct_feature_double(const ct_feature *f, int i) { return OGR_F_GetFieldAsDouble(f->h, i); }

ct_status ct_feature_text(ct_ctx *ctx, const ct_feature *f, int i, char **utf8)
{
    const char *raw = ct_feature_raw(f, i);
    ct_status st = ct_text_decode(ctx, f->layer->enc, raw, strlen(raw), utf8);
    if (st)
        return ct_error(ctx, st, "layer %s: feature %lld: field %s: %s", f->layer->name,
                        ct_feature_fid(f), ct_layer_field_name(f->layer, i), ct_ctx_errmsg(ctx));
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing                                                                                   */

struct ct_vsink {
    GDALDatasetH ds;
    OGRLayerH layer;
    ct_ctx *ctx;
    char *tmpdir;  /* .ct-XXXXXX beside the target */
    char *dstdir;  /* the target's folder */
    int nfields;
    int legacy_text; /* raw legacy bytes: leave no .cpg, as the old software did not */
};

static const char *driver_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct { const char *ext, *drv; } map[] = {
        {".shp", "ESRI Shapefile"}, {".gpkg", "GPKG"}, {".geojson", "GeoJSON"}, {".json", "GeoJSON"},
        {".csv", "CSV"}, {".sqlite", "SQLite"}, {".dgn", "DGN"}, {".fgb", "FlatGeobuf"},
    };
    for (size_t i = 0; dot && i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(dot, map[i].ext))
            return map[i].drv;
    return NULL;
}

static OGRwkbGeometryType ogr_type(ct_geom_type t)
{
    switch (t) {
    case CT_GEOM_POINT: return wkbPoint;
    case CT_GEOM_LINE: return wkbLineString;
    case CT_GEOM_POLYGON: return wkbPolygon;
    case CT_GEOM_MULTIPOINT: return wkbMultiPoint;
    case CT_GEOM_MULTILINE: return wkbMultiLineString;
    case CT_GEOM_MULTIPOLYGON: return wkbMultiPolygon;
    case CT_GEOM_NONE: return wkbNone;
    default: return wkbUnknown;
    }
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

ct_status ct_vsink_create(ct_ctx *ctx, const char *path, const ct_vsink_opts *o, ct_vsink **out)
{
    *out = NULL;
    const char *driver = o->driver;
    int nfields = o->nfields;
    const ct_field_def *fields = o->fields;
    ct_gdal_init();
    if (!driver && !(driver = driver_for(path)))
        return ct_error(ctx, CT_ERR_USAGE, "%s: cannot tell the output format from the name; name a driver", path);
    GDALDriverH drv = GDALGetDriverByName(driver);
    if (!drv)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: no OGR driver named '%s'", path, driver);

    ct_vsink *s = calloc(1, sizeof *s);
    if (!s)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    s->ctx = ctx;
    s->nfields = nfields;
    const char *slash = strrchr(path, '/');
    s->dstdir = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("./");
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(s->dstdir) + 16;
    s->tmpdir = malloc(n);
    if (!s->dstdir || !s->tmpdir) {
        ct_vsink_abort(s);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    snprintf(s->tmpdir, n, "%s.ct-XXXXXX", s->dstdir);
    if (!mkdtemp(s->tmpdir)) {
        int e = errno;
        free(s->tmpdir);
        s->tmpdir = NULL;
        ct_vsink_abort(s);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write in its folder: %s", path, strerror(e));
    }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/%s", s->tmpdir, base);

    char **dsco = NULL, **lco = NULL;
    s->legacy_text = o->text_encoding != CT_ENC_UNKNOWN && o->text_encoding != CT_ENC_UTF8;
    if (!strcmp(driver, "ESRI Shapefile"))
        lco = CSLSetNameValue(lco, "ENCODING", s->legacy_text ? "" : "UTF-8");
    if (!strcmp(driver, "GeoJSON"))
        lco = CSLSetNameValue(lco, "RFC7946", "NO");
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    s->ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, dsco);
    OGRSpatialReferenceH srs = NULL;
    if (s->ds && o->crs) {
        srs = OSRNewSpatialReference(ct_crs_wkt(o->crs));
        if (srs)
            OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    if (s->ds)
        s->layer = GDALDatasetCreateLayer(s->ds, o->layer ? o->layer : "layer", srs, ogr_type(o->gtype), lco);
    if (srs)
        OSRRelease(srs);
    CSLDestroy(lco);
    CSLDestroy(dsco);
    for (int i = 0; s->layer && i < nfields; i++) {
        static const OGRFieldType ft[] = {OFTString, OFTInteger64, OFTReal, OFTDate, OFTString};
        OGRFieldDefnH fd = OGR_Fld_Create(fields[i].name, ft[fields[i].type]);
        if (fields[i].width)
            OGR_Fld_SetWidth(fd, fields[i].width);
        if (fields[i].precision)
            OGR_Fld_SetPrecision(fd, fields[i].precision);
        if (OGR_L_CreateField(s->layer, fd, TRUE) != OGRERR_NONE)
            s->layer = NULL;
        OGR_Fld_Destroy(fd);
    }
    ct_gdal_errs_pop(&e);
    if (!s->layer) {
        ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot create the %s layer: %s", path, driver,
                                ct_gdal_errs_msg(&e, "unknown reason"));
        ct_vsink_abort(s);
        return st;
    }
    /* One transaction per sink where the driver has them: much faster for GPKG/SQLite. */
    GDALDatasetStartTransaction(s->ds, FALSE);
    *out = s;
    return CT_OK;
}

ct_status ct_vsink_write(ct_ctx *ctx, ct_vsink *s, const GEOSGeometry *g, const char *const *values)
{
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(s->layer));
    ct_status st = CT_OK;
    for (int i = 0; i < s->nfields; i++)
        if (values && values[i])
            OGR_F_SetFieldString(f, i, values[i]);
    if (g) {
        GEOSContextHandle_t h = ct_geos(ctx);
        GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
        GEOSWKBWriter_setOutputDimension_r(h, w, GEOSHasZ_r(h, g) == 1 ? 3 : 2);
        size_t size = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(h, w, g, &size);
        GEOSWKBWriter_destroy_r(h, w);
        OGRGeometryH og = NULL;
        if (!wkb || OGR_G_CreateFromWkbEx(wkb, NULL, &og, size) != OGRERR_NONE)
            st = ct_error(ctx, CT_ERR_INVALID, "cannot convert a geometry for writing");
        else
            OGR_F_SetGeometryDirectly(f, og);
        GEOSFree_r(h, wkb);
    }
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    if (!st && OGR_L_CreateFeature(s->layer, f) != OGRERR_NONE)
        st = ct_error(ctx, CT_ERR_IO, "cannot write a feature: %s", ct_gdal_errs_msg(&e, "unknown reason"));
    ct_gdal_errs_pop(&e);
    OGR_F_Destroy(f);
    return st;
}

ct_status ct_vsink_finish(ct_ctx *ctx, ct_vsink *s)
{
    if (!s->ds)
        return CT_OK;
    ct_status st = CT_OK;
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    int failed = GDALDatasetCommitTransaction(s->ds) == OGRERR_FAILURE;
    GDALClose(s->ds); /* flushes: a full disk shows here */
    s->ds = NULL;
    if (failed || e.failed)
        st = ct_error(ctx, CT_ERR_IO, "cannot finish the output: %s", ct_gdal_errs_msg(&e, "unknown reason"));
    ct_gdal_errs_pop(&e);
    return st;
}

ct_status ct_vsink_commit(ct_ctx *ctx, ct_vsink *s)
{
    ct_status st = ct_vsink_finish(ctx, s);
    DIR *d = st ? NULL : opendir(s->tmpdir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        const char *ext = strrchr(de->d_name, '.');
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            (s->legacy_text && ext && !strcmp(ext, ".cpg")))
            continue;
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s", s->tmpdir, de->d_name);
        snprintf(to, sizeof to, "%s%s", s->dstdir, de->d_name);
        if (rename(from, to) != 0 && !st)
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot move into place: %s", to, strerror(errno));
    }
    if (d)
        closedir(d);
    ct_vsink_abort(s);
    return st;
}

void ct_vsink_abort(ct_vsink *s)
{
    if (!s)
        return;
    if (s->ds)
        GDALClose(s->ds);
    if (s->tmpdir)
        remove_tree(s->tmpdir);
    free(s->tmpdir);
    free(s->dstdir);
    free(s);
}
