/* raster.c — typed grids, windowed GDAL reads, exact band statistics, atomic COG output. */
#include "ct/raster.h"
#include "huffman_int.h"
#include "raster_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <libdeflate.h>
#include <ogr_srs_api.h>
#include <omp.h>
#define ZSTD_STATIC_LINKING_ONLY /* for ZSTD_c_literalCompressionMode (see write_cog_direct) */
#include <zstd.h>

/* ---------------------------------------------------------------------------------------- */
/* GDAL plumbing                                                                             */

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void gdal_register(void)
{
    /* The shapefile driver matches every .prj against the whole EPSG database (PROJ's
     * identify): about half a second per file, for nothing, since ct_crs_from_wkt recognises
     * the CRS itself (VN-2000 zones included, which the database lacks). Left to the user when
     * set in the environment. */
    if (!CPLGetConfigOption("USE_OSR_FIND_MATCHES", NULL))
        CPLSetConfigOption("USE_OSR_FIND_MATCHES", "NO");
    GDALAllRegister();
}

void ct_gdal_init(void) { pthread_once(&gdal_once, gdal_register); }

static void CPL_STDCALL gdal_err_handler(CPLErr cls, CPLErrorNum num, const char *msg)
{
    ct_gdal_errs *e = CPLGetErrorHandlerUserData();
    if (!e || !msg)
        return;
    if (cls >= CE_Failure) {
        if (e->failed++ == 0) {
            e->num = num;
            snprintf(e->msg, sizeof e->msg, "%s", msg);
        }
    } else if (cls == CE_Warning && e->ctx) {
        ct_log(e->ctx, CT_LOG_DEBUG, "GDAL: %s", msg);
    }
}

void ct_gdal_errs_push(ct_gdal_errs *e, ct_ctx *ctx)
{
    ct_gdal_init();
    e->ctx = ctx;
    ct_gdal_errs_reset(e);
    CPLErrorReset();
    CPLPushErrorHandlerEx(gdal_err_handler, e);
    /* Debug lines (CPL_DEBUG=ON) then still reach GDAL's default handler, for developers. */
    CPLSetCurrentErrorHandlerCatchDebug(FALSE);
}

void ct_gdal_errs_pop(ct_gdal_errs *e)
{
    (void)e;
    CPLPopErrorHandler();
}

void ct_gdal_errs_reset(ct_gdal_errs *e)
{
    e->failed = 0;
    e->num = CPLE_None;
    e->msg[0] = '\0';
}

const char *ct_gdal_errs_msg(const ct_gdal_errs *e, const char *fallback)
{
    return e->msg[0] ? e->msg : fallback;
}

/* ---------------------------------------------------------------------------------------- */
/* Data types                                                                                */

size_t ct_dtype_size(ct_dtype t)
{
    switch (t) {
    case CT_BYTE: return 1;
    case CT_INT16:
    case CT_UINT16: return 2;
    case CT_INT32:
    case CT_FLOAT32: return 4;
    case CT_FLOAT64: return 8;
    }
    return 0;
}

const char *ct_dtype_name(ct_dtype t)
{
    switch (t) {
    case CT_BYTE: return "Byte";
    case CT_INT16: return "Int16";
    case CT_UINT16: return "UInt16";
    case CT_INT32: return "Int32";
    case CT_FLOAT32: return "Float32";
    case CT_FLOAT64: return "Float64";
    }
    return "Unknown";
}

static GDALDataType to_gdt(ct_dtype t)
{
    switch (t) {
    case CT_BYTE: return GDT_Byte;
    case CT_INT16: return GDT_Int16;
    case CT_UINT16: return GDT_UInt16;
    case CT_INT32: return GDT_Int32;
    case CT_FLOAT32: return GDT_Float32;
    case CT_FLOAT64: return GDT_Float64;
    }
    return GDT_Unknown;
}

