/*
 * ct/context.h — the context every ctgis call runs in: errors, logging, progress, threads,
 * and the option parsing shared by all tools.
 *
 * Design
 * ------
 * libctcore is a quiet library: it never prints to stdout, never exits, and reports through the
 * ct_ctx it is handed. A call that fails returns a ct_status other than CT_OK and leaves a
 * message on the context (ct_ctx_errmsg) that names the file, feature or line at fault. Log
 * lines and progress go to callbacks the caller installs; the tools install the terminal
 * printers defined at the end of this header unless -q is given.
 *
 * A context is not thread-safe: use one per thread, or one per run whose library calls spread
 * their own work over ct_ctx_threads() threads.
 *
 * Every tool is also a library call ct_<tool>_run(ct_ctx *, const ct_<tool>_opts *); the
 * tool's main() only parses options (ct_cli_parse) and maps the status to an exit code
 * (ct_exit_code): 0 success, 1 failure, 2 usage error, 3 finished with rejected input.
 */
#ifndef CT_CONTEXT_H
#define CT_CONTEXT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The outcome of a library call. CT_OK is 0; ct_strerror() names each. */
typedef enum ct_status {
    CT_OK = 0,
    CT_ERR_USAGE,       /**< bad options or arguments from the caller */
    CT_ERR_IO,          /**< a file could not be opened, read or written */
    CT_ERR_FORMAT,      /**< not a dataset ctgis can read, or a corrupt one */
    CT_ERR_CRS,         /**< unknown CRS, or a transformation that cannot be built */
    CT_ERR_ENCODING,    /**< text that is not valid in the named encoding */
    CT_ERR_INVALID,     /**< input that reads but makes no sense (empty, out of range, ...) */
    CT_ERR_DB,          /**< the SDI store failed */
    CT_ERR_NOMEM,       /**< out of memory */
    CT_ERR_CANCELLED,   /**< the progress callback asked to stop */
    CT_ERR_UNSUPPORTED, /**< a valid request that this build cannot do */
    CT_REJECTED         /**< the run finished, but some input was rejected (exit status 3) */
} ct_status;

/** A short English description of a status; never NULL. */
const char *ct_strerror(ct_status st);

/** The process exit code for a status: 0 ok, 2 usage, 3 rejected, 1 anything else. */
int ct_exit_code(ct_status st);

typedef enum ct_log_level {
    CT_LOG_DEBUG = 0,
    CT_LOG_INFO,
    CT_LOG_WARN,
    CT_LOG_ERROR
} ct_log_level;

/** Receives one log line (no trailing newline). */
typedef void (*ct_log_fn)(ct_log_level level, const char *msg, void *user);

/**
 * Receives progress: done runs from 0.0 to 1.0, what says what is being done (may be NULL).
 * Return non-zero to go on, 0 to cancel: the running call then returns CT_ERR_CANCELLED.
 */
typedef int (*ct_progress_fn)(double done, const char *what, void *user);

typedef struct ct_ctx ct_ctx;

/** @return a new context (no callbacks, 1 thread); free with ct_ctx_free(). NULL if out of memory. */
ct_ctx *ct_ctx_new(void);
/** Frees a context and what it owns; NULL is a no-op. */
void ct_ctx_free(ct_ctx *ctx);

void ct_ctx_set_log(ct_ctx *ctx, ct_log_fn fn, void *user);
void ct_ctx_set_progress(ct_ctx *ctx, ct_progress_fn fn, void *user);

/** Sets the number of worker threads; n <= 0 means all processors. */
void ct_ctx_set_threads(ct_ctx *ctx, int n);
/** @return the number of worker threads library calls may use (>= 1). */
int ct_ctx_threads(const ct_ctx *ctx);

/**
 * Records an error message (printf-style) and returns st, so that a failing path reads
 * `return ct_error(ctx, CT_ERR_IO, "%s: cannot open", path);`. A later error replaces it.
 */
