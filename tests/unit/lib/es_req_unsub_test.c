/*
 * es_req_unsub_test.c - unit tests for lib/es_req_unsub.c, the query and
 * body of /unsubscribe.
 *
 * Every part of the link becomes part of a key or of the signed text, so
 * hostile values are tried on each: other alphabets, encodings that
 * decode to them, NULs, lengths just over the limit, duplicates. A
 * malformed signature must be answered exactly as a wrong one (403).
 */
#include "req_testkit.h"

#include "es_req_unsub.h"

#define SIG "73776f9068be28c7e09dc0e7f347f023a4e6f395476ba1f2c6821d98da94679d"
#define SUB "7d6e3a52-91c4-4b0e-a7c1-2f6b8d9e0a13"

static int rd(const char *qs, es_req_unsub_args *a, es_req_err *err)
{
    memset(err, 0, sizeof(*err));
    return es_req_unsub_read(QS(qs), a, err);
}

static void bad(const char *qs, const char *field)
{
    es_req_unsub_args a;
    es_req_err err;

    if (rd(qs, &a, &err) != -1) {
        fail_msg("accepted %s", qs);
    }
    if (strcmp(field, "sig") == 0) {
        req_assert_err(&err, 403, "invalid_signature", "sig");
    } else {
        req_assert_err(&err, 400, "bad_request", field);
    }
}

static void test_unsub_reads_the_link(void **state)
{
    es_req_unsub_args a;
    es_req_err err;

    (void)state;
    assert_int_equal(rd("t=acme&s=" SUB "&l=digest&sig=" SIG, &a, &err), 0);
    assert_string_equal(a.tenant, "acme");
    assert_string_equal(a.sub, SUB);
    assert_string_equal(a.list, "digest");
    assert_string_equal(a.member, "digest");
    assert_string_equal(a.sig, SIG);

    /* any order; a sub's '@' percent-encoded; the alerts list */
    assert_int_equal(
        rd("sig=" SIG "&l=alerts&s=ana%40example.com&t=u0a1b2c3", &a, &err), 0);
    assert_string_equal(a.sub, "ana@example.com");
    assert_string_equal(a.list, "alerts");
    assert_string_equal(a.member, "alert_email");
}

static void test_unsub_arguments_in_order(void **state)
{
    (void)state;
    bad("", "t");
    bad("s=" SUB "&l=digest&sig=" SIG, "t");
    bad("t=acme&l=digest&sig=" SIG, "s");
    bad("t=acme&s=" SUB "&sig=" SIG, "l");
    bad("t=acme&s=" SUB "&l=digest", "sig");
    /* t is checked before everything else */
    bad("t=a%7Bb&s=%00&l=x&sig=y", "t");
}

static void test_unsub_hostile_tenants_and_subs(void **state)
{
    static const char *const tenants[] = {
        "t=",      "t=%7Bt:x%7D",   "t=a%20b",     "t=a.b",
        "t=a%00b", "t=..%2F..%2Fx", "t=caf%C3%A9", "t=%3Cscript%3E",
        "t=a%0Ab", "t=a*",          "t=acme%"};
    static const char *const subs[] = {
        "s=",      "s=a%7Db",   "s=a%20b", "s=a%2Fb", "s=a%00b",
        "s=a%0Ab", "s=%3Cb%3E", "s=a%22b", "s=a%26b", "s=a,b"};
    char qs[1024];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(tenants) / sizeof(tenants[0]); i++) {
        snprintf(qs, sizeof(qs), "%s&s=" SUB "&l=digest&sig=" SIG, tenants[i]);
        bad(qs, "t");
    }
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        snprintf(qs, sizeof(qs), "t=acme&%s&l=digest&sig=" SIG, subs[i]);
        bad(qs, "s");
    }

    /* 64 and 128 pass, 65 and 129 do not */
    memset(qs, 0, sizeof(qs));
    strcpy(qs, "t=");
    memset(qs + 2, 'a', 64);
    strcat(qs, "&s=x&l=digest&sig=" SIG);
    {
        es_req_unsub_args a;
        es_req_err err;

        assert_int_equal(rd(qs, &a, &err), 0);
        memset(qs, 0, sizeof(qs));
        strcpy(qs, "t=");
        memset(qs + 2, 'a', 65);
        strcat(qs, "&s=x&l=digest&sig=" SIG);
        bad(qs, "t");

        memset(qs, 0, sizeof(qs));
        strcpy(qs, "t=x&s=");
        memset(qs + 6, 'b', 128);
        strcat(qs, "&l=digest&sig=" SIG);
        assert_int_equal(rd(qs, &a, &err), 0);
        memset(qs, 0, sizeof(qs));
        strcpy(qs, "t=x&s=");
        memset(qs + 6, 'b', 129);
        strcat(qs, "&l=digest&sig=" SIG);
        bad(qs, "s");
    }
}

