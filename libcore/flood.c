/* flood.c — scenario files, the connected bathtub and the 2D local inertial model (ct-flood). */
#include "ct/flood.h"
#include "flood_int.h"
#include "context_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <strings.h>
#include <unistd.h>

#include <cairo.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <json-c/json.h>

#include "ct/crs.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/vector.h"

/* ---------------------------------------------------------------------------------------- */
/* Scenario keys                                                                             */

static const ct_skey skeys[] = {
    {"name", CT_SKEY_TEXT, NULL, "a short name for the scenario, used in summaries"},
    {"description", CT_SKEY_TEXT, NULL, "free text"},
    {"model", CT_SKEY_CHOICE, "bathtub|simulate|static|dynamic", "which model runs when the command does not say (static = bathtub, dynamic = simulate)"},
    {"dem", CT_SKEY_PATH, NULL, "ground elevation raster, metres above the Hon Dau datum"},
    {"crs", CT_SKEY_TEXT, NULL, "CRS to assume for a DEM that has none (EPSG:n, vn2000:105, ...)"},
    {"dikes", CT_SKEY_PATH, NULL, "vector layer of dike lines burned onto the DEM as crest heights"},
    {"dike_crest_field", CT_SKEY_TEXT, NULL, "attribute holding the crest height (default crest or CaoTrinh; else the Z of the line)"},
    {"dike_status_field", CT_SKEY_TEXT, NULL, "attribute whose value 'vỡ', 'broken' or 'breach' marks a broken dike, not burned (default TrangThai or status)"},
    {"breaches", CT_SKEY_PATH, NULL, "vector layer of points, lines or polygons where dikes are broken"},
    {"level", CT_SKEY_NUMLIST, NULL, "water level(s) at the sources, metres; bathtub: one output per level"},
    {"slr_offset", CT_SKEY_NUMBER, NULL, "sea-level-rise offset added to every level and series value, metres"},
    {"sources", CT_SKEY_CHOICE, "edges|below|layer|seeds", "where water enters (default: seeds, layer, below, then edges, whichever is given)"},
    {"source_below", CT_SKEY_NUMBER, NULL, "cells whose ground is below this are sources (river and canal beds)"},
    {"source_layer", CT_SKEY_PATH, NULL, "vector layer of source points, lines or polygons"},
    {"seed", CT_SKEY_NUMLIST, NULL, "source points as x,y[,x,y...] in the DEM's CRS"},
    {"connectivity", CT_SKEY_CHOICE, "8|4", "bathtub neighbourhood (default 8)"},
    {"water_level_series", CT_SKEY_PATH, NULL, "CSV time,level_m at the sources (simulate)"},
    {"initial_level", CT_SKEY_NUMBER, NULL, "simulate: start with water up to this level in every cell below it (a lake at rest)"},
    {"rainfall_series", CT_SKEY_PATH, NULL, "CSV time,mm_per_h of uniform rain; with rainfall_raster or rainfall_grids, time,factor scaling them"},
    {"rainfall", CT_SKEY_NUMBER, NULL, "constant uniform rain, mm/h (simulate)"},
    {"rainfall_raster", CT_SKEY_PATH, NULL, "rain intensity per cell, mm/h: any raster with a CRS, resampled onto the DEM grid"},
    {"rainfall_grids", CT_SKEY_PATH, NULL, "CSV time,path of rain rasters (mm/h), each holding from its time to the next ('none': no rain)"},
    {"inflow", CT_SKEY_PATH, NULL, "inflow points: CSV x,y[,series] or a LISFLOOD-FP .bci file"},
    {"inflow_series", CT_SKEY_PATH, NULL, "inflow hydrograph: CSV time,q_m2_per_s or a LISFLOOD-FP .bdy file"},
    {"inflow_lines", CT_SKEY_PATH, NULL, "vector layer of inflow lines (with a CRS), each spread over the cells it crosses by length"},
    {"inflow_lines_series", CT_SKEY_PATH, NULL, "hydrographs of the inflow lines: CSV time,q_m3_per_s for the whole line, or a .bdy file"},
    {"inflow_lines_field", CT_SKEY_TEXT, NULL, "attribute of inflow_lines naming each line's series (default: the only series)"},
    {"gauges", CT_SKEY_PATH, NULL, "gauge points: CSV name,x,y or a LISFLOOD-FP .stage file"},
    {"manning", CT_SKEY_NUMBER, NULL, "Manning's n everywhere (default 0.035)"},
    {"manning_raster", CT_SKEY_PATH, NULL, "Manning's n per cell (a raster on the DEM grid)"},
    {"landuse", CT_SKEY_PATH, NULL, "land use, with manning_table: a code raster on the DEM grid, or a polygon layer such as sdi:parcels"},
    {"manning_table", CT_SKEY_PATH, NULL, "CSV code,n mapping land-use codes to Manning's n"},
    {"landuse_field", CT_SKEY_TEXT, NULL, "the land-use code field of a landuse layer (default landuse, MucDich, MaQH, MDSD or LoaiDat)"},
    {"duration", CT_SKEY_DURATION, NULL, "simulated time (simulate), e.g. 72h"},
    {"output_interval", CT_SKEY_DURATION, NULL, "time between depth snapshots and mass-balance lines"},
    {"gauge_interval", CT_SKEY_DURATION, NULL, "time between gauge readings (default 60 s, at most output_interval)"},
    {"checkpoint_interval", CT_SKEY_DURATION, NULL, "time between checkpoints for --resume (default: none)"},
    {"scheme", CT_SKEY_CHOICE, "bates|qcentred", "momentum scheme: Bates et al. 2010 or q-centred de Almeida et al. 2012"},
    {"theta", CT_SKEY_NUMBER, NULL, "q-centred weighting, 0.7-1 (default 0.9)"},
    {"alpha", CT_SKEY_NUMBER, NULL, "CFL coefficient of the time step, 0.2-0.7 (default 0.7)"},
    {"depth_threshold", CT_SKEY_NUMBER, NULL, "wet/dry depth, metres (default 0.001)"},
    {"arrival_depth", CT_SKEY_NUMBER, NULL, "depth counted as flooded for arrival time and duration (default 0.1)"},
    {"debris_factor", CT_SKEY_NUMBER, NULL, "FD2320 debris factor added to the hazard where depth > 0.25 m (default 0.5)"},
    {"min_timestep", CT_SKEY_NUMBER, NULL, "a time step below this many seconds aborts the run as unstable (default 0.01)"},
    {"output", CT_SKEY_PATH, NULL, "output folder"},
};

const ct_skey *ct_scenario_keys(int *n)
{
    *n = (int)(sizeof skeys / sizeof skeys[0]);
    return skeys;
}

static const ct_skey *skey_find(const char *name)
{
    for (size_t i = 0; i < sizeof skeys / sizeof skeys[0]; i++)
        if (!strcmp(skeys[i].name, name))
            return &skeys[i];
    return NULL;
}

typedef struct sentry {
    char *key, *value, *where, *resolved;
} sentry;

struct ct_scenario {
    char *dir;
    sentry *e;
    int n;
    size_t cap;
};

ct_scenario *ct_scenario_new(const char *dir)
{
    ct_scenario *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->dir = strdup(dir && *dir ? dir : ".");
    if (!s->dir) {
        free(s);
        return NULL;
    }
    return s;
}

void ct_scenario_free(ct_scenario *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->e[i].key);
        free(s->e[i].value);
        free(s->e[i].where);
        free(s->e[i].resolved);
    }
    free(s->e);
    free(s->dir);
    free(s);
}

static sentry *sfind(const ct_scenario *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].key, key))
            return &s->e[i];
    return NULL;
}

/* Parses a duration: a number of seconds, or a number followed by s, min, h or d. */
int ct_flood_parse_duration(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    double mul = 1;
    if (!*end || !strcmp(end, "s") || !strcmp(end, "sec") || !strcmp(end, "seconds"))
        mul = 1;
    else if (!strcmp(end, "min") || !strcmp(end, "m"))
        mul = 60;
    else if (!strcmp(end, "h") || !strcmp(end, "hours"))
        mul = 3600;
    else if (!strcmp(end, "d") || !strcmp(end, "days"))
        mul = 86400;
    else
        return 0;
    *out = x * mul;
    return 1;
}

static int parse_number(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return 0;
    *out = x;
    return 1;
}

/* Splits a number list on commas, semicolons and blanks. @return count, or -1 at a bad item
 * (its text in bad[64]). v may be NULL to count only. */
static int parse_numlist(const char *s, double *v, char bad[64])
{
    int n = 0;
    const char *p = s;
    while (*p) {
        while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && !isspace((unsigned char)*q) && *q != ',' && *q != ';')
            q++;
        char tok[64];
        size_t len = (size_t)(q - p) < sizeof tok - 1 ? (size_t)(q - p) : sizeof tok - 1;
        memcpy(tok, p, len);
        tok[len] = 0;
        double x;
        if (!parse_number(tok, &x)) {
            if (bad)
                snprintf(bad, 64, "%s", tok);
            return -1;
        }
        if (v)
            v[n] = x;
        n++;
        p = q;
    }
    return n;
}

ct_status ct_scenario_set(ct_ctx *ctx, ct_scenario *s, const char *key, const char *value, const char *where)
{
    if (!where)
        where = "--set";
    const ct_skey *k = skey_find(key);
    if (!k)
        return ct_error(ctx, CT_ERR_FORMAT, "%s: unknown key '%s' (see ct-scenario(5))", where, key);
    double x;
    char bad[64];
    switch (k->type) {
    case CT_SKEY_NUMBER:
        if (!parse_number(value, &x))
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: '%s' is not a number", where, key, value);
        break;
    case CT_SKEY_INT:
        if (!parse_number(value, &x) || x != floor(x))
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: '%s' is not a whole number", where, key, value);
        break;
    case CT_SKEY_DURATION:
        if (!ct_flood_parse_duration(value, &x) || x < 0)
            return ct_error(ctx, CT_ERR_INVALID,
                            "%s: %s: '%s' is not a duration (seconds, or a number with s, min, h or d)", where,
                            key, value);
        break;
    case CT_SKEY_NUMLIST: {
        int n = parse_numlist(value, NULL, bad);
        if (n < 0)
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: '%s' is not a number", where, key, bad);
        if (n == 0)
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: no numbers given", where, key);
        break;
    }
    case CT_SKEY_CHOICE: {
        size_t len = strlen(value);
        const char *c = k->choices;
        int found = 0;
        while (c && *c) {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);
            if (cl == len && !strncmp(c, value, len))
                found = 1;
            c = bar ? bar + 1 : NULL;
        }
        if (!found)
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: '%s' is not one of %s", where, key, value, k->choices);
        break;
    }
    case CT_SKEY_PATH:
    case CT_SKEY_TEXT:
        if (!*value && k->type == CT_SKEY_PATH)
            return ct_error(ctx, CT_ERR_INVALID, "%s: %s: empty path", where, key);
        break;
    }
    sentry *e = sfind(s, key);
    if (!e) {
        if (ct_grow(&s->e, &s->cap, (size_t)s->n + 1, sizeof *s->e))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        e = &s->e[s->n++];
        memset(e, 0, sizeof *e);
        e->key = strdup(key);
    }
    free(e->value);
    free(e->where);
    free(e->resolved);
    e->value = strdup(value);
    e->where = strdup(where);
    e->resolved = NULL;
    if (k->type == CT_SKEY_PATH) {
        /* a file position means "relative to the scenario"; the command line means the shell's */
        int from_file = strcmp(where, "--set") != 0 && strncmp(where, "--", 2) != 0;
        if (value[0] == '/' || !from_file || !strcmp(s->dir, ".") || !strncmp(value, "/vsi", 4) || ct_sdi_ref(value)) {
            e->resolved = strdup(value);
        } else {
            size_t len = strlen(s->dir) + strlen(value) + 2;
            e->resolved = malloc(len);
            if (e->resolved)
                snprintf(e->resolved, len, "%s/%s", s->dir, value);
        }
    }
    if (!e->key || !e->value || !e->where || (k->type == CT_SKEY_PATH && !e->resolved))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    return CT_OK;
}

ct_status ct_scenario_set_arg(ct_ctx *ctx, ct_scenario *s, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return ct_error(ctx, CT_ERR_USAGE, "--set: '%s' is not KEY=VALUE", arg);
    char key[64];
    size_t len = (size_t)(eq - arg);
    while (len && isspace((unsigned char)arg[len - 1]))
        len--;
    if (len >= sizeof key)
        return ct_error(ctx, CT_ERR_FORMAT, "--set: unknown key '%.*s'", (int)len, arg);
    memcpy(key, arg, len);
    key[len] = 0;
    const char *v = eq + 1;
    while (isspace((unsigned char)*v))
        v++;
    ct_status st = ct_scenario_set(ctx, s, key, v, "--set");
    /* an unknown key typed on the command line is a usage error of the tool */
    if (st == CT_ERR_FORMAT)
        return ct_error(ctx, CT_ERR_USAGE, "%s", ct_ctx_errmsg(ctx));
    return st;
}

const char *ct_scenario_get(const ct_scenario *s, const char *key)
{
    sentry *e = sfind(s, key);
    return e ? e->value : NULL;
}

const char *ct_scenario_path(const ct_scenario *s, const char *key)
{
    sentry *e = sfind(s, key);
    return e ? (e->resolved ? e->resolved : e->value) : NULL;
}

const char *ct_scenario_where(const ct_scenario *s, const char *key)
{
    sentry *e = sfind(s, key);
    return e ? e->where : "";
}

int ct_scenario_number(const ct_scenario *s, const char *key, double *v)
{
    sentry *e = sfind(s, key);
    if (!e)
        return 0;
    const ct_skey *k = skey_find(key);
    if (k && k->type == CT_SKEY_DURATION)
        return ct_flood_parse_duration(e->value, v);
    return parse_number(e->value, v);
}

ct_status ct_scenario_numlist(ct_ctx *ctx, const ct_scenario *s, const char *key, double **v, int *n)
{
    *v = NULL;
    *n = 0;
    sentry *e = sfind(s, key);
    if (!e)
        return CT_OK;
    int cnt = parse_numlist(e->value, NULL, NULL);
    if (cnt <= 0)
        return ct_error(ctx, CT_ERR_INVALID, "%s: %s: not a list of numbers", e->where, key);
    *v = malloc((size_t)cnt * sizeof **v);
    if (!*v)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    *n = parse_numlist(e->value, *v, NULL);
    return CT_OK;
}

ct_status ct_scenario_load(ct_ctx *ctx, const char *path, ct_scenario **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *slash = 0;
    ct_scenario *s = ct_scenario_new(slash ? (dir[0] ? dir : "/") : ".");
    free(dir);
    if (!s) {
        fclose(f);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    char line[4096], where[1200];
    int lineno = 0;
    ct_status st = CT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: line longer than %zu bytes", where, sizeof line - 2);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = 0;
        if (!*p)
            continue;
        if (lineno == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
            p += 3;
        char *eq = strchr(p, '=');
        if (!eq) {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: expected 'key = value', found '%s'", where, p);
            break;
        }
        char *k = p, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = 0;
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        if (!*k) {
            st = ct_error(ctx, CT_ERR_FORMAT, "%s: a value with no key", where);
            break;
        }
        if (sfind(s, k))
            ct_log(ctx, CT_LOG_WARN, "%s: %s: set again (was set at %s); the last one counts", where, k,
                   ct_scenario_where(s, k));
        if ((st = ct_scenario_set(ctx, s, k, v, where)))
            break;
    }
    if (!st && ferror(f))
        st = ct_error(ctx, CT_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st) {
        ct_scenario_free(s);
        return st;
    }
    *out = s;
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Time series                                                                               */

void ct_series_free(ct_series *s)
{
    if (!s)
        return;
    free(s->t);
    free(s->v);
    s->t = s->v = NULL;
    s->n = 0;
}

double ct_series_at(const ct_series *s, double t)
{
    if (s->n == 0)
        return 0;
    if (t <= s->t[0])
        return s->v[0];
    if (t >= s->t[s->n - 1])
        return s->v[s->n - 1];
    int lo = 0, hi = s->n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (s->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    double f = (t - s->t[lo]) / (s->t[hi] - s->t[lo]);
    return s->v[lo] + f * (s->v[hi] - s->v[lo]);
}

static ct_status series_push(ct_ctx *ctx, ct_series *s, size_t *cap, double t, double v)
{
    size_t nc = ct_grow_cap(*cap, (size_t)s->n + 1); /* times and values side by side */
    if (nc != *cap) {
        if (ct_resize(&s->t, nc, sizeof *s->t) || ct_resize(&s->v, nc, sizeof *s->v))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        *cap = nc;
    }
    s->t[s->n] = t;
    s->v[s->n] = v;
    s->n++;
    return CT_OK;
}

/* Splits a line into at most max fields on commas, semicolons, tabs and blanks. */
static int split_fields(char *p, char **fld, int max)
{
    int n = 0;
    while (*p && n < max) {
        while (*p && (isspace((unsigned char)*p) || *p == ',' || *p == ';'))
            p++;
        if (!*p)
            break;
        fld[n++] = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',' && *p != ';')
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

/* An ISO 8601 date-time (2025-10-05T00:15:00+07:00, a space for the T, seconds and zone
 * optional, Z for UTC) as seconds since 1970 UTC. @return 1 when it is one. */
static int parse_iso_time(const char *v, double *out)
{
    int Y, M, D, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(v, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || n != 10)
        return 0;
    const char *p = v + 10;
    if (*p == 'T' || *p == ' ') {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &k) != 2)
            return 0;
        p += 1 + k;
        if (*p == ':') {
            char *e;
            sec = strtod(p + 1, &e);
            p = e;
        }
    }
    double off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = 0, om = 0, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) < 1)
            return 0;
        off = (*p == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
        p += 1 + (k ? k : 2);
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 24 || mi > 59)
        return 0;
    /* days from civil (Howard Hinnant's algorithm) */
    int y = Y - (M <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (M + (M > 2 ? -3 : 9)) + 2) / 5 + D - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)era * 146097 + doe - 719468;
    *out = days * 86400 + h * 3600.0 + mi * 60.0 + sec - off;
    return 1;
}

/* The series reader; with txt, the second field is kept as text (in *txt, one per row, v the
 * row's index) instead of being read as a number. */
static ct_status series_read_k(ct_ctx *ctx, const char *path, ct_series *out, char ***txt)
{
    int iso = -1; /* unknown yet; 1: ISO date-times, counted from the first row */
    double t_first = 0;
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char line[1024];
    int lineno = 0, seen_data = 0;
    size_t cap = 0, tcap = 0;
    ct_status st = CT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *fld[4];
        int nf = split_fields(line, fld, 4);
        if (nf == 0)
            continue;
        double t, v;
        int tok = 0;
        if (nf >= 2 && iso != 1 && ct_flood_parse_duration(fld[0], &t))
            tok = iso == -1 ? (iso = 0, 1) : 1;
        else if (nf >= 2 && iso != 0 && parse_iso_time(fld[0], &t)) {
            if (iso == -1)
                t_first = t;
            iso = 1;
            t -= t_first;
            tok = 1;
        }
        v = out->n;
        if (!tok || (!txt && !parse_number(fld[1], &v))) {
            if (!seen_data && lineno == 1)
                continue; /* a header line */
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: expected 'time,%s', found '%s%s%s'", path, lineno,
                          txt ? "path" : "value", fld[0], nf > 1 ? "," : "", nf > 1 ? fld[1] : "");
            break;
        }
        seen_data = 1;
        if (out->n > 0 && t <= out->t[out->n - 1]) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: time %g does not increase (previous %g): a time series must be "
                          "strictly increasing in time", path, lineno, t, out->t[out->n - 1]);
            break;
        }
        if (txt) {
            if (ct_grow(txt, &tcap, (size_t)out->n + 1, sizeof **txt) || !((*txt)[out->n] = strdup(fld[1]))) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if ((st = series_push(ctx, out, &cap, t, v))) {
            if (txt)
                free((*txt)[out->n]);
            break;
        }
    }
    fclose(f);
    if (!st && out->n == 0)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no 'time,%s' lines", path, txt ? "path" : "value");
    if (st) {
        for (int i = 0; txt && *txt && i < out->n; i++)
            free((*txt)[i]);
        if (txt) {
            free(*txt);
            *txt = NULL;
        }
        ct_series_free(out);
    }
    return st;
}

ct_status ct_series_read(ct_ctx *ctx, const char *path, ct_series *out) { return series_read_k(ctx, path, out, NULL); }

/* ---------------------------------------------------------------------------------------- */
/* Small file helpers                                                                        */

/* A text output written to PATH.tmp.PID and renamed into place by atext_commit(). */
ct_status ct_flood_atext_open(ct_ctx *ctx, const char *path, ct_atext *a)
{
    snprintf(a->path, sizeof a->path, "%s", path);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp.%ld", path, (long)getpid());
    a->f = fopen(a->tmp, "w");
    if (!a->f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", a->tmp, strerror(errno));
    return CT_OK;
}

ct_status ct_flood_atext_commit(ct_ctx *ctx, ct_atext *a)
{
    if (!a->f)
        return CT_OK;
    int bad = ferror(a->f);
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    if (bad || rename(a->tmp, a->path)) {
        unlink(a->tmp);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", a->path, strerror(errno));
    }
    return CT_OK;
}

void ct_flood_atext_abort(ct_atext *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        unlink(a->tmp);
    }
}

static ct_status make_dir(ct_ctx *ctx, const char *dir)
{
    struct stat sb;
    if (!stat(dir, &sb))
        return S_ISDIR(sb.st_mode) ? CT_OK : ct_error(ctx, CT_ERR_IO, "%s: not a folder", dir);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) /* like mkdir -p */
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST)
                return ct_error(ctx, CT_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(dir, 0777) && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* The domain: DEM on a north-up grid, with points and geometries mapped onto it             */

typedef struct domain {
    ct_grid *dem; /* Float32, NaN where there is no ground */
    int w, h;
    double gt[6];
    double cell_area;
    float zmin, zmax;
    const ct_crs *crs;
} domain;

static void domain_free(domain *d) { ct_grid_free(d->dem); memset(d, 0, sizeof *d); }

/* Loads the DEM: nodata becomes NaN; NaN cells that are not declared nodata, a rotated grid,
 * a DEM without CRS (unless the scenario gives one) and a DEM with no valid cell are errors. */
static ct_status domain_load(ct_ctx *ctx, const ct_scenario *s, domain *d)
{
    memset(d, 0, sizeof *d);
    const char *path = ct_scenario_path(s, "dem");
    if (!path)
        return ct_error(ctx, CT_ERR_USAGE, "no DEM: give the key 'dem' in the scenario or --dem");
    ct_status st = ct_grid_read(ctx, path, 1, CT_FLOAT32, &d->dem);
    if (st)
        return st;
    d->w = ct_grid_width(d->dem);
    d->h = ct_grid_height(d->dem);
    ct_grid_get_geotransform(d->dem, d->gt);
    if (d->gt[2] != 0 || d->gt[4] != 0 || d->gt[1] <= 0 || d->gt[5] >= 0) {
        domain_free(d);
        return ct_error(ctx, CT_ERR_INVALID, "%s: rotated or south-up grid: warp it north-up first (gdalwarp)", path);
    }
    if (fabs(fabs(d->gt[5]) - d->gt[1]) > 1e-6 * d->gt[1])
        ct_log(ctx, CT_LOG_DEBUG, "%s: cells are not square (%g x %g)", path, d->gt[1], -d->gt[5]);
    d->cell_area = d->gt[1] * -d->gt[5];
    const char *crsdef = ct_scenario_get(s, "crs");
    if (crsdef) {
        ct_crs *c = NULL;
        if ((st = ct_crs_from_user(ctx, crsdef, &c))) {
            domain_free(d);
            return ct_error(ctx, CT_ERR_CRS, "%s: crs: %s", ct_scenario_where(s, "crs"), ct_ctx_errmsg(ctx));
        }
        if (ct_grid_crs(d->dem) && !ct_crs_equal(ct_grid_crs(d->dem), c))
            ct_log(ctx, CT_LOG_WARN, "%s: the DEM's CRS (%s) is replaced by the scenario's (%s)", path,
                   ct_crs_name(ct_grid_crs(d->dem)), ct_crs_name(c));
        ct_grid_set_crs(d->dem, c);
        ct_crs_free(c);
    }
    d->crs = ct_grid_crs(d->dem);
    if (!d->crs) {
        domain_free(d);
        return ct_error(ctx, CT_ERR_INVALID, "%s: the DEM has no CRS: assign one (gdal_edit.py -a_srs) or give the "
                        "key 'crs' (e.g. --set crs=vn2000:105)", path);
    }
    double nd;
    int has_nd = ct_grid_get_nodata(d->dem, &nd);
    float *z = ct_grid_data(d->dem);
    size_t n = (size_t)d->w * d->h, nan_cells = 0, first_nan = 0, valid = 0;
    float zmin = INFINITY, zmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (has_nd && (z[i] == (float)nd || (isnan(nd) && isnan(z[i])))) {
            z[i] = NAN;
            continue;
        }
        if (!isfinite(z[i])) {
            if (!nan_cells++)
                first_nan = i;
            continue;
        }
        valid++;
        if (z[i] < zmin)
            zmin = z[i];
        if (z[i] > zmax)
            zmax = z[i];
    }
    if (nan_cells) {
        size_t w = (size_t)d->w;
        domain_free(d);
        return ct_error(ctx, CT_ERR_INVALID, "%s: %zu cells are NaN or infinite but not declared nodata (first at "
                        "column %zu, row %zu): set a nodata value or fill them", path, nan_cells, first_nan % w,
                        first_nan / w);
    }
    if (!valid) {
        domain_free(d);
        return ct_error(ctx, CT_ERR_INVALID, "%s: every cell is nodata", path);
    }
    ct_grid_set_nodata(d->dem, NAN);
    d->zmin = zmin;
    d->zmax = zmax;
    return CT_OK;
}

