/*
 * record.c - the per-comment record JSON (see record.h).
 */
#include <stdio.h>
#include <string.h>

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

void es_record_json(es_jsonw *w, const es_topic_set *ts,
                    const es_enrich_entry *en, const es_sentiment *st,
                    const char *engine, long long cs, const es_terms *tm,
                    const es_enrich_pair *pairs, size_t s, size_t e)
{
    w->len = 0;
    w->oom = 0;
    es_jsonw_raw(w, "{", 1);
    es_jsonw_key(w, "id");
    es_jsonw_str(w, en->id, strlen(en->id));
    es_jsonw_raw(w, ",\"topics\":[", 11);
    for (size_t i = s; i < e; i++) {
        const char *tid = ts->topics[pairs[i].topic].id;
        if (i > s) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tid, strlen(tid));
    }
    es_jsonw_raw(w, "]", 1);
    field(w, "label", es_label_name(st->label),
          strlen(es_label_name(st->label)));
    num4(w, "compound", st->compound);
    num4(w, "neg", st->neg);
    num4(w, "neu", st->neu);
    num4(w, "pos", st->pos);
    num(w, "cs", cs);
    field(w, "engine", engine, strlen(engine));
    num(w, "created", en->created_ms);
    field(w, "t", en->t, strlen(en->t));
    num(w, "month", en->month_start);
    es_jsonw_raw(w, ",\"terms\":[", 10);
    for (size_t i = 0; i < tm->n; i++) {
        if (i > 0) {
            es_jsonw_raw(w, ",", 1);
        }
        es_jsonw_str(w, tm->term[i], tm->len[i]);
    }
    es_jsonw_raw(w, "]", 1);
    field(w, "subreddit", en->subreddit, strlen(en->subreddit));
    field(w, "author", en->author.s, en->author.n);
    field(w, "body", en->body.s, en->body.n);
    field(w, "permalink", en->permalink.s, en->permalink.n);
    field(w, "link_title", en->link_title.s, en->link_title.n);
    field(w, "score", en->score.s, en->score.n);
    es_jsonw_raw(w, "}", 1);
}
