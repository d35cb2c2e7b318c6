/*
 * es_aws.h - one signed call to an AWS JSON-protocol API.
 *
 * SQS (JSON 1.0), Comprehend (JSON 1.1) and their kin all take
 * `POST /` with a JSON body, name the operation in X-Amz-Target and answer
 * errors as {"__type":"namespace#Code","message":…}. This helper signs the
 * request with SigV4 (libcurl's CURLOPT_AWS_SIGV4, which signs every header
 * we pass, so the session token header is covered), performs it, and sorts
 * the outcome into success, retryable failure (5xx, transport errors,
 * throttling: the classes botocore's standard retry mode retries) and
 * permanent failure. Retrying and pacing stay with the caller, which knows
 * whether it may give up.
 */
#ifndef ES_AWS_H
#define ES_AWS_H

#include <stddef.h>

#include "es_aws_creds.h"
#include "es_http.h"

/* Response-header slots of the es_http this module uses for its own. */
#define ES_AWS_SLOT_QUERY_ERROR 6
#define ES_AWS_SLOT_REQUEST_ID  7

typedef struct {
    const char *endpoint;     /* "https://sqs.eu-west-1.amazonaws.com" */
    const char *region;       /* signing region */
    const char *service;      /* signing service: "sqs", "comprehend" */
    const char *target;       /* X-Amz-Target value */
    const char *content_type; /* "application/x-amz-json-1.0" or 1.1 */
    const char *const *extra_headers; /* NULL-terminated or NULL */
    const char *body;
    size_t body_len;
    long timeout_ms;
    size_t max_body; /* largest response accepted; 0: es_http default */
} es_aws_request;

typedef struct {
    long status;      /* 0: no HTTP answer */
    const char *body; /* borrowed from the es_http, valid until its next use */
    size_t body_len;
    char code[128]; /* error code without namespace, "" on success */
    char message[256];
    char request_id[128];
    int retryable; /* 5xx, transport error, throttling */
    int throttled; /* a throttling code (or 429) */
    int auth;      /* 401/403 or a credential error code */
} es_aws_result;

/*
 * Performs the call with creds (borrowed). Returns 0 for a 2xx answer,
 * -1 otherwise; res is filled either way. h gets its response-header slots
 * ES_AWS_SLOT_* set. Secrets are not kept anywhere after the call.
 */
int es_aws_json_call(es_http *h, const es_aws_creds *creds,
                     const es_aws_request *req, es_aws_result *res);

/*
 * Fills res->code and res->message from an error answer: the JSON body's
 * "__type" (namespace before '#' and any ":http…" suffix removed) and
 * "message"/"Message", else the x-amzn-query-error header's code (the part
 * before ';', may be NULL), else "HTTP <status>". Sets retryable, throttled
 * and auth from status and code.
 */
void es_aws_parse_error(long status, const char *body, size_t len,
                        const char *query_error, es_aws_result *res);

/* 1 when code is one of AWS's throttling error codes. */
int es_aws_code_is_throttling(const char *code);

/* 1 when a failure with this status and code is worth retrying. */
int es_aws_is_retryable(long status, const char *code);

/*
 * Writes "scheme://host[:port]" of url into out (size bytes). Returns 0,
 * or -1 when url is not http(s) or does not fit.
 */
int es_aws_endpoint_of(const char *url, char *out, size_t size);

#endif
