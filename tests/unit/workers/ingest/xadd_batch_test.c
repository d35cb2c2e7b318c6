/*
 * xadd_batch_test.c - a comment's XADD in wire format, byte for byte as
 * Redis expects it (and as hiredis would have written it), for a comment
 * and a deletion event; items point at their own commands; binary text
 * (CR, LF, NUL-free repaired bytes) travels length-prefixed, unescaped.
 * And the reply reader: every kind of reply, also when the bytes arrive
 * one at a time, and garbage or a closed socket reported, not crashed on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hiredis.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resp.h"
#include "xadd_batch.h"

#define SV(text) ((es_strv){(text), sizeof(text) - 1})

/* the command hiredis formats for the same arguments */
static char *hiredis_form(const es_entry *e, int *len)
{
    const char *argv[5 + 2 * ES_ENTRY_MAX_FIELDS];
    size_t lens[5 + 2 * ES_ENTRY_MAX_FIELDS];
    int argc = 0;
    char *cmd;

    argv[argc] = "XADD";
    lens[argc++] = 4;
    argv[argc] = "es:{ingest}:comments";
    lens[argc] = strlen(argv[argc]);
    argc++;
    argv[argc] = "*";
    lens[argc++] = 1;
    argv[argc] = "type";
    lens[argc++] = 4;
    argv[argc] = e->deleted ? "delete" : "comment";
    lens[argc] = strlen(argv[argc]);
    argc++;
    for (int i = 0; i < e->nfields; i++) {
        argv[argc] = e->f[i].name;
        lens[argc++] = e->f[i].name_len;
        argv[argc] = e->f[i].value;
        lens[argc++] = e->f[i].len;
    }
    *len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    return cmd;
}

static void test_commands_match_hiredis_byte_for_byte(void **state)
{
    es_xbatch b = {0};
    es_entry e = {0};
    es_comment c = {0};
    const char *const bodies[] = {"line one\r\nline two", "[deleted]",
                                  "bad \xff byte", ""};

    (void)state;
    c.id = SV("abc123");
    c.subreddit = SV("Rust");
    c.author = SV("bob");
    c.created_utc = 1672531200;
    c.score = 3;
    c.source = "backfill";
    for (int i = 0; i < 4; i++) {
        c.body.s = bodies[i];
        c.body.n = strlen(bodies[i]);
        assert_null(es_entry_build(&e, &c));
        int len;
        char *want = hiredis_form(&e, &len);
        assert_int_equal(es_xbatch_add(&b, &e), 0);
        assert_int_equal(b.n, i + 1);
        assert_int_equal(b.items[i].len, (size_t)len);
        assert_memory_equal(b.cmds.p + b.items[i].off, want, (size_t)len);
        assert_int_equal(b.items[i].deleted, i == 1);
        assert_int_equal(b.items[i].id_num, 623698779); /* base-36 abc123 */
        redisFreeCommand(want);
    }
    /* back to back: the batch is the commands in order */
    assert_int_equal(b.items[1].off, b.items[0].len);
    assert_int_equal(es_xbatch_bytes(&b), b.items[3].off + b.items[3].len);
    es_xbatch_clear(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(es_xbatch_bytes(&b), 0);
    es_xbatch_free(&b);
    es_entry_cleanup(&e);
}

static void test_small_commands(void **state)
{
    es_resp r = {0};
    const char *const argv[] = {"WATCH", "k1", "k2"};
    const char want[] = "*3\r\n$5\r\nWATCH\r\n$2\r\nk1\r\n$2\r\nk2\r\n"
                        "*2\r\n$4\r\nECHO\r\n$20\r\n18446744073709551615\r\n";

    (void)state;
    assert_int_equal(es_resp_cmd(&r, 3, argv), 0);
    assert_int_equal(es_resp_reserve(&r, 2, 24), 0);
    es_resp_argc(&r, 2);
    es_resp_arg_str(&r, "ECHO");
    es_resp_arg_ull(&r, 18446744073709551615ULL);
    assert_int_equal(r.len, sizeof(want) - 1);
    assert_memory_equal(r.p, want, r.len);
    es_resp_free(&r);
}

typedef struct {
    int fd;
    const char *bytes;
    size_t n;
} trickle;

/* writes the bytes one at a time, then closes */
static void *trickle_main(void *arg)
{
    trickle *t = arg;

    for (size_t i = 0; i < t->n; i++) {
        if (write(t->fd, t->bytes + i, 1) != 1) {
            break;
        }
    }
    close(t->fd);
    return NULL;
}

static const char replies[] =
    "+OK\r\n+QUEUED\r\n-ERR no such thing\r\n:42\r\n:-7\r\n"
    "$-1\r\n*-1\r\n*3\r\n$5\r\n1-0\r\n\r\n$0\r\n\r\n$3\r\n\r\n\x00\r\n";

static void read_all(int fd)
{
    es_resp_in in = {0};
    const char *s, *bulk;
    size_t n;
    long long v;
    char type;

    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(type, '+');
    assert_memory_equal(s, "OK", 2);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(type, '-');
    assert_int_equal(n, strlen("ERR no such thing"));
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_num(s, n, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_num(s, n, &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(type, '$');
    assert_int_equal(es_resp_in_num(s, n, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(type, '*');
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_num(s, n, &v), 0);
    assert_int_equal(v, 3);
    /* bulk strings: with CR LF inside, empty, binary */
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_bulk(&in, fd, 5, &bulk), 0);
    assert_memory_equal(bulk, "1-0\r\n", 5);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_bulk(&in, fd, 0, &bulk), 0);
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), 0);
    assert_int_equal(es_resp_in_bulk(&in, fd, 3, &bulk), 0);
    assert_memory_equal(bulk, "\r\n\x00", 3);
    assert_false(es_resp_in_pending(&in));
    /* the peer closed: an error, not a hang or a crash */
    assert_int_equal(es_resp_in_line(&in, fd, &type, &s, &n), -1);
    es_resp_in_free(&in);
}

