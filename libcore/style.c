/* style.c — ctgis style files and GDAL color-relief ramps → ct_tile_style. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ct/style.h"

void ct_style_free(ct_tile_style *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->stops);
    free(s->field);
    for (int i = 0; i < s->nclasses; i++) {
        free(s->classes[i].key);
        free(s->classes[i].label);
    }
    free(s->classes);
    free(s);
}

/* Splits a line into at most max tokens in place; seps are the separators. */
static int split(char *line, char **tok, int max, const char *seps)
{
    int n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p && strchr(seps, *p))
            p++;
        if (!*p)
            break;
        tok[n++] = p;
        while (*p && !strchr(seps, *p))
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_colour(const char *s, ct_rgba *c)
{
    if (!strcasecmp(s, "transparent")) {
        *c = (ct_rgba){0, 0, 0, 0};
        return 1;
    }
    size_t n = strlen(s);
    if (s[0] != '#' || (n != 7 && n != 9))
        return 0;
    uint8_t v[4] = {0, 0, 0, 255};
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        int a = hexval(s[1 + 2 * i]), b = hexval(s[2 + 2 * i]);
        if (a < 0 || b < 0)
            return 0;
        v[i] = (uint8_t)(a * 16 + b);
    }
    *c = (ct_rgba){v[0], v[1], v[2], v[3]};
    return 1;
}

static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && !errno && isfinite(*v);
}

static int add_stop(ct_tile_style *s, double v, ct_rgba c)
{
    if (ct_resize(&s->stops, (size_t)s->nstops + 1, sizeof *s->stops))
        return 0;
    s->stops[s->nstops++] = (ct_ramp_stop){v, c};
    return 1;
}

/* A GDAL color-relief line's first token: a number, "nv", or a percentage. */
static int looks_color_relief(const char *tok)
{
    double v;
    return !strcasecmp(tok, "nv") || parse_num(tok, &v) || (strlen(tok) > 1 && tok[strlen(tok) - 1] == '%');
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        st = ct_error(ctx, CT_ERR_FORMAT, __VA_ARGS__);                                            \
        goto out;                                                                                  \
    } while (0)