static void test_unsub_lists(void **state)
{
    (void)state;
    bad("t=acme&s=" SUB "&l=Digest&sig=" SIG, "l");
    bad("t=acme&s=" SUB "&l=alert&sig=" SIG, "l");
    bad("t=acme&s=" SUB "&l=digest%00&sig=" SIG, "l");
    bad("t=acme&s=" SUB "&l=&sig=" SIG, "l");
    bad("t=acme&s=" SUB "&l=all&sig=" SIG, "l");
}

static void test_unsub_signature_shapes_are_403(void **state)
{
    (void)state;
    bad("t=acme&s=" SUB "&l=digest&sig=", "sig");
    bad("t=acme&s=" SUB "&l=digest&sig=" SIG "0", "sig");
    bad("t=acme&s=" SUB "&l=digest&sig=73776F9068BE28C7E09DC0E7F347F023A4E6F"
        "395476BA1F2C6821D98DA94679D",
        "sig");
    bad("t=acme&s=" SUB "&l=digest&sig=z3776f9068be28c7e09dc0e7f347f023a4e6f3"
        "95476ba1f2c6821d98da94679d",
        "sig");
    bad("t=acme&s=" SUB "&l=digest&sig=%00", "sig");
}

static void test_unsub_body(void **state)
{
    static const char form[] = "application/x-www-form-urlencoded";
    static const char one[] = "List-Unsubscribe=One-Click";
    es_req_err err;

    (void)state;
    /* empty, with or without a type */
    assert_int_equal(es_req_unsub_body(NULL, 0, "", 0, &err), 0);
    assert_int_equal(es_req_unsub_body(QS(form), "", 0, &err), 0);
    /* RFC 8058's body, with a charset, among other fields, with a CRLF */
    assert_int_equal(es_req_unsub_body(QS(form), QS(one), &err), 0);
    assert_int_equal(es_req_unsub_body(QS("Application/X-WWW-Form-Urlencoded; "
                                          "charset=utf-8"),
                                       QS(one), &err),
                     0);
    assert_int_equal(es_req_unsub_body(QS(form), QS("a=b"), &err), -1);
    assert_int_equal(
        es_req_unsub_body(QS(form), QS("x=1&List-Unsubscribe=One-Click"), &err),
        0);
    assert_int_equal(
        es_req_unsub_body(QS(form), QS("List-Unsubscribe=One-Click\r\n"), &err),
        0);

    /* anything else */
    assert_int_equal(
        es_req_unsub_body(QS(form), QS("List-Unsubscribe=no"), &err), -1);
    req_assert_err(&err, 400, "bad_request", "List-Unsubscribe");
    assert_int_equal(
        es_req_unsub_body(QS(form), QS("XList-Unsubscribe=One-Click"), &err),
        -1);
    assert_int_equal(
        es_req_unsub_body(QS(form), QS("List-Unsubscribe=One-ClickX"), &err),
        -1);
    assert_int_equal(es_req_unsub_body(QS("application/json"), QS("{}"), &err),
                     -1);
    req_assert_err(&err, 415, "unsupported_media_type", NULL);
    assert_int_equal(es_req_unsub_body(NULL, 0, QS(one), &err), -1);
    assert_int_equal(es_req_unsub_body(QS("application/x-www-form-urlencodedx"),
                                       QS(one), &err),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsub_reads_the_link),
        cmocka_unit_test(test_unsub_arguments_in_order),
        cmocka_unit_test(test_unsub_hostile_tenants_and_subs),
        cmocka_unit_test(test_unsub_lists),
        cmocka_unit_test(test_unsub_signature_shapes_are_403),
        cmocka_unit_test(test_unsub_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
