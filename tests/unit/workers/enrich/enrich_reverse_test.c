/*
 * enrich_reverse_test.c - unit tests for how the enrich worker computes a
 * deletion: reading a stored record back (stored.c), the reversal of what
 * it added (contrib.c, the code a new comment's contribution comes from)
 * and the deletion's arguments in a tenant's call (deletion.c,
 * aggregate.c).
 *
 * The property that matters is that a deletion takes out exactly what the
 * creation put in, so the reversal is compared with the creation key by
 * key and slot by slot, from a record (its tenant and public parts)
 * written by the worker's own writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"
#include "contrib.h"
#include "record.h"
#include "stored.h"
#include "reply_testkit.h"

/* 2024-11-25 14:01:01.250 UTC */
#define CREATED_MS 1732543261250LL
#define PREFIX     "es:{t:acme}:"
#define HOUR       "2024112514"

/* One tenant "acme" with topics rust (0) and perf (1). */
typedef struct {
    es_enrich_tenant tenant;
    es_enrich_topic topics[2];
    es_topic_set ts;
} fixture;

static void setup_set(fixture *f)
{
    memset(f, 0, sizeof(*f));
    strcpy(f->tenant.id, "acme");
    strcpy(f->tenant.prefix, PREFIX);
    f->tenant.retention_s = 30 * 86400;
    strcpy(f->topics[0].id, "rust");
    strcpy(f->topics[1].id, "perf");
    f->ts.tenants = &f->tenant;
    f->ts.ntenants = 1;
    f->ts.topics = f->topics;
    f->ts.ntopics = 2;
}

static void setup_entry(es_enrich_entry *en, const char *id, long long ms)
{
    memset(en, 0, sizeof(*en));
    strcpy(en->id, id);
    strcpy(en->subreddit, "rust");
    en->author = (es_strv){"alice", 5};
    en->body = (es_strv){"the borrow checker", 18};
    en->created_ms = ms;
    es_enrich_entry_set_time(en, ms);
}

static void setup_terms(es_terms *tm)
{
    memset(tm, 0, sizeof(*tm));
    tm->term[0] = "borrow";
    tm->len[0] = 6;
    tm->term[1] = "checker";
    tm->len[1] = 7;
    tm->n = 2;
}

static void test_stored_parse_reads_back_what_the_writer_writes(void **state)
{
    fixture f;
    es_enrich_pair pairs[2] = {{0, 0, 0, 0}, {0, 0, 1, 0}};
    es_enrich_entry en;
    es_sentiment st = {0.3, 0.5, 0.2, -0.4404, ES_LABEL_NEGATIVE};
    es_jsonw w = {0}, pw = {0};
    es_stored_record r = {0};
    es_contrib c;

    (void)state;
    setup_set(&f);
    setup_entry(&en, "k2x9q1", CREATED_MS);
    es_record_tenant(&w, &f.ts, &en, &st, "vader", -4404, pairs, 0, 2);
    es_record_public(&pw, &en, &st);
    assert_int_equal(es_stored_parse(&r, w.buf, w.len, pw.buf, pw.len, HOUR),
                     ES_STORED_LIVE);
    es_stored_contrib(&r, "k2x9q1", &c);
    assert_int_equal((int)c.ntopics, 2);
    assert_string_equal(c.topics[0], "rust");
    assert_string_equal(c.topics[1], "perf");
    assert_int_equal(c.label, ES_LABEL_NEGATIVE);
    assert_int_equal(c.cs, -4404);
    assert_int_equal(c.created_ms, CREATED_MS);
    assert_string_equal(c.t, "202411251401");
    assert_int_equal(c.month_start, 1730419200LL);
    /* the terms of the body "the borrow checker", as at creation */
    assert_int_equal((int)c.nterms, 2);
    assert_memory_equal(c.terms[1], "checker", 7);
    assert_int_equal((int)c.term_len[1], 7);
    assert_string_equal(c.id, "k2x9q1");

    /* Comprehend's sentiment comes from the tenant part */
    st.label = ES_LABEL_POSITIVE;
    es_record_tenant(&w, &f.ts, &en, &st, "comprehend", 1234, pairs, 1, 2);
    st.label = ES_LABEL_NEGATIVE;
    es_record_public(&pw, &en, &st);
    assert_int_equal(es_stored_parse(&r, w.buf, w.len, pw.buf, pw.len, HOUR),
                     ES_STORED_LIVE);
    assert_int_equal(r.c.label, ES_LABEL_POSITIVE);
    assert_int_equal(r.c.cs, 1234);
    assert_int_equal((int)r.c.ntopics, 1);
    es_stored_record_free(&r);
    es_jsonw_free(&w);
    es_jsonw_free(&pw);
}

