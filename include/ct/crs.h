/*
 * ct/crs.h — coordinate reference systems, with VN-2000 done right.
 *
 * Why this module exists
 * ----------------------
 * Vietnamese cadastral and planning maps use VN-2000 with the 3° Transverse Mercator zones of
 * Circular 973/2001 (k = 0.9999, false easting 500 000 m, a central meridian per province: Cần
 * Thơ 105°00′). Two things go wrong with a plain PROJ/GDAL set-up, and this module fixes both:
 *
 *  1. The datum shift. The official VN-2000 → WGS 84 parameters are those of Decision
 *     05/2007/QĐ-BTNMT (EPSG:6960). In the Mekong delta PROJ picks EPSG:5194 by default, about
 *     0.8 m away. Every ct_transform that crosses the VN-2000 datum uses EPSG:6960 — in PROJ's
 *     +towgs84 (position vector) form:
 *       +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278
 *  2. Recognition. .prj files from Vietnamese software often describe a zone as a custom
 *     Transverse Mercator on the WGS 84 ellipsoid (datum "WGS 84" or unnamed) with k = 0.9999 and
 *     the zone's meridian; such a CRS is recognised as the VN-2000 zone it really is.
 *
 * Names accepted by ct_crs_from_user():
 *   vn2000:105, vn2000:105.5, vn2000:104.75, vn2000:105-30, vn2000:105d30 ...  a TM-3 zone by meridian
 *   vn2000          the VN-2000 geographic CRS (EPSG:4756)
 *   EPSG:n          any EPSG code (VN-2000 codes get the official transformation)
 *   WKT, PROJ strings, or the path of a .prj / WKT file
 *
 * Coordinates are always in GIS order: x = easting or longitude, y = northing or latitude.
 *
 * Threads: every ct_crs and ct_transform carries its own PROJ context, so different objects may
 * be used on different threads at once; one object is used by one thread at a time (clone a
 * ct_crs for another thread; a ct_transform does not depend on the CRSs it was built from).
 */
#ifndef CT_CRS_H
#define CT_CRS_H

#include <stddef.h>
#include "ct/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_crs ct_crs;
typedef struct ct_transform ct_transform;

/** One VN-2000 TM-3 zone of the built-in table. */
typedef struct ct_vn2000_zone {
    double meridian;      /**< central meridian, degrees east (105.5 for 105°30′) */
    int epsg;             /**< its EPSG projected CRS code, 0 if EPSG has none */
    const char *name;     /**< "vn2000:105" */
    const char *provinces;/**< the provinces that use it, for messages and docs */
} ct_vn2000_zone;

/** @return the table of VN-2000 TM-3 zones ctgis knows, with its length in *n. Static data. */
const ct_vn2000_zone *ct_vn2000_zones(size_t *n);

/**
 * Makes a CRS from what a user may type (see the list above). @return CT_OK and *out (free with
 * ct_crs_free()), or CT_ERR_CRS with a message quoting def.
 */
ct_status ct_crs_from_user(ct_ctx *ctx, const char *def, ct_crs **out);

/**
 * Makes a CRS from a dataset's WKT (WKT1, ESRI WKT of a .prj, or WKT2), recognising a VN-2000
 * zone when the WKT describes one (including a custom TM on WGS 84 with k = 0.9999).
 */
ct_status ct_crs_from_wkt(ct_ctx *ctx, const char *wkt, ct_crs **out);

/** Frees a CRS; NULL is a no-op. */
void ct_crs_free(ct_crs *crs);

/** @return a copy of crs; free with ct_crs_free(). */
ct_crs *ct_crs_clone(const ct_crs *crs);

/** A human name: "VN-2000 / TM-3 105-00 (vn2000:105, EPSG:5897)", "WGS 84 (EPSG:4326)". */
const char *ct_crs_name(const ct_crs *crs);

/** The EPSG code, or 0 when it has none (or is a custom CRS not recognised as one). */
int ct_crs_epsg(const ct_crs *crs);

/** @return the zone when crs is (or was recognised as) a VN-2000 TM-3 zone, else NULL. */
const ct_vn2000_zone *ct_crs_vn2000_zone(const ct_crs *crs);

/** @return 1 when crs is on the VN-2000 datum (geographic, TM-3, UTM), including recognised
 *  custom TM definitions. */
int ct_crs_is_vn2000(const ct_crs *crs);

/** @return 1 for geographic (degrees) CRSs. */
int ct_crs_is_geographic(const ct_crs *crs);

/**
 * @return 1 when a program that transforms this CRS to WGS 84 by its EPSG definition alone
 * (GDAL, QGIS, PROJ defaults) would use EPSG:5194 rather than the official EPSG:6960 — that is,
 * a VN-2000 CRS with no explicit TOWGS84 of the official parameters. ct-info warns on it.
 * ctgis's own names (vn2000, vn2000:105 ...) stand for the official shift and give 0; so does
 * a TM-3 zone recognised from a .prj on the WGS 84 datum (other software shifts it not at all).
 */
int ct_crs_default_uses_5194(const ct_crs *crs);

/**
 * WKT for writing datasets: WKT1 as GDAL writes it, with the official TOWGS84 on VN-2000 CRSs
 * so that other software reading the file applies the same shift. Owned by crs.
 */
const char *ct_crs_wkt(const ct_crs *crs);

/** @return 1 when a and b describe the same CRS (same zone, same datum and units). */
int ct_crs_equal(const ct_crs *a, const ct_crs *b);

/**
 * Builds the transformation from src to dst. Whenever one side is on the VN-2000 datum and the
 * other is not, the datum step is the official EPSG:6960; within one datum no shift is applied.
 * @return CT_OK and *out (free with ct_transform_free()), or CT_ERR_CRS.
 */
ct_status ct_transform_new(ct_ctx *ctx, const ct_crs *src, const ct_crs *dst, ct_transform **out);

/** Frees a transformation; NULL is a no-op. */
void ct_transform_free(ct_transform *t);

/** The PROJ definition of the operation used (for tests, logs and ct-info). Owned by t. */
const char *ct_transform_definition(const ct_transform *t);

/**
 * Transforms n points in place; z may be NULL. @return CT_OK, or CT_ERR_CRS naming the first
 * point that could not be transformed (its coordinates become HUGE_VAL).
 */
ct_status ct_transform_points(ct_ctx *ctx, ct_transform *t, size_t n, double *x, double *y, double *z);

/** The inverse direction of ct_transform_points(); it undoes the forward direction to 1e-12
 *  (PROJ's own inverse of a datum shift can differ from it by ~0.1 mm). */
ct_status ct_transform_points_inv(ct_ctx *ctx, ct_transform *t, size_t n, double *x, double *y, double *z);

/**
 * Transforms a bounding box (minx, miny, maxx, maxy) with its edges densified (21 points per
 * side), so that curved edges are enclosed. in and out may be the same array.
 */
ct_status ct_transform_bounds(ct_ctx *ctx, ct_transform *t, const double in[4], double out[4]);

#ifdef __cplusplus
}
#endif
#endif /* CT_CRS_H */