ct_status ct_style_load(ct_ctx *ctx, const char *path, ct_tile_style **out)
{
    ct_status st = CT_OK;
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return ct_error(ctx, CT_ERR_IO, "%s: cannot open style: %s", path, strerror(errno));
    ct_tile_style *s = calloc(1, sizeof *s);
    if (!s) {
        fclose(f);
        return ct_error(ctx, CT_ERR_NOMEM, "%s: out of memory", path);
    }
    s->azimuth = 315;
    s->altitude = 45;
    s->zfactor = 1;
    s->outline_width = 1;
    s->line_width = 1;
    int below_set = 0, above_set = 0, relief = -1;
    char line[4096];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t L = strlen(line);
        if (L == sizeof line - 1 && line[L - 1] != '\n')
            FAIL("%s:%d: line too long", path, ln);
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        /* trailing comment: a '#' after a blank, followed by a blank or the end */
        for (char *q = p + 1; *q; q++)
            if (*q == '#' && isspace((unsigned char)q[-1]) && (!q[1] || isspace((unsigned char)q[1]))) {
                *q = '\0';
                break;
            }
        char *tok[64] = {0};
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", p);
        if (relief < 0) {
            char *t0[2];
            char c2[4096];
            snprintf(c2, sizeof c2, "%s", p);
            relief = split(c2, t0, 1, " \t,:") == 1 && looks_color_relief(t0[0]);
        }
        if (relief) {
            int n = split(p, tok, 6, " \t,:");
            double v;
            ct_rgba c = {0, 0, 0, 255};
            int ok = n >= 4;
            for (int i = 1; ok && i < n && i < 5; i++) {
                double cv;
                ok = parse_num(tok[i], &cv) && cv >= 0 && cv <= 255;
                if (ok)
                    ((uint8_t *)&c)[i - 1] = (uint8_t)lrint(cv);
            }
            if (!ok)
                FAIL("%s:%d: a color-relief line is VALUE R G B [A] (0-255)", path, ln);
            if (!strcasecmp(tok[0], "nv")) {
                s->nodata = c;
                continue;
            }
            if (tok[0][strlen(tok[0]) - 1] == '%')
                FAIL("%s:%d: percentages of the value range are not supported: give values", path, ln);
            if (!parse_num(tok[0], &v))
                FAIL("%s:%d: '%s' is not a number", path, ln, tok[0]);
            if (s->nstops && v <= s->stops[s->nstops - 1].value)
                FAIL("%s:%d: value %g is not above the previous one", path, ln, v);
            if (!add_stop(s, v, c))
                FAIL("%s: out of memory", path);
            continue;
        }
        int n = split(p, tok, 64, " \t");
        const char *k = tok[0];
        double v[4];
        ct_rgba c;
        if (!strcmp(k, "name") || !strcmp(k, "source")) {
            if (n < 2)
                FAIL("%s:%d: %s needs a value", path, ln, k);
            if (!strcmp(k, "name")) {
                free(s->name);
                s->name = strdup(tok[1]);
            }
        } else if (!strcmp(k, "interpolate")) {
            if (n != 2 || (strcmp(tok[1], "linear") && strcmp(tok[1], "discrete")))
                FAIL("%s:%d: interpolate is linear or discrete", path, ln);
            s->discrete = !strcmp(tok[1], "discrete");
        } else if (!strcmp(k, "stop")) {
            if (n != 3 || !parse_num(tok[1], &v[0]) || !parse_colour(tok[2], &c))
                FAIL("%s:%d: stop needs VALUE COLOUR (#RRGGBB, #RRGGBBAA or transparent)", path, ln);
            if (s->nstops && v[0] <= s->stops[s->nstops - 1].value)
                FAIL("%s:%d: stop %g is not above the previous one", path, ln, v[0]);
            if (!add_stop(s, v[0], c))
                FAIL("%s: out of memory", path);
        } else if (!strcmp(k, "below") || !strcmp(k, "above") || !strcmp(k, "nodata") || !strcmp(k, "default")) {
            if (n != 2 || !parse_colour(tok[1], &c))
                FAIL("%s:%d: %s needs one COLOUR (#RRGGBB, #RRGGBBAA or transparent)", path, ln, k);
            if (k[0] == 'b') {
                s->below = c;
                below_set = 1;
            } else if (k[0] == 'a') {
                s->above = c;
                above_set = 1;
            } else if (k[0] == 'n')
                s->nodata = c;
            else
                s->fill_default = c;
        } else if (!strcmp(k, "hillshade")) {
            int ok = n >= 2 && n <= 5;
            for (int i = 1; ok && i < n; i++)
                ok = parse_num(tok[i], &v[i - 1]);
            if (!ok || v[0] < 0 || v[0] > 1 || (n > 3 && (v[2] <= 0 || v[2] > 90)) || (n > 4 && v[3] <= 0))
                FAIL("%s:%d: hillshade needs STRENGTH (0-1) [AZIMUTH [ALTITUDE (0-90] [ZFACTOR (> 0)]]]", path, ln);
            s->hillshade = v[0];
            if (n > 2)
                s->azimuth = v[1];
            if (n > 3)
                s->altitude = v[2];
            if (n > 4)
                s->zfactor = v[3];
        } else if (!strcmp(k, "field")) {
            if (n != 2)
                FAIL("%s:%d: field needs one NAME", path, ln);
            free(s->field);
            s->field = strdup(tok[1]);
        } else if (!strcmp(k, "class")) {
            if (n < 3 || !parse_colour(tok[2], &c))
                FAIL("%s:%d: class needs KEY COLOUR [LABEL]", path, ln);
            for (int i = 0; i < s->nclasses; i++)
                if (!strcmp(s->classes[i].key, tok[1]))
                    FAIL("%s:%d: class %s given twice", path, ln, tok[1]);
            if (ct_resize(&s->classes, (size_t)s->nclasses + 1, sizeof *s->classes))
                FAIL("%s: out of memory", path);
            ct_style_class *cl = &s->classes[s->nclasses++];
            cl->key = strdup(tok[1]);
            cl->fill = c;
            cl->label = NULL;
            if (n > 3) { /* the label is the rest of the original line */
                char *lab = strstr(copy, tok[2]) + strlen(tok[2]);
                while (isspace((unsigned char)*lab))
                    lab++;
                cl->label = strdup(lab);
            }
        } else if (!strcmp(k, "outline")) {
            if (n != 3 || !parse_colour(tok[1], &c) || !parse_num(tok[2], &v[0]) || v[0] < 0)
                FAIL("%s:%d: outline needs COLOUR WIDTH", path, ln);
            s->outline = c;
            s->outline_width = v[0];
        } else if (!strcmp(k, "line-width")) {
            if (n != 2 || !parse_num(tok[1], &v[0]) || v[0] <= 0)
                FAIL("%s:%d: line-width needs a WIDTH > 0", path, ln);
            s->line_width = v[0];
        } else
            FAIL("%s:%d: unknown key '%s'", path, ln, k);
    }
    if (ferror(f)) {
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (!s->nstops && !s->nclasses)
        FAIL("%s: no ramp stops and no classes", path);
    if (s->nstops) {
        if (!below_set)
            s->below = s->stops[0].colour;
        if (!above_set)
            s->above = s->stops[s->nstops - 1].colour;
    }
    if (!s->name) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        s->name = strndup(b, strcspn(b, "."));
    }
