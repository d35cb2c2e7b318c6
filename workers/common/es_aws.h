/*
 * es_aws.h - one signed call to an AWS API.
 *
 * es_aws_signed_call is the one path every AWS client takes: it signs a
 * request with es_sigv4 (AWS's canonicalisation, which libcurl 7.88's own
 * signer gets wrong for escaped paths such as Bedrock's model ids), sends
 * it through es_http with exactly the headers that were signed, and sorts
 * the outcome into success, retryable failure (5xx, transport errors,
 * throttling: the classes botocore's standard retry mode retries) and
 * permanent failure. Retrying and pacing stay with the caller, which knows
 * whether it may give up.
 *
 * es_aws_json_call is the shape SQS (JSON 1.0), Comprehend (JSON 1.1) and
 * their kin share: `POST /` with a JSON body, the operation in
 * X-Amz-Target, errors as {"__type":"namespace#Code","message":…}.
 * REST-JSON services (Bedrock, SES v2) name the error in the
 * x-amzn-ErrorType header instead; both are read.
 */
#ifndef ES_AWS_H
#define ES_AWS_H

#include <stddef.h>

#include "es_aws_creds.h"
#include "es_http.h"

/* Response-header slots of the es_http this module uses for its own. */
#define ES_AWS_SLOT_ERROR_TYPE    4
#define ES_AWS_SLOT_S3_REQUEST_ID 5
#define ES_AWS_SLOT_QUERY_ERROR   6
#define ES_AWS_SLOT_REQUEST_ID    7

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

typedef struct {
    const char *method;   /* "POST", "PUT", "GET" */
    const char *endpoint; /* "https://host[:port]"; any path is ignored */
    const char *path;     /* as sent, escaped once; NULL or "": "/" */
    const char *query;    /* without '?', sent as given; NULL or "": none */
    const char *region;   /* signing region */
    const char *service;  /* signing name: "bedrock", "ses", "s3", "sqs" */
    const char *const *headers; /* signed; NULL-terminated or NULL */
    const void *body;
    size_t body_len;
    long timeout_ms;
    size_t max_body; /* largest response accepted; 0: es_http default */
    long long now_s; /* signing time; 0: the clock */
} es_aws_signed_request;

/*
 * Signs req with creds (borrowed; a session token is sent and signed as
 * X-Amz-Security-Token) and performs it. Returns 0 for a 2xx answer, -1
 * otherwise; res is filled either way (request id from x-amzn-RequestId or
 * S3's x-amz-request-id; on failure the code and classification from
 * es_aws_parse_error, with x-amzn-query-error or x-amzn-ErrorType as the
 * header hint). A request that cannot be signed fails with code
 * "SigningError", not retryable. h gets its ES_AWS_SLOT_* slots set.
 */
int es_aws_signed_call(es_http *h, const es_aws_creds *creds,
                       const es_aws_signed_request *req, es_aws_result *res);

/*
 * Performs `POST /` at req->endpoint with req's JSON body, Content-Type and
 * X-Amz-Target, through es_aws_signed_call: same return value, same res.
 */
int es_aws_json_call(es_http *h, const es_aws_creds *creds,
                     const es_aws_request *req, es_aws_result *res);

/*
 * Fills res->code and res->message from an error answer: the JSON body's
 * "__type" (namespace before '#' and any ":http…" suffix removed) and
 * "message"/"Message", else the header hint's code: x-amzn-query-error
 * (the part before ';') or x-amzn-ErrorType (the part before ':'), may be
 * NULL, else "HTTP <status>". Sets retryable, throttled
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
