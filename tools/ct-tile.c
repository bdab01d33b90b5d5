/* ct-tile — map tile pyramids (XYZ folder, MBTiles, PMTiles) from DEMs, flood depths and RGB rasters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <gdal.h>
#include <cpl_error.h>

#include "ct/context.h"
#include "ct/sdi.h"
#include "ct/style.h"
#include "ct/tile.h"

/* "10-16", "12" → minz, maxz. */
static int parse_zoom(const char *s, int *minz, int *maxz)
{
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s)
        return 0;
    if (*end == '-') {
        const char *q = end + 1;
        b = strtol(q, &end, 10);
        if (end == q)
            return 0;
    }
    if (*end || a < 0 || b < 0 || a > 30 || b > 30)
        return 0;
    *minz = (int)a;
    *maxz = (int)b;
    return 1;
}

/* A vector dataset that GDAL does not also read as a raster: it needs no colour ramp. */
static int is_vector(const char *path)
{
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH h = GDALOpenEx(path, GDAL_OF_RASTER, NULL, NULL, NULL);
    int v = 0;
    if (!h && (h = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL)))
        v = 1;
    if (h)
        GDALClose(h);
    CPLPopErrorHandler();
    return v;
}

static ct_status pick(ct_ctx *ctx, const char *what, const char *val, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(val, names[i])) {
            *out = i;
            return CT_OK;
        }
    return ct_error(ctx, CT_ERR_USAGE, "--%s %s: not one of the choices (see --help)", what, val);
}

