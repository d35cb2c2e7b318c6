/*
 * es_jwt_int.h - what es_jwt.c (tokens) and es_jwks.c (key sets) share;
 * not for use outside those two files.
 *
 * A token's kid and a JWK's kid are judged by one rule and every base64url
 * text by one strict decoder, so a key that can be stored can be found and
 * no part is read two ways.
 */
#ifndef ES_JWT_INT_H
#define ES_JWT_INT_H

#include <stddef.h>

#include <openssl/evp.h>

#include "es_jwt.h"

/* Decoded bytes of at most n base64url characters. */
#define ES_B64_DECODED_MAX(n) ((n) / 4 * 3 + 3)

/*
 * Decodes n characters of unpadded base64url into out (at least
 * ES_B64_DECODED_MAX(n) bytes). Strict: any character outside the alphabet
 * ('=', '+', '/', whitespace), a length of 1 modulo 4, or unused low bits
 * that are not zero (a second spelling of the same bytes) is refused.
 * Returns the number of bytes written, or -1.
 */
long es_b64url_decode(const char *in, size_t n, unsigned char *out);

/* A kid we accept: 1..ES_JWT_KID_MAX bytes of printable ASCII, no space. */
int es_jwt_kid_valid(const char *s, size_t n);

/*
 * The key named kid in set, as an OpenSSL EVP_PKEY borrowed from set.
 * Returns 0, or -1 when set is NULL or lacks kid.
 */
int es_jwks_key(const es_jwks *set, const char *kid, EVP_PKEY **pkey);

#endif /* ES_JWT_INT_H */