/* The ct_dtype that holds every value of a GDAL type, or the closest one when none does. */
static ct_dtype from_gdt(GDALDataType t)
{
    switch (t) {
    case GDT_Byte: return CT_BYTE;
    case GDT_Int16:
    case GDT_CInt16: return CT_INT16;
    case GDT_UInt16: return CT_UINT16;
    case GDT_Int32:
    case GDT_CInt32: return CT_INT32;
    case GDT_Float32:
    case GDT_CFloat32: return CT_FLOAT32;
    default: return CT_FLOAT64; /* UInt32, (U)Int64, Float64, CFloat64: Float64 is exact or nearest */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Grids                                                                                     */

struct ct_grid {
    ct_dtype type;
    int width, height;
    double gt[6];
    ct_crs *crs;
    int has_nodata;
    double nodata;
    double scale, offset; /* a cell v means v * scale + offset (GDAL's band scale and offset) */
    void *data;
};

ct_grid *ct_grid_new(ct_ctx *ctx, ct_dtype t, int width, int height)
{
    size_t cell = ct_dtype_size(t);
    if (cell == 0 || width <= 0 || height <= 0) {
        if (ctx)
            ct_error(ctx, CT_ERR_USAGE, "grid: invalid size %dx%d or type %d", width, height, (int)t);
        return NULL;
    }
    size_t n = (size_t)width * (size_t)height;
    ct_grid *g = calloc(1, sizeof *g);
    /* calloc checks n * cell for overflow itself. */
    void *data = g ? calloc(n, cell) : NULL;
    if (!data) {
        free(g);
        if (ctx)
            ct_error(ctx, CT_ERR_NOMEM, "grid: out of memory for %dx%d %s cells", width, height,
                     ct_dtype_name(t));
        return NULL;
    }
    g->type = t;
    g->width = width;
    g->height = height;
    g->data = data;
    g->scale = 1;
    const double id[6] = {0, 1, 0, 0, 0, -1};
    memcpy(g->gt, id, sizeof id);
    return g;
}

void ct_grid_free(ct_grid *g)
{
    if (!g)
        return;
    ct_crs_free(g->crs);
    free(g->data);
    free(g);
}

int ct_grid_width(const ct_grid *g) { return g->width; }
int ct_grid_height(const ct_grid *g) { return g->height; }
ct_dtype ct_grid_dtype(const ct_grid *g) { return g->type; }
void *ct_grid_data(ct_grid *g) { return g->data; }
const void *ct_grid_cdata(const ct_grid *g) { return g->data; }

void ct_grid_get_geotransform(const ct_grid *g, double gt[6]) { memcpy(gt, g->gt, sizeof g->gt); }
void ct_grid_set_geotransform(ct_grid *g, const double gt[6]) { memcpy(g->gt, gt, sizeof g->gt); }

const ct_crs *ct_grid_crs(const ct_grid *g) { return g->crs; }

void ct_grid_set_crs(ct_grid *g, const ct_crs *crs)
{
    ct_crs *copy = crs ? ct_crs_clone(crs) : NULL;
    ct_crs_free(g->crs);
    g->crs = copy;
}

int ct_grid_get_nodata(const ct_grid *g, double *value)
{
    if (g->has_nodata && value)
        *value = g->nodata;
    return g->has_nodata;
}

void ct_grid_set_nodata(ct_grid *g, double value)
{
    g->has_nodata = 1;
    g->nodata = value;
}

void ct_grid_clear_nodata(ct_grid *g) { g->has_nodata = 0; }

void ct_grid_set_scale(ct_grid *g, double scale, double offset)
{
    g->scale = scale;
    g->offset = offset;
}

int ct_grid_get_scale(const ct_grid *g, double *scale, double *offset)
{
    if (scale)
        *scale = g->scale;
    if (offset)
        *offset = g->offset;
    return g->scale != 1 || g->offset != 0;
}

double ct_grid_get(const ct_grid *g, int col, int row)
{
    size_t i = (size_t)row * (size_t)g->width + (size_t)col;
    switch (g->type) {
    case CT_BYTE: return ((const uint8_t *)g->data)[i];
    case CT_INT16: return ((const int16_t *)g->data)[i];
    case CT_UINT16: return ((const uint16_t *)g->data)[i];
    case CT_INT32: return ((const int32_t *)g->data)[i];
    case CT_FLOAT32: return ((const float *)g->data)[i];
    case CT_FLOAT64: return ((const double *)g->data)[i];
    }
    return NAN;
}

/* Rounds half away from zero and clamps; NaN becomes 0 since integers have no NaN. */
static double to_int_range(double v, double lo, double hi)
{
    if (isnan(v))
        return 0;
    v = round(v);
    return v < lo ? lo : v > hi ? hi : v;
}

void ct_grid_set(ct_grid *g, int col, int row, double v)
{
    size_t i = (size_t)row * (size_t)g->width + (size_t)col;
    switch (g->type) {
    case CT_BYTE: ((uint8_t *)g->data)[i] = (uint8_t)to_int_range(v, 0, UINT8_MAX); break;
    case CT_INT16: ((int16_t *)g->data)[i] = (int16_t)to_int_range(v, INT16_MIN, INT16_MAX); break;
    case CT_UINT16: ((uint16_t *)g->data)[i] = (uint16_t)to_int_range(v, 0, UINT16_MAX); break;
    case CT_INT32: ((int32_t *)g->data)[i] = (int32_t)to_int_range(v, INT32_MIN, INT32_MAX); break;
    case CT_FLOAT32: ((float *)g->data)[i] = (float)v; break;
    case CT_FLOAT64: ((double *)g->data)[i] = v; break;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Rasters                                                                                   */

struct ct_raster {
    GDALDatasetH ds;
    char *path;
    ct_crs *crs;
};

/* The dataset's CRS through ct_crs_from_wkt(); NULL (with a warning) when it cannot be read. */
static ct_crs *dataset_crs(ct_ctx *ctx, GDALDatasetH ds, const char *path)
{
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    if (!srs)
        return NULL;
    char *wkt = NULL;
    /* WKT1 as GDAL writes it keeps TOWGS84, which the crs module recognises; WKT2 covers the
     * CRSs WKT1 cannot express. */
    if (OSRExportToWkt(srs, &wkt) != OGRERR_NONE || !wkt || !*wkt) {
        CPLFree(wkt);
        wkt = NULL;
        const char *const wkt2[] = {"FORMAT=WKT2_2019", NULL};
        if (OSRExportToWktEx(srs, &wkt, wkt2) != OGRERR_NONE || !wkt || !*wkt) {
            CPLFree(wkt);
            ct_log(ctx, CT_LOG_WARN, "%s: the CRS cannot be exported as WKT; ignoring it", path);
            return NULL;
        }
    }
    /* A failure here must not become the error of ct_raster_open(): keep the caller's. */
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", ct_ctx_errmsg(ctx));
    ct_status saved_st = ct_ctx_status(ctx);
    ct_crs *crs = NULL;
    if (ct_crs_from_wkt(ctx, wkt, &crs) != CT_OK) {
        ct_log(ctx, CT_LOG_WARN, "%s: CRS not recognised, ignoring it: %s", path, ct_ctx_errmsg(ctx));
        crs = NULL;
        if (saved_st == CT_OK)
            ct_ctx_clear_error(ctx);
        else
            ct_error(ctx, saved_st, "%s", saved);
    }
    CPLFree(wkt);
    return crs;
}

ct_status ct_raster_open(ct_ctx *ctx, const char *path, ct_raster **out)
{
    *out = NULL;
    if (!path || !*path)
        return ct_error(ctx, CT_ERR_USAGE, "raster: no file name given");

    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    ct_status st = CT_OK;
    GDALDatasetH ds = NULL;

    VSIStatBufL sb;
    int exists = VSIStatExL(path, &sb, VSI_STAT_EXISTS_FLAG | VSI_STAT_NATURE_FLAG) == 0;
    if (exists && VSI_ISREG(sb.st_mode)) {
        /* Tell "cannot read" (permissions, I/O) apart from "not a raster" before GDAL guesses. */
        errno = 0;
        VSILFILE *fp = VSIFOpenL(path, "rb");
        if (!fp) {
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot open: %s", path,
                          errno ? strerror(errno) : ct_gdal_errs_msg(&e, "unknown error"));
            goto out;
        }
        VSIFCloseL(fp);
    }

    ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL, NULL,
                    NULL);
    if (!ds) {
        /* Paths that are not files (connection strings, SUBDATASET names) may not stat. */
        if (!exists && strncmp(path, "PG:", 3))
            st = ct_error(ctx, CT_ERR_IO, "%s: no such file", path);
        else if (!e.msg[0] || strstr(e.msg, "not recognized as a supported file format"))
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: not a raster GDAL can read", path);
        else
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: not a raster GDAL can read: %s", path, e.msg);
        goto out;
    }
    if (GDALGetRasterCount(ds) < 1) {
        st = ct_error(ctx, CT_ERR_FORMAT, "%s: has no raster band%s", path,
                      CSLCount(GDALGetMetadata(ds, "SUBDATASETS")) > 0
                          ? " (it holds subdatasets: open one of them)" : "");
        goto out;
    }

    ct_raster *r = calloc(1, sizeof *r);
    char *p = r ? strdup(path) : NULL;
    if (!p) {
        free(r);
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    r->ds = ds;
    r->path = p;
    r->crs = dataset_crs(ctx, ds, path);
    ds = NULL;
    *out = r;
out:
    if (ds)
        GDALClose(ds);
    ct_gdal_errs_pop(&e);
    return st;
}

void ct_raster_close(ct_raster *r)
{
    if (!r)
        return;
    /* Closing a read-only dataset may still report (e.g. a PAM .aux.xml it cannot write). */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALClose(r->ds);
    CPLPopErrorHandler();
    ct_crs_free(r->crs);
    free(r->path);
    free(r);
}

int ct_raster_width(const ct_raster *r) { return GDALGetRasterXSize(r->ds); }
int ct_raster_height(const ct_raster *r) { return GDALGetRasterYSize(r->ds); }
int ct_raster_band_count(const ct_raster *r) { return GDALGetRasterCount(r->ds); }

static GDALRasterBandH band_of(const ct_raster *r, int band)
{
    if (band < 1 || band > GDALGetRasterCount(r->ds))
        return NULL;
    return GDALGetRasterBand(r->ds, band);
}

ct_dtype ct_raster_band_dtype(const ct_raster *r, int band)
{
    GDALRasterBandH b = band_of(r, band);
    return b ? from_gdt(GDALGetRasterDataType(b)) : (ct_dtype)0;
}

int ct_raster_band_nodata(const ct_raster *r, int band, double *value)
{
    GDALRasterBandH b = band_of(r, band);
    if (!b)
        return 0;
    int has = 0;
    double v = GDALGetRasterNoDataValue(b, &has);
    if (has && value)
        *value = v;
    return has != 0;
}

int ct_raster_band_scale(const ct_raster *r, int band, double *scale, double *offset)
{
    GDALRasterBandH b = band_of(r, band);
    int has_s = 0, has_o = 0;
    double s = b ? GDALGetRasterScale(b, &has_s) : 1, o = b ? GDALGetRasterOffset(b, &has_o) : 0;
    if (!has_s || !isfinite(s))
        s = 1;
    if (!has_o || !isfinite(o))
        o = 0;
    if (scale)
        *scale = s;
    if (offset)
        *offset = o;
    return s != 1 || o != 0;
}

int ct_raster_geotransform(const ct_raster *r, double gt[6])
{
    if (GDALGetGeoTransform(r->ds, gt) == CE_None)
        return 1;
    /* GDAL's own default: pixel/line coordinates, row 0 at y = 0 growing downwards. */
    const double id[6] = {0, 1, 0, 0, 0, 1};
    memcpy(gt, id, sizeof id);
    return 0;
}

const ct_crs *ct_raster_crs(const ct_raster *r) { return r->crs; }

const char *ct_raster_driver(const ct_raster *r)
{
    GDALDriverH d = GDALGetDatasetDriver(r->ds);
    return d ? GDALGetDriverShortName(d) : "";
}

void ct_raster_block_size(const ct_raster *r, int *bw, int *bh)
{
    GDALGetBlockSize(GDALGetRasterBand(r->ds, 1), bw, bh);
}

void *ct_raster_gdal(ct_raster *r) { return r->ds; }

/* Reads a window into buf (type gdt, packed); the message names the file and the window. */
static ct_status read_window(ct_ctx *ctx, ct_raster *r, GDALRasterBandH b, int x, int y, int w,
                             int h, GDALDataType gdt, void *buf)
{
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    CPLErr err = GDALRasterIO(b, GF_Read, x, y, w, h, buf, w, h, gdt, 0, 0);
    ct_status st = CT_OK;
    if (err != CE_None || e.failed)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot read window %d,%d %dx%d: %s", r->path, x, y, w, h,
                      ct_gdal_errs_msg(&e, CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg()
                                                                    : "read error"));
    ct_gdal_errs_pop(&e);
    return st;
}

static ct_status check_window(ct_ctx *ctx, const ct_raster *r, int band, int x, int y, int w, int h)
{
    if (!band_of(r, band))
        return ct_error(ctx, CT_ERR_USAGE, "%s: no band %d (it has %d)", r->path, band,
                        GDALGetRasterCount(r->ds));
    if (x < 0 || y < 0 || w <= 0 || h <= 0 || (long long)x + w > GDALGetRasterXSize(r->ds) ||
        (long long)y + h > GDALGetRasterYSize(r->ds))
        return ct_error(ctx, CT_ERR_USAGE, "%s: window %d,%d %dx%d is outside the raster (%dx%d)",
                        r->path, x, y, w, h, GDALGetRasterXSize(r->ds), GDALGetRasterYSize(r->ds));
    return CT_OK;
}

/* Float cells v (not NaN, not nodata) to v * scale + offset, in place. */
static void scale_cells(ct_grid *g, double scale, double offset)
{
    const size_t n = (size_t)g->width * g->height;
    const int nd = g->has_nodata;
    if (g->type == CT_FLOAT32) {
        float *v = g->data;
        const float ndf = (float)g->nodata;
        for (size_t i = 0; i < n; i++)
            if (v[i] == v[i] && !(nd && v[i] == ndf))
                v[i] = (float)(v[i] * scale + offset);
    } else {
        double *v = g->data;
        for (size_t i = 0; i < n; i++)
            if (v[i] == v[i] && !(nd && v[i] == g->nodata))
                v[i] = v[i] * scale + offset;
    }
}

ct_status ct_raster_read(ct_ctx *ctx, ct_raster *r, int band, int xoff, int yoff, int width,
                         int height, ct_dtype t, ct_grid **out)
{
    *out = NULL;
    ct_status st = check_window(ctx, r, band, xoff, yoff, width, height);
    if (st)
        return st;
    if (!ct_dtype_size(t))
        return ct_error(ctx, CT_ERR_USAGE, "%s: invalid grid type %d", r->path, (int)t);
    ct_grid *g = ct_grid_new(ctx, t, width, height);
    if (!g)
        return ct_ctx_status(ctx);
    GDALRasterBandH b = GDALGetRasterBand(r->ds, band);
    if ((st = read_window(ctx, r, b, xoff, yoff, width, height, to_gdt(t), g->data))) {
        ct_grid_free(g);
        return st;
    }
    double gt[6];
    ct_raster_geotransform(r, gt);
    g->gt[0] = gt[0] + xoff * gt[1] + yoff * gt[2];
    g->gt[1] = gt[1];
    g->gt[2] = gt[2];
    g->gt[3] = gt[3] + xoff * gt[4] + yoff * gt[5];
    g->gt[4] = gt[4];
    g->gt[5] = gt[5];
    if (r->crs && !(g->crs = ct_crs_clone(r->crs))) {
        ct_grid_free(g);
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", r->path);
    }
    g->has_nodata = ct_raster_band_nodata(r, band, &g->nodata);
    double sc, of;
    if (ct_raster_band_scale(r, band, &sc, &of)) {
        if (t == CT_FLOAT32 || t == CT_FLOAT64) /* in the band's units; nodata cells keep their value */
            scale_cells(g, sc, of);
        else /* integers stay as stored, with the scale that gives them meaning */
            ct_grid_set_scale(g, sc, of);
    }
    *out = g;
    return CT_OK;
}

ct_status ct_grid_read(ct_ctx *ctx, const char *path, int band, ct_dtype t, ct_grid **out)
{
    *out = NULL;
    ct_raster *r;
    ct_status st = ct_raster_open(ctx, path, &r);
    if (st)
        return st;
    st = ct_raster_read(ctx, r, band, 0, 0, ct_raster_width(r), ct_raster_height(r), t, out);
    ct_raster_close(r);
    return st;
}

/* The GDAL warper does the resampling (gdalwarp's -te/-ts onto the target grid); only the
 * coordinate operation is ctgis's own, so that VN-2000 takes the official datum shift. */
ct_status ct_grid_read_onto(ct_ctx *ctx, const char *path, const ct_grid *like, const char *resampling,
                            ct_grid **out)
{
    *out = NULL;
    if (!like->crs)
        return ct_error(ctx, CT_ERR_USAGE, "%s: the target grid has no CRS", path);
    ct_raster *r = NULL;
    ct_status st = ct_raster_open(ctx, path, &r);
    if (st)
        return st;
    double sgt[6];
    int sw = ct_raster_width(r), sh = ct_raster_height(r);
    if (!r->crs) {
        ct_raster_close(r);
        return ct_error(ctx, CT_ERR_CRS, "%s: the raster has no CRS: assign one (gdal_edit.py -a_srs)", path);
    }
    if (!ct_raster_geotransform(r, sgt)) {
        ct_raster_close(r);
        return ct_error(ctx, CT_ERR_INVALID, "%s: the raster has no geotransform", path);
    }
    const int w = like->width, h = like->height;
    const double *gt = like->gt;
    ct_grid *g = NULL;
    int same = ct_crs_equal(r->crs, like->crs) && sw == w && sh == h;
    for (int k = 0; k < 6 && same; k++)
        same = fabs(sgt[k] - gt[k]) <= 1e-9 * fabs(gt[1]);
    if (same) { /* already on the grid: the cells as they are */
        if ((st = ct_raster_read(ctx, r, 1, 0, 0, w, h, CT_FLOAT32, &g))) {
            ct_raster_close(r);
            return st;
        }
        double nd;
        float *v = g->data;
        if (ct_grid_get_nodata(g, &nd))
            for (size_t i = 0; i < (size_t)w * h; i++)
                if (v[i] == (float)nd)
                    v[i] = NAN;
        ct_grid_set_nodata(g, NAN);
        ct_raster_close(r);
        *out = g;
        return CT_OK;
    }
    ct_transform *tr = NULL;
    double b[4] = {sgt[0], sgt[3] + sh * sgt[5], sgt[0] + sw * sgt[1], sgt[3]};
    if (b[1] > b[3]) {
        double t = b[1];
        b[1] = b[3];
        b[3] = t;
    }
    if (!ct_crs_equal(r->crs, like->crs) &&
        ((st = ct_transform_new(ctx, r->crs, like->crs, &tr)) || (st = ct_transform_bounds(ctx, tr, b, b)))) {
        ct_transform_free(tr);
        ct_raster_close(r);
        return ct_error(ctx, st, "%s: %s", path, ct_ctx_errmsg(ctx));
    }
    /* source cells finer than the target's: their average; coarser: bilinear */
    if (!resampling)
        resampling = (b[2] - b[0]) / sw < gt[1] ? "average" : "bilinear";
    char **argv = NULL;
    argv = CSLAddString(argv, "-of");
    argv = CSLAddString(argv, "MEM");
    argv = CSLAddString(argv, "-ot");
    argv = CSLAddString(argv, "Float32");
    argv = CSLAddString(argv, "-r");
    argv = CSLAddString(argv, resampling);
    argv = CSLAddString(argv, "-dstnodata");
    argv = CSLAddString(argv, "nan");
    argv = CSLAddString(argv, "-s_srs");
    argv = CSLAddString(argv, ct_crs_wkt(r->crs));
    argv = CSLAddString(argv, "-t_srs");
    argv = CSLAddString(argv, ct_crs_wkt(like->crs));
    argv = CSLAddString(argv, "-te");
    argv = CSLAddString(argv, CPLSPrintf("%.17g", gt[0]));
    argv = CSLAddString(argv, CPLSPrintf("%.17g", gt[3] + h * gt[5]));
    argv = CSLAddString(argv, CPLSPrintf("%.17g", gt[0] + w * gt[1]));
    argv = CSLAddString(argv, CPLSPrintf("%.17g", gt[3]));
    argv = CSLAddString(argv, "-ts");
    argv = CSLAddString(argv, CPLSPrintf("%d", w));
    argv = CSLAddString(argv, CPLSPrintf("%d", h));
    if (tr) {
        /* the operation itself, not only the two CRSs (GDAL 3.6 picks EPSG's default datum
         * shift for WKT with an EPSG authority); -ct takes the CRSs' own axis order, which is
         * (lat, lon) for geographic CRSs, while ct_transform works in (lon, lat) */
        const char *def = ct_transform_definition(tr);
        const char *steps = strncmp(def, "proj=pipeline ", 14) ? NULL : def + 14;
        argv = CSLAddString(argv, "-ct");
        argv = CSLAddString(argv, CPLSPrintf("proj=pipeline %s%s%s%s",
                                             ct_crs_is_geographic(r->crs) ? "step proj=axisswap order=2,1 " : "",
                                             steps ? steps : "step ", steps ? "" : def,
                                             ct_crs_is_geographic(like->crs) ? " step proj=axisswap order=2,1" : ""));
    }
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    GDALWarpAppOptions *wo = GDALWarpAppOptionsNew(argv, NULL);
    CSLDestroy(argv);
    int usage = 0;
    GDALDatasetH src = r->ds;
    GDALDatasetH dst = wo ? GDALWarp("", NULL, 1, &src, wo, &usage) : NULL;
    GDALWarpAppOptionsFree(wo);
    if (!dst) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: cannot resample onto the grid: %s", path,
                      ct_gdal_errs_msg(&e, "unknown reason"));
    } else if ((g = ct_grid_new(ctx, CT_FLOAT32, w, h)) == NULL) {
        st = ct_ctx_status(ctx);
    } else if (GDALRasterIO(GDALGetRasterBand(dst, 1), GF_Read, 0, 0, w, h, g->data, w, h, GDT_Float32, 0, 0) !=
               CE_None) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot read the resampled grid: %s", path, ct_gdal_errs_msg(&e, "read error"));
    } else {
        memcpy(g->gt, gt, sizeof g->gt);
        ct_grid_set_crs(g, like->crs);
        ct_grid_set_nodata(g, NAN);
        double sc, of; /* the warper resamples the stored values: the band's units after it (linear) */
        if (ct_raster_band_scale(r, 1, &sc, &of))
            scale_cells(g, sc, of);
    }
    if (dst)
        GDALClose(dst);
    ct_gdal_errs_pop(&e);
    ct_transform_free(tr);
    ct_raster_close(r);
    if (st) {
        ct_grid_free(g);
        return st;
    }
    *out = g;
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Statistics                                                                                */

