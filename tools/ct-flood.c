/* ct-flood — flood scenarios: connected bathtub levels and the 2D local inertial model. */
#include <stdlib.h>
#include <string.h>

#include "ct/context.h"
#include "ct/flood.h"

int main(int argc, char **argv)
{
    ct_flood_opts o = {0};
    const char *dem = NULL, *dikes = NULL, *level = NULL, *seed = NULL;
    const char *conn = NULL;
    ct_strlist set = {0};
    const ct_option options[] = {
        {CT_OPT_STRING, 'o', "output", &o.outdir, "DIR", "output folder (default: the scenario's 'output', else .)"},
        {CT_OPT_LIST, 0, "set", &set, "KEY=VALUE", "override a scenario key (repeatable; see ct-scenario(5))"},
        {CT_OPT_STRING, 0, "dem", &dem, "FILE", "the DEM (same as --set dem=FILE)"},
        {CT_OPT_STRING, 0, "dikes", &dikes, "FILE", "the dike lines (same as --set dikes=FILE)"},
        {CT_OPT_STRING, 0, "level", &level, "M[,M...]", "water level(s) in metres (same as --set level=...)"},
        {CT_OPT_STRING, 0, "seed", &seed, "X,Y", "a source point (same as --set seed=X,Y)"},
        {CT_OPT_STRING, 0, "connectivity", &conn, "4|8", "bathtub: neighbours water spreads to (default 8)"},
        {CT_OPT_FLAG, 0, "no-depth", &o.no_depth, NULL, "bathtub: write extent rasters only"},
        {CT_OPT_FLAG, 0, "deflate", &o.deflate, NULL,
         "bathtub: DEFLATE extents (default ZSTD; mm depths are DEFLATE anyway), for readers without zstd"},
        {CT_OPT_STRING, 0, "depth-type", &o.depth_type, "uint16|float32",
         "bathtub: depth cells in millimetres (default, when they fit) or Float32 metres"},
        {CT_OPT_FLAG, 0, "resume", &o.resume, NULL, "simulate: continue from the checkpoint in the output folder"},
        {CT_OPT_STRING, 0, "run", &o.run, "NAME", "the run's name in the SDI (default: the scenario file's name)"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-flood",
        .operands = "bathtub|simulate|run [SCENARIO]",
        .summary = "Flood scenarios: connected static inundation at any number of water levels (bathtub),\n"
                   "or a 2D local inertial simulation of an event (simulate); 'run' takes the scenario's model.",
        .options = options,
        .shared = CT_CLI_THREADS | CT_CLI_SDI,
        .min_operands = 1,
        .max_operands = 2,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    const char **sets = NULL;
    if (st == CT_OK && !cli.done) {
        const char *cmd = cli.operand[0];
        if (!strcmp(cmd, "bathtub"))
            o.model = CT_FLOOD_BATHTUB;
        else if (!strcmp(cmd, "simulate"))
            o.model = CT_FLOOD_SIMULATE;
        else if (!strcmp(cmd, "run"))
            o.model = CT_FLOOD_FROM_SCENARIO;
        else
            st = ct_error(ctx, CT_ERR_USAGE, "unknown command '%s': bathtub, simulate or run", cmd);
        o.scenario = cli.noperands > 1 ? cli.operand[1] : NULL;
        /* dedicated options are --set overrides, applied after the --set list */
        sets = calloc((size_t)set.n + 6, sizeof *sets);
        char *extra[5] = {0};
        int ne = 0;
        const char *keys[5] = {"dem", "dikes", "level", "seed", "connectivity"};
        const char *vals[5] = {dem, dikes, level, seed, conn};
        if (!st && sets) {
            for (int i = 0; i < set.n; i++)
                sets[i] = set.v[i];
            o.nset = set.n;
            for (int k = 0; k < 5; k++)
                if (vals[k]) {
                    size_t len = strlen(keys[k]) + strlen(vals[k]) + 2;
                    extra[ne] = malloc(len);
                    if (extra[ne]) {
                        strcpy(extra[ne], keys[k]);
                        strcat(extra[ne], "=");
                        strcat(extra[ne], vals[k]);
                        sets[o.nset++] = extra[ne++];
                    }
                }
            o.set = sets;
            o.json = cli.common.json;
            o.sdi = cli.common.sdi;
            o.invocation = cli.command_line;
            st = ct_flood_run(ctx, &o);
        }
        for (int k = 0; k < ne; k++)
            free(extra[k]);
    }
    free(sets);
    return ct_cli_finish(ctx, &cli, st);
}