static void test_stored_parse_trusts_nothing(void **state)
{
    /* tenant parts, each with a good public part */
    static const char *const unreadable[] = {
        "",
        "rust",
        "rust\x1fv",
        "a b\x1fv\x1f"
        "0",
        "rust,\x1fv\x1f"
        "0",
        "\x1fv\x1f"
        "0",
        "rust\x1fz\x1f"
        "0",
        "rust\x1fv\x1fzzzzzz",
        "rust\x1fv\x1f-1",
        "rust\x1fv\x1f"
        "255s0",
        "rust\x1f"
        "c\x1f"
        "0",
        "rust\x1f"
        "c\x1f"
        "0\x1fq\x1f"
        "1\x1f\x1f"
        "0\x1f"
        "0\x1f"
        "0",
        "rust\x1f"
        "c\x1f"
        "0\x1fp\x1f"
        "10001\x1f\x1f"
        "0\x1f"
        "0\x1f"
        "0",
        "rust\x1f"
        "c\x1f"
        "0\x1fp\x1f"
        "1.5\x1f\x1f"
        "0\x1f"
        "0\x1f"
        "0",
        "rust\x1f"
        "c\x1f"
        "0\x1fp\x1f\x1f\x1f"
        "0\x1f"
        "0\x1f"
        "0",
    };
    const char *pub = "rust\x1f"
                      "alice\x1f"
                      "1\x1f\x1f~p/x\x1fn\x1f-5\x1f\x1f"
                      "0\x1f"
                      "0\x1f"
                      "0\x1f"
                      "a body";
    const char *cmp = "t\x1f"
                      "c\x1f"
                      "0\x1fm\x1f"
                      "0\x1f\x1f"
                      "0\x1f"
                      "0\x1f"
                      "0";
    es_stored_record r = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(unreadable) / sizeof(*unreadable); i++) {
        assert_int_equal(es_stored_parse(&r, unreadable[i],
                                         strlen(unreadable[i]), pub,
                                         strlen(pub), HOUR),
                         ES_STORED_UNREADABLE);
    }
    /* a VADER record needs its public part, and a public part its fields */
    assert_int_equal(es_stored_parse(&r,
                                     "rust\x1fv\x1f"
                                     "0",
                                     8, NULL, 0, HOUR),
                     ES_STORED_UNREADABLE);
    assert_int_equal(es_stored_parse(&r,
                                     "rust\x1fv\x1f"
                                     "0",
                                     8,
                                     "a\x1f"
                                     "b",
                                     3, HOUR),
                     ES_STORED_UNREADABLE);
    /* the hour must be one */
    assert_int_equal(es_stored_parse(&r,
                                     "rust\x1fv\x1f"
                                     "0",
                                     8, pub, strlen(pub), "2024113"),
                     ES_STORED_UNREADABLE);
    assert_int_equal(es_stored_parse(&r,
                                     "rust\x1fv\x1f"
                                     "0",
                                     8, pub, strlen(pub), "2024111324"),
                     ES_STORED_UNREADABLE);
    assert_int_equal(es_stored_parse(&r, "-", 1, pub, strlen(pub), HOUR),
                     ES_STORED_TOMBSTONE);
    /* a VADER record: the public part's label and cs, its body's terms */
    assert_int_equal(es_stored_parse(&r,
                                     "rust\x1fv\x1f"
                                     "0",
                                     8, pub, strlen(pub), HOUR),
                     ES_STORED_LIVE);
    assert_int_equal(r.c.label, ES_LABEL_NEGATIVE);
    assert_int_equal(r.c.cs, -5);
    assert_int_equal((int)r.c.nterms, 1);
    assert_int_equal(r.c.created_ms, 1732543200000LL);
    /* a Comprehend record without a public part: no terms */
    assert_int_equal(es_stored_parse(&r, cmp, strlen(cmp), NULL, 0, HOUR),
                     ES_STORED_LIVE);
    assert_int_equal((int)r.c.nterms, 0);
    assert_int_equal((int)r.c.ntopics, 1);
    assert_int_equal(r.c.label, ES_LABEL_MIXED);
    es_stored_record_free(&r);
}

/* The key of plan p named name, or -1. */
static long find(const es_wplan *p, const char *name)
{
    return es_wplan_find(p, name, strlen(name));
}

