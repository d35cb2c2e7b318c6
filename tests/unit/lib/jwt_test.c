/*
 * jwt_test.c - unit tests for lib/es_jwt.c, up to the signature: the
 * token's shape, header and algorithm, the key its kid names, and the
 * signature itself, with the exact reason es_jwt_verify gives for each
 * token it refuses (the claims are jwt_claims_test.c's).
 *
 * Every refused token is otherwise a good one (the fixture is in
 * jwt_testkit.h), so the status proves the one check that caught it. The
 * attacks (alg none, HS256 keyed with the public PEM) are also shown to
 * fool a general JWT library (libjwt, which takes the algorithm from the
 * token), so the test cannot pass for the wrong reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jwt.h>

#include "es_jwt.h"
#include "es_jwt_int.h"
#define JWT_KIT_FIXTURE
#include "jwt_testkit.h"

/* A good id token padded with a "pad" claim of n bytes. */
static char *padded(size_t n)
{
    static char pad[ES_JWT_MAX_LEN];
    json_t *c = id_claims();

    memset(pad, 'x', n);
    pad[n] = '\0';
    json_object_set_new(c, "pad", json_string(pad));
    return kit_token_json(HDR, c, key_a);
}

static void test_token_need_not_be_nul_terminated(void **state)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    size_t n = strlen(t);
    char *buf = kit_check(malloc(n + 8));
    es_jwt_claims c;

    (void)state;
    memcpy(buf, t, n);
    memcpy(buf + n, ".garbage", 8);
    assert_int_equal(es_jwt_verify(buf, n, set, &policy, NOW, &c), ES_JWT_OK);
    /* two signature characters fewer: still base64url, a bad signature */
    assert_int_equal(es_jwt_verify(buf, n - 2, set, &policy, NOW, &c),
                     ES_JWT_BAD_SIGNATURE);
    free(buf);
    free(t);
}

static void test_alg_none_with_empty_signature_is_refused(void **state)
{
    char *p = id_payload();
    char *t = kit_token("{\"alg\":\"none\",\"kid\":\"k1\"}", p, SIG_NONE, NULL);
    jwt_t *jwt = NULL;

    (void)state;
    /* libjwt alone, given no key, takes it */
    assert_int_equal(jwt_decode(&jwt, t, NULL, 0), 0);
    jwt_free(jwt);
    expect(t, ES_JWT_MALFORMED);
    expect(kit_token("{\"alg\":\"none\"}", p, SIG_NONE, NULL),
           ES_JWT_MALFORMED);
    free(p);
}

static void test_alg_none_with_signature_is_refused(void **state)
{
    (void)state;
    expect(with_header("{\"alg\":\"none\",\"kid\":\"k1\"}", SIG_RS256),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"None\",\"kid\":\"k1\"}", SIG_JUNK),
           ES_JWT_BAD_ALG);
}

static void test_hs256_signed_with_public_pem_is_refused(void **state)
{
    char *p = id_payload(), *pem, *data, *t;
    BIO *bio = BIO_new(BIO_s_mem());
    jwt_t *jwt = NULL;
    long pem_len;

    (void)state;
    /* HMAC keyed with the public key's PEM text, which anyone can read */
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, key_a), 1);
    pem_len = BIO_get_mem_data(bio, &data);
    pem = kit_check(malloc((size_t)pem_len + 1));
    memcpy(pem, data, (size_t)pem_len);
    pem[pem_len] = '\0';
    BIO_free(bio);
    t = kit_token_secret("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                         p, SIG_HS256, NULL, pem, (size_t)pem_len);
    /* the classic confusion: libjwt alone, given the PEM, accepts it */
    assert_int_equal(
        jwt_decode(&jwt, t, (const unsigned char *)pem, (int)pem_len), 0);
    jwt_free(jwt);
    expect(t, ES_JWT_BAD_ALG);
    free(pem);
    free(p);
}

static void test_other_algorithms_are_refused(void **state)
{
    (void)state;
    expect(with_header("{\"alg\":\"RS384\",\"kid\":\"k1\"}", SIG_RS384),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"PS256\",\"kid\":\"k1\"}", SIG_PS256),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"RS512\",\"kid\":\"k1\"}", SIG_JUNK),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"ES256\",\"kid\":\"k1\"}", SIG_JUNK),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"rs256\",\"kid\":\"k1\"}", SIG_RS256),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":\"RS256 \",\"kid\":\"k1\"}", SIG_RS256),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"alg\":[\"RS256\"],\"kid\":\"k1\"}", SIG_RS256),
           ES_JWT_BAD_ALG);
    expect(with_header("{\"kid\":\"k1\"}", SIG_RS256), ES_JWT_BAD_ALG);
}

