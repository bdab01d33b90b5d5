/*
 * ct/tile.h — map tiles: tile maths, raster renderers, PNG/WebP encoders and the tileset sinks
 * (a {z}/{x}/{y} folder, MBTiles 1.3, PMTiles v3): the library side of ct-tile.
 *
 * Tile maths
 * ----------
 * Tiles are the XYZ ("slippy map") tiles of EPSG:3857 Web Mercator: at zoom z the square
 * [-20037508.342789244, 20037508.342789244]² is cut into 2^z × 2^z tiles of 256 × 256 pixels,
 * x growing east and y growing SOUTH from the north-west corner. MBTiles stores rows the TMS way
 * (y growing north): ct_tile_tms_row() flips them. PMTiles v3 addresses a tile by one 64-bit id:
 * the number of tiles of all lower zooms plus the position of (x, y) along the Hilbert curve of
 * order z, so that 12/3423/1763 is 19078479 (ct_pmtiles_id, ct_pmtiles_zxy).
 *
 * How a raster pyramid is made (ct_tile_run)
 * ------------------------------------------
 *  1. The data bounds are transformed to EPSG:3857 (the official VN-2000 shift, ct/crs.h).
 *  2. The base (maximum) zoom is made in blocks of up to 8 × 8 tiles: GDAL's warper resamples the
 *     source (bilinear, cubic or nearest) straight into the block's Web Mercator grid, with the
 *     source CRS given as ct_crs_wkt() so that GDAL applies the official TOWGS84. A DEM is then
 *     coloured by the style's ramp and shaded by a hillshade computed on that grid (Horn's
 *     slope, ground cell size corrected by cos(latitude)); a flood depth raster gets the depth
 *     ramp with dry cells transparent; an RGB(A) raster is copied. NoData is transparent.
 *  3. Every lower zoom is the 2 × 2 average of its four children (alpha-weighted, in integers),
 *     never a new warp: inside a block, then across blocks, which are visited in Morton order so
 *     that one pending parent per zoom is all that is kept. Memory is bounded by the block
 *     (≈ 40 MB per thread), not by the raster.
 *  4. Tiles that are fully transparent are not stored. PNG tiles are written with a palette when
 *     the tile has at most 256 colours, RGB when it is opaque, RGBA otherwise; WebP is lossy.
 *  5. Blocks are spread over ct_ctx_threads() threads; tiles reach the sink in one fixed order,
 *     so the output has the same bytes whatever the thread count.
 *
 * Vector tiles (CT_TILE_MVT, chosen for any input OGR reads and GDAL does not read as a raster):
 * every layer's features are moved to EPSG:3857 with ct_transform (official VN-2000 shift), then
 * for each zoom and tile clipped to the tile plus a buffer of 64/4096 (GEOSClipByRect) and
 * encoded as MVT 2.1 (extent 4096; protobuf written here — Debian has no C MVT encoder). Below
 * the maximum zoom polygons are simplified by Douglas–Peucker with a tolerance of 8/4096 of a
 * tile (half a pixel) in a way that keeps shared edges shared: GEOS 3.11 has no coverage
 * simplifier (GEOSCoverageSimplifyVW is 3.12) and TopologyPreservingSimplify treats each
 * polygon alone, so every ring is cut at its nodes (where the set of rings sharing a vertex
 * changes) and each chain between two nodes is simplified once, in one canonical direction,
 * for both neighbours; a feature that would become invalid keeps its vertices, and so do its
 * neighbours. Then vertices are snapped to the 4096 grid and repeated and exactly collinear
 * ones removed; a ring that collapses below 3 vertices is left out at that zoom. Limits per tile: 200 000 features and 500 KB per layer; features over
 * them are left out and counted in features_dropped. Attributes: those named in opts.fields,
 * or else every attribute except personal data — until the SDI marks restricted fields, the
 * cadastral owner and identity fields (ct_sdi_field_personal() in ct/sdi.h) are never written unless named
 * explicitly; text is decoded to UTF-8 (ct/text.h). Tiles
 * are gzip-compressed in MBTiles and PMTiles, plain .pbf in a folder (with metadata.json);
 * metadata carries `vector_layers`.
 *
 * Vector layers with a class style (ct_tile_style.nclasses > 0) are drawn instead (cairo): fills
 * at 4 × 4 supersampling without antialiasing, averaged down — smooth edges, yet no background
 * line between two neighbouring polygons; features are drawn whole in one global pixel grid, so
 * tiles meet without seams.
 *
 * Publishing is atomic: the tileset is written beside OUTPUT under a temporary name
 * (".NAME.tmp.XXXXXX") and renamed into place when complete — a folder is swapped with the old
 * one in one renameat2(RENAME_EXCHANGE). A failed, cancelled or killed run leaves the previous
 * tileset untouched.
 *
 * SDI inputs and nightly runs
 * ---------------------------
 * INPUT "sdi:NAME" (ct/sdi.h, with opts.sdi) is a layer of the SDI — its current features, the
 * MVT layer named after it, attributes its natural key `fkey` and the schema's columns, never a
 * restricted one unless named in opts.fields (the one rule of personal data) — or a raster of
 * the catalogue (its current COG). The tileset records the SDI version it was made from and the
 * input name: MBTiles metadata rows `sdi_version` and `input`, the same keys in the PMTiles JSON
 * metadata and in a folder's metadata.json.
 *
 * When OUTPUT holds a tileset made from the same SDI input and format, a run is incremental
 * (unless opts.full): it reads the change log after opts.since (0: the version the tileset
 * records) with ct_sdi_changes(), keeps the changes of the input's layer (or raster), moves each
 * bounding box (old and new extent) to EPSG:3857 with ct_transform_bounds (official VN-2000
 * shift), and makes again exactly the tiles that such a box touches once the tile is widened by
 * the renderer's margin: the MVT buffer (64/4096 of a tile), the outline of drawn layers, two
 * pixels and two source cells for rasters. That set is closed under ancestors, because a
 * parent's margin is twice its child's. Vector features are read only from the area of the
 * dirty tiles of the lowest zoom (an OGR spatial filter, which the SDI answers from its R*Tree);
 * features are taken in SDI fid order, so a dirty tile gets the bytes a full run would give it.
 * Every other tile of the old tileset is copied byte for byte (hard-linked in a folder), and
 * dirty tiles that became empty are gone. A raster that changed is rendered again whole (its
 * change box is its extent) and only its dirty tiles are kept; a raster that did not change is
 * not read at all. The zoom range is the old tileset's unless opts.minzoom/maxzoom differ, which
 * makes the run a full one. Publishing stays atomic: a nightly run that fails leaves the previous
 * tileset serving.
 */
