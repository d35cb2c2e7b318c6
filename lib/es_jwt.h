/*
 * es_jwt.h - verification of Cognito JSON Web Tokens (RS256), pure and
 * non-blocking, shared by the nginx module.
 *
 * It performs the checks AWS's own verifier makes (RFC 8725 as the
 * checklist), in an order that never lets the token choose how it is
 * checked: the token's shape and header are judged first (exactly three
 * base64url parts, JSON object header and payload, "alg" RS256 only, no
 * "crit", no "jku"/"x5u"/"jwk"/"x5c", "kid" present), the key is chosen
 * by "kid" from a key set parsed from a JWKS, the signature is checked
 * once, by OpenSSL with that key parsed when the set was built, and the
 * claims are checked after the signature (iss exact, token_use, aud or
 * client_id, exp required, nbf, with a small leeway).
 *
 * The key set holds public keys only; it is immutable once built, so a
 * fetcher can build a new one and swap it in, and one set may be read by
 * any number of threads at once. Nothing here logs, blocks on I/O or keeps
 * state between calls: the caller logs es_jwt_status_str() and never the
 * token. Everything allocated is released on every path.
 */

#ifndef ES_JWT_H
#define ES_JWT_H

#include <stddef.h>
#include <stdint.h>

/* Tokens longer than this are refused before any decoding. */
#define ES_JWT_MAX_LEN 8192

#define ES_JWT_KID_MAX     128
#define ES_JWT_SUB_MAX     128
#define ES_JWT_EMAIL_MAX   254
#define ES_JWT_TENANT_MAX  64
#define ES_JWT_MAX_CLIENTS 8
#define ES_JWT_MAX_ISSUERS 2

/*
 * JWKS documents longer than this are refused unparsed (Cognito's holds
 * two keys in under 1 KiB), and at most ES_JWKS_MAX_KEYS usable keys are
 * kept. RSA moduli outside [ES_JWKS_MIN_BITS, ES_JWKS_MAX_BITS] are
 * skipped: short ones are forgeable, huge ones make each check slow.
 */
#define ES_JWKS_MAX_LEN  65536
#define ES_JWKS_MAX_KEYS 32
#define ES_JWKS_MIN_BITS 2048
#define ES_JWKS_MAX_BITS 8192

typedef struct es_jwks es_jwks;

/* Why a token was refused; es_jwt_status_str() names each for the log. */
typedef enum {
    ES_JWT_OK = 0,
    ES_JWT_MALFORMED,     /* not three base64url parts of JSON objects */
    ES_JWT_TOO_LONG,      /* over ES_JWT_MAX_LEN */
    ES_JWT_BAD_ALG,       /* alg other than RS256 (none, HS256, …) */
    ES_JWT_BAD_HEADER,    /* crit, jku, x5u, jwk, x5c, bad typ, bad kid */
    ES_JWT_UNKNOWN_KID,   /* kid not in the key set: the caller may refetch */
    ES_JWT_BAD_SIGNATURE, /* signature does not verify */
    ES_JWT_BAD_ISSUER,
    ES_JWT_BAD_TOKEN_USE,
    ES_JWT_BAD_AUDIENCE, /* aud (id token) / client_id (access token) */
    ES_JWT_EXPIRED,      /* exp missing, not a number, or past */
    ES_JWT_NOT_YET_VALID,
    ES_JWT_BAD_CLAIMS, /* sub missing, nbf / iat not numbers */
    ES_JWT_NO_MEMORY
} es_jwt_status;

/* What the module accepts; filled at configuration time. */
typedef struct {
    const char *issuers[ES_JWT_MAX_ISSUERS]; /* exact "iss" values */
    size_t n_issuers;
    const char *clients[ES_JWT_MAX_CLIENTS]; /* app client ids */
    size_t n_clients;
    int accept_id;     /* token_use "id" accepted */
    int accept_access; /* token_use "access" accepted */
    int64_t leeway_s;  /* clock skew allowed for exp / nbf (>= 0) */
} es_jwt_policy;

/*
 * The verified identity; plain strings, NUL-terminated, copied out of the
 * token (no pointers into it). email is taken from id tokens only and is
 * "" when absent, not a string or longer than ES_JWT_EMAIL_MAX;
 * email_verified is 1 only with a non-empty email and a claim of true or
 * "true". tenant is the unchecked "custom:tenant_id" (a string of at most
 * ES_JWT_TENANT_MAX bytes, else ""): the caller validates its alphabet.
 */
