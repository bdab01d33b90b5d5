/*
 * crs.c — CRSs and transformations on PROJ, with VN-2000 held to the official EPSG:6960.
 *
 * How the official shift is forced: every CRS on the VN-2000 datum is kept as a PROJ BoundCRS
 * whose transformation to WGS 84 is a copy of EPSG:6960 built here from its numbers. PROJ then
 * takes the datum step from the BoundCRS and never looks in its database for a VN-2000 → WGS 84
 * operation, so it cannot pick EPSG:5194 in the Mekong delta. Between two VN-2000 CRSs the
 * unbound base CRSs are used, so no datum shift is applied at all.
 *
 * Each ct_crs and ct_transform owns its PJ_CONTEXT, so that objects can live on different
 * threads; PROJ's log output goes to the object's own buffer, never to stderr.
 */
#include "ct/crs.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <proj.h>
#include <proj_experimental.h>

/* EPSG:6960 (Decision 05/2007/QĐ-BTNMT) as EPSG records it: Coordinate Frame rotation,
 * translations in metres, rotations in arc-seconds, scale in ppm. Its +towgs84 (Position
 * Vector) form has the three rotation signs flipped; see official_pv. */
static const double official_cf[7] = {-191.90441429, -39.30318279, -111.45032835,
                                      -0.00928836,   0.01975479,   -0.00427372, 0.252906278};
static const double official_pv[7] = {-191.90441429, -39.30318279, -111.45032835,
                                      0.00928836,    -0.01975479,  0.00427372,  0.252906278};

/*
 * The TM-3 central meridians of Circular 973/2001/TT-TCĐC by province (63-province list of
 * 2001–2008, Hà Tây included; the 2025 mergers keep each dataset in the zone it was made in).
 * EPSG codes from PROJ 9.1's proj.db. Where EPSG has two codes for a meridian the current one is
 * used: 6956–6959 are deprecated (they swap false easting and false northing: x_0=0,
 * y_0=500000) and superseded by 5896–5899. EPSG's "zone 481/482/491" names are the 3° halves of
 * UTM zones 48/49 (102°, 105°, 108°); 102° is in the table because EPSG and old national sheets
 * use it, though no province does. The provinces agree with the areas of use EPSG gives.
 */
static const ct_vn2000_zone zones[] = {
    {102.00, 5896, "vn2000:102", "no province (EPSG 'TM-3 zone 481', onshore west of 103°30′E)"},
    {103.00, 9205, "vn2000:103", "Lai Châu, Điện Biên"},
    {104.00, 9206, "vn2000:104", "Sơn La"},
    {104.50, 9207, "vn2000:104.5", "Kiên Giang, Cà Mau"},
    {104.75, 9208, "vn2000:104.75", "An Giang, Lào Cai, Yên Bái, Phú Thọ, Nghệ An"},
    {105.00, 5897, "vn2000:105",
     "Cần Thơ, Hậu Giang, Đồng Tháp, Bạc Liêu, Hà Nội, Hà Tây, Vĩnh Phúc, Hà Nam, Ninh Bình, "
     "Thanh Hóa"},
    {105.50, 9209, "vn2000:105.5",
     "Vĩnh Long, Sóc Trăng, Trà Vinh, Tây Ninh, Hà Giang, Bắc Ninh, Hải Dương, Hưng Yên, "
     "Nam Định, Thái Bình, Hà Tĩnh"},
    {105.75, 9210, "vn2000:105.75",
     "TP Hồ Chí Minh, Long An, Tiền Giang, Bến Tre, Bình Dương, Hải Phòng, Cao Bằng"},
    {106.00, 9211, "vn2000:106", "Tuyên Quang, Hòa Bình, Quảng Bình"},
    {106.25, 9212, "vn2000:106.25", "Quảng Trị, Bình Phước"},
    {106.50, 9213, "vn2000:106.5", "Bắc Kạn, Thái Nguyên"},
    {107.00, 9214, "vn2000:107", "Bắc Giang, Thừa Thiên Huế"},
    {107.25, 9215, "vn2000:107.25", "Lạng Sơn"},
    {107.50, 9216, "vn2000:107.5", "Kon Tum"},
    {107.75, 5899, "vn2000:107.75",
     "Quảng Ninh, Đà Nẵng, Quảng Nam, Bà Rịa–Vũng Tàu, Đồng Nai, Lâm Đồng"},
    {108.00, 5898, "vn2000:108", "Quảng Ngãi"},
    {108.25, 9217, "vn2000:108.25", "Bình Định, Khánh Hòa, Ninh Thuận"},
    {108.50, 9218, "vn2000:108.5", "Gia Lai, Đắk Lắk, Đắk Nông, Phú Yên, Bình Thuận"},
};
#define NZONES (sizeof zones / sizeof zones[0])

/* PROJ's log messages land here instead of on stderr; the last one explains a failure. */
typedef struct pjlog {
    char msg[256];
} pjlog;

