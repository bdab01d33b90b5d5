# ctgis — one GNU Makefile for the library, the tools, the tests and the set-up.
#
# Knobs (set on the command line: make V=1 PREFIX=/opt/ctgis ...):
#   V=1            show the commands instead of one short line per step
#   PREFIX         install prefix (default /usr/local); DESTDIR for staged installs
#   SHARED_DATA    the real-data folder read by `make verify` (default ../shared/data)
#   CC, CFLAGS, LDFLAGS, PKG_CONFIG as usual
#
# Targets:
#   deps      install the Debian 12 packages listed in DEB_PACKAGES when any is missing
#   all       libctcore.a, libctcore.so and the tools, under build/
#   check     deps, then unit tests (cmocka) and CLI tests (TAP, prove)
#   verify    deps, then the real-data cases in $(SHARED_DATA)
#   bench     deps, then the benchmarks in tests/bench/ (ctgis against its peers)
#   demo      deps, then the whole pipeline on data-samples/
#   samples   regenerate data-samples/ with its deterministic generator
#   install   tools, library, headers, man pages, styles and ctcore.pc
#   clean     remove build/

VERSION     = 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
SHARED_DATA ?= ../shared/data
PKG_CONFIG ?= pkg-config

# Every Debian 12 package the project needs, in one place: build, tests, verify and bench.
DEB_PACKAGES = build-essential pkg-config perl mandoc jq time \
	libgdal-dev gdal-bin libproj-dev proj-bin proj-data libgeos-dev \
	libspatialite-dev libsqlite3-dev sqlite3 libtiff-dev \
	libcairo2-dev libpng-dev libdeflate-dev libwebp-dev libzstd-dev \
	libjson-c-dev libutf8proc-dev libssl-dev libcmocka-dev \
	grass-core postgresql-15-postgis-3 libpq-dev python3-gdal libmimalloc-dev

PKGS = gdal proj geos spatialite libtiff-4 sqlite3 cairo libpng libdeflate libzstd libwebp json-c libutf8proc libcrypto libpq

ifeq ($(V),1)
Q =
say = @:
else
Q = @
say = @printf '  %-7s %s\n'
endif

# Lazily expanded so that `make deps` can install pkg-config files first.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))

CFLAGS   ?= -O2 -g -fno-math-errno -fno-trapping-math
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror=implicit-function-declaration
CPPFLAGS += -Iinclude -Ilibcore -DCT_VERSION='"$(VERSION)"' -DGEOS_USE_ONLY_R_API -D_GNU_SOURCE
ALL_CFLAGS = -std=c11 $(WARN) -fPIC -fopenmp $(CFLAGS) $(CPPFLAGS) $(PKG_CFLAGS)
LIBS      = $(PKG_LIBS) -fopenmp -lm

