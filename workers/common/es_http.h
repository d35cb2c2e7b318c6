/*
 * es_http.h - one HTTP exchange with libcurl, as the workers need it.
 *
 * A request is described by a struct, performed synchronously with a total
 * timeout, and answered with status, the headers the caller asked to keep and
 * a body capped at max_body bytes (a larger body is an error, never an
 * unbounded allocation). Transport failures and over-size bodies come back
 * as status 0 with a message, so callers have one place to decide on retry.
 * One CURL easy handle per es_http keeps connections alive between calls.
 */
#ifndef ES_HTTP_H
#define ES_HTTP_H

#include <stddef.h>

typedef struct es_http es_http;

typedef struct {
    const char *method; /* "GET", "POST", "PUT" */
    const char *url;
    const char *const *headers; /* NULL-terminated "Name: value" list */
    const char *body;           /* may be NULL */
    size_t body_len;
    const char *userpwd; /* "user:password" for Basic auth, or NULL */
    /* no AWS signing here: es_aws_signed_call signs with es_sigv4, since
     * libcurl 7.88's CURLOPT_AWS_SIGV4 signs escaped paths wrongly */
    long timeout_ms;
    size_t max_body;
} es_http_request;

typedef struct {
    long status;     /* 0: no HTTP answer (see error) */
    char error[256]; /* transport error or "body too large" */
    char *body;      /* NUL-terminated, owned by the es_http */
    size_t body_len;
    /* values of the headers the caller named in es_http_keep_header */
    char header_values[8][128];
    int header_found[8];
} es_http_response;

es_http *es_http_new(const char *user_agent);
void es_http_free(es_http *h);

/*
 * Names a response header (case-insensitive) whose value should be kept in
 * slot (0-7) of every response.
 */
void es_http_keep_header(es_http *h, int slot, const char *name);

/* Performs the request. resp->body stays valid until the next call. */
void es_http_perform(es_http *h, const es_http_request *req,
                     es_http_response *resp);

#endif
