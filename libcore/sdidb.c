/* sdidb.c — the SDI's statements over SQLite and over PostgreSQL (see sdidb_int.h). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <spatialite/gaiageo.h> /* spatialite.h needs it first */
#include <spatialite.h>
#include <libpq-fe.h>

#include "sdidb_int.h"

/* rows a cursor fetches at a time: about a megabyte of parcels; deferred statements sent
 * before their answers are collected */
enum { SDI_BATCH = 2000, SDI_PIPELINE = 512 };

/* PostgreSQL type OIDs (pg_type.dat; stable since PostgreSQL 7) */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

struct sdi_stmt {
    sdi_db *db;
    sqlite3_stmt *lite;
    /* PostgreSQL: the statement runs unnamed the first time; a statement run again (the cached
     * per-feature ones) is prepared on the server, so that one-off queries cost one round trip
     * and repeated ones are planned once. */
    char *sql;
    int nparams;
    const char **vals;
    int *lens, *fmts;
    char (*num)[32]; /* the text of bound numbers */
    char name[32];
    int runs;
    PGresult *res;
    int row, nrows;  /* row < 0: not run since the last reset */
    int stream;      /* read through a cursor (sdi_stream) */
    int defer;       /* sent without waiting (sdi_defer) */
    char what[SDI_WHAT]; /* what its next run is (sdi_defer_what) */
    char cursor[32]; /* the open cursor's name, "" when none */
    int own_tx;      /* the cursor's transaction is its own */
    unsigned char *blob;
    size_t blobcap;
};

static void pg_error(sdi_db *db, const PGresult *res)
{
    /* "current transaction is aborted": the error that aborted it is the one to report */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (db->err && state && !strcmp(state, "25P02"))
        return;
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *d = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    if (!m)
        m = PQerrorMessage(db->conn);
    free(db->err);
    size_t n = strlen(m) + (d ? strlen(d) : 0) + 4;
    db->err = malloc(n);
    snprintf(db->err, n, "%s%s%s", m, d ? "; " : "", d ? d : "");
    /* libpq's own messages end with a newline */
    size_t len = strlen(db->err);
    while (len && (db->err[len - 1] == '\n' || db->err[len - 1] == ' '))
        db->err[--len] = 0;
}

/* Collects the answers of the deferred statements and leaves pipeline mode; 1 when one of
 * them failed (db->err says why). Every statement that waits for its answer comes after this. */
static int pg_sync(sdi_db *db)
{
    if (!db->pipeline)
        return 0;
    int sent = PQpipelineSync(db->conn) == 1, failed = !sent, synced = 0, at = 0;
    if (!sent)
        pg_error(db, NULL);
    while (!synced && PQstatus(db->conn) == CONNECTION_OK) {
        PGresult *r = PQgetResult(db->conn);
        if (!r) {
            if (!sent) /* no sync marks the end: waiting for one would block or spin */
                break;
            at++; /* the end of one statement's results */
            continue;
        }
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_FATAL_ERROR && !failed) {
            pg_error(db, r);
            failed = 1;
            if (db->pending_what && at < db->pending)
                memcpy(db->failed_what, db->pending_what[at], SDI_WHAT);
        }
        synced = es == PGRES_PIPELINE_SYNC;
        PQclear(r);
    }
    if (!synced && !failed) { /* the connection broke before the sync came back */
        pg_error(db, NULL);
        failed = 1;
    }
    PQexitPipelineMode(db->conn);
    db->pipeline = 0;
    db->pending = 0;
    return failed;
}

