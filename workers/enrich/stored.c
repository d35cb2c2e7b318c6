/*
 * stored.c - reading back the records deletions reverse (see stored.h).
 *
 * Parsed with jansson: deletions are a small share of the stream, and a
 * tree makes checking every member of a record that is never trusted
 * simple. Member names come from the record's table (es_record.h).
 */
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_record.h"
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

/* An integer member within [lo, hi] into *out; 0, or -1. */
static int integer(json_t *rec, const char *name, long long lo, long long hi,
                   long long *out)
{
    json_t *v = json_object_get(rec, name);

    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        return -1;
    }
    *out = (long long)json_integer_value(v);
    return 0;
}

/* The topic ids of the record: each one a topic id can be (es_ids.h). */
static int topics(es_stored_record *r, json_t *a)
{
    size_t i;
    json_t *t;
    void *p;

    if (!json_is_array(a)) {
        return -1;
    }
    p = grow(r->topics, &r->tcap, json_array_size(a) + 1, sizeof(*r->topics));
    if (p == NULL) {
        return -1;
    }
    r->topics = p;
    json_array_foreach(a, i, t)
    {
        size_t n = json_string_length(t);
        if (!json_is_string(t) || n == 0 || n > 64 ||
            es_tenant_id_valid(json_string_value(t), n) != 0) {
            return -1;
        }
        r->topics[i] = json_string_value(t);
    }
    r->c.ntopics = json_array_size(a);
    return 0;
}

/* Its trending terms (absent: none); each a string without a NUL. */
static int terms(es_stored_record *r, json_t *a)
{
    size_t i, need = json_array_size(a) + 1;
    json_t *t;

    r->c.nterms = 0;
    if (a == NULL) {
        return 0;
    }
    if (!json_is_array(a)) {
        return -1;
    }
    if (need > r->wcap) {
        /* terms and term_len grow together: wcap counts both */
        size_t c1 = r->wcap, c2 = r->wcap;
        void *p = grow(r->terms, &c1, need, sizeof(*r->terms));
        if (p == NULL) {
            return -1;
        }
        r->terms = p;
        p = grow(r->term_len, &c2, need, sizeof(*r->term_len));
        if (p == NULL) {
            return -1;
        }
        r->term_len = p;
        r->wcap = need;
    }
    json_array_foreach(a, i, t)
    {
        if (!json_is_string(t) ||
            strlen(json_string_value(t)) != json_string_length(t)) {
            return -1;
        }
        r->terms[i] = json_string_value(t);
        r->term_len[i] = json_string_length(t);
    }
    r->c.nterms = json_array_size(a);
    return 0;
}

es_stored_kind es_stored_parse(es_stored_record *r, const char *text, size_t n)
{
    es_contrib *c = &r->c;
    json_t *rec, *t;
    const char *label;

    json_decref(r->root);
    r->root = rec = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
    memset(c, 0, sizeof(*c));
    if (!json_is_object(rec)) {
        return ES_STORED_UNREADABLE;
    }
    if (json_is_true(json_object_get(rec, ES_REC(DELETED)))) {
        return ES_STORED_TOMBSTONE;
    }
    t = json_object_get(rec, ES_REC(T));
    label = json_string_value(json_object_get(rec, ES_REC(LABEL)));
    if (topics(r, json_object_get(rec, ES_REC(TOPICS))) != 0 ||
        terms(r, json_object_get(rec, ES_REC(TERMS))) != 0 || label == NULL ||
        es_label_parse(label, &c->label) != 0 ||
        integer(rec, ES_REC(CS), -10000, 10000, &c->cs) != 0 ||
        integer(rec, ES_REC(CREATED), 0, 253402300799999LL, &c->created_ms) !=
            0 ||
        integer(rec, ES_REC(MONTH), 0, 253402300799LL, &c->month_start) != 0 ||
        json_string_length(t) != 12) {
        return ES_STORED_UNREADABLE;
    }
    memcpy(r->t, json_string_value(t), 12);
    r->t[12] = '\0';
    for (int i = 0; i < 12; i++) {
        if (r->t[i] < '0' || r->t[i] > '9') {
            return ES_STORED_UNREADABLE;
        }
    }
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
    json_decref(r->root);
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

/* Points rec at each deletion's element of its tenant's MGET reply. */
static void assign(es_stored_set *s, const es_enrich_pair *pairs, size_t npairs)
{
    size_t c = 0, k = 0;
    uint32_t cur = UINT32_MAX;

    for (size_t i = 0; i < npairs; i++) {
        const redisReply *rep;

        if (pairs[i].topic != ES_PAIR_DELETE) {
            continue;
        }
        if (cur != pairs[i].tenant) {
            c += cur != UINT32_MAX;
            k = 0;
            cur = pairs[i].tenant;
        }
        rep = s->replies[c];
        if (rep->type == REDIS_REPLY_ARRAY && k < rep->elements &&
            (rep->element[k]->type == REDIS_REPLY_STRING ||
             rep->element[k]->type == REDIS_REPLY_NIL)) {
            s->rec[i] = rep->element[k];
        }
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
    uint32_t cur = UINT32_MAX;
    const redisReply **rec;
    int rc = -1;

    es_stored_clear(s);
    es_argbuf_init(&b);
    rec = grow(s->rec, &s->cap, npairs + 1, sizeof(*s->rec));
    if (cmds == NULL || first == NULL || rec == NULL) {
        goto done;
    }
    s->rec = rec;
    memset(s->rec, 0, npairs * sizeof(*s->rec));
    s->npairs = npairs;
    /* one MGET per tenant, of its deletions' record keys in pair order */
    for (size_t i = 0; i < npairs; i++) {
        const es_enrich_tenant *tn = &ts->tenants[pairs[i].tenant];
        char key[512];
        int len;

        if (pairs[i].topic != ES_PAIR_DELETE) {
            continue;
        }
        if (cur != pairs[i].tenant) {
            first[n++] = es_argbuf_count(&b);
            es_argbuf_ref(&b, "MGET", 4);
            cur = pairs[i].tenant;
        }
        len = es_tenant_key_p(key, sizeof(key), tn->prefix, strlen(tn->prefix),
                              ES_TK_RECORD, entries[pairs[i].entry].id);
        es_argbuf_copy(&b, key, len < 0 ? 0 : (size_t)len);
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
        goto done;
    }
    s->nreplies = n;
    assign(s, pairs, npairs);
    rc = 0;

done:
    if (rc != 0) {
        es_stored_clear(s);
    }
    es_argbuf_free(&b);
    free(cmds);
    free(first);
    return rc;
}

void es_stored_clear(es_stored_set *s)
{
    for (size_t i = 0; i < s->nreplies; i++) {
        freeReplyObject(s->replies[i]);
    }
    free(s->replies);
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
    memset(s, 0, sizeof(*s));
}
