/*
 * jwt.c - what one token signature check costs, three ways.
 *
 *   jwt [N]
 *
 * Makes an RSA-2048 key, publishes it in a JWKS document, signs a
 * Cognito-like id token with it, then times N verifications (default
 * 2000) of the same token by:
 *   - es_jwt_verify, the module's whole check (header, signature, claims);
 *   - OpenSSL's EVP_DigestVerify alone, with the key parsed once, as the
 *     key set holds it from one JWKS fetch to the next;
 *   - libjwt's jwt_decode, which parses the key's PEM again on every call
 *     (the baseline: the verifier the module used to run as well).
 * Each is run once unmeasured, then timed; the machine is shared, so only
 * the ratios to the baseline, measured in the same run, mean anything.
 *
 * Prints:
 *   jwt verify: es_jwt_verify N tokens/s (OpenSSL alone: M/s; libjwt
 *   jwt_decode: K/s): X x libjwt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "es_jwt.h"
#include "../unit/lib/jwt_testkit.h"

#define ISSUER "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Bench"
#define CLIENT "benchclient0id"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "jwt: %s\n", what);
    exit(1);
}

/* the key's SubjectPublicKeyInfo PEM, as libjwt takes it */
static char *public_pem(EVP_PKEY *key, int *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
        die("PEM_write_bio_PUBKEY failed");
    }
    n = BIO_get_mem_data(bio, &data);
    out = kit_check(malloc((size_t)n + 1));
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    *len = (int)n;
    BIO_free(bio);
    return out;
}

static int ours(const char *token, const es_jwks *set, const es_jwt_policy *pol,
                int64_t now)
{
    es_jwt_claims c;

    return es_jwt_verify(token, strlen(token), set, pol, now, &c) == ES_JWT_OK;
}

static int openssl_only(EVP_PKEY *key, const char *token)
{
    const char *dot = strrchr(token, '.');
    unsigned char sig[600];
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *ctx;
    size_t n, i, o = 0;
    unsigned acc = 0;
    int bits = 0, ok;

    /* base64url of the signature */
    for (i = 1; dot[i] != '\0'; i++) {
        const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "0123456789-_";
        acc = acc << 6 | (unsigned)(strchr(abc, dot[i]) - abc);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sig[o++] = (unsigned char)(acc >> bits);
        }
    }
    n = (size_t)(dot - token);
    ctx = EVP_MD_CTX_new();
    ok = ctx != NULL &&
         EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
         EVP_DigestVerify(ctx, sig, o, (const unsigned char *)token, n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int with_libjwt(const char *token, const char *pem, int pem_len)
{
    jwt_t *jwt = NULL;
    int ok;

    ok = jwt_decode(&jwt, token, (const unsigned char *)pem, pem_len) == 0 &&
         jwt_get_alg(jwt) == JWT_ALG_RS256;
    jwt_free(jwt);
    return ok;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    double t0, r_ours, r_ossl, r_jwt;
    char *jwk, *doc, *token, *pem, err[160];
    es_jwt_policy pol;
    EVP_PKEY *key;
    int64_t now;
    es_jwks *set;
    int pem_len;
    long i;

    if (n < 10) {
        die("N must be at least 10");
    }

    key = kit_rsa(2048);
    jwk = kit_jwk(key, "bench1", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    doc = kit_check(malloc(strlen(jwk) + 16));
    sprintf(doc, "{\"keys\":[%s]}", jwk);
    set = es_jwks_parse(doc, strlen(doc), err, sizeof(err));
    if (set == NULL) {
        die(err);
    }
    pem = public_pem(key, &pem_len);

    now = (int64_t)time(NULL);
    token = kit_token_json(
        "{\"alg\":\"RS256\",\"kid\":\"bench1\",\"typ\":\"JWT\"}",
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:b}", "sub",
                  "0b5e4d1c-7f3a-4e8b-9c2d-1a2b3c4d5e6f", "iss", ISSUER, "aud",
                  CLIENT, "token_use", "id", "exp", (json_int_t)(now + 3600),
                  "iat", (json_int_t)now, "email", "bench@example.com",
                  "email_verified", 1),
        key);

    memset(&pol, 0, sizeof(pol));
    pol.issuers[0] = ISSUER;
    pol.n_issuers = 1;
    pol.clients[0] = CLIENT;
    pol.n_clients = 1;
    pol.accept_id = 1;
    pol.accept_access = 1;
    pol.leeway_s = 30;

    if (!ours(token, set, &pol, now) || !openssl_only(key, token) ||
        !with_libjwt(token, pem, pem_len)) {
        die("a verifier refused the good token");
    }

    t0 = now_s();
    for (i = 0; i < n; i++) {
        if (!ours(token, set, &pol, now)) {
            die("es_jwt_verify refused the token");
        }
    }
    r_ours = (double)n / (now_s() - t0);

    t0 = now_s();
    for (i = 0; i < n; i++) {
        if (!openssl_only(key, token)) {
            die("OpenSSL refused the token");
        }
    }
    r_ossl = (double)n / (now_s() - t0);

    t0 = now_s();
    for (i = 0; i < n; i++) {
        if (!with_libjwt(token, pem, pem_len)) {
            die("libjwt refused the token");
        }
    }
    r_jwt = (double)n / (now_s() - t0);

    printf("jwt verify: es_jwt_verify %.0f tokens/s (OpenSSL alone: %.0f/s; "
           "libjwt jwt_decode: %.0f/s): %.1f x libjwt\n",
           r_ours, r_ossl, r_jwt, r_ours / r_jwt);
    printf("jwt verify cost: es_jwt_verify %.1f us, libjwt %.1f us per "
           "token\n",
           1e6 / r_ours, 1e6 / r_jwt);

    es_jwks_free(set);
    EVP_PKEY_free(key);
    free(jwk);
    free(doc);
    free(token);
    free(pem);
    ERR_clear_error();
    return 0;
}