/* The cell holding (x, y); 0 when it is off the grid. */
static int domain_cell(const domain *d, double x, double y, int *col, int *row)
{
    double fc = (x - d->gt[0]) / d->gt[1], fr = (y - d->gt[3]) / d->gt[5];
    if (!(fc >= 0 && fr >= 0 && fc < d->w && fr < d->h))
        return 0;
    *col = (int)fc;
    *row = (int)fr;
    return 1;
}

typedef void (*burn_fn)(void *user, int col, int row, double z);

/* Visits every cell of the grid a segment passes through, 4-connected, in order, with the
 * parameters t0 <= t1 in [0, 1] where the segment enters and leaves it (a grid traversal after
 * Amanatides & Woo 1987); cells just off the grid's far edges may be visited too, with no
 * length. Coordinates in fractional cells. Exact and O(cells crossed): intersecting the line
 * with every cell polygon through GEOS would cost a geometry per cell for the same lengths. */
typedef void (*walk_fn)(void *user, int col, int row, double t0, double t1);

static void seg_walk(const domain *d, double c0, double r0, double c1, double r1, walk_fn fn, void *u)
{
    if (!isfinite(c0) || !isfinite(r0) || !isfinite(c1) || !isfinite(r1))
        return;
    /* the part on the grid only (clipped after Liang & Barsky 1984): the walk stays bounded by
     * the grid whatever the coordinates */
    double dc = c1 - c0, dr = r1 - r0, ta = 0, tb = 1;
    const double p[4] = {-dc, dc, -dr, dr}, q[4] = {c0, d->w - c0, r0, d->h - r0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0)
                return;
        } else if (p[i] < 0) {
            ta = fmax(ta, q[i] / p[i]);
        } else {
            tb = fmin(tb, q[i] / p[i]);
        }
    }
    if (ta > tb)
        return;
    int col = (int)floor(c0 + ta * dc), row = (int)floor(r0 + ta * dr);
    int ec = (int)floor(c0 + tb * dc), er = (int)floor(r0 + tb * dr);
    int sc = dc > 0 ? 1 : -1, sr = dr > 0 ? 1 : -1;
    double tdc = dc != 0 ? fabs(1 / dc) : INFINITY, tdr = dr != 0 ? fabs(1 / dr) : INFINITY;
    double tmc = dc != 0 ? (dc > 0 ? (col + 1 - c0) : (c0 - col)) * tdc : INFINITY;
    double tmr = dr != 0 ? (dr > 0 ? (row + 1 - r0) : (r0 - row)) * tdr : INFINITY;
    double t = ta;
    for (int k = abs(ec - col) + abs(er - row); k >= 0; k--) {
        /* a step per crossed cell edge; rounding at a corner cannot lead past the last cell */
        int stepc = row == er || (col != ec && tmc < tmr);
        double tn = k == 0 ? tb : fmin(stepc ? tmc : tmr, tb);
        fn(u, col, row, t, tn);
        t = tn;
        if (stepc) {
            tmc += tdc;
            col += sc;
        } else {
            tmr += tdr;
            row += sr;
        }
    }
}

typedef struct burn_walk {
    const domain *d;
    double z0, z1;
    burn_fn fn;
    void *u;
} burn_walk;

static void burn_visit(void *u, int col, int row, double t0, double t1)
{
    (void)t1;
    const burn_walk *b = u;
    if (col >= 0 && row >= 0 && col < b->d->w && row < b->d->h)
        b->fn(b->u, col, row, isnan(b->z0) ? NAN : b->z0 + t0 * (b->z1 - b->z0));
}

/* Visits every cell a segment passes through with z interpolated along it. Coordinates in
 * fractional cells. */
static void burn_segment(const domain *d, double c0, double r0, double z0, double c1, double r1, double z1,
                         burn_fn fn, void *u)
{
    burn_walk b = {d, z0, z1, fn, u};
    seg_walk(d, c0, r0, c1, r1, burn_visit, &b);
}

static ct_status burn_coords(ct_ctx *ctx, const domain *d, ct_transform *tr, const GEOSCoordSequence *cs,
                             burn_fn fn, void *u)
{
    GEOSContextHandle_t gh = ct_geos(ctx);
    unsigned int n = 0, dim = 2;
    GEOSCoordSeq_getSize_r(gh, cs, &n);
    GEOSCoordSeq_getDimensions_r(gh, cs, &dim);
    if (n == 0)
        return CT_OK;
    double *x = malloc(3 * (size_t)n * sizeof *x);
    if (!x)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    double *y = x + n, *z = y + n;
    for (unsigned int i = 0; i < n; i++) {
        GEOSCoordSeq_getX_r(gh, cs, i, &x[i]);
        GEOSCoordSeq_getY_r(gh, cs, i, &y[i]);
        z[i] = NAN;
        if (dim > 2)
            GEOSCoordSeq_getZ_r(gh, cs, i, &z[i]);
    }
    ct_status st = tr ? ct_transform_points(ctx, tr, n, x, y, NULL) : CT_OK;
    if (!st) {
        for (unsigned int i = 0; i < n; i++) {
            x[i] = (x[i] - d->gt[0]) / d->gt[1];
            y[i] = (y[i] - d->gt[3]) / d->gt[5];
        }
        if (n == 1)
            burn_segment(d, x[0], y[0], z[0], x[0], y[0], z[0], fn, u);
        for (unsigned int i = 0; i + 1 < n; i++)
            burn_segment(d, x[i], y[i], z[i], x[i + 1], y[i + 1], z[i + 1], fn, u);
    }
    free(x);
    return st;
}

/* Burns a geometry: points into their cell, lines along every cell they cross, polygons into
 * every cell whose centre lies inside, and along their rings. */
static ct_status burn_geom(ct_ctx *ctx, const domain *d, ct_transform *tr, const GEOSGeometry *g, burn_fn fn,
                           void *u)
{
    GEOSContextHandle_t gh = ct_geos(ctx);
    int type = GEOSGeomTypeId_r(gh, g);
    ct_status st = CT_OK;
    switch (type) {
    case GEOS_POINT:
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return burn_coords(ctx, d, tr, GEOSGeom_getCoordSeq_r(gh, g), fn, u);
    case GEOS_POLYGON: {
        if ((st = burn_geom(ctx, d, tr, GEOSGetExteriorRing_r(gh, g), fn, u)))
            return st;
        /* interior: cell centres, tested in the layer's CRS */
        double xmin, ymin, xmax, ymax;
        if (tr || !GEOSGeom_getXMin_r(gh, g, &xmin) || !GEOSGeom_getYMin_r(gh, g, &ymin) ||
            !GEOSGeom_getXMax_r(gh, g, &xmax) || !GEOSGeom_getYMax_r(gh, g, &ymax)) {
            if (tr)
                ct_log(ctx, CT_LOG_WARN, "polygon interiors in another CRS than the DEM's are burned along "
                       "their rings only: reproject the layer");
            return CT_OK;
        }
        int c0 = (int)floor((xmin - d->gt[0]) / d->gt[1]), c1 = (int)ceil((xmax - d->gt[0]) / d->gt[1]);
        int r0 = (int)floor((ymax - d->gt[3]) / d->gt[5]), r1 = (int)ceil((ymin - d->gt[3]) / d->gt[5]);
        c0 = c0 < 0 ? 0 : c0;
        r0 = r0 < 0 ? 0 : r0;
        c1 = c1 > d->w ? d->w : c1;
        r1 = r1 > d->h ? d->h : r1;
        const GEOSPreparedGeometry *pg = GEOSPrepare_r(gh, g);
        if (!pg)
            return ct_error(ctx, CT_ERR_INVALID, "a polygon GEOS cannot prepare");
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++) {
                double x = d->gt[0] + (c + 0.5) * d->gt[1], y = d->gt[3] + (r + 0.5) * d->gt[5];
                GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(gh, x, y);
                if (pt && GEOSPreparedIntersects_r(gh, pg, pt) == 1)
                    fn(u, c, r, NAN);
                GEOSGeom_destroy_r(gh, pt);
            }
        GEOSPreparedGeom_destroy_r(gh, pg);
        return CT_OK;
    }
    default: {
        int n = GEOSGetNumGeometries_r(gh, g);
        for (int i = 0; i < n && !st; i++)
            st = burn_geom(ctx, d, tr, GEOSGetGeometryN_r(gh, g, i), fn, u);
        return st;
    }
    }
}

typedef ct_status (*feature_fn)(ct_ctx *ctx, ct_layer *l, ct_feature *f, const GEOSGeometry *g,
                                ct_transform *tr, void *u);

/* Calls fn for every feature with a geometry of the first layer of path; the transformation
 * to the DEM's CRS is handed along (NULL when the CRSs agree). A layer without CRS is assumed
 * to be in the DEM's and a feature without geometry skipped, unless strict names the scenario
 * key: then both are errors (an inflow line that went missing would bring no water). */
static ct_status each_feature(ct_ctx *ctx, const domain *d, const char *path, const char *strict, feature_fn fn,
                              void *u)
{
    ct_vsource *src = NULL;
    ct_status st = ct_vsource_open(ctx, path, &src);
    if (st)
        return st;
    if (ct_vsource_layer_count(src) < 1) {
        ct_vsource_close(src);
        return ct_error(ctx, CT_ERR_FORMAT, "%s: no layer", path);
    }
    ct_layer *l = ct_vsource_layer(src, 0);
    ct_transform *tr = NULL;
    const ct_crs *lc = ct_layer_crs(l);
    if (lc && d->crs && !ct_crs_equal(lc, d->crs) && (st = ct_transform_new(ctx, lc, d->crs, &tr))) {
        ct_vsource_close(src);
        return st;
    }
    if (!lc && strict) {
        ct_vsource_close(src);
        return ct_error(ctx, CT_ERR_CRS, "%s: %s: the layer has no CRS: assign one (ogr2ogr -a_srs)", path, strict);
    }
    if (!lc)
        ct_log(ctx, CT_LOG_WARN, "%s: no CRS: assumed to be the DEM's", path);
    ct_feature *f;
    while (!(st = ct_layer_next(ctx, l, &f)) && f) {
        ct_ctx_clear_error(ctx);
        const GEOSGeometry *g = ct_feature_geom(ctx, f);
        if (!g) {
            if (ct_ctx_status(ctx)) {
                st = ct_error(ctx, CT_ERR_FORMAT, "%s: feature %lld: %s", path, ct_feature_fid(f), ct_ctx_errmsg(ctx));
                break;
            }
            if (strict) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: %s: feature %lld has no geometry", path, strict, ct_feature_fid(f));
                break;
            }
            continue;
        }
        if ((st = fn(ctx, l, f, g, tr, u)))
            break;
    }
    ct_transform_free(tr);
    ct_vsource_close(src);
    return st;
}

/* --- sources ---------------------------------------------------------------------------- */

static void burn_mask(void *u, int col, int row, double z)
{
    (void)z;
    ct_grid *m = u;
    ((uint8_t *)ct_grid_data(m))[(size_t)row * ct_grid_width(m) + col] = 1;
}

typedef struct mask_ctx {
    const domain *d;
    ct_grid *m;
} mask_ctx;

static ct_status mask_feature(ct_ctx *ctx, ct_layer *l, ct_feature *f, const GEOSGeometry *g, ct_transform *tr,
                              void *u)
{
    (void)l;
    (void)f;
    mask_ctx *mc = u;
    return burn_geom(ctx, mc->d, tr, g, burn_mask, mc->m);
}

static ct_status layer_mask(ct_ctx *ctx, const domain *d, const char *path, ct_grid **out)
{
    *out = ct_grid_new(ctx, CT_BYTE, d->w, d->h);
    if (!*out)
        return ct_ctx_status(ctx);
    mask_ctx mc = {d, *out};
    ct_status st = each_feature(ctx, d, path, NULL, mask_feature, &mc);
    if (st) {
        ct_grid_free(*out);
        *out = NULL;
    }
    return st;
}

/* Builds the Byte mask of source cells from the scenario ("sources" and its keys). */
static ct_status sources_mask(ct_ctx *ctx, const ct_scenario *s, const domain *d, ct_grid **out)
{
    *out = NULL;
    const char *kind = ct_scenario_get(s, "sources");
    if (!kind)
        kind = ct_scenario_get(s, "seed") ? "seeds"
             : ct_scenario_get(s, "source_layer") ? "layer"
             : ct_scenario_get(s, "source_below") ? "below" : "edges";
    ct_status st = CT_OK;
    ct_grid *m = NULL;
    const float *z = ct_grid_cdata(d->dem);
    if (!strcmp(kind, "layer")) {
        const char *p = ct_scenario_path(s, "source_layer");
        if (!p)
            return ct_error(ctx, CT_ERR_USAGE, "%s: sources = layer, but no source_layer is given",
                            ct_scenario_where(s, "sources"));
        if ((st = layer_mask(ctx, d, p, &m)))
            return st;
    } else {
        m = ct_grid_new(ctx, CT_BYTE, d->w, d->h);
        if (!m)
            return ct_ctx_status(ctx);
        uint8_t *mm = ct_grid_data(m);
        if (!strcmp(kind, "seeds")) {
            double *xy = NULL;
            int n = 0;
            if ((st = ct_scenario_numlist(ctx, s, "seed", &xy, &n)))
                goto fail;
            if (n == 0 || n % 2) {
                free(xy);
                st = ct_error(ctx, CT_ERR_INVALID, "%s: seed: give x,y pairs", n ? ct_scenario_where(s, "seed") : "sources");
                goto fail;
            }
            for (int i = 0; i < n; i += 2) {
                int c, r;
                if (!domain_cell(d, xy[i], xy[i + 1], &c, &r)) {
                    st = ct_error(ctx, CT_ERR_INVALID, "%s: seed: point %.3f %.3f is off the DEM grid", ct_scenario_where(s, "seed"),
                                  xy[i], xy[i + 1]);
                    free(xy);
                    goto fail;
                }
                mm[(size_t)r * d->w + c] = 1;
            }
            free(xy);
        } else if (!strcmp(kind, "below")) {
            double b;
            if (!ct_scenario_number(s, "source_below", &b)) {
                st = ct_error(ctx, CT_ERR_USAGE, "%s: sources = below, but no source_below is given", ct_scenario_where(s, "sources"));
                goto fail;
            }
            size_t n = (size_t)d->w * d->h, cnt = 0;
            for (size_t i = 0; i < n; i++)
                if (z[i] < b) {
                    mm[i] = 1;
                    cnt++;
                }
            if (!cnt) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: source_below: no cell of the DEM lies below %g m (lowest %g m)",
                              ct_scenario_where(s, "source_below"), b, d->zmin);
                goto fail;
            }
        } else { /* edges: every valid cell next to the grid edge or to a nodata cell */
            for (int r = 0; r < d->h; r++)
                for (int c = 0; c < d->w; c++) {
                    size_t i = (size_t)r * d->w + c;
                    if (isnan(z[i]))
                        continue;
                    int edge = r == 0 || c == 0 || r == d->h - 1 || c == d->w - 1;
                    if (!edge)
                        edge = isnan(z[i - 1]) || isnan(z[i + 1]) || isnan(z[i - d->w]) || isnan(z[i + d->w]);
                    mm[i] = (uint8_t)edge;
                }
        }
    }
    *out = m;
    return CT_OK;
fail:
    ct_grid_free(m);
    return st;
}

/* --- dikes ------------------------------------------------------------------------------ */

typedef struct dike_ctx {
    const domain *d;
    const char *path, *field;
    int fidx, sidx;
    long long skipped;
    const uint8_t *breach;
    double crest;
    long long burned, broken;
    float *z;
} dike_ctx;

static void burn_dike(void *u, int col, int row, double z)
{
    dike_ctx *dc = u;
    size_t i = (size_t)row * dc->d->w + col;
    double crest = !isnan(dc->crest) ? dc->crest : z;
    if (isnan(dc->z[i]) || isnan(crest))
        return;
    if (dc->breach && dc->breach[i]) {
        dc->broken++;
        return;
    }
    if (crest > dc->z[i]) {
        dc->z[i] = (float)crest;
        dc->burned++;
    }
}

static ct_status dike_feature(ct_ctx *ctx, ct_layer *l, ct_feature *f, const GEOSGeometry *g, ct_transform *tr,
                              void *u)
{
    (void)l;
    dike_ctx *dc = u;
    dc->crest = NAN;
    if (dc->sidx >= 0 && !ct_feature_is_null(f, dc->sidx)) {
        char *stt = NULL;
        if (ct_feature_text(ctx, f, dc->sidx, &stt) == CT_OK && stt &&
            (!strcmp(stt, "vỡ") || !strcasecmp(stt, "broken") || !strcasecmp(stt, "breach"))) {
            free(stt);
            dc->skipped++;
            return CT_OK;
        }
        free(stt);
        ct_ctx_clear_error(ctx);
    }
    if (dc->fidx >= 0 && !ct_feature_is_null(f, dc->fidx))
        dc->crest = ct_feature_double(f, dc->fidx);
    if (isnan(dc->crest) && !GEOSHasZ_r(ct_geos(ctx), g))
        return ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: no crest height (field '%s' missing or empty, and the "
                        "line has no Z)", dc->path, ct_feature_fid(f), dc->field);
    return burn_geom(ctx, dc->d, tr, g, burn_dike, dc);
}

/* Raises the DEM to the dikes' crests, except in breaches. */
static ct_status burn_dikes(ct_ctx *ctx, const ct_scenario *s, domain *d, long long *cells)
{
    *cells = 0;
    const char *path = ct_scenario_path(s, "dikes");
    if (!path)
        return CT_OK;
    ct_grid *breach = NULL;
    ct_status st;
    const char *bp = ct_scenario_path(s, "breaches");
    if (bp && (st = layer_mask(ctx, d, bp, &breach)))
        return st;
    dike_ctx dc = {.d = d, .path = path, .field = ct_scenario_get(s, "dike_crest_field"), .fidx = -1, .sidx = -1,
                   .breach = breach ? ct_grid_cdata(breach) : NULL, .z = ct_grid_data(d->dem)};
    if (!dc.field)
        dc.field = "crest";
    /* find the field on the first layer before streaming */
    ct_vsource *src = NULL;
    if ((st = ct_vsource_open(ctx, path, &src))) {
        ct_grid_free(breach);
        return st;
    }
    const char *sfield = ct_scenario_get(s, "dike_status_field");
    if (ct_vsource_layer_count(src) > 0) {
        ct_layer *l0 = ct_vsource_layer(src, 0);
        dc.fidx = ct_layer_field_index(l0, dc.field);
        if (dc.fidx < 0 && !ct_scenario_get(s, "dike_crest_field") && (dc.fidx = ct_layer_field_index(l0, "CaoTrinh")) >= 0)
            dc.field = "CaoTrinh";
        dc.sidx = ct_layer_field_index(l0, sfield ? sfield : "TrangThai");
        if (dc.sidx < 0 && !sfield)
            dc.sidx = ct_layer_field_index(l0, "status");
        if (dc.sidx < 0 && sfield) {
            ct_vsource_close(src);
            ct_grid_free(breach);
            return ct_error(ctx, CT_ERR_INVALID, "%s: dike_status_field: %s has no field '%s'",
                            ct_scenario_where(s, "dike_status_field"), path, sfield);
        }
    }
    ct_vsource_close(src);
    if (dc.fidx < 0 && ct_scenario_get(s, "dike_crest_field")) {
        ct_grid_free(breach);
        return ct_error(ctx, CT_ERR_INVALID, "%s: dike_crest_field: %s has no field '%s'",
                        ct_scenario_where(s, "dike_crest_field"), path, dc.field);
    }
    st = each_feature(ctx, d, path, NULL, dike_feature, &dc);
    ct_grid_free(breach);
    *cells = dc.burned;
    if (!st)
        ct_log(ctx, CT_LOG_INFO, "%s: %lld cells raised to dike crests, %lld left open in breaches, %lld broken "
               "stretches skipped", path, dc.burned, dc.broken, dc.skipped);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Bathtub: priority-flood of the connection level                                          */

/*
 * Priority-flood (Barnes, Lehman & Mulla 2014, "Priority-Flood: an optimal depression-filling
 * and watershed-labeling algorithm"), run from the sources instead of the DEM edges: a cell is
 * labelled with L = max(z, L of the cell it was reached from) when it is first reached, taking
 * cells in increasing L. Cells reached at the level of their parent (ground at or below it) go
 * through a plain FIFO instead of the heap, which makes flat and sunken areas cheap. GRASS's
 * r.lake grows one level at a time by repeated 3×3 scans; nothing in GDAL or GRASS computes
 * this many-levels-at-once label, hence this code.
 */
typedef struct hitem {
    float lev;
    uint32_t idx;
} hitem;

typedef struct heap {
    hitem *a;
    size_t n, cap;
} heap;

static int heap_push(heap *h, float lev, uint32_t idx)
{
    if (ct_grow(&h->a, &h->cap, h->n + 1, sizeof *h->a))
        return 0;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->a[p].lev <= lev)
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i].lev = lev;
    h->a[i].idx = idx;
    return 1;
}

static hitem heap_pop(heap *h)
{
    hitem top = h->a[0], last = h->a[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h->a[c + 1].lev < h->a[c].lev)
            c++;
        if (h->a[c].lev >= last.lev)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (n)
        h->a[i] = last;
    return top;
}

