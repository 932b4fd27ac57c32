# nexo-archive — plain Makefile with pkg-config.
#   make            build build/nexo-archive and build/fakepbx
#   make check      unit + end-to-end tests (SANITIZE=1: with ASan+UBSan, in build/san)
#   make demo       generate recordings, serve them with fakepbx, archive them for real
#   make deps       install the Debian 12 packages the build and tests need

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
PKGS = libcurl libarchive json-c libsodium inih libcrypto
FAKEPBX_PKGS = libmicrohttpd libcrypto json-c zlib

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wformat=2 -Wvla
CFLAGS_ALL = -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE $(SANFLAGS) $(CFLAGS)
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

.PHONY: all deps check unit e2e demo bench fuzz fuzz-replay valgrind clean lint sim

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

# Everything a test needs is built first, then one runner prints "N passed, N failed".
check: deps
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
bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/bench/run.sh

# Fuzzing (clang + libFuzzer; not part of `make check`): every target in turn for FUZZ_SECONDS,
# crashes kept in build/fuzz/artifacts/. `make check` replays the corpora (tests/fuzz/replay.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
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

clean:
	rm -rf build