#ifndef CT_TILE_H
#define CT_TILE_H

#include <stddef.h>
#include <stdint.h>
#include "ct/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Half the side of the Web Mercator square, metres (π × 6 378 137). */
#define CT_MERC_HALF 20037508.342789244

/* ---------------------------------------------------------------------------------------- */
/* Tile maths                                                                                */

/** Longitude/latitude (degrees, WGS 84) to Web Mercator metres; latitude clamped to ±85.0511°. */
void ct_lonlat_to_merc(double lon, double lat, double *mx, double *my);
/** Web Mercator metres to longitude/latitude (degrees). */
void ct_merc_to_lonlat(double mx, double my, double *lon, double *lat);

/** Bounds (minx, miny, maxx, maxy) of XYZ tile z/x/y in Web Mercator metres. */
void ct_tile_bounds(int z, uint32_t x, uint32_t y, double b[4]);
/** Bounds (west, south, east, north) of XYZ tile z/x/y in degrees. */
void ct_tile_bounds_lonlat(int z, uint32_t x, uint32_t y, double b[4]);

/**
 * The XYZ tile at zoom z (0-30) that contains a point given in degrees. A point on a tile edge
 * belongs to the tile east / south of it; longitude 180 and the poles are clamped into the last
 * tile. @return 0, or -1 when z is out of range or the point is not a number.
 */
int ct_tile_from_lonlat(double lon, double lat, int z, uint32_t *x, uint32_t *y);

/**
 * The inclusive range of tiles at zoom z that a Web Mercator box (minx, miny, maxx, maxy)
 * touches: r = {xmin, ymin, xmax, ymax}. A box that ends exactly on a tile edge does not touch
 * the tile beyond it.
 */
void ct_tile_range(const double merc[4], int z, uint32_t r[4]);

/** Number of tiles a Web Mercator box touches over zooms minz..maxz. */
uint64_t ct_tile_count(const double merc[4], int minz, int maxz);

/** The MBTiles (TMS) row of XYZ row y at zoom z: 2^z − 1 − y. Its own inverse. */
uint32_t ct_tile_tms_row(int z, uint32_t y);

/** PMTiles v3 tile id of z/x/y (z 0-31): tiles of zooms < z, plus the Hilbert index of (x, y). */
uint64_t ct_pmtiles_id(int z, uint32_t x, uint32_t y);
/** The inverse of ct_pmtiles_id(). @return 0, or -1 for an id beyond zoom 31. */
int ct_pmtiles_zxy(uint64_t id, int *z, uint32_t *x, uint32_t *y);

/* ---------------------------------------------------------------------------------------- */
/* Styles as the renderers consume them (ct/style.h reads them from files).                  */

typedef struct ct_rgba {
    uint8_t r, g, b, a;
} ct_rgba;

/** One stop of a colour ramp: cells of this value get this colour. */
typedef struct ct_ramp_stop {
    double value;
    ct_rgba colour;
} ct_ramp_stop;

