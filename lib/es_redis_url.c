/*
 * es_redis_url.c - Redis address parsing (see es_redis_url.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_redis_url.h"

static int parse_uint(const char *s, size_t n, long max, long *out)
{
    long v = 0;

    if (n == 0 || n > 9) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * "[user]:password@" from p up to at (the '@'). The first ':' ends the user
 * name, so a password may hold ':' and '@' but a user name neither; a user
 * name is also kept free of '/' and spaces, which no ACL user name needs.
 */
static int parse_password(const char *p, const char *at, es_redis_url *out,
                          char *err, size_t errlen)
{
    const char *colon = memchr(p, ':', (size_t)(at - p));
    size_t n;

    if (colon == NULL) {
        snprintf(err, errlen, "expected [user]:password@ before the address");
        return -1;
    }
    n = (size_t)(colon - p);
    if (n >= sizeof(out->user)) {
        snprintf(err, errlen, "user name too long");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= ' ' || p[i] == '/' || p[i] == 0x7f) {
            snprintf(err, errlen,
                     "user name must be printable, without spaces or '/'");
            return -1;
        }
    }
    memcpy(out->user, p, n);
    out->user[n] = '\0';
    n = (size_t)(at - colon - 1);
    if (n >= sizeof(out->password)) {
        snprintf(err, errlen, "password too long");
        return -1;
    }
    memcpy(out->password, colon + 1, n);
    out->password[n] = '\0';
    return 0;
}

const char *es_redis_url_auth_end(const char *url)
{
    const char *p, *slash, *at = NULL;

    if (strncmp(url, "unix://", 7) == 0) {
        p = url + 7;
        /* [[user]:password@]/path: the '@' right before the path */
        return p[0] != '/' ? strstr(p, "@/") : NULL;
    }
    if (strncmp(url, "redis://", 8) == 0) {
        p = url + 8;
    } else if (strncmp(url, "redis+sentinel://", 17) == 0) {
        p = url + 17;
    } else {
        return NULL;
    }
    slash = strchr(p, '/');
    /* the last '@' before the path ends the password, which may hold '@' */
    for (const char *c = p; *c && c != slash; c++) {
        if (*c == '@') {
            at = c;
        }
    }
    return at;
}

/*
 * "host[:port]" from p up to end into a. A host name is kept free of
 * spaces, control bytes and the URL's own separators, so what reaches a
 * resolver or a log line is one plain token.
 */
static int parse_hostport(const char *p, const char *end, int default_port,
                          es_redis_addr *a, char *err, size_t errlen)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    long v;

    a->port = default_port;
    if (colon) {
        if (parse_uint(colon + 1, (size_t)(end - colon - 1), 65535, &v) != 0 ||
            v == 0) {
            snprintf(err, errlen, "port must be 1-65535");
            return -1;
        }
        a->port = (int)v;
        end = colon;
    }
    if (end == p || (size_t)(end - p) >= sizeof(a->host)) {
        snprintf(err, errlen, "missing or too long host name");
        return -1;
    }
    for (const char *c = p; c < end; c++) {
        if (*c <= ' ' || *c == 0x7f || *c == '@' || *c == ',' || *c == '?' ||
            *c == '#') {
            snprintf(err, errlen, "host name holds a space or a separator");
            return -1;
        }
    }
    memcpy(a->host, p, (size_t)(end - p));
    a->host[end - p] = '\0';
    return 0;
}

/* unix://[[user]:password@]/absolute/path[?db=N] */
static int parse_unix(const char *url, es_redis_url *out, char *err,
                      size_t errlen)
{
    const char *s = url + 7, *q, *at;
    size_t plen;
    long db;

    at = es_redis_url_auth_end(url);
    if (at != NULL) {
        if (parse_password(s, at, out, err, errlen) != 0) {
            return -1;
        }
        s = at + 1;
    }
    q = strchr(s, '?');
    plen = q ? (size_t)(q - s) : strlen(s);

    if (plen == 0 || s[0] != '/' || plen >= sizeof(out->path)) {
        snprintf(err, errlen,
                 "unix socket path must be absolute and shorter "
                 "than 256 bytes");
        return -1;
    }
    memcpy(out->path, s, plen);
    out->path[plen] = '\0';
    out->is_unix = 1;
    if (q) {
        if (strncmp(q, "?db=", 4) != 0 ||
            parse_uint(q + 4, strlen(q + 4), 1000, &db) != 0) {
            snprintf(err, errlen, "expected ?db=N after the socket path");
            return -1;
        }
        out->db = (int)db;
    }
    return 0;
}

