/* sdi.c — the SDI store on SpatiaLite or PostGIS: schema, versions, change log, catalogue, undo. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <libpq-fe.h>

#include "ct/sdi.h"
#include "ct/vector.h"
#include "context_int.h"
#include "coverage_int.h"
#include "sdi_int.h"

#define SCHEMA_VERSION "1"

/* ---------------------------------------------------------------------------------------- */
/* The schema                                                                                */

static const ct_sdi_column parcel_cols[] = {
    {"sheet", "TEXT", 0, "SoTo|SHBANDO|SO_TO|TOBANDO|SOHIEUTO|sheet|map_sheet", "map sheet number (tờ bản đồ)"},
    {"parcel_no", "TEXT", 0, "SoThua|SHTHUA|SO_THUA|THUA|parcel|parcel_no", "parcel number in its sheet (số thửa)"},
    {"legal_area", "REAL", 0, "DienTich|DIENTICH|DT_PHAPLY|DTPL|legal_area|area", "legal area, m²"},
    {"landuse", "TEXT", 0, "MucDich|MDSD|KHMDSD|LOAIDAT|MaMDSD|landuse|land_use", "land-use code, TT 08/2024"},
    {"landuse_src", "TEXT", 0, "", "land-use code as the source had it"},
    {"owner", "TEXT", 1, "TenChu|CHUSUDUNG|TEN_CHU|ChuSuDung|owner", "owner name (restricted)"},
    {"owner_id", "TEXT", 1, "CMND|CCCD|SoCMND|owner_id", "owner ID number (restricted)"},
    {"address", "TEXT", 0, "DiaChi|DIACHI|DIA_CHI|address", "address"},
    {"ward", "TEXT", 0, "MaXa|MAXA|MA_XA|ward", "ward code"},
    {"drawn_area", "REAL", 0, "", "area of the geometry, m²"},
};
static const ct_sdi_column zone_cols[] = {
    {"zone_id", "TEXT", 0, "MaKhu|MAKHU|MaO|zone_id|id", "zone identifier"},
    {"name", "TEXT", 0, "TenKhu|TEN|name", "zone name"},
    {"landuse", "TEXT", 0, "MaQH|MucDich|MDSD|QH_MDSD|KyHieu|landuse|land_use", "planned land-use code, TT 08/2024"},
    {"landuse_src", "TEXT", 0, "", "planned code as the source had it"},
    {"far", "REAL", 0, "HeSoSDD|HSSDD|far", "floor-area ratio"},
    {"height_limit", "REAL", 0, "TangCao|TANGCAO|ChieuCao|height_limit", "height limit (floors or m, as the plan gives)"},
    {"decision", "TEXT", 0, "QuyetDinh|QD|decision", "approving decision"},
};
static const ct_sdi_column admin_cols[] = {
    {"code", "TEXT", 0, "MaPX|MaXa|MA_XA|MaDVHC|code|ma", "unit code"},
    {"name", "TEXT", 0, "TenPX|TenXa|TEN_XA|TenDVHC|name|ten", "unit name"},
    {"level", "TEXT", 0, "Cap|CapDVHC|level|loai", "phường, xã, quận, ..."},
    {"parent", "TEXT", 0, "QuanHuyen|ThanhPho|Huyen|parent|district", "the unit it belongs to"},
    {"new_code", "TEXT", 0, "MaPX2025|MaMoi|new_code", "the code of the unit it merged into on 1 July 2025"},
    {"legal_area", "REAL", 0, "DienTich|area|legal_area", "official area, m² (as the source gives it)"},
    {"valid_from", "TEXT", 0, "HieuLucTu|valid_from", "first day of validity (ISO date), NULL: always"},
    {"valid_to", "TEXT", 0, "HieuLucDen|valid_to", "first day no longer valid (ISO date), NULL: still valid"},
};
static const ct_sdi_column dike_cols[] = {
    {"dike_id", "TEXT", 0, "MaDe|MA_DE|dike_id|id", "dike identifier"},
    {"name", "TEXT", 0, "Ten|TenDe|name", "name"},
    {"crest", "REAL", 0, "CaoTrinh|CAODINH|DinhDe|crest|crest_m", "crest height, m above Hòn Dấu"},
    {"status", "TEXT", 0, "TrangThai|TinhTrang|status", "condition as surveyed"},
    {"length", "REAL", 0, "ChieuDai|length", "length as the source gives it, m"},
};

#define NCOL(a) ((int)(sizeof a / sizeof a[0]))
static const ct_sdi_layer_def layers[CT_SDI_NLAYERS] = {
    [CT_SDI_PARCELS] = {"parcels", "cadastral", "MULTIPOLYGON", parcel_cols, NCOL(parcel_cols), "Cadastral parcels (thửa đất)"},
    [CT_SDI_ZONES] = {"planning_zones", "planning", "MULTIPOLYGON", zone_cols, NCOL(zone_cols), "Land-use planning zones (quy hoạch)"},
    [CT_SDI_ADMIN] = {"admin_units", "admin", "MULTIPOLYGON", admin_cols, NCOL(admin_cols), "Administrative units (phường/xã)"},
    [CT_SDI_DIKES] = {"dikes", "dikes", "MULTILINESTRING", dike_cols, NCOL(dike_cols), "Dikes and river embankments"},
};

const ct_sdi_layer_def *ct_sdi_layer_schema(ct_sdi_layer l) { return (unsigned)l < CT_SDI_NLAYERS ? &layers[l] : NULL; }

int ct_sdi_layer_by_name(const char *name)
{
    for (int i = 0; i < CT_SDI_NLAYERS; i++)
        if (!strcasecmp(name, layers[i].name) || !strcasecmp(name, layers[i].kind))
            return i;
    return -1;
}

/* ---------------------------------------------------------------------------------------- */
/* The two databases                                                                         */

/* What differs between SpatiaLite's SQL and PostGIS's: the rest of the SQL is shared. The DDL
 * (geometry columns, spatial indexes, the spatial reference) is in create_layer() and
 * create_sdi(); the R*Tree rows SpatiaLite needs are in index_rows(). */
static const sdi_dialect dialects[2] = {
    [0] = {"MbrMinX", "MbrMinY", "MbrMaxX", "MbrMaxY", "AsBinary", "min", "max",
           "?", "", "BEGIN IMMEDIATE", /* the geometry: spatialite_blob() */
           "SELECT CheckSpatialIndex('%s', 'geom')",
           "SELECT count(*) FROM sqlite_master WHERE lower(name) = lower(?)", "rowid"},
    /* a second writer waits for the first at the lock (readers are never blocked) instead of
     * failing on the version number at commit */
    [1] = {"ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax", "ST_AsBinary", "least", "greatest",
           "ST_Multi(ST_GeomFromWKB(?, %d))", "::numeric",
           "BEGIN; LOCK TABLE sdi_version IN SHARE ROW EXCLUSIVE MODE",
           "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
           " WHERE i.indrelid = '%s'::regclass AND a.amname = 'gist' AND i.indisvalid",
           "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND lower(relname) = lower(?)",
           "seq"},
};

/* An SDI statement failed; what it was doing, unless the error is a deferred statement's
 * (PostgreSQL), which then names itself. */
static ct_status db_fail(ct_ctx *ctx, ct_sdi *s, const char *what)
{
    char deferred[SDI_WHAT];
    if (sdi_db_take_failed_what(&s->db, deferred))
        what = deferred;
    return ct_error(ctx, CT_ERR_DB, "%s: %s: %s", s->path, what, sdi_db_errmsg(&s->db));
}

/* Steps a statement that returns no rows; fmt... says what it does ("cannot record rejected
 * feature 12 of a.shp") should it fail. Formatted only when needed: for a deferred statement,
 * whose error comes back later (sdi_defer_what()), or on failure. */
__attribute__((format(printf, 4, 5))) static ct_status step_or_fail(ct_ctx *ctx, ct_sdi *s, sdi_stmt *q,
                                                                    const char *fmt, ...)
{
    char what[SDI_WHAT] = "";
    va_list ap;
    const int deferred = sdi_deferred(q);
    if (deferred) {
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        sdi_defer_what(q, what);
    }
    if (sdi_step(q) == SDI_DONE)
        return CT_OK;
    if (!deferred) {
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
    }
    return db_fail(ctx, s, what);
}

ct_status ct_sdi_exec(ct_ctx *ctx, ct_sdi *s, const char *sql) { return sdi_db_exec(ctx, &s->db, sql); }

sdi_stmt *ct_sdi_prepare(ct_ctx *ctx, ct_sdi *s, const char *sql)
{
    return sdi_db_prepare(ctx, &s->db, sql);
}

/* One integer from a query; def when no row, a NULL or an error. */
long long ct_sdi_query_int(ct_sdi *s, const char *sql, long long def)
{
    sdi_stmt *st = sdi_db_prepare(NULL, &s->db, sql);
    long long v = def;
    if (st && sdi_step(st) == SDI_ROW && sdi_column_type(st, 0) != SDI_NULL)
        v = sdi_column_int64(st, 0);
    sdi_finalize(st);
    return v;
}

static char *meta_get(ct_ctx *ctx, ct_sdi *s, const char *key)
{
    sdi_stmt *st = ct_sdi_prepare(ctx, s, "SELECT value FROM sdi_meta WHERE key = ?");
    char *v = NULL;
    if (st) {
        sdi_bind_text(st, 1, key);
        if (sdi_step(st) == SDI_ROW && sdi_column_text(st, 0))
            v = strdup(sdi_column_text(st, 0));
    }
    sdi_finalize(st);
    return v;
}

/* Is there a table, view or index of that name (in any case) in the SDI? */
static int has_relation(ct_sdi *s, const char *name)
{
    sdi_stmt *q = sdi_db_prepare(NULL, &s->db, s->sql->relations);
    int n = 0;
    if (q) {
        sdi_bind_text(q, 1, name);
        n = sdi_step(q) == SDI_ROW ? (int)sdi_column_int64(q, 0) : 0;
    }
    sdi_finalize(q);
    return n;
}

/* A schema type in the database's words: REAL is a double (PostgreSQL's REAL is 4 bytes). */
static const char *column_type(const char *type)
{
    return strcmp(type, "REAL") ? type : "DOUBLE PRECISION";
}

/* The SDI's name in messages: a connection string loses its password. */
static char *display_name(const char *target)
{
    char *d = malloc(strlen(target) + 4); /* "***" may be longer than the password */
    if (!d)
        return NULL;
    strcpy(d, target);
    char *p = strncmp(d, "PG:", 3) ? NULL : strstr(d, "password=");
    if (p) {
        char *end = p + 9;
        if (*end == '\'')
            for (end++; *end && *end != '\''; end += *end == '\\' && end[1] ? 2 : 1)
                ;
        while (*end && *end != ' ')
            end++;
        memmove(p + 12, end, strlen(end) + 1);
        memcpy(p + 9, "***", 3);
    }
    return d;
}

