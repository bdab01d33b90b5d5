/* flood_int.h — what the parts of the flood module share (libcore only). */
#ifndef CT_FLOOD_INT_H
#define CT_FLOOD_INT_H

#include <pthread.h>
#include <stdio.h>
#include "ct/flood.h"

/* A text file written to a temporary name and renamed into place on commit. */
typedef struct ct_atext {
    FILE *f;
    char path[1024], tmp[1100];
} ct_atext;

ct_status ct_flood_atext_open(ct_ctx *ctx, const char *path, ct_atext *a);
ct_status ct_flood_atext_commit(ct_ctx *ctx, ct_atext *a);
void ct_flood_atext_abort(ct_atext *a);

int ct_flood_parse_duration(const char *v, double *out);



/* Outputs staged in OUTDIR/.ct-flood.PID and moved into OUTDIR together on commit. */
#define CT_STAGE_MAX 512
typedef struct ct_stage {
    char outdir[1024], dir[1100], buf[1400];
    char names[CT_STAGE_MAX][64];
    int n, open;
    /* after the commit: the outputs it replaced, still open, closed on a thread of its own */
    int replaced[CT_STAGE_MAX], nreplaced, closing;
    pthread_t closer;
} ct_stage;

ct_status ct_flood_stage_open(ct_ctx *ctx, const char *outdir, ct_stage *sg);
/* The staged path of an output file NAME (registered for the commit); valid until the next call. */
const char *ct_flood_stage_path(ct_stage *sg, const char *name);
ct_status ct_flood_stage_commit(ct_ctx *ctx, ct_stage *sg);
/* Removes what is staged unless committed; waits until the replaced outputs are closed. */
void ct_flood_stage_abort(ct_stage *sg);

struct ct_scenario;
ct_status ct_flood_simulate_run(ct_ctx *ctx, const ct_scenario *s, const ct_flood_opts *opts, const char *outdir);
#endif
