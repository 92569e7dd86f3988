# perfshim: one non-recursive Makefile. `make help` lists targets and knobs.
# Objects: build/<dir>/*.o (analyzer, runner), *.op (PIC preload), *.ot (tests).

VERSION := 0.1.0
# Install paths (make install; the runner looks for the library relative to BINDIR -> LIBDIR,
# then in LIBDIR; the man pages and perfshim.pc name them).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
DESTDIR ?=
PKG_CONFIG ?= pkg-config
CC ?= cc
CXX ?= c++
BUILD := build

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 \
	-Wwrite-strings -Wundef -Wno-unused-parameter -Wno-missing-field-initializers
ifneq ($(filter 1,$(WERROR) $(DEBUG)),)
WARN += -Werror
endif
ifeq ($(CI),true)
WARN += -Werror
endif

COMMON_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -iquote . $(WARN)
ifeq ($(DEBUG),1)
OPT := -O0 -DPS_DEBUG=1
else
OPT := -O2
endif

SANFLAGS :=
ifneq ($(SAN),)
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
SANFLAGS := -fsanitize=$(SAN) -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
endif

UNWIND_CFLAGS := $(shell $(PKG_CONFIG) --cflags libunwind 2>/dev/null)
UNWIND_LIBS := $(shell $(PKG_CONFIG) --libs libunwind 2>/dev/null || echo -lunwind)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck)
DW_CFLAGS := $(shell $(PKG_CONFIG) --cflags libdw 2>/dev/null)
DW_LIBS := $(shell $(PKG_CONFIG) --libs libdw 2>/dev/null || echo -ldw -lelf)
ZSTD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libzstd 2>/dev/null)
ZSTD_LIBS := $(shell $(PKG_CONFIG) --libs libzstd 2>/dev/null || echo -lzstd)
# zlib: the pprof export is gzipped (analyzer/pbuf.c)
ZLIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)
ZLIB_LIBS := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
# debuginfod client (elfutils): debug files fetched by build-id when DEBUGINFOD_URLS is set;
# its header only: analyzer/symbols-elf.c opens the library (dlopen) when the variable is set
DEBUGINFOD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libdebuginfod 2>/dev/null)

# The preload library: never sanitized, never instrumented (its hooks would call themselves).
LIB_CFLAGS := $(COMMON_CFLAGS) $(OPT) -fPIC -fvisibility=hidden -fno-omit-frame-pointer \
	-ftls-model=initial-exec -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc \
	-fno-builtin-realloc -fno-stack-protector $(UNWIND_CFLAGS) $(CFLAGS)
LIB_LDFLAGS := -shared -Wl,--no-undefined -Wl,-z,nodelete -Wl,-e,ps_entry $(UNWIND_LIBS) -ldl -pthread $(LDFLAGS)

ANA_CFLAGS := $(COMMON_CFLAGS) $(OPT) $(SANFLAGS) $(DW_CFLAGS) $(DEBUGINFOD_CFLAGS) $(ZSTD_CFLAGS) $(ZLIB_CFLAGS) $(CFLAGS)
ANA_LDFLAGS := $(SANFLAGS) $(DW_LIBS) $(ZSTD_LIBS) $(ZLIB_LIBS) -lstdc++ -lm -ldl -pthread $(LDFLAGS)

TEST_CFLAGS := $(ANA_CFLAGS) $(CHECK_CFLAGS)
TEST_LDFLAGS := $(ANA_LDFLAGS) $(CHECK_LIBS)

# Rebuild everything when the flags change (SAN=1 after a plain build, DEBUG=1, ...).
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(LIB_CFLAGS) | $(ANA_CFLAGS) | $(TEST_CFLAGS) | $(ANA_LDFLAGS)
ifneq ($(FLAGS_NOW),$(shell cat $(FLAGS_STAMP) 2>/dev/null))
$(shell mkdir -p $(BUILD) && echo '$(FLAGS_NOW)' > $(FLAGS_STAMP))
endif

# The version and install paths compiled into the runner and the analyzer (PS_*), the man
# pages and perfshim.pc: rebuilt when they change (make install PREFIX=... after make).
PATHS_STAMP := $(BUILD)/.paths
PATHS_NOW := $(VERSION) $(PREFIX) $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(DATADIR) $(MANDIR)
ifneq ($(PATHS_NOW),$(shell cat $(PATHS_STAMP) 2>/dev/null))
$(shell mkdir -p $(BUILD) && echo '$(PATHS_NOW)' > $(PATHS_STAMP))
endif
PATH_DEFS := -DPS_VERSION='"$(VERSION)"' -DPS_PREFIX='"$(PREFIX)"' -DPS_BINDIR='"$(BINDIR)"' \
	-DPS_LIBDIR='"$(LIBDIR)"'
