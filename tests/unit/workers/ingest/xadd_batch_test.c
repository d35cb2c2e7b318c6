/*
 * xadd_batch_test.c - a comment's XADD in wire format, byte for byte as
 * Redis expects it (and as hiredis would have written it), for a comment
 * and a deletion event; items point at their own commands; binary text
 * (CR, LF, NUL-free repaired bytes) travels length-prefixed, unescaped.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_match_hiredis_byte_for_byte),
        cmocka_unit_test(test_small_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
