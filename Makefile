# Thin driver over SwiftPM. `make help` lists the targets.
SWIFT      ?= swift
PREFIX     ?= /usr/local
RELEASE    := -c release --experimental-lto-mode=full --omit-frame-pointers
LIB_DIR    := build/lib
LIB        := $(LIB_DIR)/libhakmem.so

.PHONY: all lib lib-unhardened test test-unit test-preload test-programs check-lib bench bench-full demo install clean help

all: lib

help:
	@echo "make lib          release libhakmem.so -> $(LIB)"
	@echo "make demo         build, then run a real program (python3) on hakmem"
	@echo "make test         every test: unit (swift test), API/stress/fork under preload, real programs, .so checks"
	@echo "make bench        benchmark comparison vs glibc/mimalloc/jemalloc/tcmalloc (quick)"
	@echo "make bench-full   the same, full mode"
	@echo "make install      PREFIX=/usr/local: library, hakmem.h (+ Swift module map), pkg-config file, launcher"

lib:
	$(SWIFT) build $(RELEASE) --product hakmem
	@mkdir -p $(LIB_DIR)
	@# Debug info stripped (symbols kept): valgrind 3.19 cannot read clang's DWARF 5.
	objcopy --strip-debug .build/release/libhakmem.so $(LIB)

# The real interpreter, not a pyenv shim (which would run a dozen shells on hakmem).
PYTHON     := $(shell python3 -c 'import sys; print(sys.executable)')

# The same library with the release hardening compiled out (-DHAKMEM_UNHARDENED):
# only to measure what the checks cost (docs/hardening.md). Never ship it.
lib-unhardened:
	$(SWIFT) build $(RELEASE) --product hakmem --scratch-path .build-unhardened -Xswiftc -DHAKMEM_UNHARDENED
	@mkdir -p $(LIB_DIR)
	objcopy --strip-debug .build-unhardened/release/libhakmem.so $(LIB_DIR)/libhakmem-unhardened.so

demo: lib
	scripts/hakmem --verbose $(PYTHON) scripts/demo.py

test: lib
	scripts/run-tests.sh

test-unit:
	$(SWIFT) test

test-preload: lib
	tests/preload/run.sh $(abspath $(LIB))

test-programs: lib
	tests/programs/run.sh $(abspath $(LIB))

check-lib: lib
	tests/check-lib.sh $(abspath $(LIB))

bench:
	bench/run.sh --quick

bench-full:
	bench/run.sh --full

VERSION    := $(shell sed -n 's/.*static let version: StaticString = "\(.*\)"/\1/p' Sources/Hakmem/Options.swift)

# One library serves release and checked mode (HAKMEM_CHECK=1 / hakmem --check).
install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/hakmem
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libhakmem.so
	install -m 644 Sources/HakmemExports/include/hakmem.h $(DESTDIR)$(PREFIX)/include/hakmem.h
	install -m 644 packaging/module.modulemap $(DESTDIR)$(PREFIX)/include/hakmem/module.modulemap
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' packaging/hakmem.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/hakmem.pc
	sed 's|^HAKMEM_DEFAULT_LIB=.*|HAKMEM_DEFAULT_LIB="$(PREFIX)/lib/libhakmem.so"|' scripts/hakmem \
		> $(DESTDIR)$(PREFIX)/bin/hakmem
	chmod 755 $(DESTDIR)$(PREFIX)/bin/hakmem

clean:
	rm -rf .build build