ct_status ct_error(ct_ctx *ctx, ct_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** The message of the last error, or "" when none; owned by the context. */
const char *ct_ctx_errmsg(const ct_ctx *ctx);
/** The status of the last ct_error(), CT_OK when none. */
ct_status ct_ctx_status(const ct_ctx *ctx);
/** Forgets the last error. */
void ct_ctx_clear_error(ct_ctx *ctx);

/** Sends a log line to the log callback (dropped when none is installed). */
void ct_log(ct_ctx *ctx, ct_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/**
 * Reports progress to the callback. @return CT_OK, or CT_ERR_CANCELLED (with a message) when
 * the callback asked to stop, so that loops read `if ((st = ct_progress(ctx, f, what))) goto out;`.
 */
ct_status ct_progress(ct_ctx *ctx, double done, const char *what);

/* ---------------------------------------------------------------------------------------- */
/* Growing arrays: the one place that doubles a capacity and checks the multiplication.      */

/** The capacity to grow to so that need elements fit: cap when they already do, else the
 *  larger of need and twice cap (at least 16), so that n appends cost O(n) copies. */
size_t ct_grow_cap(size_t cap, size_t need);

/** Resizes the array whose address is p (a T ** passed as void *) to n elements of size
 *  bytes. @return 0, or -1 when memory runs out or n * size overflows; *p is then unchanged
 *  (still valid, still owned by the caller). */
int ct_resize(void *p, size_t n, size_t size);

/** Makes room for need elements in the array at p (a T **) of capacity *cap elements, growing
 *  it by ct_grow_cap(). @return 0, or -1 with *p and *cap unchanged. Arrays that grow side by
 *  side share one capacity: compute it with ct_grow_cap() and ct_resize() each. */
int ct_grow(void *p, size_t *cap, size_t need, size_t size);

/* ---------------------------------------------------------------------------------------- */
/* Terminal printers the tools install (they write to stderr, never to stdout).              */

/**
 * A progress printer for stderr: a bar redrawn in place when stderr is a terminal, otherwise a
 * line at every 10 %. user is the tool name (const char *). Always returns 1.
 */
int ct_progress_term(double done, const char *what, void *user);

/** A log printer for stderr: "tool: warning: msg". user is the tool name; DEBUG lines are
 *  printed only when the environment variable CT_DEBUG is set. */
void ct_log_term(ct_log_level level, const char *msg, void *user);

/* ---------------------------------------------------------------------------------------- */
/* Option parsing shared by all tools.                                                       */

typedef enum ct_opt_type {
    CT_OPT_END = 0, /**< terminates a table */
    CT_OPT_FLAG,    /**< no argument; sets *(int *)value to 1 */
    CT_OPT_STRING,  /**< *(const char **)value = the argument (points into argv) */
    CT_OPT_INT,     /**< *(int *)value = the argument, checked to be a whole number */
    CT_OPT_DOUBLE,  /**< *(double *)value = the argument, checked to be a number */
    CT_OPT_LIST     /**< appends the argument to a ct_strlist at value (repeatable option) */
} ct_opt_type;

/** A repeatable option's values; the array is owned by the ct_cli and freed by ct_cli_free(). */
typedef struct ct_strlist {
    const char **v;
    int n;
} ct_strlist;

/** One entry of a tool's option table. short_name 0 when there is none. */
typedef struct ct_option {
    ct_opt_type type;
    char short_name;
    const char *long_name;
    void *value;
    const char *argname; /**< placeholder in --help, e.g. "LEVEL"; NULL for flags */
    const char *help;
} ct_option;

/** Which shared options a tool accepts besides -q, --json, --help and --version. */
enum {
    CT_CLI_SDI = 1 << 0,    /**< --sdi SDI (default: the CT_SDI environment variable) */
    CT_CLI_THREADS = 1 << 1 /**< --threads N (default: all processors) */
};

/** The shared options after parsing. */
typedef struct ct_common_opts {
    const char *sdi; /**< --sdi, or $CT_SDI, or NULL */
    int threads;     /**< --threads, 0 when not given */
    int quiet;       /**< -q */
    int json;        /**< --json */
} ct_common_opts;

/** A tool's command-line description. */
typedef struct ct_cli {
    const char *name;      /**< "ct-info" */
    const char *operands;  /**< "FILE|SDI ..." shown after [options] in usage */
    const char *summary;   /**< one line: what the tool does */
    const ct_option *options; /**< the tool's own options, ended by CT_OPT_END; may be NULL */
    unsigned shared;       /**< CT_CLI_* bits */
    int min_operands, max_operands; /**< max < 0: no limit */
    /* filled by ct_cli_parse: */
    ct_common_opts common;
    char **operand;
    int noperands;
    int done;              /**< --help or --version was answered: exit 0 without running */
    char *command_line;    /**< argv joined by spaces, for logs such as the SDI's versions */
    void *priv_;
} ct_cli;

/**
 * Parses argv against the tool's table and the shared options: `--opt=val` and `--opt val`,
 * bundled short flags, `--` to end options. On --help prints usage to stdout, on --version the
 * version, and sets cli->done (the tool then stops with exit 0). On a bad option returns
 * CT_ERR_USAGE with a message naming it. Installs the terminal log and progress printers on
 * ctx (progress silenced by -q or --json) and sets the thread count. Free with ct_cli_free().
 */
ct_status ct_cli_parse(ct_ctx *ctx, ct_cli *cli, int argc, char **argv);

/** Prints the usage text (the same as --help) to stream, a FILE *. */
void ct_cli_usage(const ct_cli *cli, void *stream);

/** Frees what ct_cli_parse allocated; safe on a cli that was never parsed. */
void ct_cli_free(ct_cli *cli);

/**
 * Ends a tool: prints the context's error to stderr as "tool: message" when st is not CT_OK
 * (and a hint to --help on a usage error), frees cli and ctx, and returns the exit code.
 */
int ct_cli_finish(ct_ctx *ctx, ct_cli *cli, ct_status st);

/** The toolkit's version string, e.g. "0.1.0". */
const char *ct_version(void);

#ifdef __cplusplus
}
#endif
#endif /* CT_CONTEXT_H */