static void test_tampered_payload_is_refused(void **state)
{
    char *good = kit_token_json(HDR, id_claims(), key_a);
    json_t *c = id_claims();
    char *forged, *p, *b64;
    const char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');

    (void)state;
    json_object_set_new(c, "sub", json_string("someone-else"));
    p = kit_check(json_dumps(c, JSON_COMPACT));
    b64 = kit_b64url_str(p);
    forged = kit_check(malloc(strlen(good) + strlen(b64) + 1));
    sprintf(forged, "%.*s.%s%s", (int)(dot1 - good), good, b64, dot2);
    expect(forged, ES_JWT_BAD_SIGNATURE);
    free(good);
    free(p);
    free(b64);
    json_decref(c);
}

static void test_tampered_signature_is_refused(void **state)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    char *sig = strrchr(t, '.') + 1;

    (void)state;
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    expect(t, ES_JWT_BAD_SIGNATURE);
    expect(with_header(HDR, SIG_JUNK), ES_JWT_BAD_SIGNATURE);
}

static void test_signature_of_another_key_with_same_kid_is_refused(void **state)
{
    (void)state;
    expect(kit_token_json(HDR, id_claims(), key_b), ES_JWT_BAD_SIGNATURE);
}

static void test_unknown_kid_is_refused(void **state)
{
    char *t = kit_token_json("{\"alg\":\"RS256\",\"kid\":\"k2\"}", id_claims(),
                             key_a);
    char *good = kit_token_json(HDR, id_claims(), key_a);
    es_jwt_claims c;

    (void)state;
    expect(t, ES_JWT_UNKNOWN_KID);
    assert_int_equal(es_jwt_verify(good, strlen(good), NULL, &policy, NOW, &c),
                     ES_JWT_UNKNOWN_KID);
    free(good);
}

static void test_missing_or_bad_kid_is_refused(void **state)
{
    char hdr[300];

    (void)state;
    expect(with_header("{\"alg\":\"RS256\"}", SIG_RS256), ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"\"}", SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":7}", SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k 1\"}", SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\\n\"}", SIG_RS256),
           ES_JWT_BAD_HEADER);
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%0*d\"}",
             ES_JWT_KID_MAX + 1, 1);
    expect(with_header(hdr, SIG_RS256), ES_JWT_BAD_HEADER);
}

static void test_crit_header_is_refused(void **state)
{
    (void)state;
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[]}",
                       SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"],"
                       "\"exp\":1}",
                       SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":null}",
                       SIG_RS256),
           ES_JWT_BAD_HEADER);
}

static void test_remote_key_headers_are_refused(void **state)
{
    static const char *const hdrs[] = {
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"jku\":\"http://127.0.0.1:1/k\"}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"x5u\":\"http://127.0.0.1:1/c\"}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"jwk\":{\"kty\":\"RSA\"}}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"x5c\":[\"MIIB\"]}",
        "{\"alg\":\"RS256\",\"kid\":\"k1\",\"jku\":null}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        expect(with_header(hdrs[i], SIG_RS256), ES_JWT_BAD_HEADER);
    }
}

static void test_typ_other_than_jwt_is_refused(void **state)
{
    (void)state;
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}",
                       SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"jwt\"}",
                       SIG_RS256),
           ES_JWT_BAD_HEADER);
    expect(
        with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":1}", SIG_RS256),
        ES_JWT_BAD_HEADER);
    expect(with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}",
                       SIG_RS256),
           ES_JWT_OK);
}

static void test_two_and_four_part_tokens_are_refused(void **state)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    char *four = kit_check(malloc(strlen(t) + 8));

    (void)state;
    sprintf(four, "%s.%s", t, "AAAA");
    expect(four, ES_JWT_MALFORMED);
    four = kit_check(malloc(strlen(t) + 8));
    sprintf(four, "%s.", t);
    expect(four, ES_JWT_MALFORMED);
    *strrchr(t, '.') = '\0';
    expect(t, ES_JWT_MALFORMED);
    expect(kit_check(strdup("eyJhbGciOiJSUzI1NiJ9")), ES_JWT_MALFORMED);
    expect(kit_check(strdup("")), ES_JWT_MALFORMED);
}

static void test_empty_parts_are_refused(void **state)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
    char *buf = kit_check(malloc(strlen(t) + 1));

    (void)state;
    sprintf(buf, "%s", dot1); /* ".payload.sig" */
    expect(kit_check(strdup(buf)), ES_JWT_MALFORMED);
    sprintf(buf, "%.*s%s", (int)(dot1 - t + 1), t, dot2); /* "hdr..sig" */
    expect(kit_check(strdup(buf)), ES_JWT_MALFORMED);
    expect(kit_check(strdup("..")), ES_JWT_MALFORMED);
    free(buf);
    free(t);
}

