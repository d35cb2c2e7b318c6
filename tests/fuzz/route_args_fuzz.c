/*
 * route_args_fuzz.c - the query strings of the API's routes, as the
 * module hands r->args to the checks of lib/es_req_*.c, and the value of
 * /stream's Last-Event-ID header.
 *
 * The input is one query string, given to every route's check (comments,
 * series, share of voice, export, terms, alert history, the unsubscribe
 * link) at a fixed "now", and to the Last-Event-ID check as a header
 * value. An unsubscribe link is also signed and verified with a fixed
 * key: a link the check accepts verifies under its own signature only.
 * Invariants: a refusal is 400 bad_request with a field and a message that are
 * non-empty valid UTF-8 (the module puts them in JSON as they are); an
 * acceptance holds only values within their documented ranges (entry ids that
 * Redis takes as the exclusive bound they become), and a comments cursor it
 * accepts encodes back to the very text that was sent.
 */
#include "es_ids.h"
#include "es_req.h"
#include "es_req_comments.h"
#include "es_req_export.h"
#include "es_req_history.h"
#include "es_req_series.h"
#include "es_req_sov.h"
#include "es_req_stream.h"
#include "es_req_terms.h"
#include "es_req_unsub.h"
#include "es_unsub.h"
#include "es_utf8.h"
#include "fuzz.h"

/* 2026-11-25T14:00:30.123Z */
#define NOW 1795615230123LL

static void check_refusal(int rc, const es_req_err *err)
{
    ES_FUZZ_CHECK(rc == -1);
    ES_FUZZ_CHECK(err->status == 400);
    ES_FUZZ_CHECK(err->code != NULL && strcmp(err->code, "bad_request") == 0);
    ES_FUZZ_CHECK(err->field[0] != '\0');
    ES_FUZZ_CHECK(es_utf8_valid(err->field, strlen(err->field)));
    ES_FUZZ_CHECK(err->message[0] != '\0');
    ES_FUZZ_CHECK(es_utf8_valid(err->message, strlen(err->message)));
}

static int is_one_of(const char *field, const char *a, const char *b,
                     const char *c)
{
    return strcmp(field, a) == 0 || (b && strcmp(field, b) == 0) ||
           (c && strcmp(field, c) == 0);
}

static void fuzz_comments(const char *qs, size_t n)
{
    char text[ES_REQ_CURSOR_LEN + 1], sent[ES_REQ_CURSOR_LEN + 1];
    es_req_comments_args a;
    es_req_err err;
    size_t len;
    int rc;

    rc = es_req_comments_read(qs, n, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "limit", "sentiment", "cursor"));
        return;
    }

    ES_FUZZ_CHECK(a.limit >= 1 && a.limit <= ES_REQ_COMMENTS_LIMIT_MAX);
    ES_FUZZ_CHECK(a.sentiment >= -1 && a.sentiment < ES_REQ_SENTIMENTS);

    if (a.has_cursor) {
        ES_FUZZ_CHECK(a.cursor.score >= 0 &&
                      a.cursor.score <= ES_REQ_CURSOR_SCORE_MAX);
        ES_FUZZ_CHECK(a.cursor.ties <= ES_REQ_CURSOR_TIES_MAX);
        ES_FUZZ_CHECK(es_req_cursor_id_valid(a.cursor.id, a.cursor.id_len));
        ES_FUZZ_CHECK(strlen(a.cursor.id) == a.cursor.id_len);

        /* the text sent is the one the API would give for it */
        ES_FUZZ_CHECK(es_req_arg(qs, n, "cursor", sent, ES_REQ_CURSOR_LEN,
                                 &len) == ES_ARG_OK);
        ES_FUZZ_CHECK(es_req_cursor_encode(&a.cursor, text) == (int)len);
        ES_FUZZ_CHECK(memcmp(text, sent, len) == 0);
    }
}

static void fuzz_series(const char *qs, size_t n)
{
    const es_req_series_step *st;
    es_req_series_args a;
    es_req_err err;
    int64_t oldest;
    int rc;

    rc = es_req_series_read(qs, n, NOW, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "step", "from", "to"));
        return;
    }

    ES_FUZZ_CHECK(a.step < ES_REQ_SERIES_STEPS);
    st = &es_req_series_steps[a.step];
    oldest = NOW - st->keep;
    oldest -= oldest % st->step;

    ES_FUZZ_CHECK(a.from >= 0 && a.from < a.to);
    ES_FUZZ_CHECK(a.to < ES_REQ_SERIES_END_MS);
    ES_FUZZ_CHECK(a.from % st->step == 0);
    ES_FUZZ_CHECK(a.from >= oldest);
    ES_FUZZ_CHECK(a.npoints >= 1 && a.npoints <= ES_REQ_SERIES_MAX_POINTS);
    ES_FUZZ_CHECK(a.from + (int64_t)(a.npoints - 1) * st->step < a.to);
    ES_FUZZ_CHECK(a.from + (int64_t)a.npoints * st->step >= a.to);
}

static void fuzz_sov(const char *qs, size_t n)
{
    es_req_sov_args a;
    es_req_err err;
    int rc;

    rc = es_req_sov_read(qs, n, NOW, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "from", "to", NULL));
        return;
    }

    /* a default from may lie up to 6 days before 1970 (es_req_sov.c) */
    ES_FUZZ_CHECK(a.from >= -(ES_REQ_SOV_DAYS - 1) && a.from <= a.to);
    ES_FUZZ_CHECK(a.to <= ES_REQ_SOV_LAST_DAY);
    ES_FUZZ_CHECK(a.ndays >= 1 && a.ndays <= ES_REQ_SOV_DAYS_MAX);
    ES_FUZZ_CHECK((int64_t)a.ndays == a.to - a.from + 1);
}