/* Running statistics merged block by block (Chan et al.): each block is summed in two passes,
 * then combined, which stays accurate where a plain sum of squares cancels catastrophically. */
typedef struct acc {
    uint64_t n;
    double mean, m2, min, max;
} acc;

static void acc_merge(acc *a, const acc *b)
{
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double n = (double)(a->n + b->n);
    double d = b->mean - a->mean;
    a->mean += d * ((double)b->n / n);
    a->m2 += b->m2 + d * d * ((double)a->n * (double)b->n / n);
    a->n += b->n;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
}

ct_status ct_raster_band_stats(ct_ctx *ctx, ct_raster *r, int band, ct_band_stats *out)
{
    memset(out, 0, sizeof *out);
    out->min = out->max = out->mean = out->stddev = NAN;
    ct_status st = check_window(ctx, r, band, 0, 0, 1, 1);
    if (st)
        return st;

    GDALRasterBandH b = GDALGetRasterBand(r->ds, band);
    int W = GDALGetRasterXSize(r->ds), H = GDALGetRasterYSize(r->ds);
    int bw, bh;
    GDALGetBlockSize(b, &bw, &bh);
    if (bw <= 0 || bw > W)
        bw = W;
    if (bh <= 0 || bh > H)
        bh = H;
    /* Strips (blocks as wide as the raster) are read ~1 M cells at a time: several one-row
     * strips per GDAL call, or part of one huge strip, so that our buffer stays bounded. Tiles
     * are read one by one. */
    if (bw == W) {
        int rows = W >= 1048576 ? 1 : 1048576 / W;
        if (rows >= bh)
            rows = rows / bh * bh;
        bh = rows < H ? rows : H;
    }

    int has_nd = 0;
    double nd = GDALGetRasterNoDataValue(b, &has_nd);
    /* Float32 cells read as double compare equal to the nodata only once it is rounded alike. */
    if (has_nd && GDALGetRasterDataType(b) == GDT_Float32 && isfinite(nd) && fabs(nd) <= 3.4e38)
        nd = (double)(float)nd;

    double *buf = malloc((size_t)bw * (size_t)bh * sizeof *buf);
    if (!buf)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory for statistics", r->path);

    long long nbx = (W + bw - 1) / bw, nby = (H + bh - 1) / bh, done = 0, total = nbx * nby;
    acc all = {0, 0, 0, INFINITY, -INFINITY};
    uint64_t skipped = 0;
    if ((st = ct_progress(ctx, 0.0, "statistics"))) {
        ct_error(ctx, st, "%s: statistics cancelled", r->path);
        goto out;
    }
    for (int y = 0; y < H; y += bh) {
        int h = H - y < bh ? H - y : bh;
        for (int x = 0; x < W; x += bw) {
            int w = W - x < bw ? W - x : bw;
            if ((st = read_window(ctx, r, b, x, y, w, h, GDT_Float64, buf)))
                goto out;
            size_t n = (size_t)w * (size_t)h;
            acc blk = {0, 0, 0, INFINITY, -INFINITY};
            double sum = 0;
            for (size_t i = 0; i < n; i++) {
                double v = buf[i];
                if (!isfinite(v) || (has_nd && v == nd)) {
                    /* Mark it so that the second pass need not test again. */
                    buf[i] = NAN;
                    skipped++;
                    continue;
                }
                blk.n++;
                sum += v;
                if (v < blk.min)
                    blk.min = v;
                if (v > blk.max)
                    blk.max = v;
            }
            if (blk.n) {
                blk.mean = sum / (double)blk.n;
                for (size_t i = 0; i < n; i++)
                    if (!isnan(buf[i]))
                        blk.m2 += (buf[i] - blk.mean) * (buf[i] - blk.mean);
            }
            acc_merge(&all, &blk);
            if ((st = ct_progress(ctx, (double)++done / (double)total, "statistics"))) {
                ct_error(ctx, st, "%s: statistics cancelled", r->path);
                goto out;
            }
        }
    }
    out->valid = all.n;
    out->nodata = skipped;
    if (all.n) {
        out->min = all.min;
        out->max = all.max;
        out->mean = all.mean;
        out->stddev = sqrt(all.m2 / (double)all.n);
    }
out:
    free(buf);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* COG output                                                                                */

/* Creates a new, empty file ".<base>.tmp.XXXXXX" beside path, like mkstemp(3) but with the
 * mode 0666 & ~umask that a normal output file gets (mkstemp makes it 0600). */
static ct_status make_temp(ct_ctx *ctx, const char *path, char **tmp_out)
{
    static atomic_uint counter;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return ct_error(ctx, CT_ERR_USAGE, "%s: not a file name", path);
    size_t len = dirlen + strlen(base) + 32;
    char *tmp = malloc(len);
    if (!tmp)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 16) ^ ((uint64_t)atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull);
        char sfx[7];
        for (int i = 0; i < 6; i++) {
            sfx[i] = al[s % 62];
            s /= 62;
        }
        sfx[6] = '\0';
        snprintf(tmp, len, "%.*s.%s.tmp.%s", (int)dirlen, path, base, sfx);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            *tmp_out = tmp;
            return CT_OK;
        }
        if (errno != EEXIST) {
            int err = errno;
            free(tmp);
            return ct_error(ctx, CT_ERR_IO, "%s: cannot create a file in %s: %s", path,
                            dirlen ? "its folder" : "the current folder", strerror(err));
        }
    }
    free(tmp);
    return ct_error(ctx, CT_ERR_IO, "%s: cannot find a free temporary name", path);
}

/* Removes the temporary file and what GDAL may have left beside it when interrupted. */
static void remove_temp(const char *tmp)
{
    static const char *const sfx[] = {"", ".ovr.tmp", ".msk.ovr.tmp", ".aux.xml"};
    size_t len = strlen(tmp) + 16;
    char *p = malloc(len);
    for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++) {
        if (!p) {
            unlink(tmp);
            return;
        }
        snprintf(p, len, "%s%s", tmp, sfx[i]);
        unlink(p);
    }
    free(p);
}

/* GDAL omits GeogTOWGS84GeoKey when the CRS has an EPSG code; the GeoTIFF writes between
 * towgs84_begin and towgs84_end write it, so that software that reads it applies the official
 * VN-2000 shift rather than its default (EPSG:5194). Thread-local: other threads' GDAL calls are
 * not affected. @return the previous setting, for towgs84_end. */
static char *towgs84_begin(void)
{
    char *old = CPLStrdup(CPLGetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", NULL));
    CPLSetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", "YES");
    return old;
}

static void towgs84_end(char *old)
{
    CPLSetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", old[0] ? old : NULL);
    CPLFree(old);
}

/* Gives the GDAL dataset ds g's geotransform, CRS and nodata (band 1). */
static ct_status grid_georef(ct_ctx *ctx, GDALDatasetH ds, const ct_grid *g, const char *path, ct_gdal_errs *e)
{
    double gt[6];
    memcpy(gt, g->gt, sizeof gt);
    GDALSetGeoTransform(ds, gt);
    const char *wkt = g->crs ? ct_crs_wkt(g->crs) : NULL;
    if (g->crs && (!wkt || GDALSetProjection(ds, wkt) != CE_None))
        return ct_error(ctx, CT_ERR_CRS, "%s: GDAL cannot use the CRS %s: %s", path, ct_crs_name(g->crs),
                        ct_gdal_errs_msg(e, "invalid WKT"));
    if (g->has_nodata)
        GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), g->nodata);
    if (g->scale != 1 || g->offset != 0) { /* GTiff writes them in its GDAL_METADATA tag */
        GDALSetRasterScale(GDALGetRasterBand(ds, 1), g->scale);
        GDALSetRasterOffset(GDALGetRasterBand(ds, 1), g->offset);
    }
    return CT_OK;
}

typedef struct cog_progress_data {
    ct_ctx *ctx;
    int cancelled;
} cog_progress_data;

static int CPL_STDCALL cog_progress(double done, const char *msg, void *user)
{
    cog_progress_data *d = user;
    (void)msg;
    if (ct_progress(d->ctx, done < 0 ? 0 : done > 1 ? 1 : done, "writing COG") != CT_OK) {
        d->cancelled = 1;
        return FALSE;
    }
    return TRUE;
}