int main(int argc, char **argv)
{
    ct_tile_opts o = {.minzoom = -1, .maxzoom = -1};
    ct_tile_summary sum = {0};
    const char *zoom = NULL, *mode = NULL, *style = NULL, *format = NULL, *sinkname = NULL, *resampling = NULL;
    int force = 0;
    const char *since = NULL, *shard = NULL;
    ct_strlist fields = {0};
    const ct_option options[] = {
        {CT_OPT_STRING, 'z', "zoom", &zoom, "MIN-MAX", "zoom range, e.g. 10-16 (default: from the raster)"},
        {CT_OPT_STRING, 0, "mode", &mode, "MODE", "dem, depth, rgb or mvt (default: from the input)"},
        {CT_OPT_STRING, 's', "style", &style, "STYLE", "style file or shipped style name (default: by mode)"},
        {CT_OPT_INT, 'b', "band", &o.band, "N", "band of a DEM or depth raster (default 1)"},
        {CT_OPT_STRING, 'f', "format", &format, "FMT", "png or webp (default png)"},
        {CT_OPT_INT, 0, "quality", &o.quality, "Q", "WebP quality 1-100 (default 80)"},
        {CT_OPT_INT, 0, "level", &o.level, "N", "PNG compression level 1-12 (default 4)"},
        {CT_OPT_STRING, 'r', "resampling", &resampling, "ALG", "bilinear, cubic or nearest (default bilinear)"},
        {CT_OPT_STRING, 0, "sink", &sinkname, "KIND", "dir, mbtiles or pmtiles (default: from OUTPUT)"},
        {CT_OPT_STRING, 0, "name", &o.name, "TEXT", "tileset name in the metadata"},
        {CT_OPT_STRING, 0, "description", &o.description, "TEXT", "tileset description"},
        {CT_OPT_STRING, 0, "attribution", &o.attribution, "TEXT", "tileset attribution"},
        {CT_OPT_LIST, 0, "field", &fields, "NAME", "MVT: keep this attribute (repeatable)"},
        {CT_OPT_STRING, 0, "class-field", &o.class_field, "NAME", "attribute the style's classes are keyed on"},
        {CT_OPT_FLAG, 0, "force", &force, NULL, "make more than 100 million tiles"},
        {CT_OPT_STRING, 0, "since", &since, "VERSION", "sdi: input: remake the tiles changed after VERSION (default: OUTPUT's)"},
        {CT_OPT_FLAG, 0, "full", &o.full, NULL, "sdi: input: make every tile, not only the changed ones"},
        {CT_OPT_STRING, 0, "shard", &shard, "K/N", "vector input: make shard K (0 to N-1) of N, for merge"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-tile",
        .operands = "INPUT OUTPUT | merge OUTPUT SHARD...",
        .summary = "Make a map tile pyramid in Web Mercator: a DEM as hypsometric colour with hillshade,\n"
                   "flood depth with a depth ramp, an RGB raster, or vector layers as MVT, into a\n"
                   "{z}/{x}/{y} folder, an MBTiles or a PMTiles file; merge puts shards together.",
        .options = options,
        .shared = CT_CLI_THREADS | CT_CLI_SDI,
        .min_operands = 2,
        .max_operands = -1,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_tile_style *sty = NULL;
    char *style_path = NULL;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    if (st || cli.done)
        goto end;
    static const char *const modes[] = {"auto", "dem", "depth", "rgb", "mvt", NULL};
    static const char *const formats[] = {"png", "webp", NULL};
    static const char *const sinks[] = {"auto", "dir", "mbtiles", "pmtiles", NULL};
    static const char *const algs[] = {"bilinear", "cubic", "nearest", NULL};
    int v;
    if (zoom && !parse_zoom(zoom, &o.minzoom, &o.maxzoom)) {
        st = ct_error(ctx, CT_ERR_USAGE, "--zoom %s: give MIN-MAX or one zoom, 0-30", zoom);
        goto end;
    }
    if (mode && !(st = pick(ctx, "mode", mode, modes, &v)))
        o.mode = (ct_tile_mode)v;
    if (!st && format && !(st = pick(ctx, "format", format, formats, &v)))
        o.format = (ct_tile_format)v;
    if (!st && sinkname && !(st = pick(ctx, "sink", sinkname, sinks, &v)))
        o.sink = (ct_tile_sink_kind)v;
    if (!st && resampling && !(st = pick(ctx, "resampling", resampling, algs, &v)))
        o.resampling = (ct_tile_resampling)v;
    if (st)
        goto end;
    if (!strcmp(cli.operand[0], "merge")) {
        /* the shards carry the run's options: one given here would be ignored */
        if (zoom || mode || style || format || sinkname || resampling || o.name || o.description || o.attribution ||
            fields.n || o.class_field || force || since || o.full || shard || o.band || o.quality || o.level) {
            st = ct_error(ctx, CT_ERR_USAGE, "merge takes no tiling options: the shards were made with them");
            goto end;
        }
        if (cli.noperands < 3) {
            st = ct_error(ctx, CT_ERR_USAGE, "merge: expected OUTPUT SHARD...");
            goto end;
        }
        ct_tile_merge_opts mo = {cli.operand[1], (const char *const *)cli.operand + 2, cli.noperands - 2, &sum};
        o.output = mo.output;
        st = ct_tile_merge(ctx, &mo);
        goto report;
    }
    if (cli.noperands != 2) {
        st = ct_error(ctx, CT_ERR_USAGE, "unexpected operand '%s'", cli.operand[2]);
        goto end;
    }
    o.input = cli.operand[0];
    o.output = cli.operand[1];
    if (shard && (sscanf(shard, "%d/%d%n", &o.shard_k, &o.shard_n, &v) != 2 || shard[v] || o.shard_n < 1 ||
                  o.shard_k < 0 || o.shard_k >= o.shard_n)) {
        st = ct_error(ctx, CT_ERR_USAGE, "--shard %s: give K/N with 0 <= K < N", shard);
        goto end;
    }
    o.sdi = cli.common.sdi;
    if ((since || o.full) && !ct_sdi_ref(o.input)) {
        st = ct_error(ctx, CT_ERR_USAGE, "%s: only an sdi: input has versions to remake tiles since", since ? "--since" : "--full");
        goto end;
    }
    if (since && o.full) {
        st = ct_error(ctx, CT_ERR_USAGE, "--since and --full: give one (--full makes every tile)");
        goto end;
    }
    if (since) {
        char *end;
        o.since = strtoll(since, &end, 10);
        if (end == since || *end || o.since < 1) {
            st = ct_error(ctx, CT_ERR_USAGE, "--since %s: give an SDI version number (1 or more)", since);
            goto end;
        }
    }
    o.force = force;
    if (fields.n) {
        o.fields = fields.v;
        o.nfields = fields.n;
    }
    o.summary = &sum;
    const char *leaves = getenv("CT_PMTILES_LEAF_ENTRIES"); /* testing aid, see ct-tile(1) */
    if (leaves)
        o.pmtiles_leaf_entries = atoi(leaves);
    /* a ramp is needed unless the raster is RGB; a shipped default when none is named */
    const char *ref = ct_sdi_ref(o.input);
    int vector = ref ? ct_sdi_layer_by_name(ref) >= 0 : is_vector(o.input);
    if (style || (o.mode != CT_TILE_RGB && o.mode != CT_TILE_MVT && !vector)) {
        const char *name = style ? style : o.mode == CT_TILE_DEPTH ? "flood-depth" : "dem-hypsometry";
        if ((st = ct_style_find(ctx, name, &style_path)) || (st = ct_style_load(ctx, style_path, &sty)))
            goto end;
        o.style = sty;
    }
    st = ct_tile_run(ctx, &o);
report:
    if (st == CT_OK && cli.common.json) {
        json_object *j = ct_tile_summary_json(&sum);
        json_object_object_add(j, "output", json_object_new_string(o.output));
        puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
        json_object_put(j);
    } else if (st == CT_OK && !cli.common.quiet && sum.since >= 0)
        fprintf(stderr, "ct-tile: %s: changes after version %lld: %llu tiles made again, %llu kept, now at SDI "
                        "version %lld, %.2f s\n",
                o.output, sum.since, (unsigned long long)(sum.tiles_written - sum.tiles_kept),
                (unsigned long long)sum.tiles_kept, sum.sdi_version, sum.seconds);
    else if (st == CT_OK && !cli.common.quiet)
        fprintf(stderr, "ct-tile: %s: zooms %d-%d, %llu tiles written (%llu distinct), %llu empty skipped, "
                        "%.1f MB, %.2f s, %.0f tiles/s\n",
                o.output, sum.minzoom, sum.maxzoom, (unsigned long long)sum.tiles_written,
                (unsigned long long)sum.tiles_unique, (unsigned long long)sum.tiles_empty, sum.bytes / 1e6,
                sum.seconds, sum.seconds > 0 ? (sum.tiles_written + sum.tiles_empty) / sum.seconds : 0);
end:
    ct_style_free(sty);
    free(style_path);
    return ct_cli_finish(ctx, &cli, st);
}
