/*
 * jwks_test.c - unit tests for lib/es_jwks.c: which keys of a JWKS
 * document become usable keys, and that the document itself is refused
 * when nothing usable is left.
 *
 * A skipped key must never be usable: where a key is skipped, a token
 * signed by it is shown to be refused as ES_JWT_UNKNOWN_KID, so a key set
 * cannot pass for the wrong reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_jwt.h"
#include "jwt_testkit.h"

#define NOW INT64_C(1764000000)
#define ISS "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1"

static EVP_PKEY *key_a, *key_b, *key_short;
static es_jwt_policy policy;

static int setup(void **state)
{
    (void)state;
    key_a = kit_rsa(2048);
    key_b = kit_rsa(2048);
    key_short = kit_rsa(1024);
    policy.issuers[0] = ISS;
    policy.n_issuers = 1;
    policy.clients[0] = "client";
    policy.n_clients = 1;
    policy.accept_id = 1;
    policy.leeway_s = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_short);
    return 0;
}

/* {"keys":[jwk1,jwk2,...]} from up to four JWK texts (NULL ends); frees them */
static char *doc_of(char *k1, char *k2, char *k3, char *k4)
{
    char *keys[] = {k1, k2, k3, k4};
    size_t len = 16;
    char *out;

    for (int i = 0; i < 4 && keys[i] != NULL; i++) {
        len += strlen(keys[i]) + 1;
    }
    out = kit_check(malloc(len));
    strcpy(out, "{\"keys\":[");
    for (int i = 0; i < 4 && keys[i] != NULL; i++) {
        strcat(out, i ? "," : "");
        strcat(out, keys[i]);
        free(keys[i]);
    }
    strcat(out, "]}");
    return out;
}

/* Parses doc (freed); returns the set, err filled. */
static es_jwks *parse(char *doc, char *err, size_t errlen)
{
    es_jwks *set = es_jwks_parse(doc, strlen(doc), err, errlen);

    free(doc);
    return set;
}

/* Parses doc (freed) expecting refusal with a message holding want. */
static void parse_fails(char *doc, const char *want)
{
    char err[256] = "x";
    es_jwks *set = parse(doc, err, sizeof(err));

    if (set != NULL) {
        es_jwks_free(set);
        fail_msg("accepted, want \"%s\"", want);
    }
    if (strstr(err, want) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err, want);
    }
}

/* A good id token signed by key under kid. */
static char *token_by(EVP_PKEY *key, const char *kid)
{
    char hdr[200];
    json_t *c = kit_check(json_pack("{s:s, s:s, s:s, s:s, s:I}", "sub", "u1",
                                    "iss", ISS, "aud", "client", "token_use",
                                    "id", "exp", (json_int_t)(NOW + 600)));

    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    return kit_token_json(hdr, c, key);
}

static es_jwt_status verify_with(const es_jwks *set, char *token)
{
    es_jwt_claims c;
    es_jwt_status st =
        es_jwt_verify(token, strlen(token), set, &policy, NOW, &c);

    free(token);
    return st;
}

static void test_cognito_shaped_jwks_is_parsed(void **state)
{
    char err[256];
    es_jwks *set =
        parse(doc_of(kit_jwk(key_a, "k1", ",\"alg\":\"RS256\",\"use\":\"sig\""),
                     kit_jwk(key_b, "k2", ",\"alg\":\"RS256\",\"use\":\"sig\""),
                     NULL, NULL),
              err, sizeof(err));

    (void)state;
    assert_non_null(set);
    assert_string_equal(err, "");
    assert_int_equal(es_jwks_count(set), 2);
    assert_true(es_jwks_has(set, "k1"));
    assert_true(es_jwks_has(set, "k2"));
    assert_false(es_jwks_has(set, "k3"));
    assert_false(es_jwks_has(NULL, "k1"));
    assert_int_equal(verify_with(set, token_by(key_a, "k1")), ES_JWT_OK);
    assert_int_equal(verify_with(set, token_by(key_b, "k2")), ES_JWT_OK);
    assert_int_equal(verify_with(set, token_by(key_b, "k1")),
                     ES_JWT_BAD_SIGNATURE);
    es_jwks_free(set);
    es_jwks_free(NULL);
    assert_int_equal(es_jwks_count(NULL), 0);
}

