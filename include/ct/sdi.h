/*
 * ct/sdi.h — the city's spatial-data infrastructure: one store, a documented schema, a catalogue,
 * versions with a change log, rejects and restricted fields.
 *
 * The store
 * ---------
 * An SDI is one SpatiaLite database file (e.g. city.sqlite) plus a folder of Cloud-Optimized
 * GeoTIFFs beside it (city.sqlite.rasters/), or the same schema in a PostgreSQL/PostGIS database
 * named "PG:<libpq connection string>" (e.g. "PG:dbname=city host=db.example") with a raster
 * folder recorded at creation. It has one CRS, chosen at creation (default VN-2000 / TM-3
 * 105°00′). SQLite runs in WAL mode and PostgreSQL is MVCC, so other processes read the SDI
 * while an ingest writes it and see either the version before or the version after, never a mix.
 *
 * The schema (see ct-sdi(1), SCHEMA) has four feature layers — parcels, planning_zones,
 * admin_units, dikes — and the tables:
 *
 *   sdi_meta      key/value: schema version, CRS, SRID
 *   sdi_version   one row per version: time, command line, kind, source, counts, undo links
 *   sdi_source    the catalogue: per layer and source file, its title, checksum, source CRS and
 *                 encoding, licence note, feature count, extent, and the version that loaded it
 *   sdi_change    the change log: per version, each feature added, changed or removed, with
 *                 its bounding box (ct-tile regenerates only the tiles these touch)
 *   sdi_reject    every feature that could not be loaded: source, id, reason, raw attributes
 *   sdi_report    findings on loaded features: repaired geometry, overlaps, gaps, area
 *                 mismatches, duplicate numbers, mapped land-use codes
 *   sdi_field     the layers' fields, with the restricted ones (owner names, ID numbers) marked
 *   sdi_raster    the raster catalogue: DEMs and derived rasters, per version
 *   admin_crosswalk  old (before 1 July 2025) to new administrative unit codes
 *
 * Feature history: every layer row carries v_from and v_to (NULL while current). A change
 * closes the old row and adds a new one, so earlier versions stay queryable and an ingest can
 * be undone. The views <layer>_current hold the current features; OGR, SpatiaLite and PostGIS see
 * them as layers, so any GIS can read the SDI directly.
 *
 * All writes of one ingest happen between ct_sdi_begin() and ct_sdi_commit(), in one database
 * transaction: a failed or killed ingest leaves the SDI as it was.
 */
#ifndef CT_SDI_H
#define CT_SDI_H

#include <stdio.h>
#include <geos_c.h>
#include "ct/context.h"
#include "ct/crs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_sdi ct_sdi;

/** The feature layers of the schema. */
typedef enum ct_sdi_layer {
    CT_SDI_PARCELS = 0,
    CT_SDI_ZONES,
    CT_SDI_ADMIN,
    CT_SDI_DIKES,
    CT_SDI_NLAYERS
} ct_sdi_layer;

/** A column of a layer's schema. */
typedef struct ct_sdi_column {
    const char *name;        /**< "parcel_no" */
    const char *sql_type;    /**< "TEXT", "REAL", "INTEGER" */
    int restricted;          /**< personal data: never written out unless named */
    const char *aliases;     /**< source field names mapped onto it, '|'-separated, case-insensitive */
    const char *description;
} ct_sdi_column;

/** A layer's schema. */
typedef struct ct_sdi_layer_def {
    const char *name;        /**< table name: "parcels" */
    const char *kind;        /**< ct-ingest kind: "cadastral" */
    const char *geom_type;   /**< "MULTIPOLYGON", "MULTILINESTRING" */
    const ct_sdi_column *columns;
    int ncolumns;
    const char *title;
} ct_sdi_layer_def;

/** The schema of layer l (static). */
const ct_sdi_layer_def *ct_sdi_layer_schema(ct_sdi_layer l);
/** The layer whose table name or ingest kind is name; -1 when none. */
int ct_sdi_layer_by_name(const char *name);

/**
 * Creates a new SDI at path with CRS crs (NULL: vn2000:105). path is a file that must not exist,
 * or "PG:" and a libpq connection string naming an existing database whose current schema has
 * no SDI yet. raster_dir is the folder of the SDI's rasters, recorded as an absolute path; NULL:
 * "<path>.rasters" beside a file, "<database>.rasters" in the working folder for PostgreSQL.
 * @return CT_OK and *out (close with ct_sdi_close()).
 */
