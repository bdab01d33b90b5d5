/*
 * ct/raster.h — typed grids with georeferencing, windowed reads through GDAL, and
 * Cloud-Optimized GeoTIFF output.
 *
 * A ct_grid is a rectangle of cells of one data type in row-major order (row 0 is the north
 * edge when the geotransform has a negative y step, as usual), with its geotransform, CRS and
 * nodata value. Algorithms get the cells with ct_grid_data() and index them as
 * data[row * width + col]; the grid owns that memory.
 *
 * A ct_raster is an open GDAL dataset read window by window, so that memory is bounded by the
 * window and not by the file. ct_grid_write_cog() writes a COG (tiled 512×512, DEFLATE with a
 * predictor, overviews) to a temporary name beside the target and renames it into place when
 * complete: a reader never sees half a file and a failed write leaves the old file untouched.
 */
#ifndef CT_RASTER_H
#define CT_RASTER_H

#include <stddef.h>
#include <stdint.h>
#include "ct/context.h"
#include "ct/crs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_dtype {
    CT_BYTE = 1,
    CT_INT16,
    CT_UINT16,
    CT_INT32,
    CT_FLOAT32,
    CT_FLOAT64
} ct_dtype;

/** Size of one cell in bytes. */
size_t ct_dtype_size(ct_dtype t);
/** "Byte", "Int16", "UInt16", "Int32", "Float32", "Float64" (GDAL's names). */
const char *ct_dtype_name(ct_dtype t);

typedef struct ct_grid ct_grid;

/**
 * @return a new grid of width × height cells of type t, all zero, with an identity
 * geotransform (0, 1, 0, 0, 0, -1), no CRS and no nodata; free with ct_grid_free().
 * NULL (with CT_ERR_NOMEM on ctx) when it does not fit in memory, or (with CT_ERR_USAGE) when
 * a size is not positive or t is not a ct_dtype. ctx may be NULL when no message is wanted.
 */
ct_grid *ct_grid_new(ct_ctx *ctx, ct_dtype t, int width, int height);
/** Frees a grid and its cells; NULL is a no-op. */
void ct_grid_free(ct_grid *g);

int ct_grid_width(const ct_grid *g);
int ct_grid_height(const ct_grid *g);
ct_dtype ct_grid_dtype(const ct_grid *g);
/** The cells, row-major; owned by the grid. */
void *ct_grid_data(ct_grid *g);
const void *ct_grid_cdata(const ct_grid *g);

/** GDAL geotransform: x = gt[0] + col*gt[1] + row*gt[2], y = gt[3] + col*gt[4] + row*gt[5]. */
void ct_grid_get_geotransform(const ct_grid *g, double gt[6]);
void ct_grid_set_geotransform(ct_grid *g, const double gt[6]);

/** The grid's CRS (owned by the grid; NULL when none). */
const ct_crs *ct_grid_crs(const ct_grid *g);
/** Sets the CRS to a copy of crs (NULL clears it). */
void ct_grid_set_crs(ct_grid *g, const ct_crs *crs);

/** @return 1 and *value when the grid has a nodata value, else 0. */
int ct_grid_get_nodata(const ct_grid *g, double *value);
void ct_grid_set_nodata(ct_grid *g, double value);
void ct_grid_clear_nodata(ct_grid *g);

/**
 * The grid's scale and offset: a stored cell v means v × scale + offset (GDAL's band scale and
 * offset; e.g. depths stored as UInt16 millimetres with scale 0.001). New grids have 1 and 0.
 * ct_grid_write_cog() writes them as the band's scale and offset, which GDAL, QGIS and
 * ct_raster_read() to a floating-point grid apply. The nodata value is a stored value.
 * @return 1 when they are not 1 and 0.
 */
int ct_grid_get_scale(const ct_grid *g, double *scale, double *offset);
void ct_grid_set_scale(ct_grid *g, double scale, double offset);

