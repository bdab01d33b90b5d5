/* info.c — describe a dataset as a JSON object, and print it as JSON or text. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gdal.h>
#include <json-c/json.h>

#include "ct/crs.h"
#include "ct/info.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/text.h"
#include "ct/vector.h"

static json_object *json_bbox(const double b[4])
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < 4; i++)
        json_object_array_add(a, json_object_new_double(b[i]));
    return a;
}

static json_object *json_crs(const ct_crs *crs)
{
    if (!crs)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(ct_crs_name(crs)));
    if (ct_crs_epsg(crs))
        json_object_object_add(o, "epsg", json_object_new_int(ct_crs_epsg(crs)));
    const ct_vn2000_zone *z = ct_crs_vn2000_zone(crs);
    if (z) {
        json_object_object_add(o, "vn2000_zone", json_object_new_string(z->name));
        json_object_object_add(o, "central_meridian", json_object_new_double(z->meridian));
    }
    json_object_object_add(o, "vn2000", json_object_new_boolean(ct_crs_is_vn2000(crs)));
    json_object_object_add(o, "default_uses_epsg_5194", json_object_new_boolean(ct_crs_default_uses_5194(crs)));
    return o;
}

static void add_warning(json_object *doc, const char *msg)
{
    json_object *w;
    if (!json_object_object_get_ex(doc, "warnings", &w)) {
        w = json_object_new_array();
        json_object_object_add(doc, "warnings", w);
    }
    for (size_t i = 0; i < json_object_array_length(w); i++)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(w, i)), msg))
            return; /* said once for the dataset, not once per layer */
    json_object_array_add(w, json_object_new_string(msg));
}

/* Adds "crs" and, when the extent can be transformed, "extent_wgs84" to o. */
static void add_crs_and_extent(ct_ctx *ctx, json_object *doc, json_object *o, const ct_crs *crs,
                               const double ext[4], int has_ext)
{
    if (!crs) {
        add_warning(doc, "no CRS: give one with --srs when ingesting");
        if (has_ext)
            json_object_object_add(o, "extent", json_bbox(ext));
        return;
    }
    json_object_object_add(o, "crs", json_crs(crs));
    if (ct_crs_default_uses_5194(crs))
        add_warning(doc, "a plain EPSG transformation of this CRS to WGS 84 (GDAL, QGIS) uses "
                         "EPSG:5194, about 0.8 m off the official Decision 05/2007 parameters "
                         "(EPSG:6960) that ctgis uses");
    if (!has_ext)
        return;
    json_object_object_add(o, "extent", json_bbox(ext));
    ct_crs *wgs = NULL;
    ct_transform *t = NULL;
    double ll[4];
    if (ct_crs_from_user(ctx, "EPSG:4326", &wgs) == CT_OK && ct_transform_new(ctx, crs, wgs, &t) == CT_OK &&
        ct_transform_bounds(ctx, t, ext, ll) == CT_OK)
        json_object_object_add(o, "extent_wgs84", json_bbox(ll));
    else
        add_warning(doc, "the extent cannot be transformed to WGS 84");
    ct_ctx_clear_error(ctx);
    ct_transform_free(t);
    ct_crs_free(wgs);
}