/* The key of plan q named like key k of p, or -1. */
static long same_key(const es_wplan *p, size_t k, const es_wplan *q)
{
    return es_wplan_find(q, es_wplan_key_name(p, k), p->keys[k].len);
}

/*
 * Creation in p, reversal in q: every key of p is in q with the upper-case
 * kind and the same expiry, every slot with the negated value; q has
 * nothing else but recent keys p lacks (an old comment's).
 */
static void assert_negation(const es_wplan *p, const es_wplan *q)
{
    size_t matched = 0;

    for (size_t k = 0; k < p->nkeys; k++) {
        const es_wkey *a = &p->keys[k];
        long kq = same_key(p, k, q);
        assert_true(kq >= 0);
        assert_int_equal(q->keys[kq].kind, a->kind - 'a' + 'A');
        if (a->kind != 'a') {
            /* a recent entry's removal keeps the key's time to live */
            assert_int_equal(q->keys[kq].exp, a->exp);
        }
        assert_int_equal((int)q->keys[kq].n, (int)a->n);
        for (uint32_t s = a->first, t = q->keys[kq].first; s != 0;
             s = p->slots[s - 1].next, t = q->slots[t - 1].next) {
            const es_wslot *x = &p->slots[s - 1], *y = &q->slots[t - 1];
            assert_int_equal((int)x->len, (int)y->len);
            assert_memory_equal(es_wplan_slot_name(p, s - 1),
                                es_wplan_slot_name(q, t - 1), x->len);
            assert_int_equal(y->v, -x->v);
        }
        matched++;
    }
    for (size_t k = 0; k < q->nkeys; k++) {
        if (same_key(q, k, p) < 0) {
            assert_int_equal(q->keys[k].kind, 'A');
        }
    }
    assert_int_equal((int)matched, (int)p->nkeys);
}

/* Plans comment en (created ms) and the reversal of its record. */
static void create_and_reverse(es_wplan *p, es_wplan *q, long long ms,
                               long long now_s, es_contrib_slots *cs,
                               es_contrib_slots *rs)
{
    fixture f;
    es_enrich_pair pairs[2] = {{0, 0, 0, 0}, {0, 0, 1, 0}};
    const char *topics[2] = {"rust", "perf"};
    es_enrich_entry en;
    es_sentiment st = {0.0, 0.192, 0.808, 0.6369, ES_LABEL_POSITIVE};
    es_terms tm;
    es_jsonw w = {0}, pw = {0};
    es_stored_record r = {0};
    es_slotlist sl = {0};
    es_contrib c;

    setup_set(&f);
    setup_entry(&en, "k2x9q1", ms);
    setup_terms(&tm);
    es_contrib_comment(&c, &en, topics, 2, st.label, 6369, &tm);
    es_contrib_plan(p, &sl, PREFIX, strlen(PREFIX), &c, 1, now_s,
                    f.tenant.retention_s, cs);
    es_record_tenant(&w, &f.ts, &en, &st, "vader", 6369, pairs, 0, 2);
    es_record_public(&pw, &en, &st);
    assert_int_equal(es_stored_parse(&r, w.buf, w.len, pw.buf, pw.len, HOUR),
                     ES_STORED_LIVE);
    es_stored_contrib(&r, en.id, &c);
    es_contrib_plan(q, &sl, PREFIX, strlen(PREFIX), &c, -1, now_s,
                    f.tenant.retention_s, rs);
    assert_false(p->oom || q->oom || sl.oom);
    es_slotlist_free(&sl);
    es_stored_record_free(&r);
    es_jsonw_free(&w);
    es_jsonw_free(&pw);
}

static void test_reversal_is_the_creation_negated(void **state)
{
    es_wplan p, q;
    es_contrib_slots cs, rs;
    long k;

    (void)state;
    es_wplan_init(&p);
    es_wplan_init(&q);
    /* ten minutes later: every bucket alive, a recent comment */
    create_and_reverse(&p, &q, CREATED_MS, CREATED_MS / 1000 + 600, &cs, &rs);
    /* 2 topics x (3 series + terms + recent), one share of voice */
    assert_int_equal((int)p.nkeys, 11);
    assert_int_equal((int)q.nkeys, 11);
    assert_negation(&p, &q);
    /* the same slots in the same order: counts, then the cs sums */
    assert_int_equal((int)rs.ncount, (int)cs.ncount);
    assert_int_equal((int)rs.ncs, (int)cs.ncs);
    assert_int_equal((int)cs.ncs, 6);
    k = find(&q, PREFIX "ts:perf:m:2024112514");
    assert_true(k >= 0);
    assert_int_equal(q.keys[k].exp, 1732546800LL + 2 * 86400);
    es_wplan_free(&p);
    es_wplan_free(&q);
}

