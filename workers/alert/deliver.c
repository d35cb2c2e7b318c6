/*
 * deliver.c - the delivery loop (see deliver.h for the guarantees).
 *
 * One entry at a time (COUNT 1): an entry read is an entry worked on, so
 * a stop never leaves read-but-untouched entries waiting for a claim.
 * Every Redis write goes through es_delivery_update's compare-and-set on
 * the record text this loop read or last wrote; when it answers 0 the
 * record moved under us (another worker, or a retried call that had
 * already landed) and the loop lets go of the entry: the stored record
 * decides what, if anything, is left to send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "delivery.h"
#include "deliver.h"
#include "es_ids.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_unsub.h"
#include "es_worker.h"
#include "event.h"

typedef struct {
    es_deliverer *d;
    const char *entry;  /* queue entry id */
    const char *tenant; /* validated */
    const char *id;     /* delivery id */
    char k_deliveries[160];
    json_t *rec;   /* the record as last stored */
    char *text;    /* its text, the expected value of the next update */
    json_t *event; /* alert: the history's event, with "id" */
    char topic_name[256];
    redisReply *members; /* HVALS, for unsubscribe links */
} job;

void es_deliver_init(es_deliverer *d, es_redis *r, const char *group,
                     const char *consumer, long long claim_idle_ms)
{
    memset(d, 0, sizeof(*d));
    d->r = r;
    d->claim_idle_ms = claim_idle_ms;
    d->max_attempts = ES_DELIVERY_MAX_ATTEMPTS;
    es_consumer_init(&d->c, r, ES_KEY_DELIVER_QUEUE, group, consumer, 1, 1000,
                     claim_idle_ms);
}

static long long now_ms(const es_deliverer *d)
{
    return es_now_ms() + d->clock_offset_ms;
}

/* Acknowledges and deletes entry: its record needs nothing more. */
static void drop_entry(es_deliverer *d, const char *entry)
{
    redisReply *rep = es_redis_cmd(d->r, "XACK %s %s %s", ES_KEY_DELIVER_QUEUE,
                                   d->c.group, entry);
    if (rep) {
        freeReplyObject(rep);
    }
    rep = es_redis_cmd(d->r, "XDEL %s %s", ES_KEY_DELIVER_QUEUE, entry);
    if (rep) {
        freeReplyObject(rep);
    }
}

/*
 * Stores the record as changed in j->rec; closed: acknowledge and drop
 * the entry in the same step. 1 stored, 0 the record moved, -1 failure.
 */
static int store(job *j, int closed)
{
    char *next = json_dumps(j->rec, JSON_COMPACT);
    const char *argv[11];
    size_t lens[11];
    redisReply *rep;
    int rc = -1;

    if (next == NULL) {
        return -1;
    }
    argv[0] = "FCALL";
    argv[1] = "es_delivery_update";
    argv[2] = "2";
    argv[3] = j->k_deliveries;
    argv[4] = ES_KEY_DELIVER_QUEUE;
    argv[5] = j->d->c.group;
    argv[6] = j->entry;
    argv[7] = j->id;
    argv[8] = j->text;
    argv[9] = next;
    argv[10] = closed ? "1" : "0";
    for (int i = 0; i < 11; i++) {
        lens[i] = strlen(argv[i]);
    }
    rep = es_redis_argv(j->d->r, 11, argv, lens);
    if (rep && rep->type == REDIS_REPLY_INTEGER) {
        rc = rep->integer == 1 ? 1 : 0;
    } else if (rep && rep->type == REDIS_REPLY_ERROR) {
        es_log(ES_ERROR, "es_delivery_update failed", ES_STR("error", rep->str),
               ES_END);
    }
    if (rep) {
        freeReplyObject(rep);
    }
    if (rc == 1) {
        free(j->text);
        j->text = next;
        if (closed) {
            const char *st =
                json_string_value(json_object_get(j->rec, "status"));
            int ok = st && strcmp(st, "sent") == 0;
            j->d->sent += ok;
            j->d->failed += !ok;
            es_metrics_add(ok ? "echostream_alerts_delivered_total"
                              : "echostream_alerts_delivery_failed_total",
                           1);
            es_log(ok ? ES_INFO : ES_WARN, "delivery closed",
                   ES_STR("tenant", j->tenant), ES_STR("id", j->id),
                   ES_STR("status", st ? st : "?"),
                   ES_INT("attempts", json_integer_value(
                                          json_object_get(j->rec, "attempts"))),
                   ES_END);
        }
        return 1;
    }
    free(next);
    if (rc == 0) {
        es_log(ES_WARN, "delivery record changed meanwhile; letting go",
               ES_STR("tenant", j->tenant), ES_STR("id", j->id), ES_END);
    }
    return rc;
}

