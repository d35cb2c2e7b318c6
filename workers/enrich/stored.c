/*
 * stored.c - reading back the records deletions reverse (see stored.h).
 *
 * The tenant part is split at its separators and every field checked: a
 * record is Redis content and never trusted. Field positions come from
 * the record's table (es_record.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argbuf.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_record.h"
#include "record.h"
#include "stored.h"

/*
 * p, grown to n elements of size bytes when *cap (its elements) is less;
 * NULL when memory ran out (p is then still valid, and still p's size).
 */
static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    void *q;

    if (n <= *cap) {
        return p;
    }
    q = realloc(p, n * size);
    if (q != NULL) {
        *cap = n;
    }
    return q;
}

/* Field text[0..n) as a whole number within [lo, hi] into *out; 0 or -1. */
static int integer(const char *text, size_t n, long long lo, long long hi,
                   long long *out)
{
    long long v = 0;
    size_t i = 0;
    int neg = 0;

    if (n > 0 && text[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 18) {
        return -1;
    }
    for (; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        v = v * 10 + (text[i] - '0');
    }
    v = neg ? -v : v;
    if (v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * A copy of text[0..n) in r->buf with every separator made a NUL, and its
 * fields in r->field (each NUL-terminated there).
 */
static int split(es_stored_record *r, const char *text, size_t n)
{
    char *p, *end;
    void *g = grow(r->buf, &r->bcap, n + 1, 1);

    if (g == NULL) {
        return -1;
    }
    r->buf = g;
    memcpy(r->buf, text, n);
    r->buf[n] = '\0';
    p = r->buf;
    end = r->buf + n;
    r->nfields = 0;
    for (;;) {
        char *q = memchr(p, ES_RECORD_SEP, (size_t)(end - p));

        g = grow(r->field, &r->fcap, r->nfields + 1, sizeof(*r->field));
        if (g == NULL) {
            return -1;
        }
        r->field = g;
        r->field[r->nfields].s = p;
        r->field[r->nfields].n = q ? (size_t)(q - p) : (size_t)(end - p);
        r->nfields++;
        if (q == NULL) {
            return 0;
        }
        *q = '\0';
        p = q + 1;
    }
}

/* The topic ids of the record: each one a topic id can be (es_ids.h). */
static int topics(es_stored_record *r, es_strv *f)
{
    char *p = (char *)f->s, *end = p + f->n;
    size_t k = 0;

    if (f->n == 0) {
        return -1;
    }
    while (p < end) {
        char *comma = memchr(p, ',', (size_t)(end - p));
        size_t len = comma ? (size_t)(comma - p) : (size_t)(end - p);
        void *g = grow(r->topics, &r->tcap, k + 2, sizeof(*r->topics));

        if (g == NULL) {
            return -1;
        }
        r->topics = g;
        if (len == 0 || len > 64 || es_tenant_id_valid(p, len) != 0) {
            return -1;
        }
        if (comma != NULL) {
            *comma = '\0';
        }
        r->topics[k++] = p;
        p += len + 1;
    }
    r->c.ntopics = k;
    return 0;
}

/* Its trending terms: the fields from ES_RT_TERMS on, none escaped. */
static int terms(es_stored_record *r)
{
    size_t n = r->nfields > ES_RT_TERMS ? r->nfields - ES_RT_TERMS : 0;

    r->c.nterms = 0;
    if (n + 1 > r->wcap) {
        /* terms and term_len grow together: wcap counts both */
        size_t c1 = r->wcap, c2 = r->wcap;
        void *p = grow(r->terms, &c1, n + 1, sizeof(*r->terms));
        if (p == NULL) {
            return -1;
        }
        r->terms = p;
        p = grow(r->term_len, &c2, n + 1, sizeof(*r->term_len));
        if (p == NULL) {
            return -1;
        }
        r->term_len = p;
        r->wcap = n + 1;
    }
    for (size_t i = 0; i < n; i++) {
        const es_strv *f = &r->field[ES_RT_TERMS + i];
        if (f->n == 0 || memchr(f->s, '\\', f->n) != NULL ||
            memchr(f->s, '\0', f->n) != NULL) {
            return -1;
        }
        r->terms[i] = f->s;
        r->term_len[i] = f->n;
    }
    r->c.nterms = n;
    return 0;
}

/* The label of its letter (ES_RECORD_LABELS); 0, or -1. */
static int label(const es_strv *f, es_label *out)
{
    static const es_label all[] = {ES_LABEL_POSITIVE, ES_LABEL_NEGATIVE,
                                   ES_LABEL_NEUTRAL, ES_LABEL_MIXED};

    for (size_t i = 0; f->n == 1 && i < sizeof(all) / sizeof(all[0]); i++) {
        if (es_record_label_letter(all[i]) == f->s[0]) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

es_stored_kind es_stored_parse(es_stored_record *r, const char *text, size_t n)
{
    es_contrib *c = &r->c;
    es_strv *f;
    long long cs, created;

    memset(c, 0, sizeof(*c));
    if (n == 1 && text[0] == ES_RECORD_GONE[0]) {
        return ES_STORED_TOMBSTONE;
    }
    if (memchr(text, '\0', n) != NULL || split(r, text, n) != 0 ||
        r->nfields < ES_RT_TERMS) {
        return ES_STORED_UNREADABLE;
    }
    f = r->field;
    if (topics(r, &f[ES_RT_TOPICS]) != 0 || terms(r) != 0 ||
        label(&f[ES_RT_LABEL], &c->label) != 0 ||
        integer(f[ES_RT_CS].s, f[ES_RT_CS].n, -10000, 10000, &cs) != 0 ||
        integer(f[ES_RT_CREATED].s, f[ES_RT_CREATED].n, 0, 253402300799999LL,
                &created) != 0) {
        return ES_STORED_UNREADABLE;
    }
    c->cs = cs;
    c->created_ms = created;
    /* t and month come from created, as the writer derived them */
    es_enrich_entry_set_time(&r->when, created);
    if (strlen(r->when.t) != 12) {
        return ES_STORED_UNREADABLE;
    }
    memcpy(r->t, r->when.t, 13);
    c->month_start = r->when.month_start;
    /* the arrays are final now (growing them moved them) */
    c->topics = r->topics;
    c->terms = r->terms;
    c->term_len = r->term_len;
    c->t = r->t;
    return ES_STORED_LIVE;
}

void es_stored_contrib(const es_stored_record *r, const char *id, es_contrib *c)
{
    *c = r->c;
    c->id = id;
}

void es_stored_record_free(es_stored_record *r)
{
    free(r->buf);
    free(r->field);
    free(r->topics);
    free(r->terms);
    free(r->term_len);
    memset(r, 0, sizeof(*r));
}

int es_stored_needed(const es_enrich_pair *pairs, size_t npairs)
{
    for (size_t i = 0; i < npairs; i++) {
        if (pairs[i].topic == ES_PAIR_DELETE) {
            return 1;
        }
    }
    return 0;
}

/* Runs the commands b[first[c] .. first[c + 1]) for c < n; replies. */
static redisReply **run(es_redis *r, es_argbuf *b, const size_t *first,
                        size_t n)
{
    es_redis_cmdv *cmds;
    redisReply **rep;

    if (es_argbuf_finish(b) != 0) {
        return NULL;
    }
    cmds = calloc(n + 1, sizeof(*cmds));
    rep = calloc(n + 1, sizeof(*rep));
    if (cmds == NULL || rep == NULL) {
        free(cmds);
        free(rep);
        return NULL;
    }
    for (size_t c = 0; c < n; c++) {
        cmds[c].argc = (int)(first[c + 1] - first[c]);
        cmds[c].argv = b->argv + first[c];
        cmds[c].lens = b->lens + first[c];
    }
    if (es_redis_pipeline(r, cmds, (int)n, rep) != 0) {
        free(rep);
        rep = NULL;
    }
    free(cmds);
    return rep;
}

static void free_replies(redisReply **rep, size_t n)
{
    for (size_t i = 0; rep != NULL && i < n; i++) {
        freeReplyObject(rep[i]);
    }
    free(rep);
}

/*
 * The hours of the deletions of pairs[0..npairs) that carry no creation
 * time: one es_enrich_locate per tenant having such deletions, in one
 * round trip. 0, or -1 (Redis unreachable while stopping, out of memory).
 */
static int locate(es_stored_set *s, es_redis *r, const es_topic_set *ts,
                  const es_enrich_entry *entries, const es_enrich_pair *pairs,
                  size_t npairs, long long now_s)
{
    es_argbuf b;
    size_t *first = calloc(npairs + 2, sizeof(*first)), n = 0, c = 0, k = 0;
    uint32_t cur = UINT32_MAX;
    redisReply **rep = NULL;
    int rc = -1;

    es_argbuf_init(&b);
    if (first == NULL) {
        goto done;
    }
    for (size_t i = 0; i < npairs; i++) {
        const es_enrich_tenant *tn = &ts->tenants[pairs[i].tenant];
        char meta[160];

        if (pairs[i].topic != ES_PAIR_DELETE || s->hour[i][0] != '\0') {
            continue;
        }
        if (cur != pairs[i].tenant) {
            first[n++] = es_argbuf_count(&b);
            es_tenant_key_p(meta, sizeof(meta), tn->prefix, strlen(tn->prefix),
                            ES_TK_META);
            es_argbuf_ref(&b, "FCALL", 5);
            es_argbuf_ref(&b, "es_enrich_locate", 16);
            es_argbuf_ref(&b, "1", 1);
            es_argbuf_str(&b, meta);
            es_argbuf_ref(&b, tn->prefix, strlen(tn->prefix));
            es_argbuf_int(&b, now_s);
            es_argbuf_int(&b, tn->retention_s / 3600 + 1);
            cur = pairs[i].tenant;
        }
        es_argbuf_str(&b, entries[pairs[i].entry].id);
    }
    first[n] = es_argbuf_count(&b);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    rep = run(r, &b, first, n);
    if (rep == NULL) {
        goto done;
    }
    /* the answers, in the order the ids were sent */
    cur = UINT32_MAX;
    for (size_t i = 0; i < npairs; i++) {
        const redisReply *v;

        if (pairs[i].topic != ES_PAIR_DELETE || s->hour[i][0] != '\0') {
            continue;
        }
        if (cur != pairs[i].tenant) {
            c += cur != UINT32_MAX;
            k = 0;
            cur = pairs[i].tenant;
        }
        v = rep[c]->type == REDIS_REPLY_ARRAY && k < rep[c]->elements
                ? rep[c]->element[k]
                : NULL;
        k++;
        if (v != NULL && v->type == REDIS_REPLY_STRING && v->len == 10) {
            memcpy(s->hour[i], v->str, 11);
        } else if (v == NULL) {
            s->failed[i] = 1;
        }
    }
    for (c = 0; c < n; c++) {
        if (rep[c]->type != REDIS_REPLY_ARRAY) {
            es_log(ES_ERROR, "locating records to delete failed",
                   ES_STR("error", rep[c]->type == REDIS_REPLY_ERROR
                                       ? rep[c]->str
                                       : "unexpected reply"),
                   ES_END);
        }
    }
    rc = 0;

done:
    free_replies(rep, n);
    es_argbuf_free(&b);
    free(first);
    return rc;
}

int es_stored_fetch(es_stored_set *s, es_redis *r, const es_topic_set *ts,
                    const es_enrich_entry *entries, const es_enrich_pair *pairs,
                    size_t npairs)
{
    es_argbuf b;
    size_t *first = calloc(npairs + 2, sizeof(*first)), n = 0;
    size_t *at = calloc(npairs + 1, sizeof(*at));
    long long now_s = (long long)time(NULL);
    int rc = -1;
    void *g;

    es_stored_clear(s);
    es_argbuf_init(&b);
    g = grow(s->rec, &s->cap, npairs + 1, sizeof(*s->rec));
    if (first == NULL || at == NULL || g == NULL) {
        goto done;
    }
    s->rec = g;
    g = grow(s->hour, &s->hcap, npairs + 1, sizeof(*s->hour));
    if (g == NULL) {
        goto done;
    }
    s->hour = g;
    g = grow(s->failed, &s->fcap, npairs + 1, sizeof(*s->failed));
    if (g == NULL) {
        goto done;
    }
    s->failed = g;
    memset(s->rec, 0, npairs * sizeof(*s->rec));
    memset(s->hour, 0, npairs * sizeof(*s->hour));
    memset(s->failed, 0, npairs * sizeof(*s->failed));
    s->npairs = npairs;
    for (size_t i = 0; i < npairs; i++) {
        const es_enrich_entry *en = &entries[pairs[i].entry];
        if (pairs[i].topic == ES_PAIR_DELETE && en->created_ms >= 0) {
            es_record_hour_ms(en->created_ms, s->hour[i]);
        }
    }
    if (locate(s, r, ts, entries, pairs, npairs, now_s) != 0) {
        goto done;
    }
    /* one HGET per deletion whose bucket is known */
    for (size_t i = 0; i < npairs; i++) {
        const es_enrich_tenant *tn = &ts->tenants[pairs[i].tenant];
        char key[512];
        int len;

        if (pairs[i].topic != ES_PAIR_DELETE || s->hour[i][0] == '\0') {
            continue;
        }
        at[n] = i;
        first[n++] = es_argbuf_count(&b);
        es_argbuf_ref(&b, "HGET", 4);
        len = es_tenant_key_p(key, sizeof(key), tn->prefix, strlen(tn->prefix),
                              ES_TK_RECORDS, s->hour[i]);
        es_argbuf_copy(&b, key, len < 0 ? 0 : (size_t)len);
        es_argbuf_str(&b, entries[pairs[i].entry].id);
    }
    first[n] = es_argbuf_count(&b);
    if (n > 0) {
        s->replies = run(r, &b, first, n);
        if (s->replies == NULL) {
            goto done;
        }
        s->nreplies = n;
    }
    for (size_t c = 0; c < n; c++) {
        const redisReply *v = s->replies[c];
        if (v->type == REDIS_REPLY_STRING || v->type == REDIS_REPLY_NIL) {
            s->rec[at[c]] = v;
        } else {
            s->failed[at[c]] = 1;
            es_log(ES_ERROR, "reading a record to delete failed",
                   ES_STR("error", v->type == REDIS_REPLY_ERROR
                                       ? v->str
                                       : "unexpected reply"),
                   ES_END);
        }
    }
    rc = 0;

done:
    if (rc != 0) {
        es_stored_clear(s);
        for (size_t i = 0; s->failed != NULL && i < s->npairs; i++) {
            s->failed[i] = 1;
        }
    }
    es_argbuf_free(&b);
    free(first);
    free(at);
    return rc;
}

void es_stored_clear(es_stored_set *s)
{
    free_replies(s->replies, s->nreplies);
    s->replies = NULL;
    s->nreplies = 0;
    if (s->rec != NULL) {
        memset(s->rec, 0, s->npairs * sizeof(*s->rec));
    }
}

void es_stored_free(es_stored_set *s)
{
    es_stored_clear(s);
    free(s->rec);
    free(s->hour);
    free(s->failed);
    memset(s, 0, sizeof(*s));
}
