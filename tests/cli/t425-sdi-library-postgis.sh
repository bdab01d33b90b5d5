#!/usr/bin/env bash
# The SDI store's unit tests (tests/unit/test_sdi.c: versions, supersede, remove, duplicates,
# undo, rasters, the reading API, result tables, errors) on PostGIS, in a database of a server
# this test starts on a Unix socket in its scratch folder (skipped when PostgreSQL or PostGIS is
# missing). One check per cmocka test.
. "$(dirname "$0")/lib.sh"
unit="$CT_TOP/build/tests/test_sdi"
[ -x "$unit" ] || skip_all "build/tests/test_sdi is not built (make build-tests)"
pg_check
tests=$(grep -o 'cmocka_unit_test(test_[a-z_]*)' "$CT_TOP/tests/unit/test_sdi.c" | sed 's/.*(\(.*\))/\1/')
plan $(echo "$tests" | wc -l)
pg_start || { echo "# the PostgreSQL server did not start:"; sed 's/^/#   /' "$T/pg.log" | tail -5; }
pg_psql -c "CREATE DATABASE unit" >>"$T/pg.log" 2>&1
CT_TEST_SDI_PG="PG:host=$PGSOCK user=ct dbname=unit" "$unit" >"$T/unit.log" 2>&1
for t in $tests; do
    grep -q "^\[       OK \] $t\$" "$T/unit.log"; ok $? "$t on PostGIS"
done
[ $_failed = 0 ] || sed 's/^/#   /' "$T/unit.log" | grep -v '^#   \[ RUN' | head -30
exit $_failed