/** The value of a cell as double (any type). No bounds check. */
double ct_grid_get(const ct_grid *g, int col, int row);
/** Sets a cell from a double, rounded (half away from zero) and clamped to the type's range
 *  for integer types, where NaN becomes 0. */
void ct_grid_set(ct_grid *g, int col, int row, double v);

/* ---------------------------------------------------------------------------------------- */

typedef struct ct_raster ct_raster;

/**
 * Opens a raster dataset read-only (any GDAL format, or a path GDAL's virtual file systems
 * understand, e.g. /vsigzip/dem.asc.gz). @return CT_OK and *out (close with ct_raster_close()),
 * CT_ERR_IO when the file cannot be read, CT_ERR_FORMAT when it is not a raster GDAL
 * recognises or is corrupt; the message names the file.
 */
ct_status ct_raster_open(ct_ctx *ctx, const char *path, ct_raster **out);
/** Closes a raster; NULL is a no-op. */
void ct_raster_close(ct_raster *r);

int ct_raster_width(const ct_raster *r);
int ct_raster_height(const ct_raster *r);
int ct_raster_band_count(const ct_raster *r);
/** The data type of band (1-based) mapped to the nearest ct_dtype (UInt32, Int64 and UInt64 to
 *  CT_FLOAT64, complex types to their real part's type); 0 when there is no such band. */
ct_dtype ct_raster_band_dtype(const ct_raster *r, int band);
/** @return 1 and *value when band has nodata. */
int ct_raster_band_nodata(const ct_raster *r, int band, double *value);
/** The band's scale and offset (1 and 0 when it has none): a stored value v means
 *  v × scale + offset. @return 1 when they are not 1 and 0. */
int ct_raster_band_scale(const ct_raster *r, int band, double *scale, double *offset);
/** @return 1 and gt when the dataset has a geotransform; 0 when not, with GDAL's default
 *  (0, 1, 0, 0, 0, 1) in gt: pixel/line coordinates, which ct_raster_read() grids then get. */
int ct_raster_geotransform(const ct_raster *r, double gt[6]);
/** The dataset's CRS, recognised through ct_crs_from_wkt(); NULL when it has none. Owned by r. */
const ct_crs *ct_raster_crs(const ct_raster *r);
/** The GDAL driver's short name ("GTiff", "AAIGrid", ...). */
const char *ct_raster_driver(const ct_raster *r);
/** The natural block size of band 1. */
void ct_raster_block_size(const ct_raster *r, int *bw, int *bh);
/** The underlying GDALDatasetH, for callers that need GDAL directly. */
void *ct_raster_gdal(ct_raster *r);

/**
 * Reads a window of one band (1-based) into a new grid of type t, with the window's own
 * geotransform, the CRS and the band's nodata. A band with a scale and offset (see
 * ct_raster_band_scale()) read to CT_FLOAT32 or CT_FLOAT64 comes in its units: every cell that
 * is not nodata or NaN is v × scale + offset, nodata cells keep the stored nodata value; read
 * to an integer type it comes as stored, the grid carrying the scale and offset. @return CT_OK and *out (free with
 * ct_grid_free()), CT_ERR_USAGE for a window outside the raster, CT_ERR_IO on a read error
 * (naming the file and window).
 */
ct_status ct_raster_read(ct_ctx *ctx, ct_raster *r, int band, int xoff, int yoff, int width,
                         int height, ct_dtype t, ct_grid **out);

/** Band statistics over valid (non-nodata, finite) cells, computed exactly by block. */
typedef struct ct_band_stats {
    double min, max, mean, stddev; /**< stddev of the population; all NaN when valid is 0 */
    uint64_t valid;                /**< cells used */
    uint64_t nodata;               /**< cells left out: equal to the nodata value, NaN or ±inf */
} ct_band_stats;

/**
 * Computes exact statistics of band, block by block (memory bounded by a block, or ~1 M cells
 * for strips), reporting progress. Only the band's nodata value marks cells invalid (GDAL mask
 * or alpha bands are not consulted). Deterministic: the same file gives the same bits.
 * @return CT_OK, CT_ERR_USAGE for a band that does not exist, CT_ERR_IO on a read error,
 * CT_ERR_CANCELLED when the progress callback stops it.
 */