struct ct_crs {
    PJ_CONTEXT *pc;
    pjlog log;
    PJ *pj;   /* what transformations start from: a BoundCRS with EPSG:6960 on VN-2000 */
    PJ *base; /* VN-2000 only: the same CRS without the bound, for VN-2000 ↔ VN-2000 */
    char *name;
    char *wkt;
    int epsg;
    const ct_vn2000_zone *zone;
    int vn2000;
    int geographic;
    int uses_5194;
};

struct ct_transform {
    PJ_CONTEXT *pc;
    pjlog log;
    PJ *op;
    char *def;
    int refine_inv; /* the pipeline has a Helmert step: see refine() */
};

const ct_vn2000_zone *ct_vn2000_zones(size_t *n)
{
    if (n)
        *n = NZONES;
    return zones;
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                             */

/* raster.c and others may pass a NULL context when they only want the status. */
static ct_status fail(ct_ctx *ctx, ct_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static ct_status fail(ct_ctx *ctx, ct_status st, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (!ctx)
        return st;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ct_error(ctx, st, "%s", buf);
}

static void log_to_buffer(void *data, int level, const char *msg)
{
    pjlog *l = data;
    if (l && msg && level <= PJ_LOG_ERROR)
        snprintf(l->msg, sizeof l->msg, "%s", msg);
}

static PJ_CONTEXT *new_pc(pjlog *log)
{
    PJ_CONTEXT *pc = proj_context_create();
    if (pc)
        proj_log_func(pc, log, log_to_buffer);
    return pc;
}

/* Why PROJ failed, for messages: its last log line, or its error string. */
static const char *pj_why(PJ_CONTEXT *pc, const pjlog *log, const char *dflt)
{
    const char *s;
    if (log->msg[0])
        return log->msg;
    s = proj_context_errno(pc) ? proj_context_errno_string(pc, proj_context_errno(pc)) : NULL;
    return s && *s ? s : dflt;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* A definition shortened to one line for "unknown CRS '...'" messages (WKT can be long). */
static const char *shorten(const char *def, char buf[72])
{
    size_t i, n = 0;
    for (i = 0; def[i] && n < 60; i++)
        buf[n++] = (def[i] == '\n' || def[i] == '\r' || def[i] == '\t') ? ' ' : def[i];
    if (def[i])
        memcpy(buf + n, "...", 3), n += 3;
    buf[n] = '\0';
    return buf;
}

/* Lower-case letters and digits only: "D_Vietnam_2000" → "dvietnam2000". */
static void squeeze(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

static int names_vn2000(const char *s)
{
    char b[256];
    squeeze(s, b, sizeof b);
    return strstr(b, "vn2000") || strstr(b, "vietnam2000");
}

static int is_official(const double v[7])
{
    int i;
    for (i = 0; i < 7; i++)
        if (fabs(v[i] - official_pv[i]) > 1e-8)
            return 0;
    return 1;
}

static const ct_vn2000_zone *find_zone(double meridian)
{
    size_t i;
    for (i = 0; i < NZONES; i++)
        if (fabs(zones[i].meridian - meridian) < 1e-7)
            return &zones[i];
    return NULL;
}

/* "105-30" for 105.5: the way Vietnamese documents and EPSG names write a meridian. */
static void dm(double meridian, char *buf, size_t cap)
{
    int minutes = (int)lround(meridian * 60.0);
    snprintf(buf, cap, "%d-%02d", minutes / 60, minutes % 60);
}

static int epsg_id(const PJ *obj)
{
    const char *auth = proj_get_id_auth_name(obj, 0), *code = proj_get_id_code(obj, 0);
    return auth && code && !strcasecmp(auth, "EPSG") ? atoi(code) : 0;
}

/* The EPSG code of crs: its own identifier, or (ESRI .prj files carry none) an EPSG CRS that
 * PROJ judges fully equivalent. */
static int find_epsg(PJ_CONTEXT *pc, const PJ *crs)
{
    int e = epsg_id(crs), *conf = NULL;
    PJ_OBJ_LIST *l;
    if (e)
        return e;
    l = proj_identify(pc, crs, "EPSG", NULL, &conf);
    if (l && proj_list_get_count(l) > 0 && conf && conf[0] == 100) {
        PJ *m = proj_list_get(pc, l, 0);
        e = m ? epsg_id(m) : 0;
        proj_destroy(m);
    }
    proj_int_list_destroy(conf);
    proj_list_destroy(l);
    proj_errno_reset(NULL);
    return e;
}

static int type_geographic(PJ_TYPE t)
{
    return t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS ||
           t == PJ_TYPE_GEOGRAPHIC_CRS;
}

/* ---------------------------------------------------------------------------------------- */
/* What a CRS is                                                                             */

typedef struct crs_facts {
    int vn_datum;     /* the datum is VN-2000 (by EPSG code or name) */
    int wgs84_ellps;  /* the ellipsoid is WGS 84 */
    int projected, geographic;
    int tm;           /* Transverse Mercator in metres */
    double lat0, lon0, k, fe, fn;
} crs_facts;

static void get_datum_facts(PJ_CONTEXT *pc, const PJ *crs, crs_facts *f)
{
    PJ *g = proj_crs_get_geodetic_crs(pc, crs);
    PJ *d = g ? proj_crs_get_datum_forced(pc, g) : NULL;
    PJ *e = g ? proj_get_ellipsoid(pc, g) : NULL;
    double a = 0, b = 0, invf = 0;
    int computed = 0;

    if (g && (epsg_id(g) == 4756 || names_vn2000(proj_get_name(g))))
        f->vn_datum = 1;
    if (d && (epsg_id(d) == 6756 || names_vn2000(proj_get_name(d))))
        f->vn_datum = 1;
    if (e && proj_ellipsoid_get_parameters(pc, e, &a, &b, &computed, &invf))
        f->wgs84_ellps = fabs(a - 6378137.0) < 1e-3 && fabs(invf - 298.257223563) < 1e-6;
    proj_destroy(e);
    proj_destroy(d);
    proj_destroy(g);
}

static void get_tm_facts(PJ_CONTEXT *pc, const PJ *crs, crs_facts *f)
{
    PJ *conv = proj_crs_get_coordoperation(pc, crs);
    PJ *cs = proj_crs_get_coordinate_system(pc, crs);
    const char *mname = NULL, *mcode = NULL;
    char sq[64];
    int i, n;
    double ufac = 0;

    f->lat0 = f->lon0 = f->k = f->fe = f->fn = NAN;
    if (!conv || !cs || !proj_coordoperation_get_method_info(pc, conv, &mname, NULL, &mcode))
        goto out;
    squeeze(mname, sq, sizeof sq);
    if (!(mcode && !strcmp(mcode, "9807")) && !strstr(sq, "transversemercator") &&
        !strstr(sq, "gausskruger"))
        goto out;
    if (!proj_cs_get_axis_info(pc, cs, 0, NULL, NULL, NULL, &ufac, NULL, NULL, NULL) ||
        fabs(ufac - 1.0) > 1e-12)
        goto out;
    n = proj_coordoperation_get_param_count(pc, conv);
    for (i = 0; i < n; i++) {
        const char *code = NULL;
        double v = NAN, fac = 1;
        if (!proj_coordoperation_get_param(pc, conv, i, NULL, NULL, &code, &v, NULL, &fac, NULL,
                                           NULL, NULL, NULL) || !code)
            continue;
        switch (atoi(code)) {
        case 8801: f->lat0 = v * fac * 180.0 / M_PI; break;
        case 8802: f->lon0 = v * fac * 180.0 / M_PI; break;
        case 8805: f->k = v * fac; break;
        case 8806: f->fe = v * fac; break;
        case 8807: f->fn = v * fac; break;
        default: break;
        }
    }
    f->tm = 1;
out:
    proj_destroy(cs);
    proj_destroy(conv);
}

static crs_facts get_facts(PJ_CONTEXT *pc, const PJ *crs)
{
    crs_facts f;
    PJ_TYPE t = proj_get_type(crs);
    memset(&f, 0, sizeof f);
    f.projected = t == PJ_TYPE_PROJECTED_CRS;
    f.geographic = type_geographic(t);
    get_datum_facts(pc, crs, &f);
    if (f.projected)
        get_tm_facts(pc, crs, &f);
    return f;
}

/* The TM-3 signature of Circular 973: k 0.9999, false origin (500 000, 0) on the equator. */
static const ct_vn2000_zone *tm3_zone(const crs_facts *f)
{
    if (!f->tm || fabs(f->k - 0.9999) > 1e-10 || fabs(f->fe - 500000.0) > 1e-3 ||
        fabs(f->fn) > 1e-3 || fabs(f->lat0) > 1e-9)
        return NULL;
    return find_zone(f->lon0);
}

/* ---------------------------------------------------------------------------------------- */
/* Building VN-2000 CRSs                                                                     */

/* base bound to WGS 84 by our copy of EPSG:6960, whose source is base's own geodetic CRS so
 * that PROJ inserts nothing between the two. */
static PJ *bind_official(PJ_CONTEXT *pc, const PJ *base)
{
    const double arcsec = M_PI / 180.0 / 3600.0;
    PJ_PARAM_DESCRIPTION p[7] = {
        {"X-axis translation", "EPSG", "8605", official_cf[0], "metre", 1.0, PJ_UT_LINEAR},
        {"Y-axis translation", "EPSG", "8606", official_cf[1], "metre", 1.0, PJ_UT_LINEAR},
        {"Z-axis translation", "EPSG", "8607", official_cf[2], "metre", 1.0, PJ_UT_LINEAR},
        {"X-axis rotation", "EPSG", "8608", official_cf[3], "arc-second", arcsec, PJ_UT_ANGULAR},
        {"Y-axis rotation", "EPSG", "8609", official_cf[4], "arc-second", arcsec, PJ_UT_ANGULAR},
        {"Z-axis rotation", "EPSG", "8610", official_cf[5], "arc-second", arcsec, PJ_UT_ANGULAR},
        {"Scale difference", "EPSG", "8611", official_cf[6], "parts per million", 1e-6,
         PJ_UT_SCALE},
    };
    PJ *geod = proj_crs_get_geodetic_crs(pc, base);
    PJ *wgs84 = proj_create(pc, "EPSG:4326");
    PJ *op = NULL, *bound = NULL;

    if (geod && wgs84)
        op = proj_create_transformation(pc, "VN-2000 to WGS 84 (2)", "EPSG", "6960", geod, wgs84,
                                        NULL, "Coordinate Frame rotation (geog2D domain)", "EPSG",
                                        "9607", 7, p, 1.0);
    if (op)
        bound = proj_crs_create_bound_crs(pc, base, wgs84, op);
    proj_destroy(op);
    proj_destroy(wgs84);
    proj_destroy(geod);
    return bound;
}

/* The zone's projected CRS: EPSG's when proj.db has it, else the same from a WKT template
 * (PROJ before 9.0 lacks 9205–9218). */
static PJ *zone_base(PJ_CONTEXT *pc, const ct_vn2000_zone *z)
{
    char buf[1024], m[16];
    PJ *p;
    if (z->epsg) {
        snprintf(buf, sizeof buf, "EPSG:%d", z->epsg);
        if ((p = proj_create(pc, buf)) != NULL)
            return p;
    }
    dm(z->meridian, m, sizeof m);
    snprintf(buf, sizeof buf,
             "PROJCS[\"VN-2000 / TM-3 %s\",GEOGCS[\"VN-2000\",DATUM[\"Vietnam_2000\","
             "SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],"
             "AUTHORITY[\"EPSG\",\"6756\"]],PRIMEM[\"Greenwich\",0],"
             "UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4756\"]],"
             "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
             "PARAMETER[\"central_meridian\",%.10g],PARAMETER[\"scale_factor\",0.9999],"
             "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],"
             "UNIT[\"metre\",1],AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]]",
             m, z->meridian);
    return proj_create(pc, buf);
}

static ct_crs *crs_alloc(void)
{
    ct_crs *c = calloc(1, sizeof *c);
    if (c && !(c->pc = new_pc(&c->log))) {
        free(c);
        c = NULL;
    }
    return c;
}

void ct_crs_free(ct_crs *crs)
{
    if (!crs)
        return;
    proj_destroy(crs->pj);
    proj_destroy(crs->base);
    proj_context_destroy(crs->pc);
    free(crs->name);
    free(crs->wkt);
    free(crs);
}

/* Fills name and wkt once pj, epsg and zone are set. */
static int finish(ct_crs *c)
{
    const char *opts[] = {"MULTILINE=NO", NULL};
    const char *w, *n;
    char buf[512], m[16];

    w = proj_as_wkt(c->pc, c->pj, PJ_WKT1_GDAL, opts);
    if (!w)
        w = proj_as_wkt(c->pc, c->pj, PJ_WKT2_2019, opts);
    if (c->zone) {
        dm(c->zone->meridian, m, sizeof m);
        if (c->epsg)
            snprintf(buf, sizeof buf, "VN-2000 / TM-3 %s (%s, EPSG:%d)", m, c->zone->name,
                     c->epsg);
        else
            snprintf(buf, sizeof buf, "VN-2000 / TM-3 %s (%s)", m, c->zone->name);
    } else {
        n = proj_get_name(c->base ? c->base : c->pj);
        if (!n || !*n)
            n = "unnamed CRS";
        if (c->epsg)
            snprintf(buf, sizeof buf, "%s (EPSG:%d)", n, c->epsg);
        else
            snprintf(buf, sizeof buf, "%s", n);
    }
    c->name = xstrdup(buf);
    c->wkt = xstrdup(w ? w : "");
    proj_errno_reset(NULL);
    c->log.msg[0] = '\0';
    return c->name && c->wkt;
}

/* Takes the horizontal part of a compound CRS, and the base of a BoundCRS (noting whether its
 * shift is the official one). Returns a new reference. */
static PJ *unwrap(PJ_CONTEXT *pc, const PJ *obj, int *official)
{
    PJ_TYPE t = proj_get_type(obj);
    if (t == PJ_TYPE_BOUND_CRS) {
        PJ *op = proj_crs_get_coordoperation(pc, obj);
        PJ *src = proj_get_source_crs(pc, obj);
        PJ *r;
        double v[7];
        if (op && proj_coordoperation_get_towgs84_values(pc, op, v, 7, 0) && is_official(v))
            *official = 1;
        proj_destroy(op);
        if (!src)
            return NULL;
        r = unwrap(pc, src, official);
        proj_destroy(src);
        return r;
    }
    if (t == PJ_TYPE_COMPOUND_CRS) {
        PJ *h = proj_crs_get_sub_crs(pc, obj, 0);
        PJ *r = h ? unwrap(pc, h, official) : NULL;
        proj_destroy(h);
        return r;
    }
    return proj_clone(pc, obj);
}

/*
 * Makes c (whose context is set) from a parsed PROJ object, taking obj; official says the
 * definition already stands for the official shift (ctgis's own vn2000 names). A VN-2000 CRS — by
 * datum, or a TM-3 zone signature on the WGS 84 ellipsoid — becomes a BoundCRS with the
 * official shift (a zone: the canonical EPSG zone CRS); the vertical part of a VN-2000 compound
 * CRS is dropped, as heights are never transformed here. Anything else is kept as it is.
 */
static ct_status adopt(ct_ctx *ctx, ct_crs *c, PJ *obj, const char *def, int official)
{
    char sh[72];
    PJ *h;
    crs_facts f;

    if (!proj_is_crs(obj)) {
        proj_destroy(obj);
        return fail(ctx, CT_ERR_CRS, "unknown CRS '%s': not a coordinate reference system",
                    shorten(def, sh));
    }
    h = unwrap(c->pc, obj, &official);
    if (!h) {
        proj_destroy(obj);
        return fail(ctx, CT_ERR_CRS, "unknown CRS '%s': %s", shorten(def, sh),
                    pj_why(c->pc, &c->log, "cannot read its base CRS"));
    }
    f = get_facts(c->pc, h);
    c->zone = f.projected && (f.vn_datum || f.wgs84_ellps) ? tm3_zone(&f) : NULL;
    if (c->zone) {
        proj_destroy(h);
        h = zone_base(c->pc, c->zone);
        c->epsg = h ? epsg_id(h) : 0;
    } else if (f.vn_datum) {
        c->epsg = find_epsg(c->pc, h);
    }
    if (c->zone || f.vn_datum) {
        proj_destroy(obj);
        c->vn2000 = 1;
        /* Other software applies an explicit TOWGS84; without one, PROJ/GDAL pick EPSG:5194 in
         * the delta. A WGS 84-datum .prj recognised as a zone is shifted by nobody else. */
        c->uses_5194 = f.vn_datum && !official;
        c->geographic = f.geographic;
        c->base = h;
        c->pj = h ? bind_official(c->pc, h) : NULL;
        if (!c->pj)
            return fail(ctx, CT_ERR_CRS, "unknown CRS '%s': cannot attach the VN-2000 shift: %s",
                        shorten(def, sh), pj_why(c->pc, &c->log, "PROJ error"));
    } else {
        proj_destroy(h);
        c->pj = obj;
        c->epsg = find_epsg(c->pc, obj);
        h = unwrap(c->pc, obj, &official);
        c->geographic = h && type_geographic(proj_get_type(h));
        proj_destroy(h);
    }
    if (!finish(c))
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing                                                                                   */

/* "105", "105.5", "105-30", "105d30", "105_30", "105:30", "105°30′", "105°30'" → degrees. */
static int parse_meridian(const char *s, double *out)
{
    double v = 0, scale = 0.1;
    int nd = 0, minutes = 0, nm = 0;

    for (; isdigit((unsigned char)*s) && nd < 4; s++, nd++)
        v = v * 10 + (*s - '0');
    if (!nd)
        return 0;
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++, scale /= 10, nm++)
            v += (*s - '0') * scale;
        if (!nm)
            return 0;
    } else if (*s) {
        if (!strncmp(s, "\xC2\xB0", 2))
            s += 2;
        else if (strchr("-dD_:", *s))
            s++;
        else
            return 0;
        for (; isdigit((unsigned char)*s) && nm < 2; s++, nm++)
            minutes = minutes * 10 + (*s - '0');
        if (!nm || minutes >= 60)
            return 0;
        if (!strncmp(s, "\xE2\x80\xB2", 3))
            s += 3;
        else if (*s == '\'')
            s++;
        v += minutes / 60.0;
    }
    if (*s)
        return 0;
    *out = v;
    return 1;
}

static ct_status from_zone_name(ct_ctx *ctx, ct_crs *c, const char *def, const char *spec)
{
    double m;
    size_t i, n = 0;
    char list[512], one[16];

    if (!*spec) /* plain "vn2000": the geographic CRS */
        return adopt(ctx, c, proj_create(c->pc, "EPSG:4756"), def, 1);
    if (*spec != ':' || !parse_meridian(spec + 1, &m))
        return fail(ctx, CT_ERR_CRS,
                    "unknown CRS '%s': write a VN-2000 zone as vn2000:105, vn2000:105.5 or "
                    "vn2000:105-30",
                    def);
    if (!find_zone(m)) {
        for (i = 0; i < NZONES && n + 8 < sizeof list; i++) {
            dm(zones[i].meridian, one, sizeof one);
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? " " : "", one);
        }
        dm(m, one, sizeof one);
        return fail(ctx, CT_ERR_CRS,
                    "unknown CRS '%s': no VN-2000 TM-3 zone has central meridian %s (known: %s)",
                    def, one, list);
    }
    return adopt(ctx, c, zone_base(c->pc, find_zone(m)), def, 1);
}

/* A keyword followed by '[' or '(' starts every WKT. */
static int looks_like_wkt(const char *s)
{
    while (isalnum((unsigned char)*s) || *s == '_')
        s++;
    return *s == '[' || *s == '(';
}

static int looks_like_proj(const char *s)
{
    return *s == '+' || strstr(s, "+proj=") != NULL;
}

static ct_status from_text(ct_ctx *ctx, ct_crs *c, const char *text, const char *def)
{
    char sh[72];
    PJ *obj;

    if (looks_like_wkt(text)) {
        const char *opts[] = {"STRICT=NO", NULL};
        PROJ_STRING_LIST warn = NULL, errs = NULL;
        obj = proj_create_from_wkt(c->pc, text, opts, &warn, &errs);
        if (!obj && errs && errs[0])
            snprintf(c->log.msg, sizeof c->log.msg, "%s", errs[0]);
        proj_string_list_destroy(warn);
        proj_string_list_destroy(errs);
    } else if (looks_like_proj(text) && !strstr(text, "+type=crs")) {
        size_t n = strlen(text) + 12;
        char *s = malloc(n);
        if (!s)
            return fail(ctx, CT_ERR_NOMEM, "out of memory");
        snprintf(s, n, "%s +type=crs", text);
        obj = proj_create(c->pc, s);
        free(s);
    } else {
        obj = proj_create(c->pc, text);
    }
    if (!obj)
        return fail(ctx, CT_ERR_CRS, "unknown CRS '%s': %s", shorten(def, sh),
                    pj_why(c->pc, &c->log, "PROJ cannot parse it"));
    if (!strchr(text, ':') && !looks_like_wkt(text) && !looks_like_proj(text)) {
        /* A bare name: PROJ would take "foo" for "Amersfoort"; only an exact name will do. */
        char a[256], b[256];
        squeeze(text, a, sizeof a);
        squeeze(proj_get_name(obj), b, sizeof b);
        if (strcmp(a, b)) {
            proj_destroy(obj);
            return fail(ctx, CT_ERR_CRS,
                        "unknown CRS '%s': not a CRS name, EPSG:n code, WKT, PROJ string or file",
                        shorten(def, sh));
        }
    }
    return adopt(ctx, c, obj, def, 0);
}

/* Reads a .prj / WKT file into a new string (NULL if it is not a small readable file). */
static char *read_small_file(const char *path)
{
    struct stat st;
    FILE *fp;
    char *buf;
    size_t n;

    if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
        return NULL;
    if (!(fp = fopen(path, "rb")))
        return NULL;
    buf = malloc((size_t)st.st_size + 1);
    n = buf ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
    fclose(fp);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Copies s without leading/trailing white space and a UTF-8 BOM. */
static char *trimmed(const char *s)
{
    size_t n;
    char *d;
    if (!strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if ((d = malloc(n + 1)) != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

ct_status ct_crs_from_user(ct_ctx *ctx, const char *def, ct_crs **out)
{
    ct_crs *c;
    char *s, *file = NULL;
    ct_status st;

    *out = NULL;
    if (!def)
        return fail(ctx, CT_ERR_CRS, "unknown CRS '': no definition given");
    if (!(s = trimmed(def)))
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    if (!*s) {
        free(s);
        return fail(ctx, CT_ERR_CRS, "unknown CRS '%s': empty definition", def);
    }
    if (!(c = crs_alloc())) {
        free(s);
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    }
    if (!strncasecmp(s, "vn2000", 6))
        st = from_zone_name(ctx, c, s, s + 6);
    else if (!strncasecmp(s, "vn-2000", 7) || !strncasecmp(s, "vn_2000", 7))
        st = from_zone_name(ctx, c, s, s + 7);
    else if (looks_like_wkt(s) || looks_like_proj(s))
        st = from_text(ctx, c, s, s);
    else if ((file = read_small_file(s)) != NULL) {
        char *text = trimmed(file);
        if (!text)
            st = fail(ctx, CT_ERR_NOMEM, "out of memory");
        else if (!looks_like_wkt(text) && !looks_like_proj(text))
            st = fail(ctx, CT_ERR_CRS, "unknown CRS '%s': the file holds no WKT or PROJ string",
                      s);
        else
            st = from_text(ctx, c, text, s);
        free(text);
    } else
        st = from_text(ctx, c, s, s);
    free(file);
    free(s);
    if (st != CT_OK) {
        ct_crs_free(c);
        return st;
    }
    *out = c;
    return CT_OK;
}

ct_status ct_crs_from_wkt(ct_ctx *ctx, const char *wkt, ct_crs **out)
{
    ct_crs *c;
    char *s;
    ct_status st;

    *out = NULL;
    if (!wkt || !(s = trimmed(wkt)) || !*s) {
        if (wkt)
            free(s);
        return fail(ctx, CT_ERR_CRS, "unknown CRS '': empty WKT");
    }
    if (!(c = crs_alloc())) {
        free(s);
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    }
    st = looks_like_wkt(s) ? from_text(ctx, c, s, s)
                           : fail(ctx, CT_ERR_CRS, "unknown CRS '%.60s': not WKT", s);
    free(s);
    if (st != CT_OK) {
        ct_crs_free(c);
        return st;
    }
    *out = c;
    return CT_OK;
}

ct_crs *ct_crs_clone(const ct_crs *crs)
{
    ct_crs *c;
    if (!crs || !(c = crs_alloc()))
        return NULL;
    c->pj = proj_clone(c->pc, crs->pj);
    c->base = crs->base ? proj_clone(c->pc, crs->base) : NULL;
    c->name = xstrdup(crs->name);
    c->wkt = xstrdup(crs->wkt);
    c->epsg = crs->epsg;
    c->zone = crs->zone;
    c->vn2000 = crs->vn2000;
    c->geographic = crs->geographic;
    c->uses_5194 = crs->uses_5194;
    if (!c->pj || (crs->base && !c->base) || !c->name || !c->wkt) {
        ct_crs_free(c);
        return NULL;
    }
    return c;
}

const char *ct_crs_name(const ct_crs *crs) { return crs ? crs->name : ""; }
int ct_crs_epsg(const ct_crs *crs) { return crs ? crs->epsg : 0; }
const ct_vn2000_zone *ct_crs_vn2000_zone(const ct_crs *crs) { return crs ? crs->zone : NULL; }
int ct_crs_is_vn2000(const ct_crs *crs) { return crs ? crs->vn2000 : 0; }
int ct_crs_is_geographic(const ct_crs *crs) { return crs ? crs->geographic : 0; }
int ct_crs_default_uses_5194(const ct_crs *crs) { return crs ? crs->uses_5194 : 0; }
const char *ct_crs_wkt(const ct_crs *crs) { return crs ? crs->wkt : ""; }

int ct_crs_equal(const ct_crs *a, const ct_crs *b)
{
    if (!a || !b)
        return a == b;
    if (a->zone || b->zone)
        return a->zone == b->zone;
    if (a->vn2000 != b->vn2000)
        return 0;
    /* VN-2000 CRSs compare by their bases: all carry the same shift. */
    return proj_is_equivalent_to_with_ctx(a->pc, a->vn2000 ? a->base : a->pj,
                                          b->vn2000 ? b->base : b->pj,
                                          PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS);
}

/* ---------------------------------------------------------------------------------------- */
/* Transformations                                                                           */

void ct_transform_free(ct_transform *t)
{
    if (!t)
        return;
    proj_destroy(t->op);
    proj_context_destroy(t->pc);
    free(t->def);
    free(t);
}

ct_status ct_transform_new(ct_ctx *ctx, const ct_crs *src, const ct_crs *dst, ct_transform **out)
{
    ct_transform *t;
    PJ *s = NULL, *d = NULL, *op = NULL;
    PJ_PROJ_INFO info;
    int same_datum;

    *out = NULL;
    if (!src || !dst)
        return fail(ctx, CT_ERR_CRS, "no transformation: missing source or target CRS");
    if (!(t = calloc(1, sizeof *t)) || !(t->pc = new_pc(&t->log))) {
        free(t);
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    }
    /* Within VN-2000 the bases meet on the same datum: PROJ applies no shift at all. */
    same_datum = src->vn2000 && dst->vn2000;
    s = proj_clone(t->pc, same_datum ? src->base : src->pj);
    d = proj_clone(t->pc, same_datum ? dst->base : dst->pj);
    if (s && d)
        op = proj_create_crs_to_crs_from_pj(t->pc, s, d, NULL, NULL);
    if (op) {
        t->op = proj_normalize_for_visualization(t->pc, op);
        proj_destroy(op);
    }
    proj_destroy(s);
    proj_destroy(d);
    if (!t->op) {
        fail(ctx, CT_ERR_CRS, "no transformation from %s to %s: %s", src->name, dst->name,
             pj_why(t->pc, &t->log, "PROJ found none"));
        ct_transform_free(t);
        return CT_ERR_CRS;
    }
    info = proj_pj_info(t->op);
    t->def = xstrdup(info.definition && *info.definition ? info.definition
                     : info.description                  ? info.description
                                                         : "");
    if (!t->def) {
        ct_transform_free(t);
        return fail(ctx, CT_ERR_NOMEM, "out of memory");
    }
    t->refine_inv = strstr(t->def, "proj=helmert") != NULL;
    *out = t;
    return CT_OK;
}

const char *ct_transform_definition(const ct_transform *t) { return t ? t->def : ""; }

/*
 * PROJ's inverse of a 2D pipeline with a Helmert step is not quite the inverse of its forward:
 * the forward computes an ellipsoidal height on the other datum and drops it (push/pop v_3),
 * the inverse starts from height 0, and the two differ by about 0.1 mm (1e-9°). Two fixed-point
 * steps x += g(y) − g(f(x)), with f forward and g PROJ's inverse, make inv(fwd(p)) return p to
 * 1e-12, so data taken back and forth does not drift. x, y hold g(y) on entry.
 */
static void refine(PJ *op, size_t n, double *x, double *y)
{
    enum { CHUNK = 512 };
    double gx[CHUNK], gy[CHUNK], wx[CHUNK], wy[CHUNK];
    size_t off, i, m;
    int it;

    for (off = 0; off < n; off += m) {
        m = n - off < CHUNK ? n - off : CHUNK;
        memcpy(gx, x + off, m * sizeof *gx);
        memcpy(gy, y + off, m * sizeof *gy);
        for (it = 0; it < 2; it++) {
            memcpy(wx, x + off, m * sizeof *wx);
            memcpy(wy, y + off, m * sizeof *wy);
            proj_trans_generic(op, PJ_FWD, wx, sizeof *wx, m, wy, sizeof *wy, m, NULL, 0, 0,
                               NULL, 0, 0);
            proj_trans_generic(op, PJ_INV, wx, sizeof *wx, m, wy, sizeof *wy, m, NULL, 0, 0,
                               NULL, 0, 0);
            for (i = 0; i < m; i++) {
                /* a point that fails here keeps PROJ's own inverse */
                if (!isfinite(gx[i]) || gx[i] == HUGE_VAL || !isfinite(wx[i]) ||
                    wx[i] == HUGE_VAL || !isfinite(wy[i]) || wy[i] == HUGE_VAL)
                    continue;
                x[off + i] += gx[i] - wx[i];
                y[off + i] += gy[i] - wy[i];
            }
        }
    }
    proj_errno_reset(op);
}

static ct_status run(ct_ctx *ctx, ct_transform *t, PJ_DIRECTION dir, size_t n, double *x,
                     double *y, double *z)
{
    char why[256];
    size_t i;
    int e;

    if (!n)
        return CT_OK;
    proj_errno_reset(t->op);
    t->log.msg[0] = '\0';
    proj_trans_generic(t->op, dir, x, sizeof *x, n, y, sizeof *y, n, z, z ? sizeof *z : 0,
                       z ? n : 0, NULL, 0, 0);
    e = proj_errno(t->op);
    snprintf(why, sizeof why, "%s",
             t->log.msg[0] ? t->log.msg
             : e           ? proj_context_errno_string(t->pc, e)
                           : "outside the domain of the transformation");
    if (dir == PJ_INV && t->refine_inv)
        refine(t->op, n, x, y);
    for (i = 0; i < n; i++) {
        if (isfinite(x[i]) && isfinite(y[i]) && x[i] != HUGE_VAL && y[i] != HUGE_VAL)
            continue;
        x[i] = y[i] = HUGE_VAL;
        if (z)
            z[i] = HUGE_VAL;
        return fail(ctx, CT_ERR_CRS, "point %zu of %zu cannot be transformed: %s", i + 1, n, why);
    }
    return CT_OK;
}

ct_status ct_transform_points(ct_ctx *ctx, ct_transform *t, size_t n, double *x, double *y,
                              double *z)
{
    return run(ctx, t, PJ_FWD, n, x, y, z);
}

ct_status ct_transform_points_inv(ct_ctx *ctx, ct_transform *t, size_t n, double *x, double *y,
                                  double *z)
{
    return run(ctx, t, PJ_INV, n, x, y, z);
}

ct_status ct_transform_bounds(ct_ctx *ctx, ct_transform *t, const double in[4], double out[4])
{
    enum { N = 21 };
    double x[4 * N], y[4 * N], r[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    double minx = in[0], miny = in[1], maxx = in[2], maxy = in[3];
    int i, ok = 0;

    if (!(minx <= maxx && miny <= maxy) || !isfinite(minx + miny + maxx + maxy))
        return fail(ctx, CT_ERR_INVALID, "invalid bounds (%g %g %g %g)", minx, miny, maxx, maxy);
    for (i = 0; i < N; i++) {
        double f = (double)i / (N - 1);
        double xs = minx + f * (maxx - minx), ys = miny + f * (maxy - miny);
        x[i] = xs, y[i] = miny;
        x[N + i] = xs, y[N + i] = maxy;
        x[2 * N + i] = minx, y[2 * N + i] = ys;
        x[3 * N + i] = maxx, y[3 * N + i] = ys;
    }
    proj_errno_reset(t->op);
    proj_trans_generic(t->op, PJ_FWD, x, sizeof *x, 4 * N, y, sizeof *y, 4 * N, NULL, 0, 0, NULL,
                       0, 0);
    /* Points that fail (outside a projection's domain) are left out, as GDAL does; only a box
     * with none transformed is an error. */
    for (i = 0; i < 4 * N; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]) || x[i] == HUGE_VAL || y[i] == HUGE_VAL)
            continue;
        ok = 1;
        r[0] = fmin(r[0], x[i]);
        r[1] = fmin(r[1], y[i]);
        r[2] = fmax(r[2], x[i]);
        r[3] = fmax(r[3], y[i]);
    }
    if (!ok)
        return fail(ctx, CT_ERR_CRS, "bounds (%g %g %g %g) cannot be transformed", minx, miny,
                    maxx, maxy);
    memcpy(out, r, sizeof r);
    return CT_OK;
}
