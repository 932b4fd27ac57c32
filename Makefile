# nexo-archive — plain Makefile with pkg-config.
#   make            build build/nexo-archive and build/fakepbx (installs nothing)
#   make check      unit + end-to-end tests (SANITIZE=1: with ASan+UBSan, in build/san)
#   make demo       generate recordings, serve them with fakepbx, archive them for real
#   make deps       install the Debian 12 packages the build and the demo need
#   make deps-dev   ... and those only the tests, fuzzing, benchmarks and the .deb need
#   make install    PREFIX (/usr/local), DESTDIR, SYSCONFDIR (/etc); make uninstall
#   make deb        build/deb/nexo-archive_VERSION_amd64.deb (dpkg-buildpackage, lintian)

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1
else
BUILD ?= build
SANFLAGS =
OPT = -O2
endif

CC ?= cc
VERSION := $(shell cat VERSION)
# Where `make install` puts things (DESTDIR is prepended to each). The config's folder is
# /etc whatever PREFIX is: the units and the default -c path name it, so it is compiled in.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/nexo-archive
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
PKGS = libcurl libarchive json-c libsodium inih libcrypto
FAKEPBX_PKGS = libmicrohttpd libcrypto json-c zlib

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wvla
CFLAGS_ALL = -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) \
	-DNEXO_VERSION='"$(VERSION)"' -DNEXO_DEFAULT_CONFIG='"$(SYSCONFDIR)/nexo-archive/nexo-archive.conf"'
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
FAKEPBX_CFLAGS := $(shell pkg-config --cflags $(FAKEPBX_PKGS) 2>/dev/null)
FAKEPBX_LIBS := $(shell pkg-config --libs $(FAKEPBX_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka zlib 2>/dev/null)

# src/ is in layers, one folder each (src/README.md): a module includes its own folder's headers
# by name and a lower layer's as "layer/name.h", from -Isrc.
SRC := $(wildcard src/*.c src/*/*.c)
HDR := $(wildcard src/*.h src/*/*.h)
INC := -Isrc
MAIN_SRC := $(filter %/main.c,$(SRC))
LIB_SRC := $(filter-out $(MAIN_SRC),$(SRC))
LIB_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
FAKEPBX_SRC := $(wildcard tests/fakepbx/*.c)
FAKEPBX_OBJ := $(patsubst tests/fakepbx/%.c,$(BUILD)/fakepbx-obj/%.o,$(FAKEPBX_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

.PHONY: all deps deps-dev check unit e2e demo bench fuzz fuzz-replay valgrind clean \
	lint sim install uninstall deb man-lint

# The test build: the same program with failpoints compiled in (src/failpoint.h), for the
# crash and fault tests. Never installed.
TEST_OBJ := $(patsubst src/%.c,$(BUILD)/test-obj/%.o,$(SRC))

all: $(BUILD)/nexo-archive $(BUILD)/fakepbx $(BUILD)/test/nexo-archive

$(BUILD)/obj/%.o: src/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(INC) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/libnexo.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/nexo-archive: $(patsubst src/%.c,$(BUILD)/obj/%.o,$(MAIN_SRC)) $(BUILD)/libnexo.a
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/test-obj/%.o: src/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -DNEXO_FAILPOINTS $(INC) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/test/nexo-archive: $(TEST_OBJ) | $(BUILD)/test
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) -lpthread

$(BUILD)/fakepbx-obj/%.o: tests/fakepbx/%.c $(wildcard tests/fakepbx/*.h) | $(BUILD)/fakepbx-obj
	$(CC) $(CFLAGS_ALL) $(FAKEPBX_CFLAGS) -c -o $@ $<

$(BUILD)/fakepbx: $(FAKEPBX_OBJ)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(FAKEPBX_LIBS) -lpthread

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libnexo.a | $(BUILD)/unit
	$(CC) $(CFLAGS_ALL) $(PKG_CFLAGS) $(INC) -o $@ $< $(BUILD)/libnexo.a $(PKG_LIBS) $(CMOCKA_LIBS) -lpthread

$(BUILD)/fakepbx-obj $(BUILD)/unit $(BUILD)/test:
	mkdir -p $@

deps:
	@sh tests/install-deps.sh

deps-dev:
	@sh tests/install-deps.sh dev

# Everything a test needs is built first, then one runner prints "N passed, N failed".
check: deps-dev
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(BUILD) bash tests/run-tests.sh

unit: all $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=unit bash tests/run-tests.sh

e2e: all $(UNIT_BIN)
	@BUILD=$(BUILD) ONLY=e2e bash tests/run-tests.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/demo.sh

# The simulator (tests/sim/README.md): lives 1..SEEDS of NIGHTS nights each, JOBS at once, a
# summary table; exit 1 on any violation. Not part of `make check` (t_sim runs a fixed set).
SEEDS ?= 20
NIGHTS ?= 6
JOBS ?= 2
sim: all
	@python3 tests/sim/sim.py --build $(BUILD) --seeds 1-$(SEEDS) --nights $(NIGHTS) --jobs $(JOBS)

# Speed and memory, measured (not asserted): paired runs against `curl | bsdtar -x`; rewrites
# the table in docs/performance.md. Not part of `make check`.
bench: deps-dev
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/bench/run.sh

# Fuzzing (clang + libFuzzer; not part of `make check`): every target in turn for FUZZ_SECONDS,
# crashes kept in build/fuzz/artifacts/. `make check` replays the corpora (tests/fuzz/replay.sh).
FUZZ_SECONDS ?= 60
fuzz: deps-dev
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-replay:
	@BUILD=$(BUILD) bash tests/fuzz/replay.sh

# The unit tests under valgrind (memory errors and leaks fail).
valgrind: all $(UNIT_BIN)
	@for t in $(UNIT_BIN); do valgrind -q --error-exitcode=1 --leak-check=full $$t >/dev/null \
	  && echo "ok - valgrind $$(basename $$t)" || { echo "not ok - valgrind $$t"; exit 1; }; done

# Style the tools can check: banned functions, and the layers of src/ (tests/lint/layers.py:
# includes only point down, no circle). Run first by `make check`.
lint:
	@python3 tests/lint/layers.py
	@! grep -nE '\b(sprintf|strcpy|strcat|atoi|strtok|gets)\s*\(' $(SRC) $(HDR) tests/fakepbx/*.c \
	  tests/fuzz/*.c \
	  || (echo "lint: banned function above" && false)

# ---- installing -----------------------------------------------------------------------------
# The units and the cron line name the installed paths; the example config goes to
# SYSCONFDIR/nexo-archive/ only when there is none (an operator's config is never replaced) and
# always to DOCDIR/examples/. The folder's group is the service's when that group exists.
UNITS_IN := $(wildcard contrib/*.service.in)
TIMERS := $(wildcard contrib/*.timer)
MANPAGES := man/nexo-archive.1 man/nexo-archive.conf.5
DOCS := README.md $(wildcard docs/*.md)
SUBST = sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	-e 's|@DOCDIR@|$(DOCDIR)|g'
CONFDIR = $(DESTDIR)$(SYSCONFDIR)/nexo-archive

install: $(BUILD)/nexo-archive
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 755 $(BUILD)/nexo-archive $(DESTDIR)$(BINDIR)/nexo-archive
	install -m 644 man/nexo-archive.1 $(DESTDIR)$(MANDIR)/man1/nexo-archive.1
	install -m 644 man/nexo-archive.conf.5 $(DESTDIR)$(MANDIR)/man5/nexo-archive.conf.5
	for u in $(UNITS_IN); do \
	  $(SUBST) $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u .in) && \
	  chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u .in) || exit 1; done
	install -m 644 $(TIMERS) $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 conf/nexo-archive.conf $(DESTDIR)$(DOCDIR)/examples/nexo-archive.conf
	$(SUBST) contrib/nexo-archive.cron.in >$(DESTDIR)$(DOCDIR)/examples/nexo-archive.cron && \
	  chmod 644 $(DESTDIR)$(DOCDIR)/examples/nexo-archive.cron
	install -d -m 750 $(CONFDIR)
	[ -e $(CONFDIR)/nexo-archive.conf ] || \
	  install -m 640 conf/nexo-archive.conf $(CONFDIR)/nexo-archive.conf
	@if [ -z "$(DESTDIR)" ] && getent group nexo-archive >/dev/null; then \
	  chgrp nexo-archive $(CONFDIR) $(CONFDIR)/nexo-archive.conf; fi

# Removes what install put there, except the config folder (the operator's configs and
# secrets) and every archive.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nexo-archive $(DESTDIR)$(MANDIR)/man1/nexo-archive.1 \
	  $(DESTDIR)$(MANDIR)/man5/nexo-archive.conf.5
	for u in $(UNITS_IN) $(TIMERS); do \
	  rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u .in); done
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "kept $(CONFDIR) (your configs and secrets) and the archives"

# The man pages as mandoc's linter reads them (make check runs it: tests/e2e/t_man.sh).
man-lint:
	mandoc -Tlint -W warning $(MANPAGES)

# The Debian package, built from a copy of the tree (dpkg-buildpackage writes beside its source
# folder, and debian/rules cleans its own build): DEBDIR/nexo-archive_VERSION_amd64.deb, then
# lintian (an error fails). make check builds it again and checks it (tests/e2e/t_deb.sh).
DEBDIR ?= build/deb
DEB_SRC = $(DEBDIR)/nexo-archive-$(VERSION)
deb:
	@rm -rf $(DEBDIR) && mkdir -p $(DEB_SRC)
	@{ git ls-files --cached --others --exclude-standard 2>/dev/null || find . -path ./build -prune \
	  -o -path ./.git -prune -o -type f -print; } | grep -v '^build/' | \
	  while read -r f; do [ -e "$$f" ] && echo "$$f"; done | tar -cf - -T - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEBDIR)/nexo-archive_$(VERSION)_amd64.changes

clean:
	rm -rf build