static ct_status connect(ct_ctx *ctx, const char *target, const char *name, int create, ct_sdi **out)
{
    ct_sdi *s = calloc(1, sizeof *s);
    if (!s)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    s->path = display_name(name);
    s->target = strdup(name);
    if (!s->path || !s->target) {
        ct_sdi_close(s);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    ct_status st = sdi_db_open(ctx, &s->db, target, s->path, create);
    if (st) {
        ct_sdi_close(s);
        return st;
    }
    s->sql = &dialects[s->db.pg];
    *out = s;
    return CT_OK;
}

/* The table of one layer, its spatial index, its keys and its view of current features. */
static ct_status create_layer(ct_ctx *ctx, ct_sdi *s, const ct_sdi_layer_def *d, int srid)
{
    char sql[8192];
    const char *n = d->name;
    int len = snprintf(sql, sizeof sql,
                       "CREATE TABLE %s(fid %s PRIMARY KEY, fkey TEXT NOT NULL, v_from INTEGER NOT NULL,"
                       " v_to INTEGER, source TEXT NOT NULL, source_id TEXT, digest TEXT NOT NULL", n,
                       s->db.pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY" : "INTEGER");
    for (int c = 0; c < d->ncolumns; c++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, ", %s %s", d->columns[c].name, column_type(d->columns[c].sql_type));
    if (s->db.pg)
        len += snprintf(sql + len, sizeof sql - (size_t)len,
                        ", geom geometry(%s, %d));"
                        /* PostgreSQL keeps its GiST index itself, inside the transaction */
                        "CREATE INDEX %s_geom ON %s USING gist(geom);", d->geom_type, srid, n, n);
    else
        len += snprintf(sql + len, sizeof sql - (size_t)len,
                        ");"
                        "SELECT AddGeometryColumn('%s', 'geom', %d, '%s', 'XY');"
                        "SELECT CreateSpatialIndex('%s', 'geom');"
                        /* SpatiaLite keeps its R*Tree, a last-modified time and the geometry
                         * type and SRID by triggers that run SQL for every row (the type check
                         * alone scans geometry_columns with lower() each time): ten times the
                         * cost of the insert itself. The SDI is written by ctgis only, which
                         * adds the R*Tree rows itself and checks the type (ct_sdi_put); the
                         * SRID is the one it writes. */
                        "DROP TRIGGER gii_%s_geom; DROP TRIGGER giu_%s_geom; DROP TRIGGER gid_%s_geom;"
                        "DROP TRIGGER tmi_%s_geom; DROP TRIGGER tmu_%s_geom; DROP TRIGGER tmd_%s_geom;"
                        "DROP TRIGGER ggi_%s_geom; DROP TRIGGER ggu_%s_geom;",
                        n, srid, d->geom_type, n, n, n, n, n, n, n, n, n);
    len += snprintf(sql + len, sizeof sql - (size_t)len,
                    "CREATE UNIQUE INDEX %s_key ON %s(fkey) WHERE v_to IS NULL;"
                    "CREATE INDEX %s_versions ON %s(v_from);"
                    "CREATE VIEW %s_current AS SELECT * FROM %s WHERE v_to IS NULL;",
                    n, n, n, n, n, n);
    /* a source's current features (what a load no longer finds is removed); the parcels have
     * parcels_sheet instead, below */
    if (strcmp(n, "parcels"))
        len += snprintf(sql + len, sizeof sql - (size_t)len, "CREATE INDEX %s_source ON %s(source) WHERE v_to IS NULL;",
                        n, n);
    /* PostGIS finds the view's geometry column itself; SpatiaLite needs it registered */
    if (!s->db.pg)
        snprintf(sql + len, sizeof sql - (size_t)len,
                 "INSERT INTO views_geometry_columns(view_name, view_geometry, view_rowid, f_table_name,"
                 " f_geometry_column, read_only) VALUES ('%s_current', 'geom', 'fid', '%s', 'geom', 1);", n, n);
    ct_status st = ct_sdi_exec(ctx, s, sql);
    /* the coverage checks of ingest read a source sheet by sheet: an index, not a sort; it is
     * also the parcels' index of a source's current features, one index fewer to keep up for
     * every parcel put (b400: 0.3-0.5 s) */
    if (!st && !strcmp(n, "parcels"))
        st = ct_sdi_exec(ctx, s, "CREATE INDEX parcels_sheet ON parcels(source, sheet) WHERE v_to IS NULL");
    sdi_stmt *fs = st ? NULL : ct_sdi_prepare(ctx, s, "INSERT INTO sdi_field VALUES (?, ?, ?, ?, ?)");
    for (int c = 0; fs && !st && c < d->ncolumns; c++) {
        sdi_bind_text(fs, 1, n);
        sdi_bind_text(fs, 2, d->columns[c].name);
        sdi_bind_text(fs, 3, d->columns[c].sql_type);
        sdi_bind_int64(fs, 4, d->columns[c].restricted);
        sdi_bind_text(fs, 5, d->columns[c].description);
        if (sdi_step(fs) != SDI_DONE)
            st = db_fail(ctx, s, "cannot write the field list");
        sdi_reset(fs);
    }
    sdi_finalize(fs);
    return !fs && !st ? CT_ERR_DB : st;
}

/* The spatial reference of the SDI CRS. SpatiaLite has its own EPSG table; PostGIS's lacks some
 * VN-2000 TM-3 zones, which get ctgis's definition, with the official TOWGS84. */
static ct_status create_srs(ct_ctx *ctx, ct_sdi *s, const ct_crs *crs, int srid)
{
    char sql[128];
    if (!s->db.pg) {
        snprintf(sql, sizeof sql, "SELECT InsertEpsgSrid(%d);", srid);
        ct_status st = ct_sdi_exec(ctx, s, sql);
        if (!st && ct_sdi_query_int(s, "SELECT count(*) FROM spatial_ref_sys", 0) < 1)
            st = ct_error(ctx, CT_ERR_CRS, "%s: SpatiaLite does not know EPSG:%d", s->path, srid);
        return st;
    }
    sdi_stmt *q = ct_sdi_prepare(ctx, s,
        "INSERT INTO spatial_ref_sys(srid, auth_name, auth_srid, srtext) VALUES (?, 'EPSG', ?, ?)"
        " ON CONFLICT (srid) DO NOTHING");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, srid);
    sdi_bind_int64(q, 2, srid);
    sdi_bind_text(q, 3, ct_crs_wkt(crs));
    ct_status st = sdi_step(q) == SDI_DONE ? CT_OK : db_fail(ctx, s, "cannot add the CRS to spatial_ref_sys");
    sdi_finalize(q);
    return st;
}

/* The whole schema, in the open transaction. */
static ct_status create_sdi(ct_ctx *ctx, ct_sdi *s, const ct_crs *crs, int srid, const char *raster_dir)
{
    ct_status st = create_srs(ctx, s, crs, srid);
    if (!st)
        st = ct_sdi_exec(ctx, s,
            "CREATE TABLE sdi_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE sdi_version(version INTEGER PRIMARY KEY, time TEXT NOT NULL, command TEXT NOT NULL,"
            " kind TEXT, source TEXT, added INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0,"
            " removed INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,"
            " repaired INTEGER NOT NULL DEFAULT 0, undoes INTEGER, undone_by INTEGER);"
            "CREATE TABLE sdi_source(version INTEGER NOT NULL, layer TEXT NOT NULL, name TEXT NOT NULL,"
            " title TEXT, path TEXT, checksum TEXT, source_crs TEXT, encoding TEXT, licence TEXT,"
            " features INTEGER, minx DOUBLE PRECISION, miny DOUBLE PRECISION, maxx DOUBLE PRECISION,"
            " maxy DOUBLE PRECISION, PRIMARY KEY(layer, name, version));"
            "CREATE TABLE sdi_change(version INTEGER NOT NULL, layer TEXT NOT NULL, fkey TEXT NOT NULL,"
            " op TEXT NOT NULL CHECK (op IN ('add', 'change', 'remove')),"
            " minx DOUBLE PRECISION, miny DOUBLE PRECISION, maxx DOUBLE PRECISION, maxy DOUBLE PRECISION);"
            "CREATE INDEX sdi_change_version ON sdi_change(version);"
            "CREATE TABLE sdi_reject(version INTEGER NOT NULL, layer TEXT NOT NULL, source TEXT NOT NULL,"
            " source_id TEXT, reason TEXT NOT NULL, attributes TEXT);"
            "CREATE TABLE sdi_report(version INTEGER NOT NULL, layer TEXT NOT NULL, source TEXT, fkey TEXT,"
            " kind TEXT NOT NULL, value DOUBLE PRECISION, detail TEXT);"
            "CREATE TABLE sdi_field(layer TEXT NOT NULL, field TEXT NOT NULL, type TEXT NOT NULL,"
            " restricted INTEGER NOT NULL, description TEXT, PRIMARY KEY(layer, field));"
            "CREATE TABLE sdi_raster(name TEXT NOT NULL, version INTEGER NOT NULL, file TEXT NOT NULL,"
            " title TEXT, source TEXT, checksum TEXT, v_to INTEGER, PRIMARY KEY(name, version));"
            "CREATE TABLE admin_crosswalk(old_code TEXT NOT NULL, new_code TEXT NOT NULL,"
            " v_from INTEGER NOT NULL, v_to INTEGER);");
    /* PostgreSQL rows have no rowid: ct_sdi_changes() reads the change log in insertion order by
     * this trailing column, which the positional INSERTs of both databases leave to its default */
    if (!st && s->db.pg)
        st = ct_sdi_exec(ctx, s, "ALTER TABLE sdi_change ADD COLUMN seq BIGINT GENERATED BY DEFAULT AS IDENTITY");
    for (int l = 0; !st && l < CT_SDI_NLAYERS; l++)
        st = create_layer(ctx, s, &layers[l], srid);
    /* The city's box (the pre-2025 city outline, rounded outwards), in the SDI CRS. */
    double area[4] = {105.20, 9.90, 105.87, 10.35};
    char areatxt[128];
    ct_crs *wgs = NULL;
    ct_transform *t = NULL;
    if (!st && !(st = ct_crs_from_user(ctx, "EPSG:4326", &wgs)) && !(st = ct_transform_new(ctx, wgs, crs, &t)))
        st = ct_transform_bounds(ctx, t, area, area);
    ct_transform_free(t);
    ct_crs_free(wgs);
    snprintf(areatxt, sizeof areatxt, "%.3f %.3f %.3f %.3f", area[0], area[1], area[2], area[3]);
    sdi_stmt *ms = st ? NULL : ct_sdi_prepare(ctx, s, "INSERT INTO sdi_meta VALUES (?, ?)");
    char sridtxt[16];
    snprintf(sridtxt, sizeof sridtxt, "%d", srid);
    const char *kv[][2] = {{"schema_version", SCHEMA_VERSION}, {"srid", sridtxt}, {"crs_name", ct_crs_name(crs)},
                           {"crs_wkt", ct_crs_wkt(crs)}, {"area", areatxt}, {"created_by", "ctgis " CT_VERSION},
                           {"raster_dir", raster_dir}};
    for (size_t i = 0; ms && !st && i < sizeof kv / sizeof kv[0]; i++) {
        if (!kv[i][1])
            continue;
        sdi_bind_text(ms, 1, kv[i][0]);
        sdi_bind_text(ms, 2, kv[i][1]);
        if (sdi_step(ms) != SDI_DONE)
            st = db_fail(ctx, s, "cannot write metadata");
        sdi_reset(ms);
    }
    sdi_finalize(ms);
    return !ms && !st ? CT_ERR_DB : st;
}

/* dir made absolute against the working folder (it need not exist yet); NULL stays NULL. */
static char *absolute_dir(const char *dir)
{
    if (!dir || dir[0] == '/')
        return dir ? strdup(dir) : NULL;
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + strlen(dir) + 2;
    char *a = malloc(n);
    if (a)
        snprintf(a, n, "%s/%s", cwd, dir);
    return a;
}

static ct_status create_pg(ct_ctx *ctx, const char *target, const ct_crs *crs, int srid, const char *raster_dir)
{
    ct_sdi *s = NULL;
    ct_status st = connect(ctx, target, target, 0, &s);
    if (st)
        return st;
    if (has_relation(s, "sdi_meta"))
        st = ct_error(ctx, CT_ERR_USAGE, "%s: already an SDI; ct-sdi init makes a new SDI", s->path);
    /* PostgreSQL's DDL is transactional: a failed init leaves the database as it was */
    if (!st)
        st = ct_sdi_exec(ctx, s, "BEGIN; CREATE EXTENSION IF NOT EXISTS postgis");
    char *dir = NULL;
    if (!st) {
        /* no file to put the rasters beside: by default, <database>.rasters in the working folder */
        char def[512];
        snprintf(def, sizeof def, "%s.rasters", PQdb(s->db.conn));
        dir = absolute_dir(raster_dir ? raster_dir : def);
        st = dir ? create_sdi(ctx, s, crs, srid, dir) : ct_error(ctx, CT_ERR_IO, "%s: no working folder", s->path);
    }
    if (!st)
        st = ct_sdi_exec(ctx, s, "COMMIT");
    free(dir);
    ct_sdi_close(s);
    return st;
}

static ct_status create_sqlite(ct_ctx *ctx, const char *path, const ct_crs *crs, int srid, const char *raster_dir)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return ct_error(ctx, CT_ERR_USAGE, "%s: already exists; ct-sdi init makes a new SDI", path);
    /* Build the database under a temporary name and rename it: a failed init leaves nothing. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.init-%d", path, (int)getpid());
    ct_sdi *s = NULL;
    ct_status st = connect(ctx, tmp, tmp, 1, &s);
    if (st)
        return st;
    char *dir = absolute_dir(raster_dir);
    /* 16 KiB pages, set before the first table, instead of SQLite's 4 KiB: fewer B-tree pages
     * to split and write for the parcels' indexes (b400: a 3 % smaller file and 0.5 s
     * less system time in the WAL and checkpoint writes, 2-4 % less wall time; 64 KiB gave
     * no more) */
    st = ct_sdi_exec(ctx, s, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; BEGIN; SELECT InitSpatialMetadata(0, 'NONE');");
    if (!st)
        st = create_sdi(ctx, s, crs, srid, dir);
    if (!st)
        st = ct_sdi_exec(ctx, s, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);");
    free(dir);
    ct_sdi_close(s);
    char side[4200];
    if (!st && rename(tmp, path) != 0)
        st = ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    snprintf(side, sizeof side, "%s-wal", tmp);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp);
    unlink(side);
    if (st)
        unlink(tmp);
    return st;
}

ct_status ct_sdi_create(ct_ctx *ctx, const char *path, const ct_crs *crs, const char *raster_dir, ct_sdi **out)
{
    *out = NULL;
    ct_crs *own = NULL;
    if (!crs) {
        ct_status st = ct_crs_from_user(ctx, "vn2000:105", &own);
        if (st)
            return st;
        crs = own;
    }
    int srid = ct_crs_epsg(crs);
    ct_status st;
    if (!srid)
        st = ct_error(ctx, CT_ERR_CRS, "%s: the SDI CRS must have an EPSG code (%s has none)", path, ct_crs_name(crs));
    else if (!strncmp(path, "PG:", 3))
        st = create_pg(ctx, path, crs, srid, raster_dir);
    else
        st = create_sqlite(ctx, path, crs, srid, raster_dir);
    ct_crs_free(own);
    return st ? st : ct_sdi_open(ctx, path, out);
}

/* The SDI's CRS: built from its EPSG code when that gives the very CRS that ct-sdi init
 * recorded (the same WKT), as PROJ does from its database for a fraction of the cost of parsing
 * the WKT1, where it looks names up (50 M instructions, a tenth of a nightly ct-tile run);
 * else parsed from the WKT. */
static ct_status sdi_crs(ct_ctx *ctx, const char *wkt, const char *srid, ct_crs **out)
{
    int epsg = atoi(srid);
    if (epsg > 0) {
        char code[32];
        ct_crs *c = NULL;
        snprintf(code, sizeof code, "EPSG:%d", epsg);
        if (ct_crs_from_user(ctx, code, &c) == CT_OK && !strcmp(ct_crs_wkt(c), wkt)) {
            *out = c;
            return CT_OK;
        }
        ct_crs_free(c);
        ct_ctx_clear_error(ctx);
    }
    return ct_crs_from_wkt(ctx, wkt, out);
}

