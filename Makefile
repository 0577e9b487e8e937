# hanfw - firmware updates for GB smart-metering devices over the DCC.
#
#   make            build build/hanfw
#   make demo       set everything up and run the demonstration
#   make check      every test: unit (cmocka), CLI (bats), the same under
#                   AddressSanitizer+UndefinedBehaviorSanitizer, the threaded parts under
#                   ThreadSanitizer (make tsan), and brief fuzzing
#   make bench      benchmarks (not tests)
#   make fuzz       longer fuzzing by hand (FUZZ_SECONDS=600)
#   make install    PREFIX=/usr/local DESTDIR=

.SUFFIXES:

CC = cc
PKG_CONFIG ?= pkg-config
PKGS = libcrypto jansson libxml-2.0 libcurl sqlite3 libmicrohttpd gnutls libpq
# Linked; libcurl, libmicrohttpd, GnuTLS and libpq are loaded when first used (lib/dynlib.h):
# hanfw itself does not link libpq (its twenty libraries cost every command 10 million
# instructions at start-up); the unit tests that reach PostgreSQL themselves do.
LINK_PKGS = libcrypto jansson libxml-2.0 sqlite3 libpq
HANFW_LINK_PKGS = $(filter-out libpq,$(LINK_PKGS))
BUILD ?= build
SAN_BUILD = build-asan
TSAN_BUILD = build-tsan
SHARED ?= $(abspath ../shared)
FUZZ_SECONDS ?= 600
CHECK_FUZZ_SECONDS ?= 15
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
SCHEMADIR = $(PREFIX)/share/hanfw/schemas

WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS = -O2 -g
ALL_CFLAGS = -std=c11 $(WARN) -D_POSIX_C_SOURCE=200809L $(CFLAGS) $(EXTRA_CFLAGS) \
	$$($(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS = $$($(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null)
# The hanfw binary links libxml2, libcrypto, SQLite, Jansson, liblzma and zlib statically
# when their archives and ICU's header are installed (STATIC_DEPS=yes, the default;
# STATIC_DEPS=no links them shared, and sanitizer builds do by default). A process then
# starts in 0.5 million instructions instead of 7 (the dynamic linker relocating those
# libraries, ICU and libstdc++). libxml2's seven ICU entry points come from lib/noicu.c,
# which refuses every converter (see there): only UTF-8 is parsed. Still PIE (ASLR for a
# binary that parses what the network sends; -no-pie would save 0.25 million more).
# Unit tests, tools and fuzz targets link shared. See README "Benchmarks".
STATIC_ARCHIVES = libxml2.a libcrypto.a libsqlite3.a libjansson.a liblzma.a libz.a
STATIC_FOUND := $(strip $(foreach a,$(STATIC_ARCHIVES),$(if $(filter /%,$(shell $(CC) -print-file-name=$(a) 2>/dev/null)),$(a))) \
	$(if $(wildcard /usr/include/unicode/ucnv.h),ucnv.h))
ifneq ($(findstring -fsanitize,$(EXTRA_CFLAGS) $(CFLAGS)),)
STATIC_DEPS ?= no
else ifeq ($(words $(STATIC_FOUND)),7)
STATIC_DEPS ?= yes
else
STATIC_DEPS ?= no
endif
ifeq ($(STATIC_DEPS),yes)
HANFW_DEPS = $(BUILD)/noicu.o
HANFW_LIBS = $(BUILD)/noicu.o -Wl,-Bstatic -lxml2 -lcrypto -lsqlite3 -ljansson -llzma -lz -Wl,-Bdynamic \
	-lm -ldl -pthread
else
HANFW_LIBS = $$($(PKG_CONFIG) --libs $(HANFW_LINK_PKGS) 2>/dev/null) -ldl -pthread
endif

LIB_SRCS = lib/base64.c lib/buf.c lib/config.c lib/crypto.c lib/error.c lib/eui.c lib/fileio.c \
	lib/hex.c lib/image.c lib/manifest.c lib/route.c lib/xml.c lib/xmldsig.c lib/duis.c lib/requestid.c lib/version.c lib/clock.c \
	lib/request.c lib/distribute.c lib/readversion.c lib/flow.c lib/gbcs.c lib/cs06.c lib/decode.c lib/campaign.c lib/receiver.c \
	lib/activate.c lib/ledger.c lib/ledger_sqlite.c lib/ledger_pg.c lib/transport.c lib/estate.c lib/httpd.c lib/devlist.c lib/dynlib.c \
	lib/inventory.c lib/supplier.c lib/smki.c lib/products.c lib/plan.c \
	lib/report.c lib/run.c lib/rollout.c lib/redrive.c lib/thread.c
# The DCC adapter emulator behind "hanfw sandbox": its own archive, linked into the
# binary for cmd/sandbox.c, into mkpki (the test PKI) and the unit tests that use it.
SANDBOX_SRCS = lib/sandbox/dcc.c lib/sandbox/devsim.c lib/sandbox/estategen.c lib/sandbox/faults.c lib/sandbox/log.c \
	lib/sandbox/outbox.c lib/sandbox/pki.c lib/sandbox/sandbox.c lib/sandbox/smkisvc.c
CMD_SRCS = cmd/activate.c cmd/campaign.c cmd/campaign_run.c cmd/config.c cmd/distribute.c cmd/hanfw.c cmd/inventory.c cmd/ledger.c cmd/listen.c cmd/package.c cmd/parse.c cmd/progress.c cmd/read_version.c cmd/report.c cmd/sandbox.c cmd/session.c cmd/sign.c cmd/status.c cmd/verify.c
# Unit tests of the emulator (or using its test PKI) link its archive too.
SANDBOX_UNIT_TESTS = test_distribute test_estate test_faults test_inventory test_request test_transport test_xmldsig
UNIT_TESTS = test_campaign test_config test_crypto test_cs06 test_decode test_distribute test_estate test_faults test_fileio test_gbcs test_image test_inventory test_ledger test_manifest test_request test_text test_thread test_transport test_xml test_xmldsig \
	test_products test_plan test_report test_run test_progress test_rollout test_redrive
FUZZ_TARGETS = fuzz_image fuzz_manifest fuzz_config fuzz_duis fuzz_decode fuzz_gbcs fuzz_cs06 fuzz_devlist fuzz_faults fuzz_supplier fuzz_xmllimits fuzz_smkisvc fuzz_products

LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/duis_xsd.o
SANDBOX_OBJS = $(SANDBOX_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS = $(CMD_SRCS:%.c=$(BUILD)/%.o)
HEADERS = lib/*.h lib/errors.def cmd/cmd.h cmd/campaign_run.h cmd/progress.h lib/sandbox/*.h

all: $(BUILD)/hanfw man

# Man pages: the prose is man/*.1.in; SYNOPSIS and OPTIONS come from the
# option tables of the binary just built (scripts/genman.sh).
MAN_PAGES = $(patsubst man/%.1.in,$(BUILD)/man/%.1,$(wildcard man/*.1.in))
man: $(MAN_PAGES)
$(BUILD)/man/%.1: man/%.1.in man/environment.inc man/files.inc scripts/genman.sh $(BUILD)/hanfw
	@mkdir -p $(BUILD)/man
	sh scripts/genman.sh $(BUILD)/hanfw $< $@

$(BUILD)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/cmd/%.o: cmd/%.c $(HEADERS)
	@mkdir -p $(BUILD)/cmd
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# schemas/duis-firmware.xsd is compiled into the library, so the binary needs no data files.
# Compacted on the way: each line's indentation dropped and lines joined (with a space
# unless the line ends a tag), so the parsed schema has no whitespace text nodes; every
# process that validates parses it, and this saves 0.6 million of its instructions.
# A second copy holds only what a Request reaches (scripts/xsd-request-only.awk): a
# document whose root is a Request is validated against it, at a third of the parse.
XSD_TO_C = sed -e 's/^[[:space:]]*//; s/[[:space:]]*$$//; /^$$/d; s/\\/\\\\/g; s/"/\\"/g' \
	       -e '/>$$/{s/^/"/; s/$$/"/; b' -e '}' -e 's/^/"/; s/$$/ "/'
$(BUILD)/gen/duis_xsd.c: schemas/duis-firmware.xsd scripts/xsd-request-only.awk
	@mkdir -p $(BUILD)/gen
	awk -f scripts/xsd-request-only.awk schemas/duis-firmware.xsd > $(BUILD)/gen/duis-request.xsd
	{ echo '#include <stddef.h>'; \
	  echo 'extern const char hfw_duis_xsd[]; extern const size_t hfw_duis_xsd_len;'; \
	  echo 'extern const char hfw_duis_request_xsd[]; extern const size_t hfw_duis_request_xsd_len;'; \
	  echo 'const char hfw_duis_xsd[] ='; $(XSD_TO_C) schemas/duis-firmware.xsd; \
	  echo ';'; echo 'const size_t hfw_duis_xsd_len = sizeof(hfw_duis_xsd) - 1;'; \
	  echo 'const char hfw_duis_request_xsd[] ='; $(XSD_TO_C) $(BUILD)/gen/duis-request.xsd; \
	  echo ';'; echo 'const size_t hfw_duis_request_xsd_len = sizeof(hfw_duis_request_xsd) - 1;'; } > $@

$(BUILD)/gen/duis_xsd.o: $(BUILD)/gen/duis_xsd.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libhanfw.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

$(BUILD)/libhanfw-sandbox.a: $(SANDBOX_OBJS)
	rm -f $@
	ar rcs $@ $(SANDBOX_OBJS)

# The sandbox archive first: it uses the core, never the other way round.
$(BUILD)/hanfw: $(CMD_OBJS) $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a $(HANFW_DEPS)
	$(CC) $(ALL_CFLAGS) -o $@ $(CMD_OBJS) $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a $(HANFW_LIBS)

$(BUILD)/noicu.o: lib/noicu.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(SANDBOX_UNIT_TESTS:%=$(BUILD)/tests/%): $(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h \
		$(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a \
		-lcmocka $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h tests/unit/hostile.h $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(BUILD)/libhanfw.a -lcmocka $(LIBS)

# The campaign run's status line is the command's (cmd/progress.c), pure: tested on its own.
$(BUILD)/tests/test_progress: tests/unit/test_progress.c cmd/progress.c tests/unit/testutil.h $(HEADERS) $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< cmd/progress.c $(BUILD)/libhanfw.a -lcmocka $(LIBS)

$(BUILD)/tests/mkpki: tests/tools/mkpki.c $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a $(LIBS)

# A mixed estate without the sandbox's PKI, for the planning benchmark.
$(BUILD)/tests/mkestate: tests/tools/mkestate.c $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw-sandbox.a $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/bench_sign: tests/bench/bench_sign.c $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/bench_exchange: tests/bench/bench_exchange.c $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/bench_listen: tests/bench/bench_listen.c $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/bench_inventory: tests/bench/bench_inventory.c $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/bench_xmllimits: tests/bench/bench_xmllimits.c tests/unit/hostile.h $(BUILD)/libhanfw.a
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libhanfw.a $(LIBS)

$(BUILD)/tests/rusage: tests/tools/rusage.c
	@mkdir -p $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $<

test-programs: $(BUILD)/hanfw man $(BUILD)/tests/mkpki $(UNIT_TESTS:%=$(BUILD)/tests/%)

deps:
	@sh scripts/bootstrap

shared-present:
	@test -d "$(SHARED)/dcc" || { echo "make: reference data not found at $(SHARED): clone ../shared beside the project or set SHARED=" >&2; exit 1; }

# One pass of unit and CLI tests against the build in $(BUILD), with a PostgreSQL server of its
# own (tests/pg/pg-start; stopped however the pass ends).  The unit tests cover both ledger backends
# (HFW_TEST_PG_URI); the CLI tests run on CLI_LEDGER: sqlite (default) or postgresql, where every
# test's ledger is a schema of its own on that server (tests/cli/helpers.bash).  make check runs
# the plain pass on SQLite and the sanitizer pass on PostgreSQL, so the whole CLI suite covers both.
CLI_LEDGER ?= sqlite
test-pass: test-programs shared-present
	@eval "$$(sh tests/pg/pg-start)" && trap 'sh tests/pg/pg-stop "$$HFW_PG_DIR"' EXIT INT TERM && \
		sh tests/run-unit.sh $(BUILD) $(UNIT_TESTS) && \
		HANFW="$(abspath $(BUILD)/hanfw)" MKPKI="$(abspath $(BUILD)/tests/mkpki)" SHARED="$(SHARED)" \
		HFW_TEST_LEDGER=$(CLI_LEDGER) sh tests/run-cli.sh $(BUILD)

check: deps
	@rm -f build/results-*.txt build-asan/results-*.txt build-tsan/results-*.txt
	$(MAKE) check-style
	$(MAKE) BUILD=$(BUILD) test-pass
	$(MAKE) BUILD=$(SAN_BUILD) CC=gcc \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1" \
		CFLAGS="-g" CLI_LEDGER=postgresql test-pass
	$(MAKE) tsan
	$(MAKE) fuzz-check
	@sh tests/summary.sh $(BUILD) $(SAN_BUILD) $(TSAN_BUILD)

# The threaded parts (hanfw listen and sandbox serve end to end, the transport) under
# ThreadSanitizer; any report fails (tests/run-tsan.sh).  libcurl, libmicrohttpd and GnuTLS
# are loaded uninstrumented (lib/dynlib.h): TSan sees their locks, not their insides.
TSAN_UNIT_TESTS = test_transport test_thread
tsan: shared-present
	$(MAKE) BUILD=$(TSAN_BUILD) CC=gcc EXTRA_CFLAGS="-fsanitize=thread -fno-omit-frame-pointer -O1" \
		CFLAGS="-g" $(TSAN_BUILD)/hanfw $(TSAN_BUILD)/tests/mkpki $(TSAN_UNIT_TESTS:%=$(TSAN_BUILD)/tests/%)
	@SHARED="$(SHARED)" sh tests/run-tsan.sh $(TSAN_BUILD) $(TSAN_UNIT_TESTS)

# Libraries hanfw must not call (see lib/ and cmd/ conventions).
check-style:
	@if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|strtok)\(' lib/*.c lib/sandbox/*.c cmd/*.c; then \
		echo "check-style: banned function used (use snprintf, strtoul, ...)" >&2; exit 1; fi
	@if grep -nE '#[[:space:]]*include[[:space:]]*"[^"]*sandbox/' lib/*.c lib/*.h; then \
		echo "check-style: the core (lib/) includes the emulator (lib/sandbox/); only cmd/sandbox.c may" >&2; exit 1; fi
	@if grep -nE '(^|[^a-z_])(printf|puts|perror)[[:space:]]*\(|std(err|out)' lib/*.c lib/sandbox/*.c | \
		grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)'; then \
		echo "check-style: lib/ writes to the terminal (the core returns errors; cmd/ reports them)" >&2; exit 1; fi
	@if grep -nE 'xml[A-Z][A-Za-z]*\(|<libxml/' cmd/*.c cmd/*.h; then \
		echo "check-style: cmd/ calls libxml2 (device flows and XML belong in lib/)" >&2; exit 1; fi
	@if grep -nE 'HFW_EUSAGE|HFW_EXIT_' lib/*.c lib/*.h lib/sandbox/*.c lib/sandbox/*.h | grep -v 'errors.def'; then \
		echo "check-style: lib/ returns a usage or exit code (it returns HFW_E* codes; cmd/ decides usage)" >&2; exit 1; fi
	@if grep -nE 'hfw_(config_load|ledger_open|signer_open|pool_open|transport_open)\(' cmd/*.c | grep -v '^cmd/session.c:'; then \
		echo "check-style: a command opens its own set-up (cmd_setup() in cmd/session.c does, once)" >&2; exit 1; fi
	@echo "check-style: ok"

# libFuzzer targets, built with clang; "make check" runs each briefly.  The core (and the
# emulator's parsers that have targets) is compiled once, instrumented, into one archive each
# target links: compiling every source again for each of 13 targets took five minutes of CI.
FUZZ_BASE = -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 $$($(PKG_CONFIG) --cflags $(PKGS))
FUZZ_CFLAGS = $(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
FUZZ_CORE_SRCS = $(LIB_SRCS) lib/sandbox/faults.c lib/sandbox/smkisvc.c lib/sandbox/pki.c
FUZZ_CORE_OBJS = $(FUZZ_CORE_SRCS:%.c=$(BUILD)/fuzzobj/%.o) $(BUILD)/fuzzobj/gen/duis_xsd.o
$(BUILD)/fuzzobj/gen/duis_xsd.o: $(BUILD)/gen/duis_xsd.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(BUILD)/fuzzobj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_BASE) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(BUILD)/fuzzobj/libfuzzcore.a: $(FUZZ_CORE_OBJS)
	@rm -f $@
	ar rcs $@ $(FUZZ_CORE_OBJS)
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_trust.h $(BUILD)/fuzzobj/libfuzzcore.a $(HEADERS)
	@mkdir -p $(BUILD)/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(BUILD)/fuzzobj/libfuzzcore.a $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%) $(BUILD)/hanfw
fuzz-check: fuzz-build shared-present
	@SHARED="$(SHARED)" sh tests/run-fuzz.sh $(BUILD) $(CHECK_FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz: fuzz-build shared-present
	@SHARED="$(SHARED)" sh tests/run-fuzz.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: deps shared-present $(BUILD)/hanfw $(BUILD)/tests/mkpki $(BUILD)/tests/mkestate $(BUILD)/tests/rusage $(BUILD)/tests/bench_sign $(BUILD)/tests/bench_exchange $(BUILD)/tests/bench_listen $(BUILD)/tests/bench_xmllimits $(BUILD)/tests/bench_inventory
	@SHARED="$(SHARED)" sh tests/bench/bench.sh $(BUILD)

demo: deps $(BUILD)/hanfw $(BUILD)/tests/mkpki
	@sh samples/demo.sh $(BUILD)

install: $(BUILD)/hanfw man
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SCHEMADIR) \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	cp $(BUILD)/hanfw $(DESTDIR)$(BINDIR)/hanfw
	cp $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	cp schemas/*.json $(DESTDIR)$(SCHEMADIR)/
	cp completions/hanfw.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hanfw
	cp completions/_hanfw $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_hanfw

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hanfw $(DESTDIR)$(MANDIR)/man1/hanfw.1 $(DESTDIR)$(MANDIR)/man1/hanfw-*.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/hanfw \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_hanfw
	rm -rf $(DESTDIR)$(PREFIX)/share/hanfw

clean:
	rm -rf build build-asan build-tsan

.PHONY: all man deps shared-present test-programs test-pass check check-style tsan fuzz-build fuzz-check fuzz \
	bench demo install uninstall clean
