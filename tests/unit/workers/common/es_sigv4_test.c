/*
 * es_sigv4_test.c - unit tests for workers/common/es_sigv4.c against known
 * signatures.
 *
 * The expected Authorization values were computed offline by AWS's own
 * signer, @smithy/signature-v4 (with @aws-crypto/sha256-js), with
 * applyChecksum false and uriEscapePath = (service != "s3"), at
 * 2025-10-01T12:00:00Z, by tests/unit/workers/common/es_sigv4_vectors.mjs
 * (run `node tests/unit/workers/common/es_sigv4_vectors.mjs` to see them
 * again). get_vanilla is also the published value of AWS's SigV4 test
 * suite. Each case is one rule a signer gets wrong: the Bedrock model id's
 * escaped ':' (signed as %253A), a query to sort and re-escape, a session
 * token, an S3 path signed as sent with its payload hash header, header
 * values to trim, and dot segments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "es_sigv4.h"

#define NOW 1759320000LL /* 2025-10-01T12:00:00Z */

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

static void creds_of(es_aws_creds *c, const char *id, const char *secret,
                     const char *token)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->access_key_id, id);
    strcpy(c->secret_access_key, secret);
    strcpy(c->session_token, token ? token : "");
}

static void key(es_aws_creds *c)
{
    creds_of(c, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
             NULL);
}

static es_sigv4_input input(const char *method, const char *host,
                            const char *path, const char *query,
                            const char *const *headers, const char *body,
                            const char *region, const char *service)
{
    es_sigv4_input in;

    memset(&in, 0, sizeof(in));
    in.method = method;
    in.host = host;
    in.path = path;
    in.query = query;
    in.headers = headers;
    in.payload = (const unsigned char *)body;
    in.payload_len = body ? strlen(body) : 0;
    in.region = region;
    in.service = service;
    in.now_s = NOW;
    return in;
}

static void expect_auth(const es_sigv4_input *in, const es_aws_creds *c,
                        const char *want)
{
    char auth[1024], date[17], hash[65];

    assert_int_equal(es_sigv4_sign(in, c, auth, sizeof(auth), date, hash), 0);
    assert_string_equal(auth, want);
}

#define BEDROCK_PATH                                                           \
    "/model/global.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
#define BEDROCK_BODY                                                           \
    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}],"     \
    "\"inferenceConfig\":{\"maxTokens\":800,\"temperature\":0.2}}"

static void test_bedrock_model_id_colon_is_escaped_twice(void **state)
{
    es_aws_creds c;
    es_sigv4_input in =
        input("POST", "bedrock-runtime.us-east-1.amazonaws.com", BEDROCK_PATH,
              "", json_ct, BEDROCK_BODY, "us-east-1", "bedrock");
    char *canon;

    (void)state;
    key(&c);
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251001/us-east-1/"
                "bedrock/aws4_request, SignedHeaders=content-type;host;"
                "x-amz-date, Signature=9f0db86e872c27643774895c1f0993891aef56a"
                "0789973b3aaaa9cde55c72dad");
    canon = es_sigv4_canonical_request(&in, &c, "20251001T120000Z");
    assert_non_null(canon);
    assert_non_null(strstr(
        canon,
        "POST\n/model/global.anthropic.claude-haiku-4-5-20251001-v1%253A0/"
        "converse\n\ncontent-type:application/json\n"
        "host:bedrock-runtime.us-east-1.amazonaws.com\n"
        "x-amz-date:20251001T120000Z\n\ncontent-type;host;x-amz-date\n"));
    free(canon);
}

/* the path signed as sent (libcurl 7.88's way) gives what AWS refuses */
static void test_bedrock_signature_differs_from_signed_as_sent(void **state)
{
    es_aws_creds c;
    es_sigv4_input in =
        input("POST", "bedrock-runtime.us-east-1.amazonaws.com", BEDROCK_PATH,
              "", json_ct, BEDROCK_BODY, "us-east-1", "bedrock");
    char auth[1024], date[17], hash[65];

    (void)state;
    key(&c);
    assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash), 0);
    assert_null(strstr(auth, "fb11183fbfa141ee3e4a2aaf5ac765a23ded4400ad2f0"
                             "05dd73fb90c0e2d4d7e"));
    assert_string_equal(date, "20251001T120000Z");
    /* sha256 of BEDROCK_BODY (node:crypto) */
    assert_string_equal(
        hash,
        "0db8c58e3ee7565961a85b0d4c79348a3ff800ed2f29c2181d8efb165cf5d08c");
}