/*
 * redis+sentinel://[auth@]host[:port][,host[:port]...]/NAME[/db], from p
 * (after any auth) on. A master name is what sentinel.conf allows: letters,
 * digits, '.', '-' and '_'.
 */
static int parse_sentinel(const char *p, es_redis_url *out, char *err,
                          size_t errlen)
{
    const char *slash = strchr(p, '/'), *item = p, *name, *end;
    long v;

    if (slash == NULL) {
        snprintf(err, errlen, "expected /MASTERNAME after the sentinels");
        return -1;
    }
    out->port = 0;
    while (item < slash) {
        const char *comma = memchr(item, ',', (size_t)(slash - item));

        end = comma ? comma : slash;
        if (out->nsentinels == ES_REDIS_SENTINELS_MAX) {
            snprintf(err, errlen, "at most %d sentinels",
                     ES_REDIS_SENTINELS_MAX);
            return -1;
        }
        if (parse_hostport(item, end, ES_REDIS_SENTINEL_PORT,
                           &out->sentinel[out->nsentinels], err, errlen) != 0) {
            return -1;
        }
        out->nsentinels++;
        item = comma ? comma + 1 : slash;
        if (comma && item == slash) {
            snprintf(err, errlen, "missing or too long host name");
            return -1;
        }
    }
    if (out->nsentinels == 0) {
        snprintf(err, errlen, "missing or too long host name");
        return -1;
    }
    name = slash + 1;
    end = strchr(name, '/');
    if (end == NULL) {
        end = name + strlen(name);
    }
    if (end == name || (size_t)(end - name) >= sizeof(out->master)) {
        snprintf(err, errlen, "missing or too long master name after '/'");
        return -1;
    }
    for (const char *c = name; c < end; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
              *c == '_')) {
            snprintf(err, errlen,
                     "master name may hold only letters, digits, '.', '-' "
                     "and '_'");
            return -1;
        }
    }
    memcpy(out->master, name, (size_t)(end - name));
    out->master[end - name] = '\0';
    if (*end == '/' && end[1] != '\0') {
        if (parse_uint(end + 1, strlen(end + 1), 1000, &v) != 0) {
            snprintf(err, errlen,
                     "database must be a number after the master name");
            return -1;
        }
        out->db = (int)v;
    }
    return 0;
}

int es_redis_url_parse(const char *s, es_redis_url *out, char *err,
                       size_t errlen)
{
    const char *p, *at, *hostend, *slash;
    es_redis_addr a;
    int sentinel;
    long v;

    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (strncmp(s, "unix://", 7) == 0) {
        return parse_unix(s, out, err, errlen);
    }
    sentinel = strncmp(s, "redis+sentinel://", 17) == 0;
    if (!sentinel && strncmp(s, "redis://", 8) != 0) {
        snprintf(err, errlen,
                 "expected redis://host:port/db, "
                 "redis+sentinel://host:port/master/db or unix:///path");
        return -1;
    }
    p = s + (sentinel ? 17 : 8);
    at = es_redis_url_auth_end(s);
    if (at) {
        if (parse_password(p, at, out, err, errlen) != 0) {
            return -1;
        }
        p = at + 1;
    }
    if (sentinel) {
        return parse_sentinel(p, out, err, errlen);
    }
    slash = strchr(p, '/');
    hostend = slash ? slash : p + strlen(p);
    if (parse_hostport(p, hostend, 6379, &a, err, errlen) != 0) {
        return -1;
    }
    memcpy(out->host, a.host, sizeof(out->host));
    out->port = a.port;
    if (slash && slash[1] != '\0') {
        if (parse_uint(slash + 1, strlen(slash + 1), 1000, &v) != 0) {
            snprintf(err, errlen, "database must be a number after the '/'");
            return -1;
        }
        out->db = (int)v;
    }
    return 0;
}
