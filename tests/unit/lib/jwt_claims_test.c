/*
 * jwt_claims_test.c - unit tests for the claim checks of lib/es_jwt.c
 * (iss, token_use, aud / client_id, exp, nbf, iat, sub) and for the claims
 * es_jwt_verify hands back.
 *
 * Every token here carries a valid RS256 signature by the published key
 * (the fixture is in jwt_testkit.h), so a refusal can only come from the
 * claim the case changes; times are relative to a fixed NOW with the
 * policy's 60 s leeway, so no case depends on the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_jwt.h"
#define JWT_KIT_FIXTURE
#include "jwt_testkit.h"

static void test_valid_id_token_is_accepted_with_claims(void **state)
{
    char *t = kit_token_json(HDR, id_claims(), key_a);
    es_jwt_claims c;

    (void)state;
    memset(&c, 0x7f, sizeof(c));
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &c),
                     ES_JWT_OK);
    free(t);
    assert_string_equal(c.sub, SUB);
    assert_string_equal(c.email, "ada@example.com");
    assert_int_equal(c.email_verified, 1);
    assert_string_equal(c.tenant, "acme_1");
    assert_int_equal(c.token_use_id, 1);
    assert_int_equal(c.exp, NOW + 3600);
}

static void test_valid_access_token_is_accepted(void **state)
{
    char *t = kit_token_json(HDR, access_claims(), key_a);
    es_jwt_claims c;

    (void)state;
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &c),
                     ES_JWT_OK);
    free(t);
    assert_string_equal(c.sub, SUB);
    assert_string_equal(c.email, "");
    assert_int_equal(c.email_verified, 0);
    assert_string_equal(c.tenant, "");
    assert_int_equal(c.token_use_id, 0);
    assert_int_equal(c.exp, NOW + 3600);
}

static void test_expired_token_is_refused(void **state)
{
    (void)state;
    expect(id_with("exp", json_integer(NOW - 61)), ES_JWT_EXPIRED);
    expect(id_with("exp", json_integer(0)), ES_JWT_EXPIRED);
    expect(id_with("exp", json_integer(-(INT64_C(1) << 62))), ES_JWT_EXPIRED);
    expect(id_with("exp", json_real((double)NOW - 60.5)), ES_JWT_EXPIRED);
}

static void test_missing_exp_is_refused(void **state)
{
    (void)state;
    expect(id_without("exp"), ES_JWT_EXPIRED);
    expect(id_with("exp", json_null()), ES_JWT_EXPIRED);
}

static void test_exp_as_string_is_refused(void **state)
{
    char buf[32];

    (void)state;
    snprintf(buf, sizeof(buf), "%lld", (long long)(NOW + 3600));
    expect(id_with("exp", json_string(buf)), ES_JWT_EXPIRED);
    expect(id_with("exp", json_true()), ES_JWT_EXPIRED);
}

static void test_real_and_huge_exp_are_numbers(void **state)
{
    char *t = id_with("exp", json_real((double)NOW + 99.75));
    es_jwt_claims c;

    (void)state;
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &c),
                     ES_JWT_OK);
    assert_int_equal(c.exp, NOW + 99);
    free(t);
    expect(id_with("exp", json_real(1e300)), ES_JWT_OK);
    expect(id_with("exp", json_integer(INT64_MAX)), ES_JWT_OK);
}

static void test_not_yet_valid_token_is_refused(void **state)
{
    (void)state;
    expect(id_with("nbf", json_integer(NOW + 61)), ES_JWT_NOT_YET_VALID);
    expect(id_with("nbf", json_real((double)NOW + 60.25)),
           ES_JWT_NOT_YET_VALID);
    expect(id_with("nbf", json_string("0")), ES_JWT_BAD_CLAIMS);
}

static void test_exp_and_nbf_within_leeway_are_accepted(void **state)
{
    (void)state;
    expect(id_with("exp", json_integer(NOW - 60)), ES_JWT_OK);
    expect(id_with("nbf", json_integer(NOW + 60)), ES_JWT_OK);
    expect(id_with("nbf", json_integer(NOW - 100)), ES_JWT_OK);
    /* the token's exp itself is the last second of life, leeway aside */
    expect_at(id_with("exp", json_integer(NOW)), NOW + 60, ES_JWT_OK);
    expect_at(id_with("exp", json_integer(NOW)), NOW + 61, ES_JWT_EXPIRED);
}