static ct_status describe_raster(ct_ctx *ctx, ct_raster *r, const ct_info_opts *opts, json_object *doc)
{
    int w = ct_raster_width(r), h = ct_raster_height(r), nb = ct_raster_band_count(r);
    json_object_object_add(doc, "type", json_object_new_string("raster"));
    json_object_object_add(doc, "driver", json_object_new_string(ct_raster_driver(r)));
    json_object *size = json_object_new_array();
    json_object_array_add(size, json_object_new_int(w));
    json_object_array_add(size, json_object_new_int(h));
    json_object_object_add(doc, "size", size);

    double gt[6];
    int has_gt = ct_raster_geotransform(r, gt);
    double ext[4] = {0};
    if (has_gt) {
        json_object *g = json_object_new_array();
        for (int i = 0; i < 6; i++)
            json_object_array_add(g, json_object_new_double(gt[i]));
        json_object_object_add(doc, "geotransform", g);
        double xs[4] = {gt[0], gt[0] + w * gt[1], gt[0] + h * gt[2], gt[0] + w * gt[1] + h * gt[2]};
        double ys[4] = {gt[3], gt[3] + w * gt[4], gt[3] + h * gt[5], gt[3] + w * gt[4] + h * gt[5]};
        ext[0] = ext[2] = xs[0];
        ext[1] = ext[3] = ys[0];
        for (int i = 1; i < 4; i++) {
            ext[0] = fmin(ext[0], xs[i]);
            ext[2] = fmax(ext[2], xs[i]);
            ext[1] = fmin(ext[1], ys[i]);
            ext[3] = fmax(ext[3], ys[i]);
        }
    } else {
        add_warning(doc, "no georeferencing");
    }
    add_crs_and_extent(ctx, doc, doc, ct_raster_crs(r), ext, has_gt);

    json_object *bands = json_object_new_array();
    json_object_object_add(doc, "bands", bands);
    for (int b = 1; b <= nb; b++) {
        json_object *bo = json_object_new_object();
        json_object_array_add(bands, bo);
        json_object_object_add(bo, "band", json_object_new_int(b));
        json_object_object_add(bo, "type", json_object_new_string(ct_dtype_name(ct_raster_band_dtype(r, b))));
        double nd;
        if (ct_raster_band_nodata(r, b, &nd))
            json_object_object_add(bo, "nodata", json_object_new_double(nd));
        int bw, bh;
        ct_raster_block_size(r, &bw, &bh);
        json_object *blk = json_object_new_array();
        json_object_array_add(blk, json_object_new_int(bw));
        json_object_array_add(blk, json_object_new_int(bh));
        json_object_object_add(bo, "block", blk);
        if (opts->stats) {
            ct_band_stats s;
            ct_status st = ct_raster_band_stats(ctx, r, b, &s);
            if (st)
                return st;
            json_object *so = json_object_new_object();
            if (s.valid) {
                json_object_object_add(so, "min", json_object_new_double(s.min));
                json_object_object_add(so, "max", json_object_new_double(s.max));
                json_object_object_add(so, "mean", json_object_new_double(s.mean));
                json_object_object_add(so, "stddev", json_object_new_double(s.stddev));
            }
            json_object_object_add(so, "valid", json_object_new_int64((int64_t)s.valid));
            json_object_object_add(so, "nodata", json_object_new_int64((int64_t)s.nodata));
            json_object_object_add(bo, "stats", so);
        }
    }
    /* A truncated file often opens (its header is intact) and fails only on reading: read the
     * last cell, whose block lies at the end of a GeoTIFF, so that ct-info says so at once. */
    if (nb > 0 && !opts->stats && w > 0 && h > 0) {
        ct_grid *g = NULL;
        ct_status st = ct_raster_read(ctx, r, 1, w - 1, h - 1, 1, 1, CT_FLOAT64, &g);
        ct_grid_free(g);
        if (st) {
            /* the message reads "FILE: cannot read window ...: reason"; keep only the reason */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", ct_ctx_errmsg(ctx));
            const char *why = strstr(msg, ": ");
            why = why ? strstr(why + 2, ": ") : NULL;
            return ct_error(ctx, CT_ERR_FORMAT, "%s: truncated or corrupt: its last cells cannot be read (%s)",
                            json_object_get_string(json_object_object_get(doc, "file")),
                            why ? why + 2 : msg);
        }
    }
    return CT_OK;
}