ct_status ct_sdi_open(ct_ctx *ctx, const char *path, ct_sdi **out)
{
    *out = NULL;
    struct stat sb;
    int pg = !strncmp(path, "PG:", 3);
    if (!pg && stat(path, &sb) != 0)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    ct_sdi *s = NULL;
    ct_status st = connect(ctx, path, path, 0, &s);
    if (st)
        return st;
    int known = has_relation(s, "sdi_meta") == 1;
    char *ver = known ? meta_get(ctx, s, "schema_version") : NULL;
    char *wkt = known ? meta_get(ctx, s, "crs_wkt") : NULL;
    char *srid = known ? meta_get(ctx, s, "srid") : NULL;
    char *area = known ? meta_get(ctx, s, "area") : NULL;
    s->raster_dir = known ? meta_get(ctx, s, "raster_dir") : NULL;
    if (!ver || !wkt || !srid || !area || sscanf(area, "%lf %lf %lf %lf", &s->area[0], &s->area[1], &s->area[2], &s->area[3]) != 4)
        st = ct_error(ctx, CT_ERR_DB, "%s: not a ctgis SDI (no sdi_meta); make one with ct-sdi init", s->path);
    else if (strcmp(ver, SCHEMA_VERSION))
        st = ct_error(ctx, CT_ERR_DB, "%s: SDI schema version %s, this ctgis reads %s", s->path, ver, SCHEMA_VERSION);
    else
        st = sdi_crs(ctx, wkt, srid, &s->crs);
    if (!st && !s->raster_dir) {
        /* a file SDI keeps its rasters beside it unless init named a folder */
        size_t n = strlen(path) + 16;
        s->raster_dir = malloc(n);
        snprintf(s->raster_dir, n, "%s.rasters", path);
    }
    if (!st) {
        s->srid = atoi(srid);
        /* A 64 MB page cache keeps a large ingest out of the WAL until it commits (memory stays
         * bounded by it); synchronous=NORMAL is safe in WAL mode: a crash never corrupts, at
         * worst the last commit before a power cut is lost. */
        if (!pg)
            st = ct_sdi_exec(ctx, s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;");
    }
    free(ver);
    free(wkt);
    free(srid);
    free(area);
    if (st) {
        ct_sdi_close(s);
        return st;
    }
    *out = s;
    return CT_OK;
}

void ct_sdi_close(ct_sdi *s)
{
    if (!s)
        return;
    if (s->in_version)
        ct_sdi_rollback(s);
    for (int i = 0; i < SDI_NSTMT; i++)
        sdi_finalize(s->stmt[i]);
    sdi_db_close(&s->db);
    ct_crs_free(s->crs);
    free(s->path);
    free(s->target);
    free(s->raster_dir);
    free(s);
}

const char *ct_sdi_path(const ct_sdi *s) { return s->path; }
const ct_crs *ct_sdi_crs(const ct_sdi *s) { return s->crs; }
const char *ct_sdi_raster_dir(const ct_sdi *s) { return s->raster_dir; }
void ct_sdi_area(const ct_sdi *s, double b[4]) { memcpy(b, s->area, sizeof s->area); }
void *ct_sdi_db(ct_sdi *s) { return s->db.lite; }

long long ct_sdi_current_version(const ct_sdi *s)
{
    return ct_sdi_query_int((ct_sdi *)s, "SELECT max(version) FROM sdi_version", 0);
}

int ct_sdi_alias_match(const char *aliases, const char *name)
{
    size_t n = strlen(name);
    for (const char *a = aliases; a && *a;) {
        const char *bar = strchr(a, '|');
        size_t len = bar ? (size_t)(bar - a) : strlen(a);
        if (len == n && !strncasecmp(a, name, n))
            return 1;
        a = bar ? bar + 1 : NULL;
    }
    return 0;
}

int ct_sdi_field_personal(const char *name)
{
    /* names of owner and identity fields in cadastral exports beyond the schema's own aliases */
    static const char *const more = "Ten_Chu|TenChuSD|TenChuSH|Chu_SD|ChuSD|ChuSH|ChuSoHuu|HoTen|Ho_Ten|HoTenChu|"
                                    "DiaChiChu|SoCCCD|CMT|SoCMT|SoDinhDanh|DinhDanh|SoGiayTo|GiayToTuyThan|owner_name";
    if (ct_sdi_alias_match(more, name))
        return 1;
    for (int l = 0; l < CT_SDI_NLAYERS; l++)
        for (int c = 0; c < layers[l].ncolumns; c++)
            if (layers[l].columns[c].restricted &&
                (!strcasecmp(layers[l].columns[c].name, name) || ct_sdi_alias_match(layers[l].columns[c].aliases, name)))
                return 1;
    return 0;
}

int ct_sdi_field_restricted(const ct_sdi *s, const char *layer, const char *field)
{
    sdi_stmt *st = sdi_db_prepare(NULL, (sdi_db *)&s->db, "SELECT restricted FROM sdi_field WHERE layer = ? AND field = ?");
    int r = 0;
    if (st) {
        sdi_bind_text(st, 1, layer);
        sdi_bind_text(st, 2, field);
        r = sdi_step(st) == SDI_ROW && (int)sdi_column_int64(st, 0);
    }
    sdi_finalize(st);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Versions                                                                                  */

static ct_status flush_changes(ct_ctx *ctx, ct_sdi *s);
static void drop_changes(ct_sdi *s);
static ct_status rtree_finish(ct_ctx *ctx, ct_sdi *s);
static void rtree_reset(sdi_rtree_bulk *r);

/* The CHECK constraints back on once a version is over (ct_sdi_begin() says why they are off). */
static void checks_on(ct_sdi *s)
{
    if (!s->db.pg)
        sdi_db_exec(NULL, &s->db, "PRAGMA ignore_check_constraints = OFF");
}

ct_status ct_sdi_begin(ct_ctx *ctx, ct_sdi *s, const char *command, const char *kind, const char *source,
                       long long *version)
{
    if (s->in_version)
        return ct_error(ctx, CT_ERR_USAGE, "%s: a version is already open", s->path);
    /* The write lock is taken now: two ingests queue instead of failing half-way. */
    ct_status st = ct_sdi_exec(ctx, s, s->sql->begin_write);
    if (st)
        return st;
    /* The schema's one CHECK, sdi_change.op IN ('add', 'change', 'remove'), builds its list as
     * a temporary b-tree again for every row SQLite writes: 70 % of the change log's cost. The
     * version writes op from those three constant strings only (log_change() and the undo's
     * SQL), so SQLite leaves the check out while the version is open, and keeps it for every
     * other writer. (The flag is compiled into a statement when it is prepared: SQLite prepares
     * the cached ones again at their next step, once per version.) */
    if (!s->db.pg && (st = ct_sdi_exec(ctx, s, "PRAGMA ignore_check_constraints = ON"))) {
        ct_sdi_exec(ctx, s, "ROLLBACK");
        return st;
    }
    s->version = ct_sdi_current_version(s) + 1;
    time_t now = time(NULL);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    sdi_stmt *q = ct_sdi_prepare(ctx, s, "INSERT INTO sdi_version(version, time, command, kind, source) VALUES (?, ?, ?, ?, ?)");
    if (!q) {
        ct_sdi_exec(ctx, s, "ROLLBACK");
        checks_on(s);
        return CT_ERR_DB;
    }
    sdi_bind_int64(q, 1, s->version);
    sdi_bind_text(q, 2, when);
    sdi_bind_text(q, 3, command ? command : "");
    sdi_bind_text(q, 4, kind);
    sdi_bind_text(q, 5, source);
    int rc = sdi_step(q);
    sdi_finalize(q);
    if (rc != SDI_DONE) {
        st = db_fail(ctx, s, "cannot start a version");
        ct_sdi_exec(ctx, s, "ROLLBACK");
        checks_on(s);
        return st;
    }
    memset(&s->counts, 0, sizeof s->counts);
    memset(s->fresh, -1, sizeof s->fresh);
    s->puts = 0;
    s->in_version = 1;
    s->npending = 0;
    *version = s->version;
    return CT_OK;
}

ct_status ct_sdi_commit(ct_ctx *ctx, ct_sdi *s)
{
    if (!s->in_version)
        return ct_error(ctx, CT_ERR_USAGE, "%s: no version is open", s->path);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE sdi_version SET added = %lld, changed = %lld, removed = %lld, rejected = %lld,"
             " repaired = %lld WHERE version = %lld",
             s->counts.added, s->counts.changed, s->counts.removed, s->counts.rejected, s->counts.repaired,
             s->version);
    ct_status st = flush_changes(ctx, s);
    if (!st)
        st = rtree_finish(ctx, s);
    if (!st)
        st = ct_sdi_exec(ctx, s, sql);
    /* Rasters are moved into the folder before COMMIT under their final, versioned names: if
     * the commit fails they are deleted again; a crash in between leaves only an orphan file
     * that no catalogue row names. */
    for (int i = 0; !st && i < s->npending; i++)
        if (rename(s->pending[i].from, s->pending[i].to) != 0)
            st = ct_error(ctx, CT_ERR_IO, "%s: cannot move into the SDI: %s", s->pending[i].to, strerror(errno));
    if (!st)
        st = ct_sdi_exec(ctx, s, "COMMIT");
    if (st) {
        for (int i = 0; i < s->npending; i++)
            unlink(s->pending[i].to);
        ct_sdi_rollback(s);
        return st;
    }
    checks_on(s);
    for (int i = 0; i < s->npending; i++) {
        free(s->pending[i].from);
        free(s->pending[i].to);
    }
    s->npending = 0;
    s->in_version = 0;
    return CT_OK;
}

void ct_sdi_rollback(ct_sdi *s)
{
    if (!s->in_version)
        return;
    sdi_db_exec(NULL, &s->db, "ROLLBACK");
    checks_on(s);
    drop_changes(s);
    for (int l = 0; l < CT_SDI_NLAYERS; l++)
        rtree_reset(&s->rtree[l]);
    s->seen_version = 0; /* the rollback dropped sdi_seen's rows (and the table, if this made it) */
    for (int i = 0; i < s->npending; i++) {
        unlink(s->pending[i].from);
        free(s->pending[i].from);
        free(s->pending[i].to);
    }
    s->npending = 0;
    s->in_version = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Features                                                                                  */

static sdi_stmt *stmt(ct_ctx *ctx, ct_sdi *s, int id, const char *sql)
{
    if (!s->stmt[id]) {
        s->stmt[id] = ct_sdi_prepare(ctx, s, sql);
        /* the per-feature INSERTs whose answer nobody reads: deferred on PostgreSQL, so that
         * runs of them (a source's findings, consecutive rejects) share one round trip; an
         * error shows at the next query, which reports it as the deferred one's (db_fail()),
         * and the version fails */
        if (s->stmt[id] && (id == SDI_STMT_CHANGE || id == SDI_STMT_REJECT || id == SDI_STMT_REPORT || id == SDI_STMT_SEEN))
            sdi_defer(s->stmt[id]);
    } else
        sdi_reset(s->stmt[id]);
    return s->stmt[id];
}

/* ---------------------------------------------------------------------------------------- */
/* SpatiaLite's R*Tree, packed. SQLite's R*Tree inserts a row at a time, choosing a leaf and
 * splitting nodes: 50 000 instructions a row, a fifth of an ingest. No library packs an SQLite
 * R*Tree, so ctgis does (the node format is SQLite's documented on-disk format, rtree.c's
 * header comment): when a layer's index is empty as a version begins (a first load), its rows
 * are packed sort-tile-recursive (Leutenegger et al., 1997), leaves SDI_RTREE_CHUNK rows at a
 * time in the order the features come (a source's sheets are compact), the levels above at
 * commit, and written straight into the index's node, rowid and parent tables, inside the
 * version's transaction. Otherwise rows go in one at a time as before.                      */

static void rtree_reset(sdi_rtree_bulk *r)
{
    sdi_finalize(r->node);
    sdi_finalize(r->rowid);
    sdi_finalize(r->rowids);
    sdi_finalize(r->parent);
    free(r->chunk);
    free(r->up);
    memset(r, 0, sizeof *r);
}

/* The R*Tree keeps boxes as floats rounded outwards, so that a box holds its feature. SQLite
 * does it by scaling the value by 1 -+ 2^-23 when the nearest float lies on the wrong side;
 * the same here, so that a packed index holds the very boxes SQLite's inserts would. */
static float float_down(double d)
{
    float f = (float)d;
    return (double)f > d ? (float)(d * (d < 0 ? 1 + 0x1p-23 : 1 - 0x1p-23)) : f;
}

static float float_up(double d)
{
    float f = (float)d;
    return (double)f < d ? (float)(d * (d < 0 ? 1 - 0x1p-23 : 1 + 0x1p-23)) : f;
}

static unsigned char *put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
    return p + bytes;
}

/* Writes node nodeno (the root carries the depth of the tree) holding cells c[0..n), maps each
 * cell to it (rowid table for a leaf, parent table above) and gives the node's own cell. */
static ct_status rtree_node(ct_ctx *ctx, ct_sdi *s, sdi_rtree_bulk *r, long long nodeno, int depth, int leaf,
                            const sdi_rtree_cell *c, size_t n, sdi_rtree_cell *up)
{
    unsigned char *blob = calloc(1, (size_t)r->node_size), *p = blob;
    if (!blob)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    p = put_be(p, nodeno == 1 ? (uint64_t)depth : 0, 2);
    p = put_be(p, n, 2);
    up->id = nodeno;
    up->b[0] = up->b[2] = INFINITY;
    up->b[1] = up->b[3] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        p = put_be(p, (uint64_t)c[i].id, 8);
        for (int k = 0; k < 4; k++) {
            uint32_t bits;
            memcpy(&bits, &c[i].b[k], 4);
            p = put_be(p, bits, 4);
        }
        up->b[0] = fminf(up->b[0], c[i].b[0]);
        up->b[1] = fmaxf(up->b[1], c[i].b[1]);
        up->b[2] = fminf(up->b[2], c[i].b[2]);
        up->b[3] = fmaxf(up->b[3], c[i].b[3]);
    }
    sdi_reset(r->node);
    sdi_bind_int64(r->node, 1, nodeno);
    sdi_bind_blob(r->node, 2, blob, (size_t)r->node_size);
    int rc = sdi_step(r->node);
    free(blob);
    if (rc == SDI_DONE && leaf && n == (size_t)r->cap && r->rowids) {
        /* a full leaf (nearly all of them): its rows by one statement, as the change log's */
        sdi_reset(r->rowids);
        for (size_t i = 0; i < n; i++) {
            sdi_bind_int64(r->rowids, 2 * (int)i + 1, c[i].id);
            sdi_bind_int64(r->rowids, 2 * (int)i + 2, nodeno);
        }
        rc = sdi_step(r->rowids);
        n = 0;
    }
    sdi_stmt *map = leaf ? r->rowid : r->parent;
    for (size_t i = 0; rc == SDI_DONE && i < n; i++) {
        sdi_reset(map);
        sdi_bind_int64(map, 1, c[i].id);
        sdi_bind_int64(map, 2, nodeno);
        rc = sdi_step(map);
    }
    return rc == SDI_DONE ? CT_OK : db_fail(ctx, s, "cannot write the spatial index");
}

static int cell_by_x(const void *a, const void *b)
{
    const sdi_rtree_cell *x = a, *y = b;
    float u = x->b[0] + x->b[1], v = y->b[0] + y->b[1];
    return u < v ? -1 : u > v ? 1 : (x->id > y->id) - (x->id < y->id);
}

static int cell_by_y(const void *a, const void *b)
{
    const sdi_rtree_cell *x = a, *y = b;
    float u = x->b[2] + x->b[3], v = y->b[2] + y->b[3];
    return u < v ? -1 : u > v ? 1 : (x->id > y->id) - (x->id < y->id);
}

/* Packs cells c[0..n) into new nodes (sort-tile-recursive: strips by x, each cut by y), whose
 * own cells are appended to r->up. */