static void test_keys_without_use_or_alg_are_usable(void **state)
{
    es_jwks *set =
        parse(doc_of(kit_jwk(key_a, "k1", ""), NULL, NULL, NULL), NULL, 0);

    (void)state;
    assert_non_null(set);
    assert_int_equal(verify_with(set, token_by(key_a, "k1")), ES_JWT_OK);
    es_jwks_free(set);
}

static void test_non_rsa_keys_are_skipped(void **state)
{
    char err[256];
    char *ec = kit_check(strdup(
        "{\"kty\":\"EC\",\"kid\":\"ec1\",\"crv\":\"P-256\",\"x\":"
        "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uE3k8xgQ\",\"y\":"
        "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\",\"alg\":\"ES256\"}"));
    char *oct = kit_check(strdup("{\"kty\":\"oct\",\"kid\":\"h1\",\"k\":"
                                 "\"c2VjcmV0\"}"));
    es_jwks *set = parse(doc_of(ec, oct, kit_jwk(key_a, "k1", ""), NULL), err,
                         sizeof(err));

    (void)state;
    assert_non_null(set);
    assert_int_equal(es_jwks_count(set), 1);
    assert_false(es_jwks_has(set, "ec1"));
    assert_false(es_jwks_has(set, "h1"));
    assert_non_null(strstr(err, "key 0: kty is not RSA"));
    assert_int_equal(verify_with(set, token_by(key_a, "k1")), ES_JWT_OK);
    es_jwks_free(set);
}

static void test_use_enc_keys_are_skipped(void **state)
{
    char err[256];
    es_jwks *set =
        parse(doc_of(kit_jwk(key_b, "enc", ",\"use\":\"enc\""),
                     kit_jwk(key_a, "k1", ",\"use\":\"sig\""), NULL, NULL),
              err, sizeof(err));

    (void)state;
    assert_non_null(set);
    assert_false(es_jwks_has(set, "enc"));
    assert_non_null(strstr(err, "use is not sig"));
    assert_int_equal(verify_with(set, token_by(key_b, "enc")),
                     ES_JWT_UNKNOWN_KID);
    es_jwks_free(set);
    parse_fails(
        doc_of(kit_jwk(key_b, "enc", ",\"use\":\"enc\""), NULL, NULL, NULL),
        "use is not sig");
}

static void test_keys_for_other_algorithms_are_skipped(void **state)
{
    (void)state;
    parse_fails(
        doc_of(kit_jwk(key_a, "k1", ",\"alg\":\"RS512\""), NULL, NULL, NULL),
        "alg is not RS256");
    parse_fails(
        doc_of(kit_jwk(key_a, "k1", ",\"alg\":\"PS256\""), NULL, NULL, NULL),
        "alg is not RS256");
    parse_fails(
        doc_of(kit_jwk(key_a, "k1", ",\"alg\":\"HS256\""), NULL, NULL, NULL),
        "alg is not RS256");
    parse_fails(doc_of(kit_jwk(key_a, "k1", ",\"alg\":null"), NULL, NULL, NULL),
                "alg is not RS256");
}

static void test_short_modulus_is_skipped(void **state)
{
    char err[256];
    es_jwks *set = parse(doc_of(kit_jwk(key_short, "weak", ""),
                                kit_jwk(key_a, "k1", ""), NULL, NULL),
                         err, sizeof(err));

    (void)state;
    assert_non_null(set);
    assert_non_null(strstr(err, "modulus of 1024 bits"));
    assert_false(es_jwks_has(set, "weak"));
    assert_int_equal(verify_with(set, token_by(key_short, "weak")),
                     ES_JWT_UNKNOWN_KID);
    es_jwks_free(set);
}

/* A JWK with the given n and e texts (no checks). */
static char *raw_jwk(const char *kid, const char *n, const char *e)
{
    size_t len = strlen(kid) + strlen(n) + strlen(e) + 64;
    char *out = kit_check(malloc(len));

    snprintf(out, len,
             "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"}", kid,
             n, e);
    return out;
}

