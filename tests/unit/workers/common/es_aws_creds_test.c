/*
 * es_aws_creds_test.c - unit tests for workers/common/es_aws_creds.c.
 *
 * The parsers get text directly; the chain is exercised through its
 * environment and file sources only (IMDS needs a server: the integration
 * test of the mirror serves one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "es_aws_creds.h"

static const char ini[] = "# comment line\n"
                          "[default]\n"
                          "aws_access_key_id = AKIADEFAULT\n"
                          "aws_secret_access_key = defaultsecret\n"
                          "\n"
                          "; another comment\n"
                          "[ team ]\r\n"
                          "  AWS_ACCESS_KEY_ID=AKIATEAM  \r\n"
                          "aws_secret_access_key\t=\tteam/secret+x=\r\n"
                          "aws_session_token = tok/en+==\r\n"
                          "region = eu-west-1\r\n"
                          "[profile cfgstyle]\n"
                          "aws_access_key_id = AKIACFG\n"
                          "aws_secret_access_key = cfgsecret\n"
                          "[broken]\n"
                          "aws_access_key_id = AKIABROKEN\n";

static void test_ini_reads_default_profile(void **state)
{
    es_aws_creds c;
    char err[128];

    (void)state;
    assert_int_equal(es_aws_parse_credentials_file(ini, strlen(ini), "default",
                                                   &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.access_key_id, "AKIADEFAULT");
    assert_string_equal(c.secret_access_key, "defaultsecret");
    assert_string_equal(c.session_token, "");
    assert_string_equal(c.source, "file:default");
    assert_int_equal(c.expires_ms, 0);
}

static void test_ini_named_section_trims_and_keeps_token(void **state)
{
    es_aws_creds c;
    char err[128];

    (void)state;
    assert_int_equal(es_aws_parse_credentials_file(ini, strlen(ini), "team", &c,
                                                   err, sizeof(err)),
                     0);
    assert_string_equal(c.access_key_id, "AKIATEAM");
    assert_string_equal(c.secret_access_key, "team/secret+x=");
    assert_string_equal(c.session_token, "tok/en+==");
}

static void test_ini_accepts_profile_prefix(void **state)
{
    es_aws_creds c;
    char err[128];

    (void)state;
    assert_int_equal(es_aws_parse_credentials_file(ini, strlen(ini), "cfgstyle",
                                                   &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.access_key_id, "AKIACFG");
}

static void test_ini_missing_profile_fails_without_secrets(void **state)
{
    es_aws_creds c;
    char err[128];

    (void)state;
    assert_int_equal(es_aws_parse_credentials_file(ini, strlen(ini), "nope", &c,
                                                   err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "profile not found"));
    assert_int_equal(es_aws_parse_credentials_file(ini, strlen(ini), "broken",
                                                   &c, err, sizeof(err)),
                     -1);
    assert_null(strstr(err, "AKIA"));
    assert_string_equal(c.access_key_id, "");
}

static void test_ini_does_not_read_past_length(void **state)
{
    const char text[] = "[default]\naws_access_key_id = AKIAX\n"
                        "aws_secret_access_key = abcdef";
    es_aws_creds c;
    char err[128];

    (void)state;
    /* the length stops inside the secret: only "abc" is read */
    assert_int_equal(es_aws_parse_credentials_file(text, strlen(text) - 3,
                                                   "default", &c, err,
                                                   sizeof(err)),
                     0);
    assert_string_equal(c.secret_access_key, "abc");
}

static void test_imds_json_parses_expiration(void **state)
{
    const char doc[] = "{\"Code\":\"Success\",\"LastUpdated\":"
                       "\"2026-11-25T13:00:00Z\",\"Type\":\"AWS-HMAC\","
                       "\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":"
                       "\"s3cr3t\",\"Token\":\"tok\",\"Expiration\":"
                       "\"2026-11-25T19:27:18Z\"}";
    es_aws_creds c;
    char err[128];

    (void)state;
    assert_int_equal(
        es_aws_parse_imds_json(doc, strlen(doc), &c, err, sizeof(err)), 0);
    assert_string_equal(c.access_key_id, "ASIAIMDS");
    assert_string_equal(c.secret_access_key, "s3cr3t");
    assert_string_equal(c.session_token, "tok");
    assert_int_equal(c.expires_ms, 1795634838000LL);
}

