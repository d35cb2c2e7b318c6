/*
 * es_s3.h - Amazon S3 PutObject, signed with SigV4.
 *
 * The raw archive uploads whole files of a few megabytes, so one PUT of a
 * buffer is enough (no multipart). The object URL is virtual-hosted
 * (https://<bucket>.s3.<region>.amazonaws.com/<key>) unless path style is
 * asked for, which S3-compatible servers and test doubles need
 * (<endpoint>/<bucket>/<key>). Each key segment is URI-encoded the way S3's
 * SigV4 canonical request spells it (RFC 3986 unreserved characters kept,
 * '/' kept, everything else %XX), so the path sent is the path signed (for
 * S3, unlike every other service, SigV4 does not escape the path again).
 *
 * S3 requires x-amz-content-sha256: the client computes the body's SHA-256
 * and sends it as that header, which es_sigv4 signs and uses as the payload
 * hash. A session token is sent (and signed) as X-Amz-Security-Token. 5xx,
 * SlowDown and transport errors are retried with full jitter (3 attempts) while
 * a retry budget lasts. PutObject replaces a whole object atomically, so
 * retrying an upload whose answer was lost is harmless.
 */
#ifndef ES_S3_H
#define ES_S3_H

#include <stddef.h>

#include "es_aws_creds.h"

typedef struct {
    const char *bucket;   /* required */
    const char *prefix;   /* prepended to every key; "" or NULL: none */
    const char *endpoint; /* "" or NULL: https://s3.<region>.amazonaws.com */
    const char *region;
    int path_style;                 /* 1: <endpoint>/<bucket>/<key> */
    long timeout_ms;                /* per attempt; 0: 60000 */
    int max_attempts;               /* 0: 3 */
    long long backoff_cap_ms;       /* 0: 20000; base is min(1000, cap) */
    const es_aws_chain_opts *creds; /* NULL: the default chain */
} es_s3_opts;

typedef struct es_s3 es_s3;

/* A client with copies of opts' strings; NULL when out of memory. */
es_s3 *es_s3_new(const es_s3_opts *opts);
void es_s3_free(es_s3 *s);

/*
 * Uploads body[0..len) as object prefix+key with content_type (NULL:
 * application/octet-stream). Returns 0 once S3 answered 200, or -1 with a
 * reason in err (S3's error code and message, or the transport error; no
 * secret) after retries, or at once for an invalid key or a permanent
 * error (403, 400, 404 …).
 */
int es_s3_put(es_s3 *s, const char *key, const void *body, size_t len,
              const char *content_type, char *err, size_t errlen);

/*
 * Uploads the file at path (read whole into memory; at most max_bytes,
 * 0: 256 MB) as es_s3_put does.
 */
int es_s3_put_file(es_s3 *s, const char *key, const char *path,
                   const char *content_type, size_t max_bytes, char *err,
                   size_t errlen);

/*
 * URI-encodes key as S3 expects in a path: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) and '/' as they are, every other byte %XX
 * (upper-case hex). Returns the length, or -1 when it does not fit or the
 * key is not acceptable: empty, longer than 1,024 bytes, holding a NUL, or
 * a "." or ".." segment (URL normalization would change what is signed).
 */
int es_s3_encode_key(const char *key, char *out, size_t size);

/*
 * The object URL for the encoded key: endpoint (""/NULL: AWS's for region)
 * with the bucket in the host (virtual-hosted) or the path. Returns 0, or
 * -1 when it does not fit or endpoint is not http(s)://host[:port].
 */
int es_s3_object_url(const char *endpoint, const char *region,
                     const char *bucket, int path_style,
                     const char *encoded_key, char *out, size_t size);

/* Lower-case hex SHA-256 of data[0..len) into out (65 bytes). */
void es_s3_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Reads S3's XML error <Code> and <Message> from an error body into code
 * and message ("" when absent).
 */
void es_s3_parse_error(const char *body, size_t len, char *code, size_t codelen,
                       char *message, size_t msglen);

#endif
