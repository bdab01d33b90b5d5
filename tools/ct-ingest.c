/* ct-ingest — load cadastral sheets, plans, admin units, dikes and DEMs into the SDI. */
#include <mimalloc.h>
#include <sqlite3.h>
#include <string.h>

#include "ct/context.h"
#include "ct/ingest.h"

int main(int argc, char **argv)
{
    /* ct-ingest runs on mimalloc (Makefile). Memory it frees stays committed for the next
     * sheet's geometries: given back to the kernel and touched again, each page would fault
     * anew, twice the page faults of glibc's malloc and a cost that shows in the wall time on
     * machines where a first touch is slow. The peak is what the largest sheet needs anyway. */
    mi_option_disable(mi_option_allow_decommit);
    ct_ingest_opts o = {0};
    ct_strlist ignore = {0};
    const ct_option options[] = {
        {CT_OPT_STRING, 0, "srs", &o.srs, "CRS", "CRS of sources that have none, e.g. vn2000:105"},
        {CT_OPT_STRING, 0, "encoding", &o.encoding, "ENC", "text encoding: tcvn3, vni, cp1258, utf8 or auto (default)"},
        {CT_OPT_STRING, 0, "mapping", &o.mapping, "FILE", "field mapping file of 'column = SourceField' lines"},
        {CT_OPT_LIST, 0, "ignore", &ignore, "FIELD", "leave this source field out (repeatable)"},
        {CT_OPT_STRING, 0, "sheet", &o.sheet, "N", "map sheet of a DGN source (default: from its name)"},
        {CT_OPT_STRING, 0, "name", &o.name, "NAME", "dem: the raster's name in the SDI (default dem)"},
        {CT_OPT_DOUBLE, 0, "cell-size", &o.cell_size, "M", "dem: output cell size (default: the source's; 5 for XYZ)"},
        {CT_OPT_STRING, 0, "valid-from", &o.valid_from, "DATE", "admin: first day the units are valid (ISO date)"},
        {CT_OPT_STRING, 0, "valid-to", &o.valid_to, "DATE", "admin: first day the units are no longer valid"},
        {CT_OPT_DOUBLE, 0, "area-tolerance", &o.area_tolerance, "F", "report legal/drawn area differences above F (0.05)"},
        {CT_OPT_STRING, 0, "title", &o.title, "TEXT", "catalogue title of the sources"},
        {CT_OPT_STRING, 0, "licence", &o.licence, "TEXT", "catalogue licence note"},
        {CT_OPT_END, 0, NULL, NULL, NULL, NULL},
    };
    ct_cli cli = {
        .name = "ct-ingest",
        .operands = "cadastral|planning|admin|dikes|dem SOURCE ...",
        .summary = "Load sources into the SDI: decode text, transform to the SDI CRS with the official\n"
                   "VN-2000 operation, validate and repair, all in one version or nothing.",
        .options = options,
        .shared = CT_CLI_SDI | CT_CLI_THREADS,
        .min_operands = 2,
        .max_operands = -1,
    };
    ct_ctx *ctx = ct_ctx_new();
    if (!ctx)
        return 1;
    ct_status st = ct_cli_parse(ctx, &cli, argc, argv);
    if (st == CT_OK && !cli.done) {
        o.kind = cli.operand[0];
        /* Loading vector sources, each SQLite connection is used by one thread only: the SDI's
         * and PROJ's by this one, a GeoPackage or SpatiaLite source's by the reading thread
         * (OGR). Without a connection's mutexes, and without the allocator's (no memory
         * statistics), SQLite saves a lock and an unlock per allocation and per page fetched,
         * 3 % of the writing thread. Not single-thread mode: that drops the mutexes of
         * SQLite's global state too, which two threads with a connection each share. (Set
         * before SQLite starts, which nothing so far does; a DEM goes through GDAL's warper
         * and COG writer, whose threads are theirs to know: SQLite keeps its mutexes.) */
        if (strcmp(o.kind, "dem")) {
            sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
            sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        }
        o.sources = (const char *const *)cli.operand + 1;
        o.nsources = cli.noperands - 1;
        o.sdi = cli.common.sdi;
        o.json = cli.common.json;
        o.ignore = ignore.v;
        o.nignore = ignore.n;
        o.command = cli.command_line;
        st = ct_ingest_run(ctx, &o);
    }
    return ct_cli_finish(ctx, &cli, st);
}
