/*
 * ct/overlay.h — rasters × polygons and polygons × polygons: exact zonal statistics, polygon
 * overlay, plan conformance and flood impact reports. The library side of ct-overlay.
 *
 * Exact cell coverage
 * -------------------
 * Zonal statistics weight every cell by the fraction of its area that lies inside the polygon,
 * as exactextract does, not by "cell centre inside": the parcels of a dense city are a few cells
 * wide, and centre sampling misses or double-counts a large share of their area.
 *
 * The fractions are computed exactly (up to floating-point rounding) for straight-edged
 * polygons, holes and multipolygons, from Green's theorem: in cell coordinates (u = column,
 * v = row), the area of polygon ∩ cell [c, c+1] × [r, r+1] is the sum over the ring edges of
 * ∫ clamp(u, c, c+1) − c dv taken over the part of the edge inside the row [r, r+1]. Each edge
 * is cut at row and column lines; a piece in column k adds its exact trapezoid to cell k and its
 * full Δv to every cell left of it (one reverse prefix sum per row). The cost is linear in the
 * number of edge pieces plus cells of the polygon's bounding box, with no per-cell geometry
 * operation. exactextract, which uses the same idea, is not packaged in Debian 12, and a
 * per-cell GEOSIntersection is orders of magnitude slower, hence this implementation.
 * GEOS is still used to check validity and repair invalid input (GEOSMakeValid).
 *
 * ct_overlay_run(), mode zonal
 * ----------------------------
 * Polygons of any OGR layer (transformed into the raster's CRS with ct_transform_*, so with the
 * official VN-2000 operation) × one band of one or more GDAL rasters. The polygons are read once
 * and sorted by their first row; each raster is then read once, in full-width strips one block
 * row high (memory bounded by a strip, not by the raster), and each strip updates the
 * statistics of the polygons it touches, in parallel over polygons. Rasters on the same grid
 * (the scenarios of one flood run) share one pass and one computation of the fractions.
 * Every polygon's sums run in a fixed order, so the output is the same whatever the threads.
 *
 * Statistics per polygon and raster (areas in square units of the raster CRS, weights w are
 * coverage fractions, "valid" cells are those not equal to the band's nodata and not NaN):
 *   poly_area      area of the polygon (in the raster CRS)
 *   area           Σ w · cell area over all raster cells, nodata included (the part of the
 *                  polygon over the raster)
 *   nodata_area    the same over nodata cells
 *   count          Σ w over valid cells (weighted cell count)
 *   sum, mean      Σ w·v and Σ w·v / Σ w over valid cells (count and sum are in cells, as in
 *                  exactextract: the same field on a grid twice as fine sums 4 times as many)
 *   min, max       over valid cells with w > 0
 *   majority       the value with the largest Σ w (ties: the smaller value); only when asked
 *   wet_area       area of valid cells with v > wet (default 0: "flooded")
 *   wet_frac       wet_area / (area − nodata_area)
 *   class areas    area of valid cells with lo < v <= hi for consecutive class breaks (default
 *                  0, 0.2, 0.5, 1.0: depth classes 0–0.2, 0.2–0.5, 0.5–1.0 and > 1.0 m)
 *   above areas    area of valid cells with v > t for each threshold t asked for
 * A polygon outside every raster gets area 0 and empty (null) mean, min, max.
 *
 * ct_overlay_run(), mode intersect
 * --------------------------------
 * Parcels × zones (e.g. planning zones): the zones are loaded (transformed into the parcels' CRS
 * when it differs), indexed in a GEOS STRtree and prepared; each parcel is then streamed and
 * gets one output row per distinct zone value (zone_field, e.g. the planned use) it overlaps,
 * with the overlapping area and its fraction of the parcel. A parcel inside a zone costs one
 * prepared "contains" test; only parcels crossing a zone boundary are intersected.
 *
 * ct_overlay_run(), mode conformance
 * ----------------------------------
 * The same overlay, keeping only the conflicts: for each parcel whose current land-use code
 * (use_field, default "MucDich") is not compatible with the planned code of a zone it overlaps
 * (zone_field, default "MaQH"), one row per conflicting planned code with the conflicting area
 * and its fraction of the parcel. Compatibility is ct_landuse_compatible() of ct/landuse.h
 * (TT 08/2024 codes, older codes mapped first; the rules are listed there and in ct-overlay(1)).
 * Parts of parcels in no zone are not conflicts.
 *
 * ct_overlay_run(), mode impact
 * -----------------------------
 * A flood-depth raster (rasters[0], or every depth raster of a flood run in the SDI) × the
 * parcels (polygons), any number of ward layers (wards[]) and the planning zones (zones),
 * written as a report folder (output): the files are made in a temporary folder beside it and
 * renamed into it when all are complete (and, with an SDI, after its version is committed).
 *   wards-NAME.csv/.geojson  per ward: covered, nodata and flooded area, area per depth class,
 *                        and the parcels (assigned by their centroid) by class of maximum depth
 *   zones.csv/.geojson   the same per planning zone
 *   landuse-NAME.csv     per ward and land-use code: the flooded area by depth class of the
 *                        parts of parcels inside the ward (parcels cut at ward boundaries with
 *                        GEOS); a last row per ward, code "-", holds the flooded area outside
 *                        every parcel (roads, rivers, gaps), so the rows of a ward add up to
 *                        its flooded area
 *   landuse.csv          per land-use code (use_field, normalised to TT 08/2024): parcels,
 *                        parcels flooded, their area, flooded area and area per depth class
 *   parcels-by-class.csv parcels by the class of their maximum depth (dry when none is wet)
 *   parcels-deep.csv     the parcels whose maximum depth exceeds threshold, deepest first
 *   summary.md           a short Markdown report for decision makers
 *   chart.png            flooded area by ward (first ward layer) and depth class (cairo);
 *   chart-NAME.png       the same for the other ward layers and the zones (chart-zones.png)
 * Depth classes, the wet level and the copied fields are those of the zonal mode.
 *
 * The SDI
 * -------
 * With sdi set, any raster, polygon, zone or ward operand may be "sdi:NAME" (ct_sdi_resolve():
 * a layer's current features, or a raster of the catalogue); the SDI's restricted columns
 * (ct_sdi_field_restricted()) are left out like the personal fields, and so are its
 * bookkeeping columns v_from, v_to and digest. impact with run set takes the run's depth
 * rasters from the catalogue instead of rasters[]: "<run>.max_depth" (ct-flood simulate) and
 * every "<run>.depth-LEVEL" (bathtub; one sub-folder of the report per level, named after the
 * product). Its defaults then come from the SDI: parcels sdi:parcels (use field landuse),
 * zones sdi:planning_zones, and for wards the ward-level units of admin_units (level NULL or
 * not a district, province or city) split by validity: "ward_2024", valid on 2025-06-30, and
 * "ward_2025", valid on 2025-07-01 (the merger of 1 July 2025). A default layer that misses
 * the raster is reported with no flooded area (a warning), not an error.
 * Result tables are written in one SDI version (kind "overlay"; all or nothing):
 *   zonal with table: the output rows as table `table` (no CSV on out unless output is given)
 *   impact with run or table: PREFIX_ward_2024 ... (one per ward layer, "PREFIX_wards_NAME" for
 *   layers from files), PREFIX_zones, PREFIX_landuse, PREFIX_landuse_ward_2024 ...,
 *   PREFIX_parcels_by_class and PREFIX_parcels_deep, where PREFIX is table or "impact_<run>"
 *   (plus "_<product>" per bathtub level, however many levels), lower-cased with other
 *   characters made "_"; a name over 60 characters is CT_ERR_USAGE before any computing. impact
 *   holds its rows until the report is complete and only then opens the version, so that the
 *   SDI is not locked against other writers while it computes. table or run with a mode that
 *   does not use them is CT_ERR_USAGE.
 *
 * Restricted fields
 * -----------------
 * Owner names and identity numbers (TenChu, ChuSuDung, HoTen, CMND, CCCD ... and string fields
 * whose values look like 9- or 12-digit ID numbers) are never copied to any output unless named
 * in fields[]. ct_sdi_field_personal() (ct/sdi.h) says which names are.
 */