static ct_status rtree_pack(ct_ctx *ctx, ct_sdi *s, sdi_rtree_bulk *r, sdi_rtree_cell *c, size_t n, int depth)
{
    size_t cap = (size_t)r->cap, nodes = (n + cap - 1) / cap;
    size_t strip = (size_t)ceil(sqrt((double)nodes)) * cap;
    if (ct_grow(&r->up, &r->capup, r->nup + nodes, sizeof *r->up))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    qsort(c, n, sizeof *c, cell_by_x);
    ct_status st = CT_OK;
    for (size_t s0 = 0; !st && s0 < n; s0 += strip) {
        size_t s1 = s0 + strip < n ? s0 + strip : n;
        qsort(c + s0, s1 - s0, sizeof *c, cell_by_y);
        for (size_t k = s0; !st && k < s1; k += cap)
            st = rtree_node(ctx, s, r, r->next_node++, depth, depth == 0, c + k, k + cap < s1 ? cap : s1 - k,
                            &r->up[r->nup++]);
    }
    return st;
}

/* Packed when the layer's index holds nothing yet (its root, node 1, is empty and alone). */
static ct_status rtree_start(ct_ctx *ctx, ct_sdi *s, const char *layer, sdi_rtree_bulk *r)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT length(data) FROM idx_%s_geom_node WHERE nodeno = 1 AND substr(data, 3, 2) = x'0000'"
             " AND (SELECT count(*) FROM idx_%s_geom_node) = 1", layer, layer);
    long long size = ct_sdi_query_int(s, sql, -1);
    r->mode = -1;
    if (size < 4 + 2 * 24 || size > 65536)
        return CT_OK;
    r->node_size = (int)size;
    r->cap = (int)((size - 4) / 24); /* a cell: a 64-bit id and four 32-bit floats */
    r->next_node = 2;
    r->chunk = malloc(SDI_RTREE_CHUNK * sizeof *r->chunk);
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO idx_%s_geom_node(nodeno, data) VALUES (?, ?)", layer);
    r->node = ct_sdi_prepare(ctx, s, sql);
    snprintf(sql, sizeof sql, "INSERT INTO idx_%s_geom_rowid(rowid, nodeno) VALUES (?, ?)", layer);
    r->rowid = ct_sdi_prepare(ctx, s, sql);
    snprintf(sql, sizeof sql, "INSERT INTO idx_%s_geom_parent(nodeno, parentnode) VALUES (?, ?)", layer);
    r->parent = ct_sdi_prepare(ctx, s, sql);
    /* the rows of a full leaf, cap pairs of values (cap < 2 731: within SQLite's 32 766) */
    size_t len = 64 + strlen(layer) + 8 * (size_t)r->cap;
    char *many = malloc(len);
    int nomem = !r->chunk || !many;
    if (many) {
        int k = snprintf(many, len, "INSERT INTO idx_%s_geom_rowid(rowid, nodeno) VALUES (?, ?)", layer);
        for (int i = 1; i < r->cap; i++) {
            memcpy(many + k, ", (?, ?)", 8);
            k += 8;
        }
        many[k] = '\0';
        r->rowids = ct_sdi_prepare(ctx, s, many);
        free(many);
    }
    if (!r->chunk || !r->node || !r->rowid || !r->parent || !r->rowids) {
        rtree_reset(r);
        return nomem ? ct_error(ctx, CT_ERR_NOMEM, "out of memory") : CT_ERR_DB;
    }
    r->mode = 1;
    return CT_OK;
}

/* A feature's R*Tree row: b is xmin, ymin, xmax, ymax. */
static ct_status rtree_add(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, long long fid, const double b[4])
{
    sdi_rtree_bulk *r = &s->rtree[layer];
    const char *name = layers[layer].name;
    ct_status st = CT_OK;
    if (!r->mode && (st = rtree_start(ctx, s, name, r)))
        return st;
    if (r->mode > 0) {
        r->chunk[r->nchunk++] = (sdi_rtree_cell){fid, {float_down(b[0]), float_up(b[2]), float_down(b[1]), float_up(b[3])}};
        if (r->nchunk == SDI_RTREE_CHUNK) {
            st = rtree_pack(ctx, s, r, r->chunk, r->nchunk, 0);
            r->nchunk = 0;
        }
        return st;
    }
    char sql[256];
    if (!s->stmt[SDI_STMT_RTREE + layer])
        snprintf(sql, sizeof sql, "INSERT INTO idx_%s_geom VALUES (?, ?, ?, ?, ?)", name);
    sdi_stmt *q = stmt(ctx, s, SDI_STMT_RTREE + layer, sql);
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, fid);
    sdi_bind_double(q, 2, b[0]);
    sdi_bind_double(q, 3, b[2]);
    sdi_bind_double(q, 4, b[1]);
    sdi_bind_double(q, 5, b[3]);
    return sdi_step(q) == SDI_DONE ? CT_OK : db_fail(ctx, s, "cannot index a feature");
}

/* The packed indexes' last leaves, the levels above them and their roots. */
static ct_status rtree_finish(ct_ctx *ctx, ct_sdi *s)
{
    ct_status st = CT_OK;
    for (int l = 0; !st && l < CT_SDI_NLAYERS; l++) {
        sdi_rtree_bulk *r = &s->rtree[l];
        if (r->mode <= 0 || (!r->nup && !r->nchunk))
            continue;
        sdi_rtree_cell root;
        if (!r->nup && r->nchunk <= (size_t)r->cap) { /* one leaf: the root */
            st = rtree_node(ctx, s, r, 1, 0, 1, r->chunk, r->nchunk, &root);
            continue;
        }
        if (r->nchunk)
            st = rtree_pack(ctx, s, r, r->chunk, r->nchunk, 0);
        r->nchunk = 0;
        int depth = 1;
        while (!st && r->nup > (size_t)r->cap) { /* a level more */
            sdi_rtree_cell *below = r->up;
            size_t n = r->nup;
            r->up = NULL;
            r->nup = r->capup = 0;
            st = rtree_pack(ctx, s, r, below, n, depth++);
            free(below);
        }
        if (!st)
            st = rtree_node(ctx, s, r, 1, depth, 0, r->up, r->nup, &root);
    }
    for (int l = 0; l < CT_SDI_NLAYERS; l++)
        rtree_reset(&s->rtree[l]);
    return st;
}

static void drop_changes(ct_sdi *s)
{
    for (int i = 0; i < s->nchange; i++)
        free(s->change[i].key);
    s->nchange = 0;
}

/* Writes the change-log rows kept by log_change(), in their order: a full batch by one
 * statement, a last partial one row by row. */
static ct_status flush_changes(ct_ctx *ctx, ct_sdi *s)
{
    ct_status st = CT_OK;
    int batch = s->nchange == SDI_CHANGE_BATCH;
    sdi_stmt *q = NULL;
    if (batch) {
        if (!s->stmt[SDI_STMT_CHANGES]) {
            char sql[SDI_CHANGE_BATCH * 28 + 64];
            int n = snprintf(sql, sizeof sql, "INSERT INTO sdi_change VALUES ");
            for (int i = 0; i < SDI_CHANGE_BATCH; i++)
                n += snprintf(sql + n, sizeof sql - (size_t)n, "%s(?, ?, ?, ?, ?, ?, ?, ?)", i ? ", " : "");
            s->stmt[SDI_STMT_CHANGES] = ct_sdi_prepare(ctx, s, sql);
            if (s->stmt[SDI_STMT_CHANGES])
                sdi_defer(s->stmt[SDI_STMT_CHANGES]);
        } else {
            sdi_reset(s->stmt[SDI_STMT_CHANGES]);
        }
        q = s->stmt[SDI_STMT_CHANGES];
    }
    for (int i = 0; !st && i < s->nchange; i++) {
        if (!batch)
            q = stmt(ctx, s, SDI_STMT_CHANGE, "INSERT INTO sdi_change VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        if (!q) {
            st = CT_ERR_DB;
            break;
        }
        int p = batch ? 8 * i : 0;
        sdi_bind_int64(q, p + 1, s->version);
        sdi_bind_text(q, p + 2, s->change[i].layer);
        sdi_bind_text(q, p + 3, s->change[i].key);
        sdi_bind_text(q, p + 4, s->change[i].op);
        for (int k = 0; k < 4; k++)
            if (isfinite(s->change[i].b[k]))
                sdi_bind_double(q, p + 5 + k, s->change[i].b[k]);
        if (!batch || i == s->nchange - 1)
            st = step_or_fail(ctx, s, q, "cannot write the change log of %.60s%s%.60s", s->change[batch ? 0 : i].key,
                              batch ? " to " : "", batch ? s->change[i].key : "");
    }
    drop_changes(s);
    return st;
}

/* layer and op are static strings. */
static ct_status log_change(ct_ctx *ctx, ct_sdi *s, const char *layer, const char *key, const char *op,
                            const double b[4])
{
    char *k = strdup(key);
    if (!k)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    s->change[s->nchange].layer = layer;
    s->change[s->nchange].op = op;
    s->change[s->nchange].key = k;
    memcpy(s->change[s->nchange].b, b, sizeof s->change[0].b);
    return ++s->nchange == SDI_CHANGE_BATCH ? flush_changes(ctx, s) : CT_OK;
}

/* The fids this version confirmed unchanged, in a temporary table private to the connection:
 * with the features it wrote (v_from is this version), what a source no longer has is what
 * ct_sdi_remove_unseen() removes. A first load into an empty layer never touches it. */
static int ensure_seen_table(ct_ctx *ctx, ct_sdi *s)
{
    if (s->seen_version == s->version)
        return 0;
    if (ct_sdi_exec(ctx, s, "CREATE TEMP TABLE IF NOT EXISTS sdi_seen(fid INTEGER PRIMARY KEY); DELETE FROM sdi_seen"))
        return 1;
    s->seen_version = s->version;
    return 0;
}

static ct_status mark_seen(ct_ctx *ctx, ct_sdi *s, long long fid)
{
    if (ensure_seen_table(ctx, s))
        return CT_ERR_DB;
    sdi_stmt *q = stmt(ctx, s, SDI_STMT_SEEN, "INSERT INTO sdi_seen VALUES (?) ON CONFLICT DO NOTHING");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, fid);
    return step_or_fail(ctx, s, q, "cannot track feature %lld", fid);
}

static int was_seen(ct_ctx *ctx, ct_sdi *s, long long fid)
{
    if (ensure_seen_table(ctx, s))
        return 0;
    sdi_stmt *q = stmt(ctx, s, SDI_STMT_TAKEN, "SELECT 1 FROM sdi_seen WHERE fid = ?");
    if (!q)
        return 0;
    sdi_bind_int64(q, 1, fid);
    int seen = sdi_step(q) == SDI_ROW;
    sdi_reset(q);
    return seen;
}

/* SHA-256 with its algorithm fetched once (OpenSSL 3 looks the algorithm up at every
 * EVP_DigestInit_ex given EVP_sha256(): more than hashing a parcel), kept in a context's slot:
 * a context serves one thread at a time. */
typedef struct digest_state {
    EVP_MD *sha256;
    EVP_MD_CTX *md;
} digest_state;

static void digest_state_free(void *p)
{
    digest_state *d = p;
    EVP_MD_CTX_free(d->md);
    EVP_MD_free(d->sha256);
    free(d);
}

/* Equal digests mean an unchanged feature. */
int sdi_digest(ct_ctx *ctx, ct_sdi_layer layer, const char *const *values, const sdi_geom *geom, char hex[65])
{
    const ct_sdi_layer_def *d = &layers[layer];
    digest_state *ds = ct_ctx_slot(ctx, CT_SLOT_DIGEST);
    if (!ds) {
        if (!(ds = calloc(1, sizeof *ds)) || !(ds->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
            !(ds->md = EVP_MD_CTX_new())) {
            if (ds)
                digest_state_free(ds);
            return -1;
        }
        ct_ctx_set_slot(ctx, CT_SLOT_DIGEST, ds, digest_state_free);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *m = ds->md;
    if (!EVP_DigestInit_ex2(m, ds->sha256, NULL))
        return -1;
    for (int c = 0; c < d->ncolumns; c++) {
        const char *v = values[c] ? values[c] : "\x1e";
        EVP_DigestUpdate(m, v, strlen(v) + 1);
    }
    if (geom->wkb)
        EVP_DigestUpdate(m, geom->wkb, geom->wkblen);
    if (!EVP_DigestFinal_ex(m, md, &mdlen))
        return -1;
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* WKB. GEOS's WKBWriter goes through a C++ output stream, a virtual call per byte group: for a
 * parcel of twenty points it costs more than hashing and inserting the feature. The lines and
 * polygons the SDI stores are written here instead, byte for byte as that writer writes them
 * with output dimension 2 (machine byte order, a header per part, a count before each ring);
 * anything else still goes through GEOS. */

static size_t wkb_size(GEOSContextHandle_t h, const GEOSGeometry *g, int *ok)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_LINESTRING) {
        unsigned n = 0;
        *ok &= GEOSCoordSeq_getSize_r(h, GEOSGeom_getCoordSeq_r(h, g), &n) == 1;
        return 9 + 16 * (size_t)n;
    }
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) == 1)
            return 9;
        int nr = GEOSGetNumInteriorRings_r(h, g);
        size_t n = 9;
        for (int i = -1; *ok && i < nr; i++) {
            const GEOSGeometry *ring = i < 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, i);
            unsigned np = 0;
            *ok &= ring && GEOSCoordSeq_getSize_r(h, GEOSGeom_getCoordSeq_r(h, ring), &np) == 1;
            n += 4 + 16 * (size_t)np;
        }
        *ok &= nr >= 0;
        return n;
    }
    if (t == GEOS_MULTILINESTRING || t == GEOS_MULTIPOLYGON) {
        size_t n = 9;
        int np = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; *ok && i < np; i++)
            n += wkb_size(h, GEOSGetGeometryN_r(h, g, i), ok);
        *ok &= np >= 0;
        return n;
    }
    *ok = 0;
    return 0;
}

static unsigned char *wkb_u32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
    return p + 4;
}

static unsigned char *wkb_points(GEOSContextHandle_t h, unsigned char *p, const GEOSGeometry *line, int *ok)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, line);
    unsigned n = 0;
    GEOSCoordSeq_getSize_r(h, cs, &n);
    p = wkb_u32(p, n);
    /* the doubles go through an aligned buffer: p is not aligned for them */
    double stack[2 * 64], *xy = n <= 64 ? stack : malloc(16 * (size_t)n);
    if (!xy || GEOSCoordSeq_copyToBuffer_r(h, cs, xy, 0, 0) != 1)
        *ok = 0;
    else
        memcpy(p, xy, 16 * (size_t)n);
    if (xy != stack)
        free(xy);
    return p + 16 * (size_t)n;
}