/* Server notices (CREATE EXTENSION IF NOT EXISTS ...) are not for the user: libcore prints nothing. */
static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*
 * The SDI's SQLite files go through a thin layer over SQLite's own VFS ("ctgis"), which changes
 * one thing: what a checkpoint writes into the database file leaves the page cache once it is
 * on the disk. A load is one transaction: its pages go to the WAL, and at commit the checkpoint
 * copies them all into the database, 300 MB for b400's half a million parcels, into pages of
 * the page cache the kernel must first allocate. On this machine's VM a page the guest has not
 * used lately costs several times the copy (the host backs it anew): b400's checkpoint took
 * 0.9-1.1 s. Written back and dropped 8 MB at a time, the windows reuse each other's pages:
 * 0.5 s. Durability is SQLite's as before (it syncs the file before it counts the checkpoint
 * done); the writeback started here and the pages dropped are hints (POSIX_FADV_DONTNEED drops
 * only clean pages), whose failure changes nothing but the time. A checkpoint of less than a
 * window, the usual small ingest, is left alone.
 */
enum { BULK_WINDOW = 8 << 20 };

typedef struct bulk_file {
    sqlite3_file base;
    sqlite3_file *real;       /* the default VFS's file, in the bytes after this struct */
    int fd;                   /* the main database's descriptor; -1 for other files, or unknown */
    sqlite3_int64 lo, hi;     /* the bytes written since the last window was closed */
    sqlite3_int64 plo, phi;   /* the window closed before, its writeback under way */
} bulk_file;

static sqlite3_vfs bulk_vfs, *base_vfs;

/* the file's other methods are the default VFS's */
#define REAL(f) (((bulk_file *)(f))->real)
static int bulk_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods->xClose(REAL(f));
    ((bulk_file *)f)->base.pMethods = NULL;
    return rc;
}
static int bulk_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int bulk_truncate(sqlite3_file *f, sqlite3_int64 n) { return REAL(f)->pMethods->xTruncate(REAL(f), n); }
static int bulk_size(sqlite3_file *f, sqlite3_int64 *n) { return REAL(f)->pMethods->xFileSize(REAL(f), n); }
static int bulk_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int bulk_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int bulk_check_lock(sqlite3_file *f, int *r) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), r); }
static int bulk_fcntl(sqlite3_file *f, int op, void *a) { return REAL(f)->pMethods->xFileControl(REAL(f), op, a); }
static int bulk_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int bulk_caps(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int bulk_shm_map(sqlite3_file *f, int i, int sz, int ext, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, ext, p);
}
static int bulk_shm_lock(sqlite3_file *f, int o, int n, int fl)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void bulk_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int bulk_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int bulk_fetch(sqlite3_file *f, sqlite3_int64 o, int n, void **p)
{
    return REAL(f)->pMethods->xFetch(REAL(f), o, n, p);
}
static int bulk_unfetch(sqlite3_file *f, sqlite3_int64 o, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), o, p);
}