B = build
LIB_SRC   = $(sort $(wildcard libcore/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(B)/%.o)
TOOL_SRC  = $(sort $(wildcard tools/ct-*.c))
TOOLS     = $(TOOL_SRC:tools/%.c=$(B)/bin/%)
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNITS     = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
HEADERS   = $(sort $(wildcard include/ct/*.h))
SONAME    = libctcore.so.0

.PHONY: all deps check verify bench demo samples install clean unit-tests build-tests
.DEFAULT_GOAL := all

all: $(B)/lib/libctcore.a $(B)/lib/libctcore.so $(TOOLS)

$(B)/%.o: %.c $(HEADERS) $(wildcard libcore/*_int.h) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/lib/libctcore.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/lib/libctcore.so: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -o $(B)/lib/$(SONAME) $^ $(LDFLAGS) $(LIBS)
	$(Q)ln -sf $(SONAME) $@

# Tools and tests link the static library: a build tree needs no LD_LIBRARY_PATH.
$(B)/bin/%: $(B)/tools/%.o $(B)/lib/libctcore.a
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) -o $@ $< $(B)/lib/libctcore.a $(LDFLAGS) $(ALLOC_LIBS) $(LIBS)

# ct-ingest makes and frees millions of small GEOS, GDAL and SQLite objects on three threads at
# once (the writer and two sheet checkers), and glibc's malloc took a sixth of each thread's
# instructions. Linked first, mimalloc replaces malloc for the whole process: at 32 674 parcels
# it cut the sheet checks by 23 % and the writer by 5 % (callgrind), with the same SDI, byte for
# byte. The other tools keep glibc's malloc until measured.
$(B)/bin/ct-ingest: ALLOC_LIBS = -lmimalloc

$(B)/tests/%: $(B)/tests/unit/%.o $(B)/lib/libctcore.a
	@mkdir -p $(dir $@)
	$(say) LD $@
	$(Q)$(CC) -o $@ $< $(B)/lib/libctcore.a $(LDFLAGS) $(LIBS) -lcmocka

# A C file that includes only the public headers must compile on its own, warning-free.
$(B)/tests/headers.o: tests/unit/headers.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude $(PKG_CFLAGS) -DGEOS_USE_ONLY_R_API -c -o $@ $<

build-tests: all $(UNITS) $(B)/tests/headers.o $(B)/gen-samples

# The sample-data generator: a program of its own, linked against libctcore like a tool.
SAMPLE_SRC = $(sort $(wildcard data-samples/*.c))
$(B)/gen-samples: $(SAMPLE_SRC:%.c=$(B)/%.o) $(B)/lib/libctcore.a
	$(say) LD $@
	$(Q)$(CC) -o $@ $(SAMPLE_SRC:%.c=$(B)/%.o) $(B)/lib/libctcore.a $(LDFLAGS) $(LIBS)

samples: deps
	@$(MAKE) --no-print-directory all $(B)/gen-samples
	$(B)/gen-samples data-samples

# Node.js and npm run the reference PMTiles reader in the tests; a machine that has them from
# elsewhere (NodeSource) keeps its own, as Debian's npm would conflict with it.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done; \
		command -v npm >/dev/null || echo nodejs npm); \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEB_PACKAGES)) Debian packages are installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "deps: installing" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else \
		echo "deps: missing Debian packages; as root run:" >&2; \
		echo "  apt-get update && apt-get install -y" $$missing >&2; exit 1; \
	fi

check: deps
	@$(MAKE) --no-print-directory build-tests
	@tests/run-tests.sh $(B)

verify: deps
	@if [ ! -d "$(SHARED_DATA)" ]; then \
		echo "verify: SHARED_DATA=$(SHARED_DATA) is not a folder: the real-data cases cannot run" >&2; exit 1; fi
	@$(MAKE) --no-print-directory all
	@SHARED_DATA="$(abspath $(SHARED_DATA))" CT_BIN="$(abspath $(B)/bin)" prove -f -e bash tests/verify/*.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@for b in tests/bench/*.sh; do CT_BIN="$(abspath $(B)/bin)" bash "$$b" || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all
	@CT_BIN="$(abspath $(B)/bin)" bash data-samples/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/ct \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/ctgis/styles
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/lib/libctcore.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/lib/$(SONAME) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libctcore.so
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/ct/
	install -m 644 $(wildcard man/man1/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	for f in $(wildcard man/man5/*.5); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done
	install -m 644 $(wildcard man/man7/*.7) $(DESTDIR)$(PREFIX)/share/man/man7/
	for f in $(wildcard styles/*); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/ctgis/styles/; done
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: ctcore' 'Description: core library of ctgis, the Can Tho spatial-data toolkit' \
		'Version: $(VERSION)' 'Requires.private: $(PKGS)' \
		'Libs: -L$${libdir} -lctcore' 'Libs.private: -fopenmp -lm' 'Cflags: -I$${includedir}' \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/ctcore.pc

clean:
	rm -rf $(B)