ct_status ct_flood_connect_level(ct_ctx *ctx, const ct_grid *dem, const ct_grid *sources, ct_connectivity conn,
                                 double max_level, ct_grid **out)
{
    *out = NULL;
    int w = ct_grid_width(dem), hgt = ct_grid_height(dem);
    if (ct_grid_dtype(dem) != CT_FLOAT32 || ct_grid_dtype(sources) != CT_BYTE || ct_grid_width(sources) != w ||
        ct_grid_height(sources) != hgt)
        return ct_error(ctx, CT_ERR_USAGE, "ct_flood_connect_level: a Float32 DEM and a Byte source mask of its size");
    if ((size_t)w * hgt >= UINT32_MAX)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "grid of %d x %d cells: more than 2^32 cells", w, hgt);
    ct_grid *lg = ct_grid_new(ctx, CT_FLOAT32, w, hgt);
    if (!lg)
        return ct_ctx_status(ctx);
    double gt[6];
    ct_grid_get_geotransform(dem, gt);
    ct_grid_set_geotransform(lg, gt);
    ct_grid_set_crs(lg, ct_grid_crs(dem));
    const float *z = ct_grid_cdata(dem);
    const uint8_t *src = ct_grid_cdata(sources);
    float *L = ct_grid_data(lg);
    size_t n = (size_t)w * hgt;
    for (size_t i = 0; i < n; i++)
        L[i] = INFINITY;
    /* cut-off: a cell floods at H when L < H, so cells with L >= max_level are never needed */
    float cut = (float)max_level;
    heap hp = {0};
    uint32_t *fifo = NULL;
    size_t fcap = 0, fhead = 0, ftail = 0; /* ring buffer */
    ct_status st = CT_OK;
    for (size_t i = 0; i < n; i++)
        if (src[i] && !isnan(z[i]) && z[i] < cut) {
            L[i] = z[i];
            if (!heap_push(&hp, z[i], (uint32_t)i)) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                goto out;
            }
        }
    static const int d8r[8] = {-1, 0, 0, 1, -1, -1, 1, 1}, d8c[8] = {0, -1, 1, 0, -1, 1, -1, 1};
    int nn = conn == CT_CONN4 ? 4 : 8;
    size_t done = 0, next_report = 1 << 22;
    for (;;) {
        uint32_t idx;
        float lev;
        if (ftail != fhead) {
            idx = fifo[fhead];
            fhead = (fhead + 1) & (fcap - 1);
            lev = L[idx];
        } else if (hp.n) {
            hitem it = heap_pop(&hp);
            idx = it.idx;
            lev = it.lev;
        } else {
            break;
        }
        int r = (int)(idx / (uint32_t)w), c = (int)(idx % (uint32_t)w);
        for (int k = 0; k < nn; k++) {
            int rr = r + d8r[k], cc = c + d8c[k];
            if (rr < 0 || cc < 0 || rr >= hgt || cc >= w)
                continue;
            size_t j = (size_t)rr * w + cc;
            if (L[j] != INFINITY || isnan(z[j]) || z[j] >= cut)
                continue;
            if (z[j] <= lev) {
                L[j] = lev;
                if (((ftail + 1) & (fcap - 1)) == fhead || fcap == 0) { /* grow the ring */
                    size_t ncap = fcap ? fcap * 2 : 1 << 16;
                    uint32_t *nf = malloc(ncap * sizeof *nf);
                    if (!nf) {
                        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                        goto out;
                    }
                    size_t m = 0;
                    for (size_t q = fhead; q != ftail; q = (q + 1) & (fcap - 1))
                        nf[m++] = fifo[q];
                    free(fifo);
                    fifo = nf;
                    fcap = ncap;
                    fhead = 0;
                    ftail = m;
                }
                fifo[ftail] = (uint32_t)j;
                ftail = (ftail + 1) & (fcap - 1);
            } else {
                L[j] = z[j];
                if (!heap_push(&hp, z[j], (uint32_t)j)) {
                    st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                    goto out;
                }
            }
        }
        if (++done == next_report) {
            next_report += 1 << 22;
            if ((st = ct_progress(ctx, 0.8 * (double)done / (double)n, "priority-flood")))
                goto out;
        }
    }
out:
    free(hp.a);
    free(fifo);
    if (st) {
        ct_grid_free(lg);
        return st;
    }
    *out = lg;
    return CT_OK;
}

/*
 * The bathtub run needs, for every cell, only the first of the asked levels that floods it,
 * not its exact connection level: one flood fill per level, in increasing order, each
 * starting from the cells where the previous one stopped (the shore: cells next to the water
 * whose ground was too high). Every cell is labelled once and looked at from its neighbours
 * only, by scanline fills instead of a priority queue: O(cells), where the priority-flood of
 * ct_flood_connect_level() pays a heap operation per cell. Cell (i) floods at level k exactly
 * when L(i) < H(k) (a path of ground below H(k) joins it to a source), so the result is the
 * same. The fill hands over, level by level, the runs of cells each level adds: the outputs
 * of a level can be written while the fill goes on to the next (fill_job).
 *
 * The fill does not read the ground: each cell's state (fill_state()) starts as the first level
 * its ground lies below, so that its scans read 2 bytes a cell instead of the 4-byte ground
 * and a 2-byte label (b500: the fill's cache misses on those were most of its time). The sums
 * of the ground under each level's new water are taken from its runs, before it is handed over.
 */
#define ST_SHORE 0x8000u                      /* state bit: on the shore stack of its level */
#define ST_LEVEL 0x7fffu                      /* the state without ST_SHORE */
#define ST_FLOODED_AT(k) (ST_LEVEL - (unsigned)(k)) /* flooded by level k: above every level index */
#define ST_MAX_LEVELS 0x3ffe                  /* at most: then every ST_FLOODED_AT() is above nh */

typedef struct cellstack {
    uint32_t *a;
    size_t n, cap;
} cellstack;

static inline int cs_push(cellstack *s, uint32_t v)
{
    if (s->n == s->cap && ct_grow(&s->a, &s->cap, s->n + 1, sizeof *s->a)) /* the call only to grow */
        return 0;
    s->a[s->n++] = v;
    return 1;
}

/* The first k with z < H[k] (H increasing), nh when none (and for NaN). */
static int first_level(const float *H, int nh, float z)
{
    int lo = 0, hi = nh;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (z < H[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Vector kernels built for SSE2 (every x86-64) and AVX2, the loader picking one
 * (target_clones); without FMA contraction (ISO C mode) both give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CT_SIMD_X86 1
#define CT_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CT_SIMD_X86 0
#define CT_SIMD_CLONES
#endif

/* The fill's starting state of n cells: first_level() of their ground, by counting the levels
 * not above it, one level at a time over 256 cells at a time (in 32-bit lanes, as wide as the
 * ground's, in vector registers), when they are few. */
CT_SIMD_CLONES static void fill_state(const float *restrict z, size_t n, const float *H, int nh, uint16_t *restrict st)
{
    if (nh > 32) {
        for (size_t i = 0; i < n; i++)
            st[i] = (uint16_t)first_level(H, nh, z[i]);
        return;
    }
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        const int m = n - i0 < 256 ? (int)(n - i0) : 256;
        const float *restrict zc = z + i0;
        int32_t cnt[256];
#pragma omp simd
        for (int j = 0; j < m; j++)
            cnt[j] = 0;
        for (int k = 0; k < nh; k++) {
            const float Hk = H[k];
#pragma omp simd
            for (int j = 0; j < m; j++)
                cnt[j] += !(zc[j] < Hk); /* NaN counts every level: never floods */
        }
#pragma omp simd
        for (int j = 0; j < m; j++)
            st[i0 + j] = (uint16_t)cnt[j];
    }
}

/* Cells start .. start + len - 1 of the grid (one row), first flooded at one level. */
typedef struct cell_run {
    uint32_t start, len;
} cell_run;

/* What one level adds to the water: its runs and their cells, the sum and the lowest of their
 * ground (every level's volume and greatest depth follow from the levels up to it). */
typedef struct level_add {
    cell_run *run;
    size_t n, cap;
    long long cells;
    double zsum;
    float zmin;
    double filled_at; /* now() when the fill finished the level (CT_DEBUG's timings) */
} level_add;

/*
 * The fill of all levels, on a thread of its own while the writer (the calling thread) writes
 * the levels already filled; or run to its end before the writer starts, on one thread. The
 * fill owns the state grid (made by the caller with fill_state()); a level's runs, cells and
 * sums pass to the writer when published counts it, under mu. The fill makes no ct_ctx calls
 * on its own thread (ct_ctx is not shared between threads): it reports failure as a status,
 * and stops when the writer sets stop.
 */
typedef struct fill_job {
    const float *z;        /* ground, NaN for no ground (for the levels' sums only) */
    const uint8_t *src;    /* source cells */
    uint16_t *state;       /* per cell: its first level (nh: none) | ST_SHORE, or ST_FLOODED_AT() */
    int w, h, diag, nh;    /* diag: 8 neighbours; nh <= ST_MAX_LEVELS */
    level_add *add;        /* nh */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int published;         /* levels filled, under mu */
    ct_status failed;      /* CT_ERR_NOMEM or CT_ERR_CANCELLED, under mu */
    atomic_int stop;       /* the writer gave up */
} fill_job;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The fill; ctx only when it runs on the calling thread (its progress and cancelling). */
static ct_status fill_levels(fill_job *job, ct_ctx *ctx)
{
    const int w = job->w, hgt = job->h, nh = job->nh, diag = job->diag;
    const size_t n = (size_t)w * hgt;
    const float *z = job->z;
    const uint8_t *src = job->src;
    uint16_t *lab = job->state;
    /* the shore (cells next to the water, or sources, whose ground was too high) kept by the
     * level that first lets water in: each level starts from its own shore cells only, not
     * from every shore cell still too high (on a noisy DEM the shore of a low level holds
     * millions of cells, which ten levels would otherwise scan ten times) */
    cellstack seeds = {0}, from = {0}, *shore = calloc((size_t)nh, sizeof *shore);
    ct_status st = CT_OK;
    size_t done = 0, next_report = 1 << 22;
    if (!shore)
        goto nomem;
    /* a cell water can reach at a later level (neither flooded, nor on a shore, nor too high
     * for every level): onto its level's shore */
#define TO_SHORE(j)                                                                              \
    do {                                                                                         \
        const unsigned v_ = lab[j];                                                              \
        if (v_ < (unsigned)nh) {                                                                 \
            lab[j] = (uint16_t)(v_ | ST_SHORE);                                                  \
            if (!cs_push(&shore[v_], (uint32_t)(j)))                                             \
                goto nomem;                                                                      \
        }                                                                                        \
    } while (0)
    for (size_t i = 0; i < n; i++) /* sources: all start on the shore */
        if (src[i])
            TO_SHORE(i);
    /* a cell water at level k can enter: not flooded, ground below H[k] (on a shore or not) */
#define OPEN(j) ((lab[j] & ST_LEVEL) <= kk)
    for (int k = 0; k < nh; k++) {
        const unsigned kk = (unsigned)k;
        level_add *ad = &job->add[k];
        free(from.a); /* this level's shore cells (below H[k], above H[k-1]) seed it in turn */
        from = shore[k];
        shore[k] = (cellstack){0};
        size_t next = 0;
        /* scanline fill: a seed grows into the whole run of its row, then the rows above and
         * below are scanned along that run (one cell wider for 8 neighbours) for new seeds,
         * one per run, and for shore cells; the seeds found are taken first, depth first (their
         * rows are in the cache), then the next shore cell */
        for (;;) {
            uint32_t i;
            if (seeds.n)
                i = seeds.a[--seeds.n];
            else if (next < from.n) {
                /* the shore lies all over the grid: the rows of a cell a few ahead are fetched
                 * early (b500, ten levels: the fill's time -10 %) */
                if (next + 12 < from.n) {
                    const uint32_t ahead = from.a[next + 12];
                    __builtin_prefetch(lab + ahead);
                    if (ahead >= (uint32_t)w)
                        __builtin_prefetch(lab + ahead - w);
                    if (ahead + (size_t)w < n)
                        __builtin_prefetch(lab + ahead + w);
                }
                i = from.a[next++];
            } else
                break;
            if (!OPEN(i))
                continue;
            int r = (int)(i / (uint32_t)w), c = (int)(i % (uint32_t)w);
            const uint32_t row = (uint32_t)r * (uint32_t)w;
            int a = c, b = c;
            while (a > 0 && OPEN(row + a - 1))
                a--;
            while (b < w - 1 && OPEN(row + b + 1))
                b++;
            if (ad->n == ad->cap && ct_grow(&ad->run, &ad->cap, ad->n + 1, sizeof *ad->run))
                goto nomem;
            ad->run[ad->n++] = (cell_run){row + (uint32_t)a, (uint32_t)(b - a + 1)};
            for (int x = a; x <= b; x++)
                lab[row + x] = (uint16_t)ST_FLOODED_AT(k);
            ad->cells += b - a + 1;
            done += (size_t)(b - a + 1);
            if (a > 0) /* the run's two ends */
                TO_SHORE(row + (uint32_t)a - 1);
            if (b < w - 1)
                TO_SHORE(row + (uint32_t)b + 1);
            int x0 = a - diag > 0 ? a - diag : 0, x1 = b + diag < w - 1 ? b + diag : w - 1;
            for (int dr = -1; dr <= 1; dr += 2) {
                int rr = r + dr;
                if (rr < 0 || rr >= hgt)
                    continue;
                const uint32_t orow = (uint32_t)rr * (uint32_t)w;
                int in_run = 0;
                for (int x = x0; x <= x1; x++) {
                    uint32_t jx = orow + (uint32_t)x;
                    if (OPEN(jx)) {
                        if (!in_run && !cs_push(&seeds, jx))
                            goto nomem;
                        in_run = 1;
                        continue;
                    }
                    in_run = 0;
                    TO_SHORE(jx);
                }
            }
            if (done >= next_report) {
                next_report += 1 << 22;
                if (atomic_load_explicit(&job->stop, memory_order_relaxed)) {
                    st = CT_ERR_CANCELLED;
                    goto out;
                }
                if (ctx && (st = ct_progress(ctx, 0.5 * (double)done / (double)n, "flood fill")))
                    goto out;
            }
        }
        /* the ground under the level's new water, run by run in the fill's order (the same
         * sums whatever the threads): the flooded cells only, not a pass over the whole grid
         * (b500, one level: 0.04 s instead of 0.11; ten levels, whose runs are short: the
         * same 0.17 s, taken while the writer is busy with the levels before) */
        double zsum = 0;
        float zmin = INFINITY;
        for (size_t q = 0; q < ad->n; q++) {
            const float *zr = z + ad->run[q].start;
            for (uint32_t j = 0; j < ad->run[q].len; j++) {
                zsum += zr[j];
                zmin = zr[j] < zmin ? zr[j] : zmin;
            }
        }
        ad->zsum = zsum;
        ad->zmin = zmin;
        ad->filled_at = now();
        pthread_mutex_lock(&job->mu);
        job->published = k + 1;
        pthread_cond_broadcast(&job->cv);
        pthread_mutex_unlock(&job->mu);
    }
#undef OPEN
#undef TO_SHORE
    /* every shore cell is below the top level, so its level flooded it: none is left */
    goto out;
nomem:
    st = CT_ERR_NOMEM;
out:
    free(seeds.a);
    free(from.a);
    if (shore)
        for (int k = 0; k < nh; k++)
            free(shore[k].a);
    free(shore);
    if (st) {
        pthread_mutex_lock(&job->mu);
        job->failed = st;
        pthread_cond_broadcast(&job->cv);
        pthread_mutex_unlock(&job->mu);
    }
    return st;
}

static void *fill_thread(void *job)
{
    fill_levels(job, NULL);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Bathtub run                                                                               */

typedef struct level_result {
    double level;   /* the water level including the SLR offset */
    double base;    /* as given */
    long long cells;
    double area_m2, volume_m3, max_depth;
    char extent[1100], depth[1100];
} level_result;

static void level_label(char *buf, size_t len, double level)
{
    snprintf(buf, len, "%.2f", level);
    if (strcmp(buf, "-0.00") == 0)
        snprintf(buf, len, "0.00");
}

static void print_bathtub(FILE *out, const ct_flood_opts *opts, const char *name, const level_result *lr,
                          int nl, const domain *d, double slr)
{
    if (opts->json) {
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "scenario", json_object_new_string(name));
        json_object_object_add(doc, "model", json_object_new_string("bathtub"));
        json_object_object_add(doc, "cell_area_m2", json_object_new_double(d->cell_area));
        json_object_object_add(doc, "slr_offset_m", json_object_new_double(slr));
        json_object *arr = json_object_new_array();
        for (int i = 0; i < nl; i++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "level_m", json_object_new_double(lr[i].level));
            json_object_object_add(o, "cells", json_object_new_int64(lr[i].cells));
            json_object_object_add(o, "area_m2", json_object_new_double(lr[i].area_m2));
            json_object_object_add(o, "area_ha", json_object_new_double(lr[i].area_m2 / 1e4));
            json_object_object_add(o, "volume_m3", json_object_new_double(lr[i].volume_m3));
            json_object_object_add(o, "max_depth_m", json_object_new_double(lr[i].max_depth));
            json_object_object_add(o, "extent", json_object_new_string(lr[i].extent));
            if (lr[i].depth[0])
                json_object_object_add(o, "depth", json_object_new_string(lr[i].depth));
            json_object_array_add(arr, o);
        }
        json_object_object_add(doc, "levels", arr);
        fprintf(out, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(doc);
        return;
    }
    fprintf(out, "%-9s %12s %12s %14s %9s\n", "level_m", "cells", "area_ha", "volume_m3", "max_depth");
    for (int i = 0; i < nl; i++)
        fprintf(out, "%-9.3f %12lld %12.2f %14.1f %9.3f\n", lr[i].level, lr[i].cells, lr[i].area_m2 / 1e4,
                lr[i].volume_m3, lr[i].max_depth);
}

enum { DEPTH_F32, DEPTH_MM };

/*
 * One row of one level's depth from its extent (1 wet, 0 dry, 255 no ground) and the ground
 * z: Float32 m, -9999 for no ground; or whole mm, 65535 for no ground. Branch-free, in vector
 * registers (kind is a constant at each call: one copy per kind).
 */
static inline __attribute__((always_inline)) void level_depth_row(const float *restrict z, const uint8_t *restrict e,
                                                                  int n, double Hd, float *restrict dp,
                                                                  uint16_t *restrict dmm, int kind)
{
#pragma omp simd
    for (int k = 0; k < n; k++) {
        const int nodata = e[k] == 255, wet = e[k] == 1;
        const float zk = z[k];
        /* a dike cell raised above H can be wet only below its crest: never, hence the clamp */
        const double dd = wet && Hd > zk ? Hd - zk : 0.0;
        if (kind == DEPTH_F32)
            dp[k] = nodata ? -9999.0f : (float)dd;
        else /* rounded to the nearest mm from the double difference */
            dmm[k] = nodata ? UINT16_MAX : (uint16_t)(int)(dd * 1000 + 0.5);
    }
}

/* level_depth_row() for each kind, built for SSE2 and AVX2 (twice the lanes for the doubles) */
CT_SIMD_CLONES static void level_depth_mm(const float *z, const uint8_t *e, int n, double Hd, uint16_t *dmm)
{
    level_depth_row(z, e, n, Hd, NULL, dmm, DEPTH_MM);
}

CT_SIMD_CLONES static void level_depth_f32(const float *z, const uint8_t *e, int n, double Hd, float *dp)
{
    level_depth_row(z, e, n, Hd, dp, NULL, DEPTH_F32);
}

/* The threads the writer has now, of nt: all but the fill's while it goes on on its own
 * thread (filling), all once it is done. */
static int writer_threads(fill_job *job, int filling, int nt)
{
    if (!filling)
        return nt;
    pthread_mutex_lock(&job->mu);
    const int running = job->published < job->nh && !job->failed;
    pthread_mutex_unlock(&job->mu);
    return running ? nt - 1 : nt;
}

/* Waits until the fill has published level k (reporting the progress of the whole run, done
 * of all, meanwhile). On failure or cancelling, the caller stops the fill. */
static ct_status wait_level(ct_ctx *ctx, fill_job *job, int k, double done)
{
    ct_status st = CT_OK;
    pthread_mutex_lock(&job->mu);
    while (job->published <= k && !job->failed && !st) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000; /* a progress report every quarter second */
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&job->cv, &job->mu, &until) == 0 || job->published > k || job->failed)
            continue;
        pthread_mutex_unlock(&job->mu);
        st = ct_progress(ctx, done, "flood fill");
        pthread_mutex_lock(&job->mu);
    }
    const ct_status failed = job->published > k ? CT_OK : job->failed;
    pthread_mutex_unlock(&job->mu);
    if (st)
        return st;
    if (failed == CT_ERR_NOMEM)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory in the flood fill");
    if (failed)
        return ct_error(ctx, failed, "flood fill: cancelled");
    return CT_OK;
}

