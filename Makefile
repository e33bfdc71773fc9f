# Ember — one non-recursive GNU Makefile. Output goes to $(BUILD) (default build/).
#   make            the ember binary (build/ember)
#   make test       build and run every test (unit, integration, fuzz corpus replay)
#   make asan       the tests under ASan+UBSan (build/asan/)
#   make fuzz       live fuzzing with libFuzzer, FUZZ_SECONDS per target (default 60)
#   make bench      benchmarks against named peers (not part of make test)
#   make lint       clang-format check, banned functions, include layering, header self-containment
#   make run        build, start the server and agent on this host, print the UI address
# V=1 shows the commands. CI=true adds -Werror.

BUILD ?= build
CC ?= cc
V ?= 0
Q := $(if $(filter 1,$(V)),,@)

CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 -Wvla \
	-Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
OPT ?= -O2 -g
SAN ?=
CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) $(SAN) -Isrc -I$(BUILD)/bpf -MMD -MP $(CFLAGS)
LIBS := -lbpf -lelf -ldw -ldebuginfod -liberty -lzstd -llzma -ldeflate -lz -lpcre2-8 -lcurl -lmicrohttpd \
	-lyaml -ljansson -lm -lpthread
LDFLAGS_ALL := $(SAN) $(LDFLAGS)

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

# Dependencies: scripts/deps.sh installs what is missing (idempotent, fast when all present).
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/deps.sh package-lock.json
	$(Q)mkdir -p $(BUILD)
	$(Q)bash scripts/deps.sh
	$(Q)touch $@

# The library: every module but the CLI.
LIB_DIRS := src/base src/profile src/format src/symb src/store src/store/clickhouse src/agent src/server
LIB_SRC := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libember.a

# BPF: src/bpf/<name>.bpf.c -> $(BUILD)/bpf/<name>.bpf.o -> $(BUILD)/bpf/<name>.skel.h (CO-RE;
# vmlinux.h generated from the build machine's BTF). Objects of src/agent/ and src/cli/ may
# include the skeletons.
BPF_SRC := $(wildcard src/bpf/*.bpf.c)
BPF_SKEL := $(BPF_SRC:src/bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
VMLINUX_H := $(BUILD)/bpf/vmlinux.h
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')

$(VMLINUX_H): | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c $(VMLINUX_H) $(wildcard src/bpf/*.h)
	$(if $(Q),@echo "  BPF $<")
	$(Q)clang -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/bpf -Isrc \
		-Wall -Wno-unused-function -c $< -o $@
	$(Q)llvm-strip -g $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(Q)bpftool gen skeleton $< > $@

CLI_SRC := $(wildcard src/cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
EMBER := $(BUILD)/ember

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit-obj/%.o)
UNIT := $(BUILD)/tests/unit

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/tests/unit-obj/%.o: tests/unit/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(filter $(BUILD)/src/agent/%,$(LIB_OBJ)) $(CLI_OBJ): $(BPF_SKEL)

# The web UI compiled into the library: scripts/embed_assets.sh turns web/ and the vendored uPlot
# files into a C table (src/server/server_assets.h); rerun when any of them (or the file list)
# changes.
WEB_VENDOR := node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css
WEB_FILES := $(shell find web -type f 2>/dev/null) $(shell find web -type d 2>/dev/null)
WEB_ASSETS_C := $(BUILD)/gen/web_assets.c
WEB_ASSETS_O := $(BUILD)/gen/web_assets.o

$(WEB_ASSETS_C): $(WEB_FILES) scripts/embed_assets.sh $(DEPS_STAMP)
	$(if $(Q),@echo "  GEN $@")
	$(Q)bash scripts/embed_assets.sh $@ web $(WEB_VENDOR)

$(WEB_ASSETS_O): $(WEB_ASSETS_C) src/server/server_assets.h
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ) $(WEB_ASSETS_O)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(EMBER): $(CLI_OBJ) $(LIB)
	$(if $(Q),@echo "  LD $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

$(UNIT): $(UNIT_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  LD $@")
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(UNIT_OBJ) $(LIB) $(LIBS)

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

.PHONY: all test unit asan fuzz bench lint run clean check-clang
all: $(EMBER)

unit: $(UNIT)
	$(Q)$(UNIT)

test: $(EMBER) $(UNIT) $(FUZZ_REPLAY) $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) bash tests/run.sh

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

# Live fuzzing: clang + libFuzzer + ASan, FUZZ_SECONDS per target, corpus in tests/fuzz/corpus/.
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz
fuzz: | $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_BUILD)/libember.a
	$(Q)mkdir -p $(FUZZ_BUILD)/bin
	$(Q)set -e; for n in $(FUZZ_NAMES); do \
		clang $(CSTD) -O1 -g -Isrc -fsanitize=fuzzer,address,undefined \
			tests/fuzz/fuzz_$$n.c $(FUZZ_BUILD)/libember.a $(LIBS) -o $(FUZZ_BUILD)/bin/fuzz_$$n; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n; \
		echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
		$(FUZZ_BUILD)/bin/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-print_final_stats=1 $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n; \
	done

bench: $(EMBER) $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) bash bench/run.sh

lint: | $(DEPS_STAMP)
	$(Q)BUILD=$(BUILD) bash scripts/lint.sh

# Compile everything with clang too (warnings are errors in CI).
check-clang:
	$(Q)$(MAKE) --no-print-directory BUILD=build/clang CC=clang build/clang/ember

run: $(EMBER)
	$(Q)bash scripts/run.sh $(EMBER)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BENCH_BIN:%=%.d) \
	$(FUZZ_SRC:%.c=$(BUILD)/%.d)