static int bulk_sync(sqlite3_file *f, int flags)
{
    bulk_file *b = (bulk_file *)f;
    b->lo = b->hi = b->plo = b->phi = 0; /* what is left stays cached: the next writes start anew */
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int bulk_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 o)
{
    bulk_file *b = (bulk_file *)f;
    int rc = REAL(f)->pMethods->xWrite(REAL(f), buf, n, o);
    if (rc != SQLITE_OK || b->fd < 0)
        return rc;
    if (b->hi <= b->lo) {
        b->lo = o;
        b->hi = o + n;
    } else {
        b->lo = o < b->lo ? o : b->lo;
        b->hi = o + n > b->hi ? o + n : b->hi;
    }
    if (b->hi - b->lo < BULK_WINDOW)
        return rc;
    /* this window's writeback starts; the one before, whose writeback had a window's time,
     * is waited for and dropped */
    sync_file_range(b->fd, b->lo, b->hi - b->lo, SYNC_FILE_RANGE_WRITE);
    if (b->phi > b->plo) {
        sync_file_range(b->fd, b->plo, b->phi - b->plo,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
        posix_fadvise(b->fd, b->plo, b->phi - b->plo, POSIX_FADV_DONTNEED);
    }
    b->plo = b->lo;
    b->phi = b->hi;
    b->lo = b->hi = 0;
    return rc;
}

static const sqlite3_io_methods bulk_io = {
    3, bulk_close, bulk_read, bulk_write, bulk_truncate, bulk_sync, bulk_size, bulk_lock, bulk_unlock,
    bulk_check_lock, bulk_fcntl, bulk_sector, bulk_caps, bulk_shm_map, bulk_shm_lock, bulk_shm_barrier,
    bulk_shm_unmap, bulk_fetch, bulk_unfetch};

/* The descriptor of a main database the default ("unix") VFS opened: SQLite's unixFile starts
 * with its methods, its VFS, its inode record and then the descriptor, a layout that has not
 * changed since 2008 but is not an API. It counts only when it is open on the very file named
 * (same device and inode); -1 otherwise, and the file is written as SQLite alone would. */
static int unix_fd(const sqlite3_file *f, const char *name)
{
    struct unix_file_head {
        const sqlite3_io_methods *methods;
        sqlite3_vfs *vfs;
        void *inode;
        int h;
    } head;
    struct stat a, b;
    memcpy(&head, f, sizeof head);
    if (!name || head.h < 0 || fstat(head.h, &a) || stat(name, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return -1;
    return head.h;
}

static int bulk_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    bulk_file *b = (bulk_file *)f;
    memset(b, 0, sizeof *b);
    b->real = (sqlite3_file *)(b + 1);
    b->fd = -1;
    int rc = base_vfs->xOpen(base_vfs, name, b->real, flags, out);
    if (!b->real->pMethods)
        return rc; /* nothing to close: SQLite sees no methods either */
    b->base.pMethods = &bulk_io;
    if (rc == SQLITE_OK && (flags & SQLITE_OPEN_MAIN_DB) && b->real->pMethods->iVersion >= 3)
        b->fd = unix_fd(b->real, name);
    return rc;
}

/* Made over SQLite's "unix" VFS only (unix_fd() reads its files), as a copy of it whose own
 * methods ignore the VFS they are called with, but for the files it opens. */
static void bulk_register(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs || strcmp(base_vfs->zName, "unix"))
        return;
    bulk_vfs = *base_vfs;
    bulk_vfs.szOsFile = (int)(sizeof(bulk_file) + (size_t)base_vfs->szOsFile);
    bulk_vfs.pNext = NULL;
    bulk_vfs.zName = "ctgis";
    bulk_vfs.xOpen = bulk_open;
    sqlite3_vfs_register(&bulk_vfs, 0);
}

/* "ctgis", or NULL (the default VFS) where it cannot be made */
static const char *sdi_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, bulk_register);
    return sqlite3_vfs_find("ctgis") ? "ctgis" : NULL;
}

ct_status sdi_db_open(ct_ctx *ctx, sdi_db *db, const char *target, const char *name, int create)
{
    memset(db, 0, sizeof *db);
    db->name = name;
    if (!strncmp(target, "PG:", 3)) {
        db->pg = 1;
        db->conn = PQconnectdb(target + 3);
        if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
            pg_error(db, NULL);
            ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot connect: %s", name, db->err);
            sdi_db_close(db);
            return st;
        }
        PQsetNoticeProcessor(db->conn, pg_quiet, NULL);
        if (PQsetClientEncoding(db->conn, "UTF8") != 0) {
            sdi_db_close(db);
            return ct_error(ctx, CT_ERR_DB, "%s: the server cannot talk UTF-8", name);
        }
        return CT_OK;
    }
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(target, &db->lite, flags, sdi_vfs()) != SQLITE_OK) {
        ct_status st = ct_error(ctx, create ? CT_ERR_IO : CT_ERR_DB, "%s: cannot open: %s", name,
                                db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
        sdi_db_close(db);
        return st;
    }
    db->spatialite = spatialite_alloc_connection();
    spatialite_init_ex(db->lite, db->spatialite, 0);
    /* A reader waits for a writer's commit rather than failing; WAL lets both run at once. */
    sqlite3_busy_timeout(db->lite, 30000);
    return CT_OK;
}