/** One class of a class style: features whose field equals key get fill. */
typedef struct ct_style_class {
    char *key;
    ct_rgba fill;
    char *label; /**< may be NULL */
} ct_style_class;

typedef struct ct_tile_style {
    char *name;             /**< from the file's `name`, else its base name */
    /* ramps (rasters) */
    ct_ramp_stop *stops;    /**< ascending by value; nstops 0 for a class style */
    int nstops;
    int discrete;           /**< 1: a cell takes the colour of the highest stop <= its value */
    ct_rgba below, above;   /**< colours of values below the first / above the last stop
                                 (default: the first / last stop's colour, as gdaldem) */
    ct_rgba nodata;         /**< colour of NoData cells (default transparent) */
    double hillshade;       /**< 0: none; else the strength of the hillshade blend, 0-1 */
    double azimuth, altitude, zfactor; /**< light (degrees clockwise from north, above the
                                          horizon) and height exaggeration; 315, 45, 1 */
    /* classes (vector fills) */
    char *field;            /**< the attribute the classes are keyed on */
    ct_style_class *classes;
    int nclasses;
    ct_rgba fill_default;   /**< features whose key is not listed (default transparent) */
    ct_rgba outline;        /**< outline colour (default transparent: none) */
    double outline_width;   /**< pixels */
    double line_width;      /**< pixels, for line layers */
} ct_tile_style;

/** The colour of value v under a ramp style (NaN gives the nodata colour). */
ct_rgba ct_tile_style_colour(const ct_tile_style *s, double v);

/* ---------------------------------------------------------------------------------------- */
/* Encoders                                                                                  */

/**
 * Encodes a 256 × 256 (any w × h) RGBA image as PNG: colour type 3 (palette, with tRNS when some
 * alpha is below 255) when it has at most 256 distinct colours, else 2 (RGB) when fully opaque,
 * else 6 (RGBA); truecolour rows with the Sub filter (palette rows unfiltered), DEFLATE level 1-12
 * (libdeflate; 0 means 4).
 * @return a new buffer (free with free()) and its length in *len, or NULL when out of memory.
 */
uint8_t *ct_png_encode(const uint8_t *rgba, int w, int h, int level, size_t *len);

/* ---------------------------------------------------------------------------------------- */
/* ct-tile                                                                                   */

typedef enum ct_tile_mode {
    CT_TILE_AUTO = 0, /**< RGB when the raster has 3 or 4 Byte bands, else DEM */
    CT_TILE_DEM,      /**< band → hypsometric ramp × hillshade */
    CT_TILE_DEPTH,    /**< band → depth ramp, dry cells (below the first stop) transparent */
    CT_TILE_RGB,      /**< bands 1-3 (and alpha 4) as they are */
    CT_TILE_MVT       /**< a vector dataset (chosen automatically for one) → Mapbox Vector Tiles */
} ct_tile_mode;

typedef enum ct_tile_format { CT_TILE_PNG = 0, CT_TILE_WEBP } ct_tile_format;

typedef enum ct_tile_sink_kind {
    CT_SINK_AUTO = 0, /**< from OUTPUT: *.mbtiles, *.pmtiles, else a folder */
    CT_SINK_DIR,
    CT_SINK_MBTILES,
    CT_SINK_PMTILES
} ct_tile_sink_kind;

typedef enum ct_tile_resampling {
    CT_RESAMPLE_BILINEAR = 0,
    CT_RESAMPLE_CUBIC,
    CT_RESAMPLE_NEAREST
} ct_tile_resampling;

/** What a run did; filled when ct_tile_opts.summary is set (also on failure, as far as it got). */
typedef struct ct_tile_summary {
    int minzoom, maxzoom;
    double bounds[4];        /**< data bounds, degrees (west, south, east, north) */
    uint64_t tiles_in_range; /**< tiles the data bounds touch over the zoom range */
    uint64_t tiles_written;  /**< tiles stored (addressed) */
    uint64_t tiles_empty;    /**< fully transparent tiles, not stored */
    uint64_t tiles_unique;   /**< distinct tile contents (MBTiles/PMTiles store each once) */
    uint64_t bytes;          /**< size of the tileset (sum of tile sizes for a folder) */
    uint64_t features;       /**< MVT: features read */
    uint64_t features_dropped; /**< MVT: feature pieces left out of tiles over the limits */
    double seconds;
    int threads;
    uint64_t tiles_kept;     /**< incremental runs: tiles copied unchanged from the old tileset
                                  (counted in tiles_written too) */
    long long sdi_version;   /**< SDI inputs: the version the tiles were made from; else -1 */
    long long since;         /**< incremental runs: the version the changes were read after;
                                  -1 for a full run */
    uint64_t tiles_patched;  /**< nightly MVT runs from an SDI: tiles made by patching the old
                                  tile (its unchanged features kept as encoded; in tiles_made) */
    const char *sink;        /**< "dir", "mbtiles", "pmtiles" (static) */
    const char *format;      /**< "png", "webp", "pbf" (static) */
} ct_tile_summary;

