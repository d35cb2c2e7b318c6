/*
 * stored.c - reading back the records deletions reverse (see stored.h).
 *
 * Both parts are split at their separators and every field used checked:
 * a record is Redis content and never trusted. Field positions come from
 * the record's tables (es_record.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "argbuf.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_record.h"
#include "es_time.h"
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
 * A copy of text[0..n) in f->buf with every separator made a NUL, and its
 * fields in f->field (each NUL-terminated there).
 */
static int split(es_stored_fields *f, const char *text, size_t n)
{
    char *p, *end;
    void *g = grow(f->buf, &f->bcap, n + 1, 1);

    if (g == NULL) {
        return -1;
    }
    f->buf = g;
    memcpy(f->buf, text, n);
    f->buf[n] = '\0';
    p = f->buf;
    end = f->buf + n;
    f->n = 0;
    for (;;) {
        char *q = memchr(p, ES_RECORD_SEP, (size_t)(end - p));

        g = grow(f->field, &f->fcap, f->n + 1, sizeof(*f->field));
        if (g == NULL) {
            return -1;
        }
        f->field = g;
        f->field[f->n].s = p;
        f->field[f->n].n = q ? (size_t)(q - p) : (size_t)(end - p);
        f->n++;
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

    if (f->n == 0 || f->s[f->n - 1] == ',') {
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

/*
 * Its trending terms: those of the body, the public part's JSON-escaped
 * field f (none when f is NULL), extracted as the comment's were when it
 * was created (es_terms.h).
 */
static int terms(es_stored_record *r, const es_strv *f)
{
    json_t *v;
    char *q;
    void *g;

    r->tm.n = 0;
    if (f == NULL) {
        return 0;
    }
    g = grow(r->jbuf, &r->jcap, f->n + 2, 1);
    if (g == NULL) {
        return -1;
    }
    q = r->jbuf = g;
    q[0] = '"';
    memcpy(q + 1, f->s, f->n);
    q[f->n + 1] = '"';
    v = json_loadb(q, f->n + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_string(v)) {
        json_decref(v);
        return -1;
    }
    es_terms_extract(json_string_value(v), json_string_length(v), &r->scratch,
                     &r->tm);
    json_decref(v);
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

/* ms into the hour, base 36 (below 3,600,000); 0, or -1 */
static int offset(const es_strv *f, long long *out)
{
    long long v = 0;

    if (f->n == 0 || f->n > 5) {
        return -1;
    }
    for (size_t i = 0; i < f->n; i++) {
        char c = f->s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'z' ? c - 'a' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 36 + d;
    }
    if (v >= 3600000) {
        return -1;
    }
    *out = v;
    return 0;
}

/* ms since the epoch of the start of hour YYYYMMDDHH; -1 if not one */
static long long hour_ms(const char *h)
{
    unsigned v[4] = {0, 0, 0, 0};
    static const int width[4] = {4, 2, 2, 2};
    size_t at = 0;

    if (h == NULL || strlen(h) != 10) {
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        for (int k = 0; k < width[i]; k++, at++) {
            if (h[at] < '0' || h[at] > '9') {
                return -1;
            }
            v[i] = v[i] * 10 + (unsigned)(h[at] - '0');
        }
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23) {
        return -1;
    }
    return (es_time_days_from_civil(v[0], v[1], v[2]) * 24 + v[3]) * 3600000LL;
}

es_stored_kind es_stored_parse(es_stored_record *r, const char *tp, size_t tn,
                               const char *pp, size_t pn, const char *hour)
{
    es_contrib *c = &r->c;
    es_strv *t, *p = NULL, *sv;
    long long cs, off, h0 = hour_ms(hour);
    int comprehend;

    memset(c, 0, sizeof(*c));
    if (tn == 1 && tp[0] == ES_RECORD_GONE[0]) {
        return ES_STORED_TOMBSTONE;
    }
    if (h0 < 0 || memchr(tp, '\0', tn) != NULL || split(&r->tp, tp, tn) != 0 ||
        r->tp.n < ES_RT_OFFSET + 1) {
        return ES_STORED_UNREADABLE;
    }
    t = r->tp.field;
    comprehend = t[ES_RT_ENGINE].n == 1 && t[ES_RT_ENGINE].s[0] == 'c';
    if (pp != NULL && !(pn == 1 && pp[0] == ES_RECORD_GONE[0])) {
        if (memchr(pp, '\0', pn) != NULL || split(&r->pp, pp, pn) != 0 ||
            r->pp.n != ES_RP_COUNT) {
            return ES_STORED_UNREADABLE;
        }
        p = r->pp.field;
    }
    /* the sentiment: Comprehend's is the tenant's, VADER's the comment's */
    if (comprehend) {
        if (r->tp.n != ES_RT_COUNT) {
            return ES_STORED_UNREADABLE;
        }
        sv = &t[ES_RT_LABEL];
    } else if (p != NULL && t[ES_RT_ENGINE].n == 1 &&
               t[ES_RT_ENGINE].s[0] == 'v') {
        sv = &p[ES_RP_LABEL];
    } else {
        return ES_STORED_UNREADABLE;
    }
    /* sv[0] the label, sv[1] cs: the same order in both tables */
    if (topics(r, &t[ES_RT_TOPICS]) != 0 ||
        terms(r, p ? &p[ES_RP_BODY] : NULL) != 0 ||
        label(&sv[0], &c->label) != 0 ||
        integer(sv[1].s, sv[1].n, -10000, 10000, &cs) != 0 ||
        offset(&t[ES_RT_OFFSET], &off) != 0) {
        return ES_STORED_UNREADABLE;
    }
    c->cs = cs;
    c->created_ms = h0 + off;
    /* t and month come from created, as the writer derived them */
    es_enrich_entry_set_time(&r->when, c->created_ms);
    if (strlen(r->when.t) != 12) {
        return ES_STORED_UNREADABLE;
    }
    memcpy(r->t, r->when.t, 13);
    c->month_start = r->when.month_start;
    /* the arrays are final now (growing them moved them) */
    c->topics = r->topics;
    c->terms = r->tm.term;
    c->term_len = r->tm.len;
    c->nterms = r->tm.n;
    c->t = r->t;
    return ES_STORED_LIVE;
}

void es_stored_contrib(const es_stored_record *r, const char *id, es_contrib *c)
{
    *c = r->c;
    c->id = id;
}

static void fields_free(es_stored_fields *f)
{
    free(f->buf);
    free(f->field);
    memset(f, 0, sizeof(*f));
}

void es_stored_record_free(es_stored_record *r)
{
    fields_free(&r->tp);
    fields_free(&r->pp);
    free(r->topics);
    free(r->jbuf);
    es_terms_scratch_free(&r->scratch);
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

static void free_replies(redisReply **rep, size_t n)
{
    for (size_t i = 0; rep != NULL && i < n; i++) {
        freeReplyObject(rep[i]);
    }
    free(rep);
}

/* The arrays of s, grown to n pairs and cleared; 0, or -1. */
static int reserve(es_stored_set *s, size_t n)
{
    void *g;

#define GROW(field, cap)                                                       \
    g = grow(s->field, &s->cap, n + 1, sizeof(*s->field));                     \
    if (g == NULL) {                                                           \
        return -1;                                                             \
    }                                                                          \
    s->field = g;                                                              \
    memset(s->field, 0, (n + 1) * sizeof(*s->field));
    GROW(hour, hcap)
    GROW(tpart, tcap)
    GROW(ppart, pcap)
    GROW(failed, fcap)
#undef GROW
    s->npairs = n;
    return 0;
}

/* A reply element that is a string, or NULL. */
static const redisReply *string_of(const redisReply *v)
{
    return v != NULL && v->type == REDIS_REPLY_STRING ? v : NULL;
}

/* Spreads the replies over the deletion pairs, in the order sent. */
static void assign(es_stored_set *s, const es_enrich_pair *pairs, size_t npairs)
{
    size_t c = 0, k = 0;
    uint32_t cur = UINT32_MAX;

    for (size_t i = 0; i < npairs; i++) {
        const redisReply *rep, *h;

        if (pairs[i].topic != ES_PAIR_DELETE) {
            continue;
        }
        if (cur != pairs[i].tenant) {
            c += cur != UINT32_MAX;
            k = 0;
            cur = pairs[i].tenant;
        }
        rep = s->replies[c];
        if (rep->type != REDIS_REPLY_ARRAY || 3 * k + 2 >= rep->elements) {
            s->failed[i] = 1;
            k++;
            continue;
        }
        h = string_of(rep->element[3 * k]);
        if (h != NULL && h->len == 10) {
            memcpy(s->hour[i], h->str, 11);
        }
        s->tpart[i] = string_of(rep->element[3 * k + 1]);
        s->ppart[i] = string_of(rep->element[3 * k + 2]);
        k++;
    }
    for (c = 0; c < s->nreplies; c++) {
        if (s->replies[c]->type != REDIS_REPLY_ARRAY) {
            es_log(ES_ERROR, "reading records to delete failed",
                   ES_STR("error", s->replies[c]->type == REDIS_REPLY_ERROR
                                       ? s->replies[c]->str
                                       : "unexpected reply"),
                   ES_END);
        }
    }
}

int es_stored_fetch(es_stored_set *s, es_redis *r, const es_topic_set *ts,
                    const es_enrich_entry *entries, const es_enrich_pair *pairs,
                    size_t npairs)
{
    es_argbuf b;
    es_redis_cmdv *cmds = calloc(npairs + 1, sizeof(*cmds));
    size_t *first = calloc(npairs + 2, sizeof(*first)), n = 0;
    long long now_s = (long long)time(NULL);
    uint32_t cur = UINT32_MAX;
    int rc = -1;

    es_stored_clear(s);
    es_argbuf_init(&b);
    if (cmds == NULL || first == NULL || reserve(s, npairs) != 0) {
        goto done;
    }
    /* one es_enrich_parts per tenant: its deletions' ids and hours ("":
       the function looks for the record within the retention) */
    for (size_t i = 0; i < npairs; i++) {
        const es_enrich_tenant *tn = &ts->tenants[pairs[i].tenant];
        const es_enrich_entry *en = &entries[pairs[i].entry];
        char meta[160], hour[11] = "";

        if (pairs[i].topic != ES_PAIR_DELETE) {
            continue;
        }
        if (cur != pairs[i].tenant) {
            first[n++] = es_argbuf_count(&b);
            es_tenant_key_p(meta, sizeof(meta), tn->prefix, strlen(tn->prefix),
                            ES_TK_META);
            es_argbuf_ref(&b, "FCALL", 5);
            es_argbuf_ref(&b, "es_enrich_parts", 15);
            es_argbuf_ref(&b, "1", 1);
            es_argbuf_str(&b, meta);
            es_argbuf_ref(&b, tn->prefix, strlen(tn->prefix));
            es_argbuf_int(&b, now_s);
            es_argbuf_int(&b, tn->retention_s / 3600 + 1);
            cur = pairs[i].tenant;
        }
        if (en->created_ms >= 0) {
            es_record_hour_ms(en->created_ms, hour);
        }
        es_argbuf_str(&b, en->id);
        es_argbuf_str(&b, hour);
    }
    first[n] = es_argbuf_count(&b);
    if (n == 0) {
        rc = 0;
        goto done;
    }
    if (es_argbuf_finish(&b) != 0 ||
        (s->replies = calloc(n, sizeof(*s->replies))) == NULL) {
        goto done;
    }
    for (size_t c = 0; c < n; c++) {
        cmds[c].argc = (int)(first[c + 1] - first[c]);
        cmds[c].argv = b.argv + first[c];
        cmds[c].lens = b.lens + first[c];
    }
    if (es_redis_pipeline(r, cmds, (int)n, s->replies) != 0) {
        free(s->replies);
        s->replies = NULL;
        goto done;
    }
    s->nreplies = n;
    assign(s, pairs, npairs);
    rc = 0;

done:
    if (rc != 0) {
        es_stored_clear(s);
        for (size_t i = 0; s->failed != NULL && i < s->npairs; i++) {
            s->failed[i] = 1;
        }
    }
    es_argbuf_free(&b);
    free(cmds);
    free(first);
    return rc;
}

void es_stored_clear(es_stored_set *s)
{
    free_replies(s->replies, s->nreplies);
    s->replies = NULL;
    s->nreplies = 0;
    if (s->tpart != NULL) {
        memset(s->tpart, 0, s->npairs * sizeof(*s->tpart));
        memset(s->ppart, 0, s->npairs * sizeof(*s->ppart));
    }
}

void es_stored_free(es_stored_set *s)
{
    es_stored_clear(s);
    free(s->hour);
    free(s->tpart);
    free(s->ppart);
    free(s->failed);
    memset(s, 0, sizeof(*s));
}