static void test_replies_whole_and_byte_by_byte(void **state)
{
    int sv[2];
    pthread_t th;
    trickle t;

    (void)state;
    /* all at once */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], replies, sizeof(replies) - 1),
                     (ssize_t)(sizeof(replies) - 1));
    close(sv[1]);
    read_all(sv[0]);
    close(sv[0]);
    /* one byte at a time */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    t = (trickle){sv[1], replies, sizeof(replies) - 1};
    assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
    read_all(sv[0]);
    pthread_join(th, NULL);
    close(sv[0]);
}

/* the QUEUED replies of a batch are waited for in one go */
static void test_waiting_for_a_known_amount(void **state)
{
    static const char queued[] = "+OK\r\n+QUEUED\r\n+QUEUED\r\n";
    es_resp_in in = {0};
    const char *s;
    size_t n;
    char type;
    int sv[2];
    pthread_t th;
    trickle t;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    t = (trickle){sv[1], queued, sizeof(queued) - 1};
    assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
    assert_int_equal(es_resp_in_wait(&in, sv[0], sizeof(queued) - 1), 0);
    assert_true(es_resp_in_pending(&in));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(es_resp_in_line(&in, sv[0], &type, &s, &n), 0);
        assert_int_equal(type, '+');
    }
    assert_false(es_resp_in_pending(&in));
    pthread_join(th, NULL);
    /* more than ever comes: the closed socket is an error, not a hang */
    assert_int_equal(es_resp_in_wait(&in, sv[0], 10), -1);
    close(sv[0]);
    es_resp_in_free(&in);
}

static void test_garbage_replies_are_errors(void **state)
{
    static const char *const bad[] = {"?what\r\n", "+no cr\n", "\r\n",
                                      "$3\r\nabcde"};
    es_resp_in in = {0};
    const char *s, *bulk;
    size_t n;
    long long v;
    char type;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        assert_int_equal(write(sv[1], bad[i], strlen(bad[i])),
                         (ssize_t)strlen(bad[i]));
        close(sv[1]);
        es_resp_in_reset(&in);
        if (i == 3) {
            assert_int_equal(es_resp_in_line(&in, sv[0], &type, &s, &n), 0);
            assert_int_equal(es_resp_in_bulk(&in, sv[0], 3, &bulk), -1);
        } else {
            assert_int_equal(es_resp_in_line(&in, sv[0], &type, &s, &n), -1);
        }
        close(sv[0]);
    }
    assert_int_equal(es_resp_in_num("12x", 3, &v), -1);
    assert_int_equal(es_resp_in_num("", 0, &v), -1);
    assert_int_equal(es_resp_in_num("-", 1, &v), -1);
    es_resp_in_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_match_hiredis_byte_for_byte),
        cmocka_unit_test(test_small_commands),
        cmocka_unit_test(test_replies_whole_and_byte_by_byte),
        cmocka_unit_test(test_waiting_for_a_known_amount),
        cmocka_unit_test(test_garbage_replies_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