static void test_query_is_sorted_and_escaped(void **state)
{
    es_aws_creds c;
    es_sigv4_input in =
        input("GET", "email.eu-west-1.amazonaws.com", "/v2/email/identities",
              "PageSize=10&NextToken=abc%2Fdef%3D&Filter=a%20b", NULL, NULL,
              "eu-west-1", "ses");
    char *canon;

    (void)state;
    key(&c);
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251001/eu-west-1/"
                "ses/aws4_request, SignedHeaders=host;x-amz-date, "
                "Signature=543455e11e6935071ab9a0b4488c37bcacecd21d63a2cf156"
                "47aabd1d9ce6c1a");
    canon = es_sigv4_canonical_request(&in, &c, "20251001T120000Z");
    assert_non_null(canon);
    assert_non_null(
        strstr(canon, "\nFilter=a%20b&NextToken=abc%2Fdef%3D&PageSize=10\n"));
    free(canon);
}

static void test_session_token_is_signed(void **state)
{
    es_aws_creds c;
    es_sigv4_input in = input(
        "POST", "127.0.0.1:9555", "/v2/email/outbound-emails", NULL, json_ct,
        "{\"FromEmailAddress\":\"a@example.com\",\"Destination\":{"
        "\"ToAddresses\":[\"b@example.com\"]},\"Content\":{\"Raw\":{\"Data\":"
        "\"U3ViamVjdDogaGkNCg0KaGkNCg==\"}}}",
        "us-east-1", "ses");

    (void)state;
    creds_of(&c, "ASIAEXAMPLETEMP", "temp/Secret+0123456789",
             "IQoJb3JpZ2luX2VjEA0aCXVzLWVhc3QtMSJHMEUCIQD+token/==");
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLETEMP/20251001/"
                "us-east-1/ses/aws4_request, SignedHeaders=content-type;host;"
                "x-amz-date;x-amz-security-token, Signature=45b37866787d96ec5e"
                "ced924d3b8981c02801225b5bfa975490ab9647d2d657c");
}

static void test_s3_path_as_sent_and_payload_hash_header(void **state)
{
    static const char *const hdrs[] = {"Content-Type: application/octet-stream",
                                       NULL};
    es_aws_creds c;
    es_sigv4_input in =
        input("PUT", "echostream-lake.s3.us-east-1.amazonaws.com",
              "/source%3Dreddit/dt%3D2026-11-25/a%20b.jsonl.zst", "", hdrs,
              "object body", "us-east-1", "s3");
    char auth[1024], date[17], hash[65];
    char *canon;

    (void)state;
    key(&c);
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251001/us-east-1/"
                "s3/aws4_request, SignedHeaders=content-type;host;"
                "x-amz-content-sha256;x-amz-date, Signature=3a8af6bd22a909883"
                "7c7b76fa4e2b9404efda9c7bff55f134a440a1a92bebe80");
    canon = es_sigv4_canonical_request(&in, &c, "20251001T120000Z");
    assert_non_null(canon);
    assert_non_null(
        strstr(canon, "PUT\n/source%3Dreddit/dt%3D2026-11-25/a%20b.jsonl.zst"
                      "\n\n"));
    free(canon);

    /* a caller's x-amz-content-sha256 is the payload hash */
    {
        static const char *const unsigned_hdrs[] = {
            "x-amz-content-sha256: UNSIGNED-PAYLOAD", NULL};
        in.headers = unsigned_hdrs;
        assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash),
                         0);
        assert_string_equal(hash, "UNSIGNED-PAYLOAD");
    }
}

