/*
 * es_sigv4.h - AWS Signature Version 4, computed by EchoStream itself.
 *
 * libcurl's CURLOPT_AWS_SIGV4 (Debian 12 ships 7.88) signs the request path
 * exactly as it is sent. AWS does not: for every service but S3 it builds
 * the canonical request from the path with each segment URI-escaped once
 * more, so a path that already holds an escape (Bedrock's
 * /model/<id>/converse, where every Claude model id has a ':' sent as %3A)
 * is signed as %3A by curl but checked as %253A by AWS, and the call is
 * refused with 403. This signer follows AWS's rules (the ones of AWS's own
 * signer, @smithy/signature-v4, which the test doubles use to verify):
 *
 *   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n HASH
 *
 *   URI     for s3: the path as sent; for any other service: the path with
 *           empty and "." segments dropped, ".." applied, and every segment
 *           escaped again (RFC 3986 unreserved characters kept, anything
 *           else %XX, so '%' becomes %25);
 *   QUERY   every name=value pair decoded, escaped the same way, sorted by
 *           name then value; a name without '=' gets an empty value;
 *   HEADERS the caller's headers plus host and x-amz-date (and
 *           x-amz-security-token with temporary credentials,
 *           x-amz-content-sha256 for s3), names lower-cased, values trimmed
 *           with inner runs of white space made one space, repeated names
 *           joined with ',', sorted by name; every one of them is signed;
 *   HASH    hex SHA-256 of the payload (for s3 the value of a caller's
 *           x-amz-content-sha256 header when there is one).
 *
 * The signing key is derived with HMAC-SHA256 from "AWS4" + secret over
 * date, region, service and "aws4_request"; every buffer that held the
 * secret or a key derived from it is cleansed before return.
 */
#ifndef ES_SIGV4_H
#define ES_SIGV4_H

#include <stddef.h>

#include "es_aws_creds.h"

typedef struct {
    const char *method; /* "POST", "PUT", "GET" */
    const char *host;   /* the Host header as sent: "host" or "host:port" */
    const char *path;   /* as sent, escaped once: /model/x%3Ay/converse */
    const char *query;  /* without '?'; "" or NULL: none */
    /* NULL-terminated "Name: value" list (or NULL), all signed; must not
     * hold Host, X-Amz-Date, X-Amz-Security-Token or Authorization, which
     * the signer owns */
    const char *const *headers;
    const unsigned char *payload; /* may be NULL when payload_len is 0 */
    size_t payload_len;
    const char *region;
    const char *service; /* signing name: "bedrock", "ses", "s3", "sqs" */
    long long now_s;     /* signing time, seconds since the epoch; 0: now */
} es_sigv4_input;

/*
 * Signs in with creds (borrowed). Writes the Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…") into
 * authorization (auth_size bytes), the X-Amz-Date value
 * ("20251001T120000Z") into amz_date and the payload hash (lower-case hex)
 * into payload_hash. The request must then be sent with exactly those
 * headers, in->host as its Host header, the session token (if any) as
 * X-Amz-Security-Token and, for s3, payload_hash as x-amz-content-sha256
 * unless the caller's headers carry one. Returns 0, or -1 when an argument
 * is missing or malformed (a header without ':' or with CR/LF, a reserved
 * header, a bad %-escape in the query), memory runs out or authorization
 * is too small.
 */
int es_sigv4_sign(const es_sigv4_input *in, const es_aws_creds *creds,
                  char *authorization, size_t auth_size, char amz_date[17],
                  char payload_hash[65]);

/*
 * Escapes src[0..len) the way SigV4 and the AWS SDKs escape a URI label:
 * RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) as they are, every
 * other byte (including '/' and '%') as %XX with upper-case hex. Returns
 * the length written (out is NUL-terminated), or -1 when it does not fit.
 */
int es_sigv4_escape(const char *src, size_t len, char *out, size_t size);

/*
 * The canonical request of in (what es_sigv4_sign hashes), malloc'd and
 * NUL-terminated, for tests and for diagnosing a refused signature; the
 * caller frees it. creds supplies only the session token (NULL: none).
 * NULL on the errors es_sigv4_sign reports.
 */
char *es_sigv4_canonical_request(const es_sigv4_input *in,
                                 const es_aws_creds *creds,
                                 const char amz_date[17]);

#endif