SUBST := sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@PREFIX@|$(PREFIX)|g' \
	-e 's|@BINDIR@|$(BINDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	-e 's|@DATADIR@|$(DATADIR)|g' -e 's|@MANDIR@|$(MANDIR)|g' -e 's|@BASHCOMPDIR@|$(BASHCOMPDIR)|g'
MAN_SRCS := $(wildcard docs/man/*.1)
MAN_PAGES := $(MAN_SRCS:docs/man/%=$(BUILD)/man/%)
PC_FILE := $(BUILD)/perfshim.pc

LIB_SRCS := $(wildcard preload/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.op)
ANA_SRCS := $(wildcard analyzer/*.c)
ANA_OBJS := $(ANA_SRCS:%.c=$(BUILD)/%.o)
ANA_LIBOBJS := $(filter-out $(BUILD)/analyzer/main.o,$(ANA_OBJS))
# The html report's application (analyzer/html/), embedded as C strings at build time.
HTML_ASSETS := analyzer/html/page.html analyzer/html/app.css analyzer/html/app.js \
	analyzer/html/app-memory.js
HTML_ASSET_OBJ := $(BUILD)/analyzer/html-assets.o
RUN_SRCS := $(wildcard runner/*.c)
RUN_OBJS := $(RUN_SRCS:%.c=$(BUILD)/%.o)
# common/: code built into both the analyzer and the runner (the statistics of compare)
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Unit tests of the preload's logic (test-preload*): its objects linked in, not preloaded
PRELOAD_UNIT_BINS := $(filter $(BUILD)/tests/test-preload%,$(UNIT_BINS))
ANA_UNIT_BINS := $(filter-out $(PRELOAD_UNIT_BINS),$(UNIT_BINS))
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.ot)

LIB := $(BUILD)/libperfshim.so
ANALYZE := $(BUILD)/perfshim-analyze
RUNNER := $(BUILD)/perfshim
TARGETS := $(LIB) $(ANALYZE) $(RUNNER) $(MAN_PAGES) $(PC_FILE)

.PHONY: layering all check test unit runtests bench bench-tools demo install uninstall clean help deps samples fuzz
all: $(TARGETS)

$(LIB_OBJS): $(BUILD)/%.op: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(pic) $<")
	$(Q)$(CC) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(ANA_OBJS) $(RUN_OBJS) $(COMMON_OBJS): $(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ANA_CFLAGS) $(if $(filter $@,$(PATH_OBJS)),$(PATH_DEFS)) -MMD -MP -c $< -o $@

# the objects that hold the version or the install paths
PATH_OBJS := $(BUILD)/analyzer/main.o $(BUILD)/runner/perfshim.o
$(PATH_OBJS): $(PATHS_STAMP)

# man pages and perfshim.pc with the real paths (docs/man/*.1 say @LIBDIR@ and the like)
$(MAN_PAGES): $(BUILD)/man/%: docs/man/% $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(SUBST) $< > $@

$(PC_FILE): misc/perfshim.pc.in $(PATHS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(SUBST) $< > $@

$(BUILD)/tests/%.ot: tests/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC(test) $<")
	$(Q)$(CC) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/analyzer/html-assets.c: analyzer/html/embed.sh $(HTML_ASSETS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)sh analyzer/html/embed.sh $@ $(HTML_ASSETS)

$(HTML_ASSET_OBJ): $(BUILD)/analyzer/html-assets.c $(FLAGS_STAMP)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ANA_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(LIB_LDFLAGS)

$(ANALYZE): $(ANA_OBJS) $(HTML_ASSET_OBJ) $(COMMON_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(ANA_LDFLAGS)

$(RUNNER): $(RUN_OBJS) $(COMMON_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(ANA_LDFLAGS)

$(ANA_UNIT_BINS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.ot $(ANA_LIBOBJS) $(HTML_ASSET_OBJ) \
		$(UNIT_HELPER_OBJS) $(COMMON_OBJS) $(BUILD)/runner/json-read.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(TEST_LDFLAGS)

# the call hooks, function ids and stacks; the test defines what they need of the rest
$(BUILD)/tests/test-preload: $(BUILD)/preload/hooks-cyg.op $(BUILD)/preload/ids.op \
	$(BUILD)/preload/stack.op
# the table of interposed functions and its resolver; the test defines ps_log and ps_self
$(BUILD)/tests/test-preload-interpose: $(BUILD)/preload/interpose.op
# the buffers, chunks and switches at the process's end; the test defines what they need
$(BUILD)/tests/test-preload-tbuf: $(BUILD)/preload/tbuf.op $(BUILD)/preload/chunk.op \
	$(BUILD)/preload/switches.op
$(PRELOAD_UNIT_BINS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.ot
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -o $@ $^ $(TEST_LDFLAGS) $(UNWIND_LIBS)

# Samples: programs of known behaviour, built as tests and the benchmark need them.
# samples/samples.mk lists them and their flags.
-include samples/samples.mk
# The benchmark's floor recorders, decode floor and programs (`make bench-tools`).
include bench/bench.mk

deps:
	$(Q)misc/install-deps.sh

# libFuzzer targets (clang, ASan + UBSan), FUZZ_TIME seconds each; docs/testing.md.
# `make check` runs the same report fuzzer bounded, without clang (test-fuzz-reports).
FUZZ_TIME ?= 60
fuzz:
	$(Q)misc/install-deps.sh --fuzz
	$(Q)$(MAKE) --no-print-directory $(BUILD)/analyzer/html-assets.c
	$(Q)tests/fuzz/build.sh
	$(Q)tests/fuzz/run.sh $(FUZZ_TIME)

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# No analyzer view includes another view's header (docs/design.md, "Where things live"),
# and no function in analyzer/, preload/ or runner/ is over 120 lines (tests/fnlen.sh).
layering:
	$(Q)tests/layering.sh .
	$(Q)tests/fnlen.sh .

# The integration tests, TEST_JOBS at a time (empty: as many as CPUs; 1: one after another).
# Those marked "# serial:" run alone first (tests/run/run-all.sh, docs/testing.md).
TEST_JOBS ?=
runtests: all samples
	$(Q)TEST_JOBS=$(TEST_JOBS) tests/run/run-all.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all samples bench-tools $(UNIT_BINS)
	$(Q)$(MAKE) --no-print-directory layering unit runtests

test: check

bench: deps
	$(Q)$(MAKE) --no-print-directory all samples
	@# a bench tool that does not build makes its rows say n/a, not the bench fail
	-$(Q)$(MAKE) --no-print-directory -k bench-tools
	$(Q)bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all samples
	$(Q)misc/demo.sh

# Installs into $(DESTDIR) with the paths above; tests/run/46-install.sh checks it.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(ANALYZE) $(RUNNER) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/perfshim.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(PC_FILE) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 misc/perfshim.bash-completion $(DESTDIR)$(BASHCOMPDIR)/perfshim
	ln -sf perfshim $(DESTDIR)$(BASHCOMPDIR)/perfshim-analyze

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/perfshim-analyze $(DESTDIR)$(BINDIR)/perfshim \
		$(DESTDIR)$(LIBDIR)/libperfshim.so $(DESTDIR)$(INCLUDEDIR)/perfshim.h \
		$(DESTDIR)$(PKGCONFIGDIR)/perfshim.pc \
		$(MAN_SRCS:docs/man/%=$(DESTDIR)$(MANDIR)/man1/%) \
		$(DESTDIR)$(BASHCOMPDIR)/perfshim $(DESTDIR)$(BASHCOMPDIR)/perfshim-analyze

clean:
	rm -rf $(BUILD)

help:
	@echo "targets: all check(test) fuzz bench bench-tools demo install uninstall clean help"
	@echo "knobs:   V=1 (show commands)  DEBUG=1 (-O0, -Werror)  WERROR=1"
	@echo "         SAN=1 or SAN=address,undefined (analyzer and tests only, never the preload)"
	@echo "         PREFIX=/usr/local BINDIR= LIBDIR= INCLUDEDIR= DATADIR= MANDIR= PKGCONFIGDIR="
	@echo "         BASHCOMPDIR= DESTDIR=  CC= CFLAGS= LDFLAGS="
	@echo "         FUZZ_TIME=60 (make fuzz: seconds per libFuzzer target)"
	@echo "         TEST_JOBS= (make check: integration tests at a time; default nproc, 1: serial)"

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
