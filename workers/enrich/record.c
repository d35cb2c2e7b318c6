/*
 * record.c - the per-comment record JSON (see record.h).
 *
 * Member names come from the record table (es_record.h), in its order.
 * The text is built by hand rather than through jansson because every
 * matched comment makes one (and copies its body once more).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "es_record.h"
#include "fmt.h"
#include "record.h"

static void num4(es_jsonw *w, const char *key, double v)
{
    char buf[64 + ES_FMT_FIXED4_MAX];
    size_t n = strlen(key);

    buf[0] = ',';
    buf[1] = '"';
    memcpy(buf + 2, key, n);
    buf[n + 2] = '"';
    buf[n + 3] = ':';
    n += 4;
    n += es_fmt_fixed4(buf + n, v);
    es_jsonw_raw(w, buf, n);
}

static void num(es_jsonw *w, const char *key, long long v)
{
    char buf[96];
    size_t n = strlen(key);

    buf[0] = ',';
    buf[1] = '"';
    memcpy(buf + 2, key, n);
    buf[n + 2] = '"';
    buf[n + 3] = ':';
    n += 4;
    n += es_fmt_ll(buf + n, v);
    es_jsonw_raw(w, buf, n);
}

static void field(es_jsonw *w, const char *key, const char *s, size_t n)
{
    es_jsonw_raw(w, ",", 1);
    es_jsonw_key(w, key);
    es_jsonw_str(w, s ? s : "", s ? n : 0);
}

/* ,"key":[ … ] of the terms */
static void terms(es_jsonw *w, const char *key, const es_terms *tm)
{
    es_jsonw_raw(w, ",", 1);
    es_jsonw_key(w, key);
    es_jsonw_raw(w, "[", 1);
    for (size_t i = 0; i < tm->n; i++) {
        if (i > 0) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tm->term[i], tm->len[i]);
    }
    es_jsonw_raw(w, "]", 1);
}

void es_record_json(es_jsonw *w, const es_topic_set *ts,
                    const es_enrich_entry *en, const es_sentiment *st,
                    const char *engine, long long cs, const es_terms *tm,
                    const es_enrich_pair *pairs, size_t s, size_t e)
{
    const char *label = es_label_name(st->label);

    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, "{", 1);
    es_jsonw_key(w, ES_REC(ID));
    es_jsonw_str(w, en->id, strlen(en->id));
    es_jsonw_raw(w, ",", 1);
    es_jsonw_key(w, ES_REC(TOPICS));
    es_jsonw_raw(w, "[", 1);
    for (size_t i = s; i < e; i++) {
        const char *tid = ts->topics[pairs[i].topic].id;
        if (i > s) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tid, strlen(tid));
    }
    es_jsonw_raw(w, "]", 1);
    field(w, ES_REC(LABEL), label, strlen(label));
    num4(w, ES_REC(COMPOUND), st->compound);
    num4(w, ES_REC(NEG), st->neg);
    num4(w, ES_REC(NEU), st->neu);
    num4(w, ES_REC(POS), st->pos);
    num(w, ES_REC(CS), cs);
    field(w, ES_REC(ENGINE), engine, strlen(engine));
    num(w, ES_REC(CREATED), en->created_ms);
    field(w, ES_REC(T), en->t, strlen(en->t));
    num(w, ES_REC(MONTH), en->month_start);
    terms(w, ES_REC(TERMS), tm);
    field(w, ES_REC(SUBREDDIT), en->subreddit, strlen(en->subreddit));
    field(w, ES_REC(AUTHOR), en->author.s, en->author.n);
    field(w, ES_REC(BODY), en->body.s, en->body.n);
    field(w, ES_REC(PERMALINK), en->permalink.s, en->permalink.n);
    field(w, ES_REC(LINK_TITLE), en->link_title.s, en->link_title.n);
    field(w, ES_REC(SCORE), en->score.s, en->score.n);
    es_jsonw_raw(w, "}", 1);
}

const es_sentiment *es_record_sentiment(const es_entry_score *sco,
                                        const es_enrich_pair *pr,
                                        const char **engine)
{
    int cmp = pr->comprehend && sco->has_comprehend;

    *engine = cmp ? "comprehend" : "vader";
    return cmp ? &sco->comprehend : &sco->vader;
}

long long es_record_cs(const es_sentiment *st)
{
    return llround(st->compound * 10000.0);
}

void es_record_of(es_jsonw *w, const es_topic_set *ts,
                  const es_enrich_entry *en, const es_entry_score *sco,
                  const es_terms *tm, const es_enrich_pair *pairs, size_t s,
                  size_t e)
{
    const char *engine;
    const es_sentiment *st = es_record_sentiment(sco, &pairs[s], &engine);

    es_record_json(w, ts, en, st, engine, es_record_cs(st), tm, pairs, s, e);
}