void sdi_db_close(sdi_db *db)
{
    if (db->lite)
        sqlite3_close(db->lite);
    if (db->spatialite)
        spatialite_cleanup_ex(db->spatialite);
    if (db->conn) {
        pg_sync(db);
        PQfinish(db->conn);
    }
    free(db->err);
    free(db->pending_what);
    memset(db, 0, sizeof *db);
}

int sdi_db_take_failed_what(sdi_db *db, char *what)
{
    if (!db->failed_what[0])
        return 0;
    memcpy(what, db->failed_what, SDI_WHAT);
    db->failed_what[0] = 0;
    return 1;
}

const char *sdi_db_errmsg(const sdi_db *db)
{
    if (!db->pg)
        return db->lite ? sqlite3_errmsg(db->lite) : "not open";
    return db->err ? db->err : "no error";
}

long long sdi_db_last_rowid(const sdi_db *db)
{
    return db->lite ? sqlite3_last_insert_rowid(db->lite) : 0;
}

ct_status sdi_db_exec(ct_ctx *ctx, sdi_db *db, const char *sql)
{
    if (db->pg) {
        /* a deferred statement that failed is reported, but this one still runs: a ROLLBACK
         * must reach the server, or the connection stays in an aborted transaction */
        ct_status st = CT_OK;
        char what[SDI_WHAT];
        if (pg_sync(db))
            st = !ctx ? CT_ERR_DB
               : sdi_db_take_failed_what(db, what) ? ct_error(ctx, CT_ERR_DB, "%s: %s: %s", db->name, what, db->err)
                                                   : ct_error(ctx, CT_ERR_DB, "%s: %s", db->name, db->err);
        PGresult *res = PQexec(db->conn, sql);
        ExecStatusType es = PQresultStatus(res);
        if (!st && es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
            pg_error(db, res);
            st = ctx ? ct_error(ctx, CT_ERR_DB, "%s: %s (in: %.120s)", db->name, db->err, sql) : CT_ERR_DB;
        }
        PQclear(res);
        return st;
    }
    char *err = NULL;
    if (sqlite3_exec(db->lite, sql, NULL, NULL, &err) != SQLITE_OK) {
        ct_status st = ctx ? ct_error(ctx, CT_ERR_DB, "%s: %s (in: %.120s)", db->name, err ? err : "SQL error", sql)
                           : CT_ERR_DB;
        sqlite3_free(err);
        return st;
    }
    return CT_OK;
}

