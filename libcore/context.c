/* context.c — errors, log, progress, threads, and the shared option parser. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct/context.h"
#include "context_int.h"

#ifndef CT_VERSION
#define CT_VERSION "0.0.0"
#endif

const char *ct_version(void) { return CT_VERSION; }

const char *ct_strerror(ct_status st)
{
    switch (st) {
    case CT_OK: return "success";
    case CT_ERR_USAGE: return "usage error";
    case CT_ERR_IO: return "input/output error";
    case CT_ERR_FORMAT: return "unreadable or corrupt dataset";
    case CT_ERR_CRS: return "coordinate reference system error";
    case CT_ERR_ENCODING: return "text encoding error";
    case CT_ERR_INVALID: return "invalid data";
    case CT_ERR_DB: return "SDI store error";
    case CT_ERR_NOMEM: return "out of memory";
    case CT_ERR_CANCELLED: return "cancelled";
    case CT_ERR_UNSUPPORTED: return "not supported";
    case CT_REJECTED: return "finished with rejected input";
    }
    return "unknown status";
}

int ct_exit_code(ct_status st)
{
    switch (st) {
    case CT_OK: return 0;
    case CT_ERR_USAGE: return 2;
    case CT_REJECTED: return 3;
    default: return 1;
    }
}

ct_ctx *ct_ctx_new(void)
{
    ct_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->threads = 1;
    return ctx;
}

void ct_ctx_free(ct_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < CT_CTX_NSLOTS; i++)
        if (ctx->slot[i].free)
            ctx->slot[i].free(ctx->slot[i].ptr);
    free(ctx);
}

void ct_ctx_set_log(ct_ctx *ctx, ct_log_fn fn, void *user)
{
    ctx->log = fn;
    ctx->log_user = user;
}

void ct_ctx_set_progress(ct_ctx *ctx, ct_progress_fn fn, void *user)
{
    ctx->progress = fn;
    ctx->progress_user = user;
}

void ct_ctx_set_threads(ct_ctx *ctx, int n)
{
    if (n <= 0) {
        long np = sysconf(_SC_NPROCESSORS_ONLN);
        n = np > 0 ? (int)np : 1;
    }
    ctx->threads = n;
}

int ct_ctx_threads(const ct_ctx *ctx) { return ctx->threads > 0 ? ctx->threads : 1; }

ct_status ct_error(ct_ctx *ctx, ct_status st, const char *fmt, ...)
{
    /* formatted aside first: callers may pass the current message as an argument, to wrap it */
    char msg[sizeof ctx->errmsg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(ctx->errmsg, msg, sizeof msg);
    ctx->status = st;
    return st;
}

const char *ct_ctx_errmsg(const ct_ctx *ctx) { return ctx->errmsg; }
ct_status ct_ctx_status(const ct_ctx *ctx) { return ctx->status; }

void ct_ctx_clear_error(ct_ctx *ctx)
{
    ctx->errmsg[0] = '\0';
    ctx->status = CT_OK;
}

void ct_log(ct_ctx *ctx, ct_log_level level, const char *fmt, ...)
{
    if (!ctx->log)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log(level, buf, ctx->log_user);
}

ct_status ct_progress(ct_ctx *ctx, double done, const char *what)
{
    if (ctx->progress && !ctx->progress(done, what, ctx->progress_user))
        return ct_error(ctx, CT_ERR_CANCELLED, "%s: cancelled", what ? what : "run");
    return CT_OK;
}

void *ct_ctx_slot(ct_ctx *ctx, int slot) { return ctx->slot[slot].ptr; }

void ct_ctx_set_slot(ct_ctx *ctx, int slot, void *ptr, void (*free_fn)(void *))
{
    if (ctx->slot[slot].free)
        ctx->slot[slot].free(ctx->slot[slot].ptr);
    ctx->slot[slot].ptr = ptr;
    ctx->slot[slot].free = free_fn;
}

/* ---------------------------------------------------------------------------------------- */
/* Terminal printers                                                                         */

/* The bar state lives in statics: there is one stderr per process, and tools are single-run. */
static int term_last_tenth = -1;
static int term_bar_open;