static unsigned char *wkb_put(GEOSContextHandle_t h, unsigned char *p, const GEOSGeometry *g, int *ok)
{
    static const uint32_t code[] = {[GEOS_LINESTRING] = 2, [GEOS_POLYGON] = 3, [GEOS_MULTILINESTRING] = 5,
                                    [GEOS_MULTIPOLYGON] = 6};
    const uint16_t one = 1;
    int t = GEOSGeomTypeId_r(h, g);
    *p++ = *(const unsigned char *)&one; /* 1: little-endian, as the machine */
    p = wkb_u32(p, code[t]);
    if (t == GEOS_LINESTRING)
        return wkb_points(h, p, g, ok);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) == 1)
            return wkb_u32(p, 0);
        int nr = GEOSGetNumInteriorRings_r(h, g);
        p = wkb_u32(p, (uint32_t)nr + 1);
        for (int i = -1; *ok && i < nr; i++)
            p = wkb_points(h, p, i < 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, i), ok);
        return p;
    }
    int np = GEOSGetNumGeometries_r(h, g);
    p = wkb_u32(p, (uint32_t)np);
    for (int i = 0; *ok && i < np; i++)
        p = wkb_put(h, p, GEOSGetGeometryN_r(h, g, i), ok);
    return p;
}

/* SpatiaLite's geometry BLOB of a line or polygon layer's feature, as CastToMulti(GeomFromWKB())
 * writes it (SpatiaLite's documented internal BLOB format, uncompressed, machine byte order): a
 * header with the SRID and the MBR, the multi-geometry's class, and each part behind an
 * entity mark. Going through SpatiaLite's SQL functions parses the WKB into SpatiaLite's own
 * structures and serialises them again: more than the rest of the row's insert. The MBR is
 * the exterior rings' (a line's points), as SpatiaLite computes it. @return the blob
 * (malloc()ed), or NULL when memory runs out or g is not a line or polygon. */
static unsigned char *spatialite_blob(GEOSContextHandle_t h, const GEOSGeometry *g, int srid, size_t *len)
{
    int t = GEOSGeomTypeId_r(h, g), lines = t == GEOS_LINESTRING || t == GEOS_MULTILINESTRING;
    if (!lines && t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON)
        return NULL;
    int single = t == GEOS_LINESTRING || t == GEOS_POLYGON, np = single ? 1 : GEOSGetNumGeometries_r(h, g);
    /* the parts' WKB is the body of each entity: its byte order mark and type give way to the
     * entity mark and the class, the rest (counts and points) is the same */
    size_t n = 47 + 1; /* header, count of parts; end mark */
    for (int i = 0; i < np; i++) {
        int ok = 1;
        n += wkb_size(h, single ? g : GEOSGetGeometryN_r(h, g, i), &ok);
        if (!ok)
            return NULL;
    }
    unsigned char *b = malloc(n), *p = b + 43;
    if (!b)
        return NULL;
    double box[4] = {DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX}; /* SpatiaLite's, when nothing widens it */
    int ok = 1;
    p = wkb_u32(p, (uint32_t)np);
    for (int i = 0; ok && i < np; i++) {
        const GEOSGeometry *part = single ? g : GEOSGetGeometryN_r(h, g, i);
        unsigned char *at = p;
        p = wkb_put(h, p, part, &ok);
        at[0] = 0x69; /* entity: the class follows, as in WKB */
        const GEOSGeometry *outer = lines ? part : GEOSGetExteriorRing_r(h, part);
        double x0, y0, x1, y1;
        if (ok && outer && GEOSisEmpty_r(h, outer) == 0 && GEOSGeom_getXMin_r(h, outer, &x0) &&
            GEOSGeom_getYMin_r(h, outer, &y0) && GEOSGeom_getXMax_r(h, outer, &x1) && GEOSGeom_getYMax_r(h, outer, &y1)) {
            box[0] = fmin(box[0], x0);
            box[1] = fmin(box[1], y0);
            box[2] = fmax(box[2], x1);
            box[3] = fmax(box[3], y1);
        }
    }
    if (!ok || p != b + n - 1) {
        free(b);
        return NULL;
    }
    const uint16_t one = 1;
    *p = 0xFE; /* end */
    b[0] = 0x00; /* start */
    b[1] = *(const unsigned char *)&one; /* 1: little-endian, as the machine (and the parts) */
    int32_t sr = srid;
    memcpy(b + 2, &sr, 4);
    memcpy(b + 6, box, sizeof box);
    b[38] = 0x7C; /* end of the MBR */
    wkb_u32(b + 39, lines ? 5 : 6); /* MULTILINESTRING, MULTIPOLYGON */
    *len = n;
    return b;
}

unsigned char *sdi_wkb(GEOSContextHandle_t h, const GEOSGeometry *g, size_t *len)
{
    int ok = 1;
    size_t n = wkb_size(h, g, &ok);
    unsigned char *wkb = ok ? malloc(n) : NULL;
    if (wkb && wkb_put(h, wkb, g, &ok) == wkb + n && ok) {
        *len = n;
        return wkb;
    }
    free(wkb);
    if (ok) /* out of memory, or a size that did not add up */
        return NULL;
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    unsigned char *gw = NULL;
    if (w) {
        GEOSWKBWriter_setOutputDimension_r(h, w, 2);
        gw = GEOSWKBWriter_write_r(h, w, g, &n);
        GEOSWKBWriter_destroy_r(h, w);
    }
    wkb = gw ? malloc(n) : NULL;
    if (wkb) {
        memcpy(wkb, gw, n);
        *len = n;
    }
    if (gw)
        GEOSFree_r(h, gw);
    return wkb;
}

/* A u32 of WKB in machine byte order at p, if p + 4 <= end. */
static int wkb_get_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
    if (end - *p < 4)
        return -1;
    memcpy(v, *p, 4);
    *p += 4;
    return 0;
}

/* A polygon's body (ring count, rings) of sdi_wkb()'s WKB at *p. */
static GEOSGeometry *wkb_get_polygon(GEOSContextHandle_t h, const unsigned char **p, const unsigned char *end)
{
    uint32_t nr = 0;
    if (wkb_get_u32(p, end, &nr) || nr > (uint32_t)(end - *p) / 4)
        return NULL;
    if (nr == 0)
        return GEOSGeom_createEmptyPolygon_r(h);
    GEOSGeometry *stack[17], **ring = nr <= 17 ? stack : malloc(nr * sizeof *ring), *g = NULL;
    double buf[2 * 64];
    uint32_t k = 0;
    for (; ring && k < nr; k++) {
        uint32_t n = 0;
        if (wkb_get_u32(p, end, &n) || n > (uint32_t)(end - *p) / 16)
            break;
        /* the doubles go through an aligned buffer: *p is not aligned for them */
        double *xy = n <= 64 ? buf : malloc(16 * (size_t)n);
        GEOSCoordSequence *cs = NULL;
        if (xy) {
            memcpy(xy, *p, 16 * (size_t)n);
            cs = GEOSCoordSeq_copyFromBuffer_r(h, xy, n, 0, 0);
        }
        if (xy != buf)
            free(xy);
        *p += 16 * (size_t)n;
        if (!cs || !(ring[k] = GEOSGeom_createLinearRing_r(h, cs)))
            break;
    }
    if (ring)
        g = ct_geos_polygon(h, ring, k, nr);
    if (ring != stack)
        free(ring);
    return g;
}

GEOSGeometry *sdi_wkb_geom(GEOSContextHandle_t h, const unsigned char *wkb, size_t len)
{
    const uint16_t one = 1;
    const unsigned char *p = wkb, *end = wkb + len;
    uint32_t t = 0;
    GEOSGeometry *g = NULL;
    if (len >= 5 && p[0] == *(const unsigned char *)&one && (p++, !wkb_get_u32(&p, end, &t))) {
        if (t == 3) {
            g = wkb_get_polygon(h, &p, end);
        } else if (t == 6) {
            uint32_t np = 0;
            GEOSGeometry **parts = NULL;
            uint32_t k = 0;
            if (!wkb_get_u32(&p, end, &np) && np <= (uint32_t)(end - p) / 9 && (parts = malloc((np + 1) * sizeof *parts)))
                for (uint32_t pt; k < np; k++)
                    if (end - p < 5 || p[0] != *(const unsigned char *)&one || (p++, wkb_get_u32(&p, end, &pt)) ||
                        pt != 3 || !(parts[k] = wkb_get_polygon(h, &p, end)))
                        break;
            if (parts)
                g = ct_geos_collection(h, GEOS_MULTIPOLYGON, parts, k, np);
            free(parts);
        }
        if (g && p == end)
            return g;
        if (g)
            GEOSGeom_destroy_r(h, g);
    }
    /* anything else: GEOS's reader */
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    g = rd ? GEOSWKBReader_read_r(h, rd, wkb, len) : NULL;
    if (rd)
        GEOSWKBReader_destroy_r(h, rd);
    return g;
}

/* Had layer no current feature when the version began (a first load)? Then a put has nothing
 * to look up: a key the version already put is refused by the layer's unique index on fkey,
 * and SQLite undoes that one statement, which is all the lookup would have found. PostgreSQL
 * aborts the whole transaction on such an error: there the lookup stays. */
static int layer_fresh(ct_sdi *s, ct_sdi_layer layer)
{
    if (s->db.pg)
        return 0;
    if (s->fresh[layer] < 0) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE v_to IS NULL AND v_from < %lld LIMIT 1)",
                 layers[layer].name, s->version);
        s->fresh[layer] = ct_sdi_query_int(s, sql, 1) == 0;
    }
    return s->fresh[layer];
}

int sdi_geom_make(GEOSContextHandle_t h, const ct_sdi *s, const GEOSGeometry *g, sdi_geom *out)
{
    *out = (sdi_geom){.type = -1, .box = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL}};
    if (!g)
        return 0;
    out->type = GEOSGeomTypeId_r(h, g);
    out->empty = GEOSisEmpty_r(h, g) == 1;
    if (!out->empty) {
        GEOSGeom_getXMin_r(h, g, &out->box[0]);
        GEOSGeom_getYMin_r(h, g, &out->box[1]);
        GEOSGeom_getXMax_r(h, g, &out->box[2]);
        GEOSGeom_getYMax_r(h, g, &out->box[3]);
    }
    if (!(out->wkb = sdi_wkb(h, g, &out->wkblen)))
        return -1;
    /* SpatiaLite's BLOB of a line or polygon (a geometry of another type is refused by the
     * put); SpatiaLite makes NULL of an empty polygon, and a part of no points of an empty line */
    int shaped = out->type == GEOS_LINESTRING || out->type == GEOS_MULTILINESTRING || out->type == GEOS_POLYGON ||
                 out->type == GEOS_MULTIPOLYGON;
    if (!s->db.pg && shaped && !(out->empty && out->type != GEOS_LINESTRING) &&
        !(out->blob = spatialite_blob(h, g, s->srid, &out->bloblen))) {
        sdi_geom_free(out);
        return -1;
    }
    return 0;
}

void sdi_geom_free(sdi_geom *g)
{
    free(g->wkb);
    free(g->blob);
    g->wkb = g->blob = NULL;
}

ct_status ct_sdi_put(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, const char *key,
                     const GEOSGeometry *geom, const char *const *values, ct_sdi_op *op)
{
    sdi_geom g;
    if (sdi_geom_make(ct_geos(ctx), s, geom, &g))
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory for a feature of %s", s->path, source);
    ct_status st = sdi_put(ctx, s, layer, source, key, &g, values, NULL, op);
    sdi_geom_free(&g);
    return st;
}

