/* context_int.h — the inside of ct_ctx, shared by the libcore modules only. */
#ifndef CT_CONTEXT_INT_H
#define CT_CONTEXT_INT_H

#include "ct/context.h"

/*
 * Slots let a later module keep a per-context object (a GEOS handle, a cache) without this
 * base module knowing its type: context.c only frees it with the function given.
 */
enum { CT_SLOT_GEOS = 0, CT_SLOT_DIGEST = 1, CT_CTX_NSLOTS = 4 };

struct ct_ctx {
    char errmsg[1024];
    ct_status status;
    ct_log_fn log;
    void *log_user;
    ct_progress_fn progress;
    void *progress_user;
    int threads;
    struct {
        void *ptr;
        void (*free)(void *);
    } slot[CT_CTX_NSLOTS];
};

void *ct_ctx_slot(ct_ctx *ctx, int slot);
void ct_ctx_set_slot(ct_ctx *ctx, int slot, void *ptr, void (*free_fn)(void *));

#endif