int ct_progress_term(double done, const char *what, void *user)
{
    const char *tool = user ? (const char *)user : "ctgis";
    if (done < 0)
        done = 0;
    if (done > 1)
        done = 1;
    if (isatty(STDERR_FILENO)) {
        enum { W = 40 };
        int fill = (int)(done * W + 0.5);
        char bar[W + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(W - fill));
        bar[W] = '\0';
        fprintf(stderr, "\r%s: [%s] %3d%% %-30.30s", tool, bar, (int)(done * 100 + 0.5),
                what ? what : "");
        term_bar_open = done < 1.0;
        if (!term_bar_open)
            fputc('\n', stderr);
        fflush(stderr);
        return 1;
    }
    int tenth = (int)(done * 10 + 1e-9);
    if (tenth != term_last_tenth) {
        term_last_tenth = tenth;
        fprintf(stderr, "%s: %d%%%s%s\n", tool, tenth * 10, what ? " " : "", what ? what : "");
        if (tenth >= 10)
            term_last_tenth = -1;
    }
    return 1;
}

void ct_log_term(ct_log_level level, const char *msg, void *user)
{
    const char *tool = user ? (const char *)user : "ctgis";
    static const char *prefix[] = {"debug: ", "", "warning: ", "error: "};
    if (level == CT_LOG_DEBUG && !getenv("CT_DEBUG"))
        return;
    if (term_bar_open) {
        fputc('\n', stderr);
        term_bar_open = 0;
    }
    fprintf(stderr, "%s: %s%s\n", tool, prefix[level], msg);
}

/* ---------------------------------------------------------------------------------------- */
/* Option parsing                                                                            */

typedef struct cli_priv {
    ct_strlist *lists[64]; /* lists this parse appended to, freed by ct_cli_free */
    int nlists;
    int quiet_progress;
} cli_priv;

/* The shared options, in the order --help lists them after the tool's own. */
enum { SH_SDI, SH_THREADS, SH_QUIET, SH_JSON, SH_HELP, SH_VERSION, SH_N };
static const struct {
    char short_name;
    const char *long_name;
    const char *argname;
    const char *help;
    unsigned need; /* CT_CLI_* bit, 0 = always */
} shared_opts[SH_N] = {
    [SH_SDI] = {0, "sdi", "SDI", "the SDI: a database file or PG:CONNINFO (default $CT_SDI)", CT_CLI_SDI},
    [SH_THREADS] = {0, "threads", "N", "worker threads (default: all processors)", CT_CLI_THREADS},
    [SH_QUIET] = {'q', "quiet", NULL, "no progress or messages but errors", 0},
    [SH_JSON] = {0, "json", NULL, "machine-readable JSON output on stdout", 0},
    [SH_HELP] = {'h', "help", NULL, "show this help and exit", 0},
    [SH_VERSION] = {0, "version", NULL, "show the version and exit", 0},
};

static void usage_line(FILE *f, char s, const char *l, const char *arg, const char *help)
{
    char left[64];
    int n = 0;
    if (s && l)
        n = snprintf(left, sizeof left, "-%c, --%s", s, l);
    else if (s)
        n = snprintf(left, sizeof left, "-%c", s);
    else
        n = snprintf(left, sizeof left, "    --%s", l);
    if (arg && n > 0 && (size_t)n < sizeof left)
        snprintf(left + n, sizeof left - (size_t)n, " %s", arg);
    fprintf(f, "  %-26s %s\n", left, help ? help : "");
}

void ct_cli_usage(const ct_cli *cli, void *stream)
{
    FILE *f = stream;
    fprintf(f, "usage: %s [options]%s%s\n", cli->name, cli->operands ? " " : "",
            cli->operands ? cli->operands : "");
    if (cli->summary)
        fprintf(f, "%s\n", cli->summary);
    fputs("\noptions:\n", f);
    for (const ct_option *o = cli->options; o && o->type != CT_OPT_END; o++)
        usage_line(f, o->short_name, o->long_name, o->argname, o->help);
    for (int i = 0; i < SH_N; i++)
        if (!shared_opts[i].need || (cli->shared & shared_opts[i].need))
            usage_line(f, shared_opts[i].short_name, shared_opts[i].long_name,
                       shared_opts[i].argname, shared_opts[i].help);
    fputs("\nexit status: 0 success, 1 failure, 2 usage error, 3 finished with rejected input\n", f);
}

static int parse_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return 0;
    *out = v;
    return 1;
}

