/*
 * reddit_auth.c - OAuth2 client credentials for Reddit (see reddit_auth.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "es_log.h"
#include "es_worker.h"
#include "reddit_auth.h"

/* Without credentials nothing changes until a restart: look rarely. */
#define ES_AUTH_MISSING_RETRY_MS 30000

int es_reddit_auth_init(es_reddit_auth *a, const char *token_url,
                        const char *client_id, const char *client_secret,
                        long timeout_ms)
{
    memset(a, 0, sizeof(*a));
    a->timeout_ms = timeout_ms;
    es_backoff_init(&a->backoff, 1000, 60000);
    a->token_url = strdup(token_url);
    if (a->token_url == NULL) {
        return -1;
    }
    if (client_id[0] == '\0' || client_secret[0] == '\0') {
        a->state = ES_AUTH_MISSING_CREDENTIALS;
        snprintf(a->last_error, sizeof(a->last_error),
                 "reddit.client_id or reddit.client_secret is not set");
        return 0;
    }
    if (asprintf(&a->userpwd, "%s:%s", client_id, client_secret) < 0) {
        a->userpwd = NULL;
        free(a->token_url);
        a->token_url = NULL;
        return -1;
    }
    return 0;
}

void es_reddit_auth_cleanup(es_reddit_auth *a)
{
    free(a->token_url);
    if (a->userpwd) {
        memset(a->userpwd, 0, strlen(a->userpwd));
        free(a->userpwd);
    }
    memset(a, 0, sizeof(*a));
}

int es_reddit_token_parse(const char *body, size_t len, char *token,
                          size_t size, long long *expires_in, char *err,
                          size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, 0, &jerr);
    json_t *tok, *type, *exp;
    int rc = -1;

    if (root == NULL) {
        snprintf(err, errlen, "token answer is not JSON");
        return -1;
    }
    tok = json_object_get(root, "access_token");
    type = json_object_get(root, "token_type");
    exp = json_object_get(root, "expires_in");
    if (json_is_string(json_object_get(root, "error"))) {
        snprintf(err, errlen, "token endpoint error: %.80s",
                 json_string_value(json_object_get(root, "error")));
        goto cleanup;
    }
    if (!json_is_string(tok) || json_string_length(tok) == 0 ||
        json_string_length(tok) >= size) {
        snprintf(err, errlen, "token answer without a usable access_token");
        goto cleanup;
    }
    if (json_is_string(type) &&
        strcasecmp(json_string_value(type), "bearer") != 0) {
        snprintf(err, errlen, "unexpected token_type");
        goto cleanup;
    }
    if (!json_is_number(exp) || json_number_value(exp) < 1) {
        snprintf(err, errlen, "token answer without a valid expires_in");
        goto cleanup;
    }
    memcpy(token, json_string_value(tok), json_string_length(tok) + 1);
    *expires_in = (long long)json_number_value(exp);
    rc = 0;

cleanup:
    json_decref(root);
    return rc;
}

static void fail(es_reddit_auth *a, const char *why)
{
    long long wait = es_backoff_next(&a->backoff);

    if (a->state != ES_AUTH_FAILED || strcmp(a->last_error, why) != 0) {
        es_log(ES_ERROR, "reddit token request failed", ES_STR("error", why),
               ES_INT("retry_ms", wait), ES_END);
    }
    snprintf(a->last_error, sizeof(a->last_error), "%s", why);
    a->state = ES_AUTH_FAILED;
    a->token[0] = '\0';
    a->next_try_mono = es_mono_ms() + wait;
}

static void fetch(es_reddit_auth *a, es_http *h)
{
    static const char form[] = "grant_type=client_credentials";
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json", NULL};
    es_http_request req;
    es_http_response resp;
    char err[200];
    long long expires_in = 0, lead;
    long long now = es_mono_ms();

    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = a->token_url;
    req.headers = headers;
    req.body = form;
    req.body_len = sizeof(form) - 1;
    req.userpwd = a->userpwd;
    req.timeout_ms = a->timeout_ms;
    req.max_body = 65536;
    es_http_perform(h, &req, &resp);
    if (resp.status == 0) {
        snprintf(err, sizeof(err), "transport: %.180s", resp.error);
        fail(a, err);
        return;
    }
    if (resp.status != 200) {
        snprintf(err, sizeof(err), "HTTP %ld%s", resp.status,
                 resp.status == 401 ? " (client id or secret rejected)" : "");
        fail(a, err);
        return;
    }
    if (es_reddit_token_parse(resp.body, resp.body_len, a->token,
                              sizeof(a->token), &expires_in, err,
                              sizeof(err)) != 0) {
        fail(a, err);
        return;
    }
    /* renew at 80 % of the life, but never more than a minute early */
    lead = expires_in * 1000 / 5;
    if (lead > 60000) {
        lead = 60000;
    }
    a->refresh_mono = now + expires_in * 1000 - lead;
    if (a->state != ES_AUTH_OK) {
        es_log(ES_INFO, "reddit token acquired",
               ES_INT("expires_in", expires_in), ES_END);
    } else {
        es_log(ES_DEBUG, "reddit token renewed",
               ES_INT("expires_in", expires_in), ES_END);
    }
    a->state = ES_AUTH_OK;
    a->last_error[0] = '\0';
    es_backoff_reset(&a->backoff);
}

const char *es_reddit_auth_token(es_reddit_auth *a, es_http *h,
                                 long long *retry_ms)
{
    long long now = es_mono_ms();

    *retry_ms = 0;
    if (a->state == ES_AUTH_MISSING_CREDENTIALS) {
        *retry_ms = ES_AUTH_MISSING_RETRY_MS;
        return NULL;
    }
    if (a->state == ES_AUTH_OK && a->token[0] && now < a->refresh_mono) {
        return a->token;
    }
    if (a->state == ES_AUTH_FAILED && now < a->next_try_mono) {
        *retry_ms = a->next_try_mono - now;
        return NULL;
    }
    fetch(a, h);
    if (a->state == ES_AUTH_OK) {
        return a->token;
    }
    *retry_ms = a->next_try_mono - es_mono_ms();
    if (*retry_ms < 0) {
        *retry_ms = 0;
    }
    return NULL;
}

int es_reddit_auth_due(const es_reddit_auth *a)
{
    long long now = es_mono_ms();

    switch (a->state) {
    case ES_AUTH_MISSING_CREDENTIALS:
        return 0;
    case ES_AUTH_OK:
        return a->token[0] == '\0' || now >= a->refresh_mono;
    case ES_AUTH_FAILED:
        return now >= a->next_try_mono;
    default:
        return 1;
    }
}

void es_reddit_auth_invalidate(es_reddit_auth *a)
{
    if (a->state == ES_AUTH_OK) {
        a->refresh_mono = 0;
    }
}

const char *es_reddit_auth_state_name(const es_reddit_auth *a)
{
    switch (a->state) {
    case ES_AUTH_OK:
        return "ok";
    case ES_AUTH_MISSING_CREDENTIALS:
        return "missing_credentials";
    case ES_AUTH_FAILED:
        return "failed";
    default:
        return "pending";
    }
}
