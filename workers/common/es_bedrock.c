/*
 * es_bedrock.c - Bedrock Converse (see es_bedrock.h).
 *
 * One attempt is one es_aws_signed_call; the loop around it decides on
 * retries from the classification es_aws_parse_error made (the error code
 * travels in x-amzn-ErrorType for this REST-JSON API). A 200 whose body is
 * not a Converse answer counts as retryable, like a torn response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_aws.h"
#include "es_bedrock.h"
#include "es_log.h"
#include "es_sigv4.h"
#include "es_utf8.h"
#include "es_worker.h"

#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_ATTEMPTS   3
#define DEFAULT_CAP_MS     20000LL

/* A JSON string of s (NULL: ""), invalid UTF-8 replaced by U+FFFD. New. */
static json_t *text_of(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char *fixed;
    json_t *out;

    if (es_utf8_valid(s ? s : "", n)) {
        return json_stringn(s ? s : "", n);
    }
    fixed = malloc(3 * n + 1);
    if (fixed == NULL) {
        return NULL;
    }
    n = es_utf8_repair(s, n, fixed, 3 * n + 1);
    out = n == (size_t)-1 ? NULL : json_stringn(fixed, n);
    free(fixed);
    return out;
}

/* [{"text": s}], new; NULL when out of memory. */
static json_t *text_blocks(const char *s)
{
    json_t *t = text_of(s);

    if (t == NULL) {
        return NULL;
    }
    return json_pack("[{s:o}]", "text", t); /* steals t */
}

char *es_bedrock_body(const char *system_prompt, const char *user_text,
                      long max_tokens, double temperature, size_t *len)
{
    json_t *doc = NULL, *msgs = NULL, *sys = NULL, *user = NULL;
    char *out = NULL;

    if (max_tokens <= 0) {
        max_tokens = ES_BEDROCK_DEFAULT_MAX_TOKENS;
    }
    if (!(temperature >= 0.0)) { /* also NaN */
        temperature = 0.0;
    } else if (temperature > 1.0) {
        temperature = 1.0;
    }
    user = text_blocks(user_text);
    if (user == NULL) {
        goto cleanup;
    }
    msgs = json_pack("[{s:s,s:O}]", "role", "user", "content", user);
    doc = json_object();
    if (msgs == NULL || doc == NULL) {
        goto cleanup;
    }
    /* Bedrock refuses an empty system text block: leave it out instead */
    if (system_prompt && *system_prompt) {
        sys = text_blocks(system_prompt);
        if (sys == NULL || json_object_set(doc, "system", sys) != 0) {
            goto cleanup;
        }
    }
    if (json_object_set(doc, "messages", msgs) != 0 ||
        json_object_set_new(doc, "inferenceConfig",
                            json_pack("{s:I,s:f}", "maxTokens",
                                      (json_int_t)max_tokens, "temperature",
                                      temperature)) != 0) {
        goto cleanup;
    }
    /* 6 digits: 0.2 travels as 0.2, not as its nearest double's 17 */
    out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER |
                              JSON_REAL_PRECISION(6));
    if (out && len) {
        *len = strlen(out);
    }

cleanup:
    json_decref(sys);
    json_decref(user);
    json_decref(msgs);
    json_decref(doc);
    return out;
}