sdi_stmt *sdi_db_prepare(ct_ctx *ctx, sdi_db *db, const char *sql)
{
    sdi_stmt *st = calloc(1, sizeof *st);
    if (!st) {
        if (ctx)
            ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    st->db = db;
    st->row = -1;
    if (!db->pg) {
        if (sqlite3_prepare_v2(db->lite, sql, -1, &st->lite, NULL) != SQLITE_OK) {
            if (ctx)
                ct_error(ctx, CT_ERR_DB, "%s: %s (in: %.120s)", db->name, sqlite3_errmsg(db->lite), sql);
            free(st);
            return NULL;
        }
        return st;
    }
    /* '?' outside quoted literals becomes $1, $2, ... */
    size_t n = strlen(sql);
    st->sql = malloc(4 * n + 1);
    char *o = st->sql;
    int quoted = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        if (*p == '?' && !quoted)
            o += sprintf(o, "$%d", ++st->nparams);
        else
            *o++ = *p;
    }
    *o = 0;
    int np = st->nparams ? st->nparams : 1;
    st->vals = calloc((size_t)np, sizeof *st->vals);
    st->lens = calloc((size_t)np, sizeof *st->lens);
    st->fmts = calloc((size_t)np, sizeof *st->fmts);
    st->num = calloc((size_t)np, sizeof *st->num);
    if (!st->vals || !st->lens || !st->fmts || !st->num) {
        sdi_finalize(st);
        if (ctx)
            ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return st;
}

/* PostgreSQL parameters: text, except blobs, which go as binary bytea (no escaping). */
static void pg_bind(sdi_stmt *st, int i, const char *v, int len, int binary)
{
    if (i < 1 || i > st->nparams)
        return;
    st->vals[i - 1] = v;
    st->lens[i - 1] = len;
    st->fmts[i - 1] = binary;
}

void sdi_bind_text(sdi_stmt *st, int i, const char *v)
{
    if (st->lite)
        sqlite3_bind_text(st->lite, i, v, -1, SQLITE_STATIC);
    else
        pg_bind(st, i, v, 0, 0);
}

void sdi_bind_int64(sdi_stmt *st, int i, long long v)
{
    if (st->lite)
        sqlite3_bind_int64(st->lite, i, v);
    else if (i >= 1 && i <= st->nparams) {
        snprintf(st->num[i - 1], sizeof st->num[0], "%lld", v);
        pg_bind(st, i, st->num[i - 1], 0, 0);
    }
}

void sdi_bind_double(sdi_stmt *st, int i, double v)
{
    if (st->lite)
        sqlite3_bind_double(st->lite, i, v);
    else if (i >= 1 && i <= st->nparams) {
        snprintf(st->num[i - 1], sizeof st->num[0], "%.17g", v);
        pg_bind(st, i, st->num[i - 1], 0, 0);
    }
}

void sdi_bind_blob(sdi_stmt *st, int i, const void *v, size_t n)
{
    if (st->lite)
        sqlite3_bind_blob(st->lite, i, v, (int)n, SQLITE_STATIC);
    else
        pg_bind(st, i, v, (int)n, 1);
}

void sdi_bind_null(sdi_stmt *st, int i)
{
    if (st->lite)
        sqlite3_bind_null(st->lite, i);
    else
        pg_bind(st, i, NULL, 0, 0);
}

static int pg_run(sdi_stmt *st)
{
    sdi_db *db = st->db;
    PQclear(st->res);
    st->res = NULL;
    /* only a deferred statement already prepared goes into the pipeline without waiting; the
     * others (and its own PREPARE) wait for the answers before them */
    if (!(st->defer && st->name[0]) && pg_sync(db))
        return SDI_ERROR;
    if ((st->runs == 1 || st->defer) && !st->name[0]) {
        char name[32];
        snprintf(name, sizeof name, "ct_sdi_%u", ++db->serial);
        PGresult *p = PQprepare(db->conn, name, st->sql, st->nparams, NULL);
        int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
        if (!ok)
            pg_error(db, p);
        PQclear(p);
        if (!ok)
            return SDI_ERROR;
        memcpy(st->name, name, sizeof name);
    }
    st->runs++;
    if (st->defer) {
        if (!db->pipeline && PQenterPipelineMode(db->conn) != 1) {
            pg_error(db, NULL);
            return SDI_ERROR;
        }
        db->pipeline = 1;
        if (!db->pending_what) /* the descriptions are only for messages: none when out of memory */
            db->pending_what = malloc(SDI_PIPELINE * sizeof *db->pending_what);
        if (db->pending_what)
            memcpy(db->pending_what[db->pending], st->what, SDI_WHAT);
        if (PQsendQueryPrepared(db->conn, st->name, st->nparams, st->vals, st->lens, st->fmts, 0) != 1) {
            pg_error(db, NULL);
            return SDI_ERROR;
        }
        st->row = -1;
        /* bounded: the answers are collected every SDI_PIPELINE statements */
        return ++db->pending >= SDI_PIPELINE && pg_sync(db) ? SDI_ERROR : SDI_DONE;
    }
    st->res = st->name[0] ? PQexecPrepared(db->conn, st->name, st->nparams, st->vals, st->lens, st->fmts, 0)
                          : PQexecParams(db->conn, st->sql, st->nparams, NULL, st->vals, st->lens, st->fmts, 0);
    ExecStatusType es = PQresultStatus(st->res);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        pg_error(db, st->res);
        PQclear(st->res);
        st->res = NULL;
        st->row = -1;
        return SDI_ERROR;
    }
    st->nrows = es == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    st->row = 0;
    return st->nrows > 0 ? SDI_ROW : SDI_DONE;
}

