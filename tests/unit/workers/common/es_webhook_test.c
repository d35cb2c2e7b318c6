/*
 * es_webhook_test.c - unit tests for workers/common/es_webhook*.c.
 *
 * The address classifier gets a table of IPv4 and IPv6 addresses: every
 * refused class, the IPv6 forms that wrap an IPv4 address, the edges of
 * each block and public addresses on both sides of them. The URL check
 * and the signature (against a vector computed with Python's hmac) need
 * no network. es_webhook_post is only called here with destinations it
 * must refuse before connecting (literals and "localhost", which resolve
 * without DNS); the real exchanges are in
 * tests/integration/alert/webhook.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <jansson.h>
#include <sys/socket.h>

#include "es_webhook.h"

static const struct {
    const char *addr;
    const char *why; /* NULL: public, allowed */
} addrs[] = {
    /* IPv4 refused */
    {"127.0.0.1", "loopback"},
    {"127.255.255.254", "loopback"},
    {"10.0.0.1", "private"},
    {"10.255.255.255", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"192.168.1.1", "private"},
    {"169.254.169.254", "link-local"},
    {"169.254.0.1", "link-local"},
    {"100.64.0.1", "cgnat"},
    {"100.127.255.255", "cgnat"},
    {"0.0.0.0", "unspecified"},
    {"0.1.2.3", "unspecified"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"255.255.255.255", "broadcast"},
    {"240.0.0.1", "reserved"},
    {"192.0.0.170", "reserved"},
    {"192.88.99.1", "reserved"},
    {"192.0.2.1", "documentation"},
    {"198.51.100.7", "documentation"},
    {"203.0.113.9", "documentation"},
    {"198.18.0.1", "benchmarking"},
    {"198.19.255.255", "benchmarking"},
    /* IPv4 public, some just outside a refused block */
    {"8.8.8.8", NULL},
    {"1.1.1.1", NULL},
    {"93.184.216.34", NULL},
    {"9.255.255.255", NULL},
    {"11.0.0.1", NULL},
    {"172.15.255.255", NULL},
    {"172.32.0.1", NULL},
    {"192.167.255.255", NULL},
    {"192.169.0.1", NULL},
    {"100.63.255.255", NULL},
    {"100.128.0.1", NULL},
    {"169.253.255.255", NULL},
    {"198.20.0.1", NULL},
    {"223.255.255.255", NULL},
    /* IPv6 refused */
    {"::1", "loopback"},
    {"::", "unspecified"},
    {"::ffff:127.0.0.1", "ipv4-mapped loopback"},
    {"::ffff:10.0.0.1", "ipv4-mapped private"},
    {"::ffff:169.254.169.254", "ipv4-mapped link-local"},
    {"::ffff:0.0.0.0", "ipv4-mapped unspecified"},
    {"::ffff:100.64.1.1", "ipv4-mapped cgnat"},
    {"::ffff:255.255.255.255", "ipv4-mapped broadcast"},
    {"::127.0.0.1", "ipv4-compatible"},
    {"::8.8.8.8", "ipv4-compatible"},
    {"::ffff:0:127.0.0.1", "ipv4-translated loopback"},
    {"::ffff:0:192.168.0.1", "ipv4-translated private"},
    {"64:ff9b::127.0.0.1", "nat64 loopback"},
    {"64:ff9b::a9fe:a9fe", "nat64 link-local"},
    {"64:ff9b::10.1.1.1", "nat64 private"},
    {"64:ff9b:1::1", "reserved"},
    {"2002:7f00:1::1", "6to4 loopback"},
    {"2002:c0a8:101::1", "6to4 private"},
    {"2002:a9fe:a9fe::", "6to4 link-local"},
    {"fc00::1", "private"},
    {"fd00:ec2::254", "private"},
    {"fdff:ffff::1", "private"},
    {"fe80::1", "link-local"},
    {"febf:ffff::1", "link-local"},
    {"fec0::1", "private"},
    {"ff02::1", "multicast"},
    {"ff0e::1", "multicast"},
    {"2001::1", "teredo"},
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"},
    {"2001:db8::1", "documentation"},
    {"2001:2::1", "benchmarking"},
    {"2001:10::1", "reserved"},
    {"2001:1::1", "reserved"},
    {"3fff::1", "documentation"},
    {"100::1", "reserved"},
    {"4000::1", "reserved"},
    {"1::1", "reserved"},
    {"::2", "ipv4-compatible"},
    /* IPv6 public */
    {"2606:4700:4700::1111", NULL},
    {"2001:4860:4860::8888", NULL},
    {"2a00:1450:4001:80b::200e", NULL},
    {"2001:200::1", NULL},
    {"::ffff:8.8.8.8", NULL},
    {"64:ff9b::8.8.8.8", NULL},
    {"2002:808:808::1", NULL},
    {"3fff:1000::1", NULL},
};

