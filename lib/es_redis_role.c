/*
 * es_redis_role.c - where a Redis primary is, from replies (see
 * es_redis_role.h). Every field of a reply is checked before use: a
 * sentinel or node that answers oddly is an error, never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_redis_role.h"

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
    if (p->str[0] < '0' || p->str[0] > '9' || end == p->str || *end != '\0' ||
        port <= 0 || port > 65535) {
        snprintf(err, errlen, "the sentinel answered a bad port");
        return -1;
    }
    memcpy(out->host, h->str, h->len);
    out->host[h->len] = '\0';
    out->port = (int)port;
    return 0;
}

int es_redis_role_is_primary(const redisReply *reply, char *err, size_t errlen)
{
    if (reply == NULL) {
        snprintf(err, errlen, "no reply to ROLE");
        return -1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "ROLE refused: %.100s", reply->str);
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        snprintf(err, errlen, "unexpected reply to ROLE");
        return -1;
    }
    if (strcmp(reply->element[0]->str, "master") != 0) {
        snprintf(err, errlen, "the node is a %.20s, not the primary",
                 reply->element[0]->str);
        return -1;
    }
    return 0;
}

int es_redis_is_readonly(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "READONLY", 8) == 0;
}
