/*
 * es_redis_url_test.c - unit tests for lib/es_redis_url.c.
 *
 * Every accepted form is parsed into its fields; every rejected one must
 * fail with a message that says what was expected, because the message is
 * what an operator sees when ECHOSTREAM_REDIS is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "es_redis_url.h"

/* Parses s, expecting success. */
static void parse_ok(const char *s, es_redis_url *u)
{
    char err[256] = "";

    if (es_redis_url_parse(s, u, err, sizeof(err)) != 0) {
        fail_msg("rejected \"%s\": %s", s, err);
    }
}

/* Parses s, expecting failure with a message holding want. */
static void parse_fails(const char *s, const char *want)
{
    es_redis_url u;
    char err[256] = "";

    if (es_redis_url_parse(s, &u, err, sizeof(err)) == 0) {
        fail_msg("accepted \"%s\"", s);
    }
    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err, want);
    }
}

static void test_host_port_db_form(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://127.0.0.1:6380/3", &u);
    assert_int_equal(u.is_unix, 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.password, "");
}

static void test_port_and_db_default(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://localhost", &u);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    parse_ok("redis://localhost/", &u);
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    parse_ok("redis://localhost/15", &u);
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 15);
    parse_ok("redis://redis.internal:7000", &u);
    assert_string_equal(u.host, "redis.internal");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 0);
}

static void test_password_form(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://:p4ss:w@rd@10.0.0.1:6390/2", &u);
    assert_string_equal(u.password, "p4ss:w@rd");
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 2);
    parse_ok("redis://:@h", &u);
    assert_string_equal(u.password, "");
    assert_string_equal(u.host, "h");
}

static void test_port_range_edges(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://h:1", &u);
    assert_int_equal(u.port, 1);
    parse_ok("redis://h:65535", &u);
    assert_int_equal(u.port, 65535);
    parse_fails("redis://h:0", "port");
    parse_fails("redis://h:65536", "port");
    parse_fails("redis://h:", "port");
    parse_fails("redis://h:-1", "port");
    parse_fails("redis://h:80x", "port");
    parse_fails("redis://h:9999999999999", "port");
}

static void test_unix_socket_form(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("unix:///run/redis/redis.sock", &u);
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/run/redis/redis.sock");
    assert_int_equal(u.db, 0);
    parse_ok("unix:///tmp/r.sock?db=4", &u);
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.path, "/tmp/r.sock");
    assert_int_equal(u.db, 4);
    assert_string_equal(u.password, "");
}

static void test_unix_socket_with_password(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("unix://:s3cr@t/x@/var/run/r.sock?db=2", &u);
    assert_int_equal(u.is_unix, 1);
    assert_string_equal(u.password, "s3cr@t/x");
    assert_string_equal(u.path, "/var/run/r.sock");
    assert_int_equal(u.db, 2);
    parse_ok("unix://:@/r.sock", &u);
    assert_string_equal(u.password, "");
    assert_string_equal(u.path, "/r.sock");
    parse_fails("unix://pw@/r.sock", ":password@");
}

static void test_acl_user_form(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://es-enrich:p4ss:w@rd@10.0.0.1:6390/2", &u);
    assert_string_equal(u.user, "es-enrich");
    assert_string_equal(u.password, "p4ss:w@rd");
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 6390);
    assert_int_equal(u.db, 2);
    parse_ok("unix://es-ingest:s3cr@t/x@/run/redis/r.sock?db=1", &u);
    assert_string_equal(u.user, "es-ingest");
    assert_string_equal(u.password, "s3cr@t/x");
    assert_string_equal(u.path, "/run/redis/r.sock");
    assert_int_equal(u.db, 1);
    /* a nopass ACL user: the name alone, with an empty password */
    parse_ok("redis://es-alert:@h", &u);
    assert_string_equal(u.user, "es-alert");
    assert_string_equal(u.password, "");
    /* no user: the default user's password, as before ACLs */
    parse_ok("redis://:pw@h", &u);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "pw");
}

