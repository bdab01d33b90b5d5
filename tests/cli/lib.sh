# lib.sh — a few TAP helpers for the CLI tests (sourced; run by `prove -e bash`).
# Tools come from $CT_BIN (set by tests/run-tests.sh; default build/bin), samples from
# $CT_TOP/data-samples. Every test gets a fresh scratch folder $T, removed at exit.
: "${CT_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CT_BIN:=$CT_TOP/build/bin}"
PATH="$CT_BIN:$PATH"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
_n=0
_failed=0

plan() { echo "1..$1"; }
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
    _n=$((_n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $_n - $2"; else echo "not ok $_n - $2"; _failed=1; fi
}
# run CMD...: runs a command, keeping stdout in $T/out, stderr in $T/err and the status in $rc
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# is GOT WANT DESCRIPTION
is() {
    _n=$((_n + 1))
    if [ "$1" = "$2" ]; then echo "ok $_n - $3"
    else echo "not ok $_n - $3"; echo "#   got: '$1'"; echo "#  want: '$2'"; _failed=1; fi
}
# like FILE REGEX DESCRIPTION
like() {
    _n=$((_n + 1))
    if grep -Eq -- "$2" "$1"; then echo "ok $_n - $3"
    else echo "not ok $_n - $3"; echo "#   $1 has no line matching /$2/:"; sed 's/^/#     /' "$1" | head -20; _failed=1; fi
}
# near GOT WANT TOLERANCE DESCRIPTION
near() {
    _n=$((_n + 1))
    if awk -v g="$1" -v w="$2" -v t="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'
    then echo "ok $_n - $4"; else echo "not ok $_n - $4"; echo "#   got $1, want $2 ± $3"; _failed=1; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# --- PostgreSQL -------------------------------------------------------------------------------
# pg_check: skips the whole test unless the PostgreSQL server binaries and PostGIS are installed.
pg_check() {
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] || skip_all "PostgreSQL server binaries are not installed"
    ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || skip_all "PostGIS is not installed"
}
# pg_start: a throw-away server of this test alone, on a Unix socket in $PGSOCK ($T/pg), user ct
# without password, fsync off; stopped at exit. Returns the status of the start.
pg_start() {
    chmod 755 "$T"
    _as_pg=()
    [ "$(id -u)" = 0 ] && _as_pg=(runuser -u postgres --)
    PGSOCK="$T/pg"
    mkdir "$PGSOCK" && { [ "$(id -u)" != 0 ] || chown postgres "$PGSOCK"; }
    trap 'pg_stop; rm -rf "$T"' EXIT
    "${_as_pg[@]}" "$PGBIN/initdb" -A trust -U ct -D "$PGSOCK/data" >"$T/pg.log" 2>&1 &&
        "${_as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGSOCK/data" -l "$PGSOCK/log" -w \
            -o "-k $PGSOCK -c listen_addresses='' -c fsync=off -c full_page_writes=off" start >>"$T/pg.log" 2>&1
}
pg_stop() { "${_as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGSOCK/data" -m immediate stop >/dev/null 2>&1; }
# pg_psql ARGS...: psql on the test's server (database postgres unless -d names another)
pg_psql() { command psql -X -q -h "$PGSOCK" -U ct -d postgres -v ON_ERROR_STOP=1 "$@"; }

# --- The SDI under test -------------------------------------------------------------------------
# The SDI tests run on a SpatiaLite file, or with CT_TEST_SDI=pg on PostGIS databases in a server
# the test starts (in its scratch folder, which becomes the working folder: a PostGIS SDI's
# default raster folder is <database>.rasters there). sdi_setup comes before plan.
sdi_setup() {
    [ "${CT_TEST_SDI:-}" = pg ] || return 0
    pg_check
    pg_start || { echo "# the PostgreSQL server did not start:"; sed 's/^/#   /' "$T/pg.log" | tail -5; }
    cd "$T" || exit 1
}
sdi_pg() { [ "${CT_TEST_SDI:-}" = pg ]; }
# sdi_new NAME: the location of a new (not yet initialised) SDI
sdi_new() {
    if sdi_pg; then
        pg_psql -c "CREATE DATABASE $1" >>"$T/pg.log" 2>&1
        echo "PG:host=$PGSOCK user=ct dbname=$1"
    else
        echo "$T/$1.sqlite"
    fi
}
# sdi_rasters SDI: its raster folder
sdi_rasters() { if sdi_pg; then echo "$T/${1##*dbname=}.rasters"; else echo "$1.rasters"; fi; }
# sdi_q SDI SQL: rows of a query, columns separated by '|', NULL as empty
sdi_q() {
    if sdi_pg; then pg_psql -At -d "${1##*dbname=}" -c "$2"
    else sqlite3 -batch -noheader "$1" "$2"; fi
}
# sdi_gq SDI SQL: a query with geometry functions (SpatiaLite's through OGR; PostGIS's share the
# ST_ names): the values of its one row, separated by spaces
sdi_gq() {
    if sdi_pg; then pg_psql -At -F' ' -d "${1##*dbname=}" -c "$2"
    else ogrinfo -ro -q "$1" -dialect SQLite -sql "$2" | sed -n 's/^  [A-Za-z_0-9]* ([A-Za-z0-9]*) = //p' | paste -sd' '; fi
}
# sdi_json_get COLUMN KEY: SQL for a key of a JSON text column
sdi_json_get() { if sdi_pg; then echo "($1::json->>'$2')"; else echo "json_extract($1, '\$.$2')"; fi; }
# sdi_intact SDI: "ok" when the database is sound (SQLite: integrity_check; PostgreSQL: amcheck
# on every table and B-tree index of the SDI)
sdi_intact() {
    if sdi_pg; then
        sdi_q "$1" "CREATE EXTENSION IF NOT EXISTS amcheck;
            SELECT CASE WHEN (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                                  verify_heapam(c.oid) WHERE c.relkind = 'r' AND n.nspname = 'public') = 0
                        AND (SELECT count(bt_index_check(i.indexrelid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                             JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE a.amname = 'btree' AND n.nspname = 'public') > 0
                   THEN 'ok' ELSE 'corrupt' END" 2>&1
    else
        sdi_q "$1" "PRAGMA integrity_check"
    fi
}

# Nightly MVT tests: $T/v1.geojson and $T/v2.geojson are map sheet 9 before and after a change.
# nightly_load FILE (re-)ingests the sheet from FILE into $CT_SDI; nightly_v1 makes a new SDI
# ($T/c.sqlite) from v1 and tiles it at zooms 14-17 into $T/p.pmtiles and the folder $T/p.
nightly_load() { cp "$1" "$T/sheet9.geojson" && ct-ingest -q cadastral "$T/sheet9.geojson" >/dev/null 2>&1; }
nightly_v1() {
    export CT_SDI="$T/c.sqlite"
    ct-sdi -q init >/dev/null
    nightly_load "$T/v1.geojson"
    ct-tile -q -z 14-17 --name p sdi:parcels "$T/p.pmtiles"
    ct-tile -q -z 14-17 --name p sdi:parcels "$T/p"
}
# pm_same A B: two PMTiles archives are equal but for the header's bounds and centre (bytes
# 102-126: a nightly run keeps the earlier, wider bounds after a deletion at the layer's edge,
# see ct-tile(1))
pm_same() { cmp -s <(head -c 102 "$1"; tail -c +128 "$1") <(head -c 102 "$2"; tail -c +128 "$2"); }