static ct_status run_bathtub(ct_ctx *ctx, const ct_scenario *s, const ct_flood_opts *opts, const char *outdir)
{
    double t0 = now();
    domain d;
    ct_grid *src = NULL, *ext = NULL, *dep = NULL;
    float *hs = NULL;
    double *levels = NULL;
    level_result *lr = NULL;
    int nl = 0, nhs = 0, filling = 0;
    fill_job job = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t filler;
    ct_cog_scratch *scratch = NULL;
    int *wet_lo = NULL, *wet_hi = NULL, *nd_lo = NULL, *nd_hi = NULL, *span_lo = NULL, *span_hi = NULL;
    ct_atext sum = {0};
    const int want_f32 = opts->depth_type && !strcmp(opts->depth_type, "float32");
    if (opts->depth_type && !want_f32 && strcmp(opts->depth_type, "uint16"))
        return ct_error(ctx, CT_ERR_USAGE, "--depth-type %s: uint16 or float32", opts->depth_type);
    ct_stage *sg = calloc(1, sizeof *sg);
    if (!sg)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    ct_status st = domain_load(ctx, s, &d);
    if (st) {
        free(sg);
        return st;
    }
    if ((st = ct_scenario_numlist(ctx, s, "level", &levels, &nl)))
        goto out;
    if (nl == 0) {
        st = ct_error(ctx, CT_ERR_USAGE, "no water level: give the key 'level' (e.g. level = 1.80, 1.90, 2.00)");
        goto out;
    }
    if (nl > ST_MAX_LEVELS) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: %d levels: at most %d in one run", ct_scenario_where(s, "level"),
                      nl, ST_MAX_LEVELS);
        goto out;
    }
    if ((size_t)d.w * d.h >= UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "grid of %d x %d cells: more than 2^32 cells", d.w, d.h);
        goto out;
    }
    double slr = 0;
    ct_scenario_number(s, "slr_offset", &slr);
    const char *conn_s = ct_scenario_get(s, "connectivity");
    ct_connectivity conn = conn_s && !strcmp(conn_s, "4") ? CT_CONN4 : CT_CONN8;
    long long dike_cells;
    if ((st = burn_dikes(ctx, s, &d, &dike_cells)))
        goto out;
    if ((st = sources_mask(ctx, s, &d, &src)))
        goto out;
    lr = calloc((size_t)nl, sizeof *lr);
    if (!lr) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nl; i++) {
        lr[i].base = levels[i];
        lr[i].level = levels[i] + slr;
        if (lr[i].level <= d.zmin) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s: level: %g m%s is below every cell of the DEM (lowest ground %.3f m): "
                          "nothing can flood", ct_scenario_where(s, "level"), lr[i].level, slr != 0 ? " (with slr_offset)" : "",
                          (double)d.zmin);
            goto out;
        }
    }
    /* the levels as the comparison sees them (float), increasing, without repeats */
    if (!(hs = malloc((size_t)nl * sizeof *hs))) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nl; i++) {
        float f = (float)lr[i].level;
        int k = nhs;
        while (k > 0 && hs[k - 1] > f)
            k--;
        if (k > 0 && hs[k - 1] == f)
            continue;
        memmove(hs + k + 1, hs + k, (size_t)(nhs - k) * sizeof *hs);
        hs[k] = f;
        nhs++;
    }
    if ((st = ct_flood_stage_open(ctx, outdir, sg)))
        goto out;
    /* depths in whole millimetres when the deepest possible one fits below the nodata value
     * 65535: mm are finer than any DEM's vertical accuracy, and half the bytes of Float32,
     * whose noisy low mantissa bits barely compress, to write per level */
    double hmax = lr[0].level;
    for (int i = 1; i < nl; i++)
        hmax = fmax(hmax, lr[i].level);
    const int mm = !want_f32 && (hmax - d.zmin) * 1000 + 0.5 < UINT16_MAX;
    ext = ct_grid_new(ctx, CT_BYTE, d.w, d.h);
    dep = opts->no_depth ? NULL : ct_grid_new(ctx, mm ? CT_UINT16 : CT_FLOAT32, d.w, d.h);
    job = (fill_job){.z = ct_grid_cdata(d.dem), .src = ct_grid_cdata(src),
                     .state = malloc((size_t)d.w * d.h * sizeof *job.state), .w = d.w, .h = d.h,
                     .diag = conn == CT_CONN4 ? 0 : 1, .nh = nhs, .add = calloc((size_t)nhs, sizeof *job.add),
                     .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    scratch = ct_cog_scratch_new(); /* the levels' outputs, one after another, in the same buffers */
    if (!ext || (!opts->no_depth && !dep) || !job.add || !job.state || !scratch) {
        st = !ext || (!opts->no_depth && !dep) ? ct_ctx_status(ctx) : ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
    ct_grid_set_geotransform(ext, d.gt);
    ct_grid_set_crs(ext, d.crs);
    if (dep) {
        ct_grid_set_geotransform(dep, d.gt);
        ct_grid_set_crs(dep, d.crs);
        ct_grid_set_nodata(dep, mm ? UINT16_MAX : -9999);
        if (mm)
            ct_grid_set_scale(dep, 0.001, 0);
    }
    const int nt = ct_ctx_threads(ctx) > 0 ? ct_ctx_threads(ctx) : 1;
    double t1 = now();
    const float *z = ct_grid_cdata(d.dem);
    uint8_t *e = ct_grid_data(ext);
    float *dp = dep && !mm ? ct_grid_data(dep) : NULL;
    uint16_t *dmm = dep && mm ? ct_grid_data(dep) : NULL;
    /* on every thread before the fill starts: its starting state; the extent, which grows
     * level by level from dry, with no ground (255) where the DEM has none; the depth, which
     * starts at 0 (nodata where no ground) and changes only in the span of each row between
     * its first and last wet cell (wet_lo, wet_hi; wet_lo = w: none yet). Zeroed here, not
     * while the fill runs: on this VM the first touch of 200 MB took the writer's thread 0.3 s
     * before it could write the first level (the fill's own thread has its state ready) */
    if (!(wet_lo = malloc((size_t)d.h * sizeof *wet_lo)) || !(wet_hi = calloc((size_t)d.h, sizeof *wet_hi)) ||
        !(nd_lo = malloc((size_t)d.h * sizeof *nd_lo)) || !(nd_hi = malloc((size_t)d.h * sizeof *nd_hi)) ||
        !(span_lo = malloc((size_t)d.h * sizeof *span_lo)) || !(span_hi = malloc((size_t)d.h * sizeof *span_hi))) {
        st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        goto out;
    }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 32)
    for (int r = 0; r < d.h; r++) {
        const size_t r0 = (size_t)r * d.w;
        fill_state(z + r0, (size_t)d.w, hs, nhs, job.state + r0);
        wet_lo[r] = d.w;
#pragma omp simd
        for (size_t k = r0; k < r0 + d.w; k++)
            e[k] = z[k] != z[k] ? 255 : 0;
        /* the first and last cells without ground, nd_lo = w: none */
        const uint8_t *first = memchr(e + r0, 255, (size_t)d.w), *last = memrchr(e + r0, 255, (size_t)d.w);
        nd_lo[r] = first ? (int)(first - (e + r0)) : d.w;
        nd_hi[r] = last ? (int)(last - (e + r0)) + 1 : 0;
        if (dmm) {
#pragma omp simd
            for (size_t k = r0; k < r0 + d.w; k++)
                dmm[k] = z[k] != z[k] ? UINT16_MAX : 0;
        } else if (dp) {
#pragma omp simd
            for (size_t k = r0; k < r0 + d.w; k++)
                dp[k] = z[k] != z[k] ? -9999.0f : 0.0f;
        }
    }
    /* the extent: 0 dry, 1 wet, and 255 (its nodata) where the DEM has no ground; with ground
     * everywhere, one bit a cell (an eighth of the bytes to compress: b500's ten extents are
     * written in 0.21 s instead of 0.32, into files half the size) */
    int holes = 0;
    for (int r = 0; r < d.h && !holes; r++)
        holes = nd_lo[r] < d.w;
    if (holes)
        ct_grid_set_nodata(ext, 255);
    /* with two threads or more, the fill runs on one of them while the other(s) write the
     * levels it has finished; on one, it runs to its end first */
    filling = nt > 1 && pthread_create(&filler, NULL, fill_thread, &job) == 0;
    if (!filling && fill_levels(&job, ctx)) {
        st = job.failed == CT_ERR_NOMEM ? ct_error(ctx, CT_ERR_NOMEM, "out of memory in the flood fill")
                                        : ct_ctx_status(ctx);
        goto out;
    }
    /* per-level outputs dominate the run time: ZSTD level 1 (b500's Float32 depth: 3 times
     * faster to compress than DEFLATE level 1, the same size; higher levels shrink it by 1 %),
     * or DEFLATE level 1 (level 6 shrinks these mostly-constant rasters by only a few per cent
     * more), for the extents and Float32 depths; the mm depths, noise to any match finder, in
     * DEFLATE with ctgis's Huffman coder (CT_COG_DEFLATE_HUFFMAN: twice as fast as ZSTD level
     * 1 on b500, the same size); written directly, not through GDAL's COG driver, which
     * compresses everything twice (ct_cog_opts.direct) */
    const ct_cog_compress comp = opts->deflate ? CT_COG_DEFLATE : CT_COG_ZSTD;
    long long cells = 0;
    int written = 0;
    for (int k = 0; k < nhs; k++) {
        if ((st = wait_level(ctx, &job, k, (double)(k + written) / (nhs + nl))))
            goto out;
        const level_add *ad = &job.add[k];
        for (size_t q = 0; q < ad->n; q++) {
            const cell_run run = ad->run[q];
            const int r = (int)(run.start / (uint32_t)d.w), c = (int)(run.start % (uint32_t)d.w);
            memset(e + run.start, 1, run.len);
            wet_lo[r] = c < wet_lo[r] ? c : wet_lo[r];
            wet_hi[r] = c + (int)run.len > wet_hi[r] ? c + (int)run.len : wet_hi[r];
        }
        cells += ad->cells;
        free(job.add[k].run);
        job.add[k].run = NULL;
        /* outside the wet cells and those without ground, the extent and the depth are 0: the
         * COG writer need not look there (ct_cog_opts.span_lo) */
        for (int r = 0; r < d.h; r++) {
            span_lo[r] = wet_lo[r] < nd_lo[r] ? wet_lo[r] : nd_lo[r];
            span_hi[r] = wet_hi[r] > nd_hi[r] ? wet_hi[r] : nd_hi[r];
        }
        for (int i = 0; i < nl; i++) {
            if ((float)lr[i].level != hs[k])
                continue;
            const double Hd = lr[i].level;
            double tl = now();
            char lab[32], name[64];
            level_label(lab, sizeof lab, lr[i].level);
            snprintf(lr[i].extent, sizeof lr[i].extent, "%s/extent-%s.tif", outdir, lab);
            snprintf(name, sizeof name, "extent-%s.tif", lab);
            int nw = writer_threads(&job, filling, nt);
            ct_cog_opts cog = {.overview_resampling = "NEAREST", .compress = comp, .level = 1, .direct = 1,
                               .one_bit = !holes, .defer_sync = 1, .threads = nw, .span_lo = span_lo,
                               .span_hi = span_hi, .scratch = scratch};
            if ((st = ct_grid_write_cog(ctx, ext, ct_flood_stage_path(sg, name), &cog)))
                goto out;
            double te = now();
            lr[i].cells = cells;
            if (dep) {
                nw = writer_threads(&job, filling, nt);
                /* rows in dynamic batches (a thread slowed by other processes does not hold up the rest) */
#pragma omp parallel for num_threads(nw) schedule(dynamic, 32)
                for (int r = 0; r < d.h; r++) {
                    if (wet_hi[r] <= wet_lo[r])
                        continue;
                    const size_t o = (size_t)r * d.w + (size_t)wet_lo[r];
                    if (dmm)
                        level_depth_mm(z + o, e + o, wet_hi[r] - wet_lo[r], Hd, dmm + o);
                    else
                        level_depth_f32(z + o, e + o, wet_hi[r] - wet_lo[r], Hd, dp + o);
                }
                snprintf(lr[i].depth, sizeof lr[i].depth, "%s/depth-%s.tif", outdir, lab);
                snprintf(name, sizeof name, "depth-%s.tif", lab);
                ct_cog_opts dcog = {.compress = dmm ? CT_COG_DEFLATE_HUFFMAN : comp, .level = 1, .direct = 1,
                                    .defer_sync = 1, .threads = nw, .noisy = 1, .span_lo = span_lo,
                                    .span_hi = span_hi, .scratch = scratch};
                if ((st = ct_grid_write_cog(ctx, dep, ct_flood_stage_path(sg, name), &dcog)))
                    goto out;
            }
            ct_log(ctx, CT_LOG_DEBUG, "bathtub: level %s: %lld cells (%zu runs), filled at %.2f s, written from %.2f s: extent "
                   "%.2f s, depth %.2f s", lab, cells, ad->n, ad->filled_at - t1, tl - t1, te - tl, now() - te);
            written++;
            if ((st = ct_progress(ctx, (double)(k + 1 + written) / (nhs + nl), "writing levels")))
                goto out;
        }
    }
    if (filling) {
        pthread_join(filler, NULL);
        filling = 0;
        if (job.failed) {
            st = job.failed == CT_ERR_NOMEM ? ct_error(ctx, CT_ERR_NOMEM, "out of memory in the flood fill")
                                            : ct_error(ctx, job.failed, "flood fill: cancelled");
            goto out;
        }
    }
    {
        double zsum = 0;
        float zmn = INFINITY;
        for (int k = 0; k < nhs; k++) {
            zsum += job.add[k].zsum;
            zmn = job.add[k].zmin < zmn ? job.add[k].zmin : zmn;
            for (int i = 0; i < nl; i++) {
                if ((float)lr[i].level != hs[k])
                    continue;
                /* the depth of a wet cell is Hd - z: their sum cells Hd - sum z (dike cells between
                 * the float and the double level add -1e-7 m at most, where the rasters have 0) */
                const double Hd = lr[i].level;
                const long long c = lr[i].cells;
                lr[i].area_m2 = (double)c * d.cell_area;
                lr[i].volume_m3 = (c ? (double)c * Hd - zsum : 0) * d.cell_area;
                lr[i].max_depth = c && Hd > zmn ? (float)(Hd - zmn) : 0;
            }
        }
    }
    if ((st = ct_flood_atext_open(ctx, ct_flood_stage_path(sg, "summary.csv"), &sum)))
        goto out;
    fprintf(sum.f, "level_m,level_given_m,slr_offset_m,cells,area_m2,area_ha,volume_m3,max_depth_m,extent,depth\n");
    for (int i = 0; i < nl; i++) {
        const char *eb = strrchr(lr[i].extent, '/'), *db = strrchr(lr[i].depth, '/');
        fprintf(sum.f, "%.3f,%.3f,%.3f,%lld,%.1f,%.4f,%.1f,%.3f,%s,%s\n", lr[i].level, lr[i].base, slr, lr[i].cells,
                lr[i].area_m2, lr[i].area_m2 / 1e4, lr[i].volume_m3, lr[i].max_depth, eb ? eb + 1 : lr[i].extent,
                db ? db + 1 : "");
    }
    if ((st = ct_flood_atext_commit(ctx, &sum)))
        goto out;
    double tc = now();
    if ((st = ct_flood_stage_commit(ctx, sg)))
        goto out;
    ct_log(ctx, CT_LOG_DEBUG, "bathtub: inputs %.2f s, %d levels filled and written in %.2f s (on disk and in place: "
           "%.2f s)", t1 - t0, nl, now() - t1, now() - tc);
    {
        const char *name = ct_scenario_get(s, "name");
        print_bathtub(opts->out ? opts->out : stdout, opts, name ? name : "", lr, nl, &d, slr);
    }
out:
    if (filling) { /* done, or told to stop */
        atomic_store(&job.stop, 1);
        pthread_join(filler, NULL);
    }
    if (job.add)
        for (int k = 0; k < nhs; k++)
            free(job.add[k].run);
    free(job.add);
    free(job.state);
    ct_cog_scratch_free(scratch);
    free(wet_lo);
    free(wet_hi);
    free(nd_lo);
    free(nd_hi);
    free(span_lo);
    free(span_hi);
    ct_flood_atext_abort(&sum);
    free(levels);
    free(lr);
    ct_grid_free(src);
    free(hs);
    ct_grid_free(ext);
    ct_grid_free(dep);
    domain_free(&d);
    ct_flood_stage_abort(sg); /* last: the replaced outputs close while the memory above is freed */
    free(sg);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Staging: a run writes every output into a hidden folder beside them and moves them into  */
/* place only when all are complete, so that a failed run leaves the previous results whole. */

ct_status ct_flood_stage_open(ct_ctx *ctx, const char *outdir, ct_stage *sg)
{
    memset(sg, 0, sizeof *sg);
    ct_status st = make_dir(ctx, outdir);
    if (st)
        return st;
    snprintf(sg->outdir, sizeof sg->outdir, "%s", outdir);
    snprintf(sg->dir, sizeof sg->dir, "%s/.ct-flood.%ld", outdir, (long)getpid());
    if (mkdir(sg->dir, 0777) && errno != EEXIST)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create folder: %s", sg->dir, strerror(errno));
    sg->open = 1;
    return CT_OK;
}

const char *ct_flood_stage_path(ct_stage *sg, const char *name)
{
    int i = sg->n < CT_STAGE_MAX ? sg->n : CT_STAGE_MAX - 1;
    for (int k = 0; k < sg->n; k++)
        if (!strcmp(sg->names[k], name)) {
            i = k;
            break;
        }
    if (i == sg->n && sg->n < CT_STAGE_MAX) {
        snprintf(sg->names[i], sizeof sg->names[i], "%s", name);
        sg->n++;
    }
    snprintf(sg->buf, sizeof sg->buf, "%s/%s", sg->dir, name);
    return sg->buf;
}

/* Closes the outputs a commit replaced: the last reference to each, so that their blocks are
 * freed here, off the caller's thread. */
static void *close_replaced(void *arg)
{
    ct_stage *sg = arg;
    for (int i = 0; i < sg->nreplaced; i++)
        close(sg->replaced[i]);
    sg->nreplaced = 0;
    return NULL;
}

ct_status ct_flood_stage_commit(ct_ctx *ctx, ct_stage *sg)
{
    char a[1400], b[1400];
    for (int i = 0; i < sg->n; i++) { /* on disk before in place (some were written without waiting) */
        snprintf(a, sizeof a, "%s/%s", sg->dir, sg->names[i]);
        int fd = open(a, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            continue; /* an output this run did not make */
        if (fd < 0 || fsync(fd) != 0) {
            ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", a, strerror(errno));
            if (fd >= 0)
                close(fd);
            ct_flood_stage_abort(sg);
            return st;
        }
        close(fd);
    }
    for (int i = 0; i < sg->n; i++) {
        snprintf(a, sizeof a, "%s/%s", sg->dir, sg->names[i]);
        snprintf(b, sizeof b, "%s/%s", sg->outdir, sg->names[i]);
        struct stat sb;
        if (stat(a, &sb))
            continue;
        /* the output this one replaces stays open until the closer thread is done with it:
         * renaming over the last link of a file frees its blocks, which this disk (ext4 with
         * discard) does at 16 ms a 100 MB file, 0.09 s for the previous ten levels of b500,
         * now done while the run frees its memory */
        int old = open(b, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (old >= 0)
            sg->replaced[sg->nreplaced++] = old;
        if (ct_raster_replace(a, b)) {
            ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot move into place: %s", b, strerror(errno));
            ct_flood_stage_abort(sg);
            return st;
        }
    }
    rmdir(sg->dir);
    sg->open = 0;
    if (sg->nreplaced)
        sg->closing = pthread_create(&sg->closer, NULL, close_replaced, sg) == 0;
    if (sg->nreplaced && !sg->closing)
        close_replaced(sg);
    return CT_OK;
}

void ct_flood_stage_abort(ct_stage *sg)
{
    if (sg->closing) {
        pthread_join(sg->closer, NULL);
        sg->closing = 0;
    } else
        close_replaced(sg); /* what a commit that failed half-way held */
    if (!sg->open)
        return;
    char a[1400];
    for (int i = 0; i < sg->n; i++) {
        snprintf(a, sizeof a, "%s/%s", sg->dir, sg->names[i]);
        unlink(a);
        snprintf(a, sizeof a, "%s/%s.tmp.%ld", sg->dir, sg->names[i], (long)getpid());
        unlink(a);
    }
    rmdir(sg->dir);
    sg->open = 0;
}

/* ---------------------------------------------------------------------------------------- */

/* Empties a simulate run's partial folder: of everything, or (temps_only) of the temporary
 * files a killed run's writers left half-written: the COG writer's ".NAME.tmp.XXXXXX" and the
 * text writers' "NAME.tmp.PID" (no output's name has ".tmp." in it). Left there, they kept the
 * folder from being removed, and a text writer's would have been moved in with the outputs. */
static void partial_clear(const char *dir, int temps_only)
{
    DIR *dd = opendir(dir);
    struct dirent *de;
    char a[1400];
    while (dd && (de = readdir(dd))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || (temps_only && !strstr(de->d_name, ".tmp.")))
            continue;
        snprintf(a, sizeof a, "%s/%s", dir, de->d_name);
        unlink(a);
    }
    if (dd)
        closedir(dd);
}

/* --- the SDI: inputs named sdi:NAME, results registered ----------------------------------- */

/* Points every "sdi:NAME" path of the scenario at the SDI's layer or raster; with an SDI, the
 * DEM and the dikes default to the SDI's. */
static ct_status sdi_inputs(ct_ctx *ctx, ct_scenario *s, ct_sdi *sdi)
{
    ct_status st = CT_OK;
    if (sdi && !ct_scenario_get(s, "dem"))
        st = ct_scenario_set(ctx, s, "dem", "sdi:dem", "--sdi");
    if (!st && sdi && !ct_scenario_get(s, "dikes"))
        st = ct_scenario_set(ctx, s, "dikes", "sdi:dikes", "--sdi");
    for (int i = 0; !st && i < s->n; i++) {
        sentry *e = &s->e[i];
        const char *name = ct_sdi_ref(e->value);
        if (!name || skey_find(e->key)->type != CT_SKEY_PATH)
            continue;
        if (!sdi)
            return ct_error(ctx, CT_ERR_USAGE, "%s: %s: '%s' names an SDI input: give the SDI with --sdi", e->where,
                            e->key, e->value);
        ct_sdi_input in;
        if ((st = ct_sdi_resolve(ctx, sdi, name, &in)))
            return ct_error(ctx, st, "%s: %s: %s", e->where, e->key, ct_ctx_errmsg(ctx));
        free(e->resolved);
        e->resolved = in.path;
        in.path = NULL;
        ct_sdi_input_free(&in);
    }
    return st;
}

/* The run's name in the SDI: letters, digits, '-' and '_' (it becomes part of file names). */
static ct_status run_name(ct_ctx *ctx, const ct_flood_opts *opts, char *buf, size_t len)
{
    const char *base = opts->run;
    size_t n;
    if (base) {
        n = strlen(base);
    } else if (opts->scenario) {
        base = strrchr(opts->scenario, '/') ? strrchr(opts->scenario, '/') + 1 : opts->scenario;
        const char *dot = strrchr(base, '.');
        n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    } else {
        base = "flood";
        n = 5;
    }
    if (n == 0 || n >= len)
        return ct_error(ctx, CT_ERR_USAGE, "--run: give the run a name of 1 to %zu characters", len - 1);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)base[i]) && base[i] != '-' && base[i] != '_')
            return ct_error(ctx, CT_ERR_USAGE, "'%.*s' cannot name a run in the SDI (letters, digits, - and _ only): "
                            "give one with --run", (int)n, base);
    snprintf(buf, len, "%.*s", (int)n, base);
    return CT_OK;
}

/* Registers one output file of the run as raster "<run>.<product>", catalogued with its extent
 * in the SDI's CRS (the change log gives ct-tile the area to redraw). Missing files (no depth
 * with --no-depth) are skipped. */
static ct_status register_output(ct_ctx *ctx, ct_sdi *sdi, const char *run, const char *title, const char *outdir,
                                 const char *product, int *count)
{
    char file[1400], name[256];
    snprintf(file, sizeof file, "%s/%s.tif", outdir, product);
    snprintf(name, sizeof name, "%s.%s", run, product);
    struct stat sb;
    if (stat(file, &sb) != 0)
        return CT_OK;
    ct_raster *r = NULL;
    ct_status st = ct_raster_open(ctx, file, &r);
    if (st)
        return st;
    double gt[6], box[4], ext[4] = {NAN, NAN, NAN, NAN};
    ct_raster_geotransform(r, gt);
    box[0] = gt[0];
    box[2] = gt[0] + gt[1] * ct_raster_width(r);
    box[1] = gt[3] + gt[5] * ct_raster_height(r);
    box[3] = gt[3];
    ct_transform *tr = NULL;
    if (ct_raster_crs(r) && !ct_crs_equal(ct_raster_crs(r), ct_sdi_crs(sdi))) {
        if (!(st = ct_transform_new(ctx, ct_raster_crs(r), ct_sdi_crs(sdi), &tr)))
            st = ct_transform_bounds(ctx, tr, box, ext);
        ct_transform_free(tr);
    } else {
        memcpy(ext, box, sizeof ext);
    }
    char full[512];
    snprintf(full, sizeof full, "%s: %s", title, product);
    ct_sdi_source_info info = {
        .name = name,
        .title = full,
        .path = file,
        .source_crs = ct_raster_crs(r) ? ct_crs_name(ct_raster_crs(r)) : NULL,
        .features = 1,
        .extent = {ext[0], ext[1], ext[2], ext[3]},
    };
    if (!st)
        st = ct_sdi_add_raster(ctx, sdi, name, file, &info);
    ct_raster_close(r);
    if (!st)
        (*count)++;
    return st;
}

/* Registers the rasters of a finished run in one version of the SDI. */
static ct_status sdi_register(ct_ctx *ctx, ct_sdi *sdi, const ct_scenario *s, const ct_flood_opts *opts,
                              ct_flood_model m, const char *outdir, const char *run)
{
    long long version;
    ct_status st = ct_sdi_begin(ctx, sdi, opts->invocation, "flood", run, &version);
    if (st)
        return st;
    const char *title = ct_scenario_get(s, "name") ? ct_scenario_get(s, "name") : run;
    int count = 0;
    if (m == CT_FLOOD_BATHTUB) {
        double *levels = NULL, slr = 0;
        int nl = 0;
        ct_scenario_number(s, "slr_offset", &slr);
        st = ct_scenario_numlist(ctx, s, "level", &levels, &nl);
        for (int i = 0; !st && i < nl; i++) {
            char lab[32], product[64];
            level_label(lab, sizeof lab, levels[i] + slr);
            snprintf(product, sizeof product, "depth-%s", lab);
            if (!(st = register_output(ctx, sdi, run, title, outdir, product, &count))) {
                snprintf(product, sizeof product, "extent-%s", lab);
                st = register_output(ctx, sdi, run, title, outdir, product, &count);
            }
        }
        free(levels);
    } else {
        static const char *const products[] = {"max_depth", "max_velocity", "time_of_max", "arrival_time", "duration",
                                               "hazard"};
        for (size_t i = 0; !st && i < sizeof products / sizeof products[0]; i++)
            st = register_output(ctx, sdi, run, title, outdir, products[i], &count);
    }
    if (!st)
        st = ct_sdi_commit(ctx, sdi);
    else
        ct_sdi_rollback(sdi);
    if (!st)
        ct_log(ctx, CT_LOG_INFO, "%s: %d rasters of run '%s' registered as version %lld", ct_sdi_path(sdi), count, run,
               version);
    return st;
}