ct_status ct_raster_band_stats(ct_ctx *ctx, ct_raster *r, int band, ct_band_stats *out);

/** Reads the whole of one band: shorthand for ct_raster_read() of the full extent. */
ct_status ct_grid_read(ct_ctx *ctx, const char *path, int band, ct_dtype t, ct_grid **out);

/**
 * Reads the first band of the raster at path resampled onto the grid of like (its
 * geotransform, size and CRS, which like must have): a rain field, a roughness map or any
 * covariate on a model's grid. The source is transformed with ct_transform_new() (official
 * VN-2000 datum shift) and resampled by GDAL's warper with resampling (a gdalwarp -r method);
 * NULL chooses by cell size: "average" when the source cells are smaller than like's (every
 * fine cell counts), "bilinear" otherwise. A source already on like's grid is read as it is.
 * @return CT_OK and *out: a new Float32 grid (free with ct_grid_free()) with like's
 * geotransform and CRS, NaN (its nodata) where the source has no data or does not reach;
 * CT_ERR_IO / CT_ERR_FORMAT when the file cannot be read, CT_ERR_CRS when it has no CRS or
 * cannot be transformed, CT_ERR_INVALID without a geotransform. Messages name the file.
 */
ct_status ct_grid_read_onto(ct_ctx *ctx, const char *path, const ct_grid *like, const char *resampling,
                            ct_grid **out);

/** Tile compression of ct_grid_write_cog(). */
typedef enum ct_cog_compress {
    CT_COG_DEFLATE = 0, /**< DEFLATE (TIFF compression 8), read by every TIFF reader */
    /**
     * Zstandard (TIFF compression 50000), through GDAL's own zstd: about three times faster to
     * write than DEFLATE level 1 at the same size for Float32 rasters, as fast to read; read by
     * GDAL >= 2.3 (QGIS, rasterio, ctgis) and libtiff >= 4.0.10 built with zstd, not by every
     * TIFF reader. CT_ERR_UNSUPPORTED when this GDAL has no zstd.
     */
    CT_COG_ZSTD,
    /**
     * DEFLATE (TIFF compression 8, read by every TIFF reader) that codes each byte with one
     * Huffman code per resolution, counted on a sample of its rows, and each run of zeros as a
     * copy, without looking for other matches: for cells that repeat little (depths over a
     * noisy DEM), twice as fast to write as ZSTD level 1 at about the same size (b500's
     * millimetre depths). The level is ignored. Direct writer only (ct_cog_opts.direct).
     */
    CT_COG_DEFLATE_HUFFMAN
} ct_cog_compress;