/** Above this many tiles ct_tile_run() refuses to start unless force is set. */
#define CT_TILE_MAX_TILES 100000000ull

typedef struct ct_tile_opts {
    const char *input;          /**< a raster or vector dataset GDAL reads, or "sdi:NAME" */
    const char *sdi;            /**< the SDI of an "sdi:NAME" input */
    long long since;            /**< SDI inputs: make again the tiles the changes after this
                                     version touch; 0: the version OUTPUT records */
    int full;                   /**< SDI inputs: make every tile even when OUTPUT could be
                                     updated */
    int shard_k, shard_n;       /**< shard_n > 0: make only shard shard_k (0 ≤ k < n) of the
                                     vector tiles, for ct_tile_merge() (see below) */
    int band;                   /**< band of a DEM/depth raster; 0 means 1 */
    const char *output;         /**< folder, *.mbtiles or *.pmtiles */
    ct_tile_sink_kind sink;
    ct_tile_mode mode;
    const ct_tile_style *style; /**< ramp for DEM and depth modes (required there); for vector
                                     input a class style draws PNG/WebP tiles, none gives MVT;
                                     not owned */
    int minzoom, maxzoom;       /**< -1: automatic (whole data in one tile / the source's
                                     resolution, as gdal2tiles chooses) */
    ct_tile_format format;
    int quality;                /**< WebP quality 1-100, 0 means 80 */
    int level;                  /**< PNG DEFLATE level 1-12, 0 means 4 */
    ct_tile_resampling resampling;
    const char *name;           /**< tileset name in metadata; NULL: OUTPUT's base name */
    const char *description;    /**< may be NULL */
    const char *attribution;    /**< may be NULL */
    int force;                  /**< allow more than CT_TILE_MAX_TILES tiles */
    const char *const *fields;  /**< MVT: the attributes to keep (all others left out); NULL:
                                     every attribute but personal data (see below) */
    int nfields;
    const char *class_field;    /**< drawn vector layers: the attribute the style's classes are
                                     keyed on, instead of the style's `field` */
    int pmtiles_leaf_entries;   /**< 0: PMTiles root directory alone when it fits in the first
                                     16 KiB, else leaf directories of 4096 entries or more;
                                     N > 0: always leaves of N entries (tests readers' leaf
                                     handling on small archives) */
    ct_tile_summary *summary;   /**< filled when not NULL */
} ct_tile_opts;

/**
 * Makes the tileset. Progress reports tiles done, tiles/s and an ETA, and can cancel.
 * @return CT_OK; CT_ERR_USAGE for bad options or a zoom range over CT_TILE_MAX_TILES tiles
 * (the message gives the count); CT_ERR_CRS when the raster has no CRS; CT_ERR_IO / CT_ERR_FORMAT
 * for unreadable input or an output that cannot be written (disk full, ...); CT_ERR_CANCELLED.
 * On any failure the old tileset at OUTPUT is left as it was and no temporary file remains.
 */
ct_status ct_tile_run(ct_ctx *ctx, const ct_tile_opts *opts);

/*
 * Shards: a vector run with shard_n = N makes only the tiles of shard k — a tile belongs to the
 * shard that a hash of its ancestor two zooms above the maximum (itself, higher up) picks, so
 * that the tiles of one area stay together and every tile is in exactly one shard — and
 * records "k/N" as `shard` in the metadata. ct_tile_merge() puts N such parts (all of one
 * sink kind and format, N = their number, each k once) into one tileset: the same bytes as the
 * unsharded run, because every sink's layout depends only on the tiles (PMTiles clusters by
 * tile id, MBTiles gets them in tile-id order as a vector run stores them); the name is the
 * parts' common name, else the output's file name. Parts of one run agree in format, zooms,
 * input, bounds, layers, description and attribution. Raster pyramids are not sharded: their
 * lower zooms are averaged across blocks.
 */
typedef struct ct_tile_merge_opts {
    const char *output;
    const char *const *parts;
    int nparts;
    ct_tile_summary *summary; /**< filled when not NULL */
} ct_tile_merge_opts;

/** Merges shards (see above). CT_ERR_USAGE naming a part that is not a shard of the same run,
 *  or when one is missing; the output is published atomically as ct_tile_run's. */
ct_status ct_tile_merge(ct_ctx *ctx, const ct_tile_merge_opts *opts);

struct json_object;
/** The summary as a JSON object (release with json_object_put()). */
struct json_object *ct_tile_summary_json(const ct_tile_summary *s);

#ifdef __cplusplus
}
#endif
#endif /* CT_TILE_H */
