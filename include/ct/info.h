/*
 * ct/info.h — describe any raster or vector dataset: the library side of ct-info.
 *
 * ct_info_describe() builds one JSON object per dataset (json-c) — driver, size, CRS with the
 * VN-2000 zone named and the EPSG:5194 warning, extents native and WGS 84, bands with nodata and
 * optional exact statistics, layers with counts, geometry types, fields and the text encoding
 * their attributes appear to use. ct_info_run() prints that object as JSON or as text.
 */
#ifndef CT_INFO_H
#define CT_INFO_H

#include <stdio.h>
#include "ct/context.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;

typedef struct ct_info_opts {
    const char *const *paths; /**< datasets to describe */
    int npaths;
    int stats;          /**< compute exact band statistics (reads every cell) */
    int json;           /**< print JSON (one object, or an array for several paths) */
    int sample;         /**< features read to guess a layer's text encoding; 0: 2000 */
    FILE *out;          /**< where to print; NULL: stdout */
} ct_info_opts;

/**
 * Describes one dataset. @return CT_OK and *out (release with json_object_put()), or an error
 * naming the path: CT_ERR_IO (missing, unreadable), CT_ERR_FORMAT (not a GIS dataset, corrupt
 * or truncated).
 */
ct_status ct_info_describe(ct_ctx *ctx, const char *path, const ct_info_opts *opts,
                           struct json_object **out);

/**
 * Describes every path and prints the result. A path that fails is reported through the log
 * callback and the others still run; the status is then the first failure's.
 */
ct_status ct_info_run(ct_ctx *ctx, const ct_info_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* CT_INFO_H */