static void test_malformed_n_or_e_is_skipped(void **state)
{
    char *n = kit_rsa_param(key_a, OSSL_PKEY_PARAM_RSA_N);
    char *padded = kit_check(malloc(strlen(n) + 4));
    char *plus = kit_check(strdup(n));

    (void)state;
    sprintf(padded, "%s==", n);
    plus[5] = '+';
    parse_fails(doc_of(raw_jwk("k1", padded, "AQAB"), NULL, NULL, NULL),
                "n or e missing or malformed");
    parse_fails(doc_of(raw_jwk("k1", plus, "AQAB"), NULL, NULL, NULL),
                "n or e missing or malformed");
    parse_fails(doc_of(raw_jwk("k1", n, ""), NULL, NULL, NULL),
                "n or e missing or malformed");
    parse_fails(doc_of(raw_jwk("k1", "", "AQAB"), NULL, NULL, NULL),
                "n or e missing or malformed");
    /* e of 5 bytes, even e, e = 1 */
    parse_fails(doc_of(raw_jwk("k1", n, "AQAAAAE"), NULL, NULL, NULL),
                "n or e missing or malformed");
    parse_fails(doc_of(raw_jwk("k1", n, "AQAA"), NULL, NULL, NULL), "exponent");
    parse_fails(doc_of(raw_jwk("k1", n, "AQ"), NULL, NULL, NULL), "exponent");
    parse_fails(doc_of(kit_check(strdup("{\"kty\":\"RSA\",\"kid\":\"k1\","
                                        "\"n\":7,\"e\":\"AQAB\"}")),
                       NULL, NULL, NULL),
                "n or e missing or malformed");
    free(n);
    free(padded);
    free(plus);
}

/* Parses one key whose modulus is bytes bytes, the first top (odd value). */
static es_jwks *parse_modulus(size_t bytes, unsigned char top, char *err,
                              size_t errlen)
{
    unsigned char buf[1100];
    char *n, *doc;

    memset(buf, 0xc3, bytes);
    buf[0] = top;
    n = kit_b64url(buf, bytes);
    doc = doc_of(raw_jwk("k1", n, "AQAB"), NULL, NULL, NULL);
    free(n);
    return parse(doc, err, errlen);
}

static void test_modulus_size_bounds_are_exact(void **state)
{
    char err[256];
    es_jwks *set;

    (void)state;
    set = parse_modulus(256, 0x7f, err, sizeof(err));
    assert_null(set);
    assert_non_null(strstr(err, "modulus of 2047 bits"));
    set = parse_modulus(256, 0x80, err, sizeof(err));
    assert_non_null(set);
    es_jwks_free(set);
    set = parse_modulus(ES_JWKS_MAX_BITS / 8, 0xff, err, sizeof(err));
    assert_non_null(set);
    es_jwks_free(set);
    set = parse_modulus(ES_JWKS_MAX_BITS / 8 + 1, 0x01, err, sizeof(err));
    assert_null(set);
    assert_non_null(strstr(err, "modulus of 8193 bits"));
    set = parse_modulus(ES_JWKS_MAX_BITS / 8 + 2, 0x01, err, sizeof(err));
    assert_null(set);
    assert_non_null(strstr(err, "n or e missing or malformed"));
    /* a leading zero byte does not count */
    set = parse_modulus(257, 0x00, err, sizeof(err));
    assert_non_null(set);
    es_jwks_free(set);
}

static void test_bad_kids_are_skipped(void **state)
{
    char kid[ES_JWT_KID_MAX + 2];

    (void)state;
    memset(kid, 'k', sizeof(kid) - 1);
    kid[sizeof(kid) - 1] = '\0';
    parse_fails(doc_of(kit_jwk(key_a, kid, ""), NULL, NULL, NULL),
                "kid missing or invalid");
    parse_fails(doc_of(kit_jwk(key_a, "", ""), NULL, NULL, NULL),
                "kid missing or invalid");
    parse_fails(doc_of(kit_jwk(key_a, "a b", ""), NULL, NULL, NULL),
                "kid missing or invalid");
    kid[ES_JWT_KID_MAX] = '\0';
    {
        es_jwks *set =
            parse(doc_of(kit_jwk(key_a, kid, ""), NULL, NULL, NULL), NULL, 0);

        assert_non_null(set);
        assert_true(es_jwks_has(set, kid));
        es_jwks_free(set);
    }
}

static void test_duplicate_kid_keeps_the_first_key(void **state)
{
    char err[256];
    es_jwks *set = parse(
        doc_of(kit_jwk(key_a, "k1", ""), kit_jwk(key_b, "k1", ""), NULL, NULL),
        err, sizeof(err));

    (void)state;
    assert_non_null(set);
    assert_int_equal(es_jwks_count(set), 1);
    assert_non_null(strstr(err, "key 1: duplicate kid"));
    assert_int_equal(verify_with(set, token_by(key_a, "k1")), ES_JWT_OK);
    assert_int_equal(verify_with(set, token_by(key_b, "k1")),
                     ES_JWT_BAD_SIGNATURE);
    es_jwks_free(set);
}

