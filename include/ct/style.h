/*
 * ct/style.h — reading map styles: the ctgis style format (ct-style(5)) and GDAL color-relief
 * ramps, into the ct_tile_style the renderers of ct/tile.h consume.
 *
 * Why the types live in tile.h: DESIGN.md orders the modules `tile` before `style`, and a module
 * uses only the ones before it. The renderers need a style's content, not how it was written, so
 * ct_tile_style is declared in ct/tile.h and this module parses files into it.
 *
 * A ctgis style file is UTF-8 text, one `key value ...` line each; blank lines and lines whose
 * first character is `#` are skipped, and ` # ` starts a comment at the end of a line. Keys:
 *
 *   name NAME                       the style's name
 *   interpolate linear|discrete     how a ramp fills between stops (default linear)
 *   stop VALUE COLOUR               a ramp stop; values strictly ascending
 *   below COLOUR | above COLOUR     colour under the first / over the last stop
 *   nodata COLOUR                   colour of NoData cells (default transparent)
 *   hillshade STRENGTH [AZIMUTH [ALTITUDE [ZFACTOR]]]   blend a hillshade into a DEM (0-1)
 *   field NAME                      the attribute a class style is keyed on
 *   class KEY COLOUR [LABEL ...]    features whose field is KEY get fill COLOUR
 *   default COLOUR                  fill of features whose key has no class
 *   outline COLOUR WIDTH            polygon outlines (pixels)
 *   line-width WIDTH                width of line features (pixels)
 *   source TEXT ...                 where the colours come from (kept for the record)
 *
 * COLOUR is #RRGGBB, #RRGGBBAA or `transparent`. An unknown key, a bad value or stops out of
 * order is an error naming the file and line.
 *
 * A GDAL color-relief file (as `gdaldem color-relief` reads: `VALUE R G B [A]` per line,
 * separated by blanks, commas, tabs or colons; `nv` for NoData) is recognised by its first line
 * and read as a linear ramp. Percentages (`50%`) are not supported (the run would have to read
 * the whole raster first): the message says so.
 */
#ifndef CT_STYLE_H
#define CT_STYLE_H

#include "ct/context.h"
#include "ct/tile.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Reads a style file. @return CT_OK and *out (free with ct_style_free()), CT_ERR_IO when the file
 * cannot be read, CT_ERR_FORMAT with "FILE:LINE: ..." for an unknown key or a bad value.
 */
ct_status ct_style_load(ct_ctx *ctx, const char *path, ct_tile_style **out);

/** Frees a style and everything in it; NULL is a no-op. */
void ct_style_free(ct_tile_style *s);

/**
 * Finds a shipped style by name ("dem-hypsometry", "flood-depth", "landuse-tt08"; the ".style"
 * suffix may be given): in $CT_STYLE_PATH (colon-separated folders), then beside the program
 * (../../styles of a build tree, ../share/ctgis/styles of an installation). A name that contains
 * a '/' or names an existing file is returned as it is.
 * @return CT_OK and *path (free with free()), or CT_ERR_IO listing where it looked.
 */
ct_status ct_style_find(ct_ctx *ctx, const char *name, char **path);

#ifdef __cplusplus
}
#endif
#endif /* CT_STYLE_H */
