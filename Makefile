# EchoStream build.
#
#   make          build the library, the workers, the nginx module and the
#                 dashboard (web/dist, bundled by web/build.mjs)
#   make run      install what is missing, build, start everything locally
#   make test     every test suite; ends with "N passed, N failed"
#   make bench    the benchmarks (tests/bench/)
#   make fuzz     the fuzz targets, FUZZ_SECONDS each (tests/fuzz/)
#   make deps     install the Debian and npm packages the project needs
#   make format   clang-format every C file
#   make install  install the workers, the module, the dashboard, the
#                 examples and the systemd units under PREFIX (/usr/local),
#                 staged under DESTDIR (mk/install.mk, docs/install.md)
#   make uninstall  remove what make install put there
#   make deb      the Debian packages libnginx-mod-http-echostream and
#                 echostream in build/deb/, built with debhelper from
#                 debian/ (mk/deb.mk, docs/install.md)
#
# Objects go under build/ (build/asan/ for the sanitizer build the unit tests
# also run under), so the source tree stays clean and two builds never mix.

CC      ?= cc
BUILD   ?= build
PKGS    := hiredis jansson libcurl libzstd
WARN    := -std=c11 -Wall -Wextra -Werror
CPPFLAGS_ES := -D_GNU_SOURCE -Ilib -Iworkers/common -Ibuild/gen \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
LDLIBS_ES := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypto -lm
# libjwt only where a general JWT library is the comparison: the unit
# tests' attack checks and the signature benchmark (tests/bench/jwt.c)
LDLIBS_JWT := -ljwt

ifeq ($(SANITIZE),1)
BUILD   := build/asan
CFLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

ALL_CFLAGS = $(WARN) $(CPPFLAGS_ES) $(CFLAGS) -MMD -MP

# the Redis function libraries, turned into C by lib/redis/luagen.c; the
# same build/gen serves every build flavour (the text does not depend on it)
GEN        := build/gen
LUA_SRC    := $(wildcard lib/redis/*.lua)
LUA_GEN    := $(LUA_SRC:lib/redis/%.lua=$(GEN)/es_lua_%.c)
LUAGEN     := $(GEN)/luagen

# the version, the revision and the build date (es_build_info.h: the
# workers' --version, the module's echostream_build_info), rewritten only
# when the version or the revision changes
ES_VERSION := 0.14.0
BUILD_INFO := $(GEN)/es_build_info.h
$(shell sh mk/build-info.sh $(ES_VERSION) $(BUILD_INFO))

LIB_SRC    := $(wildcard lib/*.c) $(LUA_GEN)
COMMON_SRC := $(wildcard workers/common/*.c)
WORKERS    := $(notdir $(filter-out workers/common,$(wildcard workers/*)))

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIB_A      := $(BUILD)/libechostream.a
COMMON_A   := $(BUILD)/libesworker.a
WORKER_BINS := $(WORKERS:%=$(BUILD)/bin/echostream-%)

# objects of one worker, and the same without its main (for unit tests)
worker_obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard workers/$(1)/*.c))
worker_lib_obj = $(filter-out %/main.o,$(call worker_obj,$(1)))

BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

# test drivers: small programs the integration suites run to exercise one
# piece of the workers (a signer, a mail sender) against a real peer
DRIVER_SRC  := $(wildcard tests/drivers/*.c)
DRIVER_BINS := $(DRIVER_SRC:tests/drivers/%.c=$(BUILD)/drivers/%)

UNIT_SRC  := $(shell find tests/unit -name '*_test.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all lib workers module web run test bench deps format clean unit \
        unit-asan check-format lint-lua
all: lib workers module web $(BENCH_BINS) $(DRIVER_BINS)

# the dashboard: esbuild (npm, pinned) bundles web/src into hashed assets;
# rebuilt when a source, the page or the bundler's lockfile changes
WEB_SRC := $(shell find web/src -type f 2>/dev/null) web/index.html \
           web/build.mjs package-lock.json
web: web/dist/index.html
web/dist/index.html: $(WEB_SRC)
	node web/build.mjs

lib: $(LIB_A) $(COMMON_A)
workers: $(WORKER_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LUAGEN): lib/redis/luagen.c lib/es_schema.h lib/es_keys.h lib/es_comment.h \
           lib/es_record.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -Ilib $(CFLAGS) -o $@ $<

# each library as C (linked by its program) and as the Lua Redis gets (for
# the tests that load it as the programs do)
$(GEN)/es_lua_%.c: lib/redis/%.lua lib/redis/prelude/shared.lua $(LUAGEN)
	@mkdir -p $(GEN)/redis
	$(LUAGEN) $* $< $@ $(GEN)/redis/$*.lua lib/redis/prelude/shared.lua

# kept after the build: nginx's build of the module compiles some of them
.SECONDARY: $(LUA_GEN)

lint-lua:
	luacheck --no-color --config lib/redis/.luacheckrc lib/redis

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(COMMON_A): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define worker_rule
$(BUILD)/bin/echostream-$(1): $(call worker_obj,$(1)) $(COMMON_A) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS_ES)
endef
$(foreach w,$(WORKERS),$(eval $(call worker_rule,$(w))))

.SECONDEXPANSION:

# tests/unit/lib/x_test.c links the libraries; tests/unit/workers/W/x_test.c
# also links worker W's objects except its main.
test_worker = $(if $(filter workers/%,$(1)),$(word 2,$(subst /, ,$(1))),__none__)
$(BUILD)/tests/%: tests/unit/%.c $(COMMON_A) $(LIB_A) \
                  $$(call worker_lib_obj,$$(call test_worker,$$*))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(addprefix -I,$(wildcard workers/*)) $(LDFLAGS) -o $@ $< \
	    $(filter %.o,$^) $(COMMON_A) $(LIB_A) $(LDLIBS_ES) $(LDLIBS_JWT) -lcmocka

# benchmark drivers: tests/bench/x.c -> build/bench/x, linked like a worker
$(BUILD)/bench/%: tests/bench/%.c $(COMMON_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(addprefix -I,$(wildcard workers/*)) $(LDFLAGS) \
	    -o $@ $< $(COMMON_A) $(LIB_A) $(LDLIBS_ES) $(LDLIBS_JWT)

# test drivers: tests/drivers/x.c -> build/drivers/x, linked like a worker
$(BUILD)/drivers/%: tests/drivers/%.c $(COMMON_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(addprefix -I,$(wildcard workers/*)) $(LDFLAGS) \
	    -o $@ $< $(COMMON_A) $(LIB_A) $(LDLIBS_ES)

unit: $(UNIT_BINS)
	@tests/run-unit.sh $(BUILD)/tests $(UNIT_BINS)

unit-asan:
	@$(MAKE) --no-print-directory SANITIZE=1 unit

-include mk/module.mk
-include mk/fuzz.mk
include mk/install.mk
include mk/deb.mk

# dependencies first: on a fresh machine nothing can build before they are in
run:
	@deploy/local/install-deps.sh
	@$(MAKE) --no-print-directory all
	@ECHOSTREAM_SKIP_DEPS=1 deploy/local/run.sh

test:
	@tests/run.sh

bench: all $(BENCH_BINS)
	@tests/bench/run.sh

deps:
	@deploy/local/install-deps.sh

format:
	clang-format -i $$(find lib workers ngx_echostream_module tests -name '*.[ch]')

check-format:
	@clang-format --dry-run -Werror $$(find lib workers ngx_echostream_module tests -name '*.[ch]')

clean:
	rm -rf build web/dist

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