static void test_header_values_trimmed_and_names_lowered(void **state)
{
    static const char *const hdrs[] = {
        "Content-Type: application/x-amz-json-1.1",
        "X-Amz-Target:   Comprehend_20171127.BatchDetectSentiment  ",
        "X-EchoStream-Note: a   b \t c", NULL};
    es_aws_creds c;
    es_sigv4_input in =
        input("POST", "comprehend.us-east-1.amazonaws.com", "/", "", hdrs,
              "{\"TextList\":[\"good\"],\"LanguageCode\":"
              "\"en\"}",
              "us-east-1", "comprehend");

    (void)state;
    key(&c);
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251001/us-east-1/"
                "comprehend/aws4_request, SignedHeaders=content-type;host;"
                "x-amz-date;x-amz-target;x-echostream-note, Signature=bb287e4d"
                "b4dd9d55ce9660bdde095f92ff5773be2060476db672c4397caa1fe5");
}

static void test_aws_suite_get_vanilla(void **state)
{
    es_aws_creds c;
    es_sigv4_input in = input("GET", "example.amazonaws.com", "/", NULL, NULL,
                              NULL, "us-east-1", "service");

    (void)state;
    key(&c);
    in.now_s = 1440938160LL; /* 20150830T123600Z */
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                "service/aws4_request, SignedHeaders=host;x-amz-date, "
                "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9"
                "b8aae1d763fbf31");
}

static void test_dot_and_empty_segments_are_normalised(void **state)
{
    es_aws_creds c;
    es_sigv4_input in =
        input("GET", "example.amazonaws.com", "/a//b/./c/../d%2Fe/", NULL, NULL,
              NULL, "us-east-1", "execute-api");
    char *canon;

    (void)state;
    key(&c);
    expect_auth(&in, &c,
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251001/us-east-1/"
                "execute-api/aws4_request, SignedHeaders=host;x-amz-date, "
                "Signature=c63a7e0b4f666e3bfc5503427685a45543fa2888a432f604e"
                "cf77c30ba22f3a4");
    canon = es_sigv4_canonical_request(&in, &c, "20251001T120000Z");
    assert_non_null(canon);
    assert_memory_equal(canon, "GET\n/a/b/d%252Fe/\n", 18);
    free(canon);
}

static void test_bad_input_is_refused(void **state)
{
    static const char *const host_hdr[] = {"Host: evil", NULL};
    static const char *const crlf_hdr[] = {"X-A: b\r\nX-B: c", NULL};
    static const char *const no_colon[] = {"X-A b", NULL};
    static const char *const token_hdr[] = {"X-Amz-Security-Token: t", NULL};
    const char *const *bad[] = {host_hdr, crlf_hdr, no_colon, token_hdr};
    es_aws_creds c;
    es_sigv4_input in =
        input("GET", "h", "/", NULL, NULL, NULL, "us-east-1", "ses");
    char auth[1024], date[17], hash[65];

    (void)state;
    key(&c);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.headers = bad[i];
        assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash),
                         -1);
    }
    in.headers = NULL;
    in.query = "a=%zz";
    assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash),
                     -1);
    in.query = "a=%4";
    assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash),
                     -1);
    in.query = NULL;
    /* too small for the header value: refused, not cut */
    assert_int_equal(es_sigv4_sign(&in, &c, auth, 40, date, hash), -1);
    c.secret_access_key[0] = '\0';
    assert_int_equal(es_sigv4_sign(&in, &c, auth, sizeof(auth), date, hash),
                     -1);
}

static void test_escape(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(es_sigv4_escape("a:b/c%d~e f", 11, out, sizeof(out)), 19);
    assert_string_equal(out, "a%3Ab%2Fc%25d~e%20f");
    assert_int_equal(es_sigv4_escape("\xc3\xa9", 2, out, sizeof(out)), 6);
    assert_string_equal(out, "%C3%A9");
    assert_int_equal(es_sigv4_escape("::::", 4, out, 12), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bedrock_model_id_colon_is_escaped_twice),
        cmocka_unit_test(test_bedrock_signature_differs_from_signed_as_sent),
        cmocka_unit_test(test_query_is_sorted_and_escaped),
        cmocka_unit_test(test_session_token_is_signed),
        cmocka_unit_test(test_s3_path_as_sent_and_payload_hash_header),
        cmocka_unit_test(test_header_values_trimmed_and_names_lowered),
        cmocka_unit_test(test_aws_suite_get_vanilla),
        cmocka_unit_test(test_dot_and_empty_segments_are_normalised),
        cmocka_unit_test(test_bad_input_is_refused),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
