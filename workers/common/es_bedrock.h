/*
 * es_bedrock.h - one Amazon Bedrock Converse call, with retries.
 *
 * Converse (`POST /model/{modelId}/converse` on bedrock-runtime, signing
 * name "bedrock") is the one model-neutral Bedrock API, so the model stays
 * configuration: Anthropic's models move from Active to Legacy to end of
 * life, and a new id is a config change, not a code change. The request
 * carries one system prompt, one user turn and inferenceConfig with
 * maxTokens always set: Bedrock reserves input + maxTokens of the account's
 * tokens-per-minute quota for every call, and a model's default maximum is
 * far larger than a summary needs.
 *
 * Every Claude model id holds a ':' ("…-v1:0"), sent escaped (%3A) and
 * signed escaped twice (es_sigv4 does; libcurl 7.88's signer does not).
 *
 * Retries follow botocore's standard mode: throttling (429
 * ThrottlingException, ModelNotReadyException), 500 InternalServerException,
 * 503 ServiceUnavailableException and transport errors are retried, up to
 * cfg->attempts in all, after a full-jitter wait capped at
 * cfg->backoff_cap_ms; each retry spends from the shared retry budget and
 * the call gives up at once when it is empty. Validation and access errors
 * are final. Neither the prompt, the answer nor any secret is logged: a
 * failed attempt logs the model, status, error code and AWS request id.
 */
#ifndef ES_BEDROCK_H
#define ES_BEDROCK_H

#include <stddef.h>

#include "es_aws_creds.h"
#include "es_backoff.h"
#include "es_http.h"

/* Model the configuration names by default (bedrock.model). */
#define ES_BEDROCK_DEFAULT_MODEL                                               \
    "global.anthropic.claude-haiku-4-5-20251001-v1:0"
#define ES_BEDROCK_DEFAULT_MAX_TOKENS 800
/* Largest Converse answer read; a summary of 800 tokens is a few KB. */
#define ES_BEDROCK_MAX_RESPONSE (1024 * 1024)

typedef struct {
    const char *endpoint; /* "" or NULL: https://bedrock-runtime.<region>… */
    const char *region;   /* signing region; "" or NULL: us-east-1 */
    const char *model;    /* model or inference profile id; NULL: default */
    long max_tokens;      /* inferenceConfig.maxTokens; <= 0: 800 */
    double temperature;   /* 0..1, clamped */
    long timeout_ms;      /* per attempt; <= 0: 60000 */
    int attempts;         /* in all, first included; <= 0: 3 */
    long long backoff_cap_ms; /* <= 0: 20000; base is min(1000, cap) */
    es_retry_budget *budget;  /* shared by the caller's calls; NULL: none */
} es_bedrock_config;

typedef struct {
    int ok;
    char *text; /* the answer's text blocks joined; malloc'd, caller frees */
    long input_tokens, output_tokens;
    char stop_reason[32]; /* "end_turn", "max_tokens", … */
    long status;          /* HTTP status of the last attempt; 0: none */
    char code[128];       /* AWS error code of the last failure, "" if ok */
    char message[256];    /* AWS's message (never the prompt) */
    int attempts;         /* attempts made */
} es_bedrock_result;

/*
 * Asks cfg->model to answer user_text under system_prompt ("" or NULL:
 * none), with creds (borrowed). Returns 0 with res->ok, text, tokens and
 * stop reason set, or -1 after the last attempt (or at once for a final
 * error, an empty budget, or es_stopping()) with res->status, code and
 * message saying why. res is always initialised; free it with
 * es_bedrock_result_free.
 */
int es_bedrock_converse(es_http *h, const es_aws_creds *creds,
                        const es_bedrock_config *cfg, const char *system_prompt,
                        const char *user_text, es_bedrock_result *res);

void es_bedrock_result_free(es_bedrock_result *res);

/*
 * The Converse request body (JSON, malloc'd, caller frees; *len set), or
 * NULL when out of memory or a text is not valid UTF-8. Exposed for tests.
 */
char *es_bedrock_body(const char *system_prompt, const char *user_text,
                      long max_tokens, double temperature, size_t *len);

/*
 * The request path for model: "/model/<id escaped>/converse" (every byte
 * but RFC 3986's unreserved ones escaped, ':' and '/' included). Returns 0,
 * or -1 when it does not fit.
 */
int es_bedrock_path(const char *model, char *out, size_t size);

/*
 * Reads a Converse answer into res (text, tokens, stop reason). Returns 0,
 * or -1 when it is not a Converse answer or holds no text.
 */
int es_bedrock_parse(const char *body, size_t len, es_bedrock_result *res);

#endif