ct_status ct_flood_run(ct_ctx *ctx, const ct_flood_opts *opts)
{
    ct_scenario *s = NULL;
    ct_status st;
    if (opts->scenario) {
        if ((st = ct_scenario_load(ctx, opts->scenario, &s)))
            return st;
    } else if (!(s = ct_scenario_new(NULL))) {
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < opts->nset; i++)
        if ((st = ct_scenario_set_arg(ctx, s, opts->set[i]))) {
            ct_scenario_free(s);
            return st;
        }
    ct_flood_model m = opts->model;
    if (m == CT_FLOOD_FROM_SCENARIO) {
        const char *mv = ct_scenario_get(s, "model");
        if (!mv) {
            ct_scenario_free(s);
            return ct_error(ctx, CT_ERR_USAGE, "which model? name it (bathtub or simulate) or give the key 'model'");
        }
        m = !strcmp(mv, "simulate") || !strcmp(mv, "dynamic") ? CT_FLOOD_SIMULATE : CT_FLOOD_BATHTUB;
    }
    const char *outdir = opts->outdir ? opts->outdir : ct_scenario_path(s, "output");
    if (!outdir)
        outdir = ".";
    ct_sdi *sdi = NULL;
    char run[64];
    if (opts->sdi && !(st = run_name(ctx, opts, run, sizeof run)))
        st = ct_sdi_open(ctx, opts->sdi, &sdi);
    if (!st)
        st = sdi_inputs(ctx, s, sdi);
    /* GDAL decodes the tiles of a compressed DEM on this many threads (GTiff, GDAL >= 3.6):
     * reading an 8000 x 8000 DEFLATE DEM is otherwise the longest part of a bathtub run.
     * Thread-local, so other threads' GDAL calls are not affected. */
    char *old_nt = CPLStrdup(CPLGetThreadLocalConfigOption("GDAL_NUM_THREADS", NULL));
    CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", CPLSPrintf("%d", ct_ctx_threads(ctx)));
    if (!st)
        st = m == CT_FLOOD_BATHTUB ? run_bathtub(ctx, s, opts, outdir) : ct_flood_simulate_run(ctx, s, opts, outdir);
    CPLSetThreadLocalConfigOption("GDAL_NUM_THREADS", old_nt[0] ? old_nt : NULL);
    CPLFree(old_nt);
    /* the outputs are complete in their folder before the SDI learns of them: a failed
     * registration leaves the SDI as it was and the files in place */
    if (!st && sdi)
        st = sdi_register(ctx, sdi, s, opts, m, outdir, run);
    ct_sdi_close(sdi);
    ct_scenario_free(s);
    return st;
}


/* ---------------------------------------------------------------------------------------- */
/* Simulate: the local inertial model                                                        */

#define SIM_G 9.81f
#define SIM_ZOFF 1.0e4f    /* ground given to nodata cells: a wall no flow crosses */
#define SIM_PAR_CELLS 8192 /* fewer active cells than this in a step: one thread (a barrier costs more) */
#define SIM_MAX_BANDS 64
#define SIM_BLK 8          /* columns per block of the maxima's bounds (sim.bmv) */
/* The kernels are built twice on x86-64, for SSE2 (every x86-64) and AVX2, and the loader
 * (flux: target_clones, CT_SIMD_CLONES above) or the CPU flag (depth, SIM_AVX2) picks one;
 * without FMA contraction (ISO C mode) both give the same bits. */
#define SIM_AVX2 CT_SIMD_X86

typedef struct sim_point {
    double x, y;
    int col, row;
    char name[64];
    int series; /* index into the inflow series, -1 for gauges */
} sim_point;

/*
 * The active region is one span of columns [lo, hi) per row (empty when lo >= hi), stored as
 * pairs in int arrays of 2 * h. Only a cell that is wet or next to a wet one can change in a
 * step (a face carries flow only when one of its cells is wet, see sim_wet), so a step updates
 * the wet cells of each row dilated by one cell (the row's own wet span widened by one, and
 * the wet spans of the rows above and below), and the result is the same, bit for bit, as
 * updating the whole grid: faces outside the computed spans are kept at zero (each flux
 * buffer remembers where it was last written, rec*, and is cleared there before it is written
 * again). A row's span is a hull: two ponds in one row also update the dry cells between them,
 * which costs a little work but no accuracy.
 */
typedef struct sim {
    int w, h;
    float dx, dy, cell_area;
    float *z, *hh, *qx, *qy, *qxo, *qyo; /* qxo/qyo: previous fluxes for the q-centred scheme */
    float *nsq;                          /* n² per cell; NULL: n2c everywhere */
    float n2c;
    float *maxh, *tmaxh, *maxv, *maxhaz, *arrival;
    /* Duration above the arrival depth, written only when a cell crosses it: the time spent
     * above it before, where the cell is below it now (sign bit clear); minus (the time the
     * current stay began - that time), where it is above (sign bit set, -0 included); see
     * sim_durations(). */
    float *dur;
    float t0; /* the time at the start of this step (float, as the kernels see times) */
    /* Per block of SIM_BLK columns of a row, so that the 8-lane kernel reads a maximum only
     * where it may change (a step in which they hold reads 0.6 bytes a cell for them instead
     * of 12): bmv, a lower bound of maxv there (0 at first: the maxima start at 0 and only
     * grow); bdirty, set where a depth was raised outside the kernel (inflows, boundaries,
     * the initial or resumed state: 1 at first), which voids the kernel's inference from the
     * old depths. Caches: not checkpointed, rebuilt as the run goes. */
    float *bmv;
    uint8_t *bdirty;
    int nblk;
    int *wet;               /* wet cells of each row after the last step */
    int *act;               /* cells updated this step */
    int *fx, *fy;           /* x faces (index c: west of cell c) and y faces (north of the row) computed */
    int *recx, *recy;       /* where qx/qy were last written (may be non-zero) */
    int *recxo, *recyo;     /* the same for qxo/qyo */
    float *rhmax;           /* per row: the deepest updated cell of the last step */
    uint8_t *rflag;         /* per row: 1 a negative depth, 2 a NaN or absurd depth */
    int band[SIM_MAX_BANDS + 1], nband;
    size_t *work;
    size_t nwork, capwork;
    long long nact_cells; /* cells updated this step */
    double clamp;         /* depth (m, summed over cells) removed by the negative-depth fix */
    /* parameters */
    float thr, arr, debris, theta, alpha;
    int qcentred;
    int avx2;          /* the CPU has AVX2: the 8-lane depth kernel */
    float rain_u;      /* uniform rain of this step, mm/h (when rain is NULL) */
    float rain_k;      /* this step's depth per mm/h of rain, m (times the series' factor with a field) */
    float *rain;       /* rain per cell, mm/h (a raster or grid; 0 on nodata); NULL: uniform */
    int *rainsp;       /* per row: the span of cells where rain > 0 */
    long long nvalid;
} sim;

static void sim_free(sim *m)
{
    free(m->z); free(m->hh); free(m->qx); free(m->qy); free(m->qxo); free(m->qyo); free(m->nsq);
    free(m->maxh); free(m->tmaxh); free(m->maxv); free(m->maxhaz); free(m->arrival); free(m->dur);
    free(m->bmv); free(m->bdirty);
    free(m->wet); free(m->act); free(m->fx); free(m->fy); free(m->recx); free(m->recy); free(m->recxo);
    free(m->recyo); free(m->rhmax); free(m->rflag); free(m->work); free(m->rain); free(m->rainsp);
    memset(m, 0, sizeof *m);
}

static float *falloc(size_t n, float v)
{
    float *p = malloc(n * sizeof *p);
    if (p)
        for (size_t i = 0; i < n; i++)
            p[i] = v;
    return p;
}

/* n pairs of empty spans */
static int *spans_new(int n)
{
    int *s = malloc(2 * (size_t)n * sizeof *s);
    if (s)
        for (int i = 0; i < n; i++)
            s[2 * i] = 0, s[2 * i + 1] = 0;
    return s;
}

static ct_status sim_alloc(ct_ctx *ctx, sim *m, const domain *d, int qcentred)
{
    m->w = d->w;
    m->h = d->h;
    m->dx = (float)d->gt[1];
    m->dy = (float)-d->gt[5];
    m->cell_area = (float)d->cell_area;
#if SIM_AVX2
    /* CT_FLOOD_LANES=4: the 4-lane kernel on an AVX2 machine too, for the test that compares
     * the two (t545) */
    const char *lanes = getenv("CT_FLOOD_LANES");
    m->avx2 = __builtin_cpu_supports("avx2") && !(lanes && !strcmp(lanes, "4"));
#endif
    size_t n = (size_t)m->w * m->h, nx = (size_t)(m->w + 1) * m->h, ny = (size_t)m->w * (m->h + 1);
    m->z = falloc(n, 0);
    m->hh = falloc(n, 0);
    m->qx = falloc(nx, 0);
    m->qy = falloc(ny, 0);
    if (qcentred) {
        m->qxo = falloc(nx, 0);
        m->qyo = falloc(ny, 0);
    }
    m->maxh = falloc(n, 0);
    m->tmaxh = falloc(n, -9999);
    m->maxv = falloc(n, 0);
    m->maxhaz = falloc(n, 0);
    m->arrival = falloc(n, -9999);
    m->dur = falloc(n, 0);
    m->nblk = (m->w + SIM_BLK - 1) / SIM_BLK;
    m->bmv = falloc((size_t)m->nblk * m->h, 0);
    m->bdirty = malloc((size_t)m->nblk * m->h);
    if (m->bdirty)
        memset(m->bdirty, 1, (size_t)m->nblk * m->h);
    m->wet = spans_new(m->h);
    m->act = spans_new(m->h);
    m->fx = spans_new(m->h);
    m->fy = spans_new(m->h + 1);
    m->recx = spans_new(m->h);
    m->recy = spans_new(m->h + 1);
    m->recxo = spans_new(m->h);
    m->recyo = spans_new(m->h + 1);
    m->rhmax = falloc((size_t)m->h, 0);
    m->rflag = calloc((size_t)m->h, 1);
    if (!m->z || !m->hh || !m->qx || !m->qy || (qcentred && (!m->qxo || !m->qyo)) || !m->maxh || !m->tmaxh ||
        !m->maxv || !m->maxhaz || !m->arrival || !m->dur || !m->bmv || !m->bdirty || !m->wet || !m->act || !m->fx || !m->fy || !m->recx ||
        !m->recy || !m->recxo || !m->recyo || !m->rhmax || !m->rflag)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory for a %d x %d simulation", m->w, m->h);
    const float *dz = ct_grid_cdata(d->dem);
    for (size_t i = 0; i < n; i++) {
        m->z[i] = isnan(dz[i]) ? SIM_ZOFF : dz[i];
        m->nvalid += !isnan(dz[i]);
    }
    return CT_OK;
}

/* hf^(-7/3) = y^7 with y = hf^(-1/3) from a bit-level guess and three Newton steps (relative
 * error below 1e-7, i.e. float rounding): multiplications only, cheaper than cbrtf() and a
 * division, they vectorise, and give the same bits on every x86-64 (ISO C mode: no FMA
 * contraction, so the SSE2 and AVX2 clones agree). */
static inline float pow_m73(float x)
{
    uint32_t i;
    memcpy(&i, &x, sizeof i);
    i = 0x54a2fa8cu - i / 3;
    float y;
    memcpy(&y, &i, sizeof y);
    y = y * (4.0f / 3.0f - (1.0f / 3.0f) * x * y * y * y);
    y = y * (4.0f / 3.0f - (1.0f / 3.0f) * x * y * y * y);
    y = y * (4.0f / 3.0f - (1.0f / 3.0f) * x * y * y * y);
    float y2 = y * y;
    return y2 * y2 * y2 * y;
}

static inline float fmx(float a, float b) { return a > b ? a : b; } /* maxps, unlike fmaxf */

/* The flux through one face, branch-free: dry faces (hf <= thr) compute a throw-away value
 * (from hf clamped to thr, so no denormals or infinities slow the lane down) and select 0. */
static inline float face_q(float zl, float zr, float hl, float hr, float q0, float n2, float dt, float thr,
                           float idx)
{
    float el = zl + hl, er = zr + hr;
    float hf = fmx(el, er) - fmx(zl, zr);
    float q = (q0 - SIM_G * hf * dt * (er - el) * idx) / (1.0f + SIM_G * dt * n2 * fabsf(q0) * pow_m73(fmx(hf, thr)));
    return hf > thr ? q : 0.0f;
}

/* A cell is wet when a face next to it can carry flow: with zl >= zr, a face's hf is
 * fl(max(el, er) - zl), which is fl(el - zl) or at most fl(er - zr) (rounding is monotone), so
 * hf > thr implies fl(fl(z + h) - z) > thr on one side. Cells at or above the arrival depth
 * count too, so that their duration keeps counting. */
static inline int sim_wet(float z, float h, float thr, float arr) { return ((z + h) - z > thr) | (h >= arr); }

static inline int span_lo(const int *s, int r) { return s[2 * r]; }
static inline int span_hi(const int *s, int r) { return s[2 * r + 1]; }

/* Clears buf over the span rec minus the span [lo, hi), then records [lo, hi). */
static void clear_outside(float *buf, int *rec, int lo, int hi)
{
    int a = rec[0], b = rec[1];
    if (a < b) {
        if (lo >= hi) {
            memset(buf + a, 0, (size_t)(b - a) * sizeof *buf);
        } else {
            if (a < lo)
                memset(buf + a, 0, (size_t)((b < lo ? b : lo) - a) * sizeof *buf);
            if (b > hi) {
                int s = a > hi ? a : hi;
                memset(buf + s, 0, (size_t)(b - s) * sizeof *buf);
            }
        }
    }
    rec[0] = lo;
    rec[1] = hi;
}

/* The x faces of row r (west faces of cells 1..w-1; the outer faces stay closed). The flag
 * arguments are constants at every call, so each variant compiles to its own vector loop. */
static inline __attribute__((always_inline)) void flux_x_row_k(sim *m, int r, float dt, int qc, int hasn)
{
    const int w = m->w, lo = span_lo(m->fx, r), hi = span_hi(m->fx, r);
    float *restrict qr = m->qx + (size_t)r * (w + 1);
    clear_outside(qr, m->recx + 2 * r, lo, hi);
    if (lo >= hi)
        return;
    const float thr = m->thr, idx = 1.0f / m->dx, n2c = m->n2c;
    const float theta = m->theta, side = 0.5f * (1.0f - m->theta);
    const float *restrict zr = m->z + (size_t)r * w, *restrict hr = m->hh + (size_t)r * w;
    const float *restrict qo = qc ? m->qxo + (size_t)r * (w + 1) : qr;
    const float *restrict nr = hasn ? m->nsq + (size_t)r * w : NULL;
#pragma omp simd
    for (int c = lo; c < hi; c++) {
        float q0 = qc ? theta * qo[c] + side * (qo[c - 1] + qo[c + 1]) : qr[c];
        float n2 = hasn ? 0.5f * (nr[c - 1] + nr[c]) : n2c;
        qr[c] = face_q(zr[c - 1], zr[c], hr[c - 1], hr[c], q0, n2, dt, thr, idx);
    }
}

/* The y faces between rows r - 1 and r (1 <= r < h). */
static inline __attribute__((always_inline)) void flux_y_row_k(sim *m, int r, float dt, int qc, int hasn)
{
    const int w = m->w, lo = span_lo(m->fy, r), hi = span_hi(m->fy, r);
    float *restrict qr = m->qy + (size_t)r * w;
    clear_outside(qr, m->recy + 2 * r, lo, hi);
    if (lo >= hi)
        return;
    const float thr = m->thr, idy = 1.0f / m->dy, n2c = m->n2c;
    const float theta = m->theta, side = 0.5f * (1.0f - m->theta);
    const float *restrict zu = m->z + (size_t)(r - 1) * w, *restrict zd = zu + w;
    const float *restrict hu = m->hh + (size_t)(r - 1) * w, *restrict hd = hu + w;
    const float *restrict qo = qc ? m->qyo + (size_t)r * w : qr;
    const float *restrict qou = qc ? qo - w : qr, *restrict qod = qc ? qo + w : qr;
    const float *restrict nu = hasn ? m->nsq + (size_t)(r - 1) * w : NULL, *restrict nd = hasn ? nu + w : NULL;
#pragma omp simd
    for (int c = lo; c < hi; c++) {
        float q0 = qc ? theta * qo[c] + side * (qou[c] + qod[c]) : qr[c];
        float n2 = hasn ? 0.5f * (nu[c] + nd[c]) : n2c;
        qr[c] = face_q(zu[c], zd[c], hu[c], hd[c], q0, n2, dt, thr, idy);
    }
}

CT_SIMD_CLONES static void flux_rows(sim *m, int r, float dt)
{
    const int qc = m->qcentred, hasn = m->nsq != NULL;
    if (qc && hasn) {
        flux_x_row_k(m, r, dt, 1, 1);
        if (r > 0)
            flux_y_row_k(m, r, dt, 1, 1);
    } else if (qc) {
        flux_x_row_k(m, r, dt, 1, 0);
        if (r > 0)
            flux_y_row_k(m, r, dt, 1, 0);
    } else if (hasn) {
        flux_x_row_k(m, r, dt, 0, 1);
        if (r > 0)
            flux_y_row_k(m, r, dt, 0, 1);
    } else {
        flux_x_row_k(m, r, dt, 0, 0);
        if (r > 0)
            flux_y_row_k(m, r, dt, 0, 0);
    }
}

/*
 * Continuity, rain and the running maxima of row r's active cells; the row's wet span,
 * deepest cell and flags for negative and absurd depths: depth_cell() for one cell (the
 * scalar tail of a row), and the vector kernels of flood_row_int.h for the rest.
 */
typedef struct depth_par {
    float ax, ay, rain, thr, arr, debris, tprev, tnew, rk;
} depth_par;

typedef struct depth_row_io {
    float *h, *mh, *tm, *mv, *mz, *ar, *du;
    const float *z, *qx, *qn, *qs;
    const float *rr; /* rain per cell, mm/h; NULL: uniform p->rain */
} depth_row_io;

static inline void depth_cell(const depth_row_io *o, const depth_par *p, int c, float *rmax, int *wlo, int *whi,
                              int *neg, int *bad)
{
    float zc = o->z[c], h0 = o->h[c];
    float qw = o->qx[c], qe = o->qx[c + 1], qn = o->qn[c], qs = o->qs[c];
    float hn = h0 + p->ax * (qw - qe) + p->ay * (qn - qs) + (o->rr ? o->rr[c] * p->rk : p->rain);
    hn = zc < SIM_ZOFF ? hn : h0;
    o->h[c] = hn;
    *neg |= hn < 0;
    *bad |= !(hn < 1e4f && hn > -1e4f); /* also NaN */
    if (((zc + hn) - zc > p->thr) | (hn >= p->arr)) { /* sim_wet() */
        *wlo = c < *wlo ? c : *wlo;
        *whi = c + 1;
    }
    float hp = fmx(hn, 0.0f);
    *rmax = fmx(*rmax, hp);
    if (hp > o->mh[c]) {
        o->tm[c] = p->tnew;
        o->mh[c] = hp;
    }
    float du = o->du[c];
    int over = hp >= p->arr, was = signbit(du) != 0; /* sim.dur's encoding */
    if (over && !was) {
        if (o->ar[c] < 0)
            o->ar[c] = p->tnew;
        o->du[c] = -fmx(p->tprev - du, 0.0f);
    } else if (was && !over) {
        o->du[c] = fmx(p->tprev + du, 0.0f);
    }
    if (hp > 0.01f) { /* velocity and hazard where at least 1 cm deep: q/h of a film is noise */
        float hs = fmx(hp, p->thr);
        float vx = 0.5f * (qw + qe) / hs, vy = 0.5f * (qn + qs) / hs;
        float v = sqrtf(vx * vx + vy * vy);
        o->mv[c] = fmx(o->mv[c], v);
        o->mz[c] = fmx(o->mz[c], hp * (v + 0.5f) + (hp > 0.25f ? p->debris : 0.0f));
    }
}

#define DR_VL 4
#define DR_SFX _v4
#define DR_ATTR
#define DR_BOUNDS 0
#include "flood_row_int.h"
#if SIM_AVX2
#define DR_VL 8
#define DR_SFX _v8
#define DR_ATTR __attribute__((target("avx2")))
#define DR_BOUNDS 1
_Static_assert(SIM_BLK == 8, "the 8-lane kernel takes a block per vector");
#include "flood_row_int.h"
#endif

static inline void depth_row(sim *m, int r, float dt, float tnew)
{
#if SIM_AVX2
    if (m->avx2) {
        if (m->rain)
            depth_row_field_v8(m, r, dt, tnew);
        else
            depth_row_uniform_v8(m, r, dt, tnew);
        return;
    }
#endif
    if (m->rain)
        depth_row_field_v4(m, r, dt, tnew);
    else
        depth_row_uniform_v4(m, r, dt, tnew);
}

/*
 * The spans of this step from the wet spans of the last one (all of the grid when all is set:
 * the first step and while uniform rain falls; with a rain field, each row's span also covers
 * the cells it rains on, rsp), and the row bands of the threads: contiguous rows with about the
 * same number of active cells each.
 */
static void sim_plan(sim *m, int all, const int *rsp, int nthreads)
{
    const int w = m->w, h = m->h;
    long long total = 0;
    for (int r = 0; r < h; r++) {
        int lo = INT_MAX, hi = INT_MIN;
        if (all) {
            lo = 0, hi = w;
        } else {
            for (int k = -1; k <= 1; k++) {
                int rr = r + k;
                if (rr < 0 || rr >= h || span_lo(m->wet, rr) >= span_hi(m->wet, rr))
                    continue;
                int a = span_lo(m->wet, rr) - (k == 0), b = span_hi(m->wet, rr) + (k == 0);
                lo = a < lo ? a : lo;
                hi = b > hi ? b : hi;
            }
            if (rsp && span_lo(rsp, r) < span_hi(rsp, r)) {
                lo = span_lo(rsp, r) < lo ? span_lo(rsp, r) : lo;
                hi = span_hi(rsp, r) > hi ? span_hi(rsp, r) : hi;
            }
            lo = lo < 0 ? 0 : lo;
            hi = hi > w ? w : hi;
        }
        if (lo >= hi)
            lo = hi = 0;
        m->act[2 * r] = lo;
        m->act[2 * r + 1] = hi;
        /* x faces touching the span: lo..hi, inner ones only */
        int xl = lo > 1 ? lo : 1, xh = hi < w - 1 ? hi + 1 : w;
        m->fx[2 * r] = lo < hi && xl < xh ? xl : 0;
        m->fx[2 * r + 1] = lo < hi && xl < xh ? xh : 0;
        total += hi - lo;
    }
    for (int r = 1; r < h; r++) { /* y faces north of row r: the hull of rows r - 1 and r */
        int a0 = span_lo(m->act, r - 1), b0 = span_hi(m->act, r - 1), a1 = span_lo(m->act, r), b1 = span_hi(m->act, r);
        int lo = a0 < b0 ? a0 : a1, hi = a0 < b0 ? b0 : b1;
        if (a0 < b0 && a1 < b1) {
            lo = a0 < a1 ? a0 : a1;
            hi = b0 > b1 ? b0 : b1;
        }
        m->fy[2 * r] = lo;
        m->fy[2 * r + 1] = hi;
    }
    m->nact_cells = total;
    int nb = nthreads < SIM_MAX_BANDS ? nthreads : SIM_MAX_BANDS;
    if (total < SIM_PAR_CELLS || nb < 1)
        nb = 1;
    m->nband = nb;
    m->band[0] = 0;
    long long acc = 0;
    int k = 1;
    for (int r = 0; r < h && k < nb; r++) {
        acc += span_hi(m->act, r) - span_lo(m->act, r);
        while (k < nb && acc * nb >= total * k)
            m->band[k++] = r + 1;
    }
    while (k <= nb)
        m->band[k++] = h;
}

/*
 * One step over the bands, rows in order within each: the faces of row r, then the depths of
 * row r - 1 (whose faces are all known by then), while its data are still in cache. The last
 * row of a band waits for the barrier: the next band's first y faces read its old depths.
 */
static void sim_step(sim *m, float dt, float tnew)
{
#pragma omp parallel num_threads(m->nband) if (m->nband > 1)
    {
        int me = omp_get_thread_num(), team = omp_get_num_threads();
        for (int b = me; b < m->nband; b += team) {
            int r0 = m->band[b], r1 = m->band[b + 1];
            for (int r = r0; r < r1; r++) {
                flux_rows(m, r, dt);
                if (r > r0)
                    depth_row(m, r - 1, dt, tnew);
            }
        }
#pragma omp barrier
        for (int b = me; b < m->nband; b += team)
            if (m->band[b + 1] > m->band[b])
                depth_row(m, m->band[b + 1] - 1, dt, tnew);
    }
}

/* cell i's depth changed outside the kernel */
static inline void sim_dirty(sim *m, size_t i)
{
    m->bdirty[i / (size_t)m->w * m->nblk + i % (size_t)m->w / SIM_BLK] = 1;
}

