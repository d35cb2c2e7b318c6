/*
 * es_redis_role.h - reading the replies that say where a Redis primary is:
 * a sentinel's answer to SENTINEL get-master-addr-by-name, a node's ROLE,
 * and the -READONLY error a demoted primary gives to a write.
 *
 * Shared by the workers (es_redis_sentinel.c) and the nginx module
 * (ngx_http_echostream_redis_sentinel.c), which ask the same questions,
 * one synchronously and one inside nginx's event loop.
 */
#ifndef ES_REDIS_ROLE_H
#define ES_REDIS_ROLE_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "es_redis_url.h"

/*
 * Parses a SENTINEL get-master-addr-by-name reply into out: 0, or -1 with a
 * reason in err (a nil reply: the sentinel does not know the name).
 */
int es_redis_sentinel_parse_addr(const redisReply *reply, es_redis_addr *out,
                                 char *err, size_t errlen);

/* A ROLE reply: 0 when the node is a primary, -1 with its role in err. */
int es_redis_role_is_primary(const redisReply *reply, char *err, size_t errlen);

/* 1 when reply is a -READONLY error: the node became a replica. */
int es_redis_is_readonly(const redisReply *reply);

#endif