ct_status ct_sdi_create(ct_ctx *ctx, const char *path, const ct_crs *crs, const char *raster_dir, ct_sdi **out);

/** Opens an existing SDI (a file or "PG:<connection string>"); CT_ERR_IO when path is missing or
 *  the server cannot be reached, CT_ERR_DB when it is not an SDI. */
ct_status ct_sdi_open(ct_ctx *ctx, const char *path, ct_sdi **out);

/** Closes an SDI (rolling back an open transaction); NULL is a no-op. */
void ct_sdi_close(ct_sdi *sdi);

/** The SDI as named when opened, for messages (a connection string shows no password). */
const char *ct_sdi_path(const ct_sdi *sdi);
const ct_crs *ct_sdi_crs(const ct_sdi *sdi);
/** The folder of the SDI's rasters (see ct_sdi_create()). */
const char *ct_sdi_raster_dir(const ct_sdi *sdi);
/**
 * The SDI's area (minx, miny, maxx, maxy in its CRS): features wholly outside it are rejected
 * as out of area. Set at creation to the bounding box of Cần Thơ city before the 2025 merger
 * (105.20–105.87 E, 9.90–10.35 N, about 2 km of margin).
 */
void ct_sdi_area(const ct_sdi *sdi, double b[4]);
/** The latest version number (0 for a new SDI). */
long long ct_sdi_current_version(const ct_sdi *sdi);
/** The sqlite3 handle, for modules that query the schema directly; NULL on PostgreSQL. */
void *ct_sdi_db(ct_sdi *sdi);

/* ---------------------------------------------------------------------------------------- */
/* Writing: one version per transaction.                                                     */

/**
 * Starts a version: opens the transaction and adds its sdi_version row. command is the command
 * line that made it, kind and source describe it. *version receives its number.
 */
ct_status ct_sdi_begin(ct_ctx *ctx, ct_sdi *sdi, const char *command, const char *kind,
                       const char *source, long long *version);
/** Commits the version, after writing its counts into sdi_version. */
ct_status ct_sdi_commit(ct_ctx *ctx, ct_sdi *sdi);
/** Abandons the version: nothing of it remains. */
void ct_sdi_rollback(ct_sdi *sdi);

/** What ct_sdi_put() did. */
typedef enum ct_sdi_op {
    CT_SDI_SAME = 0,  /**< an identical current feature: left alone */
    CT_SDI_ADDED,
    CT_SDI_CHANGED,   /**< the current feature was superseded */
    CT_SDI_DUPLICATE  /**< this version already put a feature under this key: nothing written */
} ct_sdi_op;

/**
 * Puts one feature of source into layer under the natural key `key` (unique among the current
 * features of the layer): values[] follow the layer schema's columns (NULL = null), geom is in
 * the SDI CRS. An identical current feature is left alone (CT_SDI_SAME); a different one is
 * superseded (CT_SDI_CHANGED); a new key is added. The change log records the bounding box.
 * A key this version already put is a duplicate in the source (CT_SDI_DUPLICATE): the caller
 * rejects it or puts it again under another key. A geometry of the wrong kind for the layer
 * (lines into a polygon layer, say) is an error (CT_ERR_FORMAT). No memory grows with the
 * source.
 */
ct_status ct_sdi_put(ct_ctx *ctx, ct_sdi *sdi, ct_sdi_layer layer, const char *source,
                     const char *key, const GEOSGeometry *geom, const char *const *values,
                     ct_sdi_op *op);

/**
 * Removes the current features of source in layer that this version did not put: they were
 * dropped from the source. @return CT_OK and the count in *removed.
 */
ct_status ct_sdi_remove_unseen(ct_ctx *ctx, ct_sdi *sdi, ct_sdi_layer layer, const char *source,
                               long long *removed);

/** Records a rejected feature (attributes: a JSON object text of the raw values, may be NULL). */
ct_status ct_sdi_reject(ct_ctx *ctx, ct_sdi *sdi, ct_sdi_layer layer, const char *source,
                        const char *source_id, const char *reason, const char *attributes);