static ct_status describe_vector(ct_ctx *ctx, ct_vsource *src, const ct_info_opts *opts, json_object *doc)
{
    json_object_object_add(doc, "type", json_object_new_string("vector"));
    json_object_object_add(doc, "driver", json_object_new_string(ct_vsource_driver(src)));
    json_object *layers = json_object_new_array();
    json_object_object_add(doc, "layers", layers);
    for (int i = 0; i < ct_vsource_layer_count(src); i++) {
        ct_layer *l = ct_vsource_layer(src, i);
        json_object *lo = json_object_new_object();
        json_object_array_add(layers, lo);
        json_object_object_add(lo, "name", json_object_new_string(ct_layer_name(l)));
        json_object_object_add(lo, "features", json_object_new_int64(ct_layer_feature_count(l)));
        json_object_object_add(lo, "geometry", json_object_new_string(ct_layer_geom_type_name(l)));
        double ext[4];
        int has_ext = ct_layer_extent(l, ext);
        add_crs_and_extent(ctx, doc, lo, ct_layer_crs(l), ext, has_ext);

        double conf = 0;
        ct_encoding enc = ct_layer_detect_encoding(ctx, l, opts->sample > 0 ? opts->sample : 2000, &conf);
        json_object *eo = json_object_new_object();
        json_object_object_add(eo, "name", json_object_new_string(ct_encoding_name(enc)));
        json_object_object_add(eo, "confidence", json_object_new_double(round(conf * 100) / 100));
        json_object_object_add(lo, "encoding", eo);
        ct_layer_set_encoding(l, enc == CT_ENC_UNKNOWN || enc == CT_ENC_ASCII ? CT_ENC_UTF8 : enc);

        json_object *fields = json_object_new_array();
        json_object_object_add(lo, "fields", fields);
        for (int f = 0; f < ct_layer_field_count(l); f++) {
            json_object *fo = json_object_new_object();
            const char *raw = ct_layer_field_name(l, f);
            char *name = NULL;
            if (ct_text_decode(ctx, ct_layer_encoding(l), raw, strlen(raw), &name) != CT_OK) {
                ct_ctx_clear_error(ctx);
                name = NULL;
            }
            json_object_object_add(fo, "name", json_object_new_string(name ? name : raw));
            free(name);
            json_object_object_add(fo, "type", json_object_new_string(ct_field_type_name(ct_layer_field_type(l, f))));
            if (ct_layer_field_width(l, f) > 0)
                json_object_object_add(fo, "width", json_object_new_int(ct_layer_field_width(l, f)));
            json_object_array_add(fields, fo);
        }
    }
    return CT_OK;
}

/* A SpatiaLite file that is a ctgis SDI: its version, CRS and current feature counts. */
static void describe_sdi(ct_ctx *ctx, const char *path, json_object *doc)
{
    ct_sdi *sdi = NULL;
    if (ct_sdi_open(ctx, path, &sdi)) {
        ct_ctx_clear_error(ctx); /* a plain SpatiaLite file */
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "version", json_object_new_int64(ct_sdi_current_version(sdi)));
    json_object_object_add(o, "crs", json_object_new_string(ct_crs_name(ct_sdi_crs(sdi))));
    json_object *layers;
    json_object_object_get_ex(doc, "layers", &layers);
    for (size_t i = 0; i < json_object_array_length(layers); i++) {
        json_object *l = json_object_array_get_idx(layers, i), *name, *n;
        json_object_object_get_ex(l, "name", &name);
        const char *nm = json_object_get_string(name);
        size_t len = strlen(nm);
        if (len > 8 && !strcmp(nm + len - 8, "_current") && json_object_object_get_ex(l, "features", &n))
            json_object_object_add(o, nm, json_object_new_int64(json_object_get_int64(n)));
    }
    json_object_object_add(doc, "sdi", o);
    ct_sdi_close(sdi);
}

