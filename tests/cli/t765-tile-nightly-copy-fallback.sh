#!/usr/bin/env bash
# The nightly PMTiles run copies the kept tiles' bytes from the old archive with
# copy_file_range(2). Where the kernel refuses it (another file system on older kernels, some
# network and FUSE file systems) the copy falls back to read and write, and where it copies less
# than asked the rest follows. Both paths are forced here with an LD_PRELOAD shim around
# copy_file_range; each nightly archive must equal a --full run's byte for byte, and the shim
# must have been called (else the test proves nothing).
. "$(dirname "$0")/lib.sh"
S="$CT_TOP/data-samples"
[ -f "$S/cadastral/thuadat-to03.shp" ] || skip_all "no sample data (make samples)"
command -v cc >/dev/null || skip_all "no C compiler for the shim"
plan 5

cat >"$T/shim.c" <<'E'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* SHIM_MODE=refuse: fail with EXDEV; SHIM_MODE=short: copy at most 1000 bytes a call. Each call
 * appends a line to SHIM_LOG. */
ssize_t copy_file_range(int in, loff_t *ino, int out, loff_t *outo, size_t len, unsigned flags)
{
    FILE *f = fopen(getenv("SHIM_LOG"), "a");
    if (f) {
        fprintf(f, "%zu\n", len);
        fclose(f);
    }
    if (getenv("SHIM_MODE")[0] == 'r') {
        errno = EXDEV;
        return -1;
    }
    ssize_t (*real)(int, loff_t *, int, loff_t *, size_t, unsigned) =
        (ssize_t(*)(int, loff_t *, int, loff_t *, size_t, unsigned))dlsym(RTLD_NEXT, "copy_file_range");
    return real(in, ino, out, outo, len < 1000 ? len : 1000, flags);
}
E
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl || skip_all "cannot build the shim"

sdi="$T/city.sqlite"
export CT_SDI="$sdi"
ct-sdi -q init >/dev/null
cp "$S"/cadastral/thuadat-to02.* "$S"/cadastral/thuadat-to03.* "$T/"
ct-ingest -q cadastral "$T/thuadat-to02.shp" "$T/thuadat-to03.shp" >/dev/null 2>&1
ct-tile -q -z 14-18 --name p sdi:parcels "$T/refuse.pmtiles"
cp "$T/refuse.pmtiles" "$T/short.pmtiles"
# parcel 3/10's land use changed: a few tiles are made again, the rest copied from the old archive
mkdir -p "$T/ed"
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$T/ed/thuadat-to03.shp" "$T/thuadat-to03.shp" -oo ENCODING= 2>/dev/null
ogrinfo -q "$T/ed/thuadat-to03.shp" -oo ENCODING= -dialect SQLite \
    -sql "UPDATE \"thuadat-to03\" SET MucDich = 'TMD' WHERE SoThua = 10" 2>/dev/null
for e in shp shx dbf prj; do [ -f "$T/ed/thuadat-to03.$e" ] && cp "$T/ed/thuadat-to03.$e" "$T/thuadat-to03.$e"; done
ct-ingest -q cadastral "$T/thuadat-to03.shp" >/dev/null 2>&1
ct-tile -q --full -z 14-18 --name p sdi:parcels "$T/full.pmtiles"

for mode in refuse short; do
    : >"$T/$mode.log"
    SHIM_MODE=$mode SHIM_LOG="$T/$mode.log" LD_PRELOAD="$T/shim.so" ct-tile -q --json --name p sdi:parcels "$T/$mode.pmtiles" >"$T/$mode.json"
    ok $? "nightly run with copy_file_range forced to $mode ($(jq -r '"\(.tiles_made) made, \(.tiles_kept) kept"' "$T/$mode.json"))"
    cmp -s "$T/full.pmtiles" "$T/$mode.pmtiles" && [ -s "$T/$mode.log" ]
    ok $? "$mode: the archive equals a --full run's, and copy_file_range was called $(wc -l <"$T/$mode.log") times"
done
# the short copies really were split: some call asked for more than the 1000 bytes it got
awk '$1 > 1000 { n++ } END { exit !(n > 0) }' "$T/short.log"
ok $? "short copies: the remainder was asked for again"
exit $_failed
