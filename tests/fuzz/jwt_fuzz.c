/*
 * jwt_fuzz.c - bearer tokens: es_jwt_peek_kid and es_jwt_verify, as the
 * module calls them for every request's Authorization header.
 *
 * Two kinds of input, by the first byte:
 *   - 'R' then a raw token: every byte as a client may send it (shape,
 *     base64url, header JSON; the signature check refuses the rest);
 *   - 'S' then "header JSON NUL payload JSON": the target encodes both and
 *     signs them with its own RSA key (made at start, kid "fuzz", in the
 *     key set the verifier holds), so the claim checks after the
 *     signature (iss, token_use, aud, client_id, exp, nbf, iat, sub,
 *     email, custom:tenant_id) see every mutation of the claims too.
 * Invariants: a kid read is terminated within its bound; only ES_JWT_OK
 * fills the claims, which are then terminated within their bounds.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "es_jwt.h"
#include "fuzz.h"

static EVP_PKEY *key;
static es_jwks *keys;

/* base64url without padding of in[0..n) into out (room 4n/3 + 4) */
static size_t b64url(const unsigned char *in, size_t n, char *out)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    uint32_t v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        v = (uint32_t)in[i] << 16;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
    } else if (n - i == 2) {
        v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = a[v >> 6 & 63];
    }
    return o;
}

/* base64url of a big number parameter of key */
static void b64_param(const char *name, char *out)
{
    unsigned char bin[600];
    BIGNUM *bn = NULL;
    int n;

    if (!EVP_PKEY_get_bn_param(key, name, &bn)) {
        abort();
    }
    n = BN_bn2bin(bn, bin);
    out[b64url(bin, (size_t)n, out)] = '\0';
    BN_free(bn);
}

static void setup(void)
{
    char n64[800], e64[16], jwks[1024], err[128];
    int len;

    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (key == NULL) {
        abort();
    }
    b64_param(OSSL_PKEY_PARAM_RSA_N, n64);
    b64_param(OSSL_PKEY_PARAM_RSA_E, e64);
    len = snprintf(jwks, sizeof(jwks),
                   "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fuzz\",\"use\":"
                   "\"sig\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}]}",
                   n64, e64);
    keys = es_jwks_parse(jwks, (size_t)len, err, sizeof(err));
    if (keys == NULL) {
        fprintf(stderr, "jwt_fuzz: the generated key set: %s\n", err);
        abort();
    }
}

/* "b64(header).b64(payload).b64(RS256 signature)", malloc'ed */
static char *sign(const uint8_t *h, size_t hn, const uint8_t *p, size_t pn,
                  size_t *len)
{
    unsigned char sig[512];
    size_t siglen = sizeof(sig), o;
    EVP_MD_CTX *md;
    char *t;

    t = malloc((hn + pn) * 4 / 3 + 8 + sizeof(sig) * 4 / 3 + 8);
    md = EVP_MD_CTX_new();
    if (t == NULL || md == NULL) {
        abort();
    }
    o = b64url(h, hn, t);
    t[o++] = '.';
    o += b64url(p, pn, t + o);
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (unsigned char *)t, o) != 1) {
        abort();
    }
    EVP_MD_CTX_free(md);
    t[o++] = '.';
    o += b64url(sig, siglen, t + o);
    *len = o;
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char kid[ES_JWT_KID_MAX + 1];
    const uint8_t *nul;
    es_jwt_claims claims;
    es_jwt_policy policy;
    es_jwt_status st;
    size_t len;
    char *token;

    if (key == NULL) {
        setup();
    }
    if (size < 1 || size > 16384) {
        return 0;
    }

    if (data[0] == 'S') {
        nul = memchr(data + 1, 0, size - 1);
        if (nul == NULL) {
            return 0;
        }
        token = sign(data + 1, (size_t)(nul - data - 1), nul + 1,
                     size - (size_t)(nul - data) - 1, &len);
    } else {
        len = size - 1;
        token = es_fuzz_copy(data + 1, len, 0);
    }

    memset(&policy, 0, sizeof(policy));
    policy.issuers[0] = "http://127.0.0.1:9229/local_pool";
    policy.n_issuers = 1;
    policy.clients[0] = "fuzzclient";
    policy.n_clients = 1;
    policy.accept_id = 1;
    policy.accept_access = 1;
    policy.leeway_s = 30;

    memset(kid, 0x55, sizeof(kid));
    if (es_jwt_peek_kid(token, len, kid) == ES_JWT_OK) {
        ES_FUZZ_CHECK(memchr(kid, '\0', sizeof(kid)) != NULL);
    }

    memset(&claims, 0x55, sizeof(claims));
    st = es_jwt_verify(token, len, keys, &policy, 1800000000, &claims);
    ES_FUZZ_CHECK(es_jwt_status_str(st) != NULL);
    if (st == ES_JWT_OK) {
        ES_FUZZ_CHECK(memchr(claims.sub, '\0', sizeof(claims.sub)) != NULL);
        ES_FUZZ_CHECK(memchr(claims.email, '\0', sizeof(claims.email)));
        ES_FUZZ_CHECK(memchr(claims.tenant, '\0', sizeof(claims.tenant)));
        ES_FUZZ_CHECK(claims.sub[0] != '\0');
    }

    free(token);
    return 0;
}