#ifndef CT_OVERLAY_H
#define CT_OVERLAY_H

#include <stdio.h>
#include <geos_c.h>
#include "ct/context.h"
#include "ct/raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Coverage fractions of polygon g (Polygon, MultiPolygon or a collection of them; other parts
 * are ignored) on the grid of geotransform gt (north-up: gt[2] == gt[4] == 0), for the window
 * of cells [col0, col0 + ncols) × [row0, row0 + nrows). g is in the grid's CRS and must be
 * valid (holes inside their shell, no self-intersection): overlapping parts would count twice.
 * frac[r * ncols + c] receives the fraction in [0, 1] of cell (col0 + c, row0 + r) inside g.
 * The window may reach outside any raster: the grid is infinite.
 * @return CT_OK, CT_ERR_UNSUPPORTED for a rotated grid, CT_ERR_USAGE for an empty window,
 * CT_ERR_NOMEM.
 */
ct_status ct_coverage_fractions(ct_ctx *ctx, const GEOSGeometry *g, const double gt[6], int col0,
                                int row0, int ncols, int nrows, double *frac);

/** At most this many class breaks and thresholds. */
#define CT_ZONAL_MAX_CLASSES 16

/** What to compute besides the always-present statistics; zero-initialised means defaults. */
typedef struct ct_zonal_params {
    const double *classes; /**< increasing class breaks; NULL: 0, 0.2, 0.5, 1.0 */
    int nclasses;          /**< number of breaks (classes: one fewer, plus "> last") */
    const double *above;   /**< thresholds for "area above"; may be NULL */
    int nabove;
    double wet;            /**< a valid cell is wet when its value > wet (default 0) */
    int majority;          /**< compute the majority value */
} ct_zonal_params;

