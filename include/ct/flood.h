/*
 * ct/flood.h — flood scenarios: the scenario file, the connected "bathtub" inundation for
 * instant what-ifs, and a 2D local inertial model for real events. The library side of ct-flood.
 *
 * Scenarios
 * ---------
 * A scenario is a text file of "key = value" lines ('#' starts a comment; blank lines are
 * ignored; keys are case-sensitive, lower case). Paths are relative to the folder of the
 * scenario file. Any key may be overridden after loading (ct_scenario_set(), the tool's
 * --set KEY=VALUE and its dedicated options). Every value is checked when it is set: an error
 * names the file, the line and the key ("river.scn:12: level: '2.2x' is not a number"), or
 * "--set" for a value given on the command line. The keys are documented in ct-scenario(5) and
 * listed, with their types, by ct_scenario_keys().
 *
 * Bathtub (connected static inundation)
 * -------------------------------------
 * Water enters from the sources (seed points, cells whose ground is below a threshold — the
 * river and canal beds —, a vector layer of points, lines or polygons, or the domain edges) and
 * spreads to the 8 (or 4) neighbours whose ground lies below the water level. Dikes are burned
 * onto the DEM as crest heights, so that water passes a dike only where its crest is low or
 * broken. A cell's connection level L is the lowest water level at which it joins a source
 * (the minimax of the ground along all paths from a source); it floods at level H exactly when
 * L < H, compared in single precision (strictly, and with H rounded to float, as GRASS r.lake
 * does), with depth H - z. ct_flood_connect_level() computes L itself by a priority-flood; a
 * run, which needs only the first of its levels that floods each cell, fills level by level
 * in increasing order, each level's scanline fills starting from the shore where the previous
 * one stopped: every cell is visited once (O(cells), no queue ordering), any number of levels
 * cost one pass plus one comparison per cell each, and only cells that can flood at the
 * highest level are visited. The result does not depend on the visiting order, hence not on
 * threads either.
 *
 * Simulate (2D local inertial model)
 * ----------------------------------
 * The local inertial form of the shallow-water equations of Bates, Horritt & Fewtrell (2010,
 * J. Hydrol. 387) — LISFLOOD-FP's ACC solver — with the q-centred variant of de Almeida et al.
 * (2012, Water Resour. Res. 48) as an option: unit-width discharges on the cell faces updated
 * semi-implicitly with Manning friction, depths from continuity, an adaptive global time step
 * dt = alpha·dx/sqrt(g·hmax). Water-level boundaries (time series + SLR offset) hold the source
 * cells at the boundary level; inflow hydrographs enter at points (m³/s per metre of width, as
 * in LISFLOOD-FP) or along lines (m³/s for the line, shared among the cells it crosses in
 * proportion to its length in each); rain falls on every cell, uniform or per cell from a raster
 * or a series of rasters resampled onto the DEM grid (ct_grid_read_onto()), each in force from
 * its time to the next's, optionally scaled by a factor series. Uniform rain and a rain field
 * of the same mm/h give the same bits (both add mm/h × the step's depth per mm/h, in float).
 * The state is single precision in flat row-major arrays (structure of arrays).
 * A step updates, in each row, one span of columns: the row's wet cells and their neighbours,
 * which are exactly the cells that can change (a face carries flow only next to a wet cell), so
 * the results are those of updating the whole grid, bit for bit, at the cost of the wet area.
 * Rows go in bands of equal work to ct_ctx_threads() OpenMP threads; within a band the faces
 * of a row and the depths of the row above are computed in one pass, in vector loops (SSE2,
 * and an AVX2 clone that gives the same bits). Reductions (deepest cell, volumes) are per row
 * and combined in row order, so the results are the same bits whatever the thread count.
 *
 * Outputs go to a folder (opts->outdir); every file is written to a temporary name and renamed
 * into place when complete; a run that fails before its end writes nothing further and leaves
 * earlier results untouched.
 *
 * SDI: a later version will read the DEM, dikes and land use from the SDI and register the
 * outputs in it (opts->sdi, reserved below); this version works on files only.
 */
#ifndef CT_FLOOD_H
#define CT_FLOOD_H

#include <stdio.h>
#include "ct/context.h"
#include "ct/raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Scenario files                                                                            */

