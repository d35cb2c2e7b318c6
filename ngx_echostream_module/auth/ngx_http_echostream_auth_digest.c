/*
 * ngx_http_echostream_auth_digest.c - the SHA-256 of tokens this worker
 * has seen verify, remembered by the token's exact bytes.
 *
 * The verified-token cache of auth.c is keyed by a token's SHA-256, and a
 * client sends the same token with every request: hashing a kilobyte per
 * request would cost more than the lookup it serves. So the digest itself
 * is remembered too, in a small direct-mapped table (slot chosen by a fast
 * hash of the signature's last bytes, the whole token compared in constant
 * time): a client's repeated token then costs a memory compare, while the
 * verified-token cache keeps its bounded, SHA-256 keyed store. Only tokens
 * that verified (now or before) are remembered, so forged ones cannot
 * churn the table.
 */

#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/sha.h>

#include "auth/ngx_http_echostream_auth_digest.h"

/* remembered token digests, and the longest token remembered */
#define NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS     1024
#define NGX_HTTP_ECHOSTREAM_DIGEST_TOKEN_MAX 4096
/* the token's last bytes (its signature's) that choose the slot */
#define NGX_HTTP_ECHOSTREAM_DIGEST_TAIL 32

/* a token's bytes (heap copy) and their SHA-256, the token cache's key */
typedef struct {
    u_char *token; /* NULL: empty */
    size_t len;
    u_char key[SHA256_DIGEST_LENGTH];
} ngx_http_echostream_digest_t;

static ngx_http_echostream_digest_t *ngx_http_echostream_digests;

static ngx_http_echostream_digest_t *
ngx_http_echostream_auth_digest_slot(const u_char *token, size_t len);
static ngx_uint_t ngx_http_echostream_auth_same(const u_char *a,
                                                const u_char *b, size_t len);

ngx_int_t ngx_http_echostream_auth_digest_init(ngx_cycle_t *cycle)
{
    ngx_http_echostream_digests = ngx_calloc(
        NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS * sizeof(ngx_http_echostream_digest_t),
        cycle->log);
    if (ngx_http_echostream_digests == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

void ngx_http_echostream_auth_digest_free(void)
{
    ngx_uint_t i;

    if (ngx_http_echostream_digests != NULL) {
        for (i = 0; i < NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS; i++) {
            ngx_free(ngx_http_echostream_digests[i].token);
        }
        ngx_free(ngx_http_echostream_digests);
        ngx_http_echostream_digests = NULL;
    }
}

/* The digest slot of a token: by a hash of its length and last bytes. */
static ngx_http_echostream_digest_t *
ngx_http_echostream_auth_digest_slot(const u_char *token, size_t len)
{
    size_t tail;
    uint32_t h;

    tail = ngx_min(len, NGX_HTTP_ECHOSTREAM_DIGEST_TAIL);
    h = ngx_murmur_hash2((u_char *)token + len - tail, tail) ^ (uint32_t)len;

    return &ngx_http_echostream_digests[h &
                                        (NGX_HTTP_ECHOSTREAM_DIGEST_SLOTS - 1)];
}

ngx_uint_t ngx_http_echostream_auth_digest_get(const ngx_str_t *token,
                                               u_char *key)
{
    ngx_http_echostream_digest_t *d;

    if (ngx_http_echostream_digests == NULL) {
        return 0;
    }

    d = ngx_http_echostream_auth_digest_slot(token->data, token->len);
    if (d->token == NULL || d->len != token->len ||
        !ngx_http_echostream_auth_same(d->token, token->data, token->len)) {
        return 0;
    }

    ngx_memcpy(key, d->key, SHA256_DIGEST_LENGTH);
    return 1;
}

void ngx_http_echostream_auth_digest_put(const ngx_str_t *token,
                                         const u_char *key)
{
    ngx_http_echostream_digest_t *d;

    if (ngx_http_echostream_digests == NULL ||
        token->len > NGX_HTTP_ECHOSTREAM_DIGEST_TOKEN_MAX) {
        return;
    }

    d = ngx_http_echostream_auth_digest_slot(token->data, token->len);

    if (d->token == NULL || d->len != token->len) {
        ngx_free(d->token);
        d->len = 0;
        d->token = ngx_alloc(token->len, ngx_cycle->log);
        if (d->token == NULL) {
            return;
        }
    }

    ngx_memcpy(d->token, token->data, token->len);
    d->len = token->len;
    ngx_memcpy(d->key, key, SHA256_DIGEST_LENGTH);
}

/*
 * 1 when a and b (len bytes each) are equal, in time that depends on len
 * only: how much of a remembered token a forged one matches must not
 * show in the answer's timing.
 */
static ngx_uint_t ngx_http_echostream_auth_same(const u_char *a,
                                                const u_char *b, size_t len)
{
    uint64_t x, y, diff;
    size_t i;

    diff = 0;

    for (i = 0; i + 8 <= len; i += 8) {
        ngx_memcpy(&x, a + i, 8);
        ngx_memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }

    for (; i < len; i++) {
        diff |= (uint64_t)(a[i] ^ b[i]);
    }

    return diff == 0;
}
