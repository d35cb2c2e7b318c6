/*
 * es_jwks.c - key sets parsed from a JWKS document (see es_jwt.h).
 *
 * Each usable JWK (kty RSA, use sig, alg RS256 or none, 2048..8192-bit n,
 * small odd e) becomes, once, when the set is built, an OpenSSL EVP_PKEY:
 * every signature check until the next fetch uses it as it is, with no
 * key parsing per token.
 * Everything else is skipped, never fatal, so one odd key in a provider's
 * document does not lock every user out. A set is a fixed array of at most
 * ES_JWKS_MAX_KEYS keys searched linearly (providers publish two or three),
 * written only while it is built and read-only after.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "es_jwt.h"
#include "es_jwt_int.h"

typedef struct {
    char kid[ES_JWT_KID_MAX + 1];
    EVP_PKEY *pkey; /* owned */
} es_jwk;

struct es_jwks {
    size_t n;
    es_jwk keys[ES_JWKS_MAX_KEYS];
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0 || err[0] != '\0') {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const es_jwk *jwks_find(const es_jwks *set, const char *kid)
{
    if (set == NULL || kid == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->keys[i].kid, kid) == 0) {
            return &set->keys[i];
        }
    }
    return NULL;
}

/*
 * Builds the RSA public key (n, e) into k: a new EVP_PKEY owned by k.
 * Returns 0, or -1 (k untouched) when OpenSSL refuses the key or memory
 * runs out.
 */
static int rsa_key(BIGNUM *n, BIGNUM *e, es_jwk *k)
{
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    int rc = -1;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        goto cleanup;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        goto cleanup;
    }
    k->pkey = pkey;
    pkey = NULL;
    rc = 0;
cleanup:
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return rc;
}

/* Decodes a base64url JWK member of at most max bytes into a new BIGNUM. */
static BIGNUM *jwk_bignum(json_t *key, const char *name, size_t max)
{
    unsigned char buf[ES_JWKS_MAX_BITS / 8 + 8];
    json_t *v = json_object_get(key, name);
    size_t n;
    long len;

    if (!json_is_string(v)) {
        return NULL;
    }
    n = json_string_length(v);
    if (n == 0 || ES_B64_DECODED_MAX(n) > sizeof(buf)) {
        return NULL;
    }
    len = es_b64url_decode(json_string_value(v), n, buf);
    if (len <= 0 || (size_t)len > max) {
        return NULL;
    }
    return BN_bin2bn(buf, (int)len, NULL);
}

/* member absent, or a string equal to want */
static int absent_or(json_t *key, const char *name, const char *want)
{
    json_t *v = json_object_get(key, name);

    return v == NULL ||
           (json_is_string(v) && !strcmp(json_string_value(v), want));
}

/*
 * Adds the JWK key (borrowed) to set when it is a usable RS256 key, else
 * says why not in err. A key OpenSSL cannot build (out of memory included)
 * is skipped like a malformed one: the set stays usable without it.
 */
static void jwks_add(es_jwks *set, json_t *key, size_t i, char *err,
                     size_t errlen)
{
    json_t *kid = json_object_get(key, "kid");
    BIGNUM *n = NULL, *e = NULL;
    es_jwk *k;
    int bits;

    if (!json_is_object(key) || !json_is_string(json_object_get(key, "kty"))) {
        set_err(err, errlen, "key %zu: not an object with a kty", i);
        return;
    }
    if (strcmp(json_string_value(json_object_get(key, "kty")), "RSA")) {
        set_err(err, errlen, "key %zu: kty is not RSA", i);
        return;
    }
    if (!absent_or(key, "use", "sig")) {
        set_err(err, errlen, "key %zu: use is not sig", i);
        return;
    }
    if (!absent_or(key, "alg", "RS256")) {
        set_err(err, errlen, "key %zu: alg is not RS256", i);
        return;
    }
    if (!json_is_string(kid) ||
        !es_jwt_kid_valid(json_string_value(kid), json_string_length(kid))) {
        set_err(err, errlen, "key %zu: kid missing or invalid", i);
        return;
    }
    if (jwks_find(set, json_string_value(kid)) != NULL) {
        set_err(err, errlen, "key %zu: duplicate kid", i);
        return;
    }
    if (set->n == ES_JWKS_MAX_KEYS) {
        set_err(err, errlen, "key %zu: more than %d keys", i, ES_JWKS_MAX_KEYS);
        return;
    }
    n = jwk_bignum(key, "n", ES_JWKS_MAX_BITS / 8 + 1);
    e = jwk_bignum(key, "e", 4);
    if (n == NULL || e == NULL) {
        set_err(err, errlen, "key %zu: n or e missing or malformed", i);
        goto cleanup;
    }
    bits = BN_num_bits(n);
    if (bits < ES_JWKS_MIN_BITS || bits > ES_JWKS_MAX_BITS) {
        set_err(err, errlen, "key %zu: modulus of %d bits", i, bits);
        goto cleanup;
    }
    if (!BN_is_odd(e) || BN_num_bits(e) < 2) {
        set_err(err, errlen, "key %zu: exponent not odd and >= 3", i);
        goto cleanup;
    }
    k = &set->keys[set->n];
    if (rsa_key(n, e, k) != 0) {
        set_err(err, errlen, "key %zu: refused by OpenSSL", i);
        ERR_clear_error();
        goto cleanup;
    }
    snprintf(k->kid, sizeof(k->kid), "%s", json_string_value(kid));
    set->n++;
cleanup:
    BN_free(n);
    BN_free(e);
}

es_jwks *es_jwks_parse(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = NULL, *keys;
    es_jwks *set = NULL;
    char first[160];
    size_t i;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    if (json == NULL || len > ES_JWKS_MAX_LEN) {
        set_err(err, errlen, "JWKS larger than %d bytes", ES_JWKS_MAX_LEN);
        return NULL;
    }
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        set_err(err, errlen, "JWKS is not JSON: %s at byte %d", jerr.text,
                jerr.position);
        goto error;
    }
    keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        set_err(err, errlen, "JWKS is not an object with a keys array");
        goto error;
    }
    set = calloc(1, sizeof(*set));
    if (set == NULL) {
        set_err(err, errlen, "out of memory");
        goto error;
    }
    for (i = 0; i < json_array_size(keys); i++) {
        jwks_add(set, json_array_get(keys, i), i, err, errlen);
    }
    if (set->n == 0) {
        /* the first skipped key's reason says most about the document */
        snprintf(first, sizeof(first), "%s", err == NULL ? "" : err);
        if (err != NULL && errlen > 0) {
            err[0] = '\0';
        }
        set_err(err, errlen, "JWKS holds no usable key%s%s%s",
                first[0] ? " (" : "", first, first[0] ? ")" : "");
        goto error;
    }
    json_decref(doc);
    ERR_clear_error();
    return set;
error:
    es_jwks_free(set);
    json_decref(doc);
    ERR_clear_error();
    return NULL;
}

void es_jwks_free(es_jwks *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        EVP_PKEY_free(set->keys[i].pkey);
    }
    free(set);
}

size_t es_jwks_count(const es_jwks *set)
{
    return set == NULL ? 0 : set->n;
}

int es_jwks_has(const es_jwks *set, const char *kid)
{
    return jwks_find(set, kid) != NULL;
}

int es_jwks_key(const es_jwks *set, const char *kid, EVP_PKEY **pkey)
{
    const es_jwk *k = jwks_find(set, kid);

    if (k == NULL) {
        return -1;
    }
    *pkey = k->pkey;
    return 0;
}