static void test_oversized_token_is_refused(void **state)
{
    char *t = padded(0);
    size_t len = strlen(t);
    /* 3 payload bytes are 4 characters: start just short, then step */
    size_t pad = (ES_JWT_MAX_LEN - len - 40) * 3 / 4;

    (void)state;
    /* the largest token that fits is accepted ... */
    for (len = 0; len + 4 <= ES_JWT_MAX_LEN; pad++) {
        free(t);
        t = padded(pad);
        len = strlen(t);
    }
    assert_true(strlen(t) <= ES_JWT_MAX_LEN);
    expect(t, ES_JWT_OK);
    /* ... and anything longer is refused before it is decoded */
    expect(padded(pad + 2), ES_JWT_TOO_LONG);
    t = kit_check(malloc(ES_JWT_MAX_LEN + 2));
    memset(t, 'A', ES_JWT_MAX_LEN + 1);
    t[ES_JWT_MAX_LEN + 1] = '\0';
    expect(t, ES_JWT_TOO_LONG);
    expect(padded(ES_JWT_MAX_LEN - 1), ES_JWT_TOO_LONG);
}

/* The good token with the character at part p, offset off replaced by ch;
 * off < 0 counts from the end of the part. */
static char *edit_part(int part, long off, char ch)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    char *start = t, *end;

    for (int i = 0; i < part; i++) {
        start = strchr(start, '.') + 1;
    }
    end = strchr(start, '.');
    if (end == NULL) {
        end = start + strlen(start);
    }
    start[off >= 0 ? off : (end - start) + off] = ch;
    return t;
}

/* The good token with text inserted at the end of part p. */
static char *append_part(int part, const char *text)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    char *out = kit_check(malloc(strlen(t) + strlen(text) + 1));
    char *at = t;

    for (int i = 0; i <= part; i++) {
        at = strchr(at + (i > 0), '.');
        if (at == NULL) {
            at = t + strlen(t);
            break;
        }
    }
    sprintf(out, "%.*s%s%s", (int)(at - t), t, text, at);
    free(t);
    return out;
}

static void test_broken_base64_is_refused(void **state)
{
    static const char bad[] = {'+', '/', '=', ' ', '\n', '%', '.', '\0'};

    (void)state;
    for (int part = 0; part < 3; part++) {
        for (size_t i = 0; i < sizeof(bad) - 1; i++) {
            if (bad[i] != '.') {
                expect(edit_part(part, 3, bad[i]), ES_JWT_MALFORMED);
            }
        }
        /* '=' padding, trailing whitespace */
        expect(append_part(part, "="), ES_JWT_MALFORMED);
        expect(append_part(part, "=="), ES_JWT_MALFORMED);
        expect(append_part(part, " "), ES_JWT_MALFORMED);
    }
}

static void test_base64_length_and_spelling_must_be_canonical(void **state)
{
    char *sig = kit_b64url((const unsigned char[256]){0}, 256);

    char *h = kit_b64url_str(HDR);
    size_t hl = strlen(h);

    (void)state;
    /* the 26-byte header encodes to 35 characters: 2 unused low bits */
    assert_int_equal(hl % 4, 3);
    free(h);
    /* 342 signature characters; 345 is 1 modulo 4 even when all-zero */
    assert_int_equal(strlen(sig), 342);
    free(sig);
    expect(append_part(2, "AAA"), ES_JWT_MALFORMED);
    for (int part = 0; part < 3; part++) {
        char *t = kit_token_json(HDR, id_claims(), key_a);
        char *start = t, *end;
        size_t n;

        for (int i = 0; i < part; i++) {
            start = strchr(start, '.') + 1;
        }
        end = strchr(start, '.');
        n = end ? (size_t)(end - start) : strlen(start);
        if (n % 4 == 0) {
            /* one more character makes the length 1 modulo 4 */
            char *x = append_part(part, "AAAAA");
            expect(x, ES_JWT_MALFORMED);
        } else {
            /* a second spelling of the same bytes: unused bits set */
            char *c = &start[n - 1];

            *c = *c == 'A' ? 'B' : (char)(*c + 1);
            expect(kit_check(strdup(t)), ES_JWT_MALFORMED);
            /* length 1 modulo 4 */
            if (n % 4 == 2) {
                start[n - 1] = '\0';
                if (end != NULL) {
                    memmove(start + n - 1, end, strlen(end) + 1);
                }
                expect(kit_check(strdup(t)), ES_JWT_MALFORMED);
            }
        }
        free(t);
    }
}