static int work_push(sim *m, size_t i)
{
    if (ct_grow(&m->work, &m->capwork, m->nwork + 1, sizeof *m->work))
        return 0;
    m->work[m->nwork++] = i;
    return 1;
}

/*
 * The explicit scheme can send more water out of a shallow cell than it holds (thin films on
 * slopes). Such a cell's outgoing fluxes are scaled down so that it ends the step empty, the
 * neighbours that received that water give it back, and any of them that goes negative in turn
 * is treated the same way. Serial, in row and cell order (deterministic); exactly conservative.
 * Cells are rare, so the common step pays only for the row flags.
 */
static int sim_fix_negative(sim *m, float dt)
{
    const int w = m->w;
    const float ax = dt / m->dx, ay = dt / m->dy;
    m->nwork = 0;
    for (int r = 0; r < m->h; r++) {
        if (!(m->rflag[r] & 1))
            continue;
        m->rflag[r] &= (uint8_t)~1;
        for (int c = span_lo(m->act, r); c < span_hi(m->act, r); c++)
            if (m->hh[(size_t)r * w + c] < 0 && !work_push(m, (size_t)r * w + c))
                return 0;
    }
    for (size_t wi = 0; wi < m->nwork; wi++) {
        size_t i = m->work[wi];
        float hn = m->hh[i];
        if (hn >= 0)
            continue;
        int r = (int)(i / (size_t)w), c = (int)(i % (size_t)w);
        size_t kw = (size_t)r * (w + 1) + c, ke = kw + 1, fn = i, fs = i + (size_t)w;
        /* outgoing depth change per face, as continuity applied it */
        float ow = m->qx[kw] < 0 ? -ax * m->qx[kw] : 0, oe = m->qx[ke] > 0 ? ax * m->qx[ke] : 0;
        float on = m->qy[fn] < 0 ? -ay * m->qy[fn] : 0, os = m->qy[fs] > 0 ? ay * m->qy[fs] : 0;
        float out = ow + oe + on + os;
        if (out <= 0) { /* nothing left through a face: rounding; counted as clamped */
            m->clamp -= hn;
            m->hh[i] = 0;
            sim_dirty(m, i);
            continue;
        }
        float f = 1.0f + hn / out; /* the share of the outflow the cell could afford */
        if (f < 0)
            f = 0;
        float back = 1.0f - f;
        struct { float o; size_t nb; float *q; } fc[4] = {
            {ow, i - 1, &m->qx[kw]}, {oe, i + 1, &m->qx[ke]}, {on, i - (size_t)w, &m->qy[fn]}, {os, i + (size_t)w, &m->qy[fs]}};
        float given = 0;
        for (int k = 0; k < 4; k++) {
            if (fc[k].o <= 0)
                continue;
            *fc[k].q *= f;
            float d = back * fc[k].o;
            given += d;
            /* the receiving cell gets that water back out of its depth (area ratio 1) */
            m->hh[fc[k].nb] -= d;
            sim_dirty(m, fc[k].nb);
            if (m->hh[fc[k].nb] < 0 && !work_push(m, fc[k].nb))
                return 0;
        }
        float rest = hn + given; /* ~0 but for rounding */
        m->clamp -= rest;
        m->hh[i] = 0;
        sim_dirty(m, i);
    }
    return 1;
}

/* --- simulate inputs -------------------------------------------------------------------- */

static int has_ext(const char *path, const char *ext)
{
    size_t a = strlen(path), b = strlen(ext);
    return a >= b && !strcasecmp(path + a - b, ext);
}

/* Named inflow series: from a LISFLOOD-FP .bdy file (a comment line, then per series its name,
 * "N seconds|minutes|hours", and N "value time" lines) or a CSV time,value (one series, named
 * after the file). */
typedef struct named_series {
    char name[64];
    ct_series s;
} named_series;

static ct_status read_bdy(ct_ctx *ctx, const char *path, named_series **out, int *nout)
{
    *out = NULL;
    *nout = 0;
    if (!has_ext(path, ".bdy")) {
        named_series *ns = calloc(1, sizeof *ns);
        if (!ns)
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        ct_status st = ct_series_read(ctx, path, &ns->s);
        if (st) {
            free(ns);
            return st;
        }
        snprintf(ns->name, sizeof ns->name, "*");
        *out = ns;
        *nout = 1;
        return CT_OK;
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char line[512];
    int lineno = 0, n = 0;
    size_t cap = 0;
    named_series *ns = NULL;
    ct_status st = CT_OK;
    if (!fgets(line, sizeof line, f)) /* the first line is a comment */
        st = ct_error(ctx, CT_ERR_INVALID, "%s: empty", path);
    lineno = 1;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[4];
        int nf = split_fields(line, fld, 4);
        if (nf == 0)
            continue;
        if (ct_grow(&ns, &cap, (size_t)n + 1, sizeof *ns)) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            break;
        }
        memset(&ns[n], 0, sizeof ns[n]);
        snprintf(ns[n].name, sizeof ns[n].name, "%s", fld[0]);
        n++;
        if (!fgets(line, sizeof line, f)) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: series '%s' has no 'N units' line", path, lineno, ns[n - 1].name);
            break;
        }
        lineno++;
        nf = split_fields(line, fld, 4);
        double cnt, unit = 1;
        if (nf < 1 || !parse_number(fld[0], &cnt) || cnt < 1) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: expected 'N seconds|minutes|hours'", path, lineno);
            break;
        }
        if (nf > 1 && !strncmp(fld[1], "hour", 4))
            unit = 3600;
        else if (nf > 1 && !strncmp(fld[1], "min", 3))
            unit = 60;
        size_t scap = 0;
        for (int i = 0; i < (int)cnt && !st; i++) {
            if (!fgets(line, sizeof line, f)) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: series '%s': %d of %d values", path, ns[n - 1].name, i, (int)cnt);
                break;
            }
            lineno++;
            double v, t;
            nf = split_fields(line, fld, 4);
            if (nf < 2 || !parse_number(fld[0], &v) || !parse_number(fld[1], &t)) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: expected 'value time'", path, lineno);
                break;
            }
            t *= unit;
            if (ns[n - 1].s.n > 0 && t <= ns[n - 1].s.t[ns[n - 1].s.n - 1]) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: time %g does not increase: a time series must be strictly "
                              "increasing in time", path, lineno, t);
                break;
            }
            st = series_push(ctx, &ns[n - 1].s, &scap, t, v);
        }
    }
    fclose(f);
    if (!st && n == 0)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no series", path);
    if (st) {
        for (int i = 0; i < n; i++)
            ct_series_free(&ns[i].s);
        free(ns);
        return st;
    }
    *out = ns;
    *nout = n;
    return CT_OK;
}

/* Points: a LISFLOOD-FP .bci ("P x y QVAR name"), a .stage (count, then "x y" lines), or a CSV
 * with x,y (inflow: optional third column, the series name) or name,x,y (gauges). */
static ct_status read_points(ct_ctx *ctx, const char *key, const char *path, const domain *d, int gauges,
                             sim_point **out, int *nout)
{
    *out = NULL;
    *nout = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int stage = has_ext(path, ".stage"), bci = has_ext(path, ".bci");
    char line[512];
    int lineno = 0, n = 0;
    size_t cap = 0;
    sim_point *p = NULL;
    ct_status st = CT_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *fld[6];
        int nf = split_fields(line, fld, 6);
        if (nf == 0 || (stage && lineno == 1 && nf == 1))
            continue;
        sim_point pt = {.series = -1};
        double a, b;
        if (bci) {
            if (nf < 3 || strcmp(fld[0], "P") || !parse_number(fld[1], &pt.x) || !parse_number(fld[2], &pt.y)) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: expected 'P x y QVAR name' (only point boundaries are read)",
                              path, lineno);
                break;
            }
            if (nf >= 5 && strcmp(fld[3], "QVAR")) {
                st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s:%d: boundary type %s: only QVAR inflows are read", path, lineno,
                              fld[3]);
                break;
            }
            snprintf(pt.name, sizeof pt.name, "%s", nf >= 5 ? fld[4] : "*");
        } else if (nf >= 2 && parse_number(fld[0], &a) && parse_number(fld[1], &b)) {
            pt.x = a;
            pt.y = b;
            if (gauges)
                snprintf(pt.name, sizeof pt.name, "G%d", n + 1);
            else
                snprintf(pt.name, sizeof pt.name, "%s", nf >= 3 ? fld[2] : "*");
        } else if (gauges && nf >= 3 && parse_number(fld[1], &a) && parse_number(fld[2], &b)) {
            pt.x = a;
            pt.y = b;
            snprintf(pt.name, sizeof pt.name, "%s", fld[0]);
        } else {
            if (lineno == 1)
                continue; /* a header */
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: expected %s", path, lineno, gauges ? "'name,x,y' or 'x y'" : "'x,y[,series]'");
            break;
        }
        if (!domain_cell(d, pt.x, pt.y, &pt.col, &pt.row) || isnan(((const float *)ct_grid_cdata(d->dem))[(size_t)pt.row * d->w + pt.col])) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: %s: point %.3f %.3f is off the DEM grid (or on a nodata cell)", path,
                          lineno, key, pt.x, pt.y);
            break;
        }
        if (ct_grow(&p, &cap, (size_t)n + 1, sizeof *p)) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            break;
        }
        p[n++] = pt;
    }
    fclose(f);
    if (!st && n == 0)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: %s: no points", path, key);
    if (st) {
        free(p);
        return st;
    }
    *out = p;
    *nout = n;
    return CT_OK;
}

/* Inflow lines: each line's hydrograph (m³/s for the whole line) is shared among the cells it
 * crosses in proportion to its length inside each. */
typedef struct inflow_line {
    int series;   /* index into the lines' series */
    int first, n; /* its cells in the shared lists */
    long long fid;
} inflow_line;

typedef struct line_set {
    const domain *d;
    const char *path, *field;
    int fi; /* the series field, looked up at the first feature */
    const named_series *ser;
    int nser;
    inflow_line *ln;
    int nln;
    size_t capln;
    size_t *cell;
    double *wt; /* metres of line in the cell, then the share of the line's flow */
    int ncell;
    size_t capcell;
    double len, total, seglen; /* the current feature: metres on valid cells, in all; the segment's */
    int nomem;
} line_set;

static void line_visit(void *u, int col, int row, double t0, double t1)
{
    line_set *ls = u;
    const domain *d = ls->d;
    double len = (t1 - t0) * ls->seglen;
    if (len <= 0 || col < 0 || row < 0 || col >= d->w || row >= d->h ||
        isnan(((const float *)ct_grid_cdata(d->dem))[(size_t)row * d->w + col]))
        return; /* off the grid or on nodata: counted as the rest of the line's length */
    ls->len += len;
    size_t i = (size_t)row * d->w + col;
    inflow_line *l = &ls->ln[ls->nln];
    if (l->n > 0 && ls->cell[ls->ncell - 1] == i) { /* the next segment starts in the same cell */
        ls->wt[ls->ncell - 1] += len;
        return;
    }
    size_t nc = ct_grow_cap(ls->capcell, (size_t)ls->ncell + 1); /* cells and weights side by side */
    if (nc != ls->capcell) {
        if (ct_resize(&ls->cell, nc, sizeof *ls->cell) || ct_resize(&ls->wt, nc, sizeof *ls->wt)) {
            ls->nomem = 1;
            return;
        }
        ls->capcell = nc;
    }
    ls->cell[ls->ncell] = i;
    ls->wt[ls->ncell++] = len;
    l->n++;
}

static ct_status line_feature(ct_ctx *ctx, ct_layer *l, ct_feature *f, const GEOSGeometry *g, ct_transform *tr,
                              void *u)
{
    line_set *ls = u;
    GEOSContextHandle_t gh = ct_geos(ctx);
    long long fid = ct_feature_fid(f);
    (void)l; /* its CRS was checked by inflow_lines_read */
    int type = GEOSGeomTypeId_r(gh, g);
    if (type != GEOS_LINESTRING && type != GEOS_MULTILINESTRING)
        return ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: inflow_lines: a %s, not a line", ls->path, fid,
                        GEOSGeomType_r(gh, g));
    int si = 0;
    if (ls->fi < 0 && ls->field && (ls->fi = ct_layer_field_index(l, ls->field)) < 0)
        return ct_error(ctx, CT_ERR_INVALID, "%s: inflow_lines_field: the layer has no field '%s'", ls->path, ls->field);
    if (ls->fi >= 0) {
        const char *name = ct_feature_is_null(f, ls->fi) ? "" : ct_feature_raw(f, ls->fi);
        for (si = 0; si < ls->nser && strcmp(ls->ser[si].name, name); si++)
            ;
        if (si == ls->nser)
            return ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: series '%s' (field %s) is not in inflow_lines_series",
                            ls->path, fid, name, ls->field);
    } else if (ls->nser > 1) {
        return ct_error(ctx, CT_ERR_USAGE, "%s: inflow_lines_series has %d series: name each line's in a field given "
                        "by inflow_lines_field", ls->path, ls->nser);
    }
    if (ct_grow(&ls->ln, &ls->capln, (size_t)ls->nln + 1, sizeof *ls->ln))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    ls->ln[ls->nln] = (inflow_line){.series = si, .first = ls->ncell, .n = 0, .fid = fid};
    ls->len = ls->total = 0;
    GEOSGeometry *gt = NULL;
    ct_status st = tr ? ct_transform_geom(ctx, tr, g, &gt) : CT_OK;
    if (st)
        return ct_error(ctx, st, "%s: feature %lld: %s", ls->path, fid, ct_ctx_errmsg(ctx));
    const GEOSGeometry *gg = gt ? gt : g;
    const domain *d = ls->d;
    for (int k = 0; k < GEOSGetNumGeometries_r(gh, gg); k++) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(gh, GEOSGetGeometryN_r(gh, gg, k));
        unsigned int n = 0;
        GEOSCoordSeq_getSize_r(gh, cs, &n);
        double x0 = 0, y0 = 0, x1, y1;
        for (unsigned int i = 0; i < n; i++, x0 = x1, y0 = y1) {
            GEOSCoordSeq_getX_r(gh, cs, i, &x1);
            GEOSCoordSeq_getY_r(gh, cs, i, &y1);
            if (i == 0)
                continue;
            ls->seglen = hypot(x1 - x0, y1 - y0);
            ls->total += ls->seglen;
            seg_walk(d, (x0 - d->gt[0]) / d->gt[1], (y0 - d->gt[3]) / d->gt[5], (x1 - d->gt[0]) / d->gt[1],
                     (y1 - d->gt[3]) / d->gt[5], line_visit, ls);
        }
    }
    GEOSGeom_destroy_r(gh, gt);
    if (ls->nomem)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    double total = ls->total, off = total - ls->len;
    if (!(total > 0))
        return ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: inflow line of zero length", ls->path, fid);
    if (off > 1e-9 * total)
        return ct_error(ctx, CT_ERR_INVALID, "%s: feature %lld: inflow_lines: %.3f m of the line's %.3f m lie off the "
                        "DEM grid or on nodata cells: clip it to the grid", ls->path, fid, off, total);
    inflow_line *ln = &ls->ln[ls->nln++];
    for (int i = ln->first; i < ln->first + ln->n; i++)
        ls->wt[i] /= ls->len;
    return CT_OK;
}

/* Reads the inflow lines into ls; a layer without CRS is refused (each_feature would assume
 * the DEM's): a hydrograph placed on the wrong cells is worse than no run. */
static ct_status inflow_lines_read(ct_ctx *ctx, const domain *d, line_set *ls)
{
    ct_status st = each_feature(ctx, d, ls->path, "inflow_lines", line_feature, ls);
    if (st)
        return st;
    if (!ls->nln)
        return ct_error(ctx, CT_ERR_INVALID, "%s: inflow_lines: no lines", ls->path);
    return CT_OK;
}

/* Rain fields: rainfall_raster (one grid from t = 0) or rainfall_grids (frames, each from its
 * time to the next), in mm/h per cell, scaled by rainfall_series when it is given. Only the
 * frame in force is held in memory. */
typedef struct rain_field {
    ct_series fr; /* frame times (v: the row) */
    char **path;  /* per frame: the raster, NULL for 'none' (no rain) */
    char where[1100];
    int cur;      /* the frame in m->rain; -1: none loaded */
    double sum;   /* mm/h summed over the valid cells of the frame */
} rain_field;

static void rain_field_free(rain_field *rf)
{
    for (int i = 0; i < rf->fr.n; i++)
        free(rf->path[i]);
    free(rf->path);
    ct_series_free(&rf->fr);
}

/* Reads rainfall_grids: the paths resolve against the CSV's folder, and each is checked now
 * (it opens, it has a CRS), so that a missing frame fails before the run starts, not hours in. */
static ct_status rain_grids_read(ct_ctx *ctx, const char *csv, rain_field *rf)
{
    char **txt = NULL;
    ct_status st = series_read_k(ctx, csv, &rf->fr, &txt);
    if (st)
        return st;
    rf->path = txt;
    const char *slash = strrchr(csv, '/');
    int dirlen = slash ? (int)(slash - csv) + 1 : 0;
    for (int i = 0; i < rf->fr.n && !st; i++) {
        char *p = rf->path[i];
        if (!strcasecmp(p, "none")) {
            free(p);
            rf->path[i] = NULL;
            continue;
        }
        if (p[0] != '/' && dirlen) {
            size_t len = (size_t)dirlen + strlen(p) + 1;
            char *q = malloc(len);
            if (!q)
                return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            snprintf(q, len, "%.*s%s", dirlen, csv, p);
            free(p);
            rf->path[i] = p = q;
        }
        ct_raster *r = NULL;
        if ((st = ct_raster_open(ctx, p, &r)))
            st = ct_error(ctx, st, "%s: frame at %g s: %s", csv, rf->fr.t[i], ct_ctx_errmsg(ctx));
        else if (!ct_raster_crs(r))
            st = ct_error(ctx, CT_ERR_CRS, "%s: frame at %g s: %s: the raster has no CRS: assign one (gdal_edit.py "
                          "-a_srs)", csv, rf->fr.t[i], p);
        ct_raster_close(r);
    }
    return st;
}

/* Puts the frame in force at time t into m->rain (resampled onto the DEM grid), with the spans
 * of rainy cells per row and the sum of rain over the grid. */
static ct_status rain_frame(ct_ctx *ctx, const domain *d, sim *m, rain_field *rf, double t)
{
    int k = rf->cur >= 0 && rf->fr.t[rf->cur] <= t + 1e-6 ? rf->cur : -1; /* time only goes forward */
    while (k + 1 < rf->fr.n && rf->fr.t[k + 1] <= t + 1e-6)
        k++;
    if (k == rf->cur)
        return CT_OK;
    rf->cur = k;
    rf->sum = 0;
    size_t n = (size_t)m->w * m->h;
    memset(m->rain, 0, n * sizeof *m->rain);
    for (int r = 0; r < m->h; r++)
        m->rainsp[2 * r] = m->rainsp[2 * r + 1] = 0;
    const char *path = k >= 0 ? rf->path[k] : NULL;
    if (!path)
        return CT_OK;
    ct_grid *g = NULL;
    ct_status st = ct_grid_read_onto(ctx, path, d->dem, NULL, &g);
    if (st)
        return ct_error(ctx, st, "%s: %s", rf->where, ct_ctx_errmsg(ctx));
    const float *v = ct_grid_cdata(g);
    long long uncovered = 0;
    for (int r = 0; r < m->h && !st; r++) {
        int lo = INT_MAX, hi = 0;
        double rs = 0;
        for (int c = 0; c < m->w; c++) {
            size_t i = (size_t)r * m->w + c;
            if (m->z[i] >= SIM_ZOFF)
                continue;
            if (isnan(v[i])) {
                uncovered++;
                continue;
            }
            if (!(v[i] >= 0 && v[i] < 1e4f)) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: %s: %g mm/h at column %d, row %d of the DEM grid is not a rain "
                              "intensity", rf->where, path, v[i], c, r);
                break;
            }
            m->rain[i] = v[i];
            rs += v[i];
            if (v[i] > 0) {
                lo = c < lo ? c : lo;
                hi = c + 1;
            }
        }
        rf->sum += rs;
        if (lo < hi)
            m->rainsp[2 * r] = lo, m->rainsp[2 * r + 1] = hi;
    }
    ct_grid_free(g);
    if (!st && uncovered)
        ct_log(ctx, CT_LOG_WARN, "%s: %s: %lld cells of the DEM get no rain (outside the raster or no data there)",
               rf->where, path, uncovered);
    return st;
}

/* Manning's n²: constant, a raster on the DEM grid, or land-use codes through a CSV table. */
/* The manning_table: code,n lines (a header line and '#' comments allowed). Codes are text —
 * the TT 08/2024 codes of a land-use layer — or numbers, for a land-use raster. */
typedef struct code_table {
    char (*code)[16];
    double *n;
    int len;
} code_table;

static void code_table_free(code_table *t)
{
    free(t->code);
    free(t->n);
    memset(t, 0, sizeof *t);
}

static ct_status code_table_read(ct_ctx *ctx, const char *path, code_table *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    char line[256];
    int no = 0;
    size_t cap = 0;
    ct_status st = CT_OK;
    while (!st && fgets(line, sizeof line, f)) {
        no++;
        char *fld[3];
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        int nf = split_fields(line, fld, 3);
        if (nf == 0)
            continue;
        double n;
        if (nf != 2 || !parse_number(fld[1], &n)) {
            if (t->len == 0 && nf == 2)
                continue; /* the header */
            st = ct_error(ctx, CT_ERR_FORMAT, "%s:%d: expected code,n", path, no);
        } else if (!(n > 0 && n < 1) || strlen(fld[0]) >= sizeof t->code[0]) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s:%d: '%s,%s' is not a land-use code and a Manning coefficient "
                          "(0 < n < 1)", path, no, fld[0], fld[1]);
        } else {
            size_t nc = ct_grow_cap(cap, (size_t)t->len + 1); /* codes and n side by side */
            if (nc != cap) {
                if (ct_resize(&t->code, nc, sizeof *t->code) || ct_resize(&t->n, nc, sizeof *t->n)) {
                    st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                    break;
                }
                cap = nc;
            }
            snprintf(t->code[t->len], sizeof t->code[0], "%s", fld[0]);
            t->n[t->len++] = n;
        }
    }
    fclose(f);
    if (!st && t->len == 0)
        st = ct_error(ctx, CT_ERR_INVALID, "%s: no code,n lines", path);
    if (st)
        code_table_free(t);
    return st;
}

/* Land-use polygons (a vector layer such as sdi:parcels) burned into n² by their code. */
typedef struct landuse_burn {
    const domain *d;
    sim *m;
    const code_table *tab;
    const char *path, *field;
    int fi;          /* the code's field in the layer, looked up at the first feature */
    float n2;        /* of the feature being burned */
    long long unknown;
    char first_unknown[16];
} landuse_burn;

static void burn_n2(void *u, int col, int row, double z)
{
    (void)z;
    landuse_burn *lb = u;
    lb->m->nsq[(size_t)row * lb->m->w + col] = lb->n2;
}

static ct_status landuse_feature(ct_ctx *ctx, ct_layer *l, ct_feature *f, const GEOSGeometry *g, ct_transform *tr,
                                 void *u)
{
    landuse_burn *lb = u;
    if (lb->fi < 0) {
        /* the SDI's column, then the names of the cadastral and planning exports */
        static const char *const names[] = {"landuse", "MucDich", "MaQH", "MDSD", "LoaiDat"};
        if (lb->field)
            lb->fi = ct_layer_field_index(l, lb->field);
        for (size_t k = 0; !lb->field && lb->fi < 0 && k < sizeof names / sizeof names[0]; k++)
            lb->fi = ct_layer_field_index(l, names[k]);
        if (lb->fi < 0)
            return ct_error(ctx, CT_ERR_INVALID, "%s: no land-use code field %s%s", lb->path,
                            lb->field ? lb->field : "(landuse, MucDich, MaQH, MDSD, LoaiDat)",
                            lb->field ? "" : ": name it with the key landuse_field");
    }
    const char *code = ct_feature_is_null(f, lb->fi) ? "" : ct_feature_raw(f, lb->fi);
    int k = 0;
    while (k < lb->tab->len && strcmp(lb->tab->code[k], code))
        k++;
    if (k == lb->tab->len) {
        if (!lb->unknown++)
            snprintf(lb->first_unknown, sizeof lb->first_unknown, "%s", code);
        return CT_OK; /* keeps the default n */
    }
    lb->n2 = (float)(lb->tab->n[k] * lb->tab->n[k]);
    return burn_geom(ctx, lb->d, tr, g, burn_n2, lb);
}

