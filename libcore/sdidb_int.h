/*
 * sdidb_int.h — the SDI's database connection: one small statement interface over SQLite
 * (SpatiaLite) and over PostgreSQL (PostGIS, through libpq), so that sdi.c and ingest.c are
 * written once.
 *
 * Statements use '?' placeholders on both (rewritten to $1..$n for PostgreSQL when prepared) and
 * follow SQLite's life cycle: prepare, bind, step until SDI_DONE, reset (which also clears the
 * bindings), finalize. Bound text and blobs are not copied: they must stay valid until the next
 * step. Column values stay valid until the next step or reset.
 *
 * What differs between the two SQL dialects is kept in sdi.c, in the sdi_dialect table and
 * the few functions next to it; this file only moves statements and rows.
 */
#ifndef CT_SDIDB_INT_H
#define CT_SDIDB_INT_H

#include <stddef.h>
#include <sqlite3.h>
#include <libpq-fe.h>
#include "ct/context.h"

/* the length of a description of a deferred statement (sdi_defer_what()) */
enum { SDI_WHAT = 200 };

typedef struct sdi_db {
    int pg;            /* 1: PostgreSQL, 0: SQLite */
    sqlite3 *lite;
    void *spatialite;
    PGconn *conn;
    const char *name;  /* for messages: the SDI as the user named it, without a password */
    unsigned serial;   /* names of server-side prepared statements */
    char *err;         /* PostgreSQL: the last error */
    int pipeline;      /* PostgreSQL: deferred statements are on their way */
    int pending;       /* how many */
    char (*pending_what)[SDI_WHAT]; /* and what each is (sdi_defer_what()), SDI_PIPELINE of them */
    char failed_what[SDI_WHAT];     /* what the deferred statement that failed was, "" if none */
} sdi_db;

typedef struct sdi_stmt sdi_stmt;

/* the results of sdi_step() */
enum { SDI_ERROR = -1, SDI_DONE = 0, SDI_ROW = 1 };
/* the types of sdi_column_type() */
enum { SDI_NULL = 0, SDI_INTEGER, SDI_FLOAT, SDI_TEXT, SDI_BLOB };

/* Opens target: "PG:<libpq connection string>" or an SQLite file (created when create is set). */
ct_status sdi_db_open(ct_ctx *ctx, sdi_db *db, const char *target, const char *name, int create);
void sdi_db_close(sdi_db *db);
const char *sdi_db_errmsg(const sdi_db *db);
/* SQLite: the rowid of the last row inserted (PostgreSQL has INSERT ... RETURNING instead). */
long long sdi_db_last_rowid(const sdi_db *db);
/* Runs one or more ';'-separated statements without parameters; ctx NULL: quietly. */
ct_status sdi_db_exec(ct_ctx *ctx, sdi_db *db, const char *sql);

/* ctx NULL: a failure is not reported (the caller has a default) */
sdi_stmt *sdi_db_prepare(ct_ctx *ctx, sdi_db *db, const char *sql);
void sdi_bind_text(sdi_stmt *st, int i, const char *v); /* NULL binds NULL */
void sdi_bind_int64(sdi_stmt *st, int i, long long v);
void sdi_bind_double(sdi_stmt *st, int i, double v);
void sdi_bind_blob(sdi_stmt *st, int i, const void *v, size_t n);
void sdi_bind_null(sdi_stmt *st, int i);
/* Marks a query whose rows may not fit in memory: PostgreSQL reads them through a cursor, in
 * batches (inside the open transaction, or one of its own); SQLite reads row by row anyway.
 * Other statements may run between its steps. */
void sdi_stream(sdi_stmt *st);
/* Marks a statement whose result nobody reads (an INSERT of the change log, say): PostgreSQL
 * sends it without waiting for the answer (libpq's pipeline mode); the answers of a run of
 * such statements are collected in one sync before the next statement that waits for its own,
 * so the saving is a round trip per deferred statement after the first of a run (the usual
 * feature, one deferred row before the next lookup, saves none). Its step says SDI_DONE, and
 * an error shows at that next statement (sdi_db_take_failed_what() says which it was).
 * SQLite runs it at once anyway. */
void sdi_defer(sdi_stmt *st);
/* What the next run of a deferred statement is, for the message should it fail ("cannot
 * record rejected feature 12 of a.shp"): its error shows at a later statement, whose own
 * description would name the wrong thing. */
void sdi_defer_what(sdi_stmt *st, const char *what);
/* Whether a step of st is sent without waiting for its answer (deferred, on PostgreSQL). */
int sdi_deferred(const sdi_stmt *st);
/* Copies into what (SDI_WHAT bytes) the description of the deferred statement whose failure
 * the last error is, and forgets it. @return 1, or 0 when the last error is not one. */
int sdi_db_take_failed_what(sdi_db *db, char *what);
int sdi_step(sdi_stmt *st);
void sdi_reset(sdi_stmt *st);
void sdi_finalize(sdi_stmt *st); /* NULL is a no-op */

int sdi_column_count(sdi_stmt *st);
const char *sdi_column_name(sdi_stmt *st, int c);
int sdi_column_type(sdi_stmt *st, int c);
const char *sdi_column_text(sdi_stmt *st, int c); /* NULL for NULL */
long long sdi_column_int64(sdi_stmt *st, int c);
double sdi_column_double(sdi_stmt *st, int c);
const void *sdi_column_blob(sdi_stmt *st, int c);
size_t sdi_column_bytes(sdi_stmt *st, int c);

#endif