/* The data must reach the disk before the rename makes it the file's content. */
static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* COG output laid out by ctgis (ct_cog_opts.direct)                                         */
/*
 * Why not GDAL: given a grid without overviews, GDAL's COG driver computes them into a
 * temporary file, reads that back and compresses everything a second time, and libtiff's float
 * predictor goes byte by byte through a copy of each tile; for ct-flood's per-level rasters that
 * was most of the run. Here the overviews are 2 × 2 reductions of the grid in memory, tiles are
 * predicted and compressed (libdeflate, libzstd or huffman.c) on every thread in batches written in order, a tile
 * that holds one value throughout is compressed once, and the file follows the layout of
 * GDAL's COG driver (ghost header, IFDs first, the smallest overview's tiles first, each tile
 * with its size before it and its last 4 bytes repeated after it). The georeferencing is still
 * GDAL's: the GeoTIFF tags of a 1 × 1 GeoTIFF it writes in memory are copied.
 */

enum { TT_ASCII = 2, TT_SHORT = 3, TT_LONG = 4, TT_LONG8 = 16 };

typedef struct tiff_tag {
    uint16_t tag, type;
    uint64_t count;
    const uint8_t *val; /* little-endian value bytes */
    size_t len;
} tiff_tag;

static size_t tiff_type_size(unsigned type)
{
    switch (type) {
    case 1: case 2: case 6: case 7: return 1;
    case 3: case 8: return 2;
    case 4: case 9: case 11: case 13: return 4;
    case 5: case 10: case 12: case 16: case 17: case 18: return 8;
    }
    return 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint64_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint64_t v) { wr16(p, v); wr16(p + 2, v >> 16); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, v); wr32(p + 4, v >> 32); }

static ct_status cog_geotags_gdal(ct_ctx *ctx, const ct_grid *g, const char *path, uint8_t **buf, size_t *blen,
                                  tiff_tag *tags, int *ntags);

/* The last few grids' tags: GDAL takes ~30 M instructions to encode a VN-2000 CRS (PROJ
 * demotes its bound CRS), once per file, while ct-flood writes two files a level with the
 * same georeferencing. Keyed by everything that goes into the tags. */
typedef struct geo_memo {
    char *wkt;
    double gt[6], nodata, scale, offset;
    int type, has_nodata;
    uint8_t *buf;
    size_t len;
    tiff_tag tags[16];
    int ntags;
} geo_memo;

static geo_memo geo_memos[4];
static int geo_memo_next;
static pthread_mutex_t geo_memo_lock = PTHREAD_MUTEX_INITIALIZER;

static int geo_memo_match(const geo_memo *m, const ct_grid *g, const char *wkt)
{
    return m->buf && m->type == (int)g->type && m->has_nodata == g->has_nodata &&
           !memcmp(m->gt, g->gt, sizeof m->gt) && !memcmp(&m->nodata, &g->nodata, sizeof m->nodata) &&
           m->scale == g->scale && m->offset == g->offset && !strcmp(m->wkt, wkt);
}

/* Copies memo m's tags into a new *buf (VSIMalloc) and tags. @return 0, or -1 out of memory. */
static int geo_memo_copy(const geo_memo *m, uint8_t **buf, tiff_tag *tags, int *ntags)
{
    if (!(*buf = VSIMalloc(m->len)))
        return -1;
    memcpy(*buf, m->buf, m->len);
    for (int i = 0; i < m->ntags; i++) {
        tags[i] = m->tags[i];
        tags[i].val = *buf + (m->tags[i].val - m->buf);
    }
    *ntags = m->ntags;
    return 0;
}

/* Keeps a copy of the tags just made (nothing when out of memory: the memo is only a saving). */
static void geo_memo_put(const ct_grid *g, const char *wkt, const uint8_t *buf, size_t len, const tiff_tag *tags,
                         int ntags)
{
    uint8_t *b = malloc(len);
    char *w = strdup(wkt);
    if (!b || !w || ntags > 16) {
        free(b);
        free(w);
        return;
    }
    memcpy(b, buf, len);
    geo_memo *m = &geo_memos[geo_memo_next];
    geo_memo_next = (geo_memo_next + 1) % 4;
    free(m->buf);
    free(m->wkt);
    *m = (geo_memo){w, {0}, g->nodata, g->scale, g->offset, (int)g->type, g->has_nodata, b, len, {{0}}, ntags};
    memcpy(m->gt, g->gt, sizeof m->gt);
    for (int i = 0; i < ntags; i++) {
        m->tags[i] = tags[i];
        m->tags[i].val = b + (tags[i].val - buf);
    }
}

/* GDAL's GeoTIFF tags for the grid's CRS, geotransform, nodata, scale and offset: the tags of
 * a 1 × 1 GeoTIFF it writes in memory (the same geotransform describes any size), or of the
 * same georeferencing written before. *buf (free with VSIFree) holds the values the tags point
 * into. */
static ct_status cog_geotags(ct_ctx *ctx, const ct_grid *g, const char *path, uint8_t **buf, tiff_tag *tags,
                             int *ntags)
{
    const char *wkt = ct_crs_wkt(g->crs); /* "" without a CRS */
    int hit = 0;
    pthread_mutex_lock(&geo_memo_lock);
    for (int i = 0; i < 4 && !hit; i++)
        if (geo_memo_match(&geo_memos[i], g, wkt))
            hit = geo_memo_copy(&geo_memos[i], buf, tags, ntags) ? -1 : 1;
    pthread_mutex_unlock(&geo_memo_lock);
    if (hit < 0)
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
    if (hit)
        return CT_OK;
    size_t len = 0;
    ct_status st = cog_geotags_gdal(ctx, g, path, buf, &len, tags, ntags);
    if (!st) {
        pthread_mutex_lock(&geo_memo_lock);
        geo_memo_put(g, wkt, *buf, len, tags, *ntags);
        pthread_mutex_unlock(&geo_memo_lock);
    }
    return st;
}

/* cog_geotags() through GDAL; *blen: the bytes at *buf. */
static ct_status cog_geotags_gdal(ct_ctx *ctx, const ct_grid *g, const char *path, uint8_t **buf, size_t *blen,
                                  tiff_tag *tags, int *ntags)
{
    static atomic_uint counter;
    static const uint16_t want[] = {33550, 33922, 34264, 34735, 34736, 34737, 42112, 42113};
    char name[96];
    snprintf(name, sizeof name, "/vsimem/ct-cog-geo-%d-%u.tif", (int)getpid(), atomic_fetch_add(&counter, 1));
    *buf = NULL;
    *ntags = 0;
    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    ct_status st = CT_OK;
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = drv ? GDALCreate(drv, name, 1, 1, 1, to_gdt(g->type), NULL) : NULL;
    if (!ds) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: GDAL cannot write a GeoTIFF: %s", path,
                      ct_gdal_errs_msg(&e, "no GTiff driver"));
        goto out;
    }
    if ((st = grid_georef(ctx, ds, g, path, &e))) {
        GDALClose(ds);
        goto out;
    }
    char *old = towgs84_begin(); /* written by the close */
    GDALClose(ds);
    towgs84_end(old);
    vsi_l_offset len = 0;
    uint8_t *b = VSIGetMemFileBuffer(name, &len, TRUE);
    if (!b || e.failed || len < 8 || b[0] != 'I' || b[1] != 'I' || rd16(b + 2) != 42) {
        VSIFree(b);
        st = ct_error(ctx, CT_ERR_IO, "%s: GDAL did not encode the georeferencing: %s", path,
                      ct_gdal_errs_msg(&e, "not a little-endian classic TIFF"));
        goto out;
    }
    uint32_t ifd = rd32(b + 4);
    int n = ifd + 2 <= len ? rd16(b + ifd) : 0;
    for (int i = 0; i < n && ifd + 2 + 12 * (i + 1) <= len; i++) {
        const uint8_t *ent = b + ifd + 2 + 12 * i;
        tiff_tag t = {rd16(ent), rd16(ent + 2), rd32(ent + 4), NULL, 0};
        int keep = 0;
        for (size_t k = 0; k < sizeof want / sizeof *want; k++)
            keep |= t.tag == want[k];
        if (!keep || !tiff_type_size(t.type))
            continue;
        t.len = tiff_type_size(t.type) * t.count;
        uint32_t at = t.len <= 4 ? (uint32_t)(ifd + 2 + 12 * i + 8) : rd32(ent + 8);
        if ((uint64_t)at + t.len > len)
            continue;
        t.val = b + at;
        tags[(*ntags)++] = t;
    }
    *buf = b;
    *blen = (size_t)len;
out:
    VSIUnlink(name); /* left behind when the close or the seize failed; else already gone */
    ct_gdal_errs_pop(&e);
    return st;
}

typedef struct cog_level {
    int w, h, tx, ty; /* cells, tiles across and down */
    const uint8_t *cells;
    uint8_t *own; /* overviews: the cells (in the scratch) */
    uint64_t *off, *cnt;
    /* per row, the columns lo .. hi - 1 outside which every cell is zero (hi <= lo: the whole
     * row); NULL: not known (ct_cog_opts.span_lo) */
    const int *lo, *hi;
    int *own_lo, *own_hi; /* overviews: their spans */
} cog_level;

static int cell_valid(ct_dtype t, const uint8_t *p, int has_nd, double nd)
{
    double v;
    switch (t) {
    case CT_BYTE: v = *p; break;
    case CT_INT16: { int16_t x; memcpy(&x, p, 2); v = x; break; }
    case CT_UINT16: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
    case CT_INT32: { int32_t x; memcpy(&x, p, 4); v = x; break; }
    case CT_FLOAT32: { float x; memcpy(&x, p, 4); if (isnan(x)) return 0; if (has_nd) return x != (float)nd; return 1; }
    default: { double x; memcpy(&x, p, 8); v = x; if (isnan(v)) return 0; break; }
    }
    return !has_nd || v != nd;
}

static double cell_get(ct_dtype t, const uint8_t *p)
{
    switch (t) {
    case CT_BYTE: return *p;
    case CT_INT16: { int16_t x; memcpy(&x, p, 2); return x; }
    case CT_UINT16: { uint16_t x; memcpy(&x, p, 2); return x; }
    case CT_INT32: { int32_t x; memcpy(&x, p, 4); return x; }
    case CT_FLOAT32: { float x; memcpy(&x, p, 4); return x; }
    default: { double x; memcpy(&x, p, 8); return x; }
    }
}