/** Records a finding on a loaded feature: kind ("repaired", "overlap", "gap", "area_mismatch",
 *  "duplicate_number", "code_mapped"), a value (an area in m², NAN when none) and a detail. */
ct_status ct_sdi_report(ct_ctx *ctx, ct_sdi *sdi, ct_sdi_layer layer, const char *source,
                        const char *key, const char *kind, double value, const char *detail);

/** One catalogue entry, written with ct_sdi_register_source(). */
typedef struct ct_sdi_source_info {
    const char *name;        /**< the source's name in the catalogue: its file name */
    const char *title;
    const char *path;        /**< the file as given */
    const char *checksum;    /**< SHA-256 of its files */
    const char *source_crs;  /**< CRS name */
    const char *encoding;    /**< text encoding name */
    const char *licence;
    long long features;      /**< loaded */
    double extent[4];        /**< in the SDI CRS */
} ct_sdi_source_info;

/** Adds the catalogue row of a source (or raster) loaded by the open version. */
ct_status ct_sdi_register_source(ct_ctx *ctx, ct_sdi *sdi, const char *layer,
                                 const ct_sdi_source_info *info);

/**
 * The checksum with which source was last loaded into layer and not undone, or NULL (free with
 * free()). Re-ingesting a source whose checksum is unchanged is a no-op.
 */
char *ct_sdi_source_checksum(ct_ctx *ctx, ct_sdi *sdi, const char *layer, const char *name);

/**
 * Registers a raster in the open version: moves the COG file `cog` (written beside the SDI
 * by the caller) to the raster folder as <name>.v<version>.tif and catalogues it. The file
 * is moved only when ct_sdi_commit() succeeds; ct_sdi_rollback() deletes it.
 */
ct_status ct_sdi_register_raster(ct_ctx *ctx, ct_sdi *sdi, const char *name, const char *cog,
                                 const ct_sdi_source_info *info);

/** The path of the current file of raster name (free with free()), or NULL with CT_ERR_INVALID. */
ct_status ct_sdi_raster_path(ct_ctx *ctx, ct_sdi *sdi, const char *name, char **path);

/**
 * Registers a copy of file (a COG the caller keeps: a hard link where the file system allows)
 * as raster name in the open version, as ct_sdi_register_raster() does. Tools that write their
 * results to an output folder (ct-flood) register them with this.
 */
ct_status ct_sdi_add_raster(ct_ctx *ctx, ct_sdi *sdi, const char *name, const char *file,
                            const ct_sdi_source_info *info);

/* ---------------------------------------------------------------------------------------- */
/* Reading the SDI from other tools                                                          */
/*
 * Tools name SDI inputs as "sdi:NAME": a layer (parcels, planning_zones, admin_units, dikes, or
 * the ingest kinds cadastral, planning, admin) means its current features; any other name is a
 * raster of the catalogue ("dem", or a flood run's "<run>.max_depth"). Derived rasters are
 * named "<run>.<product>", so that one run's rasters share the prefix "<run>.".
 */

/** The NAME of an "sdi:NAME" argument, or NULL when arg does not start with "sdi:". */
const char *ct_sdi_ref(const char *arg);

/** What an SDI name resolves to. */
typedef struct ct_sdi_input {
    char *path;  /**< for a layer, "SDI|layername=LAYER" as ct_vsource_open() takes it; for a
                      raster, its COG */
    char *layer; /**< the OGR layer of a feature layer ("parcels_current"); NULL for a raster */
} ct_sdi_input;

/** Resolves NAME (without "sdi:"); CT_ERR_INVALID naming it when the SDI has no such layer
 *  or raster. Free with ct_sdi_input_free(). */
ct_status ct_sdi_resolve(ct_ctx *ctx, ct_sdi *sdi, const char *name, ct_sdi_input *in);
void ct_sdi_input_free(ct_sdi_input *in);

/** One current raster of the catalogue. */
typedef struct ct_sdi_raster_entry {
    const char *name;
    const char *path;  /**< its COG */
    const char *title;
    long long version; /**< the version that registered it */
} ct_sdi_raster_entry;
typedef ct_status (*ct_sdi_raster_fn)(void *user, const ct_sdi_raster_entry *r);

