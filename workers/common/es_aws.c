/*
 * es_aws.c - signed AWS calls (see es_aws.h).
 *
 * The request is signed by es_sigv4 and sent with the very header values
 * that were signed, Host included (set explicitly, so what curl sends is
 * what the signature covers, port and all). The secret never leaves
 * es_sigv4; the session token header lives in a stack buffer cleansed
 * before return, so no secret outlives the call in this module's memory.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "es_aws.h"
#include "es_sigv4.h"

#define MAX_CALLER_HEADERS 32

static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "AWS.SimpleQueueService.RequestThrottled",
    NULL,
};

/* Transient errors that are not throttling (botocore's list). */
static const char *const transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMS.ThrottlingException",
    /* REST-JSON services (Bedrock, SES v2) */
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
    NULL,
};

static const char *const auth_codes[] = {
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "AccessDenied",
    "AccessDeniedException",
    NULL,
};

static int in_list(const char *const *list, const char *code)
{
    for (; *list; list++) {
        if (strcmp(*list, code) == 0) {
            return 1;
        }
    }
    return 0;
}

int es_aws_code_is_throttling(const char *code)
{
    return code && in_list(throttling_codes, code);
}

int es_aws_is_retryable(long status, const char *code)
{
    if (status == 0 || status == 429 || status == 500 || status == 502 ||
        status == 503 || status == 504) {
        return 1;
    }
    return code &&
           (in_list(throttling_codes, code) || in_list(transient_codes, code));
}

/* Copies code[0..n) into res->code without namespace or URL suffix. */
static void set_code(es_aws_result *res, const char *code, size_t n)
{
    const char *hash = memchr(code, '#', n);
    const char *colon;

    if (hash) {
        n -= (size_t)(hash + 1 - code);
        code = hash + 1;
    }
    colon = memchr(code, ':', n);
    if (colon) {
        n = (size_t)(colon - code);
    }
    if (n >= sizeof(res->code)) {
        n = sizeof(res->code) - 1;
    }
    memcpy(res->code, code, n);
    res->code[n] = '\0';
}

void es_aws_parse_error(long status, const char *body, size_t len,
                        const char *query_error, es_aws_result *res)
{
    json_t *doc = NULL, *type, *msg;

    res->code[0] = '\0';
    res->message[0] = '\0';
    if (body && len) {
        doc = json_loadb(body, len, 0, NULL); /* new */
    }
    if (json_is_object(doc)) {
        type = json_object_get(doc, "__type"); /* borrowed */
        if (!json_is_string(type)) {
            type = json_object_get(doc, "code");
        }
        msg = json_object_get(doc, "message");
        if (!json_is_string(msg)) {
            msg = json_object_get(doc, "Message");
        }
        if (json_is_string(type)) {
            set_code(res, json_string_value(type), json_string_length(type));
        }
        if (json_is_string(msg)) {
            snprintf(res->message, sizeof(res->message), "%s",
                     json_string_value(msg));
        }
    }
    json_decref(doc);
    if (res->code[0] == '\0' && query_error && *query_error) {
        /* "Code;Sender" (query error) or "Code:http://…" (x-amzn-ErrorType) */
        set_code(res, query_error, strcspn(query_error, ";"));
    }
    if (res->code[0] == '\0') {
        snprintf(res->code, sizeof(res->code), "HTTP %ld", status);
    }
    /* SQS's query-compatible code is the more specific one for throttling */
    res->throttled = status == 429 || es_aws_code_is_throttling(res->code);
    if (!res->throttled && query_error && *query_error) {
        char qcode[128];
        size_t n = strcspn(query_error, ";");
        if (n < sizeof(qcode)) {
            memcpy(qcode, query_error, n);
            qcode[n] = '\0';
            res->throttled = es_aws_code_is_throttling(qcode);
        }
    }
    res->retryable = res->throttled || es_aws_is_retryable(status, res->code);
    res->auth =
        status == 401 || status == 403 || in_list(auth_codes, res->code);
}

