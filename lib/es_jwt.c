/*
 * es_jwt.c - Cognito JWT verification (see es_jwt.h).
 *
 * The order is the point: the token is judged on its own first (length,
 * three strict base64url parts, JSON objects with no duplicate members,
 * the header's alg, crit, key-fetching members, typ and kid), so the
 * algorithm is never taken from the token: the signature is checked once,
 * as RSASSA-PKCS1-v1_5 with SHA-256, by OpenSSL, with the one key its kid
 * names, held parsed in the key set (es_jwks.c) since the JWKS fetch.
 * Every claim is then checked from this file's own parse of the payload.
 * A general JWT library (libjwt 1.10 re-parses the key's PEM on every
 * call) took about 12 times as long for the same check; tests/bench/jwt.c
 * measures both.
 *
 * Decoding works in stack buffers sized by ES_JWT_MAX_LEN (about 20 KiB of
 * stack in all); the heap is used only by jansson and OpenSSL, and
 * each allocation is released before returning.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "es_jwt.h"
#include "es_jwt_int.h"
#include "es_req_b64url.h"

/* Whole seconds beyond this are clamped: sums with a leeway never wrap. */
#define SECS_LIMIT (INT64_C(1) << 53)

/* Header members that name keys elsewhere: never followed, always refused */
static const char *const remote_key_members[] = {"jku", "x5u", "jwk", "x5c"};

/* A token judged well-formed: its JSON and its signature's bytes. */
typedef struct {
    size_t signed_len; /* bytes of "header.payload" */
    size_t sig_len;
    unsigned char sig[ES_B64_DECODED_MAX(ES_JWT_MAX_LEN)];
    json_t *header;  /* new reference */
    json_t *payload; /* new reference */
    const char *kid; /* borrowed from header */
} es_jwt_parts;

long es_b64url_decode(const char *in, size_t n, unsigned char *out)
{
    size_t len;

    /* the one canonical decoder of the project (es_req_b64url.h) */
    if (es_req_b64url_decode(in, n, out, ES_B64_DECODED_MAX(n), &len) != 0) {
        return -1;
    }
    return (long)len;
}

/* Parses base64url text as a JSON object (duplicate members refused). */
static es_jwt_status decode_object(const char *in, size_t n, json_t **out)
{
    unsigned char buf[ES_B64_DECODED_MAX(ES_JWT_MAX_LEN)];
    json_error_t jerr;
    json_t *v;
    long len;

    *out = NULL;
    len = es_b64url_decode(in, n, buf);
    if (len < 0) {
        return ES_JWT_MALFORMED;
    }
    v = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES,
                   &jerr);
    if (v == NULL) {
        return json_error_code(&jerr) == json_error_out_of_memory
                   ? ES_JWT_NO_MEMORY
                   : ES_JWT_MALFORMED;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return ES_JWT_MALFORMED;
    }
    *out = v;
    return ES_JWT_OK;
}