static ct_status load_manning(ct_ctx *ctx, const ct_scenario *s, const domain *d, sim *m)
{
    double n = 0.035;
    ct_scenario_number(s, "manning", &n);
    if (!(n > 0 && n < 1))
        return ct_error(ctx, CT_ERR_INVALID, "%s: manning: %g is not a Manning coefficient (0 < n < 1)",
                        ct_scenario_where(s, "manning"), n);
    m->n2c = (float)(n * n);
    const char *rp = ct_scenario_path(s, "manning_raster"), *lu = ct_scenario_path(s, "landuse");
    if (!rp && !lu)
        return CT_OK;
    size_t cells = (size_t)d->w * d->h;
    code_table tab = {0};
    const char *tp = ct_scenario_path(s, "manning_table");
    if (!rp && !tp)
        return ct_error(ctx, CT_ERR_USAGE, "%s: landuse needs a manning_table (CSV code,n)", ct_scenario_where(s, "landuse"));
    ct_status st = rp ? CT_OK : code_table_read(ctx, tp, &tab);
    if (st)
        return st;
    m->nsq = falloc(cells, m->n2c);
    if (!m->nsq) {
        code_table_free(&tab);
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    /* a land-use layer: its polygons burned by code, the rest of the grid keeps 'manning' */
    ct_raster *probe = NULL;
    if (!rp && (strstr(lu, "|layername=") || ct_raster_open(ctx, lu, &probe) != CT_OK)) {
        ct_ctx_clear_error(ctx);
        landuse_burn lb = {.d = d, .m = m, .tab = &tab, .path = lu, .field = ct_scenario_get(s, "landuse_field"), .fi = -1};
        st = each_feature(ctx, d, lu, NULL, landuse_feature, &lb);
        if (!st && lb.unknown)
            ct_log(ctx, CT_LOG_WARN, "%s: %lld polygons have codes not in %s (first '%s'): they keep manning = %g", lu,
                   lb.unknown, tp, lb.first_unknown, n);
        code_table_free(&tab);
        return st;
    }
    ct_raster_close(probe);
    ct_grid *g = NULL;
    if ((st = ct_grid_read(ctx, rp ? rp : lu, 1, rp ? CT_FLOAT32 : CT_FLOAT64, &g))) {
        code_table_free(&tab);
        return st;
    }
    if (ct_grid_width(g) != d->w || ct_grid_height(g) != d->h) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: %d x %d cells, but the DEM has %d x %d: resample it onto the DEM grid",
                      rp ? rp : lu, ct_grid_width(g), ct_grid_height(g), d->w, d->h);
    } else if (rp) {
        const float *v = ct_grid_cdata(g);
        for (size_t i = 0; i < cells; i++)
            if (isfinite(v[i]) && v[i] > 0 && v[i] < 1)
                m->nsq[i] = v[i] * v[i];
    } else {
        /* numeric codes: the table's codes read as numbers */
        double *num = malloc((size_t)tab.len * sizeof *num);
        if (!num) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        } else {
            for (int k = 0; k < tab.len; k++)
                if (!parse_number(tab.code[k], &num[k]))
                    num[k] = NAN;
            const double *v = ct_grid_cdata(g);
            for (size_t i = 0; i < cells; i++)
                for (int k = 0; k < tab.len; k++)
                    if (num[k] == v[i]) {
                        m->nsq[i] = (float)(tab.n[k] * tab.n[k]);
                        break;
                    }
            free(num);
        }
    }
    code_table_free(&tab);
    ct_grid_free(g);
    return st;
}

/* --- checkpoints ------------------------------------------------------------------------ */

#define CKPT_MAGIC "CTFLOOD-CKPT-2\n"

typedef struct sim_clock {
    double t, next_out, next_gauge, next_ckpt;
    long long steps;
    double inflow, rain, bnd_in, bnd_out, storage0, clampsum, dt_last, dt_min_seen, cell_updates, solver_s;
    int nrows_g, nrows_m;
} sim_clock;

typedef struct sim_rows {
    double *g; /* rows of 1 + 2 * ngau: time, then depth and level per gauge */
    int ng, ngau;
    size_t cap_g;
    double *mb; /* rows of MB_COLS */
    int nm;
    size_t cap_m;
} sim_rows;

enum { MB_COLS = 10 }; /* time, steps, dt, inflow, rain, bnd_in, bnd_out, storage, error, error_pct */

static int rows_push(double **a, int *n, size_t *cap, int cols, const double *row)
{
    if (ct_grow(a, cap, (size_t)*n + 1, (size_t)cols * sizeof **a))
        return 0;
    memcpy(*a + (size_t)*n * cols, row, (size_t)cols * sizeof *row);
    (*n)++;
    return 1;
}

static int wr(FILE *f, const void *p, size_t sz, size_t n) { return fwrite(p, sz, n, f) == n; }
static int rd(FILE *f, void *p, size_t sz, size_t n) { return fread(p, sz, n, f) == n; }

/* The arrays of the state, in file order. */
static int sim_arrays(sim *m, float **a[12], size_t len[12])
{
    size_t n = (size_t)m->w * m->h, nx = (size_t)(m->w + 1) * m->h, ny = (size_t)m->w * (m->h + 1);
    int k = 0;
    a[k] = &m->hh, len[k++] = n;
    a[k] = &m->qx, len[k++] = nx;
    a[k] = &m->qy, len[k++] = ny;
    if (m->qcentred) {
        a[k] = &m->qxo, len[k++] = nx;
        a[k] = &m->qyo, len[k++] = ny;
    }
    a[k] = &m->maxh, len[k++] = n;
    a[k] = &m->tmaxh, len[k++] = n;
    a[k] = &m->maxv, len[k++] = n;
    a[k] = &m->maxhaz, len[k++] = n;
    a[k] = &m->arrival, len[k++] = n;
    a[k] = &m->dur, len[k++] = n;
    return k;
}

/* The spans a resumed run needs: the wet cells, and where each flux buffer may be non-zero. */
static int sim_span_arrays(sim *m, int **a[6], size_t len[6])
{
    int k = 0;
    a[k] = &m->wet, len[k++] = 2 * (size_t)m->h;
    a[k] = &m->recx, len[k++] = 2 * (size_t)m->h;
    a[k] = &m->recy, len[k++] = 2 * (size_t)(m->h + 1);
    if (m->qcentred) {
        a[k] = &m->recxo, len[k++] = 2 * (size_t)m->h;
        a[k] = &m->recyo, len[k++] = 2 * (size_t)(m->h + 1);
    }
    return k;
}

static ct_status ckpt_write(ct_ctx *ctx, const char *path, sim *m, const sim_clock *ck, const sim_rows *rw)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    sim_clock c = *ck;
    c.nrows_g = rw->ng;
    c.nrows_m = rw->nm;
    int ok = wr(f, CKPT_MAGIC, 1, strlen(CKPT_MAGIC)) && wr(f, &m->w, sizeof m->w, 1) && wr(f, &m->h, sizeof m->h, 1) &&
             wr(f, &m->qcentred, sizeof m->qcentred, 1) && wr(f, &rw->ngau, sizeof rw->ngau, 1) && wr(f, &c, sizeof c, 1);
    float **a[12];
    size_t len[12];
    int na = sim_arrays(m, a, len);
    for (int i = 0; ok && i < na; i++)
        ok = wr(f, *a[i], sizeof(float), len[i]);
    int **sp[6];
    size_t slen[6];
    int ns = sim_span_arrays(m, sp, slen);
    for (int i = 0; ok && i < ns; i++)
        ok = wr(f, *sp[i], sizeof(int), slen[i]);
    ok = ok && wr(f, m->rhmax, sizeof *m->rhmax, (size_t)m->h) && wr(f, &m->clamp, sizeof m->clamp, 1);
    ok = ok && wr(f, rw->g, sizeof(double), (size_t)rw->ng * (1 + 2 * rw->ngau)) &&
         wr(f, rw->mb, sizeof(double), (size_t)rw->nm * MB_COLS);
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write checkpoint: %s", path, strerror(errno));
    }
    return CT_OK;
}

static ct_status ckpt_read(ct_ctx *ctx, const char *path, sim *m, sim_clock *ck, sim_rows *rw)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: no checkpoint to resume from: %s", path, strerror(errno));
    char magic[32] = {0};
    int w, h, qc, ngau;
    int ok = rd(f, magic, 1, strlen(CKPT_MAGIC)) && !strcmp(magic, CKPT_MAGIC) && rd(f, &w, sizeof w, 1) &&
             rd(f, &h, sizeof h, 1) && rd(f, &qc, sizeof qc, 1) && rd(f, &ngau, sizeof ngau, 1) && rd(f, ck, sizeof *ck, 1);
    if (!ok || w != m->w || h != m->h || qc != m->qcentred || ngau != rw->ngau) {
        fclose(f);
        return ct_error(ctx, CT_ERR_INVALID, "%s: the checkpoint is of another scenario (grid, scheme or gauges differ) "
                        "or corrupt: run without --resume", path);
    }
    float **a[12];
    size_t len[12];
    int na = sim_arrays(m, a, len);
    for (int i = 0; ok && i < na; i++)
        ok = rd(f, *a[i], sizeof(float), len[i]);
    int **sp[6];
    size_t slen[6];
    int ns = sim_span_arrays(m, sp, slen);
    for (int i = 0; ok && i < ns; i++)
        ok = rd(f, *sp[i], sizeof(int), slen[i]);
    /* the spans index the arrays (clear_outside, the row plans): a corrupt checkpoint of the
     * right size must be refused, not overrun them. x faces run to w + 1, cells and y faces to w. */
    for (int i = 0; ok && i < ns; i++) {
        int lim = *sp[i] == m->recx || *sp[i] == m->recxo ? m->w + 1 : m->w;
        for (size_t j = 0; ok && j < slen[i]; j++)
            ok = (*sp[i])[j] >= 0 && (*sp[i])[j] <= lim;
    }
    ok = ok && rd(f, m->rhmax, sizeof *m->rhmax, (size_t)m->h) && rd(f, &m->clamp, sizeof m->clamp, 1);
    int gcols = 1 + 2 * ngau;
    for (int i = 0; ok && i < ck->nrows_g; i++) {
        double row[1 + 2 * 256];
        ok = gcols <= (int)(sizeof row / sizeof row[0]) && rd(f, row, sizeof(double), (size_t)gcols) &&
             rows_push(&rw->g, &rw->ng, &rw->cap_g, gcols, row);
    }
    for (int i = 0; ok && i < ck->nrows_m; i++) {
        double row[MB_COLS];
        ok = rd(f, row, sizeof(double), MB_COLS) && rows_push(&rw->mb, &rw->nm, &rw->cap_m, MB_COLS, row);
    }
    fclose(f);
    if (!ok)
        return ct_error(ctx, CT_ERR_INVALID, "%s: truncated or corrupt checkpoint: run without --resume", path);
    return CT_OK;
}

/* --- gauge plot ------------------------------------------------------------------------- */

