/*
 * jwt_testkit.h - crafting keys, JWKS documents and tokens for the unit
 * tests of lib/es_jwt.c and lib/es_jwks.c.
 *
 * Every token a test uses is built here byte by byte (header and payload
 * text, base64url, signature by OpenSSL), so each case differs from a good
 * token in exactly the one way it means to test. Functions are static
 * inline, so a test binary that includes this file uses what it needs.
 * Everything returned is new memory the caller frees with free().
 *
 * With JWT_KIT_FIXTURE defined, it also holds the fixture the token tests
 * share: two real RSA-2048 key pairs made once per binary, A published in
 * the key set under kid "k1" and B published nowhere (it signs forgeries
 * claiming "k1"), a Cognito-like policy, and good id and access claims
 * every case starts from.
 */
#ifndef JWT_TESTKIT_H
#define JWT_TESTKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* How a crafted token is signed. */
typedef enum {
    SIG_RS256,
    SIG_RS384,
    SIG_PS256,
    SIG_HS256, /* HMAC with the given secret */
    SIG_NONE,  /* empty signature part */
    SIG_JUNK   /* 256 bytes that are no signature */
} kit_sig;

/* Stops the test binary when memory runs out while crafting. */
static inline void *kit_check(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "jwt_testkit: out of memory\n");
        abort();
    }
    return p;
}

static inline char *kit_b64url(const unsigned char *in, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = kit_check(malloc(n / 3 * 4 + 5));
    size_t o = 0, i = 0;

    for (; i + 2 < n; i += 3) {
        unsigned v =
            (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = abc[v >> 6 & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        out[o++] = abc[in[i] >> 2];
        out[o++] = abc[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 8 | in[i + 1];

        out[o++] = abc[v >> 10 & 63];
        out[o++] = abc[v >> 4 & 63];
        out[o++] = abc[(v & 15) << 2];
    }
    out[o] = '\0';
    return out;
}

static inline char *kit_b64url_str(const char *s)
{
    return kit_b64url((const unsigned char *)s, strlen(s));
}

static inline EVP_PKEY *kit_rsa(unsigned bits)
{
    return kit_check(EVP_RSA_gen(bits));
}

/* base64url of the RSA parameter name (n or e) of key. */
static inline char *kit_rsa_param(EVP_PKEY *key, const char *name)
{
    unsigned char buf[1100];
    BIGNUM *bn = NULL;
    char *out;
    int n;

    if (!EVP_PKEY_get_bn_param(key, name, &bn)) {
        abort();
    }
    n = BN_bn2bin(bn, buf);
    out = kit_b64url(buf, (size_t)n);
    BN_free(bn);
    return out;
}

/* One JWK object: kty RSA, the key's n and e, kid, then extra members. */
static inline char *kit_jwk(EVP_PKEY *key, const char *kid, const char *extra)
{
    char *n = kit_rsa_param(key, OSSL_PKEY_PARAM_RSA_N);
    char *e = kit_rsa_param(key, OSSL_PKEY_PARAM_RSA_E);
    size_t len = strlen(n) + strlen(kid) + strlen(extra) + 100;
    char *out = kit_check(malloc(len));

    snprintf(out, len,
             "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}",
             kid, n, e, extra);
    free(n);
    free(e);
    return out;
}

/* Raw signature of data under kind; returns its length. */
static inline size_t kit_sign(kit_sig kind, EVP_PKEY *key, const void *secret,
                              size_t secret_len, const char *data,
                              unsigned char *sig)
{
    const EVP_MD *md = kind == SIG_RS384 ? EVP_sha384() : EVP_sha256();
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned int hlen = 0;
    size_t len = 1024;

    if (kind == SIG_NONE) {
        return 0;
    }
    if (kind == SIG_JUNK) {
        memset(sig, 0x5a, 256);
        return 256;
    }
    if (kind == SIG_HS256) {
        HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data,
             strlen(data), sig, &hlen);
        return hlen;
    }
    ctx = kit_check(EVP_MD_CTX_new());
    if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1 ||
        (kind == SIG_PS256 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1) ||
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data,
                       strlen(data)) != 1) {
        abort();
    }
    EVP_MD_CTX_free(ctx);
    return len;
}

/* "b64(header).b64(payload).b64(signature)" from header and payload text. */
static inline char *kit_token_secret(const char *header, const char *payload,
                                     kit_sig kind, EVP_PKEY *key,
                                     const void *secret, size_t secret_len)
{
    char *h = kit_b64url_str(header), *p = kit_b64url_str(payload), *s, *out;
    unsigned char sig[1024];
    size_t len = strlen(h) + strlen(p) + 2, slen;

    out = kit_check(malloc(len + 1400));
    snprintf(out, len + 1, "%s.%s", h, p);
    slen = kit_sign(kind, key, secret, secret_len, out, sig);
    s = kit_b64url(sig, slen);
    strcat(out, ".");
    strcat(out, s);
    free(h);
    free(p);
    free(s);
    return out;
}