typedef struct ct_scenario ct_scenario;

/** The type of a scenario key's value, as checked by ct_scenario_set(). */
typedef enum ct_skey_type {
    CT_SKEY_TEXT = 0, /**< any text */
    CT_SKEY_PATH,     /**< a file path, relative to the scenario's folder */
    CT_SKEY_NUMBER,   /**< one number */
    CT_SKEY_NUMLIST,  /**< numbers separated by commas or spaces */
    CT_SKEY_DURATION, /**< seconds, or a number with a unit: 30s, 15min, 2h, 3d */
    CT_SKEY_CHOICE,   /**< one of a fixed list of words */
    CT_SKEY_INT       /**< a whole number */
} ct_skey_type;

/** One key of the scenario format. */
typedef struct ct_skey {
    const char *name;
    ct_skey_type type;
    const char *choices; /**< CT_SKEY_CHOICE: "bathtub|simulate"; otherwise NULL */
    const char *help;    /**< one line, as in ct-scenario(5) */
} ct_skey;

/** @return the table of known keys (static), with its length in *n. */
const ct_skey *ct_scenario_keys(int *n);

/** @return a new empty scenario whose relative paths resolve against dir (NULL: the current
 *  folder); free with ct_scenario_free(). NULL when out of memory. */
ct_scenario *ct_scenario_new(const char *dir);

/**
 * Reads a scenario file. @return CT_OK and *out (free with ct_scenario_free()), CT_ERR_IO when it
 * cannot be read, CT_ERR_FORMAT for a line that is not "key = value" or an unknown key, and
 * CT_ERR_INVALID for a value of the wrong type; messages read "FILE:LINE: KEY: what".
 */
ct_status ct_scenario_load(ct_ctx *ctx, const char *path, ct_scenario **out);

/** Frees a scenario; NULL is a no-op. */
void ct_scenario_free(ct_scenario *s);

/**
 * Sets key to value after checking it against the key's type; a later set replaces an earlier
 * one. where names the origin for messages ("FILE:LINE", "--set"; NULL: "--set"). Paths given
 * here resolve against the scenario's folder when where is a file position, and against the
 * current folder otherwise (a path typed on the command line means what the shell means).
 */
ct_status ct_scenario_set(ct_ctx *ctx, ct_scenario *s, const char *key, const char *value, const char *where);

/** Parses "KEY=VALUE" (as given to --set) and sets it. */
ct_status ct_scenario_set_arg(ct_ctx *ctx, ct_scenario *s, const char *arg);

/** The raw value of key, or NULL when unset. Owned by s. */
const char *ct_scenario_get(const ct_scenario *s, const char *key);

/** For a path key: the value resolved as described above (owned by s), or NULL when unset. */
const char *ct_scenario_path(const ct_scenario *s, const char *key);

/** The origin of key's value ("FILE:LINE" or "--set"), for messages; "" when unset. */
const char *ct_scenario_where(const ct_scenario *s, const char *key);

/** For a number, int or duration key: *v (durations in seconds). @return 1 when set, 0 when not
 *  (then *v is untouched). */
int ct_scenario_number(const ct_scenario *s, const char *key, double *v);

/**
 * For a number-list key: the numbers in a new array (free with free()) and their count.
 * @return CT_OK (*v NULL and *n 0 when unset).
 */
ct_status ct_scenario_numlist(ct_ctx *ctx, const ct_scenario *s, const char *key, double **v, int *n);

/* ---------------------------------------------------------------------------------------- */
/* Time series: "time,value" CSV (a header line is allowed; times as seconds or durations).   */

typedef struct ct_series {
    double *t; /**< seconds, strictly increasing */
    double *v;
    int n;
} ct_series;

/**
 * Reads a two-column CSV (comma, semicolon, tab or spaces) of time and value.
 * Times are seconds, durations (90min), or ISO 8601 date-times (2025-10-05T00:15:00+07:00), which
 * count from the first row. @return CT_OK, or
 * CT_ERR_INVALID naming FILE:LINE for a bad number or a time that does not increase.
 * Free the arrays with ct_series_free().
 */
ct_status ct_series_read(ct_ctx *ctx, const char *path, ct_series *out);
void ct_series_free(ct_series *s);
/** Linear interpolation at time t, held constant before the first and after the last point. */
double ct_series_at(const ct_series *s, double t);

