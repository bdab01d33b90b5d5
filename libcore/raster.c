/* raster.c — typed grids, windowed GDAL reads, exact band statistics, atomic COG output. */
#include "ct/raster.h"
#include "raster_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

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

ct_status ct_grid_write_cog(ct_ctx *ctx, const ct_grid *g, const char *path, const ct_cog_opts *opts)
{
    ct_cog_opts o = {0};
    if (opts)
        o = *opts;
    if (!path || !*path)
        return ct_error(ctx, CT_ERR_USAGE, "COG: no file name given");
    if (o.blocksize == 0)
        o.blocksize = 512;
    if (o.level == 0)
        o.level = 6;
    if (o.blocksize < 16 || o.blocksize > 4096 || o.blocksize % 16)
        return ct_error(ctx, CT_ERR_USAGE, "%s: COG block size %d is not a multiple of 16 in 16-4096",
                        path, o.blocksize);
    if (o.level < 1 || o.level > 9)
        return ct_error(ctx, CT_ERR_USAGE, "%s: DEFLATE level %d is not in 1-9", path, o.level);
    const char *resampling = o.overview_resampling ? o.overview_resampling
                             : g->type == CT_BYTE  ? "NEAREST" : "AVERAGE";

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
    double gt[6];
    memcpy(gt, g->gt, sizeof gt);
    GDALSetGeoTransform(mem, gt);
    const char *wkt = g->crs ? ct_crs_wkt(g->crs) : NULL;
    if (g->crs && (!wkt || GDALSetProjection(mem, wkt) != CE_None)) {
        st = ct_error(ctx, CT_ERR_CRS, "%s: GDAL cannot use the CRS %s: %s", path,
                      ct_crs_name(g->crs), ct_gdal_errs_msg(&e, "invalid WKT"));
        goto out;
    }
    if (g->has_nodata)
        GDALSetRasterNoDataValue(GDALGetRasterBand(mem, 1), g->nodata);

    copts = CSLSetNameValue(copts, "COMPRESS", "DEFLATE");
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
    /* GDAL omits GeogTOWGS84GeoKey when the CRS has an EPSG code; write it, so that software
     * that reads it applies the official VN-2000 shift rather than its default (EPSG:5194).
     * Thread-local: other threads' GDAL calls are not affected. */
    char *old_towgs84 = CPLStrdup(CPLGetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", NULL));
    CPLSetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", "YES");
    cog = GDALCreateCopy(cdrv, tmp, mem, FALSE, copts, cog_progress, &pd);
    CPLSetThreadLocalConfigOption("GTIFF_WRITE_TOWGS84", old_towgs84[0] ? old_towgs84 : NULL);
    CPLFree(old_towgs84);
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