static inline char *kit_token(const char *header, const char *payload,
                              kit_sig kind, EVP_PKEY *key)
{
    return kit_token_secret(header, payload, kind, key, NULL, 0);
}

/* A token of the claims object (stolen), with header text, signed RS256. */
static inline char *kit_token_json(const char *header, json_t *claims,
                                   EVP_PKEY *key)
{
    char *payload = kit_check(json_dumps(claims, JSON_COMPACT));
    char *out = kit_token(header, payload, SIG_RS256, key);

    free(payload);
    json_decref(claims);
    return out;
}

#ifdef JWT_KIT_FIXTURE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "es_jwt.h"

#define NOW INT64_C(1764000000)
#define ISS "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1"
#define ISS2                                                                   \
    "https://issuer.cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1"
#define CLIENT "5q8client0id0abc"
#define SUB    "0b5e4d1c-7f3a-4e8b-9c2d-1a2b3c4d5e6f"
#define HDR    "{\"alg\":\"RS256\",\"kid\":\"k1\"}"

static EVP_PKEY *key_a, *key_b;
static es_jwks *set;
static es_jwt_policy policy;

static inline int setup(void **state)
{
    char *jwk, doc[2048];

    (void)state;
    key_a = kit_rsa(2048);
    key_b = kit_rsa(2048);
    jwk = kit_jwk(key_a, "k1", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", jwk);
    free(jwk);
    set = es_jwks_parse(doc, strlen(doc), NULL, 0);
    policy.issuers[0] = ISS;
    policy.issuers[1] = ISS2;
    policy.n_issuers = 2;
    policy.clients[0] = "otherclient";
    policy.clients[1] = CLIENT;
    policy.n_clients = 2;
    policy.accept_id = 1;
    policy.accept_access = 1;
    policy.leeway_s = 60;
    return set == NULL ? -1 : 0;
}

static inline int teardown(void **state)
{
    (void)state;
    es_jwks_free(set);
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    return 0;
}

static inline json_t *id_claims(void)
{
    return kit_check(json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:b, s:s, s:s}", "sub", SUB,
        "iss", ISS, "aud", CLIENT, "token_use", "id", "exp",
        (json_int_t)(NOW + 3600), "iat", (json_int_t)(NOW - 10), "auth_time",
        (json_int_t)(NOW - 10), "email", "ada@example.com", "email_verified", 1,
        "cognito:username", "ada", "custom:tenant_id", "acme_1"));
}

static inline json_t *access_claims(void)
{
    return kit_check(
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "sub", SUB, "iss",
                  ISS, "client_id", CLIENT, "token_use", "access", "exp",
                  (json_int_t)(NOW + 3600), "iat", (json_int_t)(NOW - 10),
                  "username", "ada", "scope", "aws.cognito.signin.user.admin"));
}

/* Verifies token (freed) with the shared set and policy at NOW. */
static inline void expect_at(char *token, int64_t now, es_jwt_status want)
{
    es_jwt_claims c;
    es_jwt_status got;

    got = es_jwt_verify(token, strlen(token), set, &policy, now, &c);
    free(token);
    if (got != want) {
        fail_msg("got \"%s\", want \"%s\"", es_jwt_status_str(got),
                 es_jwt_status_str(want));
    }
}

static inline void expect(char *token, es_jwt_status want)
{
    expect_at(token, NOW, want);
}

/* id token claims with member name set to value (stolen) */
static inline char *id_with(const char *name, json_t *value)
{
    json_t *c = id_claims();

    json_object_set_new(c, name, value);
    return kit_token_json(HDR, c, key_a);
}

static inline char *id_without(const char *name)
{
    json_t *c = id_claims();

    json_object_del(c, name);
    return kit_token_json(HDR, c, key_a);
}

static inline char *access_with(const char *name, json_t *value)
{
    json_t *c = access_claims();

    json_object_set_new(c, name, value);
    return kit_token_json(HDR, c, key_a);
}

/* A good id token's payload text, for tokens with a custom header. */
static inline char *id_payload(void)
{
    json_t *c = id_claims();
    char *s = kit_check(json_dumps(c, JSON_COMPACT));

    json_decref(c);
    return s;
}

static inline char *with_header(const char *header, kit_sig kind)
{
    char *p = id_payload();
    char *t = kit_token(header, p, kind, key_a);

    free(p);
    return t;
}

#endif /* JWT_KIT_FIXTURE */

#endif /* JWT_TESTKIT_H */