int es_aws_endpoint_of(const char *url, char *out, size_t size)
{
    const char *host, *end;
    size_t n;

    if (strncasecmp(url, "https://", 8) == 0) {
        host = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        host = url + 7;
    } else {
        return -1;
    }
    end = host + strcspn(host, "/?#");
    if (end == host) {
        return -1;
    }
    n = (size_t)(end - url);
    if (n >= size) {
        return -1;
    }
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

/* 1 when the NULL-terminated list holds a header called name. */
static int has_header(const char *const *list, const char *name)
{
    size_t n = strlen(name);

    for (; list && *list; list++) {
        if (strncasecmp(*list, name, n) == 0 && (*list)[n] == ':') {
            return 1;
        }
    }
    return 0;
}

static int signing_error(es_aws_result *res, const char *why)
{
    snprintf(res->code, sizeof(res->code), "SigningError");
    snprintf(res->message, sizeof(res->message), "%s", why);
    return -1;
}

int es_aws_signed_call(es_http *h, const es_aws_creds *creds,
                       const es_aws_signed_request *req, es_aws_result *res)
{
    char base[512], url[4096], auth[1024], amz_date[17], hash[65];
    char host_hdr[600], date_hdr[32], auth_hdr[1100], sha_hdr[96];
    char token_hdr[sizeof(creds->session_token) + 32];
    const char *headers[MAX_CALLER_HEADERS + 8];
    const char *path = req->path && *req->path ? req->path : "/";
    const char *query = req->query ? req->query : "";
    const char *hint;
    size_t nh = 0, ncaller = 0;
    es_sigv4_input in;
    es_http_request hr;
    es_http_response resp;
    int n, rc = -1;

    memset(res, 0, sizeof(*res));
    token_hdr[0] = '\0';
    for (const char *const *p = req->headers; p && *p; p++) {
        const char *v = strchr(*p, ':');
        /* curl drops a header sent as "Name:" (that is how one removes
         * its defaults), so it would be signed but never sent */
        if (v == NULL || v[1 + strspn(v + 1, " \t")] == '\0') {
            return signing_error(res, "header without a value");
        }
        ncaller++;
    }
    if (ncaller > MAX_CALLER_HEADERS) {
        return signing_error(res, "too many headers");
    }
    if (es_aws_endpoint_of(req->endpoint ? req->endpoint : "", base,
                           sizeof(base)) != 0 ||
        path[0] != '/') {
        return signing_error(res, "endpoint is not http(s)://host[:port]");
    }
    n = snprintf(url, sizeof(url), "%s%s%s%s", base, path, *query ? "?" : "",
                 query);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        return signing_error(res, "URL too long");
    }
    memset(&in, 0, sizeof(in));
    in.method = req->method;
    in.host = strstr(base, "://") + 3;
    in.path = path;
    in.query = query;
    in.headers = req->headers;
    in.payload = req->body;
    in.payload_len = req->body_len;
    in.region = req->region;
    in.service = req->service;
    in.now_s = req->now_s;
    if (es_sigv4_sign(&in, creds, auth, sizeof(auth), amz_date, hash) != 0) {
        return signing_error(res, "request cannot be signed");
    }
    snprintf(host_hdr, sizeof(host_hdr), "Host: %s", in.host);
    snprintf(date_hdr, sizeof(date_hdr), "X-Amz-Date: %s", amz_date);
    snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: %s", auth);
    headers[nh++] = host_hdr;
    headers[nh++] = date_hdr;
    headers[nh++] = auth_hdr;
    if (creds->session_token[0]) {
        snprintf(token_hdr, sizeof(token_hdr), "X-Amz-Security-Token: %s",
                 creds->session_token);
        headers[nh++] = token_hdr;
    }
    if (strcmp(req->service, "s3") == 0 &&
        !has_header(req->headers, "x-amz-content-sha256")) {
        snprintf(sha_hdr, sizeof(sha_hdr), "x-amz-content-sha256: %s", hash);
        headers[nh++] = sha_hdr;
    }
    for (const char *const *p = req->headers; p && *p; p++) {
        headers[nh++] = *p;
    }
    /* curl's own defaults would travel unsigned: a form content type, and
     * a 100-continue round trip for large bodies */
    if (!has_header(req->headers, "Content-Type")) {
        headers[nh++] = "Content-Type:";
    }
    headers[nh++] = "Expect:";
    headers[nh] = NULL;

    memset(&hr, 0, sizeof(hr));
    hr.method = req->method;
    hr.url = url;
    hr.headers = headers;
    hr.body = req->body;
    hr.body_len = req->body_len;
    hr.timeout_ms = req->timeout_ms;
    hr.max_body = req->max_body;

    es_http_keep_header(h, ES_AWS_SLOT_ERROR_TYPE, "x-amzn-ErrorType");
    es_http_keep_header(h, ES_AWS_SLOT_S3_REQUEST_ID, "x-amz-request-id");
    es_http_keep_header(h, ES_AWS_SLOT_QUERY_ERROR, "x-amzn-query-error");
    es_http_keep_header(h, ES_AWS_SLOT_REQUEST_ID, "x-amzn-RequestId");
    es_http_perform(h, &hr, &resp);
    OPENSSL_cleanse(token_hdr, sizeof(token_hdr));

    res->status = resp.status;
    res->body = resp.body;
    res->body_len = resp.body_len;
    if (resp.header_found[ES_AWS_SLOT_REQUEST_ID]) {
        snprintf(res->request_id, sizeof(res->request_id), "%s",
                 resp.header_values[ES_AWS_SLOT_REQUEST_ID]);
    } else if (resp.header_found[ES_AWS_SLOT_S3_REQUEST_ID]) {
        snprintf(res->request_id, sizeof(res->request_id), "%s",
                 resp.header_values[ES_AWS_SLOT_S3_REQUEST_ID]);
    }
    if (resp.status == 0) {
        snprintf(res->code, sizeof(res->code), "TransportError");
        snprintf(res->message, sizeof(res->message), "%s", resp.error);
        res->retryable = 1;
        goto cleanup;
    }
    if (resp.status >= 200 && resp.status < 300) {
        rc = 0;
        goto cleanup;
    }
    hint = resp.header_found[ES_AWS_SLOT_QUERY_ERROR]
               ? resp.header_values[ES_AWS_SLOT_QUERY_ERROR]
           : resp.header_found[ES_AWS_SLOT_ERROR_TYPE]
               ? resp.header_values[ES_AWS_SLOT_ERROR_TYPE]
               : NULL;
    es_aws_parse_error(resp.status, resp.body, resp.body_len, hint, res);

cleanup:
    return rc;
}

int es_aws_json_call(es_http *h, const es_aws_creds *creds,
                     const es_aws_request *req, es_aws_result *res)
{
    char ctype[96], target[192];
    const char *headers[MAX_CALLER_HEADERS + 1];
    size_t nh = 0;
    es_aws_signed_request sr;

    snprintf(ctype, sizeof(ctype), "Content-Type: %s", req->content_type);
    snprintf(target, sizeof(target), "X-Amz-Target: %s", req->target);
    headers[nh++] = ctype;
    headers[nh++] = target;
    for (const char *const *p = req->extra_headers;
         p && *p && nh < MAX_CALLER_HEADERS; p++) {
        headers[nh++] = *p;
    }
    headers[nh] = NULL;

    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.endpoint = req->endpoint;
    sr.path = "/";
    sr.region = req->region;
    sr.service = req->service;
    sr.headers = headers;
    sr.body = req->body;
    sr.body_len = req->body_len;
    sr.timeout_ms = req->timeout_ms;
    sr.max_body = req->max_body;
    return es_aws_signed_call(h, creds, &sr, res);
}