static void test_imds_json_rejects_failures_and_gaps(void **state)
{
    const char *bad[] = {
        "not json",
        "[]",
        "{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
        "\"S\",\"Token\":\"T\",\"Expiration\":\"2026-11-25T19:27:18Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":"
        "\"2026-11-25T19:27:18Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
        "\"Expiration\":\"tomorrow\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\",\"Token\":\"T\","
        "\"Expiration\":\"2026-11-25T19:27:18Z\"}",
    };
    es_aws_creds c;
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(es_aws_parse_imds_json(bad[i], strlen(bad[i]), &c, err,
                                                sizeof(err)),
                         -1);
        assert_string_equal(c.secret_access_key, "");
    }
}

static void test_iso8601_variants(void **state)
{
    long long ms;

    (void)state;
    assert_int_equal(es_aws_parse_iso8601("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(es_aws_parse_iso8601("2026-11-25T19:27:18.123Z", &ms), 0);
    assert_int_equal(ms, 1795634838000LL);
    assert_int_equal(es_aws_parse_iso8601("2026-11-25T19:27:18", &ms), -1);
    assert_int_equal(es_aws_parse_iso8601("2026-13-25T19:27:18Z", &ms), -1);
    assert_int_equal(es_aws_parse_iso8601("", &ms), -1);
}

static void test_stale_within_refresh_margin(void **state)
{
    es_aws_creds c;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(es_aws_creds_stale(&c, 1000), 0); /* never expire */
    c.expires_ms = 100LL * 60 * 1000;
    assert_int_equal(es_aws_creds_stale(&c, 0), 0);
    assert_int_equal(es_aws_creds_stale(&c, 89LL * 60 * 1000), 0);
    assert_int_equal(es_aws_creds_stale(&c, 91LL * 60 * 1000), 1);
}

static void test_chain_prefers_env_then_file(void **state)
{
    char path[] = "/tmp/es_aws_creds_testXXXXXX";
    int fd = mkstemp(path);
    es_aws_chain_opts o = {"team", "http://127.0.0.1:1", 0, 100};
    es_aws_chain *chain;
    const es_aws_creds *c;
    char err[256];

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ini, strlen(ini)), (long)strlen(ini));
    close(fd);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    unsetenv("AWS_SESSION_TOKEN");

    chain = es_aws_chain_new(&o);
    assert_non_null(chain);
    c = es_aws_chain_get(chain, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->source, "env");
    assert_string_equal(c->access_key_id, "AKIAENV");

    /* held until invalidated, then the chain is walked again */
    unsetenv("AWS_ACCESS_KEY_ID");
    c = es_aws_chain_get(chain, err, sizeof(err));
    assert_string_equal(c->source, "env");
    es_aws_chain_invalidate(chain);
    c = es_aws_chain_get(chain, err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->source, "file:team");
    assert_string_equal(c->session_token, "tok/en+==");
    es_aws_chain_free(chain);

    /* no profile configured: AWS_PROFILE, then "default" */
    o.profile = "";
    setenv("AWS_PROFILE", "cfgstyle", 1);
    chain = es_aws_chain_new(&o);
    c = es_aws_chain_get(chain, err, sizeof(err));
    assert_string_equal(c->source, "file:cfgstyle");
    es_aws_chain_free(chain);
    unsetenv("AWS_PROFILE");
    chain = es_aws_chain_new(&o);
    c = es_aws_chain_get(chain, err, sizeof(err));
    assert_string_equal(c->source, "file:default");
    es_aws_chain_free(chain);

    /* nothing anywhere (IMDS disabled): NULL with a reason */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    chain = es_aws_chain_new(&o);
    assert_null(es_aws_chain_get(chain, err, sizeof(err)));
    assert_non_null(strstr(err, "no AWS credentials"));
    es_aws_chain_free(chain);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_reads_default_profile),
        cmocka_unit_test(test_ini_named_section_trims_and_keeps_token),
        cmocka_unit_test(test_ini_accepts_profile_prefix),
        cmocka_unit_test(test_ini_missing_profile_fails_without_secrets),
        cmocka_unit_test(test_ini_does_not_read_past_length),
        cmocka_unit_test(test_imds_json_parses_expiration),
        cmocka_unit_test(test_imds_json_rejects_failures_and_gaps),
        cmocka_unit_test(test_iso8601_variants),
        cmocka_unit_test(test_stale_within_refresh_margin),
        cmocka_unit_test(test_chain_prefers_env_then_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
