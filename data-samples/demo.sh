#!/usr/bin/env bash
# make demo: the whole pipeline on data-samples/, as far as the tools exist today.
set -euo pipefail
cd "$(dirname "$0")"
bin=${CT_BIN:-../build/bin}
step() { printf '\n== %s\n' "$*"; }

step "ct-info: every sample dataset"
find . -type f \( -name '*.tif' -o -name '*.asc' -o -name '*.shp' -o -name '*.geojson' -o -name '*.dgn' \) \
    | sort | while read -r f; do "$bin/ct-info" -q "$f"; echo; done
