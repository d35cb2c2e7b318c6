/*
 * legacy.c - reading a schema-1 record (see legacy.h).
 */
#include <stdio.h>
#include <string.h>

#include "es_ids.h"
#include "es_record.h"
#include "legacy.h"

/* Latest creation time accepted: the end of year 9999 (YYYY keys). */
#define CREATED_MAX 253402300799999LL

void es_legacy_clear(es_legacy *l)
{
    json_decref(l->root);
    l->root = NULL;
    l->ntopics = 0;
}

/* member m of the record as a string (any bytes, NULs allowed) */
static int string_member(json_t *o, es_rec_member m, es_strv *out)
{
    json_t *v = json_object_get(o, es_record_member(m));

    if (!json_is_string(v)) {
        return -1;
    }
    out->s = json_string_value(v);
    out->n = json_string_length(v);
    return 0;
}

/* member m as a number within [lo, hi] */
static int number_member(json_t *o, es_rec_member m, double lo, double hi,
                         double *out)
{
    json_t *v = json_object_get(o, es_record_member(m));

    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return *out >= lo && *out <= hi ? 0 : -1;
}

/* member m as an integer within [lo, hi] */
static int integer_member(json_t *o, es_rec_member m, long long lo,
                          long long hi, long long *out)
{
    json_t *v = json_object_get(o, es_record_member(m));

    if (!json_is_integer(v)) {
        return -1;
    }
    *out = (long long)json_integer_value(v);
    return *out >= lo && *out <= hi ? 0 : -1;
}

static int is_tombstone(json_t *o)
{
    return json_object_size(o) == 1 &&
           json_is_true(json_object_get(o, ES_REC(DELETED)));
}

/* the topic ids, each valid as a part of a key; 0 or -1 */
static int topics(es_legacy *l, json_t *o)
{
    json_t *a = json_object_get(o, ES_REC(TOPICS));
    size_t i;
    json_t *v;

    if (!json_is_array(a) || json_array_size(a) > ES_LEGACY_TOPICS_MAX) {
        return -1;
    }
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (s == NULL || n > 64 || es_tenant_id_valid(s, n) != 0) {
            return -1;
        }
        l->topics[l->ntopics++] = s;
    }
    return 0;
}

/* the sentiment members and the engine; NULL or what is wrong */
static const char *sentiment(es_legacy *l, json_t *o)
{
    es_strv label, engine;

    if (string_member(o, ES_REC_LABEL, &label) != 0 ||
        es_label_parse(label.s, &l->st.label) != 0) {
        return "label";
    }
    if (number_member(o, ES_REC_COMPOUND, -1.0, 1.0, &l->st.compound) != 0 ||
        number_member(o, ES_REC_NEG, 0.0, 1.0, &l->st.neg) != 0 ||
        number_member(o, ES_REC_NEU, 0.0, 1.0, &l->st.neu) != 0 ||
        number_member(o, ES_REC_POS, 0.0, 1.0, &l->st.pos) != 0) {
        return "compound, neg, neu or pos";
    }
    if (integer_member(o, ES_REC_CS, -10000, 10000, &l->cs) != 0) {
        return "cs";
    }
    if (string_member(o, ES_REC_ENGINE, &engine) != 0) {
        return "engine";
    }
    if (strcmp(engine.s, "vader") == 0) {
        l->engine = "vader";
    } else if (strcmp(engine.s, "comprehend") == 0) {
        l->engine = "comprehend";
    } else {
        return "engine";
    }
    return NULL;
}

/* the comment's own members into l->en; NULL or what is wrong */
static const char *comment(es_legacy *l, json_t *o, const char *id)
{
    es_enrich_entry *en = &l->en;
    es_strv rid, sub;

    if (string_member(o, ES_REC_ID, &rid) != 0 || rid.n != strlen(id) ||
        memcmp(rid.s, id, rid.n) != 0) {
        return "id (not the key's)";
    }
    snprintf(en->id, sizeof(en->id), "%s", id);
    if (string_member(o, ES_REC_SUBREDDIT, &sub) != 0 ||
        es_subreddit_normalize(sub.s, sub.n, en->subreddit) != 0) {
        return "subreddit";
    }
    if (integer_member(o, ES_REC_CREATED, 0, CREATED_MAX, &en->created_ms) !=
        0) {
        return "created";
    }
    es_enrich_entry_set_time(en, en->created_ms);
    if (string_member(o, ES_REC_AUTHOR, &en->author) != 0 ||
        string_member(o, ES_REC_BODY, &en->body) != 0 ||
        string_member(o, ES_REC_PERMALINK, &en->permalink) != 0 ||
        string_member(o, ES_REC_LINK_TITLE, &en->link_title) != 0 ||
        string_member(o, ES_REC_SCORE, &en->score) != 0) {
        return "author, body, permalink, link_title or score";
    }
    return NULL;
}

es_legacy_kind es_legacy_parse(es_legacy *l, const char *id, const char *text,
                               size_t n, const char **why)
{
    json_error_t err;
    json_t *o;

    es_legacy_clear(l);
    memset(&l->en, 0, sizeof(l->en));
    memset(&l->st, 0, sizeof(l->st));
    l->cs = 0;
    l->engine = NULL;
    *why = NULL;
    o = json_loadb(text, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!json_is_object(o)) {
        json_decref(o);
        *why = "not a JSON object";
        return ES_LEGACY_MALFORMED;
    }
    if (is_tombstone(o)) {
        json_decref(o);
        return ES_LEGACY_TOMBSTONE;
    }
    l->root = o;
    if (topics(l, o) != 0) {
        *why = "topics";
    } else if ((*why = sentiment(l, o)) == NULL) {
        *why = comment(l, o, id);
    }
    if (*why != NULL) {
        es_legacy_clear(l);
        return ES_LEGACY_MALFORMED;
    }
    return ES_LEGACY_RECORD;
}
