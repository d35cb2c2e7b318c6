# mk/fuzz.mk - the fuzz targets of tests/fuzz/, included by the top Makefile.
#
#   make fuzz-build   build/fuzz/<name>_fuzz for every tests/fuzz/<name>_fuzz.c
#   make fuzz         run each for FUZZ_SECONDS (default 300) over its seed
#                     corpus (tests/fuzz/run.sh)
#
# Built with clang's libFuzzer, AddressSanitizer and UBSan (no recovery:
# the first report stops the run with the input that caused it). Each
# target links the library sources themselves, compiled with the same
# instrumentation, and the ingest parsers it reads, so coverage guides the
# fuzzer through the parser and not only through the target file.

FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS    := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# build/gen: es_build_info.h, which the worker runtime's --version prints
FUZZ_INC     := -Ilib -Iworkers/common -Iworkers/ingest -Iworkers/summarize \
                -Itests/fuzz -I$(GEN) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# the ingest parsers with what they call (watchlist, the worker runtime)
FUZZ_INGEST  := workers/ingest/dump_comment.c workers/ingest/reddit_listing.c \
                workers/ingest/watchlist.c $(COMMON_SRC)
# the message builder with its header writer
FUZZ_MAIL    := workers/common/es_mime.c workers/common/es_mime_hdr.c
# the summarizer's writers of comment text
FUZZ_SUMMARY := workers/summarize/extract.c workers/summarize/prompt.c \
                workers/summarize/textbuf.c
FUZZ_LIBS    := $(LDLIBS_ES) -lpthread
FUZZ_SECONDS ?= 300

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/%_fuzz: tests/fuzz/%_fuzz.c tests/fuzz/fuzz.h $(LIB_SRC) \
                    $(wildcard lib/*.h) $(FUZZ_INGEST) $(FUZZ_SUMMARY) \
                    $(wildcard workers/common/es_mime*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_INC) -o $@ $< $(LIB_SRC) \
	    $(if $(filter dump_fuzz listing_fuzz,$*_fuzz),$(FUZZ_INGEST)) \
	    $(if $(filter mime_fuzz,$*_fuzz),$(FUZZ_MAIL)) \
	    $(if $(filter summary_fuzz,$*_fuzz),$(FUZZ_SUMMARY)) \
	    $(FUZZ_LIBS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

# the module's HTTP response parser, over nginx's headers with the
# stand-ins of the unit tests for the nginx core functions it calls
$(FUZZ_DIR)/http_response_fuzz: tests/fuzz/http_response_fuzz.c tests/fuzz/fuzz.h \
                                tests/unit/module/ngx_stub.c \
                                tests/unit/module/ngx_stub.h \
                                ngx_echostream_module/auth/ngx_http_echostream_http_response.c \
                                ngx_echostream_module/auth/ngx_http_echostream_http_response.h \
                                $(NGX_BUILD_DIR)/.configured
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -std=c11,$(FUZZ_FLAGS)) $(NGX_INC) -Itests/fuzz \
	    -Wno-unused-parameter -o $@ $< tests/unit/module/ngx_stub.c \
	    ngx_echostream_module/auth/ngx_http_echostream_http_response.c