static void test_reversal_of_an_old_comment_leaves_expired_buckets(void **state)
{
    es_wplan p, q;
    es_contrib_slots cs, rs;

    (void)state;
    es_wplan_init(&p);
    es_wplan_init(&q);
    /* 40 days later: past the retention and the minute buckets */
    create_and_reverse(&p, &q, CREATED_MS, CREATED_MS / 1000 + 40 * 86400, &cs,
                       &rs);
    /* hour and day series per topic, share of voice; no terms */
    assert_int_equal((int)p.nkeys, 5);
    assert_true(find(&p, PREFIX "rc:rust:" HOUR) < 0);
    /* the deletion also takes the entry out of the topics' recent index
       of its hour (gone already unless the retention was longer) */
    assert_int_equal((int)q.nkeys, 7);
    assert_true(find(&q, PREFIX "rc:rust:" HOUR) >= 0);
    assert_negation(&p, &q);
    es_wplan_free(&p);
    es_wplan_free(&q);
}

/* The argument i of the first tenant call of j (after the public one),
   NUL-terminated into buf. */
static const char *arg(const es_aggregate_job *j, int i, char *buf, size_t size)
{
    size_t n = j->cmds[j->pub].lens[i];

    assert_true(n < size);
    memcpy(buf, j->cmds[j->pub].argv[i], n);
    buf[n] = '\0';
    return buf;
}

/*
 * A tenant's call with a comment x, then deletions of y (stored), of x
 * (not stored yet: x's creation in the call stores it), of z (nothing)
 * and of w (not read): the records after the increments, each as its
 * hour, id, tenant part and meta.
 */
