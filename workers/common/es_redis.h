/*
 * es_redis.h - the workers' Redis connection: blocking hiredis with
 * reconnection.
 *
 * Workers are simple loops, so they use hiredis's synchronous API. When Redis
 * goes away a call does not fail: it logs once, reconnects with full-jitter
 * back-off and sends the command (or the whole pipeline) again, until it
 * succeeds or the worker is asked to stop. That is safe because every write
 * the workers make is idempotent (de-duplicated adds, XACK, HSET of absolute
 * values); callers that are not must not use the retrying calls.
 */
#ifndef ES_REDIS_H
#define ES_REDIS_H

#include <stddef.h>

#include <hiredis.h>

typedef struct es_redis es_redis;

/*
 * Parses the address (see es_redis_url.h) without connecting; NULL with a
 * reason in err when it is malformed.
 */
es_redis *es_redis_new(const char *url, char *err, size_t errlen);

void es_redis_free(es_redis *r);

/*
 * Read timeout of the socket in milliseconds (default 10000); blocking
 * commands such as XREADGROUP BLOCK need it longer than their block time.
 */
void es_redis_set_timeout(es_redis *r, long long ms);

/*
 * Runs one command, retrying across reconnects. Returns a new reply (free
 * with freeReplyObject) that may be an error reply, or NULL only when the
 * worker is stopping and Redis stayed unreachable through a short grace
 * period (a stopping worker can still flush and acknowledge its batch).
 */
redisReply *es_redis_cmd(es_redis *r, const char *fmt, ...);
redisReply *es_redis_argv(es_redis *r, int argc, const char **argv,
                          const size_t *lens);

/* One command of a pipeline: argc arguments with their lengths. */
typedef struct {
    int argc;
    const char **argv;
    const size_t *lens;
} es_redis_cmdv;

/*
 * Sends n commands in one round trip and stores the n replies (new
 * references) in replies. On a connection loss the whole pipeline is sent
 * again after reconnecting. Returns 0, or -1 when stopping and Redis stayed
 * unreachable (no replies).
 */
int es_redis_pipeline(es_redis *r, const es_redis_cmdv *cmds, int n,
                      redisReply **replies);

/*
 * For a caller that runs its own protocol on the socket, such as a
 * WATCH ... EXEC transaction, which is only safe on the one connection
 * its WATCH was sent on: the connected hiredis context, connecting first
 * (retrying like es_redis_cmd), or NULL when the worker is stopping and
 * Redis stayed unreachable. The context stays valid until the next call
 * of any other es_redis function on r, which may replace it; the caller
 * writes to its fd only while its output buffer is empty.
 */
redisContext *es_redis_context(es_redis *r);

/*
 * Closes the connection after the caller's own protocol failed on it
 * (logged once, like a lost connection), and waits the back-off before a
 * new one. The next es_redis_context connects again.
 */
void es_redis_lost(es_redis *r, const char *why);

/*
 * Runs one command only on connection number conn (es_redis_connections):
 * NULL, having sent nothing, when that connection is gone or was replaced;
 * never reconnects or retries. For a write that is only right on the Redis
 * its caller checked its state against.
 */
redisReply *es_redis_cmd_on(es_redis *r, unsigned long conn, const char *fmt,
                            ...);

/* Like es_redis_cmd but never retries: NULL when the connection fails. */
redisReply *es_redis_try(es_redis *r, const char *fmt, ...);

/*
 * How many connections r has opened so far. A caller that keeps a copy of
 * state it saved in Redis compares it between calls: a new connection may
 * be to a Redis that lost the last writes (a failover to a replica that
 * lagged, a restart from an AOF without its last second), so the copy in
 * Redis is read back as the truth.
 */
unsigned long es_redis_connections(const es_redis *r);

/* 1 while the last attempt reached Redis. */
int es_redis_up(const es_redis *r);

#endif