static void cell_put(ct_dtype t, uint8_t *p, double v)
{
    if (t != CT_FLOAT32 && t != CT_FLOAT64)
        v = round(v); /* means of integers: to the nearest, halves away from zero, as GDAL */
    switch (t) {
    case CT_BYTE: *p = (uint8_t)v; break;
    case CT_INT16: { int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
    case CT_UINT16: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case CT_INT32: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
    case CT_FLOAT32: { float x = (float)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* Unaligned, aliasing views of cells, for loads of two cells at a time (little-endian hosts, as
 * everywhere in the direct writer: it writes the cells in host order under an "II" header) */
typedef uint16_t u16_any __attribute__((may_alias, aligned(1)));
typedef uint32_t u32_any __attribute__((may_alias, aligned(1)));

/* The next overview: each cell from a 2 × 2 window of src (fewer on an odd edge). */
static void cog_reduce(const ct_grid *g, int average, const cog_level *src, cog_level *dst, int nthreads)
{
    const size_t es = ct_dtype_size(g->type);
    uint8_t ndb[8] = {0};
    if (g->has_nodata)
        cell_put(g->type, ndb, g->nodata);
    const int fast = g->type == CT_FLOAT32 && average, nan_nd = !g->has_nodata || isnan(g->nodata);
    const float ndf = nan_nd ? NAN : (float)g->nodata;
    /* rows in small dynamic batches: a thread slowed by other processes does not hold up the rest */
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 16)
    for (int r = 0; r < dst->h; r++) {
        /* the windows c0 .. c1 - 1 may hold cells that are not zero (cog_level.lo); the rest
         * reduce to zero whatever the resampling: zeros are averaged to zero, or are the
         * nodata value the average of none gives */
        int c0 = 0, c1 = dst->w;
        if (src->lo) {
            int lo = INT_MAX, hi = 0;
            for (int sr = 2 * r; sr < 2 * r + 2 && sr < src->h; sr++)
                if (src->lo[sr] < src->hi[sr]) {
                    lo = src->lo[sr] < lo ? src->lo[sr] : lo;
                    hi = src->hi[sr] > hi ? src->hi[sr] : hi;
                }
            c0 = hi > lo ? lo / 2 : dst->w;
            c1 = hi > lo ? ((hi + 1) / 2 < dst->w ? (hi + 1) / 2 : dst->w) : 0;
            dst->own_lo[r] = c0;
            dst->own_hi[r] = c1;
            uint8_t *row = dst->own + (size_t)r * dst->w * es;
            if (c1 <= c0) {
                memset(row, 0, (size_t)dst->w * es);
                continue;
            }
            memset(row, 0, (size_t)c0 * es);
            memset(row + (size_t)c1 * es, 0, (size_t)(dst->w - c1) * es);
        }
        if (fast) { /* Float32 averages, the common case, without the per-type calls */
            float *o = (float *)dst->own + (size_t)r * dst->w;
            const float *a = (const float *)src->cells + (size_t)(2 * r) * src->w;
            const float *b = 2 * r + 1 < src->h ? a + src->w : NULL;
            const int whole = b ? src->w / 2 : 0; /* full 2 x 2 windows */
            /* the same sums in the same order as below (a0, b0, a1, b1), an invalid cell adding
             * +0.0 instead of being skipped: identical results, in vector registers */
#pragma omp simd
            for (int c = c0; c < (whole < c1 ? whole : c1); c++) {
                const float a0 = a[2 * c], b0 = b[2 * c], a1 = a[2 * c + 1], b1 = b[2 * c + 1];
                const int va0 = a0 == a0 && (nan_nd || a0 != ndf), vb0 = b0 == b0 && (nan_nd || b0 != ndf);
                const int va1 = a1 == a1 && (nan_nd || a1 != ndf), vb1 = b1 == b1 && (nan_nd || b1 != ndf);
                double sum = 0;
                sum += va0 ? (double)a0 : 0.0;
                sum += vb0 ? (double)b0 : 0.0;
                sum += va1 ? (double)a1 : 0.0;
                sum += vb1 ? (double)b1 : 0.0;
                const int n = va0 + vb0 + va1 + vb1;
                o[c] = n ? (float)(sum / (n ? n : 1)) : ndf;
            }
            for (int c = whole > c0 ? whole : c0; c < c1; c++) {
                double sum = 0;
                int n = 0;
                for (int dc = 0; dc < 2 && 2 * c + dc < src->w; dc++) {
                    float x = a[2 * c + dc], y = b ? b[2 * c + dc] : NAN;
                    if (x == x && (nan_nd || x != ndf))
                        sum += x, n++;
                    if (y == y && (nan_nd || y != ndf))
                        sum += y, n++;
                }
                o[c] = n ? (float)(sum / n) : ndf;
            }
            continue;
        }
        if (g->type == CT_UINT16 && average) { /* UInt16 averages (depths in mm) without the per-type calls */
            uint16_t *o = (uint16_t *)dst->own + (size_t)r * dst->w;
            const uint16_t *a = (const uint16_t *)src->cells + (size_t)(2 * r) * src->w;
            const uint16_t *b = 2 * r + 1 < src->h ? a + src->w : NULL;
            const int hn = g->has_nodata && g->nodata >= 0 && g->nodata <= UINT16_MAX && g->nodata == floor(g->nodata);
            const uint32_t nd = hn ? (uint32_t)g->nodata : UINT32_MAX; /* no stored value equals it */
            /* the mean of the valid cells rounded half away from zero, as cell_put(round()):
             * floor(sum / n + 1/2) = floor((2 sum + n) / (2 n)) for sums of non-negative cells;
             * both below 2^20, so the Float32 quotient is within 2^-6 of the exact one, which
             * is an integer or at least 1/8 from one: its floor is exact */
            const int whole = b ? src->w / 2 : 0; /* full 2 x 2 windows, in vector registers */
            /* each pair of cells read as one 32-bit word (the first in its low half): contiguous
             * loads, which the vectoriser takes, where it leaves strided ones scalar */
            const u32_any *pa = (const u32_any *)a, *pb = (const u32_any *)b;
#pragma omp simd
            for (int c = c0; c < (whole < c1 ? whole : c1); c++) {
                const uint32_t a0 = pa[c] & 0xffffu, a1 = pa[c] >> 16, b0 = pb[c] & 0xffffu, b1 = pb[c] >> 16;
                /* without conditionals, which keep the vectoriser out: products with the 0/1
                 * validities, and masks (n = 0 gives q = 0, then nd) */
                const uint32_t va0 = a0 != nd, va1 = a1 != nd, vb0 = b0 != nd, vb1 = b1 != nd;
                const uint32_t n = va0 + va1 + vb0 + vb1, none = 0u - (n == 0);
                const uint32_t sum = a0 * va0 + a1 * va1 + b0 * vb0 + b1 * vb1;
                const float q = (float)(int)(2 * sum + n) / (float)(int)(2 * (n + (n == 0)));
                o[c] = (uint16_t)(((uint32_t)(int)q & ~none) | (nd & none));
            }
            for (int c = whole > c0 ? whole : c0; c < c1; c++) {
                uint32_t sum = 0, n = 0;
                for (int dc = 0; dc < 2 && 2 * c + dc < src->w; dc++) {
                    uint32_t x = a[2 * c + dc];
                    if (x != nd)
                        sum += x, n++;
                    if (b && (x = b[2 * c + dc]) != nd)
                        sum += x, n++;
                }
                o[c] = n ? (uint16_t)((2 * sum + n) / (2 * n)) : (uint16_t)nd;
            }
            continue;
        }
        if (!average) { /* the north-west cell of each window */
            uint8_t *o = dst->own + (size_t)r * dst->w * es;
            const uint8_t *first = src->cells + (size_t)(2 * r) * src->w * es;
            if (es == 1) {
                /* the low byte of each 16-bit pair: contiguous loads, in vector registers */
                const u16_any *pair = (const u16_any *)first;
                const int whole = src->w / 2;
#pragma omp simd
                for (int c = c0; c < (whole < c1 ? whole : c1); c++)
                    o[c] = (uint8_t)pair[c];
                for (int c = whole > c0 ? whole : c0; c < c1; c++)
                    o[c] = first[2 * c];
            } else
                for (int c = c0; c < c1; c++)
                    memcpy(o + (size_t)c * es, first + (size_t)2 * c * es, es);
            continue;
        }
        for (int c = c0; c < c1; c++) {
            uint8_t *o = dst->own + ((size_t)r * dst->w + c) * es;
            const uint8_t *first = src->cells + ((size_t)(2 * r) * src->w + 2 * c) * es;
            double sum = 0;
            int n = 0;
            for (int dr = 0; dr < 2 && 2 * r + dr < src->h; dr++)
                for (int dc = 0; dc < 2 && 2 * c + dc < src->w; dc++) {
                    const uint8_t *p = src->cells + ((size_t)(2 * r + dr) * src->w + 2 * c + dc) * es;
                    if (cell_valid(g->type, p, g->has_nodata, g->nodata)) {
                        sum += cell_get(g->type, p);
                        n++;
                    }
                }
            if (n)
                cell_put(g->type, o, sum / n);
            else if (g->has_nodata)
                memcpy(o, ndb, es);
            else
                memcpy(o, first, es); /* NaN without a nodata value: stays NaN */
        }
    }
}

/* One thread's compressor: libdeflate's zlib stream, a zstd context (a frame per tile), or
 * the Huffman code of the resolution being written (CT_COG_DEFLATE_HUFFMAN). */
typedef struct cog_codec {
    struct libdeflate_compressor *deflate;
    ZSTD_CCtx *zstd;
    const ct_huff *huff;
} cog_codec;

static size_t cog_compress(const cog_codec *k, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (k->huff)
        return ct_huff_deflate(k->huff, in, len, out); /* cap is ct_huff_bound(len) */
    if (k->deflate)
        return libdeflate_zlib_compress(k->deflate, in, len, out, cap);
    const size_t n = ZSTD_compress2(k->zstd, out, cap, in, len);
    return ZSTD_isError(n) ? 0 : n;
}

/* Whether cells c0 .. c0 + n - 1 of a row of the level are known to be zero (cog_level.lo). */
static inline int span_zero(const cog_level *lv, int row, int c0, int n)
{
    return lv->lo && (lv->hi[row] <= lv->lo[row] || lv->hi[row] <= c0 || lv->lo[row] >= c0 + n);
}

/* Whether every row of a whole tile (bs x bs inside the level) at (tx, ty) is known to be zero. */
static int tile_zero(const cog_level *lv, int bs, int tx, int ty)
{
    int zero = lv->lo != NULL;
    for (int r = ty * bs; zero && r < (ty + 1) * bs; r++)
        zero = span_zero(lv, r, tx * bs, bs);
    return zero;
}

/* Whether every cell of a whole tile (bs x bs inside the level) at c has the same bytes. */
static int tile_uniform(const cog_level *lv, size_t es, int bs, const uint8_t *c)
{
    const uint8_t *row = c;
    int same = 1;
    for (int r = 0; r < bs && same; r++, row += (size_t)lv->w * es)
        same = memcmp(row, c, es) == 0 && memcmp(row, row + es, (size_t)(bs - 1) * es) == 0;
    return same;
}

/* The bytes of a tile row: bs cells of es bytes, or of one bit with pred 1 (ct_cog_opts.one_bit). */
static inline size_t row_bytes(size_t es, int pred, int bs)
{
    return pred == 1 ? (size_t)bs / 8 : (size_t)bs * es;
}

/* Row r of tile column tx of a level, predicted into d (bs cells; rows and columns past the
 * level's edge are zeros), or with pred 1 packed a bit a cell, the first cell in the most
 * significant bit. The loops over the cells inside the level and over the padding are apart,
 * so that the first run in vector registers. */
static void cog_row(const cog_level *lv, size_t es, int pred, int bs, int tx, int r, uint8_t *restrict d,
                    uint8_t *restrict tmp)
{
    const size_t rowb = row_bytes(es, pred, bs);
    const int c0 = tx * bs, nc = lv->w - c0 < bs ? lv->w - c0 : bs;
    const uint8_t *restrict s = r < lv->h ? lv->cells + ((size_t)r * lv->w + c0) * es : NULL;
    if (!s || span_zero(lv, r, c0, nc) || (!s[0] && !memcmp(s, s + 1, (size_t)nc * es - 1))) {
        memset(d, 0, rowb); /* zeros (dry, padding) predict to zeros with either predictor */
        return;
    }
    if (pred == 1) {
        /* eight cells of 0 or 1 read as one little-endian word: the product's top byte holds
         * cell i at bit 7 - i (every other term of the product lands below bit 56 without
         * carries, or above bit 63) */
        int i = 0;
        for (; i + 8 <= nc; i += 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            d[i / 8] = (uint8_t)((x * 0x8040201008040201u) >> 56);
        }
        memset(d + i / 8, 0, rowb - (size_t)i / 8);
        for (; i < nc; i++)
            d[i / 8] |= (uint8_t)((s[i] != 0) << (7 - i % 8));
        return;
    }
    if (pred == 3) { /* TIFF floating-point predictor: bytes in planes, most significant first */
        if (es == 4) {
            const uint32_t *sv = (const uint32_t *)s;
#pragma omp simd
            for (int i = 0; i < nc; i++) {
                uint32_t x = sv[i];
                tmp[i] = (uint8_t)(x >> 24);
                tmp[bs + i] = (uint8_t)(x >> 16);
                tmp[2 * bs + i] = (uint8_t)(x >> 8);
                tmp[3 * bs + i] = (uint8_t)x;
            }
            for (int k = 0; k < 4; k++)
                memset(tmp + k * bs + nc, 0, (size_t)(bs - nc));
        } else {
            memset(tmp, 0, rowb);
            for (int i = 0; i < nc; i++)
                for (size_t k = 0; k < es; k++)
                    tmp[(es - 1 - k) * bs + i] = s[(size_t)i * es + k];
        }
        d[0] = tmp[0];
#pragma omp simd
        for (size_t i = 1; i < rowb; i++)
            d[i] = (uint8_t)(tmp[i] - tmp[i - 1]);
        return;
    }
    /* horizontal differencing; the first padding cell is 0 minus the last cell */
    if (es == 1) {
        d[0] = s[0];
#pragma omp simd
        for (int i = 1; i < nc; i++)
            d[i] = (uint8_t)(s[i] - s[i - 1]);
        if (nc < bs) {
            d[nc] = (uint8_t)-s[nc - 1];
            memset(d + nc + 1, 0, (size_t)(bs - nc - 1));
        }
    } else if (es == 2) {
        uint16_t *restrict u = (uint16_t *)d;
        const uint16_t *restrict sv = (const uint16_t *)s;
        u[0] = sv[0];
#pragma omp simd
        for (int i = 1; i < nc; i++)
            u[i] = (uint16_t)(sv[i] - sv[i - 1]);
        if (nc < bs) {
            u[nc] = (uint16_t)-sv[nc - 1];
            memset(u + nc + 1, 0, (size_t)(bs - nc - 1) * 2);
        }
    } else {
        uint32_t *restrict u = (uint32_t *)d;
        const uint32_t *restrict sv = (const uint32_t *)s;
        u[0] = sv[0];
#pragma omp simd
        for (int i = 1; i < nc; i++)
            u[i] = sv[i] - sv[i - 1];
        if (nc < bs) {
            u[nc] = 0u - sv[nc - 1];
            memset(u + nc + 1, 0, (size_t)(bs - nc - 1) * 4);
        }
    }
}

/* The Huffman code of a level's tiles (CT_COG_DEFLATE_HUFFMAN), counted on 64 of its rows
 * spread over it (every row of a smaller level), predicted as in its tiles; into row and tmp. */
static ct_huff *cog_code(const cog_level *v, size_t es, int pred, int bs, uint8_t *row, uint8_t *tmp)
{
    uint64_t freq[CT_HUFF_NSYM] = {0};
    const int step = v->h > 64 ? v->h / 64 : 1;
    for (int r = step / 2; r < v->h; r += step)
        for (int tx = 0; tx < v->tx; tx++) {
            cog_row(v, es, pred, bs, tx, r, row, tmp);
            ct_huff_count(freq, row, row_bytes(es, pred, bs));
        }
    return ct_huff_new(freq);
}

/* Tile (tx, ty) of a level, predicted into raw, compressed into out. */
static size_t cog_tile(const cog_level *lv, size_t es, int pred, int bs, int tx, int ty, uint8_t *restrict raw,
                       uint8_t *restrict tmp, const cog_codec *comp, uint8_t *out, size_t cap)
{
    const size_t rowb = row_bytes(es, pred, bs);
    for (int r = 0; r < bs; r++)
        cog_row(lv, es, pred, bs, tx, ty * bs + r, raw + (size_t)r * rowb, tmp);
    return cog_compress(comp, raw, rowb * bs, out, cap);
}

/* The IFDs (and the ghost header before them) into hdr, which holds *len bytes; with hdr
 * NULL only *len is computed. The size does not depend on the tile offsets. */
static void cog_header(uint8_t *hdr, size_t *len, int big, const ct_grid *g, int pred, int zstd, int bs,
                       const cog_level *lv, int nl, const tiff_tag *geo, int ngeo)
{
    static const char ghost[] = "LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nBLOCK_LEADER=SIZE_AS_UINT4\n"
                                "BLOCK_TRAILER=LAST_4_BYTES_REPEATED\nKNOWN_INCOMPATIBLE_EDITION=NO\n ";
    const size_t es = ct_dtype_size(g->type), esz = big ? 20 : 12, inl = big ? 8 : 4;
    size_t p = big ? 16 : 8;
    char gh[64];
    int ghl = snprintf(gh, sizeof gh, "GDAL_STRUCTURAL_METADATA_SIZE=%06d bytes\n", (int)(sizeof ghost - 1));
    if (hdr) {
        memcpy(hdr, big ? "II\x2b\0\x08\0\0\0" : "II\x2a\0", big ? 8 : 4);
        memcpy(hdr + p, gh, (size_t)ghl);
        memcpy(hdr + p + ghl, ghost, sizeof ghost - 1);
    }
    p += (size_t)ghl + sizeof ghost - 1;
    p += p & 1;
    if (hdr)
        big ? wr64(hdr + 8, p) : wr32(hdr + 4, p);
    const uint16_t sfmt = g->type == CT_FLOAT32 || g->type == CT_FLOAT64 ? 3
                        : g->type == CT_INT16 || g->type == CT_INT32 ? 2 : 1;
    for (int l = 0; l < nl; l++) {
        const cog_level *v = &lv[l];
        const uint64_t nt = (uint64_t)v->tx * v->ty;
        tiff_tag t[32];
        int n = 0;
        uint8_t small[14][8];
#define TAG_NUM(id, ty, x)                                                                       \
    do {                                                                                         \
        ty == TT_SHORT ? wr16(small[n], x) : wr32(small[n], x);                                  \
        t[n] = (tiff_tag){id, ty, 1, small[n], ty == TT_SHORT ? 2 : 4};                          \
        n++;                                                                                     \
    } while (0)
        TAG_NUM(254, TT_LONG, l ? 1 : 0); /* NewSubfileType: reduced resolution */
        TAG_NUM(256, TT_LONG, v->w);
        TAG_NUM(257, TT_LONG, v->h);
        TAG_NUM(258, TT_SHORT, pred == 1 ? 1 : 8 * es);
        TAG_NUM(259, TT_SHORT, zstd ? 50000 : 8); /* ZSTD or DEFLATE */
        TAG_NUM(262, TT_SHORT, 1); /* min-is-black */
        TAG_NUM(277, TT_SHORT, 1);
        TAG_NUM(284, TT_SHORT, 1);
        TAG_NUM(317, TT_SHORT, pred);
        TAG_NUM(322, TT_LONG, bs);
        TAG_NUM(323, TT_LONG, bs);
#undef TAG_NUM
        t[n++] = (tiff_tag){324, big ? TT_LONG8 : TT_LONG, nt, (const uint8_t *)v->off, nt * (big ? 8 : 4)};
        t[n++] = (tiff_tag){325, big ? TT_LONG8 : TT_LONG, nt, (const uint8_t *)v->cnt, nt * (big ? 8 : 4)};
        wr16(small[n], sfmt);
        t[n] = (tiff_tag){339, TT_SHORT, 1, small[n], 2};
        n++;
        for (int i = 0; i < ngeo; i++) /* GDAL's, in tag order; overviews carry the nodata only */
            if (l == 0 || geo[i].tag == 42113)
                t[n++] = geo[i];
        size_t ifd = p, vals = ifd + (big ? 8 : 2) + (size_t)n * esz + (big ? 8 : 4);
        if (hdr)
            big ? wr64(hdr + ifd, (uint64_t)n) : wr16(hdr + ifd, (uint64_t)n);
        for (int i = 0; i < n; i++) {
            uint8_t *ent = hdr ? hdr + ifd + (big ? 8 : 2) + (size_t)i * esz : NULL;
            int arr = t[i].tag == 324 || t[i].tag == 325;
            if (ent) {
                wr16(ent, t[i].tag);
                wr16(ent + 2, t[i].type);
                big ? wr64(ent + 4, t[i].count) : wr32(ent + 4, t[i].count);
                memset(ent + (big ? 12 : 8), 0, inl);
            }
            uint8_t *dst;
            if (t[i].len <= inl) {
                dst = ent ? ent + (big ? 12 : 8) : NULL;
            } else {
                if (ent)
                    big ? wr64(ent + 12, vals) : wr32(ent + 8, vals);
                dst = hdr ? hdr + vals : NULL;
                vals += t[i].len + (t[i].len & 1);
            }
            if (!dst)
                continue;
            if (arr) /* offsets and sizes, host order to little-endian */
                for (uint64_t k = 0; k < t[i].count; k++)
                    big ? wr64(dst + 8 * k, ((const uint64_t *)t[i].val)[k]) : wr32(dst + 4 * k, ((const uint64_t *)t[i].val)[k]);
            else
                memcpy(dst, t[i].val, t[i].len);
        }
        size_t next = l + 1 < nl ? vals : 0;
        if (hdr)
            big ? wr64(hdr + ifd + 8 + (size_t)n * esz, next) : wr32(hdr + ifd + 2 + (size_t)n * esz, next);
        p = vals;
    }
    *len = p;
}

/* Writes len bytes of buf from off, however many calls it takes. @return 0, or -1 with errno
 * set (EIO when nothing was written and nothing said). */
static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/*
 * The tiles reach the file through buffers aligned for direct I/O (O_DIRECT), written in whole
 * blocks by a thread of their own while the compression goes on. Why direct: a COG is written
 * once and not read back by its writer; through the page cache every byte is first copied into
 * newly allocated cache pages, and on the virtual machines ctgis runs on, pages not touched for
 * a while cost more to allocate than the compression of what goes into them (ct-flood's ten
 * levels of b500 spent 2 s of system time there). Why a thread: a direct write returns when the
 * disk has the data, and this disk sometimes takes 0.4 s for a few megabytes; the compressing
 * threads then wait only when all DIO_BUFS buffers are queued. Where the file system refuses
 * direct I/O, or the environment says CT_DIRECT_IO=0, the same blocks go through the cache.
 */
enum { DIO_BLOCK = 4096, DIO_BUFS = 4 };

typedef struct dio_out {
    int fd, direct;            /* direct: O_DIRECT is set on fd (changed by the I/O thread) */
    uint8_t *buf[DIO_BUFS];    /* DIO_BLOCK-aligned, used in turn */
    size_t len;                /* bytes held in the buffer being filled, buf[submitted % DIO_BUFS] */
    uint64_t off;              /* the file offset of its first byte, a multiple of DIO_BLOCK */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;        /* the rest */
    pthread_cond_t cv;
    size_t qlen[DIO_BUFS];     /* a queued buffer's bytes and offset */
    uint64_t qoff[DIO_BUFS];
    unsigned submitted, written; /* buffers handed to the I/O thread, and written by it */
    int closing, err;          /* err: the errno of the first failed write */
} dio_out;

static void dio_put(dio_out *d, const void *p, size_t n)
{
    memcpy(d->buf[d->submitted % DIO_BUFS] + d->len, p, n);
    d->len += n;
}

static int dio_cached(dio_out *d)
{
    int fl = fcntl(d->fd, F_GETFL);
    if (fl == -1 || fcntl(d->fd, F_SETFL, fl & ~O_DIRECT) == -1)
        return -1;
    d->direct = 0;
    return 0;
}

/* @return 0, or the errno of the failure. EINVAL with O_DIRECT: direct I/O refused for this
 * file, written through the cache instead. */
static int dio_write(dio_out *d, const uint8_t *p, size_t n, uint64_t off)
{
    if (!pwrite_all(d->fd, p, n, off))
        return 0;
    if (errno == EINVAL && d->direct && !dio_cached(d) && !pwrite_all(d->fd, p, n, off))
        return 0;
    return errno ? errno : EIO;
}

static void *dio_thread(void *arg)
{
    dio_out *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->written == d->submitted && !d->closing)
            pthread_cond_wait(&d->cv, &d->mu);
        if (d->written == d->submitted)
            break; /* closing, and all written */
        const unsigned i = d->written % DIO_BUFS;
        const int skip = d->err != 0;
        pthread_mutex_unlock(&d->mu);
        const int e = skip ? 0 : dio_write(d, d->buf[i], d->qlen[i], d->qoff[i]);
        pthread_mutex_lock(&d->mu);
        if (e && !d->err)
            d->err = e;
        d->written++;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Hands the whole blocks held to the I/O thread (written on this one when it could not be
 * started), and carries the partial last block over to the next buffer once that is free.
 * @return 0, or -1 with errno set by the first failed write. */
static int dio_submit(dio_out *d)
{
    const size_t n = d->len / DIO_BLOCK * DIO_BLOCK;
    const unsigned i = d->submitted % DIO_BUFS;
    if (!n)
        return 0;
    int err;
    if (!d->started) {
        err = dio_write(d, d->buf[i], n, d->off);
        memmove(d->buf[i], d->buf[i] + n, d->len - n);
    } else {
        pthread_mutex_lock(&d->mu);
        d->qlen[i] = n;
        d->qoff[i] = d->off;
        d->submitted++;
        pthread_cond_broadcast(&d->cv);
        while (d->submitted - d->written >= DIO_BUFS && !d->err)
            pthread_cond_wait(&d->cv, &d->mu);
        err = d->err;
        pthread_mutex_unlock(&d->mu);
        if (!err) /* the I/O thread only reads buf[i], and not past n */
            memcpy(d->buf[d->submitted % DIO_BUFS], d->buf[i] + n, d->len - n);
    }
    d->len -= n;
    d->off += n;
    if (err)
        errno = err;
    return err ? -1 : 0;
}

/* Waits for the I/O thread to write what it holds and end; then, with write_tail, writes the
 * partial last block through the cache. @return 0, or -1 with errno set by the first failed
 * write. */
static int dio_finish(dio_out *d, int write_tail)
{
    int err = 0;
    if (d->started) {
        pthread_mutex_lock(&d->mu);
        d->closing = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
        d->started = 0;
        err = d->err;
    }
    if (!err && write_tail) { /* the caller's header too goes through the cache */
        if (d->direct && dio_cached(d))
            err = errno ? errno : EIO;
        else if (d->len)
            err = dio_write(d, d->buf[d->submitted % DIO_BUFS], d->len, d->off);
    }
    if (err)
        errno = err;
    return err ? -1 : 0;
}

/* A flag that other threads set with an atomic write, read atomically (a plain read of it would
 * be a data race under OpenMP's memory model). */
static int flag_read(const int *p)
{
    int v;
#pragma omp atomic read
    v = *p;
    return v;
}

/* A tile that is one value throughout compresses to the same bytes wherever it is. */
typedef struct uniform_tile {
    uint8_t cell[8];
    uint8_t *z;
    size_t len;
} uniform_tile;

/* The big buffers of write_cog_direct(), kept between calls when the caller asks
 * (ct_cog_opts.scratch): one output after another reuses the pages of the last instead of
 * having new ones zeroed and mapped (a tenth of ct-flood's time over ten levels). */
enum { CS_RAW, CS_TMP, CS_ZBUF, CS_OUT, CS_OVERVIEW = CS_OUT + DIO_BUFS, CS_N = CS_OVERVIEW + 32 };

struct ct_cog_scratch {
    void *buf[CS_N];
    size_t len[CS_N];
};

ct_cog_scratch *ct_cog_scratch_new(void)
{
    return calloc(1, sizeof(ct_cog_scratch));
}

static void scratch_release(ct_cog_scratch *sc)
{
    for (int i = 0; i < CS_N; i++)
        free(sc->buf[i]);
    memset(sc, 0, sizeof *sc);
}

void ct_cog_scratch_free(ct_cog_scratch *sc)
{
    if (sc) {
        scratch_release(sc);
        free(sc);
    }
}

/* Buffer slot of at least len bytes, DIO_BLOCK-aligned (its old contents are not kept). */
static void *scratch_get(ct_cog_scratch *sc, int slot, size_t len)
{
    if (sc->len[slot] < len) {
        free(sc->buf[slot]);
        sc->len[slot] = (len + DIO_BLOCK - 1) / DIO_BLOCK * DIO_BLOCK;
        if (!(sc->buf[slot] = aligned_alloc(DIO_BLOCK, sc->len[slot])))
            sc->len[slot] = 0;
    }
    return sc->buf[slot];
}

static ct_status write_cog_direct(ct_ctx *ctx, const ct_grid *g, const char *path, const ct_cog_opts *o, int average)
{
    const size_t es = ct_dtype_size(g->type);
    /* the predictor: floating-point (3), horizontal differencing (2), or none for one bit a cell */
    const int bs = o->blocksize, pred = o->one_bit ? 1 : g->type == CT_FLOAT32 || g->type == CT_FLOAT64 ? 3 : 2;
    const int nthreads = o->threads > 0 ? o->threads : ct_ctx_threads(ctx) > 0 ? ct_ctx_threads(ctx) : 1;
    const size_t tileb = row_bytes(es, pred, bs) * bs;
    cog_level lv[32] = {{0}};
    int nl = 0;
    tiff_tag geo[16];
    int ngeo = 0;
    uint8_t *geobuf = NULL, *hdr = NULL, *raw = NULL, *tmp = NULL, *zbuf = NULL;
    const uint8_t **zp = NULL;
    size_t *zl = NULL;
    dio_out out = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    cog_codec *comp = NULL;
    ct_huff *code = NULL; /* CT_COG_DEFLATE_HUFFMAN: the level's being written */
    const int zstd = o->compress == CT_COG_ZSTD, huff = o->compress == CT_COG_DEFLATE_HUFFMAN;
    uniform_tile uni[8];
    int nuni = 0;
    char *tmpname = NULL;
    int fd = -1;
    ct_status st = CT_OK;
    ct_cog_scratch own = {0}, *sc = o->scratch ? o->scratch : &own;

    lv[nl++] = (cog_level){g->width, g->height, 0, 0, g->data, NULL, NULL, NULL, o->span_lo, o->span_hi, NULL, NULL};
    if (!o->span_hi)
        lv[0].lo = NULL;
    while (!o->no_overviews && nl < 32 && (lv[nl - 1].w > bs || lv[nl - 1].h > bs)) {
        cog_level *v = &lv[nl];
        v->w = (lv[nl - 1].w + 1) / 2;
        v->h = (lv[nl - 1].h + 1) / 2;
        if (!(v->own = scratch_get(sc, CS_OVERVIEW + nl, (size_t)v->w * v->h * es)))
            goto nomem;
        v->cells = v->own;
        if (lv[nl - 1].lo) {
            if (!(v->own_lo = malloc((size_t)v->h * sizeof *v->own_lo)) ||
                !(v->own_hi = malloc((size_t)v->h * sizeof *v->own_hi)))
                goto nomem;
            v->lo = v->own_lo;
            v->hi = v->own_hi;
        }
        cog_reduce(g, average, &lv[nl - 1], v, nthreads);
        nl++;
    }
    uint64_t ntiles = 0;
    for (int l = 0; l < nl; l++) {
        lv[l].tx = (lv[l].w + bs - 1) / bs;
        lv[l].ty = (lv[l].h + bs - 1) / bs;
        size_t nt = (size_t)lv[l].tx * lv[l].ty;
        lv[l].off = calloc(nt, sizeof *lv[l].off);
        lv[l].cnt = calloc(nt, sizeof *lv[l].cnt);
        if (!lv[l].off || !lv[l].cnt)
            goto nomem;
        ntiles += nt;
    }
    if ((st = cog_geotags(ctx, g, path, &geobuf, geo, &ngeo)))
        goto out;

    /* two sets of K slots: the tiles of one chunk are compressed on every thread while one
     * thread writes the chunk before, in order (no fresh pages per tile, no idle writes) */
    /* ZSTD_compressBound(): the input, a 1/256 margin, a frame header; 1/128 and 1 KiB cover it */
    const size_t cap = zstd ? tileb + tileb / 128 + 1024
                       : huff ? ct_huff_bound(tileb) : libdeflate_zlib_compress_bound(NULL, tileb);
    /* 8 tiles a thread, within 64 MiB a set for large tiles (4096 x 4096 Float64 is 128 MiB a
     * tile), but never fewer than one a thread; K does not change the bytes written */
    const size_t kmem = ((size_t)64 << 20) / cap;
    const int K = kmem >= (size_t)8 * nthreads ? 8 * nthreads : kmem > (size_t)nthreads ? (int)kmem : nthreads;
    comp = calloc((size_t)nthreads, sizeof *comp);
    raw = scratch_get(sc, CS_RAW, (size_t)nthreads * tileb);
    tmp = scratch_get(sc, CS_TMP, (size_t)nthreads * (size_t)bs * es);
    zbuf = scratch_get(sc, CS_ZBUF, 2 * (size_t)K * cap);
    zl = calloc(2 * (size_t)K, sizeof *zl);
    zp = calloc(2 * (size_t)K, sizeof *zp);
    /* a chunk, and less than a block left over before it and after the header */
    int have_out = 1;
    for (int i = 0; i < DIO_BUFS; i++)
        have_out &= (out.buf[i] = scratch_get(sc, CS_OUT + i, ((size_t)K * (cap + 8) / DIO_BLOCK + 2) * DIO_BLOCK)) != NULL;
    if (!comp || !raw || !tmp || !zbuf || !zl || !zp || !have_out)
        goto nomem;
    if (zstd) {
        for (int t = 0; t < nthreads; t++) {
            ZSTD_CCtx *z = comp[t].zstd = ZSTD_createCCtx();
            if (!z || ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, o->level)) ||
                (o->noisy && ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_hashLog, 8))))
                goto nomem;
            /* noisy cells: the match finder also skips ahead faster where it finds nothing
             * (its acceleration), with the literals still Huffman-coded (which acceleration
             * alone would turn off): 18 % fewer instructions for b500's depths, 0.2 % larger.
             * The literals' setting is one of zstd's experimental ones: where this libzstd
             * refuses it, no acceleration either */
            if (o->noisy && !ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_literalCompressionMode, ZSTD_ps_enable)))
                ZSTD_CCtx_setParameter(z, ZSTD_c_targetLength, 20);
        }
    } else if (!huff) {
        for (int t = 0; t < nthreads; t++)
            if (!(comp[t].deflate = libdeflate_alloc_compressor(o->level)))
                goto nomem;
    }

    /* BigTIFF only when the largest possible file would not fit 32-bit offsets */
    size_t hlen;
    cog_header(NULL, &hlen, 0, g, pred, zstd, bs, lv, nl, geo, ngeo);
    int big = (uint64_t)hlen + ntiles * (cap + 8) > UINT32_MAX;
    if (big)
        cog_header(NULL, &hlen, 1, g, pred, zstd, bs, lv, nl, geo, ngeo);

    if ((st = make_temp(ctx, path, &tmpname)))
        goto out;
    const char *dio = getenv("CT_DIRECT_IO"); /* "0": through the page cache */
    out.direct = (!dio || strcmp(dio, "0")) && (fd = open(tmpname, O_WRONLY | O_CLOEXEC | O_DIRECT)) >= 0;
    if (!out.direct && (fd = open(tmpname, O_WRONLY | O_CLOEXEC)) < 0) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    out.fd = fd;
    out.off = hlen / DIO_BLOCK * DIO_BLOCK; /* the header is written last, over the zeros before hlen */
    out.len = hlen - out.off;
    memset(out.buf[0], 0, out.len);
    out.started = pthread_create(&out.thread, NULL, dio_thread, &out) == 0; /* or written here */
    uint64_t pos = hlen;
    int failed = 0, werr = 0;
    for (int l = nl - 1; l >= 0; l--) { /* the smallest overview first, the full resolution last */
        cog_level *v = &lv[l];
        const int nt = v->tx * v->ty, nch = (nt + K - 1) / K;
        if (huff) {
            ct_huff_free(code);
            if (!(code = cog_code(v, es, pred, bs, raw, tmp)))
                goto nomem;
            for (int t = 0; t < nthreads; t++)
                comp[t].huff = code;
        }
#pragma omp parallel num_threads(nthreads)
        for (int ch = 0; ch <= nch; ch++) {
#pragma omp single nowait
            if (ch > 0 && !flag_read(&failed) && !werr) { /* size, tile, its last 4 bytes again (GDAL's COG layout) */
                const int set = (ch - 1) & 1;
                for (int i = (ch - 1) * K; i < nt && i < ch * K; i++) {
                    const uint8_t *z = zp[set * K + i % K];
                    size_t n = zl[set * K + i % K];
                    uint8_t lead[4];
                    wr32(lead, n);
                    dio_put(&out, lead, 4);
                    dio_put(&out, z, n);
                    dio_put(&out, z + n - 4, 4);
                    v->off[i] = pos + 4;
                    v->cnt[i] = n;
                    pos += n + 8;
                }
                if (dio_submit(&out))
                    werr = errno ? errno : EIO;
            }
            if (ch < nch) {
                const int i1 = (ch + 1) * K < nt ? (ch + 1) * K : nt;
#pragma omp for schedule(dynamic, 1)
                for (int i = ch * K; i < i1; i++) {
                    int t = omp_get_thread_num(), tx = i % v->tx, ty = i / v->tx, hit = -1;
                    const int slot = (ch & 1) * K + i % K;
                    const uint8_t *c = v->cells + ((size_t)ty * bs * v->w + (size_t)tx * bs) * es;
                    /* a whole tile of one value already compressed is not compressed again */
                    const int uniform = tx != v->tx - 1 && ty != v->ty - 1 &&
                                        (tile_zero(v, bs, tx, ty) || tile_uniform(v, es, bs, c));
                    zp[slot] = NULL;
                    zl[slot] = 0;
                    if (uniform) {
#pragma omp critical(ct_cog_uniform)
                        for (int k = 0; k < nuni && hit < 0; k++)
                            if (!memcmp(uni[k].cell, c, es))
                                hit = k;
                    }
                    if (hit >= 0) {
                        zp[slot] = uni[hit].z;
                        zl[slot] = uni[hit].len;
                        continue;
                    }
                    uint8_t *z = zbuf + (size_t)slot * cap;
                    size_t n = cog_tile(v, es, pred, bs, tx, ty, raw + (size_t)t * tileb, tmp + (size_t)t * bs * es,
                                        &comp[t], z, cap);
                    if (!n) {
#pragma omp atomic write
                        failed = 1;
                    }
                    zp[slot] = z;
                    zl[slot] = n;
                    if (n && uniform) {
#pragma omp critical(ct_cog_uniform)
                        {
                            int known = 0;
                            for (int k = 0; k < nuni; k++)
                                known |= !memcmp(uni[k].cell, c, es);
                            if (!known && nuni < 8 && (uni[nuni].z = malloc(n))) {
                                memcpy(uni[nuni].cell, c, es);
                                memcpy(uni[nuni].z, z, n);
                                uni[nuni].len = n;
                                nuni++;
                            }
                        }
                    }
                }
            } else {
#pragma omp barrier
            }
        }
        if (failed || werr) {
            st = failed ? ct_error(ctx, CT_ERR_IO, "%s: %s failed", path, zstd ? "ZSTD" : "DEFLATE")
                        : ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", path, strerror(werr));
            goto out;
        }
        if (ct_progress(ctx, (double)(nl - l) / nl, "writing COG") != CT_OK) {
            st = ct_error(ctx, CT_ERR_CANCELLED, "%s: writing cancelled", path);
            goto out;
        }
    }
    if (!(hdr = calloc(1, hlen)))
        goto nomem;
    cog_header(hdr, &hlen, big, g, pred, zstd, bs, lv, nl, geo, ngeo);
    /* the descriptor is closed whatever failed, and the first failure's errno reported */
    int herr = dio_finish(&out, 1) || pwrite_all(fd, hdr, hlen, 0) ||
                       (o->defer_sync ? sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) : fsync(fd)) != 0
                   ? errno
                   : 0;
    if (close(fd) != 0 && !herr)
        herr = errno;
    fd = -1;
    if (herr) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", path, strerror(herr));
        goto out;
    }
    if (ct_raster_replace(tmpname, path) != 0) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    free(tmpname);
    tmpname = NULL;
    goto out;