void sdi_stream(sdi_stmt *st)
{
    st->stream = 1;
}

void sdi_defer(sdi_stmt *st)
{
    st->defer = 1;
}

int sdi_deferred(const sdi_stmt *st)
{
    return st->defer && st->db->pg;
}

void sdi_defer_what(sdi_stmt *st, const char *what)
{
    snprintf(st->what, sizeof st->what, "%s", what);
}

static void pg_close_cursor(sdi_stmt *st)
{
    if (!st->cursor[0])
        return;
    char sql[64];
    snprintf(sql, sizeof sql, "CLOSE %s", st->cursor);
    pg_sync(st->db);
    PQclear(PQexec(st->db->conn, sql));
    if (st->own_tx)
        PQclear(PQexec(st->db->conn, "COMMIT"));
    st->own_tx = 0;
    st->cursor[0] = 0;
}

static int pg_fetch(sdi_stmt *st)
{
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH %d FROM %s", SDI_BATCH, st->cursor);
    PQclear(st->res);
    st->res = NULL;
    st->row = 0;
    st->nrows = 0;
    if (pg_sync(st->db)) {
        pg_close_cursor(st);
        return SDI_ERROR;
    }
    st->res = PQexec(st->db->conn, sql);
    if (PQresultStatus(st->res) != PGRES_TUPLES_OK) {
        pg_error(st->db, st->res);
        pg_close_cursor(st);
        return SDI_ERROR;
    }
    st->nrows = PQntuples(st->res);
    if (st->nrows == 0) {
        pg_close_cursor(st);
        return SDI_DONE;
    }
    return SDI_ROW;
}

static int pg_open_cursor(sdi_stmt *st)
{
    sdi_db *db = st->db;
    if (pg_sync(db))
        return SDI_ERROR;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
        PQclear(PQexec(db->conn, "BEGIN"));
        st->own_tx = 1;
    }
    snprintf(st->cursor, sizeof st->cursor, "ct_cursor_%u", ++db->serial);
    size_t n = strlen(st->sql) + 64;
    char *decl = malloc(n);
    if (!decl)
        return SDI_ERROR;
    snprintf(decl, n, "DECLARE %s NO SCROLL CURSOR FOR %s", st->cursor, st->sql);
    PGresult *r = PQexecParams(db->conn, decl, st->nparams, NULL, st->vals, st->lens, st->fmts, 0);
    free(decl);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        pg_error(db, r);
    PQclear(r);
    if (!ok) {
        if (st->own_tx)
            PQclear(PQexec(db->conn, "ROLLBACK"));
        st->own_tx = 0;
        st->cursor[0] = 0;
        return SDI_ERROR;
    }
    return pg_fetch(st);
}

int sdi_step(sdi_stmt *st)
{
    if (st->lite) {
        int rc = sqlite3_step(st->lite);
        return rc == SQLITE_ROW ? SDI_ROW : rc == SQLITE_DONE ? SDI_DONE : SDI_ERROR;
    }
    if (st->stream) {
        if (st->cursor[0] && ++st->row < st->nrows)
            return SDI_ROW;
        return st->cursor[0] ? pg_fetch(st) : pg_open_cursor(st);
    }
    /* like SQLite, a step after the last row runs the statement again */
    if (st->row < 0 || st->row >= st->nrows)
        return pg_run(st);
    return ++st->row < st->nrows ? SDI_ROW : SDI_DONE;
}

void sdi_reset(sdi_stmt *st)
{
    if (st->lite) {
        sqlite3_reset(st->lite);
        sqlite3_clear_bindings(st->lite);
        return;
    }
    pg_close_cursor(st);
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    for (int i = 0; i < st->nparams; i++)
        pg_bind(st, i + 1, NULL, 0, 0);
}