/* 1 while the entry is still this consumer's (its idle time reset). */
static int lease(job *j)
{
    redisReply *rep = es_redis_cmd(
        j->d->r, "FCALL es_delivery_lease 1 %s %s %s %s", ES_KEY_DELIVER_QUEUE,
        j->d->c.group, j->d->c.consumer, j->entry);
    int ok = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;

    if (rep) {
        freeReplyObject(rep);
    }
    return ok;
}

/* The event the alert delivery refers to, and its topic's name. */
static int load_event(job *j)
{
    const char *ref = json_string_value(json_object_get(j->rec, "ref"));
    char k_hist[160], k_topics[160];
    redisReply *rep;
    const char *topic;
    json_t *t;

    if (ref == NULL ||
        es_tenant_key(k_hist, sizeof(k_hist), j->tenant, ES_TK_ALERT_HISTORY) <
            0 ||
        es_tenant_key(k_topics, sizeof(k_topics), j->tenant, ES_TK_TOPICS) <
            0) {
        return -1;
    }
    rep = es_redis_cmd(j->d->r, "XRANGE %s %s %s", k_hist, ref, ref);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->elements == 2) {
        const redisReply *f = rep->element[0]->element[1];
        for (size_t i = 0; i + 1 < f->elements; i += 2) {
            if (strcmp(f->element[i]->str, "event") == 0) {
                j->event = json_loadb(f->element[i + 1]->str,
                                      f->element[i + 1]->len, 0, NULL);
            }
        }
    }
    if (rep) {
        freeReplyObject(rep);
    }
    if (!json_is_object(j->event) ||
        json_object_set_new(j->event, "id", json_string(ref)) != 0) {
        return -1;
    }
    topic = json_string_value(json_object_get(j->event, "topic"));
    snprintf(j->topic_name, sizeof(j->topic_name), "%s", topic ? topic : "");
    if (topic == NULL) {
        return 0;
    }
    rep = es_redis_cmd(j->d->r, "HGET %s %s", k_topics, topic);
    if (rep && rep->type == REDIS_REPLY_STRING) {
        t = json_loadb(rep->str, rep->len, 0, NULL);
        if (json_string_value(json_object_get(t, "name"))) {
            snprintf(j->topic_name, sizeof(j->topic_name), "%s",
                     json_string_value(json_object_get(t, "name")));
        }
        json_decref(t);
    }
    if (rep) {
        freeReplyObject(rep);
    }
    return 0;
}

/*
 * The unsubscribe link of address for list ("alerts", "digest") into out,
 * when the address is a member's and links are configured; else 0.
 */
static int unsub_url(job *j, const char *address, const char *list, char *out,
                     size_t size)
{
    char k_members[160], sub_q[400];
    const char *sub = NULL;

    if (j->d->unsub_key == NULL) {
        return 0;
    }
    if (j->members == NULL) {
        if (es_tenant_key(k_members, sizeof(k_members), j->tenant,
                          ES_TK_MEMBERS) < 0) {
            return 0;
        }
        j->members = es_redis_cmd(j->d->r, "HVALS %s", k_members);
    }
    for (size_t i = 0; j->members && j->members->type == REDIS_REPLY_ARRAY &&
                       i < j->members->elements && sub == NULL;
         i++) {
        json_t *m = json_loadb(j->members->element[i]->str,
                               j->members->element[i]->len, 0, NULL);
        const char *e = json_string_value(json_object_get(m, "email"));
        const char *s = json_string_value(json_object_get(m, "sub"));
        if (e && s && strcasecmp(e, address) == 0 &&
            es_user_sub_valid(s, strlen(s)) == 0) {
            snprintf(sub_q, sizeof(sub_q), "%s", s);
            sub = sub_q;
        }
        json_decref(m);
    }
    if (sub == NULL ||
        es_unsub_link(j->d->unsub_key, j->d->unsub_len, j->d->base_url,
                      j->tenant, sub, list, out, size) != 0) {
        return 0;
    }
    return 1;
}

/* The message of a digest delivery: prebuilt, in the record. */
static int digest_message(job *j, es_alert_message *m)
{
    const char *s = json_string_value(json_object_get(j->rec, "subject"));
    const char *t = json_string_value(json_object_get(j->rec, "text"));
    const char *h = json_string_value(json_object_get(j->rec, "html"));

    memset(m, 0, sizeof(*m));
    if (s == NULL || t == NULL) {
        return -1;
    }
    m->subject = strdup(s);
    m->text = strdup(t);
    m->html = h ? strdup(h) : NULL;
    if (m->subject == NULL || m->text == NULL || (h && m->html == NULL)) {
        es_alert_message_free(m);
        return -1;
    }
    return 0;
}