int es_bedrock_path(const char *model, char *out, size_t size)
{
    char esc[1024];
    int n;

    if (model == NULL || *model == '\0' ||
        es_sigv4_escape(model, strlen(model), esc, sizeof(esc)) < 0) {
        return -1;
    }
    n = snprintf(out, size, "/model/%s/converse", esc);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static long token_count(json_t *usage, const char *key)
{
    json_t *v = json_object_get(usage, key); /* borrowed */
    return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

int es_bedrock_parse(const char *body, size_t len, es_bedrock_result *res)
{
    json_t *doc, *content, *usage, *stop, *block;
    size_t i, total = 0, have = 0;
    char *text = NULL;
    int rc = -1;

    doc = json_loadb(body, len, 0, NULL); /* new */
    content = json_object_get(
        json_object_get(json_object_get(doc, "output"), "message"),
        "content"); /* borrowed */
    if (!json_is_array(content)) {
        goto cleanup;
    }
    /* text blocks only: reasoning or tool blocks are not the answer */
    json_array_foreach(content, i, block)
    {
        json_t *t = json_object_get(block, "text");
        if (json_is_string(t)) {
            total += json_string_length(t);
            have = 1;
        }
    }
    if (!have) {
        goto cleanup;
    }
    text = malloc(total + 1);
    if (text == NULL) {
        goto cleanup;
    }
    total = 0;
    json_array_foreach(content, i, block)
    {
        json_t *t = json_object_get(block, "text");
        if (json_is_string(t)) {
            memcpy(text + total, json_string_value(t), json_string_length(t));
            total += json_string_length(t);
        }
    }
    text[total] = '\0';
    free(res->text);
    res->text = text;
    usage = json_object_get(doc, "usage");
    res->input_tokens = token_count(usage, "inputTokens");
    res->output_tokens = token_count(usage, "outputTokens");
    stop = json_object_get(doc, "stopReason");
    snprintf(res->stop_reason, sizeof(res->stop_reason), "%s",
             json_is_string(stop) ? json_string_value(stop) : "");
    rc = 0;

cleanup:
    json_decref(doc);
    return rc;
}

void es_bedrock_result_free(es_bedrock_result *res)
{
    if (res) {
        free(res->text);
        res->text = NULL;
    }
}

int es_bedrock_converse(es_http *h, const es_aws_creds *creds,
                        const es_bedrock_config *cfg, const char *system_prompt,
                        const char *user_text, es_bedrock_result *res)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          "Accept: application/json", NULL};
    const char *model =
        cfg->model && *cfg->model ? cfg->model : ES_BEDROCK_DEFAULT_MODEL;
    const char *region =
        cfg->region && *cfg->region ? cfg->region : "us-east-1";
    long long cap =
        cfg->backoff_cap_ms > 0 ? cfg->backoff_cap_ms : DEFAULT_CAP_MS;
    int attempts = cfg->attempts > 0 ? cfg->attempts : DEFAULT_ATTEMPTS;
    char endpoint[512], path[1100];
    es_aws_signed_request req;
    es_aws_result r;
    es_backoff bo;
    char *body = NULL;
    size_t len = 0;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    if (cfg->endpoint && *cfg->endpoint) {
        snprintf(endpoint, sizeof(endpoint), "%s", cfg->endpoint);
    } else {
        snprintf(endpoint, sizeof(endpoint),
                 "https://bedrock-runtime.%s.amazonaws.com", region);
    }
    if (es_bedrock_path(model, path, sizeof(path)) != 0) {
        snprintf(res->code, sizeof(res->code), "InvalidModel");
        snprintf(res->message, sizeof(res->message), "model id too long");
        return -1;
    }
    body = es_bedrock_body(system_prompt, user_text, cfg->max_tokens,
                           cfg->temperature, &len);
    if (body == NULL) {
        snprintf(res->code, sizeof(res->code), "OutOfMemory");
        snprintf(res->message, sizeof(res->message), "building the request");
        return -1;
    }
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.endpoint = endpoint;
    req.path = path;
    req.region = region;
    req.service = "bedrock";
    req.headers = headers;
    req.body = body;
    req.body_len = len;
    req.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    req.max_body = ES_BEDROCK_MAX_RESPONSE;
    es_backoff_init(&bo, cap < 1000 ? cap : 1000, cap);

    for (int a = 1;; a++) {
        res->attempts = a;
        if (es_aws_signed_call(h, creds, &req, &r) == 0) {
            if (es_bedrock_parse(r.body, r.body_len, res) == 0) {
                res->ok = 1;
                res->status = r.status;
                res->code[0] = '\0';
                res->message[0] = '\0';
                if (cfg->budget) {
                    es_retry_budget_success(cfg->budget);
                }
                rc = 0;
                break;
            }
            snprintf(r.code, sizeof(r.code), "BadAnswer");
            snprintf(r.message, sizeof(r.message),
                     "Converse answer without text");
            r.retryable = 1;
        }
        res->status = r.status;
        snprintf(res->code, sizeof(res->code), "%s", r.code);
        snprintf(res->message, sizeof(res->message), "%s", r.message);
        es_log(ES_WARN, "bedrock call failed", ES_STR("model", model),
               ES_INT("attempt", a), ES_INT("status", r.status),
               ES_STR("code", r.code), ES_STR("request_id", r.request_id),
               ES_END);
        if (!r.retryable || a >= attempts || es_stopping()) {
            break;
        }
        if (cfg->budget && !es_retry_budget_take(cfg->budget)) {
            es_log(ES_WARN, "bedrock retry budget spent",
                   ES_STR("code", r.code), ES_END);
            break;
        }
        es_sleep_ms(es_backoff_next(&bo));
    }
    free(body);
    return rc;
}
