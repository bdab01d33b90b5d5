/*
 * ct/vector.h — streaming features from any OGR source as GEOS geometries with raw and decoded
 * attributes, and writing features through OGR.
 *
 * Reading
 * -------
 * A ct_vsource is an open OGR dataset; its layers stream features one at a time, so memory does
 * not grow with the file. Attribute text is kept as the raw bytes of the file (shapefile recoding
 * is switched off: GDAL 3.6 drops the last character of recoded TCVN3/VNI text, GDAL issue
 * #2045) and decoded with ct/text.h in the layer's encoding, which the caller sets or the
 * detector guesses. Geometries are converted to GEOS (curves linearised) on first access.
 *
 * All GEOS calls of a context share one reentrant handle: ct_geos(ctx).
 *
 * Writing
 * -------
 * A ct_vsink writes one layer with any OGR driver into a temporary folder beside the target,
 * and ct_vsink_commit() renames every file it produced into place (a shapefile's .shp, .shx,
 * .dbf, .prj, .cpg alike), so that a failed run leaves the previous output untouched.
 */
#ifndef CT_VECTOR_H
#define CT_VECTOR_H

#include <geos_c.h>
#include "ct/context.h"
#include "ct/crs.h"
#include "ct/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The context's GEOS handle, created on first use and freed with the context. */
GEOSContextHandle_t ct_geos(ct_ctx *ctx);

/**
 * Transforms every coordinate of g with t (NULL: a plain copy) into a new geometry *out (free
 * with GEOSGeom_destroy_r(ct_geos(ctx), ...)). CT_ERR_CRS when a point cannot be transformed.
 */
ct_status ct_transform_geom(ct_ctx *ctx, ct_transform *t, const GEOSGeometry *g, GEOSGeometry **out);

typedef enum ct_field_type {
    CT_FIELD_STRING = 0,
    CT_FIELD_INT,
    CT_FIELD_REAL,
    CT_FIELD_DATE,
    CT_FIELD_OTHER
} ct_field_type;

/** "String", "Integer", "Real", "Date", "Other". */
const char *ct_field_type_name(ct_field_type t);

typedef enum ct_geom_type {
    CT_GEOM_UNKNOWN = 0, /**< any, or mixed */
    CT_GEOM_POINT,
    CT_GEOM_LINE,
    CT_GEOM_POLYGON,
    CT_GEOM_MULTIPOINT,
    CT_GEOM_MULTILINE,
    CT_GEOM_MULTIPOLYGON,
    CT_GEOM_NONE         /**< attribute-only table */
} ct_geom_type;

typedef struct ct_vsource ct_vsource;
typedef struct ct_layer ct_layer;
typedef struct ct_feature ct_feature;

/**
 * Opens a vector dataset read-only. A QGIS-style "PATH|layername=NAME" opens only that layer
 * of the dataset (e.g. a view of an SDI: "city.sqlite|layername=parcels_current"). @return CT_OK and *out (close with ct_vsource_close()),
 * CT_ERR_IO when the path cannot be read, CT_ERR_FORMAT when OGR does not recognise it; the
 * message names the path.
 */
ct_status ct_vsource_open(ct_ctx *ctx, const char *path, ct_vsource **out);
/** Closes a source and its layers; NULL is a no-op. */
void ct_vsource_close(ct_vsource *src);

/** OGR driver short name ("ESRI Shapefile", "GeoJSON", "DGN", ...). */
const char *ct_vsource_driver(const ct_vsource *src);
int ct_vsource_layer_count(const ct_vsource *src);
/** Layer i (0-based), owned by the source. */
ct_layer *ct_vsource_layer(ct_vsource *src, int i);
/** The layer of that name, or NULL. */
ct_layer *ct_vsource_layer_by_name(ct_vsource *src, const char *name);

/** The layer name as UTF-8. */
const char *ct_layer_name(const ct_layer *l);
/** Feature count; forces a count when the driver does not know it cheaply. */
long long ct_layer_feature_count(ct_layer *l);
/** The declared geometry type ("Polygon", "3D Line String", ...), as OGR names it. */
const char *ct_layer_geom_type_name(const ct_layer *l);
int ct_layer_field_count(const ct_layer *l);
/** Field name as raw bytes of the file (legacy encodings reach field names too). */
const char *ct_layer_field_name(const ct_layer *l, int i);
/** Index of the field whose raw or decoded name equals name (case-insensitive), or -1. */
int ct_layer_field_index(ct_layer *l, const char *name);
ct_field_type ct_layer_field_type(const ct_layer *l, int i);
int ct_layer_field_width(const ct_layer *l, int i);
/** The layer's CRS (recognised through ct_crs_from_wkt), or NULL when it has none. */
const ct_crs *ct_layer_crs(const ct_layer *l);
/** Extent (minx, miny, maxx, maxy) in the layer CRS. @return 0 when empty or unknown. */
int ct_layer_extent(ct_layer *l, double ext[4]);

