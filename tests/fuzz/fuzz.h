/*
 * fuzz.h - what every fuzz target of tests/fuzz/ shares.
 *
 * Each target is one file with LLVMFuzzerTestOneInput, built by
 * `make fuzz-build` with clang's libFuzzer plus AddressSanitizer and
 * UBSan (mk/fuzz.mk), and run by tests/fuzz/run.sh over its seed corpus
 * (tests/fuzz/corpus/<target>/): briefly in `make test`, longer in
 * `make fuzz`. A target feeds the bytes to one parser of outside input
 * exactly as the program does (length-delimited, not NUL-terminated, so a
 * read past the end is caught) and checks the invariants the callers
 * rely on; a violated invariant aborts, which libFuzzer reports as a
 * crash with the input that caused it.
 */
#ifndef ES_FUZZ_H
#define ES_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false: an invariant callers use. */
#define ES_FUZZ_CHECK(cond)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond,      \
                    __FILE__, __LINE__);                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

/*
 * A heap copy of data[0..size) with nothing after it (so ASan sees any
 * read past the end), or, with nul set, with one NUL after it. Free it.
 */
static inline char *es_fuzz_copy(const uint8_t *data, size_t size, int nul)
{
    char *p = malloc(size + (nul ? 1 : 0) + (size == 0 && !nul ? 1 : 0));

    if (p == NULL) {
        abort();
    }
    if (size > 0) {
        memcpy(p, data, size);
    }
    if (nul) {
        p[size] = '\0';
    }
    return p;
}

#endif
