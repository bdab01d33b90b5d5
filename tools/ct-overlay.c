/* ct-overlay — exact zonal statistics of rasters over polygons, and polygon overlay. */
#include <stdlib.h>
#include <string.h>

#include "ct/context.h"
#include "ct/overlay.h"

/* Parses "0,0.2,0.5,1" into v (at most max numbers). @return the count, -1 when malformed. */
static int parse_list(const char *s, double *v, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        if (n == max)
            return -1;
        v[n++] = strtod(s, &end);
        if (end == s || (*end && *end != ','))
            return -1;
        s = *end ? end + 1 : end;
    }
    return n;
}

int main(int argc, char **argv)
{
    ct_overlay_opts o = {0};
    const char *classes = NULL;
    ct_strlist fields = {0}, above = {0}, wards = {0};
    double cls[CT_ZONAL_MAX_CLASSES], abv[CT_ZONAL_MAX_CLASSES];
    const ct_option options[] = {
        {CT_OPT_STRING, 'o', "output", &o.output, "FILE", "output: .csv .geojson .gpkg ... (default CSV on stdout); impact: a folder"},
        {CT_OPT_STRING, 0, "output-layer", &o.output_layer, "NAME", "layer name in the output (default: the mode)"},
        {CT_OPT_STRING, 'l', "layer", &o.layer, "NAME", "layer of the polygon / parcel source (default the first)"},
        {CT_OPT_LIST, 0, "field", &fields, "NAME", "copy attribute NAME to the output (repeatable; default all not restricted)"},
        {CT_OPT_INT, 'b', "band", &o.band, "N", "zonal: raster band (default 1)"},
        {CT_OPT_STRING, 0, "classes", &classes, "LIST", "zonal: class breaks (default 0,0.2,0.5,1)"},
        {CT_OPT_LIST, 0, "above", &above, "T", "zonal: also the area of cells above T (repeatable)"},
        {CT_OPT_DOUBLE, 0, "wet", &o.params.wet, "T", "zonal: a cell is wet (flooded) above T (default 0)"},
        {CT_OPT_FLAG, 0, "majority", &o.params.majority, NULL, "zonal: also the majority value"},
        {CT_OPT_STRING, 0, "raster-srs", &o.raster_srs, "SRS", "CRS of rasters that have none"},
        {CT_OPT_STRING, 0, "layer-srs", &o.layer_srs, "SRS", "CRS of a polygon layer that has none"},
        {CT_OPT_STRING, 0, "zones-layer", &o.zones_layer, "NAME", "intersect, conformance: layer of ZONES (default the first)"},
        {CT_OPT_STRING, 0, "zone-field", &o.zone_field, "NAME", "zone attribute (intersect: default the zone fid; conformance: MaQH)"},
        {CT_OPT_STRING, 0, "use-field", &o.use_field, "NAME", "conformance, impact: the parcels' current use (default MucDich; SDI: landuse)"},
        {CT_OPT_LIST, 0, "wards", &wards, "FILE", "impact: a ward layer (repeatable; default: the SDI's 2024 and 2025 wards)"},
        {CT_OPT_STRING, 0, "zones", &o.zones, "FILE", "impact: planning zones to report on (default sdi:planning_zones)"},
        {CT_OPT_STRING, 0, "run", &o.run, "NAME", "impact: the depth rasters of flood run NAME in the SDI"},
        {CT_OPT_STRING, 0, "table", &o.table, "NAME", "SDI result table (zonal) or table prefix (impact; default impact_RUN)"},
        {CT_OPT_DOUBLE, 0, "threshold", &o.threshold, "T", "impact: list parcels deeper than T (default 0.5)"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-overlay",
        .operands = "zonal RASTER ... POLYGONS | intersect|conformance PARCELS ZONES |\n"
                    "       impact -o DIR RASTER [PARCELS] | impact -o DIR --run NAME [PARCELS]",
        .summary = "Overlay rasters and polygons: exact zonal statistics (cells weighted by the\n"
                   "fraction of their area inside each polygon), parcel x zone overlay, and the\n"
                   "parcels whose land use conflicts with the plan; flood impact reports. Any\n"
                   "operand may be sdi:NAME, a layer or raster of the SDI.",
        .options = options,
        .shared = CT_CLI_SDI | CT_CLI_THREADS,
        .min_operands = 1,
        .max_operands = -1,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    if (st == CT_OK && !cli.done) {
        const char *mode = cli.operand[0];
        int n = cli.noperands - 1;
        char **ops = cli.operand + 1;
        if (!strcmp(mode, "zonal")) {
            o.mode = CT_OVERLAY_ZONAL;
            if (n < 2)
                st = ct_error(ctx, CT_ERR_USAGE, "zonal takes one or more rasters and a polygon layer");
            o.rasters = (const char *const *)ops;
            o.nrasters = n - 1;
            o.polygons = n ? ops[n - 1] : NULL;
        } else if (!strcmp(mode, "impact")) {
            /* RASTER PARCELS, RASTER (parcels from the SDI), --run NAME [PARCELS] */
            o.mode = CT_OVERLAY_IMPACT;
            int nr = o.run ? 0 : 1;
            if (n < nr || n > nr + 1)
                st = ct_error(ctx, CT_ERR_USAGE, o.run ? "impact --run NAME takes at most one operand: PARCELS"
                                                       : "impact takes RASTER [PARCELS] (or --run NAME)");
            o.rasters = (const char *const *)ops;
            o.nrasters = nr;
            o.polygons = n > nr ? ops[nr] : NULL;
            o.wards = wards.v;
            o.nwards = wards.n;
        } else if (!strcmp(mode, "intersect") || !strcmp(mode, "conformance")) {
            o.mode = mode[0] == 'i' ? CT_OVERLAY_INTERSECT : CT_OVERLAY_CONFORMANCE;
            if (o.zones)
                st = ct_error(ctx, CT_ERR_USAGE, "--zones: %s takes its zones as the operand ZONES", mode);
            else if (n != 2)
                st = ct_error(ctx, CT_ERR_USAGE, "%s takes two operands: PARCELS ZONES", mode);
            o.polygons = n > 0 ? ops[0] : NULL;
            o.zones = n > 1 ? ops[1] : NULL;
        } else {
            st = ct_error(ctx, CT_ERR_USAGE, "unknown mode '%s': zonal, intersect, conformance or impact", mode);
        }
        if (!st && o.mode != CT_OVERLAY_IMPACT && (wards.n || (o.zones && o.mode == CT_OVERLAY_ZONAL) || o.threshold))
            st = ct_error(ctx, CT_ERR_USAGE, "%s: only impact uses it",
                          wards.n ? "--wards" : o.threshold ? "--threshold" : "--zones");
        if (!st && classes) {
            o.params.nclasses = parse_list(classes, cls, CT_ZONAL_MAX_CLASSES);
            o.params.classes = cls;
            if (o.params.nclasses < 1)
                st = ct_error(ctx, CT_ERR_USAGE, "--classes '%s': give up to %d numbers separated by commas",
                              classes, CT_ZONAL_MAX_CLASSES);
        }
        for (int i = 0; !st && i < above.n; i++) {
            if (i == CT_ZONAL_MAX_CLASSES || parse_list(above.v[i], &abv[i], 1) != 1)
                st = ct_error(ctx, CT_ERR_USAGE, "--above '%s': not a number (or more than %d)", above.v[i],
                              CT_ZONAL_MAX_CLASSES);
        }
        o.params.above = abv;
        o.params.nabove = above.n;
        o.fields = fields.n ? fields.v : NULL;
        o.nfields = fields.n;
        o.json = cli.common.json;
        o.sdi = cli.common.sdi;
        o.invocation = cli.command_line;
        if (!st)
            st = ct_overlay_run(ctx, &o);
    }
    return ct_cli_finish(ctx, &cli, st);
}