ct_status sdi_put(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, const char *key,
                  const sdi_geom *geom, const char *const *values, const char *digest, ct_sdi_op *op)
{
    const ct_sdi_layer_def *d = &layers[layer];
    char sql[2048];
    if (geom->type >= 0 && !geom->empty) {
        /* the layer's geometry type, as the column's type (PostGIS) or trigger (SpatiaLite) had
         * it: polygons or multipolygons into a MULTIPOLYGON layer, lines into MULTILINESTRING */
        static const char *const names[] = {"Point",      "LineString",      "LinearRing",   "Polygon",
                                            "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"};
        int t = geom->type;
        int lines = !strcmp(d->geom_type, "MULTILINESTRING");
        if (lines ? t != GEOS_LINESTRING && t != GEOS_MULTILINESTRING : t != GEOS_POLYGON && t != GEOS_MULTIPOLYGON)
            return ct_error(ctx, CT_ERR_FORMAT, "%s: a %s cannot go into %s (%s)", s->path,
                            t < (int)(sizeof names / sizeof names[0]) ? names[t] : "geometry", d->name, d->geom_type);
    }
    char made[65];
    if (!digest) {
        if (sdi_digest(ctx, layer, values, geom, made))
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: OpenSSL cannot compute SHA-256", s->path);
        digest = made;
    }

    /* the current feature under this key, if any */
    /* the statements are prepared once per connection: their text is built only then */
    const sdi_dialect *x = s->sql;
    ct_status st = CT_OK;
    long long old_fid = -1;
    double b[4], ob[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    memcpy(b, geom->box, sizeof b);
    int fresh = layer_fresh(s, layer);
    if (!fresh && !s->stmt[SDI_STMT_FIND + layer]) /* (a first load never prepares it) */
        snprintf(sql, sizeof sql, "SELECT fid, digest, %s(geom), %s(geom), %s(geom), %s(geom), v_from FROM %s"
                 " WHERE fkey = ? AND v_to IS NULL", x->xmin, x->ymin, x->xmax, x->ymax, d->name);
    sdi_stmt *q = fresh ? NULL : stmt(ctx, s, SDI_STMT_FIND + layer, sql);
    if (!q && !fresh) {
        st = CT_ERR_DB;
        goto out;
    }
    if (q)
        sdi_bind_text(q, 1, key);
    int found = q ? sdi_step(q) : SDI_DONE;
    if (found == SDI_ERROR) {
        st = db_fail(ctx, s, "cannot look a feature up");
        goto out;
    }
    if (found == SDI_ROW) {
        old_fid = sdi_column_int64(q, 0);
        /* written by this version, or confirmed by it: the key came twice */
        if (sdi_column_int64(q, 6) == s->version || was_seen(ctx, s, old_fid)) {
            *op = CT_SDI_DUPLICATE;
            sdi_reset(q);
            goto out;
        }
        if (!strcmp(sdi_column_text(q, 1), digest)) {
            *op = CT_SDI_SAME;
            st = mark_seen(ctx, s, old_fid);
            goto out;
        }
        for (int i = 0; i < 4; i++)
            if (sdi_column_type(q, 2 + i) != SDI_NULL)
                ob[i] = sdi_column_double(q, 2 + i);
    }
    if (q)
        sdi_reset(q);
    if (old_fid >= 0) {
        snprintf(sql, sizeof sql, "UPDATE %s SET v_to = %lld WHERE fid = %lld", d->name, s->version, old_fid);
        if ((st = ct_sdi_exec(ctx, s, sql)))
            goto out;
    }
    if (!s->stmt[SDI_STMT_INSERT + layer]) {
        int n = snprintf(sql, sizeof sql, "INSERT INTO %s(fkey, v_from, source, digest, geom", d->name);
        for (int c = 0; c < d->ncolumns; c++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", d->columns[c].name);
        n += snprintf(sql + n, sizeof sql - (size_t)n, ") VALUES (?, ?, ?, ?, ");
        n += snprintf(sql + n, sizeof sql - (size_t)n, x->geom_in, s->srid);
        for (int c = 0; c < d->ncolumns; c++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", ?");
        /* SQLite gives the new fid as the last rowid (RETURNING would cost it 10 % of a put) */
        snprintf(sql + n, sizeof sql - (size_t)n, ")%s", s->db.pg ? " RETURNING fid" : "");
    }
    q = stmt(ctx, s, SDI_STMT_INSERT + layer, sql);
    if (!q) {
        st = CT_ERR_DB;
        goto out;
    }
    sdi_bind_text(q, 1, key);
    sdi_bind_int64(q, 2, s->version);
    sdi_bind_text(q, 3, source);
    sdi_bind_text(q, 4, digest);
    if (geom->wkb && s->db.pg)
        sdi_bind_blob(q, 5, geom->wkb, geom->wkblen);
    else if (geom->blob)
        sdi_bind_blob(q, 5, geom->blob, geom->bloblen);
    for (int c = 0; c < d->ncolumns; c++) {
        if (!values[c])
            continue;
        if (!strcmp(d->columns[c].sql_type, "REAL"))
            sdi_bind_double(q, 6 + c, atof(values[c]));
        else
            sdi_bind_text(q, 6 + c, values[c]);
    }
    int rc = sdi_step(q);
    if (rc == SDI_ERROR && fresh && sqlite3_extended_errcode(s->db.lite) == SQLITE_CONSTRAINT_UNIQUE) {
        sdi_reset(q); /* the key this version already put (the statement alone was undone) */
        *op = CT_SDI_DUPLICATE;
        goto out;
    }
    if (rc != (s->db.pg ? SDI_ROW : SDI_DONE)) {
        st = db_fail(ctx, s, "cannot write a feature");
        goto out;
    }
    long long fid = s->db.pg ? sdi_column_int64(q, 0) : sdi_db_last_rowid(&s->db);
    sdi_reset(q);
    /* SpatiaLite's R*Tree rows (PostgreSQL updates its GiST index itself) */
    if (!s->db.pg && isfinite(b[0]) && (st = rtree_add(ctx, s, layer, fid, b)))
        goto out;
    for (int i = 0; i < 2; i++) {
        b[i] = fmin(b[i], ob[i]);
        b[i + 2] = fmax(b[i + 2], ob[i + 2]);
    }
    *op = old_fid >= 0 ? CT_SDI_CHANGED : CT_SDI_ADDED;
    st = log_change(ctx, s, d->name, key, old_fid >= 0 ? "change" : "add", b);
    /* PostgreSQL plans by statistics, which a table growing inside one transaction outruns:
     * with those of an empty table a lookup by key can scan a whole sheet index instead. They
     * are refreshed each time the version doubles its rows (ANALYZE samples the transaction's
     * own rows and the cached plans follow), O(n) over a load. */
    if (!st && s->db.pg && ++s->puts >= 512 && !(s->puts & (s->puts - 1))) {
        snprintf(sql, sizeof sql, "ANALYZE %s", d->name);
        st = ct_sdi_exec(ctx, s, sql);
    }
    if (!st) {
        if (old_fid >= 0)
            s->counts.changed++;
        else
            s->counts.added++;
    }
out:
    return st;
}

ct_status ct_sdi_remove_unseen(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, long long *removed)
{
    const ct_sdi_layer_def *d = &layers[layer];
    char sql[1024];
    *removed = 0;
    /* a first load has nothing earlier to remove (the query would look up every row it put:
     * a tenth of a second of b400's commit) */
    if (layer_fresh(s, layer))
        return CT_OK;
    if (ensure_seen_table(ctx, s))
        return CT_ERR_DB;
    snprintf(sql, sizeof sql,
             "SELECT fid, fkey, %s(geom), %s(geom), %s(geom), %s(geom) FROM %s"
             " WHERE source = ? AND v_to IS NULL AND v_from < %lld AND fid NOT IN (SELECT fid FROM sdi_seen)",
             s->sql->xmin, s->sql->ymin, s->sql->xmax, s->sql->ymax, d->name, s->version);
    sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, source);
    ct_status st = CT_OK;
    long long n = 0;
    while (!st && sdi_step(q) == SDI_ROW) {
        double b[4];
        for (int i = 0; i < 4; i++)
            b[i] = sdi_column_type(q, 2 + i) == SDI_NULL ? NAN : sdi_column_double(q, 2 + i);
        st = log_change(ctx, s, d->name, sdi_column_text(q, 1), "remove", b);
        n++;
    }
    sdi_finalize(q);
    if (!st && n) {
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET v_to = %lld WHERE source = ? AND v_to IS NULL AND v_from < %lld"
                 " AND fid NOT IN (SELECT fid FROM sdi_seen)", d->name, s->version, s->version);
        q = ct_sdi_prepare(ctx, s, sql);
        if (!q)
            return CT_ERR_DB;
        sdi_bind_text(q, 1, source);
        if (sdi_step(q) != SDI_DONE)
            st = db_fail(ctx, s, "cannot remove features");
        sdi_finalize(q);
    }
    if (!st) {
        s->counts.removed += n;
        *removed = n;
    }
    return st;
}

ct_status ct_sdi_reject(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, const char *source_id,
                        const char *reason, const char *attributes)
{
    sdi_stmt *q = stmt(ctx, s, SDI_STMT_REJECT, "INSERT INTO sdi_reject VALUES (?, ?, ?, ?, ?, ?)");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, s->version);
    sdi_bind_text(q, 2, layers[layer].name);
    sdi_bind_text(q, 3, source);
    sdi_bind_text(q, 4, source_id);
    sdi_bind_text(q, 5, reason);
    sdi_bind_text(q, 6, attributes);
    ct_status st = step_or_fail(ctx, s, q, "cannot record rejected feature %.60s of %.60s", source_id, source);
    if (st)
        return st;
    s->counts.rejected++;
    return CT_OK;
}

ct_status ct_sdi_report(ct_ctx *ctx, ct_sdi *s, ct_sdi_layer layer, const char *source, const char *key,
                        const char *kind, double value, const char *detail)
{
    sdi_stmt *q = stmt(ctx, s, SDI_STMT_REPORT, "INSERT INTO sdi_report VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, s->version);
    sdi_bind_text(q, 2, layers[layer].name);
    sdi_bind_text(q, 3, source);
    sdi_bind_text(q, 4, key);
    sdi_bind_text(q, 5, kind);
    if (isfinite(value))
        sdi_bind_double(q, 6, value);
    sdi_bind_text(q, 7, detail);
    ct_status st = step_or_fail(ctx, s, q, "cannot record the %.40s finding of %.60s in %.40s", kind, key, source);
    if (st)
        return st;
    if (!strcmp(kind, "repaired"))
        s->counts.repaired++;
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Catalogue and rasters                                                                     */

ct_status ct_sdi_register_source(ct_ctx *ctx, ct_sdi *s, const char *layer, const ct_sdi_source_info *i)
{
    sdi_stmt *q = ct_sdi_prepare(ctx, s,
        "INSERT INTO sdi_source VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_int64(q, 1, s->version);
    sdi_bind_text(q, 2, layer);
    sdi_bind_text(q, 3, i->name);
    sdi_bind_text(q, 4, i->title);
    sdi_bind_text(q, 5, i->path);
    sdi_bind_text(q, 6, i->checksum);
    sdi_bind_text(q, 7, i->source_crs);
    sdi_bind_text(q, 8, i->encoding);
    sdi_bind_text(q, 9, i->licence);
    sdi_bind_int64(q, 10, i->features);
    for (int k = 0; k < 4; k++)
        if (isfinite(i->extent[k]))
            sdi_bind_double(q, 11 + k, i->extent[k]);
    ct_status st = sdi_step(q) == SDI_DONE ? CT_OK : db_fail(ctx, s, "cannot write the catalogue");
    sdi_finalize(q);
    return st;
}

char *ct_sdi_source_checksum(ct_ctx *ctx, ct_sdi *s, const char *layer, const char *name)
{
    sdi_stmt *q = ct_sdi_prepare(ctx, s,
        "SELECT checksum FROM sdi_source JOIN sdi_version USING (version) WHERE layer = ? AND name = ?"
        " AND undone_by IS NULL ORDER BY version DESC LIMIT 1");
    char *v = NULL;
    if (!q)
        return NULL;
    sdi_bind_text(q, 1, layer);
    sdi_bind_text(q, 2, name);
    if (sdi_step(q) == SDI_ROW && sdi_column_text(q, 0))
        v = strdup(sdi_column_text(q, 0));
    sdi_finalize(q);
    return v;
}

ct_status ct_sdi_register_raster(ct_ctx *ctx, ct_sdi *s, const char *name, const char *cog,
                                 const ct_sdi_source_info *info)
{
    if (!s->in_version)
        return ct_error(ctx, CT_ERR_USAGE, "%s: no version is open", s->path);
    if (s->npending == SDI_MAXPENDING)
        return ct_error(ctx, CT_ERR_USAGE, "%s: too many rasters in one version", s->path);
    if (mkdir(s->raster_dir, 0777) != 0 && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", s->raster_dir, strerror(errno));
    char file[512], to[4096];
    snprintf(file, sizeof file, "%s.v%lld.tif", name, s->version);
    snprintf(to, sizeof to, "%s/%s", s->raster_dir, file);
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE sdi_raster SET v_to = %lld WHERE name = ? AND v_to IS NULL", s->version);
    sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, name);
    int rc = sdi_step(q);
    sdi_finalize(q);
    q = rc == SDI_DONE ? ct_sdi_prepare(ctx, s, "INSERT INTO sdi_raster VALUES (?, ?, ?, ?, ?, ?, NULL)") : NULL;
    if (!q)
        return rc == SDI_DONE ? CT_ERR_DB : db_fail(ctx, s, "cannot update the raster catalogue");
    sdi_bind_text(q, 1, name);
    sdi_bind_int64(q, 2, s->version);
    sdi_bind_text(q, 3, file);
    sdi_bind_text(q, 4, info ? info->title : NULL);
    sdi_bind_text(q, 5, info ? info->path : NULL);
    sdi_bind_text(q, 6, info ? info->checksum : NULL);
    rc = sdi_step(q);
    sdi_finalize(q);
    if (rc != SDI_DONE)
        return db_fail(ctx, s, "cannot write the raster catalogue");
    /* the change log names the raster and its extent, so ct-tile --since redraws its area */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_raster WHERE name = ? AND v_to = %lld", s->version);
    q = ct_sdi_prepare(ctx, s, sql);
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, name);
    int replaced = sdi_step(q) == SDI_ROW && (int)sdi_column_int64(q, 0) > 0;
    sdi_finalize(q);
    const double nobox[4] = {NAN, NAN, NAN, NAN};
    ct_status st = log_change(ctx, s, "rasters", name, replaced ? "change" : "add", info ? info->extent : nobox);
    if (st)
        return st;
    s->pending[s->npending].from = strdup(cog);
    s->pending[s->npending].to = strdup(to);
    s->npending++;
    if (info)
        return ct_sdi_register_source(ctx, s, "rasters", info);
    return CT_OK;
}

ct_status ct_sdi_raster_path(ct_ctx *ctx, ct_sdi *s, const char *name, char **path)
{
    *path = NULL;
    sdi_stmt *q = ct_sdi_prepare(ctx, s, "SELECT file FROM sdi_raster WHERE name = ? AND v_to IS NULL");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, name);
    if (sdi_step(q) == SDI_ROW) {
        size_t n = strlen(s->raster_dir) + strlen(sdi_column_text(q, 0)) + 2;
        *path = malloc(n);
        snprintf(*path, n, "%s/%s", s->raster_dir, sdi_column_text(q, 0));
    }
    sdi_finalize(q);
    return *path ? CT_OK : ct_error(ctx, CT_ERR_INVALID, "%s: no raster named '%s'", s->path, name);
}

/* ---------------------------------------------------------------------------------------- */
/* Undo                                                                                      */

ct_status ct_sdi_undo(ct_ctx *ctx, ct_sdi *s, long long version, const char *command, long long *undo_version)
{
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_version WHERE version = %lld AND undone_by IS NULL AND undoes IS NULL", version);
    if (ct_sdi_query_int(s, sql, 0) != 1)
        return ct_error(ctx, CT_ERR_INVALID, "%s: version %lld does not exist, was undone already, or is itself an undo",
                        s->path, version);
    /* Refuse when a later version touched a feature this one touched. */
    for (int l = 0; l < CT_SDI_NLAYERS; l++) {
        const char *t = layers[l].name;
        snprintf(sql, sizeof sql,
                 "SELECT fkey FROM %s WHERE (v_from = %lld AND v_to IS NOT NULL) OR (v_to = %lld AND fkey IN"
                 " (SELECT fkey FROM %s WHERE v_from > %lld)) LIMIT 1", t, version, version, t, version);
        sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
        if (!q)
            return CT_ERR_DB;
        if (sdi_step(q) == SDI_ROW) {
            ct_status st = ct_error(ctx, CT_ERR_INVALID, "%s: cannot undo version %lld: %s feature '%s' was changed again later;"
                                    " undo the later versions first", s->path, version, t, sdi_column_text(q, 0));
            sdi_finalize(q);
            return st;
        }
        sdi_finalize(q);
    }
    char what[64];
    snprintf(what, sizeof what, "version %lld", version);
    ct_status st = ct_sdi_begin(ctx, s, command, "undo", what, undo_version);
    long long u = *undo_version;
    for (int l = 0; !st && l < CT_SDI_NLAYERS; l++) {
        const ct_sdi_layer_def *d = &layers[l];
        char cols[1024] = "fkey, source, source_id, digest, geom";
        for (int c = 0; c < d->ncolumns; c++) {
            strcat(cols, ", ");
            strcat(cols, d->columns[c].name);
        }
        /* change log first: what the undo adds back, changes back, or removes */
        const sdi_dialect *x = s->sql;
        int n = snprintf(sql, sizeof sql,
                 "INSERT INTO sdi_change SELECT %lld, '%s', n.fkey, CASE WHEN o.fid IS NULL THEN 'remove' ELSE 'change' END,"
                 " %s(%s(n.geom), coalesce(%s(o.geom), 1e300)), %s(%s(n.geom), coalesce(%s(o.geom), 1e300)),"
                 " %s(%s(n.geom), coalesce(%s(o.geom), -1e300)), %s(%s(n.geom), coalesce(%s(o.geom), -1e300))"
                 " FROM %s n LEFT JOIN %s o ON o.fkey = n.fkey AND o.v_to = %lld WHERE n.v_from = %lld AND n.v_to IS NULL;",
                 u, d->name, x->least, x->xmin, x->xmin, x->least, x->ymin, x->ymin,
                 x->greatest, x->xmax, x->xmax, x->greatest, x->ymax, x->ymax, d->name, d->name, version, version);
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                 "INSERT INTO sdi_change SELECT %lld, '%s', o.fkey, 'add', %s(o.geom), %s(o.geom), %s(o.geom), %s(o.geom)"
                 " FROM %s o WHERE o.v_to = %lld AND o.fkey NOT IN (SELECT fkey FROM %s WHERE v_from = %lld);"
                 "UPDATE %s SET v_to = %lld WHERE v_from = %lld AND v_to IS NULL;"
                 "INSERT INTO %s(v_from, %s) SELECT %lld, %s FROM %s WHERE v_to = %lld;",
                 u, d->name, x->xmin, x->ymin, x->xmax, x->ymax, d->name, version, d->name, version,
                 d->name, u, version,
                 d->name, cols, u, cols, d->name, version);
        /* SpatiaLite's R*Tree rows of the restored features (PostgreSQL's GiST index keeps itself) */
        if (!s->db.pg)
            snprintf(sql + n, sizeof sql - (size_t)n,
                     "INSERT INTO idx_%s_geom SELECT fid, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom)"
                     " FROM %s WHERE v_from = %lld AND geom IS NOT NULL;", d->name, d->name, u);
        st = ct_sdi_exec(ctx, s, sql);
    }
    if (!st) {
        snprintf(sql, sizeof sql,
                 "UPDATE sdi_version SET undone_by = %lld WHERE version = %lld;"
                 "UPDATE sdi_version SET undoes = %lld WHERE version = %lld;"
                 "UPDATE sdi_raster SET v_to = %lld WHERE version = %lld AND v_to IS NULL;"
                 "UPDATE sdi_raster SET v_to = NULL WHERE v_to = %lld AND name IN (SELECT name FROM sdi_raster WHERE version = %lld);"
                 "UPDATE admin_crosswalk SET v_to = %lld WHERE v_from = %lld AND v_to IS NULL;"
                 "INSERT INTO sdi_change SELECT %lld, layer, fkey, 'change', minx, miny, maxx, maxy FROM sdi_change"
                 " WHERE version = %lld AND layer = 'rasters';",
                 u, version, version, u, u, version, version, version, u, version, u, version);
        st = ct_sdi_exec(ctx, s, sql);
    }
    if (!st) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_change WHERE version = %lld AND op = 'add' AND layer <> 'rasters'", u);
        s->counts.added = ct_sdi_query_int(s, sql, 0);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_change WHERE version = %lld AND op = 'change' AND layer <> 'rasters'", u);
        s->counts.changed = ct_sdi_query_int(s, sql, 0);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_change WHERE version = %lld AND op = 'remove' AND layer <> 'rasters'", u);
        s->counts.removed = ct_sdi_query_int(s, sql, 0);
        st = ct_sdi_commit(ctx, s);
    } else {
        ct_sdi_rollback(s);
    }
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* ct-sdi commands                                                                           */

