/*
 * ngx_http_echostream_stream_entries.c - what one poll of GET /stream read
 * and shows: the entries of its XRANGE reply and their comment ids, the
 * es_records of their records, and the events they make.
 *
 * A poll takes whole entries only, so the "id:" on an entry's last event
 * stays true, and at most 2000 ids unless a single entry holds more, so a
 * poll's memory stays bounded; the position moves past every entry taken,
 * shown or not. Comment ids that are not ids are skipped and counted in
 * one log line per poll; records that do not parse are skipped with a log
 * line, records gone with their retention without one.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "es_req_stream.h"
#include "api/ngx_http_echostream_api.h"
#include "api/ngx_http_echostream_comment_json.h"
#include "routes/ngx_http_echostream_stream.h"

/* ids read per poll (whole entries, at least one), and per entry */
#define NGX_HTTP_ECHOSTREAM_STREAM_IDS       2000
#define NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS 10000

#define NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS                                  \
    (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

static ngx_int_t
ngx_http_echostream_stream_records(ngx_http_echostream_stream_t *st);

/*
 * An XRANGE reply: notes the entries and their valid ids (whole entries,
 * up to NGX_HTTP_ECHOSTREAM_STREAM_IDS ids) and asks for the records.
 */
ngx_int_t ngx_http_echostream_stream_range(ngx_http_echostream_stream_t *st,
                                           redisReply *rep)
{
    ngx_http_echostream_stream_entry_t *en;
    redisReply *e, *f, *ids, *hours;
    ngx_uint_t i, j, n, bad;
    u_char *p, *end, *q, *hp, *hend;

    if (rep->type != REDIS_REPLY_ARRAY) {
        return NGX_ERROR;
    }

    st->more = (rep->elements == 50);
    st->nentries = 0;
    st->nids = 0;

    if (rep->elements == 0) {
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    st->entries = ngx_palloc(st->page, rep->elements * sizeof(*en));
    if (st->entries == NULL) {
        return NGX_ERROR;
    }

    /* the ids of all entries read: their total length bounds their number */
    n = 0;
    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            !es_req_entry_id_valid(e->element[0]->str, e->element[0]->len) ||
            e->element[1]->type != REDIS_REPLY_ARRAY) {
            return NGX_ERROR;
        }
        f = e->element[1];
        for (j = 0; j + 1 < f->elements; j += 2) {
            n += f->element[j + 1]->len / 2 + 1;
        }
    }

    n = ngx_min(n, NGX_HTTP_ECHOSTREAM_STREAM_IDS +
                       NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS);
    st->ids = ngx_palloc(st->page, n * sizeof(*st->ids));
    st->lens = ngx_palloc(st->page, n * sizeof(size_t));
    st->hours = ngx_pnalloc(st->page, n * 10);
    if (st->ids == NULL || st->lens == NULL || st->hours == NULL) {
        return NGX_ERROR;
    }

    bad = 0;

    for (i = 0; i < rep->elements; i++) {
        e = rep->element[i];
        f = e->element[1];

        ids = NULL;
        hours = NULL;
        for (j = 0; j + 1 < f->elements; j += 2) {
            if (f->element[j]->type != REDIS_REPLY_STRING ||
                f->element[j + 1]->type != REDIS_REPLY_STRING) {
                continue;
            }
            if (f->element[j]->len == 3 &&
                ngx_strncmp(f->element[j]->str, "ids", 3) == 0) {
                ids = f->element[j + 1];
            } else if (f->element[j]->len == 5 &&
                       ngx_strncmp(f->element[j]->str, "hours", 5) == 0) {
                hours = f->element[j + 1];
            }
        }

        /* whole entries only, so "id:" stays true; at least one */
        if (st->nentries > 0 && ids != NULL &&
            st->nids + ids->len / 2 + 1 > NGX_HTTP_ECHOSTREAM_STREAM_IDS) {
            st->more = 1;
            break;
        }

        en = &st->entries[st->nentries++];
        ngx_memcpy(en->id, e->element[0]->str, e->element[0]->len);
        en->len = e->element[0]->len;
        en->first = st->nids;
        en->n = 0;

        if (ids == NULL || hours == NULL) {
            bad++;
            continue;
        }

        p = (u_char *)ids->str;
        end = p + ids->len;
        /* the creation hours: one for all, or one per id in order */
        hp = (u_char *)hours->str;
        hend = hp + hours->len;

        while (p < end) {
            u_char *hour = hp;

            q = ngx_strlchr(p, end, ',');
            if (q == NULL) {
                q = end;
            }
            if (hours->len == 10) {
                /* one hour for every id (enrich's common case) */
                hp = (u_char *)hours->str;
                hour = hp;
            } else if (hp + 10 <= hend && (hp + 10 == hend || hp[10] == ',')) {
                hp += 11;
            } else {
                hour = NULL;
                hp = hend;
            }
            for (j = 0; hour != NULL && j < 10; j++) {
                if (hour[j] < '0' || hour[j] > '9') {
                    hour = NULL;
                }
            }

            for (j = 0; p + j < q; j++) {
                if (!((p[j] >= '0' && p[j] <= '9') ||
                      (p[j] >= 'a' && p[j] <= 'z'))) {
                    break;
                }
            }

            if (p + j < q || j == 0 || j > NGX_HTTP_ECHOSTREAM_STREAM_ID_LEN ||
                hour == NULL || en->n >= NGX_HTTP_ECHOSTREAM_STREAM_ENTRY_IDS ||
                st->nids >= n) {
                bad++;

            } else {
                ngx_memcpy(st->ids[st->nids], p, j);
                ngx_memcpy(st->hours + 10 * st->nids, hour, 10);
                st->lens[st->nids] = j;
                st->nids++;
                en->n++;
            }

            p = q + 1;
        }
    }

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, st->ctx->r->connection->log, 0,
                      "echostream api: skipped %ui malformed ids in \"%V\"",
                      bad, &st->key);
    }

    if (st->nids == 0) {
        /* nothing to show: move past these entries */
        en = &st->entries[st->nentries - 1];
        ngx_memcpy(st->last, en->id, en->len);
        st->last_len = en->len;
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    return ngx_http_echostream_stream_records(st);
}

