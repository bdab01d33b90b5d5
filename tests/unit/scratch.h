/* scratch.h — a scratch folder for the unit tests that write files: made by the group setup,
 * removed with everything in it by the group teardown. Header-only: each test program
 * includes it once. */
#ifndef CT_TEST_SCRATCH_H
#define CT_TEST_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

/* Makes /tmp/ct-test-TAG-XXXXXX as dir; 0 on success (a cmocka group setup result). */
static inline int scratch_make(const char *tag)
{
    snprintf(dir, sizeof dir, "/tmp/ct-test-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}

static inline int scratch_remove(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* Writes text to dir/name; the path is in a static buffer, valid until the next call. */
static inline const char *scratch_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

#endif
