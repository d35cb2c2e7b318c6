/*
 * es_redis_sentinel.c - finding a Sentinel-managed primary (see
 * es_redis_sentinel.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_redis_role.h"
#include "es_redis_sentinel.h"

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
    int rc;

    if (reply == NULL) {
        snprintf(err, errlen, "%s", c->errstr);
        return -1;
    }
    rc = es_redis_role_is_primary(reply, err, errlen);
    freeReplyObject(reply);
    return rc;
}
