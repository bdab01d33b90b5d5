/* ct-sdi — create, describe, check and manage the city SDI. */
#include "ct/context.h"
#include "ct/sdi.h"

int main(int argc, char **argv)
{
    ct_sdi_opts o = {0};
    ct_strlist include = {0};
    const ct_option options[] = {
        {CT_OPT_STRING, 0, "srs", &o.srs, "CRS", "init: the SDI's CRS (default vn2000:105)"},
        {CT_OPT_STRING, 0, "rasters", &o.rasters, "DIR", "init: the raster folder (default: beside the file, or DBNAME.rasters)"},
        {CT_OPT_STRING, 0, "key", &o.key, "KEY", "history: one feature, e.g. 12/345 (sheet/parcel)"},
        {CT_OPT_STRING, 0, "layer", &o.layer, "LAYER", "history: the layer of --key (default parcels)"},
        {CT_OPT_STRING, 'f', "format", &o.format, "DRIVER", "export: OGR driver (default: from the extension)"},
        {CT_OPT_LIST, 0, "include", &include, "FIELD", "export: also write this restricted field"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-sdi",
        .operands = "init|status|check|history|undo VERSION|export LAYER OUTPUT",
        .summary = "Create, describe, check and manage the city SDI.",
        .options = options,
        .shared = CT_CLI_SDI,
        .min_operands = 1,
        .max_operands = 3,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    if (st == CT_OK && !cli.done) {
        o.command = cli.operand[0];
        o.args = (const char *const *)cli.operand + 1;
        o.nargs = cli.noperands - 1;
        o.sdi = cli.common.sdi;
        o.json = cli.common.json;
        o.include = include.v;
        o.ninclude = include.n;
        o.invocation = cli.command_line;
        st = ct_sdi_run(ctx, &o);
    }
    return ct_cli_finish(ctx, &cli, st);
}