/** Options of ct_grid_write_cog(); zero-initialised means the defaults. */
typedef struct ct_cog_opts {
    int blocksize;        /**< tile size, default 512; a multiple of 16 in 16-4096 */
    ct_cog_compress compress; /**< default CT_COG_DEFLATE */
    int level;            /**< DEFLATE level 1-9, default 6; ZSTD level 1-22, default 9 (GDAL's) */
    const char *overview_resampling; /**< default "AVERAGE" ("NEAREST" for Byte class rasters) */
    int no_overviews;     /**< 1: none */
    /**
     * 1: ctgis lays out the file and compresses the tiles itself (libdeflate, libzstd or its
     * own Huffman coder, on ct_ctx_threads() threads) instead of GDAL's COG driver, which
     * writes the overviews to a temporary file, reads them back and compresses everything
     * again. Several times faster, for outputs written many times per run; the format is the
     * same (tiled, DEFLATE or ZSTD with the predictor, or one bit a cell: one_bit, internal overviews, COG layout with GDAL's block leaders and trailers, the
     * georeferencing encoded by GDAL), the full-resolution cells are the same, the bytes are
     * not. Overviews halve the previous level: "AVERAGE" is the mean of the valid cells of
     * each 2 × 2 window (nodata when none is valid; integers rounded half away from zero),
     * "NEAREST" its first (north-west) cell; other resamplings are CT_ERR_USAGE.
     */
    int direct;
    /**
     * With direct: 1 starts writing the file to disk (sync_file_range) but does not wait for
     * it before the rename; the caller makes it durable (fsync) before relying on it, so that
     * the disk works while the next output is computed. ct-flood fsyncs its staged outputs
     * before it moves them into place.
     */
    int defer_sync;
    /** With direct: threads to compress on; 0: ct_ctx_threads() */
    int threads;
    /**
     * With direct ZSTD: 1 for cells that repeat little (ct-flood's Float32 depths over a noisy DEM):
     * zstd's match finder gets a table of 2^8 entries instead of its level's (2^13 at level
     * 1), whose cache misses went, and skips ahead faster where it finds no match, the
     * literals still Huffman-coded: a third less time at the same size on such cells (0.2 %
     * larger); cells that repeat a lot compress less.
     */
    int noisy;
    /**
     * With direct: 1 writes a Byte grid whose cells are all 0 or 1 with one bit a cell (TIFF
     * BitsPerSample 1, no predictor: GDAL reads it as Byte, NBITS=1): an eighth of the bytes to
     * compress and store (ct-flood's extents over a DEM with ground everywhere). The grid
     * should have no nodata value. 0: eight bits a byte.
     */
    int one_bit;
    /**
     * With direct: per row of the grid, the columns span_lo[r] .. span_hi[r] - 1 outside
     * which every cell of the row is zero (all its bytes); span_hi[r] <= span_lo[r]: the whole
     * row. Zero rows and tiles are then neither read nor compared, and reduce to zero
     * overview cells without being averaged (ct-flood's levels are mostly dry); the bytes
     * written are the same. NULL: not known.
     */
    const int *span_lo, *span_hi;
    /**
     * With direct: buffers kept for the next call (ct_cog_scratch_new()), so that outputs
     * written one after another reuse the same memory; one call at a time. NULL: each call
     * allocates and frees its own.
     */
    struct ct_cog_scratch *scratch;
} ct_cog_opts;

/** Scratch memory of ct_grid_write_cog() kept between calls (ct_cog_opts.scratch). */
typedef struct ct_cog_scratch ct_cog_scratch;

/** @return a new, empty scratch (NULL when out of memory). */
ct_cog_scratch *ct_cog_scratch_new(void);

/** Frees the scratch and its buffers; NULL is allowed. */
void ct_cog_scratch_free(ct_cog_scratch *s);

/**
 * Writes the grid as a Cloud-Optimized GeoTIFF (tiled, DEFLATE or ZSTD, predictor 2 for integers and 3
 * for floats, overviews), first to a temporary name in the same folder, then renamed onto path.
 * opts may be NULL. On failure the temporary file is removed and any old file at path is kept.
 * path is a local file (rename(2) is what makes the write atomic), not a /vsi path. The CRS is
 * written as ct_crs_wkt(); compression uses ct_ctx_threads() threads; the progress callback
 * can cancel. The same grid gives the same bytes, whatever the thread count.
 * @return CT_OK, CT_ERR_USAGE for bad options, CT_ERR_IO (folder missing or not writable, disk
 * full, rename failed), CT_ERR_CRS when GDAL rejects the WKT, CT_ERR_CANCELLED.
 */
ct_status ct_grid_write_cog(ct_ctx *ctx, const ct_grid *g, const char *path, const ct_cog_opts *opts);

/**
 * Moves a finished raster file into place (rename(2)) and removes the GDAL side-car
 * "<to>.aux.xml" of the file it replaces: its cached statistics would describe the old data.
 * @return 0, or -1 with errno set by rename.
 */
int ct_raster_replace(const char *from, const char *to);

#ifdef __cplusplus
}
#endif
#endif /* CT_RASTER_H */