int es_jwt_kid_valid(const char *s, size_t n)
{
    if (n == 0 || n > ES_JWT_KID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static es_jwt_status check_header(json_t *h, const char **kid)
{
    json_t *alg = json_object_get(h, "alg");
    json_t *typ = json_object_get(h, "typ");
    json_t *k = json_object_get(h, "kid");

    if (!json_is_string(alg) || strcmp(json_string_value(alg), "RS256")) {
        return ES_JWT_BAD_ALG;
    }
    /* RFC 7515 4.1.11: extensions we do not implement must be refused */
    if (json_object_get(h, "crit") != NULL) {
        return ES_JWT_BAD_HEADER;
    }
    for (size_t i = 0; i < sizeof(remote_key_members) / sizeof(char *); i++) {
        if (json_object_get(h, remote_key_members[i]) != NULL) {
            return ES_JWT_BAD_HEADER;
        }
    }
    if (typ != NULL &&
        (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT"))) {
        return ES_JWT_BAD_HEADER;
    }
    if (!json_is_string(k) ||
        !es_jwt_kid_valid(json_string_value(k), json_string_length(k))) {
        return ES_JWT_BAD_HEADER;
    }
    *kid = json_string_value(k);
    return ES_JWT_OK;
}

static void parts_release(es_jwt_parts *p)
{
    json_decref(p->header);
    json_decref(p->payload);
    p->header = NULL;
    p->payload = NULL;
}

/*
 * Everything decided before a key is involved. On ES_JWT_OK *p holds new
 * references the caller releases with parts_release(); on anything else it
 * holds none.
 */
static es_jwt_status judge(const char *token, size_t len, es_jwt_parts *p)
{
    const char *dot1, *dot2;
    size_t hlen, plen, slen;
    es_jwt_status st;
    long sig_len;

    p->header = NULL;
    p->payload = NULL;
    if (len > ES_JWT_MAX_LEN) {
        return ES_JWT_TOO_LONG;
    }
    if (token == NULL) {
        return ES_JWT_MALFORMED;
    }
    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return ES_JWT_MALFORMED;
    }
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        return ES_JWT_MALFORMED;
    }
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    slen = len - hlen - plen - 2;
    if (hlen == 0 || plen == 0 || slen == 0) {
        return ES_JWT_MALFORMED;
    }
    sig_len = es_b64url_decode(dot2 + 1, slen, p->sig);
    if (sig_len < 0) {
        return ES_JWT_MALFORMED;
    }
    st = decode_object(token, hlen, &p->header);
    if (st == ES_JWT_OK) {
        st = decode_object(dot1 + 1, plen, &p->payload);
    }
    if (st == ES_JWT_OK) {
        st = check_header(p->header, &p->kid);
    }
    if (st != ES_JWT_OK) {
        parts_release(p);
        return st;
    }
    p->signed_len = hlen + 1 + plen;
    p->sig_len = (size_t)sig_len;
    return ES_JWT_OK;
}

es_jwt_status es_jwt_peek_kid(const char *token, size_t len, char *kid)
{
    es_jwt_parts p;
    es_jwt_status st = judge(token, len, &p);

    if (st != ES_JWT_OK) {
        return st;
    }
    snprintf(kid, ES_JWT_KID_MAX + 1, "%s", p.kid);
    parts_release(&p);
    return ES_JWT_OK;
}

/* RSASSA-PKCS1-v1_5 with SHA-256 over data, by OpenSSL. */
static es_jwt_status openssl_verify(EVP_PKEY *pkey, const char *data,
                                    size_t len, const unsigned char *sig,
                                    size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    es_jwt_status st = ES_JWT_BAD_SIGNATURE;

    if (ctx == NULL) {
        return ES_JWT_NO_MEMORY;
    }
    if (EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
        EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, len) ==
            1) {
        st = ES_JWT_OK;
    }
    EVP_MD_CTX_free(ctx);
    return st;
}

/*
 * The signature, checked once: the header was judged already (RS256 and a
 * kid), so only the key its kid names can verify it.
 */
static es_jwt_status check_signature(const es_jwt_parts *p, const char *token,
                                     const es_jwks *set)
{
    EVP_PKEY *pkey = NULL;
    es_jwt_status st;

    if (es_jwks_key(set, p->kid, &pkey) != 0) {
        return ES_JWT_UNKNOWN_KID;
    }
    if (pkey == NULL) {
        return ES_JWT_BAD_SIGNATURE;
    }
    st = openssl_verify(pkey, token, p->signed_len, p->sig, p->sig_len);
    /* a refused signature leaves OpenSSL errors this thread must not see */
    ERR_clear_error();
    return st;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] != NULL && strcmp(s, list[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * A JSON number (integer or real) as whole seconds, rounded down (or up
 * when up is set) and clamped to +-SECS_LIMIT. Returns 0, or -1 when v is
 * not a number.
 */
static int json_secs(json_t *v, int up, int64_t *out)
{
    double d;
    int64_t t;

    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        *out = i > SECS_LIMIT ? SECS_LIMIT : i < -SECS_LIMIT ? -SECS_LIMIT : i;
        return 0;
    }
    if (!json_is_real(v)) {
        return -1;
    }
    d = json_real_value(v);
    if (d >= (double)SECS_LIMIT) {
        t = SECS_LIMIT;
    } else if (d <= -(double)SECS_LIMIT) {
        t = -SECS_LIMIT;
    } else {
        t = (int64_t)d; /* toward zero, then to the floor or ceiling */
        if (!up && (double)t > d) {
            t--;
        } else if (up && (double)t < d) {
            t++;
        }
    }
    *out = t;
    return 0;
}

/*
 * An id token's aud (a string, or an array holding a string) or an access
 * token's client_id names one of the policy's clients.
 */
static int audience_ok(json_t *p, int id_token, const es_jwt_policy *pol,
                       size_t nc)
{
    json_t *aud = json_object_get(p, id_token ? "aud" : "client_id");
    size_t i;
    json_t *v;

    if (json_is_string(aud)) {
        return in_list(json_string_value(aud), pol->clients, nc);
    }
    if (!id_token) {
        return 0;
    }
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) &&
            in_list(json_string_value(v), pol->clients, nc)) {
            return 1;
        }
    }
    return 0;
}

/* Copies the string member name of p into out (max bytes + 1) if it fits */
static void copy_string(json_t *p, const char *name, char *out, size_t max)
{
    json_t *v = json_object_get(p, name);

    out[0] = '\0';
    if (json_is_string(v) && json_string_length(v) <= max) {
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
    }
}