static void test_acl_user_errors(void **state)
{
    char longuser[120];

    (void)state;
    parse_fails("redis://user@h", ":password@");
    parse_fails("redis://us er:pw@h", "user name");
    parse_fails("redis://us\ter:pw@h", "user name");
    strcpy(longuser, "redis://");
    memset(longuser + 8, 'u', 70);
    strcpy(longuser + 78, ":pw@h");
    parse_fails(longuser, "user name too long");
}

static void test_error_message_never_holds_user_password(void **state)
{
    es_redis_url u;
    char err[256] = "";

    (void)state;
    assert_int_equal(es_redis_url_parse("redis://es-mirror:hunter2@h:0/0", &u,
                                        err, sizeof(err)),
                     -1);
    assert_null(strstr(err, "hunter2"));
}

static void test_unix_socket_errors(void **state)
{
    char longpath[300];

    (void)state;
    parse_fails("unix://relative.sock", "absolute");
    parse_fails("unix://", "absolute");
    parse_fails("unix://?db=1", "absolute");
    parse_fails("unix:///tmp/r.sock?db=", "?db=N");
    parse_fails("unix:///tmp/r.sock?db=x", "?db=N");
    parse_fails("unix:///tmp/r.sock?dbx=1", "?db=N");
    parse_fails("unix:///tmp/r.sock?db=1001", "?db=N");
    strcpy(longpath, "unix:///");
    memset(longpath + 8, 'p', 260);
    longpath[268] = '\0';
    parse_fails(longpath, "256");
}

static void test_unknown_scheme_is_rejected(void **state)
{
    (void)state;
    parse_fails("", "expected redis://");
    parse_fails("localhost:6379", "expected redis://");
    parse_fails("rediss://h:6379", "expected redis://");
    parse_fails("http://h:6379", "expected redis://");
    parse_fails("REDIS://h", "expected redis://");
}

static void test_host_errors(void **state)
{
    char longhost[300];

    (void)state;
    parse_fails("redis://", "host");
    parse_fails("redis:///0", "host");
    parse_fails("redis://:6379", "host");
    parse_fails("redis://:pw@", "host");
    strcpy(longhost, "redis://");
    memset(longhost + 8, 'h', 260);
    longhost[268] = '\0';
    parse_fails(longhost, "host");
}

static void test_password_errors(void **state)
{
    char longpw[300];

    (void)state;
    parse_fails("redis://secret@h", ":password@");
    strcpy(longpw, "redis://:");
    memset(longpw + 9, 'p', 200);
    strcpy(longpw + 209, "@h");
    parse_fails(longpw, "password too long");
}

static void test_db_errors(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis://h/1000", &u);
    assert_int_equal(u.db, 1000);
    parse_fails("redis://h/1001", "database");
    parse_fails("redis://h/x", "database");
    parse_fails("redis://h/1/2", "database");
    parse_fails("redis://h/-1", "database");
    parse_fails("redis://h:6379/0?x=1", "database");
}

static void test_error_message_never_holds_password(void **state)
{
    es_redis_url u;
    char err[256] = "";

    (void)state;
    assert_int_equal(
        es_redis_url_parse("redis://:hunter2@h:99999/0", &u, err, sizeof(err)),
        -1);
    assert_null(strstr(err, "hunter2"));
}

static void test_sentinel_form(void **state)
{
    es_redis_url u;

    (void)state;
    parse_ok("redis+sentinel://10.0.0.1:26380,s2.internal/mymaster/2", &u);
    assert_int_equal(u.nsentinels, 2);
    assert_string_equal(u.sentinel[0].host, "10.0.0.1");
    assert_int_equal(u.sentinel[0].port, 26380);
    assert_string_equal(u.sentinel[1].host, "s2.internal");
    assert_int_equal(u.sentinel[1].port, 26379);
    assert_string_equal(u.master, "mymaster");
    assert_int_equal(u.db, 2);
    assert_string_equal(u.host, "");
    assert_int_equal(u.is_unix, 0);

    parse_ok("redis+sentinel://s1/es-primary_1.a", &u);
    assert_int_equal(u.nsentinels, 1);
    assert_string_equal(u.master, "es-primary_1.a");
    assert_int_equal(u.db, 0);
    parse_ok("redis+sentinel://s1/m/", &u);
    assert_int_equal(u.db, 0);

    /* the credentials are the primary's; a password may hold , : @ */
    parse_ok("redis+sentinel://es-nginx:p@ss,w:rd@s1:1,s2:2/m/3", &u);
    assert_string_equal(u.user, "es-nginx");
    assert_string_equal(u.password, "p@ss,w:rd");
    assert_int_equal(u.nsentinels, 2);
    assert_int_equal(u.sentinel[1].port, 2);
    assert_int_equal(u.db, 3);
}