/** Sets the encoding ct_feature_text() decodes string attributes with (default UTF-8). */
void ct_layer_set_encoding(ct_layer *l, ct_encoding enc);
ct_encoding ct_layer_encoding(const ct_layer *l);

/**
 * Guesses the encoding of the layer's text: reads the string attributes of up to max_features
 * features (and the field names), runs ct_text_detect() on them, and rewinds the layer.
 * @return the guess (CT_ENC_ASCII when all text is 7-bit); confidence may be NULL.
 */
ct_encoding ct_layer_detect_encoding(ct_ctx *ctx, ct_layer *l, int max_features, double *confidence);

/** Rewinds the feature stream. */
void ct_layer_rewind(ct_layer *l);

/**
 * Reads the next feature. @return CT_OK with *f set, or with *f NULL at the end. The feature
 * is owned by the layer and valid until the next call.
 */
ct_status ct_layer_next(ct_ctx *ctx, ct_layer *l, ct_feature **f);

long long ct_feature_fid(const ct_feature *f);
/** @return 1 when the feature has a non-empty geometry. */
int ct_feature_has_geom(const ct_feature *f);
/**
 * The geometry as GEOS (owned by the feature; NULL when it has none or it is empty). Curves are
 * linearised; Z is kept. Errors (a geometry GEOS cannot read) return NULL with a message on ctx.
 */
const GEOSGeometry *ct_feature_geom(ct_ctx *ctx, ct_feature *f);
int ct_feature_is_null(const ct_feature *f, int i);
/** The raw bytes of field i as stored in the file (numbers formatted by OGR). Owned by f. */
const char *ct_feature_raw(const ct_feature *f, int i);
/** Field i decoded from the layer encoding into new UTF-8; free with free(). */
ct_status ct_feature_text(ct_ctx *ctx, const ct_feature *f, int i, char **utf8);
long long ct_feature_int(const ct_feature *f, int i);
double ct_feature_double(const ct_feature *f, int i);

/* ---------------------------------------------------------------------------------------- */

/** One field of a sink's schema. */
typedef struct ct_field_def {
    const char *name;
    ct_field_type type;
    int width; /**< 0: the driver's default */
    int precision;
} ct_field_def;

typedef struct ct_vsink ct_vsink;

/** What a sink writes; zero-initialised fields mean the defaults. */
typedef struct ct_vsink_opts {
    const char *driver;         /**< OGR driver; NULL: from the extension (.shp .gpkg .geojson
                                     .json .csv .sqlite .dgn .fgb) */
    const char *layer;          /**< layer name; NULL: "layer" */
    ct_geom_type gtype;
    const ct_crs *crs;          /**< NULL: none */
    const ct_field_def *fields;
    int nfields;
    /**
     * The encoding of the values handed to ct_vsink_write(). CT_ENC_UNKNOWN (0) or CT_ENC_UTF8:
     * UTF-8, declared as such (a shapefile gets a .cpg). Any other: the bytes are legacy text
     * written unchanged and undeclared, as old software wrote them (for test data).
     */
    ct_encoding text_encoding;
} ct_vsink_opts;

/**
 * Starts writing one layer to path. @return CT_OK and *out; nothing appears at path until
 * ct_vsink_commit().
 */
ct_status ct_vsink_create(ct_ctx *ctx, const char *path, const ct_vsink_opts *opts, ct_vsink **out);

/**
 * Writes one feature: geometry g (may be NULL) and values[nfields] as text (NULL = null),
 * converted to each field's type by OGR.
 */
ct_status ct_vsink_write(ct_ctx *ctx, ct_vsink *sink, const GEOSGeometry *g, const char *const *values);

/**
 * Closes the dataset, still in its temporary folder: a full disk or a driver error shows here,
 * before anything is in place. A caller that must commit something else too (a version of the
 * SDI) finishes first, commits that, then calls ct_vsink_commit(), which only renames. On
 * failure the sink still needs ct_vsink_abort().
 */
ct_status ct_vsink_finish(ct_ctx *ctx, ct_vsink *sink);

/** Finishes the dataset when ct_vsink_finish() has not, then renames its files into place;
 *  frees the sink whatever the result. */
ct_status ct_vsink_commit(ct_ctx *ctx, ct_vsink *sink);

/** Discards what was written and frees the sink; NULL is a no-op. */
void ct_vsink_abort(ct_vsink *sink);

#ifdef __cplusplus
}
#endif
#endif /* CT_VECTOR_H */