static void test_at_most_32_keys_are_kept(void **state)
{
    char *one = kit_jwk(key_a, "KID", "");
    size_t len = (strlen(one) + 8) * 40 + 32;
    char *doc = kit_check(malloc(len)), err[256];
    es_jwks *set;

    (void)state;
    strcpy(doc, "{\"keys\":[");
    for (int i = 0; i < 40; i++) {
        char kid[8];
        char *k;

        snprintf(kid, sizeof(kid), "k%02d", i);
        k = kit_jwk(key_a, kid, "");
        strcat(doc, i ? "," : "");
        strcat(doc, k);
        free(k);
    }
    strcat(doc, "]}");
    free(one);
    assert_true(strlen(doc) <= ES_JWKS_MAX_LEN);
    set = parse(doc, err, sizeof(err));
    assert_non_null(set);
    assert_int_equal(es_jwks_count(set), ES_JWKS_MAX_KEYS);
    assert_true(es_jwks_has(set, "k31"));
    assert_false(es_jwks_has(set, "k32"));
    assert_non_null(strstr(err, "key 32: more than 32 keys"));
    es_jwks_free(set);
}

static void test_empty_key_list_is_refused(void **state)
{
    (void)state;
    parse_fails(kit_check(strdup("{\"keys\":[]}")), "JWKS holds no usable key");
    parse_fails(kit_check(strdup("{\"keys\":[1,\"x\",null,{}]}")),
                "key 0: not an object with a kty");
    parse_fails(kit_check(strdup("{\"keys\":{}}")), "keys array");
    parse_fails(kit_check(strdup("{}")), "keys array");
    parse_fails(kit_check(strdup("[]")), "keys array");
}

static void test_document_that_is_not_json_is_refused(void **state)
{
    char *k = kit_jwk(key_a, "k1", "");
    char *dup = kit_check(malloc(strlen(k) * 2 + 32));

    (void)state;
    parse_fails(kit_check(strdup("")), "JWKS is not JSON");
    parse_fails(kit_check(strdup("<html>502</html>")), "JWKS is not JSON");
    parse_fails(kit_check(strdup("{\"keys\":[")), "JWKS is not JSON");
    sprintf(dup, "{\"keys\":[%s],\"keys\":[]}", k);
    parse_fails(dup, "JWKS is not JSON");
    free(k);
    assert_null(es_jwks_parse(NULL, 0, NULL, 0));
}

static void test_huge_document_is_refused_unparsed(void **state)
{
    char *k = kit_jwk(key_a, "k1", "");
    char *doc = kit_check(malloc(ES_JWKS_MAX_LEN + 64));
    size_t n;

    (void)state;
    /* a valid document, just one byte too long */
    n = (size_t)sprintf(doc, "{\"keys\":[%s]", k);
    memset(doc + n, ' ', ES_JWKS_MAX_LEN - n);
    doc[ES_JWKS_MAX_LEN] = '}';
    doc[ES_JWKS_MAX_LEN + 1] = '\0';
    parse_fails(doc, "JWKS larger than 65536 bytes");
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cognito_shaped_jwks_is_parsed),
        cmocka_unit_test(test_keys_without_use_or_alg_are_usable),
        cmocka_unit_test(test_non_rsa_keys_are_skipped),
        cmocka_unit_test(test_use_enc_keys_are_skipped),
        cmocka_unit_test(test_keys_for_other_algorithms_are_skipped),
        cmocka_unit_test(test_short_modulus_is_skipped),
        cmocka_unit_test(test_malformed_n_or_e_is_skipped),
        cmocka_unit_test(test_modulus_size_bounds_are_exact),
        cmocka_unit_test(test_bad_kids_are_skipped),
        cmocka_unit_test(test_duplicate_kid_keeps_the_first_key),
        cmocka_unit_test(test_at_most_32_keys_are_kept),
        cmocka_unit_test(test_empty_key_list_is_refused),
        cmocka_unit_test(test_document_that_is_not_json_is_refused),
        cmocka_unit_test(test_huge_document_is_refused_unparsed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
