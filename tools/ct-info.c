/* ct-info — describe any raster or vector dataset. */
#include <stdlib.h>

#include "ct/context.h"
#include "ct/info.h"

int main(int argc, char **argv)
{
    ct_info_opts o = {0};
    const ct_option options[] = {
        {CT_OPT_FLAG, 0, "stats", &o.stats, NULL, "compute exact band statistics (reads every cell)"},
        {CT_OPT_INT, 0, "sample", &o.sample, "N", "features read to guess the text encoding (default 2000)"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-info",
        .operands = "FILE|SDI ...",
        .summary = "Describe raster and vector datasets and SDIs: driver, size, CRS (VN-2000 zones\n"
                   "named), extent, bands, layers, fields and the text encoding of their attributes.",
        .options = options,
        .min_operands = 1,
        .max_operands = -1,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    if (st == CT_OK && !cli.done) {
        o.paths = (const char *const *)cli.operand;
        o.npaths = cli.noperands;
        o.json = cli.common.json;
        st = ct_info_run(ctx, &o);
    }
    return ct_cli_finish(ctx, &cli, st);
}