static json_object *jstr(const char *s) { return s ? json_object_new_string(s) : NULL; }

/* Rows of a query as a JSON array of objects, column names as keys. */
static json_object *query_json(ct_ctx *ctx, ct_sdi *s, const char *sql, const char *bind, ct_status *st)
{
    sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
    json_object *a = json_object_new_array();
    if (!q) {
        *st = CT_ERR_DB;
        return a;
    }
    if (bind)
        sdi_bind_text(q, 1, bind);
    int rc;
    while ((rc = sdi_step(q)) == SDI_ROW) {
        json_object *o = json_object_new_object();
        for (int c = 0; c < sdi_column_count(q); c++) {
            json_object *v = NULL;
            switch (sdi_column_type(q, c)) {
            case SDI_INTEGER: v = json_object_new_int64(sdi_column_int64(q, c)); break;
            case SDI_FLOAT: v = json_object_new_double(sdi_column_double(q, c)); break;
            case SDI_TEXT: v = jstr(sdi_column_text(q, c)); break;
            default: break;
            }
            json_object_object_add(o, sdi_column_name(q, c), v);
        }
        json_object_array_add(a, o);
    }
    if (rc == SDI_ERROR)
        *st = db_fail(ctx, s, "cannot query");
    sdi_finalize(q);
    return a;
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static ct_status cmd_status(ct_ctx *ctx, ct_sdi *s, json_object *doc)
{
    char sql[1024];
    ct_status st = CT_OK;
    json_object *ls = json_object_new_array();
    for (int l = 0; l < CT_SDI_NLAYERS; l++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "layer", json_object_new_string(layers[l].name));
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE v_to IS NULL", layers[l].name);
        json_object_object_add(o, "features", json_object_new_int64(ct_sdi_query_int(s, sql, 0)));
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE v_to IS NOT NULL", layers[l].name);
        json_object_object_add(o, "earlier_versions", json_object_new_int64(ct_sdi_query_int(s, sql, 0)));
        snprintf(sql, sizeof sql, "SELECT count(DISTINCT source) FROM %s WHERE v_to IS NULL", layers[l].name);
        json_object_object_add(o, "sources", json_object_new_int64(ct_sdi_query_int(s, sql, 0)));
        snprintf(sql, sizeof sql, "SELECT max(v_from) FROM %s", layers[l].name);
        long long lv = ct_sdi_query_int(s, sql, 0);
        json_object_object_add(o, "last_version", lv ? json_object_new_int64(lv) : NULL);
        json_object_array_add(ls, o);
    }
    json_object_object_add(doc, "layers", ls);
    json_object_object_add(doc, "rasters", query_json(ctx, s,
        "SELECT name, version, file, source FROM sdi_raster WHERE v_to IS NULL ORDER BY name", NULL, &st));
    if (has_relation(s, "sdi_table"))
        json_object_object_add(doc, "tables", query_json(ctx, s,
            "SELECT name, version, title, rows FROM sdi_table WHERE v_to IS NULL ORDER BY name", NULL, &st));
    json_object_object_add(doc, "versions", json_object_new_int64(ct_sdi_query_int(s, "SELECT count(*) FROM sdi_version", 0)));
    json_object_object_add(doc, "current_version", json_object_new_int64(ct_sdi_current_version(s)));
    json_object_object_add(doc, "rejects", json_object_new_int64(ct_sdi_query_int(s, "SELECT count(*) FROM sdi_reject", 0)));
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", s->path);
    long long rbytes = 0;
    sdi_stmt *q = ct_sdi_prepare(ctx, s, "SELECT file FROM sdi_raster");
    while (q && sdi_step(q) == SDI_ROW) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", s->raster_dir, sdi_column_text(q, 0));
        rbytes += file_size(p);
    }
    sdi_finalize(q);
    json_object *sto = json_object_new_object();
    json_object_object_add(sto, "database_bytes",
                           json_object_new_int64(s->db.pg ? ct_sdi_query_int(s, "SELECT pg_database_size(current_database())", 0)
                                                          : file_size(s->path) + file_size(wal)));
    json_object_object_add(sto, "raster_bytes", json_object_new_int64(rbytes));
    json_object_object_add(doc, "storage", sto);
    return st;
}

static ct_status cmd_check(ct_ctx *ctx, ct_sdi *s, json_object *doc)
{
    char sql[1024];
    ct_status st = CT_OK;
    int problems = 0;
    json_object *ls = json_object_new_array();
    for (int l = 0; l < CT_SDI_NLAYERS; l++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "layer", json_object_new_string(layers[l].name));
        /* SpatiaLite: the R*Tree agrees with the table (its own check); PostGIS: a valid GiST index */
        snprintf(sql, sizeof sql, s->sql->index_ok, layers[l].name);
        long long idx = ct_sdi_query_int(s, sql, -1);
        json_object_object_add(o, "spatial_index", json_object_new_boolean(idx == 1));
        problems += idx != 1;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE v_to IS NULL AND NOT ST_IsValid(geom)", layers[l].name);
        long long invalid = ct_sdi_query_int(s, sql, 0);
        json_object_object_add(o, "invalid_geometries", json_object_new_int64(invalid));
        problems += invalid > 0;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT fkey FROM %s WHERE v_to IS NULL GROUP BY fkey HAVING count(*) > 1) AS d",
                 layers[l].name);
        long long dup = ct_sdi_query_int(s, sql, 0);
        json_object_object_add(o, "duplicate_keys", json_object_new_int64(dup));
        problems += dup > 0;
        snprintf(sql, sizeof sql,
                 "SELECT kind, count(*) AS count, round(sum(value)%s, 2) AS total FROM sdi_report r"
                 " WHERE layer = '%s' AND EXISTS (SELECT 1 FROM sdi_version v WHERE v.version = r.version AND undone_by IS NULL)"
                 " GROUP BY kind ORDER BY kind", s->sql->to_numeric, layers[l].name);
        json_object_object_add(o, "findings", query_json(ctx, s, sql, NULL, &st));
        json_object_array_add(ls, o);
    }
    json_object_object_add(doc, "schema_version", json_object_new_string(SCHEMA_VERSION));
    json_object_object_add(doc, "layers", ls);
    json_object_object_add(doc, "problems", json_object_new_int(problems));
    if (!st && problems)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: %d problem%s found", s->path, problems, problems == 1 ? "" : "s");
    return st;
}

static ct_status cmd_history(ct_ctx *ctx, ct_sdi *s, const ct_sdi_opts *o, json_object *doc)
{
    ct_status st = CT_OK;
    if (!o->key) {
        json_object_object_add(doc, "versions", query_json(ctx, s,
            "SELECT version, time, command, kind, source, added, changed, removed, rejected, repaired, undoes, undone_by"
            " FROM sdi_version ORDER BY version", NULL, &st));
        return st;
    }
    int l = ct_sdi_layer_by_name(o->layer ? o->layer : "parcels");
    if (l < 0)
        return ct_error(ctx, CT_ERR_USAGE, "unknown layer '%s'", o->layer);
    char sql[2048];
    int n = snprintf(sql, sizeof sql, "SELECT v_from, v_to, source");
    for (int c = 0; c < layers[l].ncolumns; c++)
        if (!layers[l].columns[c].restricted)
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", layers[l].columns[c].name);
    snprintf(sql + n, sizeof sql - (size_t)n, ", round(ST_Area(geom)%s, 2) AS geom_area FROM %s WHERE fkey = ? ORDER BY v_from",
             s->sql->to_numeric, layers[l].name);
    json_object *rows = query_json(ctx, s, sql, o->key, &st);
    if (!st && json_object_array_length(rows) == 0)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no %s feature with key '%s'", s->path, layers[l].name, o->key);
    json_object_object_add(doc, "layer", json_object_new_string(layers[l].name));
    json_object_object_add(doc, "key", json_object_new_string(o->key));
    json_object_object_add(doc, "history", rows);
    return st;
}

