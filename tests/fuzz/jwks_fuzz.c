/*
 * jwks_fuzz.c - key set documents, as the module's JWKS fetcher hands
 * them to es_jwks_parse (any bytes a server might send).
 *
 * Invariants: a set is returned only with at least one key, every key
 * findable by nothing but its own kid, and the error text is terminated.
 */
#include "es_jwt.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    es_jwks *set;
    char *doc;

    doc = es_fuzz_copy(data, size, 0);
    memset(err, 0x55, sizeof(err));

    set = es_jwks_parse(doc, size, err, sizeof(err));
    ES_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (set != NULL) {
        ES_FUZZ_CHECK(es_jwks_count(set) >= 1);
        ES_FUZZ_CHECK(!es_jwks_has(set, ""));
        es_jwks_free(set);
    }

    free(doc);
    return 0;
}
