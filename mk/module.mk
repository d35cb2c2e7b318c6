# mk/module.mk - builds the nginx module, included by the top Makefile.
#
#   make module        build/ngx_http_echostream_module.so
#   make module-asan   build/asan/ngx_http_echostream_module.so, the same
#                      module with AddressSanitizer + UBSan, for the tests
#                      that load it into nginx with LD_PRELOAD=libasan
#
# The module is built out of tree against Debian's nginx-dev sources in
# /usr/share/nginx/src, configured with the same flags as the installed
# nginx (conf_flags, which sets --with-compat) so the .so loads into
# /usr/sbin/nginx. configure writes only into build/nginx/ (--builddir),
# never into /usr/share/nginx/src; it is slow, so it runs once (a stamp
# file records success) and again only when the addon file changes.
# nginx's own Makefile then recompiles just the changed module objects,
# with its -Werror.

NGX_SRC_DIR      := /usr/share/nginx/src
NGX_BUILD_DIR    := $(CURDIR)/build/nginx
MODULE_SO        := build/ngx_http_echostream_module.so
MODULE_CONF_FLAGS := --with-cc-opt="-g -O2 -fPIC" --with-ld-opt=-fPIC
# the lib/ files the module links: the list in the addon file, and lib/es_req*
MODULE_LIB       := $(shell sed -n 's/^ECHOSTREAM_LIB_FILES="\(.*\)"/\1/p' config)
MODULE_LUA       := $(shell sed -n 's/^ECHOSTREAM_LUA_LIBS="\(.*\)"/\1/p' config)
MODULE_LAYERS    := $(shell sed -n 's/^ECHOSTREAM_LAYERS="\(.*\)"/\1/p' config)
MODULE_OWN       := $(MODULE_LAYERS:%=ngx_echostream_module/%)
MODULE_SRC       := config $(wildcard $(MODULE_OWN:%=%/*.c)) \
                    $(MODULE_LUA:%=build/gen/es_lua_%.c) lib/es_schema.h \
                    $(wildcard $(MODULE_OWN:%=%/*.h)) \
                    $(wildcard $(MODULE_LIB:%=lib/%.[ch]) lib/es_req*.[ch] \
                      lib/es_jwt*.h lib/es_query*.h) lib/es_keys.h lib/es_metrics_buckets.h \
                    lib/es_record.h build/gen/es_build_info.h

NGX_ASAN_DIR     := $(CURDIR)/build/nginx-asan
MODULE_ASAN_SO   := build/asan/ngx_http_echostream_module.so
ASAN_FLAGS       := -fsanitize=address,undefined -fno-omit-frame-pointer
ASAN_CONF_FLAGS  := --with-cc-opt="-g -O1 -fPIC $(ASAN_FLAGS)" \
                    --with-ld-opt="-fPIC $(ASAN_FLAGS)"

# configure writes the list of sources into its Makefile: a module file
# added or removed must reconfigure, so the list itself is a prerequisite,
# rewritten only when it changes
MODULE_FILES     := $(sort $(wildcard $(MODULE_OWN:%=%/*.c) lib/es_req*.c))
MODULE_LIST      := build/.module-files
$(shell mkdir -p build && (echo '$(MODULE_FILES)' | cmp -s - $(MODULE_LIST) \
    || echo '$(MODULE_FILES)' > $(MODULE_LIST)))

.PHONY: module module-asan
module: $(MODULE_SO)
module-asan: $(MODULE_ASAN_SO)

$(NGX_BUILD_DIR)/.configured: config mk/module.mk $(MODULE_LIST)
	@mkdir -p $(NGX_BUILD_DIR)
	@rm -f $@
	cd $(NGX_SRC_DIR) && bash -c '. ./conf_flags && ./configure \
	    $(MODULE_CONF_FLAGS) "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) --builddir=$(NGX_BUILD_DIR)' \
	    > $(NGX_BUILD_DIR)/configure.log 2>&1 \
	    || { tail -20 $(NGX_BUILD_DIR)/configure.log; exit 1; }
	@touch $@

$(MODULE_SO): $(NGX_BUILD_DIR)/.configured $(MODULE_SRC)
	$(MAKE) -C $(NGX_SRC_DIR) -f $(NGX_BUILD_DIR)/Makefile modules
	@# copy then rename: an nginx that has the old file loaded keeps it intact
	cp $(NGX_BUILD_DIR)/ngx_http_echostream_module.so $@.tmp
	mv -f $@.tmp $@

$(NGX_ASAN_DIR)/.configured: config mk/module.mk $(MODULE_LIST)
	@mkdir -p $(NGX_ASAN_DIR)
	@rm -f $@
	cd $(NGX_SRC_DIR) && bash -c '. ./conf_flags && ./configure \
	    $(ASAN_CONF_FLAGS) "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) --builddir=$(NGX_ASAN_DIR)' \
	    > $(NGX_ASAN_DIR)/configure.log 2>&1 \
	    || { tail -20 $(NGX_ASAN_DIR)/configure.log; exit 1; }
	@touch $@

$(MODULE_ASAN_SO): $(NGX_ASAN_DIR)/.configured $(MODULE_SRC)
	$(MAKE) -C $(NGX_SRC_DIR) -f $(NGX_ASAN_DIR)/Makefile modules
	@mkdir -p $(dir $@)
	cp $(NGX_ASAN_DIR)/ngx_http_echostream_module.so $@.tmp
	mv -f $@.tmp $@

# Unit tests of module files that need no running nginx
# (tests/unit/module/<x>_test.c): compiled against nginx's headers and the
# configured build's ngx_auto_config.h, with nginx's warnings, linking the
# module files they name on a "// links:" line and the stand-ins for the
# nginx core functions those call (tests/unit/module/ngx_stub.c: nginx-dev
# ships no core sources). Built like every unit test, also under
# AddressSanitizer + UBSan (SANITIZE=1).
NGX_INC          := -I$(NGX_SRC_DIR)/src/core -I$(NGX_SRC_DIR)/src/event \
                    -I$(NGX_SRC_DIR)/src/event/modules \
                    -I$(NGX_SRC_DIR)/src/os/unix -I$(NGX_BUILD_DIR) \
                    -Ingx_echostream_module -Ilib -Itests/unit/module
NGX_WARN         := -W -Wall -Wpointer-arith -Wno-unused-parameter -Werror
module_test_links = $(shell sed -n 's|^// links: *||p' $(1))

$(BUILD)/tests/module/%_test: tests/unit/module/%_test.c \
                              tests/unit/module/ngx_stub.c \
                              tests/unit/module/ngx_stub.h \
                              $(NGX_BUILD_DIR)/.configured $(MODULE_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(NGX_WARN) $(NGX_INC) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    tests/unit/module/ngx_stub.c \
	    $(call module_test_links,$<) -lcmocka
