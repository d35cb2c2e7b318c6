/*
 * es_redis_sentinel.c - finding a Sentinel-managed primary (see
 * es_redis_sentinel.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_redis_sentinel.h"

int es_redis_sentinel_parse_addr(const redisReply *reply, es_redis_addr *out,
                                 char *err, size_t errlen)
{
    const redisReply *h, *p;
    char *end;
    long port;

    if (reply == NULL) {
        snprintf(err, errlen, "no reply");
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "%.120s", reply->str);
        return -1;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        snprintf(err, errlen, "the sentinel does not monitor that name");
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        snprintf(err, errlen, "unexpected reply to get-master-addr-by-name");
        return -1;
    }
    h = reply->element[0];
    p = reply->element[1];
    if (h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING ||
        h->len == 0 || h->len >= sizeof(out->host) ||
        memchr(h->str, '\0', h->len) != NULL) {
        snprintf(err, errlen, "unexpected reply to get-master-addr-by-name");
        return -1;
    }
    port = strtol(p->str, &end, 10);
    if (end == p->str || *end != '\0' || port <= 0 || port > 65535) {
        snprintf(err, errlen, "the sentinel answered a bad port");
        return -1;
    }
    memcpy(out->host, h->str, h->len);
    out->host[h->len] = '\0';
    out->port = (int)port;
    return 0;
}

/* One sentinel's answer; 0 or -1 with err. */
static int ask_one(const es_redis_addr *s, const char *master,
                   es_redis_addr *out, char *err, size_t errlen)
{
    struct timeval tv = {ES_REDIS_SENTINEL_TIMEOUT_MS / 1000,
                         (ES_REDIS_SENTINEL_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
    redisReply *reply;
    int rc;

    if (c == NULL || c->err) {
        snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port,
                 c ? c->errstr : "cannot allocate context");
        redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    reply = redisCommand(c, "SENTINEL get-master-addr-by-name %s", master);
    if (reply == NULL) {
        snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port,
                 c->errstr);
        redisFree(c);
        return -1;
    }
    rc = es_redis_sentinel_parse_addr(reply, out, err, errlen);
    if (rc != 0) {
        char why[160];

        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "sentinel %s:%d: %s", s->host, s->port, why);
    }
    freeReplyObject(reply);
    redisFree(c);
    return rc;
}

int es_redis_sentinel_primary(const es_redis_url *u, es_redis_addr *out,
                              char *err, size_t errlen)
{
    snprintf(err, errlen, "no sentinel");
    for (int i = 0; i < u->nsentinels; i++) {
        if (ask_one(&u->sentinel[i], u->master, out, err, errlen) == 0) {
            return 0;
        }
    }
    return -1;
}

int es_redis_check_primary(redisContext *c, char *err, size_t errlen)
{
    redisReply *reply = redisCommand(c, "ROLE");
    int rc = -1;

    if (reply == NULL) {
        snprintf(err, errlen, "%s", c->errstr);
        return -1;
    }
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        if (strcmp(reply->element[0]->str, "master") == 0) {
            rc = 0;
        } else {
            snprintf(err, errlen, "the node is a %.20s, not the primary",
                     reply->element[0]->str);
        }
    } else if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "ROLE refused: %.100s", reply->str);
    } else {
        snprintf(err, errlen, "unexpected reply to ROLE");
    }
    freeReplyObject(reply);
    return rc;
}

int es_redis_is_readonly(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "READONLY", 8) == 0;
}