static void test_address_classes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        unsigned char a[16];
        int v6 = strchr(addrs[i].addr, ':') != NULL;
        const char *why;

        assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, addrs[i].addr, a),
                         1);
        why = es_webhook_addr_class(v6 ? AF_INET6 : AF_INET, a);
        if (addrs[i].why == NULL && why != NULL) {
            fail_msg("%s refused as %s", addrs[i].addr, why);
        }
        if (addrs[i].why != NULL &&
            (why == NULL || strcmp(why, addrs[i].why) != 0)) {
            fail_msg("%s: want %s, got %s", addrs[i].addr, addrs[i].why,
                     why ? why : "public");
        }
    }
    assert_string_equal(es_webhook_addr_class(AF_UNIX, (unsigned char *)""),
                        "reserved");
}

static void test_url_check(void **state)
{
    static const struct {
        const char *url;
        int insecure;
        int ok;
    } cases[] = {
        {"https://hooks.slack.com/services/T0/B0/XyZ", 0, 0},
        {"https://example.com:8443/path?q=1#frag", 0, 0},
        {"https://[2001:db8::1]:443/x", 0, 0},
        {"https://127.0.0.1/", 0, 0}, /* the form is fine; the post refuses */
        {"http://example.com/", 1, 0},
        {"http://example.com/", 0, -1},
        {"ftp://example.com/", 1, -1},
        {"file:///etc/passwd", 1, -1},
        {"gopher://example.com/", 1, -1},
        {"https://", 0, -1},
        {"https:///path", 0, -1},
        {"https://user@example.com/", 0, -1},
        {"https://user:pw@example.com/", 0, -1},
        {"https://@example.com/", 0, -1},
        {"https://good.example\\@evil.example/", 0, -1},
        {"https://[fe80::1%25eth0]/", 0, -1},
        {"https://exa mple.com/", 0, -1},
        {"https://example.com/\r\nX: y", 0, -1},
        {"https://b\xc3\xbc"
         "cher.example/",
         0, -1},
        {"example.com/hook", 0, -1},
        {"", 0, -1},
    };
    char err[160];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = es_webhook_check_url(cases[i].url, cases[i].insecure, err,
                                      sizeof(err));

        if (rc != cases[i].ok) {
            fail_msg("%s: want %d, got %d (%s)", cases[i].url, cases[i].ok, rc,
                     err);
        }
        if (rc != 0) {
            assert_true(strncmp(err, "webhook: ", 9) == 0);
        }
    }
    assert_int_equal(es_webhook_check_url(NULL, 1, NULL, 0), -1);
}

static void test_url_length_limit(void **state)
{
    char url[ES_WEBHOOK_URL_MAX + 2];

    (void)state;
    strcpy(url, "https://example.com/");
    memset(url + 20, 'a', ES_WEBHOOK_URL_MAX - 20);
    url[ES_WEBHOOK_URL_MAX] = '\0';
    assert_int_equal(es_webhook_check_url(url, 0, NULL, 0), 0);
    url[ES_WEBHOOK_URL_MAX] = 'a';
    url[ES_WEBHOOK_URL_MAX + 1] = '\0';
    assert_int_equal(es_webhook_check_url(url, 0, NULL, 0), -1);
}

static void test_signature_matches_reference_hmac(void **state)
{
    char hex[65];

    (void)state;
    /* python3: hmac.new(b'whsec-test-0123', b'1700000000.{"a":1}',
       hashlib.sha256).hexdigest() */
    assert_int_equal(
        es_webhook_sign("whsec-test-0123", 1700000000, "{\"a\":1}", 7, hex), 0);
    assert_string_equal(
        hex,
        "6cca58632f0089e5bab28bc276303b0533b432f6b8f374e706ecc9d5ca96b4f2");
    assert_int_equal(es_webhook_sign("k", 0, "", 0, hex), 0);
    assert_string_equal(
        hex,
        "6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");
}

static void test_post_refuses_before_connecting(void **state)
{
    static const char *const urls[] = {
        "https://127.0.0.1:1/",
        "https://localhost:1/",
        "https://[::1]:1/",
        "https://10.0.0.1/",
        "https://169.254.169.254/",
        "https://[::ffff:127.0.0.1]:1/",
        "https://2130706433:1/",
        "https://0x7f.1:1/",
        "https://017700000001:1/",
        "https://[64:ff9b::7f00:1]:1/",
        "https://[2002:7f00:1::1]:1/",
        "https://0.0.0.0:1/",
        "https://[fd00:ec2::254]/",
        "http://8.8.8.8/",
    };
    es_webhook_config cfg = {0, 2000, 0, NULL};
    char err[200];
    long status = -5;

    (void)state;
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        int rc = es_webhook_post(&cfg, urls[i], "secret", "{}", 2, 1, &status,
                                 err, sizeof(err));

        if (rc != -1) {
            fail_msg("%s: want -1, got %d (%s)", urls[i], rc, err);
        }
        assert_int_equal(status, 0);
        if (strncmp(urls[i], "http:", 5) != 0 &&
            strstr(err, "destination refused") == NULL) {
            fail_msg("%s: %s", urls[i], err);
        }
    }
    /* no secret, no request */
    assert_int_equal(es_webhook_post(&cfg, "https://example.com/", "", "{}", 2,
                                     1, NULL, err, sizeof(err)),
                     -1);
    assert_int_equal(es_webhook_post(NULL, "https://example.com/", "s", "{}", 2,
                                     1, NULL, NULL, 0),
                     -1);
}

