/*
 * entry.c - parsing and validation of stream entries (see entry.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "es_ids.h"

/* Finds a field's value among [f, v, …]; NULL when absent. */
static const redisReply *field(const redisReply *fields, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *f = fields->element[i];
        if (f->type == REDIS_REPLY_STRING && f->len == n &&
            memcmp(f->str, name, n) == 0) {
            const redisReply *v = fields->element[i + 1];
            return v->type == REDIS_REPLY_STRING ? v : NULL;
        }
    }
    return NULL;
}

static es_strv strv(const redisReply *v)
{
    es_strv s = {"", 0};

    if (v != NULL) {
        s.s = v->str;
        s.n = v->len;
    }
    return s;
}

void es_enrich_entry_set_time(es_enrich_entry *e, long long ms)
{
    time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm, first;

    gmtime_r(&secs, &tm);
    snprintf(e->t, sizeof(e->t), "%04d%02d%02d%02d%02d",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min);
    snprintf(e->day, sizeof(e->day), "%04d-%02d-%02d",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday);
    snprintf(e->hour, sizeof(e->hour), "%02d", tm.tm_hour);
    memset(&first, 0, sizeof(first));
    first.tm_year = tm.tm_year;
    first.tm_mon = tm.tm_mon;
    first.tm_mday = 1;
    e->month_start = (long long)timegm(&first);
}

/* "1732540000.123" -> ms; -1 when not a plausible time. */
static long long parse_created(const redisReply *v)
{
    char buf[64], *end;
    double d;

    if (v == NULL || v->len == 0 || v->len >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';
    d = strtod(buf, &end);
    /* years 1970..2999: anything else is a broken producer */
    if (end == buf || *end != '\0' || !(d >= 0.0 && d < 32503680000.0)) {
        return -1;
    }
    return (long long)(d * 1000.0 + 0.5);
}

/* Stream ids are "<ms>-<seq>": the ms part dates a deletion. */
static long long stream_id_ms(const char *id)
{
    return strtoll(id, NULL, 10);
}

int es_enrich_entry_parse(const redisReply *e, es_enrich_entry *out, char *err,
                          size_t errlen)
{
    const redisReply *type, *id, *sub;
    uint64_t num;

    memset(out, 0, sizeof(*out));
    if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
        e->element[0]->type != REDIS_REPLY_STRING) {
        snprintf(err, errlen, "not a stream entry");
        return -1;
    }
    out->stream_id = e->element[0]->str;
    out->fields = e->element[1];
    if (out->fields->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "entry no longer in the stream");
        out->fields = NULL;
        return -1;
    }
    type = field(out->fields, ES_F_TYPE);
    id = field(out->fields, ES_F_ID);
    sub = field(out->fields, ES_F_SUBREDDIT);
    if (type == NULL) {
        snprintf(err, errlen, "missing field type");
        return -1;
    }
    if (strcmp(type->str, ES_TYPE_DELETE) == 0) {
        out->is_delete = 1;
    } else if (strcmp(type->str, ES_TYPE_COMMENT) != 0) {
        snprintf(err, errlen, "unknown entry type");
        return -1;
    }
    if (id == NULL || es_comment_id_parse(id->str, id->len, &num) != 0) {
        snprintf(err, errlen, "missing or invalid comment id");
        return -1;
    }
    es_comment_id_format(num, out->id);
    if (sub == NULL ||
        es_subreddit_normalize(sub->str, sub->len, out->subreddit) != 0) {
        snprintf(err, errlen, "missing or invalid subreddit");
        return -1;
    }
    if (out->is_delete) {
        /* the archive files a deletion under when it was streamed; its
           comment's creation time, when the entry carries it, finds the
           record to reverse (-1: the worker looks for it) */
        es_enrich_entry_set_time(out, stream_id_ms(out->stream_id));
        out->created_ms = parse_created(field(out->fields, ES_F_CREATED));
        return 0;
    }
    out->created_ms = parse_created(field(out->fields, ES_F_CREATED));
    if (out->created_ms < 0) {
        snprintf(err, errlen, "missing or invalid created_utc");
        return -1;
    }
    es_enrich_entry_set_time(out, out->created_ms);
    out->author = strv(field(out->fields, ES_F_AUTHOR));
    out->body = strv(field(out->fields, ES_F_BODY));
    out->permalink = strv(field(out->fields, ES_F_PERMALINK));
    out->link_title = strv(field(out->fields, ES_F_LINK_TITLE));
    out->score = strv(field(out->fields, ES_F_SCORE));
    return 0;
}
