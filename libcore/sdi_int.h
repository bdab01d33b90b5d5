/* sdi_int.h — the inside of ct_sdi, for the modules after sdi (ingest, flood, overlay, tile). */
#ifndef CT_SDI_INT_H
#define CT_SDI_INT_H

#include <sqlite3.h>
#include "ct/sdi.h"

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
    SDI_NSTMT = SDI_STMT_RTREE + CT_SDI_NLAYERS
};

enum { SDI_MAXPENDING = 64 };

struct ct_sdi {
    sqlite3 *db;
    void *spatialite;
    char *path;
    char *raster_dir;
    ct_crs *crs;
    int srid;
    double area[4];
    int in_version;
    long long version;      /* the open version */
    long long seen_version; /* the version sdi_seen was cleared for */
    struct {
        long long added, changed, removed, rejected, repaired;
    } counts;
    struct {
        char *from, *to;
    } pending[SDI_MAXPENDING]; /* rasters to move into the folder at commit */
    int npending;
    sqlite3_stmt *stmt[SDI_NSTMT];
};

ct_status ct_sdi_exec(ct_ctx *ctx, ct_sdi *s, const char *sql);
sqlite3_stmt *ct_sdi_prepare(ct_ctx *ctx, ct_sdi *s, const char *sql);
long long ct_sdi_query_int(ct_sdi *s, const char *sql, long long def);
/* Does name appear in a column's '|'-separated alias list (case-insensitive)? */
int ct_sdi_alias_match(const char *aliases, const char *name);

#endif
