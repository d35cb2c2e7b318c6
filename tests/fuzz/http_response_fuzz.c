/*
 * http_response_fuzz.c - the JWKS fetcher's HTTP/1.x response parser
 * (ngx_echostream_module/auth/ngx_http_echostream_http_response.c) on
 * whatever an identity provider's server, or anything between, sends.
 *
 * The first input byte picks the size of each read (1-64 bytes, as a
 * connection may cut the stream anywhere), the rest is the response. The
 * parser runs over nginx's headers with the stand-ins of
 * tests/unit/module/ngx_stub.c, whose pool hands out one malloc a call so
 * every overrun of a buffer is seen. Invariants: the outcome does not
 * depend on how the bytes were cut (the same input read whole gives the
 * same status, body and error); a completed 200 holds a body of at most
 * the cap, which is exactly the bytes the response carried for a
 * Content-Length body; a refusal always says why.
 */

#include "fuzz.h"

#include "ngx_stub.h"

#include "auth/ngx_http_echostream_http_response.h"

#define MAX_BODY 256

typedef struct {
    ngx_int_t rc;
    ngx_uint_t status;
    u_char *body;
    size_t body_len;
    char error[160];
} outcome;

static outcome parse(const uint8_t *text, size_t n, size_t step)
{
    ngx_http_echostream_http_response_t rp;
    size_t off, room, take;
    u_char *space;
    outcome o;

    memset(&o, 0, sizeof(o));
    ES_FUZZ_CHECK(ngx_http_echostream_http_response_init(
                      &rp, &ngx_stub_pool, MAX_BODY, (u_char *)o.error,
                      sizeof(o.error)) == NGX_OK);

    o.rc = NGX_AGAIN;
    for (off = 0; off < n && o.rc == NGX_AGAIN;) {
        space = ngx_http_echostream_http_response_space(&rp, &room);
        if (space == NULL) {
            o.rc = NGX_ERROR;
            break;
        }
        take = step < n - off ? step : n - off;
        take = take < room ? take : room;
        memcpy(space, text + off, take);
        off += take;
        o.rc = ngx_http_echostream_http_response_feed(&rp, take);
    }
    if (o.rc == NGX_AGAIN) {
        o.rc = ngx_http_echostream_http_response_eof(&rp);
    }

    o.status = rp.status;
    if (o.rc == NGX_OK && rp.body != NULL) {
        ES_FUZZ_CHECK(rp.body_len <= MAX_BODY);
        o.body = malloc(rp.body_len + 1);
        ES_FUZZ_CHECK(o.body != NULL);
        memcpy(o.body, rp.body, rp.body_len);
        o.body_len = rp.body_len;
    }
    if (o.rc == NGX_ERROR) {
        ES_FUZZ_CHECK(o.error[0] != '\0');
    } else {
        ES_FUZZ_CHECK(o.rc == NGX_OK);
    }

    ngx_stub_pool_free();
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    outcome cut, whole;
    size_t step;

    if (size < 1) {
        return 0;
    }
    step = (size_t)(data[0] % 64) + 1;

    cut = parse(data + 1, size - 1, step);
    whole = parse(data + 1, size - 1, size);

    ES_FUZZ_CHECK(cut.rc == whole.rc);
    ES_FUZZ_CHECK(cut.status == whole.status);
    ES_FUZZ_CHECK(cut.body_len == whole.body_len);
    ES_FUZZ_CHECK(cut.body_len == 0 ||
                  memcmp(cut.body, whole.body, cut.body_len) == 0);
    ES_FUZZ_CHECK(strcmp(cut.error, whole.error) == 0);

    free(cut.body);
    free(whole.body);
    return 0;
}
