/*
 * es_redis_url.h - parsing of the Redis address given as ECHOSTREAM_REDIS.
 *
 * Accepted forms: redis://[[user]:password@]host[:port][/db],
 * unix://[[user]:password@]/absolute/path[?db=N] and, for a primary that
 * Redis Sentinel manages,
 * redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/NAME[/db]
 * where the hosts are sentinels (port 26379 by default) and NAME is the
 * monitored master's name; the program asks the sentinels for the primary's
 * address on every (re)connect. Shared by the workers and the nginx module
 * so both read the same address the same way. A user name selects a Redis
 * 6+ ACL user (AUTH user password); without one the password is the default
 * user's (AUTH password), as before ACLs existed. The credentials are the
 * primary's: sentinels are asked without AUTH.
 */
#ifndef ES_REDIS_URL_H
#define ES_REDIS_URL_H

#include <stddef.h>

#define ES_REDIS_SENTINELS_MAX 5
#define ES_REDIS_SENTINEL_PORT 26379

typedef struct {
    char host[256];
    int port;
} es_redis_addr;

typedef struct {
    int is_unix;
    char host[256];
    int port;
    char path[256];
    int db;
    char user[64]; /* empty: the default user */
    char password[128];
    /* redis+sentinel:// only (then host is empty and port 0): */
    int nsentinels;
    es_redis_addr sentinel[ES_REDIS_SENTINELS_MAX];
    char master[64]; /* the name the sentinels monitor the primary by */
} es_redis_url;

/* Returns 0, or -1 with a reason in err. */
int es_redis_url_parse(const char *s, es_redis_url *out, char *err,
                       size_t errlen);

/*
 * The '@' that ends a redis://, redis+sentinel:// or unix:// URL's
 * "[user]:password" part, by the rules es_redis_url_parse reads it with, or
 * NULL when it has none (or is no such URL). For showing a URL without its
 * password too.
 */
const char *es_redis_url_auth_end(const char *url);

#endif