ct_status ct_info_describe(ct_ctx *ctx, const char *path, const ct_info_opts *opts, json_object **out)
{
    *out = NULL;
    struct stat sb;
    if (strncmp(path, "/vsi", 4) && strncmp(path, "PG:", 3) && stat(path, &sb) != 0)
        return ct_error(ctx, CT_ERR_IO, "%s: %s", path, strerror(errno));
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "file", json_object_new_string(path));

    ct_raster *r = NULL;
    ct_vsource *v = NULL;
    ct_status st = ct_raster_open(ctx, path, &r);
    if (st == CT_OK) {
        st = describe_raster(ctx, r, opts, doc);
        ct_raster_close(r);
    } else if (st == CT_ERR_FORMAT) {
        char rmsg[1024];
        snprintf(rmsg, sizeof rmsg, "%s", ct_ctx_errmsg(ctx));
        st = ct_vsource_open(ctx, path, &v);
        if (st == CT_OK) {
            /* the drivers of the SDI's two stores, SpatiaLite and PostGIS */
            int store = !strcmp(ct_vsource_driver(v), "SQLite") || !strcmp(ct_vsource_driver(v), "PostgreSQL");
            st = describe_vector(ctx, v, opts, doc);
            ct_vsource_close(v);
            if (!st && store)
                describe_sdi(ctx, path, doc);
        } else if (st == CT_ERR_FORMAT) {
            /* Neither opened: a file some driver recognises is a broken dataset of that kind (a
             * truncated GeoTIFF, a shapefile without its .dbf) and its reader's reason is the
             * one to give; otherwise it is no GIS file at all. */
            if (GDALIdentifyDriverEx(path, GDAL_OF_RASTER, NULL, NULL))
                st = ct_error(ctx, CT_ERR_FORMAT, "%s", rmsg);
            else if (!GDALIdentifyDriverEx(path, GDAL_OF_VECTOR, NULL, NULL))
                st = ct_error(ctx, CT_ERR_FORMAT, "%s: not a raster or vector dataset GDAL can read", path);
        }
    }
    if (st) {
        json_object_put(doc);
        return st;
    }
    *out = doc;
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Text rendering: the same document, laid out for a person.                                */

static double num(json_object *o, const char *key, int idx)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return NAN;
    if (idx >= 0)
        v = json_object_array_get_idx(v, (size_t)idx);
    return json_object_get_double(v);
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* Coordinates: metres to the millimetre, degrees to about a centimetre. */
static void print_bbox(FILE *f, const char *indent, const char *label, json_object *o, const char *key, int deg)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return;
    const char *fmt = deg ? "%s%s: %.7f %.7f %.7f %.7f\n" : "%s%s: %.3f %.3f %.3f %.3f\n";
    fprintf(f, fmt, indent, label, num(o, key, 0), num(o, key, 1), num(o, key, 2), num(o, key, 3));
}

static void print_crs(FILE *f, const char *indent, json_object *o)
{
    json_object *crs;
    if (!json_object_object_get_ex(o, "crs", &crs)) {
        fprintf(f, "%sCRS: none\n", indent);
        return;
    }
    fprintf(f, "%sCRS: %s\n", indent, str(crs, "name"));
    const char *zone = str(crs, "vn2000_zone");
    if (zone)
        fprintf(f, "%sVN-2000 zone: %s (central meridian %g°)\n", indent, zone, num(crs, "central_meridian", -1));
}

