/*
 * raster_int.h — GDAL plumbing shared by the libcore modules that call GDAL/OGR (raster,
 * vector, and those after them). Not part of the public API.
 */
#ifndef CT_RASTER_INT_H
#define CT_RASTER_INT_H

#include <gdal.h>
#include "ct/context.h"

/** Registers GDAL's drivers, once per process (thread-safe). */
void ct_gdal_init(void);

/**
 * Captures what GDAL reports during one library call, so that libcore never lets GDAL print to
 * stderr and can quote GDAL's reason in its own message. Usage:
 *
 *     ct_gdal_errs e;
 *     ct_gdal_errs_push(&e, ctx);
 *     ... GDAL calls ...
 *     if (e.failed) return ct_error(ctx, CT_ERR_IO, "%s: ...: %s", path, e.msg);
 *     ct_gdal_errs_pop(&e);   (on every path out)
 *
 * Failures keep the first message (usually the root cause: libtiff's "Read error at ...",
 * before GDAL's generic "IReadBlock failed"); warnings go to ct_log at DEBUG level.
 * GDAL's handler stack is per thread, so this catches what the calling thread reports.
 */
typedef struct ct_gdal_errs {
    ct_ctx *ctx;
    int failed;          /**< number of CE_Failure / CE_Fatal reports */
    CPLErrorNum num;     /**< the error number of the first failure */
    char msg[512];       /**< the text of the first failure, "" when none */
} ct_gdal_errs;

void ct_gdal_errs_push(ct_gdal_errs *e, ct_ctx *ctx);
void ct_gdal_errs_pop(ct_gdal_errs *e);
/** Forgets what was captured so far (between two steps of one call). */
void ct_gdal_errs_reset(ct_gdal_errs *e);
/** The captured failure text, or fallback when GDAL said nothing. */
const char *ct_gdal_errs_msg(const ct_gdal_errs *e, const char *fallback);

#endif