static void test_iat_must_be_a_number(void **state)
{
    (void)state;
    expect(id_with("iat", json_string("yesterday")), ES_JWT_BAD_CLAIMS);
    expect(id_with("iat", json_real(1.5)), ES_JWT_OK);
    expect(id_without("iat"), ES_JWT_OK);
}

static void test_wrong_issuer_is_refused(void **state)
{
    (void)state;
    expect(id_with("iss", json_string("https://evil.example.com/")),
           ES_JWT_BAD_ISSUER);
    expect(id_without("iss"), ES_JWT_BAD_ISSUER);
    expect(id_with("iss", json_pack("[s]", ISS)), ES_JWT_BAD_ISSUER);
}

static void test_issuer_prefix_and_suffix_variants_are_refused(void **state)
{
    static const char *const variants[] = {
        ISS "/",
        ISS "x",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool",
        "http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1",
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool1",
        " " ISS,
        "",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        expect(id_with("iss", json_string(variants[i])), ES_JWT_BAD_ISSUER);
    }
}

static void test_second_issuer_form_is_accepted(void **state)
{
    (void)state;
    expect(id_with("iss", json_string(ISS2)), ES_JWT_OK);
}

static void test_wrong_audience_is_refused(void **state)
{
    json_t *c = id_claims();

    (void)state;
    expect(id_with("aud", json_string("5q8client0id0ab")), ES_JWT_BAD_AUDIENCE);
    expect(id_without("aud"), ES_JWT_BAD_AUDIENCE);
    expect(id_with("aud", json_pack("[ss]", "x", "y")), ES_JWT_BAD_AUDIENCE);
    expect(id_with("aud", json_pack("[]")), ES_JWT_BAD_AUDIENCE);
    /* an id token is judged by aud, not by a client_id it carries */
    json_object_set_new(c, "aud", json_string("x"));
    json_object_set_new(c, "client_id", json_string(CLIENT));
    expect(kit_token_json(HDR, c, key_a), ES_JWT_BAD_AUDIENCE);
}

static void test_audience_array_containing_client_is_accepted(void **state)
{
    (void)state;
    expect(id_with("aud", json_pack("[s,i,s]", "x", 7, CLIENT)), ES_JWT_OK);
}

static void test_wrong_client_id_is_refused(void **state)
{
    json_t *c = access_claims();

    (void)state;
    expect(access_with("client_id", json_string("nope")), ES_JWT_BAD_AUDIENCE);
    expect(access_with("client_id", json_pack("[s]", CLIENT)),
           ES_JWT_BAD_AUDIENCE);
    /* an access token is judged by client_id, not by an aud */
    json_object_del(c, "client_id");
    json_object_set_new(c, "aud", json_string(CLIENT));
    expect(kit_token_json(HDR, c, key_a), ES_JWT_BAD_AUDIENCE);
}

static void test_wrong_token_use_is_refused(void **state)
{
    (void)state;
    expect(id_with("token_use", json_string("refresh")), ES_JWT_BAD_TOKEN_USE);
    expect(id_with("token_use", json_string("ID")), ES_JWT_BAD_TOKEN_USE);
    expect(id_without("token_use"), ES_JWT_BAD_TOKEN_USE);
    expect(id_with("token_use", json_integer(1)), ES_JWT_BAD_TOKEN_USE);
}

static void test_token_use_not_accepted_by_policy_is_refused(void **state)
{
    (void)state;
    policy.accept_access = 0;
    expect(kit_token_json(HDR, access_claims(), key_a), ES_JWT_BAD_TOKEN_USE);
    expect(kit_token_json(HDR, id_claims(), key_a), ES_JWT_OK);
    policy.accept_access = 1;
    policy.accept_id = 0;
    expect(kit_token_json(HDR, id_claims(), key_a), ES_JWT_BAD_TOKEN_USE);
    expect(kit_token_json(HDR, access_claims(), key_a), ES_JWT_OK);
    policy.accept_id = 1;
}