/* ---------------------------------------------------------------------------------------- */
/* The run                                                                                   */

typedef enum ct_flood_model {
    CT_FLOOD_FROM_SCENARIO = 0, /**< the scenario's "model" key decides */
    CT_FLOOD_BATHTUB,
    CT_FLOOD_SIMULATE
} ct_flood_model;

typedef struct ct_flood_opts {
    ct_flood_model model;
    const char *scenario;        /**< scenario file; NULL: keys come from set[] only */
    const char *const *set;      /**< "KEY=VALUE" overrides, applied in order after the file */
    int nset;
    const char *outdir;          /**< output folder (created if missing); NULL: the "output" key,
                                      else "." */
    int json;                    /**< print the summary as JSON instead of a text table */
    int resume;                  /**< simulate: continue from the checkpoint in outdir */
    int no_depth;                /**< bathtub: write extents only, not depth rasters */
    int deflate;                 /**< bathtub: DEFLATE extents and Float32 depths instead of ZSTD
                                      (CT_COG_ZSTD), for readers without zstd; millimetre depths
                                      are DEFLATE either way (CT_COG_DEFLATE_HUFFMAN) */
    /**
     * bathtub: the depth rasters' cell type. NULL or "uint16": whole millimetres (UInt16, scale
     * 0.001, nodata 65535; GDAL, QGIS and ct_raster_read() see metres, within 0.0005 m), when
     * the deepest possible cell (highest level less lowest ground) is below 65.535 m, else
     * Float32; "float32": Float32 metres always. UInt16 halves the bytes to compress and
     * writes files about half the size: the Float32 depths of a noisy DEM hardly compress.
     */
    const char *depth_type;
    FILE *out;                   /**< where to print the summary; NULL: stdout */
    /**
     * The SDI (ct/sdi.h), or NULL. When set, scenario paths of the form "sdi:NAME" name its
     * layers and rasters, the DEM and the dikes default to "sdi:dem" and "sdi:dikes", and the
     * run's rasters are registered in it, in one version, as "<run>.<product>": bathtub
     * "<run>.depth-<level>" and "<run>.extent-<level>", simulate "<run>.max_depth",
     * "<run>.max_velocity", "<run>.time_of_max", "<run>.arrival_time", "<run>.duration",
     * "<run>.hazard".
     */
    const char *sdi;
    const char *run;        /**< the run's name in the SDI (default: the scenario file's base name) */
    const char *invocation; /**< the command line, for the SDI's version log */
} ct_flood_opts;

/**
 * Runs a scenario: loads it, applies the overrides, checks every input (a DEM with NaN cells or
 * no CRS, points off the grid, a non-monotonic series, a level below every cell, ... are errors
 * naming the file and key), runs the model and writes its outputs into outdir, then prints a
 * summary table (CSV-like text, or JSON with opts->json) to opts->out.
 * @return CT_OK, CT_ERR_USAGE (no DEM, no levels, ...), CT_ERR_INVALID, CT_ERR_IO, ...,
 * CT_ERR_CANCELLED; on any error no output of this run is left half-written.
 */
ct_status ct_flood_run(ct_ctx *ctx, const ct_flood_opts *opts);

/* ---------------------------------------------------------------------------------------- */
/* Building blocks, for tests and for other modules                                          */

/** Cell connectivity of the bathtub spread. */
typedef enum ct_connectivity { CT_CONN8 = 8, CT_CONN4 = 4 } ct_connectivity;

/**
 * The bathtub core: from a Float32 DEM (NaN = no data: never flooded, never passed) and a Byte
 * mask of source cells (non-zero = source), computes the Float32 connection level of every cell
 * (+inf for cells not connected at or below max_level; cells with L < H flood at level H).
 * @return CT_OK and *out (free with ct_grid_free()), CT_ERR_NOMEM, CT_ERR_CANCELLED.
 */
ct_status ct_flood_connect_level(ct_ctx *ctx, const ct_grid *dem, const ct_grid *sources, ct_connectivity conn,
                                 double max_level, ct_grid **out);

#ifdef __cplusplus
}
#endif
#endif /* CT_FLOOD_H */