static void test_post_to_closed_port_is_retryable(void **state)
{
    es_webhook_config cfg = {1, 2000, 0, NULL};
    char err[200];
    long status = -5;

    (void)state;
    /* allow_insecure lets it reach loopback, where nothing listens */
    assert_int_equal(es_webhook_post(&cfg, "http://127.0.0.1:1/", "secret",
                                     "{}", 2, 1, &status, err, sizeof(err)),
                     1);
    assert_int_equal(status, 0);
}

static void test_slack_body_shape_and_escaping(void **state)
{
    const char *lines[] = {"Negative share 62% (baseline 21%)",
                           "<!channel> & <https://evil.example|click> now",
                           NULL, "bad \xff byte"};
    json_t *data = json_pack("{s:s}", "rule", "r1");
    es_webhook_card card = {"Alert: négatif ↑ on <topic>",  lines, 4,
                            "https://es.example/topics/t1", NULL,  data};
    json_error_t jerr;
    json_t *root, *blocks, *b;
    size_t len = 0;
    char *body;
    const char *text;

    (void)state;
    body = es_webhook_slack_body(&card, &len);
    assert_non_null(body);
    assert_int_equal(len, strlen(body));
    root = json_loads(body, 0, &jerr);
    assert_non_null(root);
    text = json_string_value(json_object_get(root, "text"));
    assert_non_null(text);
    assert_non_null(strstr(text, "Alert: négatif ↑ on &lt;topic&gt;\n"));
    assert_non_null(strstr(text, "&lt;!channel&gt; &amp; &lt;https://evil"));
    assert_null(strstr(text, "<!channel>"));
    blocks = json_object_get(root, "blocks");
    assert_true(json_is_array(blocks));
    assert_int_equal(json_array_size(blocks), 3);
    b = json_array_get(blocks, 0);
    assert_string_equal(json_string_value(json_object_get(b, "type")),
                        "header");
    /* plain_text is not parsed by Slack: no escaping there */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "text"), "text")),
        "Alert: négatif ↑ on <topic>");
    b = json_array_get(blocks, 1);
    assert_string_equal(json_string_value(json_object_get(b, "type")),
                        "section");
    text =
        json_string_value(json_object_get(json_object_get(b, "text"), "text"));
    assert_non_null(strstr(text, "&lt;!channel&gt;"));
    assert_non_null(strstr(text, "bad \xef\xbf\xbd byte"));
    b = json_array_get(blocks, 2);
    assert_string_equal(json_string_value(json_object_get(b, "type")),
                        "actions");
    b = json_array_get(json_object_get(b, "elements"), 0);
    assert_string_equal(json_string_value(json_object_get(b, "url")),
                        "https://es.example/topics/t1");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b, "text"), "text")),
        "Open in EchoStream");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "echostream"), "rule")),
                        "r1");
    json_decref(root);
    free(body);
    json_decref(data);
}

static void test_slack_body_limits(void **state)
{
    char title[100 * 6 + 1], line[4000];
    const char *lines[120];
    es_webhook_card card = {title, lines, 120, NULL, NULL, NULL};
    json_t *root, *blocks;
    char *body;
    const char *h;
    size_t chars = 0;

    (void)state;
    title[0] = '\0';
    for (int i = 0; i < 100; i++) {
        strcat(title, "東京"); /* 200 characters */
    }
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    for (int i = 0; i < 120; i++) {
        lines[i] = line;
    }
    body = es_webhook_slack_body(&card, NULL);
    assert_non_null(body);
    root = json_loads(body, 0, NULL);
    assert_non_null(root);
    blocks = json_object_get(root, "blocks");
    assert_true(json_array_size(blocks) <= 50);
    h = json_string_value(json_object_get(
        json_object_get(json_array_get(blocks, 0), "text"), "text"));
    for (const char *p = h; *p; p++) {
        chars += ((unsigned char)*p & 0xc0) != 0x80;
    }
    assert_int_equal(chars, 150);
    for (size_t i = 1; i < json_array_size(blocks); i++) {
        const char *t = json_string_value(json_object_get(
            json_object_get(json_array_get(blocks, i), "text"), "text"));
        assert_true(strlen(t) <= 3000 * 3);
    }
    assert_true(strlen(json_string_value(json_object_get(root, "text"))) <=
                3000 * 3);
    json_decref(root);
    free(body);

    card.link_url = "javascript:alert(1)";
    assert_null(es_webhook_slack_body(&card, NULL));
    card.link_url = NULL;
    card.title = NULL;
    assert_null(es_webhook_slack_body(&card, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_classes),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_url_length_limit),
        cmocka_unit_test(test_signature_matches_reference_hmac),
        cmocka_unit_test(test_post_refuses_before_connecting),
        cmocka_unit_test(test_post_to_closed_port_is_retryable),
        cmocka_unit_test(test_slack_body_shape_and_escaping),
        cmocka_unit_test(test_slack_body_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