/* Water level at every gauge against time, as a PNG (cairo): a plain line chart. */
static ct_status plot_gauges(ct_ctx *ctx, const char *path, const sim_rows *rw, const sim_point *gau,
                             const char *title)
{
    const int W = 1000, H = 600, L = 70, R = 150, T = 40, B = 50;
    int cols = 1 + 2 * rw->ngau;
    if (rw->ng < 2)
        return CT_OK;
    double t0 = rw->g[0], t1 = rw->g[(size_t)(rw->ng - 1) * cols], y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < rw->ng; i++)
        for (int k = 0; k < rw->ngau; k++) {
            double v = rw->g[(size_t)i * cols + 2 + 2 * k];
            if (v < y0)
                y0 = v;
            if (v > y1)
                y1 = v;
        }
    if (!(y1 > y0))
        y1 = y0 + 1;
    double pad = 0.05 * (y1 - y0);
    y0 -= pad;
    y1 += pad;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, L, T, W - L - R, H - T - B);
    cairo_stroke(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    char buf[128];
    double th = (t1 - t0) / 3600;
    double step = th > 48 ? 12 : th > 12 ? 3 : th > 3 ? 1 : 0.25;
    for (double x = 0; x <= th + 1e-9; x += step) {
        double px = L + (W - L - R) * (x * 3600) / (t1 - t0);
        cairo_move_to(cr, px, H - B);
        cairo_line_to(cr, px, H - B + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%g", x + t0 / 3600);
        cairo_move_to(cr, px - 8, H - B + 18);
        cairo_show_text(cr, buf);
    }
    double ys = pow(10, floor(log10((y1 - y0) / 5)));
    for (double y = ceil(y0 / ys) * ys; y <= y1; y += ys) {
        double py = H - B - (H - T - B) * (y - y0) / (y1 - y0);
        cairo_move_to(cr, L - 5, py);
        cairo_line_to(cr, L, py);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.3g", y);
        cairo_move_to(cr, 8, py + 4);
        cairo_show_text(cr, buf);
    }
    cairo_move_to(cr, L + 250, H - 12);
    cairo_show_text(cr, "time (h)");
    cairo_move_to(cr, L, T - 15);
    snprintf(buf, sizeof buf, "%s: water level at the gauges (m)", title && *title ? title : "ct-flood");
    cairo_show_text(cr, buf);
    static const double pal[8][3] = {{0.12, 0.47, 0.71}, {1, 0.5, 0.05}, {0.17, 0.63, 0.17}, {0.84, 0.15, 0.16},
                                     {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.5, 0.5, 0.5}};
    cairo_set_line_width(cr, 1.5);
    for (int k = 0; k < rw->ngau; k++) {
        cairo_set_source_rgb(cr, pal[k % 8][0], pal[k % 8][1], pal[k % 8][2]);
        for (int i = 0; i < rw->ng; i++) {
            const double *row = rw->g + (size_t)i * cols;
            double px = L + (W - L - R) * (row[0] - t0) / (t1 - t0);
            double py = H - B - (H - T - B) * (row[2 + 2 * k] - y0) / (y1 - y0);
            if (i == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
        cairo_move_to(cr, W - R + 15, T + 20 + 18 * k);
        cairo_line_to(cr, W - R + 40, T + 20 + 18 * k);
        cairo_stroke(cr);
        cairo_move_to(cr, W - R + 45, T + 24 + 18 * k);
        cairo_show_text(cr, gau[k].name);
    }
    cairo_destroy(cr);
    cairo_surface_flush(sf);
    cairo_status_t cs = cairo_surface_write_to_png(sf, path);
    cairo_surface_destroy(sf);
    if (cs != CAIRO_STATUS_SUCCESS)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write PNG: %s", path, cairo_status_to_string(cs));
    return CT_OK;
}

/* --- the run ---------------------------------------------------------------------------- */

static ct_status sim_write_grid(ct_ctx *ctx, const domain *d, const sim *m, const float *v, int mask_dry,
                                const char *path)
{
    ct_grid *g = ct_grid_new(ctx, CT_FLOAT32, d->w, d->h);
    if (!g)
        return ct_ctx_status(ctx);
    ct_grid_set_geotransform(g, d->gt);
    ct_grid_set_crs(g, d->crs);
    ct_grid_set_nodata(g, -9999);
    float *o = ct_grid_data(g);
    size_t n = (size_t)d->w * d->h;
    for (size_t i = 0; i < n; i++)
        o[i] = m->z[i] >= SIM_ZOFF ? -9999.0f : (mask_dry && m->maxh[i] <= m->thr) ? -9999.0f : v[i];
    ct_status st = ct_grid_write_cog(ctx, g, path, NULL);
    ct_grid_free(g);
    return st;
}

static double sim_storage(const sim *m)
{
    double s = 0;
    for (int r = 0; r < m->h; r++) {
        double rs = 0;
        const float *h = m->hh + (size_t)r * m->w;
        const float *z = m->z + (size_t)r * m->w;
        for (int c = 0; c < m->w; c++)
            if (z[c] < SIM_ZOFF)
                rs += h[c];
        s += rs;
    }
    return s * m->cell_area;
}

/* The durations at time t, from sim.dur's encoding, in place: where the run ends. */
static void sim_durations(sim *m, float t)
{
    for (size_t i = 0; i < (size_t)m->w * m->h; i++)
        if (signbit(m->dur[i]))
            m->dur[i] = fmx(t + m->dur[i], 0.0f);
}

static void sim_touch_cell(sim *m, size_t i)
{
    int r = (int)(i / (size_t)m->w), c = (int)(i % (size_t)m->w);
    sim_dirty(m, i);
    if (m->hh[i] > m->rhmax[r])
        m->rhmax[r] = m->hh[i];
    if (!sim_wet(m->z[i], m->hh[i], m->thr, m->arr))
        return;
    int *sp = m->wet + 2 * r;
    if (sp[0] >= sp[1]) {
        sp[0] = c;
        sp[1] = c + 1;
    } else {
        sp[0] = c < sp[0] ? c : sp[0];
        sp[1] = c + 1 > sp[1] ? c + 1 : sp[1];
    }
}

ct_status ct_flood_simulate_run(ct_ctx *ctx, const ct_scenario *s, const ct_flood_opts *opts, const char *outdir)
{
    domain d;
    sim m = {0};
    named_series *ins = NULL;
    int nins = 0, ninf = 0, ngau = 0, nb = 0;
    sim_point *inf = NULL, *gau = NULL;
    int *inf_series = NULL;
    ct_series wl = {0}, rain = {0};
    rain_field rf = {.cur = -1};
    named_series *lser = NULL;
    int nlser = 0;
    line_set ls = {.fi = -1};
    size_t *bcells = NULL;
    ct_grid *bmask = NULL, *bmask_start = NULL;
    sim_rows rw = {0};
    sim_clock ck = {0};
    ct_atext gcsv = {0}, mcsv = {0}, scsv = {0};
    ct_stage *sg = calloc(1, sizeof *sg);
    char ckpath[1200] = "";
    int keep_partial = 0;
    if (!sg)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    ct_status st = domain_load(ctx, s, &d);
    if (st) {
        free(sg);
        return st;
    }
    long long dike_cells;
    if ((st = burn_dikes(ctx, s, &d, &dike_cells)))
        goto out;

    /* parameters */
    double duration, outint, gint = 60, ckint = 0, alpha = 0.7, theta = 0.9, thr = 0.001, arr = 0.1, debris = 0.5,
                     dtmin = 0.01, slr = 0, rain_const = 0;
    if (!ct_scenario_number(s, "duration", &duration) || duration <= 0) {
        st = ct_error(ctx, CT_ERR_USAGE, "simulate: give a positive 'duration' (e.g. duration = 72h)");
        goto out;
    }
    if (!ct_scenario_number(s, "output_interval", &outint))
        outint = duration / 10;
    if (outint <= 0) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: output_interval must be positive", ct_scenario_where(s, "output_interval"));
        goto out;
    }
    ct_scenario_number(s, "gauge_interval", &gint);
    if (gint > outint)
        gint = outint;
    ct_scenario_number(s, "checkpoint_interval", &ckint);
    ct_scenario_number(s, "alpha", &alpha);
    ct_scenario_number(s, "theta", &theta);
    ct_scenario_number(s, "depth_threshold", &thr);
    ct_scenario_number(s, "arrival_depth", &arr);
    ct_scenario_number(s, "debris_factor", &debris);
    ct_scenario_number(s, "min_timestep", &dtmin);
    ct_scenario_number(s, "slr_offset", &slr);
    ct_scenario_number(s, "rainfall", &rain_const);
    if (!(alpha > 0 && alpha <= 1)) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: alpha: %g is an unstable setting: the explicit scheme needs 0 < alpha <= 1 "
                      "(Courant condition; 0.7 is usual)", ct_scenario_where(s, "alpha"), alpha);
        goto out;
    }
    if (!(theta >= 0.5 && theta <= 1)) {
        st = ct_error(ctx, CT_ERR_INVALID, "%s: theta: %g is outside 0.5-1", ct_scenario_where(s, "theta"), theta);
        goto out;
    }
    if (!(thr > 0) || !(arr > 0) || rain_const < 0 || !(dtmin > 0)) {
        st = ct_error(ctx, CT_ERR_INVALID, "depth_threshold, arrival_depth and min_timestep must be positive, rainfall "
                      "not negative");
        goto out;
    }
    const char *scheme = ct_scenario_get(s, "scheme");
    int qcentred = scheme && !strcmp(scheme, "qcentred");

    /* boundaries, inflows, rain, gauges */
    const char *p;
    if ((p = ct_scenario_path(s, "water_level_series")) && (st = ct_series_read(ctx, p, &wl)))
        goto out;
    double *lv = NULL;
    int nlv = 0;
    if ((st = ct_scenario_numlist(ctx, s, "level", &lv, &nlv)))
        goto out;
    double level_const = nlv > 0 ? lv[0] : NAN;
    free(lv);
    if (nlv > 1)
        ct_log(ctx, CT_LOG_WARN, "%s: level: simulate uses one constant level; %g is taken", ct_scenario_where(s, "level"),
               level_const);
    int has_level = wl.n > 0 || nlv > 0;
    if (has_level) {
        if ((st = sources_mask(ctx, s, &d, &bmask)))
            goto out;
        const uint8_t *bm = ct_grid_cdata(bmask);
        size_t n = (size_t)d.w * d.h;
        for (size_t i = 0; i < n; i++)
            nb += bm[i] != 0;
        bcells = malloc((size_t)(nb ? nb : 1) * sizeof *bcells);
        if (!bcells) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        nb = 0;
        for (size_t i = 0; i < n; i++)
            if (bm[i])
                bcells[nb++] = i;
        bmask_start = bmask; /* kept for the initial condition */
        bmask = NULL;
    }
    if ((p = ct_scenario_path(s, "rainfall_series")) && (st = ct_series_read(ctx, p, &rain)))
        goto out;
    for (int i = 0; i < rain.n; i++)
        if (rain.v[i] < 0) {
            st = ct_error(ctx, CT_ERR_INVALID, "%s: negative rainfall %g mm/h at time %g", p, rain.v[i], rain.t[i]);
            goto out;
        }
    const char *rr = ct_scenario_path(s, "rainfall_raster"), *rg = ct_scenario_path(s, "rainfall_grids");
    if ((rr || rg) && (ct_scenario_get(s, "rainfall") || (rr && rg))) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: give one of rainfall, rainfall_raster and rainfall_grids",
                      ct_scenario_where(s, rr ? "rainfall_raster" : "rainfall_grids"));
        goto out;
    }
    if (rr) { /* one frame from t = 0 */
        snprintf(rf.where, sizeof rf.where, "%s: rainfall_raster", ct_scenario_where(s, "rainfall_raster"));
        size_t cap = 0;
        rf.path = calloc(1, sizeof *rf.path);
        if (!rf.path || !(rf.path[0] = strdup(rr)) || (st = series_push(ctx, &rf.fr, &cap, 0, 0))) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
    } else if (rg) {
        snprintf(rf.where, sizeof rf.where, "%s: rainfall_grids", ct_scenario_where(s, "rainfall_grids"));
        if ((st = rain_grids_read(ctx, rg, &rf)))
            goto out;
    }
    if ((p = ct_scenario_path(s, "inflow_lines"))) {
        const char *sp = ct_scenario_path(s, "inflow_lines_series");
        if (!sp) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: inflow_lines needs an inflow_lines_series (m3/s per line)",
                          ct_scenario_where(s, "inflow_lines"));
            goto out;
        }
        if ((st = read_bdy(ctx, sp, &lser, &nlser)))
            goto out;
        ls.d = &d;
        ls.path = p;
        ls.field = ct_scenario_get(s, "inflow_lines_field");
        ls.ser = lser;
        ls.nser = nlser;
        if ((st = inflow_lines_read(ctx, &d, &ls)))
            goto out;
    } else if (ct_scenario_get(s, "inflow_lines_series")) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: inflow_lines_series without inflow_lines",
                      ct_scenario_where(s, "inflow_lines_series"));
        goto out;
    }
    if ((p = ct_scenario_path(s, "inflow"))) {
        const char *sp = ct_scenario_path(s, "inflow_series");
        if (!sp) {
            st = ct_error(ctx, CT_ERR_USAGE, "%s: inflow needs an inflow_series", ct_scenario_where(s, "inflow"));
            goto out;
        }
        if ((st = read_bdy(ctx, sp, &ins, &nins)) || (st = read_points(ctx, "inflow", p, &d, 0, &inf, &ninf)))
            goto out;
        inf_series = malloc((size_t)ninf * sizeof *inf_series);
        if (!inf_series) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (int i = 0; i < ninf; i++) {
            inf_series[i] = -1;
            for (int k = 0; k < nins; k++)
                if (!strcmp(inf[i].name, ins[k].name) || !strcmp(ins[k].name, "*") || !strcmp(inf[i].name, "*"))
                    inf_series[i] = inf_series[i] < 0 ? k : inf_series[i];
            if (inf_series[i] < 0) {
                st = ct_error(ctx, CT_ERR_INVALID, "%s: inflow point %d names series '%s', which %s does not have", p, i + 1,
                              inf[i].name, sp);
                goto out;
            }
        }
    } else if (ct_scenario_get(s, "inflow_series")) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: inflow_series without inflow points", ct_scenario_where(s, "inflow_series"));
        goto out;
    }
    if ((p = ct_scenario_path(s, "gauges")) && (st = read_points(ctx, "gauges", p, &d, 1, &gau, &ngau)))
        goto out;
    if (ngau > 256) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: %d gauges: at most 256", p, ngau);
        goto out;
    }
    if (!has_level && !ninf && !ls.nln && !rain.n && !rf.fr.n && rain_const == 0 && !ct_scenario_get(s, "initial_level")) {
        st = ct_error(ctx, CT_ERR_USAGE, "simulate: no water enters: give a level or water_level_series, inflow points, "
                      "or rain");
        goto out;
    }

    /* state */
    if ((st = sim_alloc(ctx, &m, &d, qcentred)) || (st = load_manning(ctx, s, &d, &m)))
        goto out;
    m.thr = (float)thr;
    m.arr = (float)arr;
    m.debris = (float)debris;
    m.theta = (float)theta;
    m.alpha = (float)alpha;
    m.qcentred = qcentred;
    rw.ngau = ngau;
    if (rf.fr.n) {
        m.rain = falloc((size_t)m.w * m.h, 0);
        m.rainsp = spans_new(m.h);
        if (!m.rain || !m.rainsp) {
            st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((st = rain_frame(ctx, &d, &m, &rf, 0))) /* the first frame, read now: a bad raster fails before the run */
            goto out;
    }

    /* output folder: a fixed partial folder, kept by a killed or cancelled run for --resume */
    if ((st = make_dir(ctx, outdir)))
        goto out;
    snprintf(sg->outdir, sizeof sg->outdir, "%s", outdir);
    snprintf(sg->dir, sizeof sg->dir, "%s/.ct-flood.partial", outdir);
    snprintf(ckpath, sizeof ckpath, "%s/checkpoint.bin", sg->dir);
    if (opts->resume) {
        if ((st = ckpt_read(ctx, ckpath, &m, &ck, &rw)))
            goto out;
        partial_clear(sg->dir, 1);
        ct_log(ctx, CT_LOG_INFO, "resuming at t = %.1f s (step %lld)", ck.t, ck.steps);
    } else {
        partial_clear(sg->dir, 0); /* a stale partial run, if any: start afresh */
        ck.next_out = outint;
        ck.next_gauge = 0;
        ck.next_ckpt = ckint > 0 ? ckint : INFINITY;
        ck.dt_min_seen = INFINITY;
    }
    if (mkdir(sg->dir, 0777) && errno != EEXIST) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot create folder: %s", sg->dir, strerror(errno));
        goto out;
    }
    sg->open = 1;
    if (!opts->resume) {
        double il;
        if (ct_scenario_number(s, "initial_level", &il)) {
            for (size_t i = 0; i < (size_t)m.w * m.h; i++)
                if (m.z[i] < SIM_ZOFF && il > m.z[i]) {
                    m.hh[i] = (float)(il - m.z[i]);
                    sim_touch_cell(&m, i);
                }
        } else if (nb && bmask_start) {
            /* by default the run starts from the boundary's first level spread, bathtub-like, to
             * the cells connected to it: rivers and canals full, not an empty channel that the
             * first step would fill with a supercritical bore (which the local inertial
             * equations do not model) */
            double H0 = (wl.n ? ct_series_at(&wl, 0) : level_const) + slr;
            ct_grid *L0 = NULL;
            if ((st = ct_flood_connect_level(ctx, d.dem, bmask_start, CT_CONN4, H0, &L0)))
                goto out;
            const float *l0 = ct_grid_cdata(L0);
            float fH0 = (float)H0;
            for (size_t i = 0; i < (size_t)m.w * m.h; i++)
                if (m.z[i] < SIM_ZOFF && l0[i] < fH0) {
                    m.hh[i] = (float)(H0 - m.z[i]);
                    sim_touch_cell(&m, i);
                }
            ct_grid_free(L0);
        }
        /* t = 0: the boundary cells at their level */
        double H0 = (wl.n ? ct_series_at(&wl, 0) : level_const) + slr;
        for (int i = 0; i < nb; i++) {
            float hn = (float)(H0 - m.z[bcells[i]]);
            m.hh[bcells[i]] = hn > 0 ? hn : 0;
            sim_touch_cell(&m, bcells[i]);
        }
        ck.storage0 = sim_storage(&m);
    }

    /* the time loop */
    int nthreads = ct_ctx_threads(ctx);
    float dxy = m.dx < m.dy ? m.dx : m.dy;
    double next_progress = ck.t;
    const double eps = 1e-6;
    double t_solver = now(), t_io = 0;
    while (ck.t < duration - eps) {
        float hmax = 0;
        int bad = 0;
        for (int r = 0; r < m.h; r++) {
            hmax = fmx(hmax, m.rhmax[r]);
            bad |= m.rflag[r] & 2;
        }
        if (bad || !isfinite(hmax) || hmax > 1e4f) {
            st = ct_error(ctx, CT_ERR_INVALID, "unstable: depths became %s at t = %.1f s: lower alpha, or check the DEM "
                          "and the inflows", isfinite(hmax) ? "absurd" : "NaN", ck.t);
            goto out;
        }
        double dt = alpha * dxy / sqrt(SIM_G * (hmax > 0.01f ? hmax : 0.01));
        if (dt < dtmin) {
            st = ct_error(ctx, CT_ERR_INVALID, "unstable: the time step collapsed to %.3g s (min_timestep %g s) at t = %.1f s, "
                          "with %.2f m of water: check the inflows and the DEM, or lower alpha", dt, dtmin, ck.t, hmax);
            goto out;
        }
        if (m.rain && (st = rain_frame(ctx, &d, &m, &rf, ck.t)))
            goto out;
        double tev = duration;
        if (rf.cur + 1 < rf.fr.n && rf.fr.t[rf.cur + 1] < tev) /* steps end where a rain frame starts */
            tev = rf.fr.t[rf.cur + 1];
        if (ck.next_out < tev)
            tev = ck.next_out;
        if (ngau && ck.next_gauge < tev)
            tev = ck.next_gauge;
        if (ck.next_ckpt < tev)
            tev = ck.next_ckpt;
        if (ck.t + dt > tev)
            dt = tev - ck.t;
        int gauge_now = ngau && ck.next_gauge <= ck.t + eps;
        if (!gauge_now || ck.t > 0 || opts->resume) {
            /* rain: mm/h (uniform) or a factor (of a field) at mid-step, applied as mm/h x rain_k */
            double rs = rain.n ? ct_series_at(&rain, ck.t + 0.5 * dt) : m.rain ? 1 : rain_const;
            m.rain_u = m.rain ? 0 : (float)rs;
            m.rain_k = (float)((m.rain ? rs : 1) * dt / 3.6e6);
            /* the whole grid on the first step (cells wet from the start but below the
             * threshold get their maxima) and while uniform rain falls; where a field rains */
            sim_plan(&m, m.rain_u > 0 || ck.steps == 0, m.rain && rs > 0 && rf.sum > 0 ? m.rainsp : NULL, nthreads);
            if (qcentred) {
                float *tq = m.qx;
                m.qx = m.qxo;
                m.qxo = tq;
                tq = m.qy;
                m.qy = m.qyo;
                m.qyo = tq;
                int *ts = m.recx;
                m.recx = m.recxo;
                m.recxo = ts;
                ts = m.recy;
                m.recy = m.recyo;
                m.recyo = ts;
            }
            float fdt = (float)dt, tnew = (float)(ck.t + dt);
            m.t0 = (float)ck.t;
            sim_step(&m, fdt, tnew);
            if (!sim_fix_negative(&m, fdt)) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                goto out;
            }
            /* the volume as the cells got it: float depth per cell, summed in double */
            ck.rain += m.rain ? rf.sum * (double)m.rain_k * m.cell_area
                              : (double)(m.rain_u * m.rain_k) * m.cell_area * (double)m.nvalid;
            for (int i = 0; i < ls.nln; i++) {
                const inflow_line *ln = &ls.ln[i];
                double q = ct_series_at(&lser[ln->series].s, ck.t + 0.5 * dt); /* m³/s for the line */
                for (int k = ln->first; k < ln->first + ln->n; k++) {
                    m.hh[ls.cell[k]] += (float)(q * ls.wt[k] * dt / m.cell_area);
                    sim_touch_cell(&m, ls.cell[k]);
                }
                ck.inflow += q * dt;
            }
            for (int i = 0; i < ninf; i++) {
                double q = ct_series_at(&ins[inf_series[i]].s, ck.t + 0.5 * dt) * m.dx; /* m²/s per unit width */
                size_t c = (size_t)inf[i].row * m.w + inf[i].col;
                m.hh[c] += (float)(q * dt / m.cell_area);
                ck.inflow += q * dt;
                sim_touch_cell(&m, c);
            }
            if (nb) {
                double H = (wl.n ? ct_series_at(&wl, ck.t + dt) : level_const) + slr;
                for (int i = 0; i < nb; i++) {
                    size_t c = bcells[i];
                    float hn = (float)(H - m.z[c]);
                    hn = hn > 0 ? hn : 0;
                    double dv = ((double)hn - m.hh[c]) * m.cell_area;
                    if (dv > 0)
                        ck.bnd_in += dv;
                    else
                        ck.bnd_out -= dv;
                    m.hh[c] = hn;
                    sim_touch_cell(&m, c);
                }
            }
            ck.t += dt;
            ck.steps++;
            ck.cell_updates += (double)m.nact_cells;
            ck.dt_last = dt;
            if (dt < ck.dt_min_seen && ck.t < tev - eps)
                ck.dt_min_seen = dt;
        }
        if (ngau && ck.next_gauge <= ck.t + eps) {
            double row[1 + 2 * 256];
            row[0] = ck.t;
            for (int k = 0; k < ngau; k++) {
                size_t c = (size_t)gau[k].row * m.w + gau[k].col;
                row[1 + 2 * k] = m.hh[c];
                row[2 + 2 * k] = m.hh[c] + m.z[c];
            }
            if (!rows_push(&rw.g, &rw.ng, &rw.cap_g, 1 + 2 * ngau, row)) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                goto out;
            }
            ck.next_gauge += gint;
        }
        if (ck.next_out <= ck.t + eps || ck.t >= duration - eps) {
            double clamp = m.clamp * m.cell_area;
            double stor = sim_storage(&m), in = ck.inflow + ck.rain + ck.bnd_in;
            double err = stor - ck.storage0 - (in - ck.bnd_out) - clamp;
            double row[MB_COLS] = {ck.t, (double)ck.steps, ck.dt_last, ck.inflow, ck.rain, ck.bnd_in, ck.bnd_out, stor,
                                   err, in > 0 ? 100 * err / in : 0};
            if (!rows_push(&rw.mb, &rw.nm, &rw.cap_m, MB_COLS, row)) {
                st = ct_error(ctx, CT_ERR_NOMEM, "out of memory");
                goto out;
            }
            char name[64];
            snprintf(name, sizeof name, "depth-%07.0fs.tif", ck.t);
            ct_grid *g = ct_grid_new(ctx, CT_FLOAT32, d.w, d.h);
            if (!g) {
                st = ct_ctx_status(ctx);
                goto out;
            }
            ct_grid_set_geotransform(g, d.gt);
            ct_grid_set_crs(g, d.crs);
            ct_grid_set_nodata(g, -9999);
            float *o = ct_grid_data(g);
            for (size_t i = 0; i < (size_t)d.w * d.h; i++)
                o[i] = m.z[i] >= SIM_ZOFF ? -9999.0f : m.hh[i];
            char sp[1400];
            snprintf(sp, sizeof sp, "%s/%s", sg->dir, name);
            /* the snapshot's own progress would make the run's bar jump back and forth */
            ct_progress_fn pf = ctx->progress;
            ctx->progress = NULL;
            double tw0 = now();
            st = ct_grid_write_cog(ctx, g, sp, NULL);
            t_io += now() - tw0;
            ctx->progress = pf;
            ct_grid_free(g);
            if (st)
                goto out;
            while (ck.next_out <= ck.t + eps)
                ck.next_out += outint;
        }
        if (ck.next_ckpt <= ck.t + eps && ck.t < duration - eps) {
            ck.next_ckpt += ckint; /* saved advanced, so that a resumed run does not stop here again */
            if ((st = ckpt_write(ctx, ckpath, &m, &ck, &rw)))
                goto out;
            ct_log(ctx, CT_LOG_DEBUG, "checkpoint at t = %.1f s", ck.t);
        }
        if (ck.t >= next_progress) {
            next_progress = ck.t + duration / 100;
            if ((st = ct_progress(ctx, ck.t / duration, "simulating"))) {
                keep_partial = 1;
                goto out;
            }
        }
    }

    ck.solver_s += now() - t_solver - t_io;
    sim_durations(&m, (float)ck.t);
    /* the maxima, the tables and the plot */
    {
        struct {
            const char *name;
            const float *v;
            int mask;
        } outs[] = {{"max_depth.tif", m.maxh, 0},     {"max_velocity.tif", m.maxv, 0}, {"time_of_max.tif", m.tmaxh, 1},
                    {"arrival_time.tif", m.arrival, 0}, {"duration.tif", m.dur, 0},   {"hazard.tif", m.maxhaz, 0}};
        char sp[1400];
        for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
            snprintf(sp, sizeof sp, "%s/%s", sg->dir, outs[i].name);
            if ((st = sim_write_grid(ctx, &d, &m, outs[i].v, outs[i].mask, sp)))
                goto out;
        }
        snprintf(sp, sizeof sp, "%s/mass_balance.csv", sg->dir);
        if ((st = ct_flood_atext_open(ctx, sp, &mcsv)))
            goto out;
        fprintf(mcsv.f, "time_s,steps,dt_s,inflow_m3,rain_m3,boundary_in_m3,boundary_out_m3,storage_m3,error_m3,error_pct\n");
        for (int i = 0; i < rw.nm; i++) {
            const double *r = rw.mb + (size_t)i * MB_COLS;
            fprintf(mcsv.f, "%.3f,%.0f,%.4f,%.3f,%.3f,%.3f,%.3f,%.3f,%.4f,%.6f\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                    r[7], r[8], r[9]);
        }
        if ((st = ct_flood_atext_commit(ctx, &mcsv)))
            goto out;
        if (ngau) {
            snprintf(sp, sizeof sp, "%s/gauges.csv", sg->dir);
            if ((st = ct_flood_atext_open(ctx, sp, &gcsv)))
                goto out;
            fprintf(gcsv.f, "time_s");
            for (int k = 0; k < ngau; k++)
                fprintf(gcsv.f, ",%s_level_m", gau[k].name);
            for (int k = 0; k < ngau; k++)
                fprintf(gcsv.f, ",%s_depth_m", gau[k].name);
            fputc('\n', gcsv.f);
            int cols = 1 + 2 * ngau;
            for (int i = 0; i < rw.ng; i++) {
                const double *r = rw.g + (size_t)i * cols;
                fprintf(gcsv.f, "%.1f", r[0]);
                for (int k = 0; k < ngau; k++)
                    fprintf(gcsv.f, ",%.4f", r[2 + 2 * k]);
                for (int k = 0; k < ngau; k++)
                    fprintf(gcsv.f, ",%.4f", r[1 + 2 * k]);
                fputc('\n', gcsv.f);
            }
            if ((st = ct_flood_atext_commit(ctx, &gcsv)))
                goto out;
            snprintf(sp, sizeof sp, "%s/gauges_summary.csv", sg->dir);
            if ((st = ct_flood_atext_open(ctx, sp, &scsv)))
                goto out;
            fprintf(scsv.f, "gauge,x,y,ground_m,peak_level_m,time_of_peak_s,arrival_time_s,max_depth_m\n");
            for (int k = 0; k < ngau; k++) {
                double pk = -INFINITY, tpk = 0, tarr = -1, dmax = 0;
                for (int i = 0; i < rw.ng; i++) {
                    const double *r = rw.g + (size_t)i * cols;
                    if (r[2 + 2 * k] > pk) {
                        pk = r[2 + 2 * k];
                        tpk = r[0];
                    }
                    if (tarr < 0 && r[1 + 2 * k] >= arr)
                        tarr = r[0];
                    if (r[1 + 2 * k] > dmax)
                        dmax = r[1 + 2 * k];
                }
                size_t c = (size_t)gau[k].row * m.w + gau[k].col;
                fprintf(scsv.f, "%s,%.3f,%.3f,%.4f,%.4f,%.1f,", gau[k].name, gau[k].x, gau[k].y, m.z[c], pk, tpk);
                if (tarr >= 0)
                    fprintf(scsv.f, "%.1f", tarr);
                fprintf(scsv.f, ",%.4f\n", dmax);
            }
            if ((st = ct_flood_atext_commit(ctx, &scsv)))
                goto out;
            snprintf(sp, sizeof sp, "%s/gauges.png", sg->dir);
            if ((st = plot_gauges(ctx, sp, &rw, gau, ct_scenario_get(s, "name"))))
                goto out;
        }
    }
    /* move everything into place */
    unlink(ckpath);
    {
        DIR *dd = opendir(sg->dir);
        struct dirent *de;
        char a[1400], b[1400];
        while (dd && (de = readdir(dd))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(a, sizeof a, "%s/%s", sg->dir, de->d_name);
            snprintf(b, sizeof b, "%s/%s", outdir, de->d_name);
            if (ct_raster_replace(a, b)) {
                st = ct_error(ctx, CT_ERR_IO, "%s: cannot move into place: %s", b, strerror(errno));
                break;
            }
        }
        if (dd)
            closedir(dd);
        if (st)
            goto out;
        rmdir(sg->dir);
        sg->open = 0;
    }
    {
        FILE *o = opts->out ? opts->out : stdout;
        const double *last = rw.nm ? rw.mb + (size_t)(rw.nm - 1) * MB_COLS : NULL;
        double wetmax = 0;
        long long flooded = 0;
        for (size_t i = 0; i < (size_t)m.w * m.h; i++)
            if (m.z[i] < SIM_ZOFF && m.maxh[i] >= m.arr) {
                flooded++;
                if (m.maxh[i] > wetmax)
                    wetmax = m.maxh[i];
            }
        if (opts->json) {
            json_object *doc = json_object_new_object();
            const char *name = ct_scenario_get(s, "name");
            json_object_object_add(doc, "scenario", json_object_new_string(name ? name : ""));
            json_object_object_add(doc, "model", json_object_new_string("simulate"));
            json_object_object_add(doc, "scheme", json_object_new_string(qcentred ? "qcentred" : "bates"));
            json_object_object_add(doc, "duration_s", json_object_new_double(duration));
            json_object_object_add(doc, "steps", json_object_new_int64(ck.steps));
            json_object_object_add(doc, "min_dt_s", json_object_new_double(isfinite(ck.dt_min_seen) ? ck.dt_min_seen : 0));
            json_object_object_add(doc, "cell_updates", json_object_new_double(ck.cell_updates));
            json_object_object_add(doc, "solver_s", json_object_new_double(ck.solver_s));
            json_object_object_add(doc, "cell_updates_per_s",
                                   json_object_new_double(ck.solver_s > 0 ? ck.cell_updates / ck.solver_s : 0));
            json_object_object_add(doc, "mean_active_cells",
                                   json_object_new_double(ck.steps ? ck.cell_updates / (double)ck.steps : 0));
            json_object_object_add(doc, "flooded_cells", json_object_new_int64(flooded));
            json_object_object_add(doc, "flooded_area_ha", json_object_new_double(flooded * m.cell_area / 1e4));
            json_object_object_add(doc, "max_depth_m", json_object_new_double(wetmax));
            if (last) {
                json_object_object_add(doc, "inflow_m3", json_object_new_double(last[3]));
                json_object_object_add(doc, "rain_m3", json_object_new_double(last[4]));
                json_object_object_add(doc, "boundary_in_m3", json_object_new_double(last[5]));
                json_object_object_add(doc, "boundary_out_m3", json_object_new_double(last[6]));
                json_object_object_add(doc, "storage_m3", json_object_new_double(last[7]));
                json_object_object_add(doc, "mass_error_m3", json_object_new_double(last[8]));
                json_object_object_add(doc, "mass_error_pct", json_object_new_double(last[9]));
            }
            json_object *ga = json_object_new_array();
            int cols = 1 + 2 * ngau;
            for (int k = 0; k < ngau; k++) {
                double pk = -INFINITY, tpk = 0, tarr = -1;
                for (int i = 0; i < rw.ng; i++) {
                    const double *r = rw.g + (size_t)i * cols;
                    if (r[2 + 2 * k] > pk) {
                        pk = r[2 + 2 * k];
                        tpk = r[0];
                    }
                    if (tarr < 0 && r[1 + 2 * k] >= arr)
                        tarr = r[0];
                }
                json_object *go = json_object_new_object();
                json_object_object_add(go, "name", json_object_new_string(gau[k].name));
                json_object_object_add(go, "peak_level_m", json_object_new_double(pk));
                json_object_object_add(go, "time_of_peak_s", json_object_new_double(tpk));
                json_object_object_add(go, "arrival_time_s", tarr >= 0 ? json_object_new_double(tarr) : NULL);
                json_object_array_add(ga, go);
            }
            json_object_object_add(doc, "gauges", ga);
            fprintf(o, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
            json_object_put(doc);
        } else {
            fprintf(o, "simulated %.0f s in %lld steps (%s scheme); flooded (>= %.2f m) %.2f ha, deepest %.3f m\n",
                    duration, ck.steps, qcentred ? "q-centred" : "Bates", arr, flooded * m.cell_area / 1e4, wetmax);
            if (last)
                fprintf(o, "mass balance: in %.1f m3 (inflow %.1f, rain %.1f, boundary %.1f), out %.1f m3, stored %.1f m3, "
                        "error %.3g m3 (%.4f %% of inflow)\n", last[3] + last[4] + last[5], last[3], last[4], last[5],
                        last[6], last[7], last[8], last[9]);
        }
    }
out:
    ct_flood_atext_abort(&gcsv);
    ct_flood_atext_abort(&mcsv);
    ct_flood_atext_abort(&scsv);
    if (st == CT_ERR_CANCELLED)
        keep_partial = 1;
    if (sg->open && !keep_partial) {
        /* a failed run leaves nothing half-written; a cancelled one keeps its checkpoint */
        partial_clear(sg->dir, 0);
        rmdir(sg->dir);
    }
    free(sg);
    free(rw.g);
    free(rw.mb);
    free(bcells);
    ct_grid_free(bmask);
    ct_grid_free(bmask_start);
    free(inf);
    free(inf_series);
    free(gau);
    for (int i = 0; i < nins; i++)
        ct_series_free(&ins[i].s);
    free(ins);
    ct_series_free(&wl);
    ct_series_free(&rain);
    rain_field_free(&rf);
    for (int i = 0; i < nlser; i++)
        ct_series_free(&lser[i].s);
    free(lser);
    free(ls.ln);
    free(ls.cell);
    free(ls.wt);
    sim_free(&m);
    domain_free(&d);
    return st;
}