nomem:
    st = ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
out:
    dio_finish(&out, 0); /* after a failure: the I/O thread ends before its buffers go */
    if (fd >= 0)
        close(fd);
    if (tmpname) {
        remove_temp(tmpname);
        free(tmpname);
    }
    for (int l = 0; l < 32; l++) { /* the level that failed to come is zeroed, or half made */
        free(lv[l].off);
        free(lv[l].cnt);
        free(lv[l].own_lo);
        free(lv[l].own_hi);
    }
    for (int k = 0; k < nuni; k++)
        free(uni[k].z);
    if (comp)
        for (int t = 0; t < nthreads; t++) {
            libdeflate_free_compressor(comp[t].deflate);
            ZSTD_freeCCtx(comp[t].zstd);
        }
    free(comp);
    ct_huff_free(code);
    free(zl);
    free(zp);
    free(hdr);
    scratch_release(&own);
    VSIFree(geobuf);
    return st;
}

ct_status ct_grid_write_cog(ct_ctx *ctx, const ct_grid *g, const char *path, const ct_cog_opts *opts)
{
    ct_cog_opts o = {0};
    if (opts)
        o = *opts;
    if (!path || !*path)
        return ct_error(ctx, CT_ERR_USAGE, "COG: no file name given");
    if (o.blocksize == 0)
        o.blocksize = 512;
    const int zstd = o.compress == CT_COG_ZSTD;
    if (o.compress != CT_COG_DEFLATE && o.compress != CT_COG_DEFLATE_HUFFMAN && !zstd)
        return ct_error(ctx, CT_ERR_USAGE, "%s: unknown COG compression %d", path, (int)o.compress);
    if (o.compress == CT_COG_DEFLATE_HUFFMAN && !o.direct)
        return ct_error(ctx, CT_ERR_USAGE, "%s: Huffman-only DEFLATE needs the direct COG writer", path);
    if (o.one_bit && (!o.direct || g->type != CT_BYTE))
        return ct_error(ctx, CT_ERR_USAGE, "%s: one bit a cell needs a Byte grid and the direct COG writer", path);
    if (o.level == 0)
        o.level = zstd ? 9 : 6;
    if (o.blocksize < 16 || o.blocksize > 4096 || o.blocksize % 16)
        return ct_error(ctx, CT_ERR_USAGE, "%s: COG block size %d is not a multiple of 16 in 16-4096",
                        path, o.blocksize);
    if (o.level < 1 || o.level > (zstd ? 22 : 9))
        return ct_error(ctx, CT_ERR_USAGE, "%s: %s level %d is not in 1-%d", path, zstd ? "ZSTD" : "DEFLATE", o.level,
                        zstd ? 22 : 9);
    const char *resampling = o.overview_resampling ? o.overview_resampling
                             : g->type == CT_BYTE  ? "NEAREST" : "AVERAGE";
    if (o.direct) {
        int average = !strcasecmp(resampling, "AVERAGE");
        if (!average && strcasecmp(resampling, "NEAREST"))
            return ct_error(ctx, CT_ERR_USAGE, "%s: overview resampling %s: the direct COG writer knows AVERAGE and "
                            "NEAREST", path, resampling);
        return write_cog_direct(ctx, g, path, &o, average);
    }

    ct_gdal_errs e;
    ct_gdal_errs_push(&e, ctx);
    ct_status st = CT_OK;
    GDALDatasetH mem = NULL, cog = NULL;
    char **copts = NULL;
    char *tmp = NULL;

    GDALDriverH mdrv = GDALGetDriverByName("MEM"), cdrv = GDALGetDriverByName("COG");
    if (!mdrv || !cdrv) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: this GDAL has no %s driver", path,
                      mdrv ? "COG" : "MEM");
        goto out;
    }
    /* A MEM band over the grid's own cells: no copy. MEM only reads them during CreateCopy,
     * so casting away const is safe. */
    mem = GDALCreate(mdrv, "", g->width, g->height, 0, to_gdt(g->type), NULL);
    if (mem) {
        char ptr[64], *bopts[2] = {ptr, NULL};
        snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", (void *)g->data);
        if (GDALAddBand(mem, to_gdt(g->type), bopts) != CE_None) {
            GDALClose(mem);
            mem = NULL;
        }
    }
    if (!mem) {
        st = ct_error(ctx, CT_ERR_NOMEM, "%s: cannot wrap the grid: %s", path,
                      ct_gdal_errs_msg(&e, "MEM driver failed"));
        goto out;
    }
    if ((st = grid_georef(ctx, mem, g, path, &e)))
        goto out;

    copts = CSLSetNameValue(copts, "COMPRESS", zstd ? "ZSTD" : "DEFLATE");
    copts = CSLSetNameValue(copts, "LEVEL", CPLSPrintf("%d", o.level));
    copts = CSLSetNameValue(copts, "PREDICTOR", "YES"); /* 2 for integers, 3 for floats */
    copts = CSLSetNameValue(copts, "BLOCKSIZE", CPLSPrintf("%d", o.blocksize));
    copts = CSLSetNameValue(copts, "OVERVIEWS", o.no_overviews ? "NONE" : "AUTO");
    copts = CSLSetNameValue(copts, "RESAMPLING", resampling);
    copts = CSLSetNameValue(copts, "NUM_THREADS", CPLSPrintf("%d", ct_ctx_threads(ctx)));

    if ((st = make_temp(ctx, path, &tmp)))
        goto out;
    ct_gdal_errs_reset(&e);
    cog_progress_data pd = {ctx, 0};
    char *old_towgs84 = towgs84_begin();
    cog = GDALCreateCopy(cdrv, tmp, mem, FALSE, copts, cog_progress, &pd);
    towgs84_end(old_towgs84);
    if (cog)
        GDALClose(cog); /* flushes: a write error shows up in e */
    if (pd.cancelled) {
        st = ct_error(ctx, CT_ERR_CANCELLED, "%s: writing cancelled", path);
        goto out;
    }
    if (!cog || e.failed) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write COG: %s", path,
                      ct_gdal_errs_msg(&e, "GDAL failed"));
        goto out;
    }
    if (sync_file(tmp) != 0 || ct_raster_replace(tmp, path) != 0) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
out:
    if (tmp) {
        remove_temp(tmp);
        free(tmp);
    }
    CSLDestroy(copts);
    if (mem)
        GDALClose(mem);
    ct_gdal_errs_pop(&e);
    return st;
}

int ct_raster_replace(const char *from, const char *to)
{
    if (rename(from, to) != 0)
        return -1;
    char aux[4200];
    snprintf(aux, sizeof aux, "%s.aux.xml", to);
    unlink(aux);
    return 0;
}