static void fuzz_export(const char *qs, size_t n)
{
    es_req_export_args a;
    es_req_err err;
    int rc;

    rc = es_req_export_read(qs, n, NOW, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "topic", "from", "to"));
        return;
    }

    ES_FUZZ_CHECK(es_req_id_valid(a.topic, a.topic_len));
    ES_FUZZ_CHECK(strlen(a.topic) == a.topic_len);
    ES_FUZZ_CHECK(a.from >= 0 && a.from < a.to);
    ES_FUZZ_CHECK(a.to < ES_REQ_EXPORT_END_MS);
    ES_FUZZ_CHECK(a.to - a.from <= ES_REQ_EXPORT_MAX_MS);
}

static void fuzz_terms(const char *qs, size_t n)
{
    es_req_terms_args a;
    es_req_err err;
    int rc;

    rc = es_req_terms_read(qs, n, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "hours", "limit", NULL));
        return;
    }

    ES_FUZZ_CHECK(a.hours >= 1 && a.hours <= ES_REQ_TERMS_HOURS);
    ES_FUZZ_CHECK(a.limit >= 1 && a.limit <= ES_REQ_TERMS_LIMIT_MAX);
}

static void fuzz_history(const char *qs, size_t n)
{
    es_req_history_args a;
    uint64_t ms, seq;
    es_req_err err;
    int rc;

    rc = es_req_history_read(qs, n, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(is_one_of(err.field, "limit", "cursor", NULL));
        return;
    }

    ES_FUZZ_CHECK(a.limit >= 1 && a.limit <= ES_REQ_HISTORY_LIMIT_MAX);
    if (a.has_cursor) {
        ES_FUZZ_CHECK(a.cursor_len <= ES_REQ_ENTRY_ID_LEN);
        ES_FUZZ_CHECK(strlen(a.cursor) == a.cursor_len);
        ES_FUZZ_CHECK(es_req_entry_id(a.cursor, a.cursor_len, &ms, &seq) == 0);
        /* Redis takes "(<cursor>" as an end: something lies below it */
        ES_FUZZ_CHECK(ms != 0 || seq != 0);
    }
}

static void fuzz_stream(const char *v, size_t n)
{
    es_req_stream_args a;
    uint64_t ms, seq;
    es_req_err err;
    int rc;

    rc = es_req_stream_read(v, n, &a, &err);
    if (rc != 0) {
        check_refusal(rc, &err);
        ES_FUZZ_CHECK(strcmp(err.field, "Last-Event-ID") == 0);
        ES_FUZZ_CHECK(a.resume == 0);
        return;
    }

    ES_FUZZ_CHECK(a.resume == 1);
    ES_FUZZ_CHECK(a.last_len == n && memcmp(a.last, v, n) == 0);
    ES_FUZZ_CHECK(es_req_entry_id(a.last, a.last_len, &ms, &seq) == 0);
    /* Redis takes "(<last>" as a start: something can follow it */
    ES_FUZZ_CHECK(ms != UINT64_MAX || seq != UINT64_MAX);
}

static void fuzz_unsub(const char *qs, size_t n)
{
    static const unsigned char key[] = "fuzz-key-0123456789abcdef";
    char sig[ES_UNSUB_SIG_LEN + 1];
    es_req_unsub_args a;
    es_req_err err;
    int rc;

    rc = es_req_unsub_read(qs, n, &a, &err);
    if (rc != 0) {
        ES_FUZZ_CHECK(rc == -1);
        /* a bad signature is a forged one (403); the rest name their part */
        if (err.status == 403) {
            ES_FUZZ_CHECK(strcmp(err.code, "invalid_signature") == 0);
            ES_FUZZ_CHECK(strcmp(err.field, "sig") == 0);
        } else {
            check_refusal(rc, &err);
            ES_FUZZ_CHECK(is_one_of(err.field, "t", "s", "l"));
        }
        return;
    }

    ES_FUZZ_CHECK(es_tenant_id_valid(a.tenant, strlen(a.tenant)) == 0);
    ES_FUZZ_CHECK(es_user_sub_valid(a.sub, strlen(a.sub)) == 0);
    ES_FUZZ_CHECK(
        (strcmp(a.list, "digest") == 0 && strcmp(a.member, "digest") == 0) ||
        (strcmp(a.list, "alerts") == 0 &&
         strcmp(a.member, "alert_email") == 0));
    ES_FUZZ_CHECK(strlen(a.sig) == ES_UNSUB_SIG_LEN);

    ES_FUZZ_CHECK(
        es_unsub_sign(key, sizeof(key) - 1, a.tenant, a.sub, a.list, sig) == 0);
    ES_FUZZ_CHECK(es_unsub_verify(key, sizeof(key) - 1, a.tenant, a.sub, a.list,
                                  sig) == 1);
    ES_FUZZ_CHECK(es_unsub_verify(key, sizeof(key) - 1, a.tenant, a.sub, a.list,
                                  a.sig) == (strcmp(sig, a.sig) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs;

    qs = es_fuzz_copy(data, size, 0);

    fuzz_comments(qs, size);
    fuzz_series(qs, size);
    fuzz_sov(qs, size);
    fuzz_export(qs, size);
    fuzz_terms(qs, size);
    fuzz_history(qs, size);
    fuzz_stream(qs, size);
    fuzz_unsub(qs, size);

    free(qs);
    return 0;
}