/** The statistics of one polygon over one raster (see the table above). */
typedef struct ct_zonal_stats {
    double poly_area, area, nodata_area, count, sum, mean, min, max, majority;
    double wet_area, wet_frac;
    double class_area[CT_ZONAL_MAX_CLASSES]; /**< nclasses entries: (b0,b1], ..., (b_last, inf) */
    double above_area[CT_ZONAL_MAX_CLASSES];
} ct_zonal_stats;

/**
 * Statistics of one polygon (in the grid's CRS, valid) over a grid in memory: the same
 * computation as the zonal mode, for library callers and tests. p may be NULL.
 * @return CT_OK, or the errors of ct_coverage_fractions(); CT_ERR_USAGE for bad classes.
 */
ct_status ct_zonal_grid(ct_ctx *ctx, const GEOSGeometry *g, const ct_grid *grid,
                        const ct_zonal_params *p, ct_zonal_stats *out);

typedef enum ct_overlay_mode {
    CT_OVERLAY_ZONAL = 1, /**< rasters × polygons */
    CT_OVERLAY_INTERSECT, /**< parcels × zones */
    CT_OVERLAY_CONFORMANCE, /**< parcels × zones, conflicts with the plan only */
    CT_OVERLAY_IMPACT       /**< a flood raster × parcels and wards: a report folder */
} ct_overlay_mode;

typedef struct ct_overlay_opts {
    ct_overlay_mode mode;
    /* inputs */
    const char *const *rasters; /**< zonal: raster paths (any GDAL raster) */
    int nrasters;
    int band;                   /**< zonal: band read from each raster; 0: 1 */
    const char *raster_srs;     /**< CRS for rasters that have none (ct_crs_from_user); NULL */
    const char *polygons;       /**< zonal: the zones; intersect: the parcels (any OGR source) */
    const char *layer;          /**< layer of polygons; NULL: the first */
    const char *layer_srs;      /**< CRS for a polygon layer that has none; NULL */
    const char *zones;          /**< intersect: the overlay polygons; impact: planning zones */
    const char *zones_layer;    /**< intersect: layer of zones; NULL: the first */
    const char *zone_field;     /**< intersect: zone attribute to group by; NULL: the zone fid
                                     (conformance: the planned use; NULL: "MaQH") */
    const char *use_field;      /**< conformance, impact: the parcels' current use; NULL: "MucDich" */
    const char *const *wards;   /**< impact: administrative unit layers (pre- and post-2025 wards) */
    int nwards;
    double threshold;           /**< impact: list parcels whose maximum depth exceeds it; 0: 0.5 */
    const char *const *fields;  /**< attributes copied to the output; NULL: all not restricted */
    int nfields;
    ct_zonal_params params;     /**< zonal statistics to compute */
    /* outputs */
    const char *output;         /**< .csv .geojson .gpkg ... (ct_vsink); NULL or "-": CSV on out;
                                     impact: the report folder (required) */
    const char *output_layer;   /**< layer name in the output; NULL: "zonal" / "intersect" */
    int json;                   /**< print a JSON summary on out (with output: no CSV on out) */
    FILE *out;                  /**< stdout when NULL */
    /* the SDI (members added after the file-only modes: zero means none) */
    const char *sdi;            /**< the SDI file: "sdi:NAME" operands, run, result tables */
    const char *run;            /**< impact: a flood run of the SDI, instead of rasters[] */
    const char *table;          /**< zonal: result table name; impact: the tables' prefix */
    const char *invocation;     /**< the command line, for the SDI's version log */
} ct_overlay_opts;

/**
 * Runs ct-overlay. Polygons outside every raster, empty geometries and invalid ones (repaired
 * with GEOSMakeValid) are reported through the log and still get their row; the status is then
 * CT_REJECTED only for geometries that could not be used at all (empty or unrepairable).
 * @return CT_OK; CT_ERR_USAGE for bad options; CT_ERR_IO / CT_ERR_FORMAT naming an input that
 * cannot be read; CT_ERR_CRS when one side has no CRS and none was given (or it cannot be
 * transformed); CT_ERR_INVALID when no polygon overlaps any raster (nothing is written);
 * CT_ERR_CANCELLED; CT_REJECTED as above (the output is written).
 */
ct_status ct_overlay_run(ct_ctx *ctx, const ct_overlay_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* CT_OVERLAY_H */