/* A Message-ID from the delivery id and the target's place: the same for
   every attempt, so a repeat in the window of deliver.h is recognisable */
static void message_id(const job *j, size_t idx, char *out, size_t size)
{
    size_t o = 0;

    for (const char *p = j->id; *p && o + 1 < size; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                 (*p >= '0' && *p <= '9') || *p == '-';
        out[o++] = ok ? *p : '.';
    }
    out[o] = '\0';
    /* a bare local part: es_mime adds the sender's domain */
    snprintf(out + o, size - o, ".%zu.%s", idx, j->tenant);
}

/* The tenant's webhook secret, created on first need. */
static int webhook_secret(job *j, char out[65])
{
    char k_meta[160];
    unsigned char raw[32];
    char hex[65];
    redisReply *rep;
    int rc = -1;

    if (es_tenant_key(k_meta, sizeof(k_meta), j->tenant, ES_TK_META) < 0 ||
        RAND_bytes(raw, sizeof(raw)) != 1) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    }
    rep = es_redis_cmd(j->d->r, "HSETNX %s webhook_secret %s", k_meta, hex);
    if (rep) {
        freeReplyObject(rep);
    }
    rep = es_redis_cmd(j->d->r, "HGET %s webhook_secret", k_meta);
    if (rep && rep->type == REDIS_REPLY_STRING && rep->len == 64) {
        memcpy(out, rep->str, 65);
        rc = 0;
    }
    if (rep) {
        freeReplyObject(rep);
    }
    return rc;
}

/* Sends to one target: 0 sent, 1 retryable, -1 refused. */
static int send_one(job *j, const char *channel, const char *kind,
                    const char *target, size_t idx, char *err, size_t esz)
{
    es_alert_transport *tx = j->d->tx;
    long long now_s = now_ms(j->d) / 1000;
    int rc;

    if (strcmp(channel, "webhook") == 0) {
        char secret[65];
        size_t len;
        char *body;
        if (j->event == NULL) {
            snprintf(err, esz, "a webhook needs an alert event");
            return -1;
        }
        if (webhook_secret(j, secret) != 0) {
            snprintf(err, esz, "no webhook secret");
            return 1;
        }
        body = es_alert_webhook_body(j->event, j->topic_name, j->d->base_url,
                                     j->id, &len);
        if (body == NULL) {
            snprintf(err, esz, "out of memory");
            return 1;
        }
        rc = tx->webhook(tx, target, secret, body, len, now_s, err, esz);
        free(body);
        return rc;
    }
    {
        es_alert_message m;
        char mid[256], link[1024];
        int has_link = unsub_url(
            j, target, strcmp(kind, "digest") == 0 ? "digest" : "alerts", link,
            sizeof(link));
        if (j->event ? es_alert_message_build(j->event, j->topic_name,
                                              j->d->base_url,
                                              has_link ? link : NULL, &m)
                     : digest_message(j, &m)) {
            snprintf(err, esz, "cannot build the message");
            return j->event ? 1 : -1;
        }
        message_id(j, idx, mid, sizeof(mid));
        rc = tx->mail(tx, target, &m, mid, has_link ? link : NULL, now_s, err,
                      esz);
        es_alert_message_free(&m);
        return rc;
    }
}

/* Sends every target not settled yet, recording each. */
static void send_all(job *j)
{
    const char *channel = json_string_value(json_object_get(j->rec, "channel"));
    const char *kind = json_string_value(json_object_get(j->rec, "kind"));
    const char *targets[64];
    size_t n = es_delivery_targets(j->rec, targets, 64);
    char err[512];

    if (channel == NULL || kind == NULL || n == 0) {
        es_delivery_retry(j->rec, "malformed delivery record", now_ms(j->d),
                          j->d->claim_idle_ms, 0);
        store(j, 1);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* targets[] borrow from "to", which no update below replaces */
        int rc, closed;

        if (es_delivery_settled(j->rec, targets[i])) {
            continue;
        }
        if (es_stopping() || !lease(j)) {
            return; /* stays pending: the rest after a claim */
        }
        err[0] = '\0';
        rc = send_one(j, channel, kind, targets[i], i, err, sizeof(err));
        if (rc == 1) {
            j->d->retries++;
            snprintf(j->d->last_error, sizeof(j->d->last_error), "%.200s", err);
            closed = es_delivery_retry(j->rec, err, now_ms(j->d),
                                       j->d->claim_idle_ms, j->d->max_attempts);
            es_log(ES_WARN, "delivery failed; will retry",
                   ES_STR("tenant", j->tenant), ES_STR("id", j->id),
                   ES_STR("error", err), ES_INT("closed", closed == 1), ES_END);
            if (closed >= 0) {
                store(j, closed);
            }
            return;
        }
        if (rc == 0) {
            j->d->messages++;
        } else {
            snprintf(j->d->last_error, sizeof(j->d->last_error), "%.200s", err);
            es_log(ES_WARN, "delivery target refused",
                   ES_STR("tenant", j->tenant), ES_STR("id", j->id),
                   ES_STR("error", err), ES_END);
        }
        closed =
            es_delivery_settle(j->rec, targets[i], rc == 0, err, now_ms(j->d));
        /* the log line tells a test (and an operator) that the send
           happened and was recorded: the window of deliver.h closed */
        if (closed < 0 || store(j, closed) != 1) {
            return;
        }
        es_log(ES_INFO, "delivery target settled", ES_STR("tenant", j->tenant),
               ES_STR("id", j->id), ES_INT("target", (long long)i),
               ES_INT("sent", rc == 0), ES_END);
        if (closed) {
            return;
        }
    }
}