/** Calls fn for each current raster whose name starts with prefix (NULL: all), by name. */
ct_status ct_sdi_rasters(ct_ctx *ctx, ct_sdi *sdi, const char *prefix, ct_sdi_raster_fn fn, void *user);

/** One row of the change log. */
typedef struct ct_sdi_change {
    long long version;
    const char *layer; /**< a layer's table name, or "rasters" for a raster added or replaced */
    const char *key;   /**< the feature's natural key, or the raster's name */
    const char *op;    /**< "add", "change" or "remove" */
    double bbox[4];    /**< minx, miny, maxx, maxy in the SDI CRS (old and new extent together);
                            NAN when unknown */
} ct_sdi_change;
typedef ct_status (*ct_sdi_change_fn)(void *user, const ct_sdi_change *c);

/** Calls fn for each change of the versions after `since`, in version order. */
ct_status ct_sdi_changes(ct_ctx *ctx, ct_sdi *sdi, long long since, ct_sdi_change_fn fn, void *user);

/**
 * Result tables: attribute tables a tool writes into the SDI in the open version (zonal
 * statistics, impact reports), joined to the layers by their keys and catalogued in sdi_table
 * (name, version, title, command, rows). Writing a table replaces the current table of that
 * name; tables of the schema are refused. Names: lower-case letters, digits and _. Undo does
 * not restore an earlier result table: run the tool again.
 */
typedef struct ct_sdi_table ct_sdi_table;

/** Creates table name with columns[] of types[] ("TEXT", "REAL", "INTEGER"). */
ct_status ct_sdi_table_create(ct_ctx *ctx, ct_sdi *sdi, const char *name, const char *title,
                              const char *const *columns, const char *const *types, int ncolumns,
                              ct_sdi_table **out);
/** Adds one row: values[] as text (NULL = null), converted to the column types. */
ct_status ct_sdi_table_add(ct_ctx *ctx, ct_sdi_table *t, const char *const *values);
/** Records the row count and frees t. */
ct_status ct_sdi_table_close(ct_ctx *ctx, ct_sdi_table *t);
/** Frees t without recording it (the version's rollback removes the table); NULL is a no-op. */
void ct_sdi_table_free(ct_sdi_table *t);

/* ---------------------------------------------------------------------------------------- */

/**
 * Undoes version `version`: a new version restores every feature it added, changed or removed
 * to its state before, and its rasters and catalogue rows stop being current. Refused
 * (CT_ERR_INVALID, naming a feature) when a later version changed the same features.
 * *undo_version receives the new version's number.
 */
ct_status ct_sdi_undo(ct_ctx *ctx, ct_sdi *sdi, long long version, const char *command,
                      long long *undo_version);

/**
 * @return 1 when a field of that name holds personal data (owner names, ID numbers) wherever it
 * comes from: the SDI's restricted columns (owner, owner_id), the source names they are mapped
 * from (TenChu, ChuSuDung, CMND, CCCD, ...), and other names cadastral exports use for them.
 * Case-insensitive. Every tool leaves such fields out of its outputs unless an option names them.
 */
int ct_sdi_field_personal(const char *name);

/** @return 1 when field of layer is restricted (personal data). */
int ct_sdi_field_restricted(const ct_sdi *sdi, const char *layer, const char *field);

/* ---------------------------------------------------------------------------------------- */
/* ct-sdi as a library call                                                                  */

typedef struct ct_sdi_opts {
    const char *command;        /**< init, status, check, history, undo, export */
    const char *sdi;
    const char *const *args;    /**< the command's operands */
    int nargs;
    const char *srs;            /**< init: the SDI CRS (default vn2000:105) */
    const char *rasters;        /**< init: the raster folder (default: see ct_sdi_create()) */
    const char *layer;          /**< history: the layer of --key (default parcels) */
    const char *key;            /**< history: one feature's natural key, e.g. "12/345" */
    const char *format;         /**< export: OGR driver (default: from the extension) */
    const char *const *include; /**< export: restricted fields to write all the same */
    int ninclude;
    const char *invocation;     /**< the command line, for the version log of undo */
    int json;
    FILE *out;                  /**< NULL: stdout */
} ct_sdi_opts;

/** Runs one ct-sdi command; see ct-sdi(1). */
ct_status ct_sdi_run(ct_ctx *ctx, const ct_sdi_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* CT_SDI_H */
