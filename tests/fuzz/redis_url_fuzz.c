/*
 * redis_url_fuzz.c - Redis addresses (ECHOSTREAM_REDIS, echostream_redis),
 * as es_redis_url_parse reads them.
 *
 * Invariants: every field is NUL-terminated within its array; a
 * redis+sentinel:// address has 1 to ES_REDIS_SENTINELS_MAX sentinels with
 * valid ports and a master name, any other a valid port; the error text
 * never holds the password.
 */
#include "es_redis_url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[128];
    es_redis_url u;
    char *s;

    s = es_fuzz_copy(data, size, 1);
    memset(err, 0x55, sizeof(err));

    if (es_redis_url_parse(s, &u, err, sizeof(err)) == 0) {
        ES_FUZZ_CHECK(memchr(u.host, '\0', sizeof(u.host)) != NULL);
        ES_FUZZ_CHECK(memchr(u.path, '\0', sizeof(u.path)) != NULL);
        ES_FUZZ_CHECK(memchr(u.password, '\0', sizeof(u.password)) != NULL);
        ES_FUZZ_CHECK(memchr(u.master, '\0', sizeof(u.master)) != NULL);
        if (u.nsentinels > 0) {
            ES_FUZZ_CHECK(u.nsentinels <= ES_REDIS_SENTINELS_MAX);
            ES_FUZZ_CHECK(u.master[0] != '\0' && u.port == 0);
            for (int i = 0; i < u.nsentinels; i++) {
                const es_redis_addr *a = &u.sentinel[i];
                ES_FUZZ_CHECK(memchr(a->host, '\0', sizeof(a->host)) != NULL);
                ES_FUZZ_CHECK(a->host[0] != '\0');
                ES_FUZZ_CHECK(a->port > 0 && a->port <= 65535);
            }
        } else {
            ES_FUZZ_CHECK(u.port > 0 && u.port <= 65535);
        }
    } else {
        ES_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        if (strlen(u.password) >= 4) {
            ES_FUZZ_CHECK(strstr(err, u.password) == NULL);
        }
    }

    free(s);
    return 0;
}