static void test_sub_missing_or_bad_is_refused(void **state)
{
    char big[ES_JWT_SUB_MAX + 2];

    (void)state;
    expect(id_without("sub"), ES_JWT_BAD_CLAIMS);
    expect(id_with("sub", json_string("")), ES_JWT_BAD_CLAIMS);
    expect(id_with("sub", json_integer(5)), ES_JWT_BAD_CLAIMS);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect(id_with("sub", json_string(big)), ES_JWT_BAD_CLAIMS);
    big[ES_JWT_SUB_MAX] = '\0';
    expect(id_with("sub", json_string(big)), ES_JWT_OK);
}

static void test_optional_claims_are_dropped_when_unusable(void **state)
{
    char big[ES_JWT_EMAIL_MAX + 2];
    json_t *c = id_claims();
    es_jwt_claims out;
    char *t;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_object_set_new(c, "email", json_string(big));
    json_object_set_new(c, "custom:tenant_id", json_integer(3));
    t = kit_token_json(HDR, c, key_a);
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &out),
                     ES_JWT_OK);
    free(t);
    assert_string_equal(out.email, "");
    assert_int_equal(out.email_verified, 0);
    assert_string_equal(out.tenant, "");

    c = id_claims();
    json_object_set_new(c, "email_verified", json_string("true"));
    memset(big, 't', ES_JWT_TENANT_MAX);
    big[ES_JWT_TENANT_MAX] = '\0';
    json_object_set_new(c, "custom:tenant_id", json_string(big));
    t = kit_token_json(HDR, c, key_a);
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &out),
                     ES_JWT_OK);
    free(t);
    assert_int_equal(out.email_verified, 1);
    assert_string_equal(out.tenant, big);

    t = id_with("email_verified", json_string("false"));
    assert_int_equal(es_jwt_verify(t, strlen(t), set, &policy, NOW, &out),
                     ES_JWT_OK);
    free(t);
    assert_int_equal(out.email_verified, 0);
    assert_string_equal(out.email, "ada@example.com");
}

static void test_policy_with_no_clients_accepts_nothing(void **state)
{
    es_jwt_policy saved = policy;

    (void)state;
    policy.n_clients = 0;
    expect(kit_token_json(HDR, id_claims(), key_a), ES_JWT_BAD_AUDIENCE);
    expect(kit_token_json(HDR, access_claims(), key_a), ES_JWT_BAD_AUDIENCE);
    policy = saved;
    policy.n_issuers = 0;
    expect(kit_token_json(HDR, id_claims(), key_a), ES_JWT_BAD_ISSUER);
    policy = saved;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_id_token_is_accepted_with_claims),
        cmocka_unit_test(test_valid_access_token_is_accepted),
        cmocka_unit_test(test_expired_token_is_refused),
        cmocka_unit_test(test_missing_exp_is_refused),
        cmocka_unit_test(test_exp_as_string_is_refused),
        cmocka_unit_test(test_real_and_huge_exp_are_numbers),
        cmocka_unit_test(test_not_yet_valid_token_is_refused),
        cmocka_unit_test(test_exp_and_nbf_within_leeway_are_accepted),
        cmocka_unit_test(test_iat_must_be_a_number),
        cmocka_unit_test(test_wrong_issuer_is_refused),
        cmocka_unit_test(test_issuer_prefix_and_suffix_variants_are_refused),
        cmocka_unit_test(test_second_issuer_form_is_accepted),
        cmocka_unit_test(test_wrong_audience_is_refused),
        cmocka_unit_test(test_audience_array_containing_client_is_accepted),
        cmocka_unit_test(test_wrong_client_id_is_refused),
        cmocka_unit_test(test_wrong_token_use_is_refused),
        cmocka_unit_test(test_token_use_not_accepted_by_policy_is_refused),
        cmocka_unit_test(test_sub_missing_or_bad_is_refused),
        cmocka_unit_test(test_optional_claims_are_dropped_when_unusable),
        cmocka_unit_test(test_policy_with_no_clients_accepts_nothing),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
