/*
 * es_ses.c - SES v2 SendEmail (see es_ses.h).
 *
 * The message is base64-encoded with OpenSSL into the JSON body; the call
 * goes through es_aws_signed_call like every AWS call. SES v2 is a REST-JSON
 * API: errors name themselves in x-amzn-ErrorType (MessageRejected,
 * MailFromDomainNotVerifiedException, TooManyRequestsException, …), which
 * es_aws_parse_error reads and classifies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "es_aws.h"
#include "es_log.h"
#include "es_ses.h"

#define DEFAULT_TIMEOUT_MS 30000
#define MAX_ANSWER         (64 * 1024)

char *es_ses_body(const char *from, const char *const *to, size_t nto,
                  const char *raw_mime, size_t raw_len, size_t *len)
{
    json_t *doc = NULL, *list = NULL;
    char *b64 = NULL, *out = NULL;
    size_t b64_len;

    if (raw_len > ES_SES_MAX_RAW) {
        return NULL;
    }
    b64_len = 4 * ((raw_len + 2) / 3);
    b64 = malloc(b64_len + 1);
    list = json_array();
    if (b64 == NULL || list == NULL) {
        goto cleanup;
    }
    if ((size_t)EVP_EncodeBlock((unsigned char *)b64,
                                (const unsigned char *)raw_mime,
                                (int)raw_len) != b64_len) {
        goto cleanup;
    }
    for (size_t i = 0; i < nto; i++) {
        if (to[i] == NULL || json_array_append_new(list, json_string(to[i]))) {
            goto cleanup;
        }
    }
    doc = json_pack("{s:s,s:{s:O},s:{s:{s:s}}}", "FromEmailAddress", from,
                    "Destination", "ToAddresses", list, "Content", "Raw",
                    "Data", b64);
    if (doc == NULL) {
        goto cleanup;
    }
    out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (out && len) {
        *len = strlen(out);
    }

cleanup:
    json_decref(doc);
    json_decref(list);
    free(b64);
    return out;
}

/* MessageId of a SendEmail answer into out; 0 or -1. */
static int parse_answer(const char *body, size_t len, char *out, size_t size)
{
    json_t *doc = json_loadb(body, len, 0, NULL);   /* new */
    json_t *id = json_object_get(doc, "MessageId"); /* borrowed */
    int rc = -1;

    if (json_is_string(id) && json_string_length(id) > 0) {
        snprintf(out, size, "%s", json_string_value(id));
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

int es_ses_send_raw(es_http *h, const es_aws_creds *creds, const char *endpoint,
                    const char *region, long timeout_ms, const char *from,
                    const char *const *to, size_t nto, const char *raw_mime,
                    size_t raw_len, char *message_id, size_t id_size, char *err,
                    size_t err_size)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          NULL};
    char url[512];
    es_aws_signed_request req;
    es_aws_result r;
    char *body;
    size_t len = 0;
    int rc;

    if (message_id && id_size) {
        message_id[0] = '\0';
    }
    if (region == NULL || *region == '\0') {
        region = "us-east-1";
    }
    if (from == NULL || *from == '\0' || to == NULL || nto == 0 ||
        nto > ES_SES_MAX_RECIPIENTS || raw_mime == NULL || raw_len == 0 ||
        raw_len > ES_SES_MAX_RAW) {
        snprintf(err, err_size,
                 "bad message: sender, 1-%d recipients and 1 byte to %u "
                 "bytes of MIME are needed",
                 ES_SES_MAX_RECIPIENTS, ES_SES_MAX_RAW);
        return -1;
    }
    if (endpoint && *endpoint) {
        snprintf(url, sizeof(url), "%s", endpoint);
    } else {
        snprintf(url, sizeof(url), "https://email.%s.amazonaws.com", region);
    }
    body = es_ses_body(from, to, nto, raw_mime, raw_len, &len);
    if (body == NULL) {
        snprintf(err, err_size,
                 "cannot build the request (out of memory, "
                 "or an address is not UTF-8)");
        return -1;
    }
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.endpoint = url;
    req.path = "/v2/email/outbound-emails";
    req.region = region;
    req.service = "ses";
    req.headers = headers;
    req.body = body;
    req.body_len = len;
    req.timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    req.max_body = MAX_ANSWER;

    if (es_aws_signed_call(h, creds, &req, &r) == 0) {
        if (parse_answer(r.body, r.body_len, message_id, id_size) == 0) {
            rc = 0;
            goto cleanup;
        }
        /* 2xx without a MessageId: SES may have sent it; a retry could
         * send it twice, but losing a digest silently is worse */
        snprintf(r.code, sizeof(r.code), "BadAnswer");
        snprintf(r.message, sizeof(r.message),
                 "SendEmail answer without "
                 "MessageId");
        r.retryable = 1;
    }
    snprintf(err, err_size, "%s: %s", r.code, r.message);
    rc = r.retryable ? 1 : -1;
    es_log(ES_WARN, "ses send failed", ES_INT("status", r.status),
           ES_STR("code", r.code), ES_STR("request_id", r.request_id),
           ES_INT("retryable", r.retryable), ES_END);

cleanup:
    free(body);
    return rc;
}
