/*
 * sqs.c - SendMessageBatch client (see sqs.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "es_log.h"
#include "sqs.h"

#define ES_SQS_MAX_ANSWER (1024 * 1024)

struct es_sqs {
    char *queue_url;
    char *region;
    char endpoint[512];
    es_aws_chain *chain; /* borrowed */
    es_http *http;
    long timeout_ms;
};

es_sqs *es_sqs_new(const char *queue_url, const char *region,
                   es_aws_chain *chain, long timeout_ms)
{
    es_sqs *q = calloc(1, sizeof(*q));

    if (q == NULL) {
        return NULL;
    }
    if (es_aws_endpoint_of(queue_url, q->endpoint, sizeof(q->endpoint)) != 0) {
        free(q);
        return NULL;
    }
    q->queue_url = strdup(queue_url);
    q->region = strdup(region);
    q->http = es_http_new("echostream-mirror");
    q->chain = chain;
    q->timeout_ms = timeout_ms;
    if (q->queue_url == NULL || q->region == NULL || q->http == NULL) {
        es_sqs_free(q);
        return NULL;
    }
    return q;
}

void es_sqs_free(es_sqs *q)
{
    if (q == NULL) {
        return;
    }
    es_http_free(q->http);
    free(q->queue_url);
    free(q->region);
    free(q);
}

void es_sqs_md5_hex(const char *s, size_t n, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    if (EVP_Digest(s, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
        return;
    }
    for (unsigned int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
}

char *es_sqs_batch_request(const char *queue_url, const es_mirror_msg *msgs,
                           size_t n, size_t *len)
{
    json_t *req = json_object(); /* new */
    json_t *entries = json_array();
    char *text = NULL;

    if (req == NULL || entries == NULL) {
        json_decref(entries);
        goto cleanup;
    }
    if (json_object_set_new(req, "QueueUrl", json_string(queue_url)) != 0 ||
        json_object_set_new(req, "Entries", entries) != 0) { /* steals */
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_pack("{s:s, s:s%}", "Id", msgs[i].id, "MessageBody",
                              msgs[i].body, msgs[i].body_len);
        if (e == NULL || json_array_append_new(entries, e) != 0) {
            goto cleanup;
        }
    }
    text = json_dumps(req, JSON_COMPACT);
    if (text) {
        *len = strlen(text);
    }

cleanup:
    json_decref(req);
    return text;
}

static long find_msg(const es_mirror_msg *msgs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(msgs[i].id, id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

int es_sqs_batch_parse(const char *body, size_t len, const es_mirror_msg *msgs,
                       size_t n, es_sqs_entry_result *results)
{
    json_t *doc = json_loadb(body, len, 0, NULL); /* new */
    json_t *ok, *failed, *e;
    size_t idx;
    int rc = -1;

    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        snprintf(results[i].code, sizeof(results[i].code), "Missing");
        snprintf(results[i].message, sizeof(results[i].message),
                 "entry absent from the answer");
    }
    if (!json_is_object(doc)) {
        goto cleanup;
    }
    ok = json_object_get(doc, "Successful"); /* borrowed */
    failed = json_object_get(doc, "Failed");
    if ((ok && !json_is_array(ok)) || (failed && !json_is_array(failed)) ||
        (ok == NULL && failed == NULL)) {
        goto cleanup;
    }
    json_array_foreach(ok, idx, e)
    {
        const char *id = json_string_value(json_object_get(e, "Id"));
        const char *md5 =
            json_string_value(json_object_get(e, "MD5OfMessageBody"));
        char want[33];
        long i;

        if (id == NULL) {
            continue;
        }
        i = find_msg(msgs, n, id);
        if (i < 0) {
            continue;
        }
        es_sqs_md5_hex(msgs[i].body, msgs[i].body_len, want);
        if (md5 == NULL || strcmp(md5, want) != 0) {
            snprintf(results[i].code, sizeof(results[i].code), "MD5Mismatch");
            snprintf(results[i].message, sizeof(results[i].message),
                     "MD5OfMessageBody does not match the body sent");
            continue;
        }
        results[i].ok = 1;
        results[i].code[0] = '\0';
        results[i].message[0] = '\0';
    }
    json_array_foreach(failed, idx, e)
    {
        const char *id = json_string_value(json_object_get(e, "Id"));
        const char *code = json_string_value(json_object_get(e, "Code"));
        const char *msg = json_string_value(json_object_get(e, "Message"));
        long i;

        if (id == NULL) {
            continue;
        }
        i = find_msg(msgs, n, id);
        if (i < 0 || results[i].ok) {
            continue;
        }
        results[i].sender_fault =
            json_is_true(json_object_get(e, "SenderFault"));
        snprintf(results[i].code, sizeof(results[i].code), "%s",
                 code ? code : "Failed");
        snprintf(results[i].message, sizeof(results[i].message), "%s",
                 msg ? msg : "");
    }
    rc = 0;

cleanup:
    json_decref(doc);
    return rc;
}

int es_sqs_send_batch(es_sqs *q, const es_mirror_msg *msgs, size_t n,
                      es_sqs_entry_result *results, es_aws_result *res)
{
    static const char *const extra[] = {"x-amzn-query-mode: true", NULL};
    const es_aws_creds *creds;
    es_aws_request req;
    char err[512];
    char *body = NULL;
    size_t len = 0;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    creds = es_aws_chain_get(q->chain, err, sizeof(err));
    if (creds == NULL) {
        snprintf(res->code, sizeof(res->code), "NoCredentials");
        snprintf(res->message, sizeof(res->message), "%.250s", err);
        return -1;
    }
    body = es_sqs_batch_request(q->queue_url, msgs, n, &len);
    if (body == NULL) {
        snprintf(res->code, sizeof(res->code), "OutOfMemory");
        snprintf(res->message, sizeof(res->message), "building the batch");
        res->retryable = 1;
        return -1;
    }
    memset(&req, 0, sizeof(req));
    req.endpoint = q->endpoint;
    req.region = q->region;
    req.service = "sqs";
    req.target = "AmazonSQS.SendMessageBatch";
    req.content_type = "application/x-amz-json-1.0";
    req.extra_headers = extra;
    req.body = body;
    req.body_len = len;
    req.timeout_ms = q->timeout_ms;
    req.max_body = ES_SQS_MAX_ANSWER;
    if (es_aws_json_call(q->http, creds, &req, res) != 0) {
        if (res->auth) {
            /* rotated or expired keys: look them up again next time */
            es_aws_chain_invalidate(q->chain);
        }
        goto cleanup;
    }
    if (es_sqs_batch_parse(res->body, res->body_len, msgs, n, results) != 0) {
        snprintf(res->code, sizeof(res->code), "BadAnswer");
        snprintf(res->message, sizeof(res->message),
                 "SendMessageBatch answer is not the expected JSON");
        res->retryable = 1;
        goto cleanup;
    }
    rc = 0;

cleanup:
    free(body);
    return rc;
}
