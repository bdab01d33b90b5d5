/*
 * ct/ingest.h — loading what the city receives into the SDI: the library side of ct-ingest.
 *
 * Vector kinds (cadastral, planning, admin, dikes) read any OGR source, including FAMIS-era DGN
 * v7 sheets whose parcels are boundary lines plus text labels: the lines are noded and
 * polygonised with GEOS, and the labels inside each polygon give its number and land-use code.
 * For every source:
 *   - the CRS comes from the file or --srs, and coordinates go to the SDI CRS through the
 *     official VN-2000 operation (ct/crs.h);
 *   - text is decoded from --encoding, or the detected encoding (ct/text.h), field names too;
 *   - fields are mapped onto the layer schema by the built-in aliases of ct/sdi.h, or a mapping
 *     file of "column = SourceField" lines; a field neither maps nor --ignore names is an error;
 *   - geometries are validated: empty or out-of-area ones rejected, invalid ones made valid
 *     (GEOSMakeValid) and reported; parcels are checked for overlaps and gaps with their
 *     neighbours, legal vs drawn area, duplicate numbers per sheet, and land-use codes (TT
 *     08/2024, older codes mapped, unknown codes rejected);
 *   - the whole run lands in one SDI version, in one transaction, or nothing does. A source
 *     whose checksum is unchanged since it was last loaded is skipped.
 * The DEM kind reads GeoTIFF, ESRI ASCII grids or XYZ points (gridded), warps to the SDI CRS and
 * stores a COG with overviews in the SDI's raster folder.
 */
#ifndef CT_INGEST_H
#define CT_INGEST_H

#include <stdio.h>
#include "ct/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_ingest_opts {
    const char *sdi;                 /**< the SDI path */
    const char *kind;                /**< cadastral, planning, admin, dikes, dem */
    const char *const *sources;
    int nsources;
    const char *srs;                 /**< CRS of sources that have none (or overriding theirs) */
    const char *encoding;            /**< tcvn3, vni, cp1258, utf8 or auto (default) */
    const char *mapping;             /**< mapping file, or NULL for the built-in aliases */
    const char *const *ignore;       /**< source fields to leave out */
    int nignore;
    const char *sheet;               /**< map sheet of a DGN source; default: from its name (…to07…) */
    const char *name;                /**< dem: the raster's name in the SDI (default "dem") */
    double cell_size;                /**< dem: output cell size in SDI units; 0: keep / 5 m for XYZ */
    double area_tolerance;           /**< relative legal/drawn area difference reported; 0: 0.05 */
    const char *valid_from, *valid_to; /**< admin: validity of the units loaded (ISO dates) */
    const char *title, *licence;     /**< catalogue notes */
    const char *command;             /**< the command line, for the version log */
    int json;                        /**< print the summary as JSON */
    FILE *out;                       /**< where the summary goes; NULL: stdout */
} ct_ingest_opts;

/**
 * Ingests the sources. @return CT_OK, CT_REJECTED when features were rejected (they are in
 * sdi_reject and the rest is loaded), or an error (nothing loaded; the message names the file
 * and feature).
 */
ct_status ct_ingest_run(ct_ctx *ctx, const ct_ingest_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* CT_INGEST_H */