static void test_call_sends_deletions_as_the_record_they_expect(void **state)
{
    fixture f;
    es_enrich_entry en[5];
    es_entry_score sco[5];
    es_terms tm[5];
    es_enrich_pair pairs[6] = {{0, 0, 0, 0},
                               {0, 0, 1, 0},
                               {1, 0, ES_PAIR_DELETE, 0},
                               {2, 0, ES_PAIR_DELETE, 0},
                               {3, 0, ES_PAIR_DELETE, 0},
                               {4, 0, ES_PAIR_DELETE, 0}};
    const es_enrich_pair ypairs[1] = {{1, 0, 0, 0}};
    long long zero[1] = {0};
    char errors[5][ES_ENRICH_ERR_MAX];
    es_aggregate a;
    es_aggregate_job j;
    es_jsonw w = {0}, wx = {0}, pw = {0};
    redisReply ystored, ypub;
    char buf[4096];
    long long now_s = CREATED_MS / 1000 + 600;
    int rec0, i, n = 0, ncre = 0, nopen = 0;

    (void)state;
    setup_set(&f);
    memset(sco, 0, sizeof(sco));
    memset(errors, 0, sizeof(errors));
    setup_entry(&en[0], "x1", CREATED_MS);
    setup_entry(&en[1], "y1", CREATED_MS - 60000);
    setup_entry(&en[2], "x1", 0);
    setup_entry(&en[3], "z1", 0);
    setup_entry(&en[4], "w1", 0);
    for (i = 0; i < 5; i++) {
        setup_terms(&tm[i]);
        sco[i].vader = (es_sentiment){0.0, 0.5, 0.5, 0.25, ES_LABEL_POSITIVE};
        sco[i].has_vader = 1;
    }
    /* y1's record as stored by an earlier batch: rust only, cs 2500 */
    es_record_of(&w, &f.ts, &en[1], &sco[1], ypairs, 0, 1);
    ystored = reply_str(w.buf);
    es_record_public(&pw, &en[1], &sco[1].vader);
    ypub = reply_str(pw.buf);
    es_record_of(&wx, &f.ts, &en[0], &sco[0], pairs, 0, 2);

    es_aggregate_init(&a, NULL);
    es_aggregate_job_init(&j);
    j.stored.hour = calloc(6, sizeof(*j.stored.hour));
    j.stored.tpart = calloc(6, sizeof(*j.stored.tpart));
    j.stored.ppart = calloc(6, sizeof(*j.stored.ppart));
    j.stored.failed = calloc(6, sizeof(*j.stored.failed));
    j.stored.npairs = 6;
    /* y1 stored; x1 not yet (its creation in the call stores it); z1 has
       nothing in its hour; w1's read failed */
    strcpy(j.stored.hour[2], HOUR);
    j.stored.tpart[2] = &ystored;
    j.stored.ppart[2] = &ypub;
    strcpy(j.stored.hour[4], HOUR);
    j.stored.failed[5] = 1;
    assert_int_equal(es_aggregate_build_stored(&a, &j, &f.ts, en, sco, tm,
                                               pairs, 6, zero, zero, now_s,
                                               errors),
                     0);
    assert_int_equal((int)j.n, 1);
    /* the public call first: x1's part and title, the tombstone of y1's
       and z1's parts (hours known) */
    assert_int_equal(j.pub, 1);
    assert_string_equal(j.cmds[0].argv[1], "es_enrich_public");
    rec0 = atoi(arg(&j, 11, buf, sizeof(buf))) + 4;
    /* the comments' keys first, then the deletions' (upper case), their
       slots numbered after the comments' */
    for (i = 12; i < rec0; i += 4 + 2 * n) {
        char kind = arg(&j, i, buf, sizeof(buf))[0];
        n = atoi(arg(&j, i + 3, buf, sizeof(buf)));
        if (kind >= 'A' && kind <= 'Z') {
            nopen = 1;
        } else {
            assert_false(nopen);
            ncre += n;
        }
    }
    assert_int_equal(i, rec0);
    assert_true(nopen);
    /* x1: hour, id, its tenant part, meta */
    assert_string_equal(arg(&j, rec0, buf, sizeof(buf)), HOUR);
    assert_string_equal(arg(&j, rec0 + 1, buf, sizeof(buf)), "x1");
    assert_string_equal(arg(&j, rec0 + 2, buf, sizeof(buf)), wx.buf);
    assert_true(strncmp(arg(&j, rec0 + 3, buf, sizeof(buf)), "2500|1 ", 7) ==
                0);
    /* y1: the part read, reversed: -cs, then its slots */
    assert_string_equal(arg(&j, rec0 + 4, buf, sizeof(buf)), "D");
    assert_string_equal(arg(&j, rec0 + 5, buf, sizeof(buf)), HOUR);
    assert_string_equal(arg(&j, rec0 + 6, buf, sizeof(buf)), "y1");
    assert_string_equal(arg(&j, rec0 + 7, buf, sizeof(buf)), w.buf);
    assert_true(strncmp(arg(&j, rec0 + 8, buf, sizeof(buf)), "-2500|", 6) == 0);
    assert_int_equal(atoi(buf + 6), ncre + 1);
    /* x1: nothing stored yet, so the part x1's creation stores */
    assert_string_equal(arg(&j, rec0 + 9, buf, sizeof(buf)), "D");
    assert_string_equal(arg(&j, rec0 + 10, buf, sizeof(buf)), HOUR);
    assert_string_equal(arg(&j, rec0 + 11, buf, sizeof(buf)), "x1");
    assert_string_equal(arg(&j, rec0 + 12, buf, sizeof(buf)), wx.buf);
    assert_true(strncmp(arg(&j, rec0 + 13, buf, sizeof(buf)), "-2500|", 6) ==
                0);
    /* z1: nothing to take out, only the tombstone */
    assert_string_equal(arg(&j, rec0 + 14, buf, sizeof(buf)), "D");
    assert_string_equal(arg(&j, rec0 + 15, buf, sizeof(buf)), HOUR);
    assert_string_equal(arg(&j, rec0 + 16, buf, sizeof(buf)), "z1");
    assert_string_equal(arg(&j, rec0 + 17, buf, sizeof(buf)), "");
    assert_string_equal(arg(&j, rec0 + 18, buf, sizeof(buf)), "");
    /* w1 is left out, with an error so it is retried */
    assert_int_equal(j.cmds[1].argc, rec0 + 19);
    assert_non_null(strstr(errors[4], "could not be read"));
    assert_string_equal(errors[1], "");
    es_aggregate_job_free(&j);
    es_aggregate_cleanup(&a);
    es_jsonw_free(&w);
    es_jsonw_free(&wx);
    es_jsonw_free(&pw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stored_parse_reads_back_what_the_writer_writes),
        cmocka_unit_test(test_stored_parse_trusts_nothing),
        cmocka_unit_test(test_reversal_is_the_creation_negated),
        cmocka_unit_test(
            test_reversal_of_an_old_comment_leaves_expired_buckets),
        cmocka_unit_test(test_call_sends_deletions_as_the_record_they_expect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