typedef struct {
    char sub[ES_JWT_SUB_MAX + 1];
    char email[ES_JWT_EMAIL_MAX + 1];
    int email_verified;
    char tenant[ES_JWT_TENANT_MAX + 1];
    int token_use_id; /* 1: id token, 0: access token */
    int64_t exp;      /* the token's exp, rounded down; no leeway added */
} es_jwt_claims;

/*
 * Parses a JWKS document ({"keys":[…]}) of len bytes (at most
 * ES_JWKS_MAX_LEN; larger documents are refused unparsed). Keys that are
 * not usable RSA signing keys for RS256 (kty other than RSA, use present
 * and not sig, alg present and not RS256, kid missing or not 1..
 * ES_JWT_KID_MAX printable ASCII characters without spaces, n/e missing
 * or not strict base64url, modulus outside ES_JWKS_MIN_BITS..
 * ES_JWKS_MAX_BITS, exponent even, under 3 or over 32 bits) are skipped,
 * as is a second key with a kid already seen (the first is kept) and any
 * key beyond ES_JWKS_MAX_KEYS. err (if not NULL, errlen bytes) says why
 * the first one was skipped ("" when none was) or why the document was
 * refused; it holds no secret and may be logged. Returns a new key set
 * (free with es_jwks_free) holding at least one key, or NULL. Reads no
 * file and no network; thread-safe.
 */
es_jwks *es_jwks_parse(const char *json, size_t len, char *err, size_t errlen);

/* Frees set and every key in it; set may be NULL. */
void es_jwks_free(es_jwks *set);

/* Number of keys in set. */
size_t es_jwks_count(const es_jwks *set);

/* 1 when set (may be NULL) holds kid (NUL-terminated). */
int es_jwks_has(const es_jwks *set, const char *kid);

/*
 * Reads the "kid" of token (len bytes) without verifying anything, so the
 * caller can tell an unknown key (refetch the JWKS) from a bad token:
 * checks the shape and the header exactly as es_jwt_verify does and copies
 * kid into kid (ES_JWT_KID_MAX + 1 bytes). Returns ES_JWT_OK or the
 * refusal.
 */
es_jwt_status es_jwt_peek_kid(const char *token, size_t len, char *kid);

/*
 * Verifies token (len bytes, not necessarily NUL-terminated) with the key
 * named by its kid in set (may be NULL: ES_JWT_UNKNOWN_KID), at time now
 * (seconds since the epoch), against policy. The first failing check
 * decides the status, in this order: length (ES_JWT_TOO_LONG); shape
 * and JSON (ES_JWT_MALFORMED); alg (ES_JWT_BAD_ALG); crit, jku, x5u,
 * jwk, x5c, typ other than "JWT", kid (ES_JWT_BAD_HEADER); kid in set
 * (ES_JWT_UNKNOWN_KID); the signature, RS256 by OpenSSL with that key
 * (ES_JWT_BAD_SIGNATURE); then the claims:
 * iss, token_use, aud or client_id, exp (missing, not a number, or
 * now > exp + leeway: ES_JWT_EXPIRED), nbf (not a number:
 * ES_JWT_BAD_CLAIMS; now + leeway < nbf: ES_JWT_NOT_YET_VALID), iat (not
 * a number) and sub (ES_JWT_BAD_CLAIMS). exp, nbf and iat may be integers
 * or reals. On ES_JWT_OK fills *claims (left untouched otherwise).
 *
 * policy and claims must not be NULL. Allocates only temporarily, logs
 * nothing, uses about 20 KiB of stack; thread-safe as long as set is not
 * freed meanwhile. A token, good or forged, takes about 40 us on one
 * core (tests/bench/jwt.c): still worth caching what passes (es_tcache.h).
 */
es_jwt_status es_jwt_verify(const char *token, size_t len, const es_jwks *set,
                            const es_jwt_policy *policy, int64_t now,
                            es_jwt_claims *claims);

/* A short lower-case name for status ("expired", "bad signature", …). */
const char *es_jwt_status_str(es_jwt_status status);

#endif /* ES_JWT_H */