static void work(es_deliverer *d, const char *entry, const char *tenant,
                 const char *id)
{
    job j;
    redisReply *rep;

    memset(&j, 0, sizeof(j));
    j.d = d;
    j.entry = entry;
    j.tenant = tenant;
    j.id = id;
    if (es_tenant_key(j.k_deliveries, sizeof(j.k_deliveries), tenant,
                      ES_TK_DELIVERIES) < 0) {
        return;
    }
    rep = es_redis_cmd(d->r, "HGET %s %s", j.k_deliveries, id);
    if (rep == NULL) {
        return;
    }
    if (rep->type == REDIS_REPLY_STRING) {
        j.text = strdup(rep->str);
        j.rec = json_loadb(rep->str, rep->len, 0, NULL);
    }
    freeReplyObject(rep);
    if (j.text == NULL || !json_is_object(j.rec) || es_delivery_done(j.rec)) {
        /* gone (tenant detached), unreadable, or finished: nothing to do */
        if (j.text == NULL || !json_is_object(j.rec)) {
            es_log(ES_WARN, "queued delivery has no readable record",
                   ES_STR("tenant", tenant), ES_STR("id", id), ES_END);
        }
        drop_entry(d, entry);
        goto cleanup;
    }
    if (json_integer_value(json_object_get(j.rec, "next_ms")) > now_ms(d)) {
        goto cleanup; /* backing off: the claim sweep brings it back */
    }
    {
        const char *kind = json_string_value(json_object_get(j.rec, "kind"));
        if (kind && strcmp(kind, "alert") == 0 && load_event(&j) != 0) {
            es_delivery_retry(j.rec,
                              "the alert event is no longer in the "
                              "history",
                              now_ms(d), d->claim_idle_ms, 0);
            store(&j, 1);
            goto cleanup;
        }
    }
    send_all(&j);

cleanup:
    json_decref(j.rec);
    json_decref(j.event);
    free(j.text);
    if (j.members) {
        freeReplyObject(j.members);
    }
}

/* The value of field f of entry fields fv (a stream entry), or NULL. */
static const char *field(const redisReply *fv, const char *f)
{
    for (size_t i = 0; fv && i + 1 < fv->elements; i += 2) {
        if (fv->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fv->element[i]->str, f) == 0 &&
            fv->element[i + 1]->type == REDIS_REPLY_STRING) {
            return fv->element[i + 1]->str;
        }
    }
    return NULL;
}

int es_deliver_step(es_deliverer *d, long long block_ms)
{
    const redisReply *list;
    int redelivered;
    redisReply *rep;

    d->c.block_ms = block_ms;
    rep = es_consumer_read(&d->c, &list, &redelivered);
    if (rep == NULL) {
        return 0;
    }
    for (size_t i = 0; list && i < list->elements; i++) {
        const redisReply *e = list->element[i];
        const char *entry, *tenant, *id;

        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) {
            continue;
        }
        entry = e->element[0]->str;
        if (e->element[1]->type != REDIS_REPLY_ARRAY) {
            drop_entry(d, entry); /* deleted while pending */
            continue;
        }
        tenant = field(e->element[1], "tenant");
        id = field(e->element[1], "id");
        if (tenant == NULL || id == NULL ||
            es_tenant_id_valid(tenant, strlen(tenant)) != 0) {
            es_log(ES_WARN, "malformed deliver queue entry; dropped",
                   ES_STR("entry", entry), ES_END);
            drop_entry(d, entry);
            continue;
        }
        work(d, entry, tenant, id);
    }
    freeReplyObject(rep);
    return 1;
}
