/* sdi_int.h — the inside of ct_sdi, for the modules after sdi (ingest, flood, overlay, tile). */
#ifndef CT_SDI_INT_H
#define CT_SDI_INT_H

#include <openssl/evp.h>

#include "ct/sdi.h"
#include "sdidb_int.h"

/* Prepared statements kept for the life of the connection: per-feature work reuses them. */
enum {
    SDI_STMT_CHANGE = 0,
    SDI_STMT_REJECT,
    SDI_STMT_REPORT,
    SDI_STMT_SEEN,
    SDI_STMT_FIND,                              /* + layer */
    SDI_STMT_INSERT = SDI_STMT_FIND + CT_SDI_NLAYERS, /* + layer */
    SDI_STMT_TAKEN = SDI_STMT_INSERT + CT_SDI_NLAYERS,
    SDI_STMT_RTREE,                             /* + layer */
    SDI_STMT_CHANGES = SDI_STMT_RTREE + CT_SDI_NLAYERS, /* SDI_CHANGE_BATCH rows at once */
    SDI_NSTMT
};

/* Change-log rows written SDI_CHANGE_BATCH at a time, by one statement: a statement per row
 * cost more than the rows themselves. */
enum { SDI_MAXPENDING = 64, SDI_CHANGE_BATCH = 64 };

/* What differs between SpatiaLite's SQL and PostGIS's in the statements of sdi.c and ingest.c
 * (the DDL differs too: see create_layer() and create_srs() in sdi.c). */
typedef struct sdi_dialect {
    const char *xmin, *ymin, *xmax, *ymax; /* a geometry's bounding box */
    const char *as_wkb;                    /* a geometry as WKB */
    const char *least, *greatest;          /* the smaller and the larger of two values */
    const char *geom_in;                   /* the geometry parameter of an INSERT (PostGIS: WKB as a
                                            * multi-geometry, %d the SRID; SpatiaLite: its own BLOB) */
    const char *to_numeric;                /* what round(x, n) needs after x */
    const char *begin_write;               /* the transaction of one version */
    const char *index_ok;                  /* 1 when the spatial index of table %s is sound */
    const char *relations;                 /* how many tables, views, indexes are named ? (any case) */
    const char *insert_order;              /* the column giving sdi_change's rows in insertion order */
} sdi_dialect;

/* A cell of a SpatiaLite R*Tree node: a row id (leaves) or a child node, and its box as the
 * R*Tree stores it (float, rounded outwards). */
typedef struct sdi_rtree_cell {
    long long id;
    float b[4]; /* xmin, xmax, ymin, ymax: the R*Tree's column order */
} sdi_rtree_cell;

/* Leaves packed SDI_RTREE_CHUNK rows at a time (memory: bounded by it). */
enum { SDI_RTREE_CHUNK = 4096 };

/* The R*Tree of a layer whose index was empty when the version began: ctgis packs its nodes
 * (rtree_* in sdi.c) instead of inserting a row at a time. */
typedef struct sdi_rtree_bulk {
    int mode;                /* 0: not decided in this version; 1: packed; -1: row by row */
    int cap, node_size;      /* cells in a node; bytes of a node */
    long long next_node;     /* the next node number (1 is the root, written last) */
    sdi_rtree_cell *chunk;   /* rows not yet in a leaf */
    size_t nchunk;
    sdi_rtree_cell *up;      /* a cell per leaf written, for the levels above */
    size_t nup, capup;
    sdi_stmt *node, *rowid, *parent;
    sdi_stmt *rowids;        /* a full leaf's rows at once (cap rows: one statement, not cap) */
} sdi_rtree_bulk;

struct ct_sdi {
    sdi_db db;
    const sdi_dialect *sql;
    char *path;             /* for messages (a connection string without its password) */
    char *target;           /* as given: what OGR opens */
    char *raster_dir;
    ct_crs *crs;
    int srid;
    double area[4];
    int in_version;
    long long version;      /* the open version */
    long long seen_version; /* the version sdi_seen was cleared for */
    long long puts;         /* features this version wrote (PostgreSQL: when to ANALYZE) */
    struct {
        long long added, changed, removed, rejected, repaired;
    } counts;
    struct {
        char *from, *to;
    } pending[SDI_MAXPENDING]; /* rasters to move into the folder at commit */
    int npending;
    struct {
        const char *layer, *op; /* static strings */
        char *key;
        double b[4];
    } change[SDI_CHANGE_BATCH]; /* change-log rows not yet written (flush_changes) */
    int nchange;
    sdi_rtree_bulk rtree[CT_SDI_NLAYERS];
    signed char fresh[CT_SDI_NLAYERS]; /* layer_fresh(): 1, 0, or -1 not yet known in this version */
    sdi_stmt *stmt[SDI_NSTMT];
};

ct_status ct_sdi_exec(ct_ctx *ctx, ct_sdi *s, const char *sql);
sdi_stmt *ct_sdi_prepare(ct_ctx *ctx, ct_sdi *s, const char *sql);
/* One integer from a query; def when no row, a NULL or an error (not reported). */
long long ct_sdi_query_int(ct_sdi *s, const char *sql, long long def);
/* A geometry as the WKB GEOS's WKBWriter writes with output dimension 2, in a malloc()ed
 * buffer of *len bytes; NULL when memory runs out. */
unsigned char *sdi_wkb(GEOSContextHandle_t h, const GEOSGeometry *g, size_t *len);
/* The geometry of WKB: a polygon or multipolygon as sdi_wkb() writes it is read here, its
 * points copied once (GEOS's reader parses a byte stream through a C++ stream: a tenth of the
 * sheet checks); anything else through GEOS's reader. NULL when it cannot be read. */
GEOSGeometry *sdi_wkb_geom(GEOSContextHandle_t h, const unsigned char *wkb, size_t len);
/* A feature's geometry as a put writes it: made from the GEOS geometry by sdi_geom_make(),
 * which reads only s's SRID and kind of store, so that it can run on another thread than the
 * puts (ct-ingest's reading thread), and the put writes bytes only. */
typedef struct sdi_geom {
    int type;                 /* GEOS type id; -1: no geometry */
    int empty;
    double box[4];            /* xmin, ymin, xmax, ymax; HUGE_VAL, -HUGE_VAL when empty */
    unsigned char *wkb;       /* sdi_wkb(): the digest's, PostGIS's, and the sheet checks' */
    size_t wkblen;
    unsigned char *blob;      /* SpatiaLite's geometry BLOB (SpatiaLite; not of an empty polygon) */
    size_t bloblen;
} sdi_geom;
/* @return 0, or -1 when memory runs out (nothing to free then). */
int sdi_geom_make(GEOSContextHandle_t h, const ct_sdi *s, const GEOSGeometry *g, sdi_geom *out);
void sdi_geom_free(sdi_geom *g);
/* The digest a put compares and stores for a feature of layer: SHA-256 of its values and WKB,
 * in hex. Touches no SDI state (ct-ingest's reading thread makes it, with its own context).
 * @return 0, or -1 when OpenSSL cannot. */
int sdi_digest(ct_ctx *ctx, ct_sdi_layer layer, const char *const *values, const sdi_geom *geom, char hex[65]);
/* ct_sdi_put() of a geometry sdi_geom_make() made (the caller keeps it), with its digest
 * (sdi_digest()), or NULL to have it made here. */
ct_status sdi_put(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, const char *key,
                  const sdi_geom *geom, const char *const *values, const char *digest, ct_sdi_op *op);
/* Does name appear in a column's '|'-separated alias list (case-insensitive)? */
int ct_sdi_alias_match(const char *aliases, const char *name);

#endif