/* Stores arg into the option's target. */
static ct_status set_value(ct_ctx *ctx, ct_cli *cli, const ct_option *o, const char *shown,
                           const char *arg)
{
    cli_priv *p = cli->priv_;
    switch (o->type) {
    case CT_OPT_FLAG: *(int *)o->value = 1; return CT_OK;
    case CT_OPT_STRING: *(const char **)o->value = arg; return CT_OK;
    case CT_OPT_INT:
        if (!parse_int(arg, o->value))
            return ct_error(ctx, CT_ERR_USAGE, "option %s: '%s' is not a whole number", shown, arg);
        return CT_OK;
    case CT_OPT_DOUBLE:
        if (!parse_double(arg, o->value))
            return ct_error(ctx, CT_ERR_USAGE, "option %s: '%s' is not a number", shown, arg);
        return CT_OK;
    case CT_OPT_LIST: {
        ct_strlist *l = o->value;
        if (ct_resize(&l->v, (size_t)l->n + 1, sizeof *l->v))
            return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
        l->v[l->n++] = arg;
        int known = 0;
        for (int i = 0; i < p->nlists; i++)
            known |= p->lists[i] == l;
        if (!known && p->nlists < (int)(sizeof p->lists / sizeof p->lists[0]))
            p->lists[p->nlists++] = l;
        return CT_OK;
    }
    case CT_OPT_END: break;
    }
    return ct_error(ctx, CT_ERR_USAGE, "option %s: bad option table", shown);
}

/* A shared option as a ct_option, so that one code path handles values. */
static int find_shared(const ct_cli *cli, char s, const char *l, size_t llen)
{
    for (int i = 0; i < SH_N; i++) {
        if (shared_opts[i].need && !(cli->shared & shared_opts[i].need))
            continue;
        if (s && shared_opts[i].short_name == s)
            return i;
        if (l && strlen(shared_opts[i].long_name) == llen && !strncmp(shared_opts[i].long_name, l, llen))
            return i;
    }
    return -1;
}

static const ct_option *find_own(const ct_cli *cli, char s, const char *l, size_t llen)
{
    for (const ct_option *o = cli->options; o && o->type != CT_OPT_END; o++) {
        if (s && o->short_name == s)
            return o;
        if (l && o->long_name && strlen(o->long_name) == llen && !strncmp(o->long_name, l, llen))
            return o;
    }
    return NULL;
}

/* Handles one option found by name; *argi advances past a separate argument. */
static ct_status take_option(ct_ctx *ctx, ct_cli *cli, char s, const char *l, size_t llen,
                             const char *inline_arg, int argc, char **argv, int *argi)
{
    char shown[80];
    if (s)
        snprintf(shown, sizeof shown, "-%c", s);
    else
        snprintf(shown, sizeof shown, "--%.*s", (int)llen, l);

    int sh = find_shared(cli, s, l, llen);
    const ct_option *own = sh < 0 ? find_own(cli, s, l, llen) : NULL;
    if (sh < 0 && !own)
        return ct_error(ctx, CT_ERR_USAGE, "unknown option %s", shown);

    int takes_arg = sh >= 0 ? shared_opts[sh].argname != NULL : own->type != CT_OPT_FLAG;
    const char *arg = NULL;
    if (takes_arg) {
        if (inline_arg)
            arg = inline_arg;
        else if (*argi + 1 < argc)
            arg = argv[++*argi];
        else
            return ct_error(ctx, CT_ERR_USAGE, "option %s needs an argument", shown);
    } else if (inline_arg) {
        return ct_error(ctx, CT_ERR_USAGE, "option %s takes no argument", shown);
    }

    if (own)
        return set_value(ctx, cli, own, shown, arg);
    switch (sh) {
    case SH_SDI: cli->common.sdi = arg; break;
    case SH_THREADS:
        if (!parse_int(arg, &cli->common.threads) || cli->common.threads < 1)
            return ct_error(ctx, CT_ERR_USAGE, "option --threads: '%s' is not a positive whole number", arg);
        break;
    case SH_QUIET: cli->common.quiet = 1; break;
    case SH_JSON: cli->common.json = 1; break;
    case SH_HELP:
        ct_cli_usage(cli, stdout);
        cli->done = 1;
        break;
    case SH_VERSION:
        printf("%s (ctgis) %s\n", cli->name, ct_version());
        cli->done = 1;
        break;
    }
    return CT_OK;
}