static void test_header_or_payload_not_json_is_refused(void **state)
{
    char *p = id_payload();

    (void)state;
    expect(kit_token("not json", p, SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token(HDR, "{\"sub\":", SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token(HDR " x", p, SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token(HDR, "\xff\xfe", SIG_RS256, key_a), ES_JWT_MALFORMED);
    free(p);
}

static void test_header_or_payload_json_array_is_refused(void **state)
{
    char *p = id_payload();

    (void)state;
    expect(kit_token("[" HDR "]", p, SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token(HDR, "[1,2]", SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token(HDR, "\"sub\"", SIG_RS256, key_a), ES_JWT_MALFORMED);
    expect(kit_token("null", p, SIG_RS256, key_a), ES_JWT_MALFORMED);
    free(p);
}

static void test_duplicate_json_members_are_refused(void **state)
{
    char *p = id_payload();
    char *dup = kit_check(malloc(strlen(p) + 32));

    (void)state;
    expect(kit_token("{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"k1\"}", p,
                     SIG_RS256, key_a),
           ES_JWT_MALFORMED);
    expect(kit_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"kid\":\"k1\"}", p,
                     SIG_RS256, key_a),
           ES_JWT_MALFORMED);
    /* a second "sub" after the first: which one wins must not matter */
    sprintf(dup, "%.*s,\"sub\":\"admin\"}", (int)strlen(p) - 1, p);
    expect(kit_token(HDR, dup, SIG_RS256, key_a), ES_JWT_MALFORMED);
    free(dup);
    free(p);
}

static void test_peek_kid_reads_kid_without_a_key(void **state)
{
    char *t = kit_token_json("{\"alg\":\"RS256\",\"kid\":\"rotated\"}",
                             id_claims(), key_b);
    char *none = with_header("{\"alg\":\"none\",\"kid\":\"k1\"}", SIG_JUNK);
    char *jku = with_header("{\"alg\":\"RS256\",\"kid\":\"k1\",\"jku\":\"x\"}",
                            SIG_RS256);
    char kid[ES_JWT_KID_MAX + 1];

    (void)state;
    assert_int_equal(es_jwt_peek_kid(t, strlen(t), kid), ES_JWT_OK);
    assert_string_equal(kid, "rotated");
    assert_int_equal(es_jwt_peek_kid(none, strlen(none), kid), ES_JWT_BAD_ALG);
    assert_int_equal(es_jwt_peek_kid(jku, strlen(jku), kid), ES_JWT_BAD_HEADER);
    assert_int_equal(es_jwt_peek_kid("a.b", 3, kid), ES_JWT_MALFORMED);
    assert_int_equal(es_jwt_peek_kid(t, ES_JWT_MAX_LEN + 1, kid),
                     ES_JWT_TOO_LONG);
    free(t);
    free(none);
    free(jku);
}

static void test_every_status_has_a_name(void **state)
{
    (void)state;
    for (int s = ES_JWT_OK; s <= ES_JWT_NO_MEMORY; s++) {
        const char *name = es_jwt_status_str((es_jwt_status)s);

        assert_non_null(name);
        assert_string_not_equal(name, "unknown");
        for (int o = ES_JWT_OK; o < s; o++) {
            assert_string_not_equal(name, es_jwt_status_str((es_jwt_status)o));
        }
    }
    assert_string_equal(es_jwt_status_str(ES_JWT_EXPIRED), "expired");
    assert_string_equal(es_jwt_status_str((es_jwt_status)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_need_not_be_nul_terminated),
        cmocka_unit_test(test_alg_none_with_empty_signature_is_refused),
        cmocka_unit_test(test_alg_none_with_signature_is_refused),
        cmocka_unit_test(test_hs256_signed_with_public_pem_is_refused),
        cmocka_unit_test(test_other_algorithms_are_refused),
        cmocka_unit_test(test_tampered_payload_is_refused),
        cmocka_unit_test(test_tampered_signature_is_refused),
        cmocka_unit_test(
            test_signature_of_another_key_with_same_kid_is_refused),
        cmocka_unit_test(test_unknown_kid_is_refused),
        cmocka_unit_test(test_missing_or_bad_kid_is_refused),
        cmocka_unit_test(test_crit_header_is_refused),
        cmocka_unit_test(test_remote_key_headers_are_refused),
        cmocka_unit_test(test_typ_other_than_jwt_is_refused),
        cmocka_unit_test(test_two_and_four_part_tokens_are_refused),
        cmocka_unit_test(test_empty_parts_are_refused),
        cmocka_unit_test(test_oversized_token_is_refused),
        cmocka_unit_test(test_broken_base64_is_refused),
        cmocka_unit_test(test_base64_length_and_spelling_must_be_canonical),
        cmocka_unit_test(test_header_or_payload_not_json_is_refused),
        cmocka_unit_test(test_header_or_payload_json_array_is_refused),
        cmocka_unit_test(test_duplicate_json_members_are_refused),
        cmocka_unit_test(test_peek_kid_reads_kid_without_a_key),
        cmocka_unit_test(test_every_status_has_a_name),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