static ct_status cmd_export(ct_ctx *ctx, ct_sdi *s, const ct_sdi_opts *o, json_object *doc)
{
    if (o->nargs != 2)
        return ct_error(ctx, CT_ERR_USAGE, "export needs LAYER OUTPUT");
    int l = ct_sdi_layer_by_name(o->args[0]);
    if (l < 0)
        return ct_error(ctx, CT_ERR_USAGE, "unknown layer '%s'", o->args[0]);
    const ct_sdi_layer_def *d = &layers[l];
    for (int i = 0; i < o->ninclude; i++) {
        int known = 0;
        for (int c = 0; c < d->ncolumns; c++)
            known |= !strcmp(d->columns[c].name, o->include[i]) && d->columns[c].restricted;
        if (!known)
            return ct_error(ctx, CT_ERR_USAGE, "--include %s: not a restricted field of %s", o->include[i], d->name);
    }
    ct_field_def fields[32];
    int col[32], nf = 0;
    fields[nf] = (ct_field_def){"key", CT_FIELD_STRING, 0, 0};
    col[nf++] = -1;
    for (int c = 0; c < d->ncolumns; c++) {
        int keep = !d->columns[c].restricted;
        for (int i = 0; i < o->ninclude; i++)
            keep |= !strcmp(o->include[i], d->columns[c].name);
        if (!keep)
            continue;
        fields[nf] = (ct_field_def){d->columns[c].name,
                                    !strcmp(d->columns[c].sql_type, "REAL") ? CT_FIELD_REAL : CT_FIELD_STRING, 0, 0};
        col[nf++] = c;
    }
    ct_vsink_opts so = {.driver = o->format, .layer = d->name,
                        .gtype = l == CT_SDI_DIKES ? CT_GEOM_MULTILINE : CT_GEOM_MULTIPOLYGON,
                        .crs = s->crs, .fields = fields, .nfields = nf};
    ct_vsink *sink = NULL;
    ct_status st = ct_vsink_create(ctx, o->args[1], &so, &sink);
    if (st)
        return st;
    char sql[2048];
    int n = snprintf(sql, sizeof sql, "SELECT fkey, %s(geom)", s->sql->as_wkb);
    for (int c = 0; c < d->ncolumns; c++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", d->columns[c].name);
    snprintf(sql + n, sizeof sql - (size_t)n, " FROM %s WHERE v_to IS NULL ORDER BY fid", d->name);
    sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
    if (q)
        sdi_stream(q);
    GEOSContextHandle_t h = ct_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    long long count = 0;
    int rc = SDI_DONE;
    while (q && !st && (rc = sdi_step(q)) == SDI_ROW) {
        const char *vals[32];
        for (int i = 0; i < nf; i++)
            vals[i] = sdi_column_text(q, col[i] < 0 ? 0 : 2 + col[i]);
        GEOSGeometry *g = sdi_column_bytes(q, 1) > 0
                              ? GEOSWKBReader_read_r(h, rd, sdi_column_blob(q, 1), sdi_column_bytes(q, 1))
                              : NULL;
        st = ct_vsink_write(ctx, sink, g, vals);
        if (g)
            GEOSGeom_destroy_r(h, g);
        count++;
    }
    GEOSWKBReader_destroy_r(h, rd);
    if (!q && !st)
        st = CT_ERR_DB;
    if (!st && rc == SDI_ERROR)
        st = db_fail(ctx, s, "cannot read the layer");
    sdi_finalize(q);
    if (st)
        ct_vsink_abort(sink);
    else
        st = ct_vsink_commit(ctx, sink);
    json_object_object_add(doc, "layer", json_object_new_string(d->name));
    json_object_object_add(doc, "output", json_object_new_string(o->args[1]));
    json_object_object_add(doc, "features", json_object_new_int64(count));
    return st;
}

/* A scalar as text: doubles rounded to what a person reads, the rest as json-c prints it. */
static const char *scalar(json_object *x, char buf[64])
{
    if (!x)
        return "-";
    if (json_object_is_type(x, json_type_double)) {
        snprintf(buf, 64, "%.10g", json_object_get_double(x));
        return buf;
    }
    return json_object_get_string(x);
}

/* The text form of a command's result: one "key: value" line per scalar, tables as rows. */
static void print_text(FILE *f, json_object *v, int depth)
{
    if (json_object_is_type(v, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            fprintf(f, "%*s", depth * 2, "");
            int first = 1;
            json_object_object_foreach(e, k, x) {
                if (json_object_is_type(x, json_type_array)) {
                    fputc('\n', f);
                    print_text(f, x, depth + 1);
                    continue;
                }
                char buf[64];
                fprintf(f, "%s%s=%s", first ? "" : "  ", k, scalar(x, buf));
                first = 0;
            }
            fputc('\n', f);
        }
        return;
    }
    json_object_object_foreach(v, key, val) {
        if (json_object_is_type(val, json_type_array) || json_object_is_type(val, json_type_object)) {
            fprintf(f, "%*s%s:\n", depth * 2, "", key);
            print_text(f, val, depth + 1);
        } else {
            char buf[64];
            fprintf(f, "%*s%s: %s\n", depth * 2, "", key, scalar(val, buf));
        }
    }
}

ct_status ct_sdi_run(ct_ctx *ctx, const ct_sdi_opts *o)
{
    FILE *out = o->out ? o->out : stdout;
    if (!o->sdi)
        return ct_error(ctx, CT_ERR_USAGE, "no SDI: give --sdi or set CT_SDI");
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "sdi", json_object_new_string(o->sdi));
    json_object_object_add(doc, "command", json_object_new_string(o->command));
    ct_sdi *s = NULL;
    ct_status st;
    if (!strcmp(o->command, "init")) {
        ct_crs *crs = NULL;
        st = o->srs ? ct_crs_from_user(ctx, o->srs, &crs) : CT_OK;
        if (!st)
            st = ct_sdi_create(ctx, o->sdi, crs, o->rasters, &s);
        ct_crs_free(crs);
        if (!st)
            json_object_object_add(doc, "crs", json_object_new_string(ct_crs_name(s->crs)));
    } else {
        st = ct_sdi_open(ctx, o->sdi, &s);
        if (st)
            ;
        else if (!strcmp(o->command, "status"))
            st = cmd_status(ctx, s, doc);
        else if (!strcmp(o->command, "check"))
            st = cmd_check(ctx, s, doc);
        else if (!strcmp(o->command, "history"))
            st = cmd_history(ctx, s, o, doc);
        else if (!strcmp(o->command, "export"))
            st = cmd_export(ctx, s, o, doc);
        else if (!strcmp(o->command, "undo")) {
            char *end = NULL;
            long long v = o->nargs == 1 ? strtoll(o->args[0], &end, 10) : 0;
            long long u = 0;
            if (!end || *end || v <= 0)
                st = ct_error(ctx, CT_ERR_USAGE, "undo needs one VERSION number");
            else
                st = ct_sdi_undo(ctx, s, v, o->invocation, &u);
            if (!st) {
                json_object_object_add(doc, "undone", json_object_new_int64(v));
                json_object_object_add(doc, "version", json_object_new_int64(u));
            }
        } else
            st = ct_error(ctx, CT_ERR_USAGE, "unknown command '%s' (init, status, check, history, undo, export)", o->command);
    }
    /* check prints its findings even when it fails: that is its answer */
    if (!st || (s && !strcmp(o->command, "check") && st == CT_ERR_INVALID)) {
        if (o->json)
            fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        else
            print_text(out, doc, 0);
    }
    json_object_put(doc);
    ct_sdi_close(s);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Reading the SDI from other tools                                                         */

const char *ct_sdi_ref(const char *arg)
{
    return arg && !strncmp(arg, "sdi:", 4) ? arg + 4 : NULL;
}

ct_status ct_sdi_resolve(ct_ctx *ctx, ct_sdi *s, const char *name, ct_sdi_input *in)
{
    memset(in, 0, sizeof *in);
    int l = ct_sdi_layer_by_name(name);
    if (l >= 0) {
        char layer[128], spec[4400];
        snprintf(layer, sizeof layer, "%s_current", layers[l].name);
        snprintf(spec, sizeof spec, "%s|layername=%s", s->target, layer);
        in->path = strdup(spec);
        in->layer = strdup(layer);
        if (!in->path || !in->layer) {
            ct_sdi_input_free(in);
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        }
        return CT_OK;
    }
    sdi_stmt *q = ct_sdi_prepare(ctx, s, "SELECT count(*) FROM sdi_raster WHERE name = ? AND v_to IS NULL");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, name);
    int found = sdi_step(q) == SDI_ROW && (int)sdi_column_int64(q, 0) > 0;
    sdi_finalize(q);
    if (!found)
        return ct_error(ctx, CT_ERR_INVALID, "%s: no layer or raster named '%s' (layers: parcels, planning_zones,"
                        " admin_units, dikes; rasters: see ct-sdi status)", s->path, name);
    return ct_sdi_raster_path(ctx, s, name, &in->path);
}

void ct_sdi_input_free(ct_sdi_input *in)
{
    free(in->path);
    free(in->layer);
    memset(in, 0, sizeof *in);
}

ct_status ct_sdi_rasters(ct_ctx *ctx, ct_sdi *s, const char *prefix, ct_sdi_raster_fn fn, void *user)
{
    sdi_stmt *q = ct_sdi_prepare(ctx, s,
        "SELECT name, version, file, title FROM sdi_raster WHERE v_to IS NULL"
        " AND substr(name, 1, length(CAST(? AS TEXT))) = CAST(? AS TEXT) ORDER BY name");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, prefix ? prefix : "");
    sdi_bind_text(q, 2, prefix ? prefix : "");
    ct_status st = CT_OK;
    int rc = SDI_DONE;
    while (!st && (rc = sdi_step(q)) == SDI_ROW) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->raster_dir, sdi_column_text(q, 2));
        ct_sdi_raster_entry e = {
            .name = sdi_column_text(q, 0),
            .version = sdi_column_int64(q, 1),
            .path = path,
            .title = sdi_column_text(q, 3),
        };
        st = fn(user, &e);
    }
    if (!st && rc == SDI_ERROR)
        st = db_fail(ctx, s, "cannot read the raster catalogue");
    sdi_finalize(q);
    return st;
}

ct_status ct_sdi_changes(ct_ctx *ctx, ct_sdi *s, long long since, ct_sdi_change_fn fn, void *user)
{
    char sql[256];
    if (s->nchange) {
        ct_status st = flush_changes(ctx, s);
        if (st)
            return st;
    }
    snprintf(sql, sizeof sql, "SELECT version, layer, fkey, op, minx, miny, maxx, maxy FROM sdi_change WHERE version > ?"
             " ORDER BY version, %s", s->sql->insert_order);
    sdi_stmt *q = ct_sdi_prepare(ctx, s, sql);
    if (!q)
        return CT_ERR_DB;
    sdi_stream(q);
    sdi_bind_int64(q, 1, since);
    ct_status st = CT_OK;
    int rc = SDI_DONE;
    while (!st && (rc = sdi_step(q)) == SDI_ROW) {
        ct_sdi_change c = {
            .version = sdi_column_int64(q, 0),
            .layer = sdi_column_text(q, 1),
            .key = sdi_column_text(q, 2),
            .op = sdi_column_text(q, 3),
        };
        for (int k = 0; k < 4; k++)
            c.bbox[k] = sdi_column_type(q, 4 + k) == SDI_NULL ? NAN : sdi_column_double(q, 4 + k);
        st = fn(user, &c);
    }
    if (!st && rc == SDI_ERROR)
        st = db_fail(ctx, s, "cannot read the change log");
    sdi_finalize(q);
    return st;
}

/* A hard link when the file is on the SDI's file system, else a copy: the caller's file stays
 * where it is, and a rollback deletes only the SDI's own name for it. */
static ct_status link_or_copy(ct_ctx *ctx, const char *from, const char *to)
{
    if (link(from, to) == 0)
        return CT_OK;
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    ct_status st = CT_OK;
    if (!in || !out)
        st = ct_error(ctx, CT_ERR_IO, "%s: %s", in ? to : from, strerror(errno));
    char buf[1 << 16];
    size_t n;
    while (!st && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            st = ct_error(ctx, CT_ERR_IO, "%s: %s", to, strerror(errno));
    if (in)
        fclose(in);
    if (out && fclose(out) != 0 && !st)
        st = ct_error(ctx, CT_ERR_IO, "%s: %s", to, strerror(errno));
    if (st)
        unlink(to);
    return st;
}

ct_status ct_sdi_add_raster(ct_ctx *ctx, ct_sdi *s, const char *name, const char *file,
                            const ct_sdi_source_info *info)
{
    if (mkdir(s->raster_dir, 0777) != 0 && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", s->raster_dir, strerror(errno));
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", s->raster_dir, name, (long)getpid());
    ct_status st = link_or_copy(ctx, file, tmp);
    if (!st) {
        st = ct_sdi_register_raster(ctx, s, name, tmp, info);
        if (st)
            unlink(tmp);
    }
    return st;
}

/* Result tables: attribute tables that tools write into the SDI (zonal statistics, impact
 * reports), joined to the layers by their keys. They belong to the version that wrote them and
 * are replaced whole when a later version writes a table of the same name. */
struct ct_sdi_table {
    ct_sdi *sdi;
    sdi_stmt *insert;
    char *name;
    int ncolumns;
    long long rows;
};

static int table_name_ok(const char *name)
{
    if (!name || !(*name >= 'a' && *name <= 'z') || strlen(name) > 60)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

ct_status ct_sdi_table_create(ct_ctx *ctx, ct_sdi *s, const char *name, const char *title,
                              const char *const *columns, const char *const *types, int ncolumns,
                              ct_sdi_table **out)
{
    *out = NULL;
    if (!s->in_version)
        return ct_error(ctx, CT_ERR_USAGE, "%s: result tables are written inside a version", s->path);
    if (!table_name_ok(name))
        return ct_error(ctx, CT_ERR_USAGE, "%s: '%s' is not a result table name (lower-case letters, digits, _)",
                        s->path, name ? name : "");
    ct_status st = ct_sdi_exec(ctx, s,
        "CREATE TABLE IF NOT EXISTS sdi_table(name TEXT NOT NULL, version INTEGER NOT NULL, title TEXT,"
        " command TEXT, rows INTEGER, v_to INTEGER, PRIMARY KEY(name, version))");
    if (st)
        return st;
    /* a table of that name that is not a result table is part of the schema: never replaced */
    char sql[8192];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sdi_table WHERE name = '%s' AND v_to IS NULL", name);
    if (has_relation(s, name) - ct_sdi_query_int(s, sql, 0) > 0)
        return ct_error(ctx, CT_ERR_USAGE, "%s: '%s' is a table of the SDI schema, not a result table", s->path, name);
    int n = snprintf(sql, sizeof sql,
                     "UPDATE sdi_table SET v_to = %lld WHERE name = '%s' AND v_to IS NULL;"
                     "DROP TABLE IF EXISTS %s; CREATE TABLE %s(", s->version, name, name, name);
    for (int c = 0; c < ncolumns && n < (int)sizeof sql - 200; c++) {
        if (!table_name_ok(columns[c]))
            return ct_error(ctx, CT_ERR_USAGE, "%s: '%s' is not a column name for table %s", s->path, columns[c], name);
        n += snprintf(sql + n, sizeof sql - (size_t)n, "%s\"%s\" %s", c ? ", " : "", columns[c], column_type(types[c]));
    }
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    if ((st = ct_sdi_exec(ctx, s, sql)))
        return st;
    sdi_stmt *q = ct_sdi_prepare(ctx, s,
        "INSERT INTO sdi_table(name, version, title, command, rows)"
        " VALUES (?, ?, ?, (SELECT command FROM sdi_version WHERE version = ?), 0)");
    if (!q)
        return CT_ERR_DB;
    sdi_bind_text(q, 1, name);
    sdi_bind_int64(q, 2, s->version);
    sdi_bind_text(q, 3, title);
    sdi_bind_int64(q, 4, s->version);
    int rc = sdi_step(q);
    sdi_finalize(q);
    if (rc != SDI_DONE)
        return db_fail(ctx, s, "cannot catalogue a result table");
    n = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (", name);
    for (int c = 0; c < ncolumns; c++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "%s?", c ? ", " : "");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    ct_sdi_table *t = calloc(1, sizeof *t);
    if (!t)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    t->sdi = s;
    t->name = strdup(name);
    t->ncolumns = ncolumns;
    t->insert = ct_sdi_prepare(ctx, s, sql);
    if (!t->insert || !t->name) {
        st = t->insert ? ct_error(ctx, CT_ERR_NOMEM, "out of memory") : CT_ERR_DB;
        ct_sdi_table_free(t);
        return st;
    }
    *out = t;
    return CT_OK;
}

ct_status ct_sdi_table_add(ct_ctx *ctx, ct_sdi_table *t, const char *const *values)
{
    sdi_reset(t->insert);
    for (int c = 0; c < t->ncolumns; c++)
        sdi_bind_text(t->insert, c + 1, values[c]);
    if (sdi_step(t->insert) != SDI_DONE)
        return db_fail(ctx, t->sdi, t->name);
    t->rows++;
    return CT_OK;
}

ct_status ct_sdi_table_close(ct_ctx *ctx, ct_sdi_table *t)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE sdi_table SET rows = %lld WHERE name = '%s' AND version = %lld",
             t->rows, t->name, t->sdi->version);
    ct_status st = ct_sdi_exec(ctx, t->sdi, sql);
    ct_sdi_table_free(t);
    return st;
}

void ct_sdi_table_free(ct_sdi_table *t)
{
    if (!t)
        return;
    sdi_finalize(t->insert);
    free(t->name);
    free(t);
}