static void test_sentinel_errors(void **state)
{
    char many[400];

    (void)state;
    parse_fails("redis+sentinel://s1", "MASTERNAME");
    parse_fails("redis+sentinel://s1:26379", "MASTERNAME");
    parse_fails("redis+sentinel:///m", "host");
    parse_fails("redis+sentinel://s1,/m", "host");
    parse_fails("redis+sentinel://,s1/m", "host");
    parse_fails("redis+sentinel://s1,,s2/m", "host");
    parse_fails("redis+sentinel://s1:0/m", "port");
    parse_fails("redis+sentinel://s1:65536/m", "port");
    parse_fails("redis+sentinel://s1:x/m", "port");
    parse_fails("redis+sentinel://s1/", "master name");
    parse_fails("redis+sentinel://s1//0", "master name");
    parse_fails("redis+sentinel://s1/m y", "master name");
    parse_fails("redis+sentinel://s1/m%0a", "master name");
    parse_fails("redis+sentinel://s1/m\r\nFLUSHALL", "master name");
    parse_fails("redis+sentinel://s1/m/x", "database");
    parse_fails("redis+sentinel://s1/m/1/2", "database");
    parse_fails("redis+sentinel://s1/m/1001", "database");
    parse_fails("redis+sentinel://s 1/m", "host");
    parse_fails("redis+sentinel://s1?x/m", "host");
    parse_fails("redis+sentinel://a,b,c,d,e,f/m", "at most 5");
    parse_fails("redis+sentinel://user@s1/m", ":password@");
    parse_fails("redis+sentinel://s1/"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaa",
                "master name");
    /* many long hosts: each is bounded on its own */
    memset(many, 'h', sizeof(many) - 1);
    memcpy(many, "redis+sentinel://", 17);
    memcpy(many + sizeof(many) - 4, "/m", 3);
    parse_fails(many, "host");
}

static void test_sentinel_error_never_holds_password(void **state)
{
    es_redis_url u;
    char err[256] = "";

    (void)state;
    assert_int_equal(es_redis_url_parse("redis+sentinel://u:hunter2@s1:0/m", &u,
                                        err, sizeof(err)),
                     -1);
    assert_null(strstr(err, "hunter2"));
    assert_int_equal(es_redis_url_parse("redis+sentinel://u:hunter2@s1/m/x", &u,
                                        err, sizeof(err)),
                     -1);
    assert_null(strstr(err, "hunter2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_port_db_form),
        cmocka_unit_test(test_port_and_db_default),
        cmocka_unit_test(test_password_form),
        cmocka_unit_test(test_port_range_edges),
        cmocka_unit_test(test_unix_socket_form),
        cmocka_unit_test(test_unix_socket_with_password),
        cmocka_unit_test(test_acl_user_form),
        cmocka_unit_test(test_acl_user_errors),
        cmocka_unit_test(test_error_message_never_holds_user_password),
        cmocka_unit_test(test_unix_socket_errors),
        cmocka_unit_test(test_unknown_scheme_is_rejected),
        cmocka_unit_test(test_host_errors),
        cmocka_unit_test(test_password_errors),
        cmocka_unit_test(test_db_errors),
        cmocka_unit_test(test_error_message_never_holds_password),
        cmocka_unit_test(test_sentinel_form),
        cmocka_unit_test(test_sentinel_errors),
        cmocka_unit_test(test_sentinel_error_never_holds_password),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