void sdi_finalize(sdi_stmt *st)
{
    if (!st)
        return;
    if (st->lite)
        sqlite3_finalize(st->lite);
    else
        pg_close_cursor(st);
    PQclear(st->res);
    if (st->name[0] && st->db->conn) {
        char sql[64];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        pg_sync(st->db);
        PQclear(PQexec(st->db->conn, sql));
    }
    free(st->sql);
    free(st->vals);
    free(st->lens);
    free(st->fmts);
    free(st->num);
    free(st->blob);
    free(st);
}

/* ---------------------------------------------------------------------------------------- */
/* Columns                                                                                   */

static int pg_has(const sdi_stmt *st, int c)
{
    return st->res && st->row >= 0 && st->row < st->nrows && c >= 0 && c < PQnfields(st->res) &&
           !PQgetisnull(st->res, st->row, c);
}

int sdi_column_count(sdi_stmt *st)
{
    if (st->lite)
        return sqlite3_column_count(st->lite);
    return st->res ? PQnfields(st->res) : 0;
}

const char *sdi_column_name(sdi_stmt *st, int c)
{
    if (st->lite)
        return sqlite3_column_name(st->lite, c);
    return st->res ? PQfname(st->res, c) : NULL;
}

int sdi_column_type(sdi_stmt *st, int c)
{
    if (st->lite) {
        switch (sqlite3_column_type(st->lite, c)) {
        case SQLITE_INTEGER: return SDI_INTEGER;
        case SQLITE_FLOAT: return SDI_FLOAT;
        case SQLITE_TEXT: return SDI_TEXT;
        case SQLITE_BLOB: return SDI_BLOB;
        default: return SDI_NULL;
        }
    }
    if (!pg_has(st, c))
        return SDI_NULL;
    switch (PQftype(st->res, c)) {
    case OID_BOOL: case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID: return SDI_INTEGER;
    case OID_FLOAT4: case OID_FLOAT8: case OID_NUMERIC: return SDI_FLOAT;
    case OID_BYTEA: return SDI_BLOB;
    default: return SDI_TEXT;
    }
}

const char *sdi_column_text(sdi_stmt *st, int c)
{
    if (st->lite)
        return (const char *)sqlite3_column_text(st->lite, c);
    return pg_has(st, c) ? PQgetvalue(st->res, st->row, c) : NULL;
}

long long sdi_column_int64(sdi_stmt *st, int c)
{
    if (st->lite)
        return sqlite3_column_int64(st->lite, c);
    if (!pg_has(st, c))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, c);
    if (PQftype(st->res, c) == OID_BOOL)
        return *v == 't';
    return strtoll(v, NULL, 10);
}

double sdi_column_double(sdi_stmt *st, int c)
{
    if (st->lite)
        return sqlite3_column_double(st->lite, c);
    return pg_has(st, c) ? strtod(PQgetvalue(st->res, st->row, c), NULL) : 0.0;
}

size_t sdi_column_bytes(sdi_stmt *st, int c)
{
    if (st->lite)
        return (size_t)sqlite3_column_bytes(st->lite, c);
    if (!pg_has(st, c))
        return 0;
    /* bytea in text form is "\x" and two hex digits a byte */
    size_t n = (size_t)PQgetlength(st->res, st->row, c);
    return PQftype(st->res, c) == OID_BYTEA && n >= 2 ? (n - 2) / 2 : n;
}

static int hexval(int ch)
{
    return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

const void *sdi_column_blob(sdi_stmt *st, int c)
{
    if (st->lite)
        return sqlite3_column_blob(st->lite, c);
    if (!pg_has(st, c))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, c);
    if (PQftype(st->res, c) != OID_BYTEA)
        return v;
    size_t n = sdi_column_bytes(st, c);
    if (ct_grow(&st->blob, &st->blobcap, n, 1))
        return NULL;
    for (size_t i = 0; i < n; i++)
        st->blob[i] = (unsigned char)(hexval(v[2 + 2 * i]) << 4 | hexval(v[3 + 2 * i]));
    return st->blob;
}
