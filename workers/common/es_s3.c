/*
 * es_s3.c - S3 PutObject (see es_s3.h).
 *
 * The PUT goes through es_aws_signed_call with service "s3", whose
 * canonical request keeps the path as sent (S3 does not escape it again).
 * Retries follow botocore's standard mode, like es_comprehend.c: 3
 * attempts, full jitter, a token bucket kept for the client's life.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "es_aws.h"
#include "es_backoff.h"
#include "es_http.h"
#include "es_log.h"
#include "es_s3.h"
#include "es_worker.h"

#define S3_MAX_KEY        1024
#define S3_MAX_FILE       (256u * 1024 * 1024)
#define BUDGET_MAX        500.0
#define BUDGET_RETRY_COST 5.0

struct es_s3 {
    char *bucket;
    char *prefix;
    char *endpoint;
    char *region;
    int path_style;
    long timeout_ms;
    int max_attempts;
    long long backoff_cap_ms;
    es_aws_chain *chain;
    es_http *http;
    es_retry_budget budget;
};

void es_s3_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32) {
        memset(md, 0, sizeof(md));
    }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

int es_s3_encode_key(const char *key, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(key), o = 0;
    const char *seg = key;

    if (n == 0 || n > S3_MAX_KEY) {
        return -1;
    }
    /* "." and ".." segments would be removed by URL normalization */
    for (const char *p = key;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t sl = (size_t)(p - seg);
            if ((sl == 1 && seg[0] == '.') ||
                (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
                return -1;
            }
            if (*p == '\0') {
                break;
            }
            seg = p + 1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (unreserved(c) || c == '/') {
            if (o + 1 >= size) {
                return -1;
            }
            out[o++] = (char)c;
        } else {
            if (o + 3 >= size) {
                return -1;
            }
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return (int)o;
}

int es_s3_object_url(const char *endpoint, const char *region,
                     const char *bucket, int path_style,
                     const char *encoded_key, char *out, size_t size)
{
    char base[512];
    const char *host;
    int n;

    if (endpoint == NULL || *endpoint == '\0') {
        snprintf(base, sizeof(base), "https://s3.%s.amazonaws.com", region);
    } else if (es_aws_endpoint_of(endpoint, base, sizeof(base)) != 0) {
        return -1;
    }
    if (path_style) {
        n = snprintf(out, size, "%s/%s/%s", base, bucket, encoded_key);
    } else {
        host = strstr(base, "://") + 3;
        n = snprintf(out, size, "%.*s%s.%s/%s", (int)(host - base), base,
                     bucket, host, encoded_key);
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Copies the text of the first <tag>…</tag> in body into out. */
static void xml_tag(const char *body, size_t len, const char *tag, char *out,
                    size_t size)
{
    char open[64], close[64];
    const char *b, *e;
    size_t n;

    out[0] = '\0';
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    b = memmem(body, len, open, strlen(open));
    if (b == NULL) {
        return;
    }
    b += strlen(open);
    e = memmem(b, len - (size_t)(b - body), close, strlen(close));
    if (e == NULL) {
        return;
    }
    n = (size_t)(e - b);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, b, n);
    out[n] = '\0';
}

void es_s3_parse_error(const char *body, size_t len, char *code, size_t codelen,
                       char *message, size_t msglen)
{
    code[0] = '\0';
    message[0] = '\0';
    if (body == NULL || len == 0) {
        return;
    }
    xml_tag(body, len, "Code", code, codelen);
    xml_tag(body, len, "Message", message, msglen);
}

es_s3 *es_s3_new(const es_s3_opts *o)
{
    es_s3 *s = calloc(1, sizeof(*s));
    es_aws_chain_opts def = {NULL, "http://169.254.169.254", 1, 1000};
    const char *region = o->region && *o->region ? o->region : "us-east-1";

    if (s == NULL) {
        return NULL;
    }
    s->bucket = strdup(o->bucket ? o->bucket : "");
    s->prefix = strdup(o->prefix ? o->prefix : "");
    s->endpoint = strdup(o->endpoint ? o->endpoint : "");
    s->region = strdup(region);
    s->path_style = o->path_style;
    s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 60000;
    s->max_attempts = o->max_attempts > 0 ? o->max_attempts : 3;
    s->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 20000;
    s->chain = es_aws_chain_new(o->creds ? o->creds : &def);
    s->http = es_http_new("echostream-s3");
    es_retry_budget_init(&s->budget, BUDGET_MAX, BUDGET_RETRY_COST, 1.0);
    if (!s->bucket || !s->prefix || !s->endpoint || !s->region || !s->chain ||
        !s->http) {
        es_s3_free(s);
        return NULL;
    }
    return s;
}

void es_s3_free(es_s3 *s)
{
    if (s == NULL) {
        return;
    }
    es_aws_chain_free(s->chain);
    es_http_free(s->http);
    free(s->bucket);
    free(s->prefix);
    free(s->endpoint);
    free(s->region);
    free(s);
}

typedef struct {
    long status;
    int retryable;
    char code[128];
    char message[256];
    char request_id[128];
} put_result;

/* One signed PUT; 0 on 200, -1 with r filled. */
static int put_once(es_s3 *s, const char *url, const void *body, size_t len,
                    const char *ctype_hdr, const char *sha_hdr, put_result *r)
{
    const es_aws_creds *creds;
    const char *headers[3];
    char base[512], cerr[256];
    es_aws_signed_request req;
    es_aws_result res;
    int rc;

    memset(r, 0, sizeof(*r));
    creds = es_aws_chain_get(s->chain, cerr, sizeof(cerr));
    if (creds == NULL) {
        snprintf(r->code, sizeof(r->code), "NoCredentials");
        snprintf(r->message, sizeof(r->message), "%s", cerr);
        return -1;
    }
    if (es_aws_endpoint_of(url, base, sizeof(base)) != 0) {
        snprintf(r->code, sizeof(r->code), "BadEndpoint");
        return -1;
    }
    headers[0] = ctype_hdr;
    headers[1] = sha_hdr; /* signed, and the payload hash S3 checks */
    headers[2] = NULL;

    memset(&req, 0, sizeof(req));
    req.method = "PUT";
    req.endpoint = base;
    req.path = url + strlen(base); /* the key, escaped as S3 signs it */
    req.region = s->region;
    req.service = "s3";
    req.headers = headers;
    req.body = len ? body : "";
    req.body_len = len;
    req.timeout_ms = s->timeout_ms;
    req.max_body = 64 * 1024;
    rc = es_aws_signed_call(s->http, creds, &req, &res);

    r->status = res.status;
    snprintf(r->request_id, sizeof(r->request_id), "%s", res.request_id);
    if (rc == 0 && res.status == 200) {
        return 0;
    }
    snprintf(r->code, sizeof(r->code), "%s", res.code);
    snprintf(r->message, sizeof(r->message), "%s", res.message);
    r->retryable = res.retryable;
    if (res.status == 0) {
        return -1;
    }
    /* S3 answers errors in XML, which the JSON reader above does not see */
    if (rc == 0 || res.body_len > 0) {
        char code[128], message[256];

        es_s3_parse_error(res.body, res.body_len, code, sizeof(code), message,
                          sizeof(message));
        if (code[0]) {
            snprintf(r->code, sizeof(r->code), "%s", code);
            snprintf(r->message, sizeof(r->message), "%s", message);
        } else if (rc == 0) {
            snprintf(r->code, sizeof(r->code), "HTTP %ld", res.status);
        }
        r->retryable = es_aws_is_retryable(res.status, r->code);
    }
    if (res.status == 401 || res.status == 403) {
        /* rotated or expired keys: look them up again next time */
        es_aws_chain_invalidate(s->chain);
    }
    return -1;
}

int es_s3_put(es_s3 *s, const char *key, const void *body, size_t len,
              const char *content_type, char *err, size_t errlen)
{
    char full[S3_MAX_KEY + 1], enc[3 * S3_MAX_KEY + 1], url[4096];
    char sha[65], sha_hdr[96], ctype_hdr[256];
    put_result r;
    es_backoff bo;
    int n;

    n = snprintf(full, sizeof(full), "%s%s", s->prefix, key);
    if (n < 0 || (size_t)n >= sizeof(full) ||
        es_s3_encode_key(full, enc, sizeof(enc)) < 0) {
        snprintf(err, errlen, "invalid S3 key \"%.200s\"", full);
        return -1;
    }
    if (s->bucket[0] == '\0' ||
        es_s3_object_url(s->endpoint, s->region, s->bucket, s->path_style, enc,
                         url, sizeof(url)) != 0) {
        snprintf(err, errlen, "no S3 bucket, or a bad s3.endpoint");
        return -1;
    }
    es_s3_sha256_hex(body, len, sha);
    snprintf(sha_hdr, sizeof(sha_hdr), "x-amz-content-sha256: %s", sha);
    snprintf(ctype_hdr, sizeof(ctype_hdr), "Content-Type: %.200s",
             content_type ? content_type : "application/octet-stream");
    es_backoff_init(&bo, s->backoff_cap_ms < 1000 ? s->backoff_cap_ms : 1000,
                    s->backoff_cap_ms);
    for (int a = 1;; a++) {
        if (put_once(s, url, body, len, ctype_hdr, sha_hdr, &r) == 0) {
            es_retry_budget_success(&s->budget);
            return 0;
        }
        es_log(ES_WARN, "s3 put failed", ES_STR("key", full),
               ES_INT("attempt", a), ES_INT("status", r.status),
               ES_STR("code", r.code), ES_STR("message", r.message),
               ES_STR("request_id", r.request_id), ES_END);
        snprintf(err, errlen, "%s: %s", r.code, r.message);
        if (!r.retryable || a >= s->max_attempts || es_stopping()) {
            return -1;
        }
        if (!es_retry_budget_take(&s->budget)) {
            es_log(ES_WARN, "s3 retry budget spent", ES_STR("code", r.code),
                   ES_END);
            return -1;
        }
        es_sleep_ms(es_backoff_next(&bo));
    }
}

int es_s3_put_file(es_s3 *s, const char *key, const char *path,
                   const char *content_type, size_t max_bytes, char *err,
                   size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    struct stat st;
    size_t size;
    int rc = -1;

    if (max_bytes == 0) {
        max_bytes = S3_MAX_FILE;
    }
    f = fopen(path, "rb");
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "cannot open %.200s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (st.st_size < 0 || (unsigned long long)st.st_size > max_bytes) {
        snprintf(err, errlen, "%.200s is larger than %zu bytes", path,
                 max_bytes);
        goto cleanup;
    }
    size = (size_t)st.st_size;
    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory reading %.200s", path);
        goto cleanup;
    }
    if (size && fread(buf, 1, size, f) != size) {
        snprintf(err, errlen, "cannot read %.200s", path);
        goto cleanup;
    }
    rc = es_s3_put(s, key, buf, size, content_type, err, errlen);

cleanup:
    if (f) {
        fclose(f);
    }
    free(buf);
    return rc;
}