static es_jwt_status check_claims(json_t *p, const es_jwt_policy *pol,
                                  int64_t now, es_jwt_claims *c)
{
    size_t ni = pol->n_issuers < ES_JWT_MAX_ISSUERS ? pol->n_issuers
                                                    : ES_JWT_MAX_ISSUERS;
    size_t nc = pol->n_clients < ES_JWT_MAX_CLIENTS ? pol->n_clients
                                                    : ES_JWT_MAX_CLIENTS;
    int64_t leeway = pol->leeway_s < 0 ? 0 : pol->leeway_s;
    json_t *iss = json_object_get(p, "iss");
    json_t *use = json_object_get(p, "token_use");
    json_t *sub = json_object_get(p, "sub");
    json_t *nbf = json_object_get(p, "nbf");
    json_t *iat = json_object_get(p, "iat");
    json_t *ev = json_object_get(p, "email_verified");
    int64_t exp, t;

    leeway = leeway > INT32_MAX ? INT32_MAX : leeway;
    now = now > SECS_LIMIT ? SECS_LIMIT : now < -SECS_LIMIT ? -SECS_LIMIT : now;
    if (!json_is_string(iss) ||
        !in_list(json_string_value(iss), pol->issuers, ni)) {
        return ES_JWT_BAD_ISSUER;
    }
    if (!json_is_string(use)) {
        return ES_JWT_BAD_TOKEN_USE;
    }
    if (strcmp(json_string_value(use), "id") == 0 && pol->accept_id) {
        c->token_use_id = 1;
    } else if (strcmp(json_string_value(use), "access") != 0 ||
               !pol->accept_access) {
        return ES_JWT_BAD_TOKEN_USE;
    }
    if (!audience_ok(p, c->token_use_id, pol, nc)) {
        return ES_JWT_BAD_AUDIENCE;
    }
    if (json_secs(json_object_get(p, "exp"), 0, &exp) != 0 ||
        now > exp + leeway) {
        return ES_JWT_EXPIRED;
    }
    if (nbf != NULL) {
        if (json_secs(nbf, 1, &t) != 0) {
            return ES_JWT_BAD_CLAIMS;
        }
        if (now + leeway < t) {
            return ES_JWT_NOT_YET_VALID;
        }
    }
    if (iat != NULL && json_secs(iat, 0, &t) != 0) {
        return ES_JWT_BAD_CLAIMS;
    }
    if (!json_is_string(sub) || json_string_length(sub) == 0 ||
        json_string_length(sub) > ES_JWT_SUB_MAX) {
        return ES_JWT_BAD_CLAIMS;
    }
    memcpy(c->sub, json_string_value(sub), json_string_length(sub) + 1);
    if (c->token_use_id) {
        copy_string(p, "email", c->email, ES_JWT_EMAIL_MAX);
        c->email_verified =
            c->email[0] != '\0' &&
            (json_is_true(ev) ||
             (json_is_string(ev) && !strcmp(json_string_value(ev), "true")));
    }
    copy_string(p, "custom:tenant_id", c->tenant, ES_JWT_TENANT_MAX);
    c->exp = exp;
    return ES_JWT_OK;
}

es_jwt_status es_jwt_verify(const char *token, size_t len, const es_jwks *set,
                            const es_jwt_policy *policy, int64_t now,
                            es_jwt_claims *claims)
{
    es_jwt_claims c;
    es_jwt_parts p;
    es_jwt_status st;

    st = judge(token, len, &p);
    if (st != ES_JWT_OK) {
        return st;
    }
    memset(&c, 0, sizeof(c));
    st = check_signature(&p, token, set);
    if (st == ES_JWT_OK) {
        st = check_claims(p.payload, policy, now, &c);
    }
    if (st == ES_JWT_OK) {
        *claims = c;
    }
    parts_release(&p);
    return st;
}

const char *es_jwt_status_str(es_jwt_status status)
{
    switch (status) {
    case ES_JWT_OK:
        return "ok";
    case ES_JWT_MALFORMED:
        return "malformed";
    case ES_JWT_TOO_LONG:
        return "too long";
    case ES_JWT_BAD_ALG:
        return "bad alg";
    case ES_JWT_BAD_HEADER:
        return "bad header";
    case ES_JWT_UNKNOWN_KID:
        return "unknown kid";
    case ES_JWT_BAD_SIGNATURE:
        return "bad signature";
    case ES_JWT_BAD_ISSUER:
        return "bad issuer";
    case ES_JWT_BAD_TOKEN_USE:
        return "bad token use";
    case ES_JWT_BAD_AUDIENCE:
        return "bad audience";
    case ES_JWT_EXPIRED:
        return "expired";
    case ES_JWT_NOT_YET_VALID:
        return "not yet valid";
    case ES_JWT_BAD_CLAIMS:
        return "bad claims";
    case ES_JWT_NO_MEMORY:
        return "no memory";
    }
    return "unknown";
}