/* Queues the reading of the poll's records (es_records). */
static ngx_int_t
ngx_http_echostream_stream_records(ngx_http_echostream_stream_t *st)
{
    const char **argv;
    const size_t *lens;
    int argc;

    if (ngx_http_echostream_api_records_cmd(
            st->ctx, st->page, st->ids[0], sizeof(st->ids[0]), st->lens,
            st->hours, st->nids, &argc, &argv, &lens) != NGX_OK) {
        return NGX_ERROR;
    }

    st->phase = NGX_HTTP_ECHOSTREAM_STREAM_RECORDS;

    return ngx_http_echostream_stream_redis(st, argc, argv, lens);
}

/* The records' reply: one event per comment shown, in stream order. */
ngx_int_t ngx_http_echostream_stream_events(ngx_http_echostream_stream_t *st,
                                            redisReply *rep)
{
    ngx_http_echostream_stream_entry_t *en;
    ngx_http_request_t *r = st->ctx->r;
    ngx_uint_t i, k, last;
    json_t **c;
    const char *why;
    size_t size, n;
    u_char *text, *p;
    redisReply *v;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != st->nids) {
        return NGX_ERROR;
    }

    c = ngx_pcalloc(st->page, st->nids * sizeof(json_t *));
    if (c == NULL) {
        return NGX_ERROR;
    }

    /* new references, released below; NULL: nothing to show */
    size = 0;
    for (i = 0; i < st->nids; i++) {
        v = rep->element[i];
        if (v->type != REDIS_REPLY_STRING) {
            continue; /* gone with its retention */
        }

        c[i] = ngx_http_echostream_comment_json_ex(v->str, v->len, &why);
        if (c[i] == NULL) {
            if (why != NULL) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "echostream api: stream skips comment record "
                              "\"%*s\": %s",
                              st->lens[i], st->ids[i], why);
            }
            continue;
        }

        n = json_dumpb(c[i], NULL, 0, NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS);
        if (n == 0) {
            json_decref(c[i]);
            c[i] = NULL;
            continue;
        }

        /* "event: comment\n" "id: <id>\n" "data: " json "\n\n" */
        size += n + sizeof("event: comment\nid: \ndata: \n\n") +
                NGX_HTTP_ECHOSTREAM_STREAM_EID_LEN;
    }

    text = size ? ngx_pnalloc(st->page, size) : NULL;
    p = text;

    for (k = 0; text != NULL && k < st->nentries; k++) {
        en = &st->entries[k];

        /* the entry's id goes on its last event shown (none: past it) */
        last = en->first + en->n;
        for (i = en->first; i < en->first + en->n; i++) {
            if (c[i] != NULL) {
                last = i;
            }
        }

        for (i = en->first; i < en->first + en->n; i++) {
            if (c[i] == NULL) {
                continue;
            }

            p = ngx_cpymem(p, "event: comment\n", 15);
            if (i == last) {
                p = ngx_sprintf(p, "id: %*s\n", en->len, en->id);
            }
            p = ngx_cpymem(p, "data: ", 6);
            p += json_dumpb(c[i], (char *)p, size - (p - text),
                            NGX_HTTP_ECHOSTREAM_STREAM_JSON_FLAGS);
            *p++ = '\n';
            *p++ = '\n';
        }
    }

    for (i = 0; i < st->nids; i++) {
        json_decref(c[i]);
    }

    if (size > 0 && text == NULL) {
        return NGX_ERROR;
    }

    /* read on from the last entry taken, whatever could be shown */
    en = &st->entries[st->nentries - 1];
    ngx_memcpy(st->last, en->id, en->len);
    st->last_len = en->len;

    if (p == text) {
        ngx_http_echostream_stream_idle(st);
        return NGX_OK;
    }

    ngx_http_echostream_stream_send(st, text, p - text, 0);
    return NGX_OK;
}