ct_status ct_cli_parse(ct_ctx *ctx, ct_cli *cli, int argc, char **argv)
{
    ct_status st = CT_OK;
    memset(&cli->common, 0, sizeof cli->common);
    cli->done = 0;
    cli->noperands = 0;
    cli->operand = calloc((size_t)argc + 1, sizeof *cli->operand);
    cli->priv_ = calloc(1, sizeof(cli_priv));
    if (!cli->operand || !cli->priv_)
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");

    size_t cmdlen = 1;
    for (int i = 0; i < argc; i++)
        cmdlen += strlen(argv[i]) + 1;
    if (!(cli->command_line = calloc(cmdlen, 1)))
        return ct_error(ctx, CT_ERR_NOMEM, "out of memory");
    for (int i = 0; i < argc; i++) {
        strcat(cli->command_line, argv[i]);
        if (i + 1 < argc)
            strcat(cli->command_line, " ");
    }

    ct_ctx_set_log(ctx, ct_log_term, (void *)cli->name);
    int only_operands = 0;
    for (int i = 1; i < argc && !cli->done; i++) {
        const char *a = argv[i];
        if (only_operands || a[0] != '-' || a[1] == '\0') {
            cli->operand[cli->noperands++] = argv[i];
        } else if (a[1] == '-' && a[2] == '\0') {
            only_operands = 1;
        } else if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            st = take_option(ctx, cli, 0, name, len, eq ? eq + 1 : NULL, argc, argv, &i);
        } else {
            /* bundled short options: -qv; a short option with an argument takes the rest */
            for (const char *c = a + 1; *c && !st && !cli->done; c++) {
                const ct_option *own = find_own(cli, *c, NULL, 0);
                int wants = own ? own->type != CT_OPT_FLAG : 0;
                int sh = find_shared(cli, *c, NULL, 0);
                if (sh >= 0)
                    wants = shared_opts[sh].argname != NULL;
                const char *inl = wants && c[1] ? c + 1 : NULL;
                st = take_option(ctx, cli, *c, NULL, 0, inl, argc, argv, &i);
                if (inl)
                    break;
            }
        }
        if (st)
            return st;
    }
    if (cli->done)
        return CT_OK;

    if (!cli->common.sdi && (cli->shared & CT_CLI_SDI))
        cli->common.sdi = getenv("CT_SDI") && *getenv("CT_SDI") ? getenv("CT_SDI") : NULL; /* CT_SDI= unsets it */
    if (cli->noperands < cli->min_operands)
        return ct_error(ctx, CT_ERR_USAGE, "expected %s", cli->operands ? cli->operands : "operands");
    if (cli->max_operands >= 0 && cli->noperands > cli->max_operands)
        return ct_error(ctx, CT_ERR_USAGE, "unexpected operand '%s'", cli->operand[cli->max_operands]);

    ct_ctx_set_threads(ctx, cli->common.threads);
    if (cli->common.quiet)
        ct_ctx_set_log(ctx, NULL, NULL);
    if (!cli->common.quiet && !cli->common.json)
        ct_ctx_set_progress(ctx, ct_progress_term, (void *)cli->name);
    return CT_OK;
}

void ct_cli_free(ct_cli *cli)
{
    cli_priv *p = cli->priv_;
    if (p) {
        for (int i = 0; i < p->nlists; i++) {
            free(p->lists[i]->v);
            p->lists[i]->v = NULL;
            p->lists[i]->n = 0;
        }
        free(p);
    }
    free(cli->operand);
    free(cli->command_line);
    cli->operand = NULL;
    cli->command_line = NULL;
    cli->priv_ = NULL;
}

int ct_cli_finish(ct_ctx *ctx, ct_cli *cli, ct_status st)
{
    if (st != CT_OK) {
        const char *msg = ct_ctx_errmsg(ctx);
        if (term_bar_open)
            fputc('\n', stderr);
        fprintf(stderr, "%s: %s\n", cli->name, *msg ? msg : ct_strerror(st));
        if (st == CT_ERR_USAGE)
            fprintf(stderr, "Try '%s --help' for more information.\n", cli->name);
    }
    ct_cli_free(cli);
    ct_ctx_free(ctx);
    return ct_exit_code(st);
}

size_t ct_grow_cap(size_t cap, size_t need)
{
    if (need <= cap)
        return cap;
    size_t nc = cap > SIZE_MAX / 2 ? SIZE_MAX : 2 * cap;
    if (nc < 16)
        nc = 16;
    return nc < need ? need : nc;
}

int ct_resize(void *p, size_t n, size_t size)
{
    /* p is a T ** handed over as void *: its pointer is copied out and back with memcpy, which
     * is well defined for any object pointer type (all have void *'s representation here). */
    void *old, *nw;
    if (size && n > SIZE_MAX / size)
        return -1;
    size_t bytes = n * size;
    memcpy(&old, p, sizeof old);
    nw = realloc(old, bytes ? bytes : 1);
    if (!nw)
        return -1;
    memcpy(p, &nw, sizeof nw);
    return 0;
}

int ct_grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t nc = ct_grow_cap(*cap, need);
    if (nc == *cap)
        return 0;
    if (ct_resize(p, nc, size))
        return -1;
    *cap = nc;
    return 0;
}