out:
    fclose(f);
    if (st) {
        ct_style_free(s);
        return st;
    }
    *out = s;
    return CT_OK;
}

static int is_file(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

ct_status ct_style_find(ct_ctx *ctx, const char *name, char **path)
{
    *path = NULL;
    if (strchr(name, '/') || is_file(name)) {
        *path = strdup(name);
        return *path ? CT_OK : ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    }
    int has_sfx = strlen(name) > 6 && !strcmp(name + strlen(name) - 6, ".style");
    char dirs[8][PATH_MAX];
    int nd = 0;
    const char *env = getenv("CT_STYLE_PATH");
    if (env && *env) {
        char e[PATH_MAX];
        snprintf(e, sizeof e, "%s", env);
        for (char *save = NULL, *d = strtok_r(e, ":", &save); d && nd < 4; d = strtok_r(NULL, ":", &save))
            snprintf(dirs[nd++], PATH_MAX, "%s", d);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *sl = strrchr(exe, '/');
        if (sl) {
            *sl = '\0';
            snprintf(dirs[nd++], PATH_MAX, "%.*s/../../styles", PATH_MAX - 20, exe);
            snprintf(dirs[nd++], PATH_MAX, "%.*s/../share/ctgis/styles", PATH_MAX - 30, exe);
        }
    }
    char tried[2048] = "";
    for (int i = 0; i < nd; i++) {
        char *cand = NULL;
        if (asprintf(&cand, "%s/%s%s", dirs[i], name, has_sfx ? "" : ".style") < 0)
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        if (is_file(cand)) {
            char *r = realpath(cand, NULL);
            *path = r ? r : cand;
            if (r)
                free(cand);
            return CT_OK;
        }
        free(cand);
        size_t tl = strlen(tried);
        snprintf(tried + tl, sizeof tried - tl, "%s%.500s", tl ? ", " : "", dirs[i]);
    }
    return ct_error(ctx, CT_ERR_IO, "style %s: not found (looked in %s; set CT_STYLE_PATH)", name, tried);
}