static void print_text(FILE *f, json_object *doc)
{
    fprintf(f, "File: %s\n", str(doc, "file"));
    fprintf(f, "Type: %s (%s)\n", str(doc, "type"), str(doc, "driver"));
    int deg = 0;
    json_object *crs, *v;
    if (json_object_object_get_ex(doc, "crs", &crs) && json_object_object_get_ex(crs, "epsg", &v))
        deg = json_object_get_int(v) == 4326 || json_object_get_int(v) == 4756;
    if (!strcmp(str(doc, "type"), "raster")) {
        json_object *bands;
        json_object_object_get_ex(doc, "bands", &bands);
        size_t nb = json_object_array_length(bands);
        fprintf(f, "Size: %d x %d cells, %zu band%s\n", (int)num(doc, "size", 0), (int)num(doc, "size", 1),
                nb, nb == 1 ? "" : "s");
        print_crs(f, "", doc);
        if (json_object_object_get_ex(doc, "geotransform", &v))
            fprintf(f, "Cell size: %.10g x %.10g\n", num(doc, "geotransform", 1), -num(doc, "geotransform", 5));
        print_bbox(f, "", "Extent", doc, "extent", deg);
        print_bbox(f, "", "Extent (WGS 84)", doc, "extent_wgs84", 1);
        for (size_t i = 0; i < nb; i++) {
            json_object *b = json_object_array_get_idx(bands, i);
            fprintf(f, "Band %d: %s, blocks %dx%d", (int)num(b, "band", -1), str(b, "type"),
                    (int)num(b, "block", 0), (int)num(b, "block", 1));
            if (json_object_object_get_ex(b, "nodata", &v))
                fprintf(f, ", nodata %.10g", num(b, "nodata", -1));
            fputc('\n', f);
            json_object *s;
            if (json_object_object_get_ex(b, "stats", &s)) {
                if (json_object_object_get_ex(s, "min", &v))
                    fprintf(f, "  Statistics: min %.6g, max %.6g, mean %.6g, stddev %.6g\n", num(s, "min", -1),
                            num(s, "max", -1), num(s, "mean", -1), num(s, "stddev", -1));
                fprintf(f, "  Cells: %lld valid, %lld nodata\n", (long long)num(s, "valid", -1),
                        (long long)num(s, "nodata", -1));
            }
        }
    } else {
        json_object *layers;
        json_object_object_get_ex(doc, "layers", &layers);
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
            json_object *l = json_object_array_get_idx(layers, i);
            fprintf(f, "Layer %zu: %s\n", i + 1, str(l, "name"));
            fprintf(f, "  Features: %lld\n", (long long)num(l, "features", -1));
            fprintf(f, "  Geometry: %s\n", str(l, "geometry"));
            print_crs(f, "  ", l);
            int ldeg = 0;
            if (json_object_object_get_ex(l, "crs", &crs) && json_object_object_get_ex(crs, "epsg", &v))
                ldeg = json_object_get_int(v) == 4326 || json_object_get_int(v) == 4756;
            print_bbox(f, "  ", "Extent", l, "extent", ldeg);
            print_bbox(f, "  ", "Extent (WGS 84)", l, "extent_wgs84", 1);
            json_object *enc;
            json_object_object_get_ex(l, "encoding", &enc);
            fprintf(f, "  Text encoding: %s (confidence %.2f)\n", str(enc, "name"), num(enc, "confidence", -1));
            json_object *fields;
            json_object_object_get_ex(l, "fields", &fields);
            fprintf(f, "  Fields:\n");
            for (size_t k = 0; k < json_object_array_length(fields); k++) {
                json_object *fo = json_object_array_get_idx(fields, k);
                fprintf(f, "    %-16s %s", str(fo, "name"), str(fo, "type"));
                if (json_object_object_get_ex(fo, "width", &v))
                    fprintf(f, "(%d)", json_object_get_int(v));
                fputc('\n', f);
            }
        }
    }
    json_object *w, *sdi;
    if (json_object_object_get_ex(doc, "sdi", &sdi)) {
        fprintf(f, "SDI: version %lld, %s\n", (long long)num(sdi, "version", -1), str(sdi, "crs"));
        json_object_object_foreach(sdi, k, x)
            if (json_object_is_type(x, json_type_int) && strcmp(k, "version"))
                fprintf(f, "  %s: %lld features\n", k, (long long)json_object_get_int64(x));
    }
    if (json_object_object_get_ex(doc, "warnings", &w))
        for (size_t i = 0; i < json_object_array_length(w); i++)
            fprintf(f, "Warning: %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
}

ct_status ct_info_run(ct_ctx *ctx, const ct_info_opts *opts)
{
    FILE *out = opts->out ? opts->out : stdout;
    json_object *all = json_object_new_array();
    ct_status first = CT_OK;
    for (int i = 0; i < opts->npaths; i++) {
        json_object *doc = NULL;
        ct_status st = ct_info_describe(ctx, opts->paths[i], opts, &doc);
        if (st) {
            if (!first)
                first = st;
            /* keep going with the other files, as cat(1) does; the last message stays on ctx */
            if (opts->npaths > 1)
                ct_log(ctx, CT_LOG_ERROR, "%s", ct_ctx_errmsg(ctx));
            continue;
        }
        if (opts->json) {
            json_object_array_add(all, doc);
        } else {
            if (i > 0)
                fputc('\n', out);
            print_text(out, doc);
            json_object_put(doc);
        }
    }
    if (opts->json && json_object_array_length(all) > 0) {
        json_object *one = opts->npaths == 1 ? json_object_array_get_idx(all, 0) : all;
        fprintf(out, "%s\n", json_object_to_json_string_ext(one, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    json_object_put(all);
    return first;
}
