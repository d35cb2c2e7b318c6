/*
 * aws_call.c - one Bedrock Converse or SES v2 SendEmail call through
 * EchoStream's own clients, for the integration tests.
 *
 *   aws_call bedrock --endpoint URL [--region R] [--model ID]
 *            [--max-tokens N] [--temperature T] [--timeout-ms N]
 *            [--attempts N] [--backoff-cap-ms N] [--budget N]
 *            [--system TEXT]            (the user text is read from stdin)
 *   aws_call ses --endpoint URL [--region R] [--timeout-ms N] --from ADDR
 *            --to ADDR [--to ADDR]...   (the MIME message is read from stdin)
 *
 * Credentials come from the standard chain (environment, shared file;
 * IMDS only when AWS_EC2_METADATA_DISABLED is not true), as the workers
 * find them. --budget N gives the Bedrock call a retry budget of N tokens,
 * one spent per retry (0: no retry is allowed); without it there is none.
 * Prints one JSON line with the outcome (es_bedrock_result's fields, or
 * {"rc","message_id","error"}) and exits 0 when the call succeeded, 1 when
 * it failed (for ses: 1 retryable, 2 permanent), 3 for bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_aws_creds.h"
#include "es_bedrock.h"
#include "es_http.h"
#include "es_ses.h"

#define MAX_INPUT (16u * 1024 * 1024)
#define MAX_TO    ES_SES_MAX_RECIPIENTS

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            return argv[i + 1];
        }
    }
    return def;
}

/* Reads all of stdin (NUL-terminated); NULL when too large or no memory. */
static char *read_stdin(size_t *len)
{
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap + 1);

    while (buf) {
        got = fread(buf + n, 1, cap - n, stdin);
        n += got;
        if (got == 0) {
            break;
        }
        if (n == cap) {
            char *nb;
            if (cap >= MAX_INPUT) {
                free(buf);
                return NULL;
            }
            cap *= 2;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static int print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(o);
    if (s == NULL) {
        return -1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

static int bedrock(int argc, char **argv, es_http *h, const es_aws_creds *c)
{
    const char *budget_arg = arg(argc, argv, "--budget", NULL);
    es_retry_budget budget;
    es_bedrock_config cfg;
    es_bedrock_result res;
    size_t len = 0;
    char *user = read_stdin(&len);
    int rc;

    if (user == NULL) {
        fprintf(stderr, "cannot read the user text\n");
        return 3;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint = arg(argc, argv, "--endpoint", "");
    cfg.region = arg(argc, argv, "--region", "us-east-1");
    cfg.model = arg(argc, argv, "--model", ES_BEDROCK_DEFAULT_MODEL);
    cfg.max_tokens = atol(arg(argc, argv, "--max-tokens", "800"));
    cfg.temperature = atof(arg(argc, argv, "--temperature", "0.2"));
    cfg.timeout_ms = atol(arg(argc, argv, "--timeout-ms", "60000"));
    cfg.attempts = atoi(arg(argc, argv, "--attempts", "3"));
    cfg.backoff_cap_ms = atoll(arg(argc, argv, "--backoff-cap-ms", "20000"));
    if (budget_arg) {
        double n = atof(budget_arg);
        es_retry_budget_init(&budget, n, 1.0, 1.0);
        cfg.budget = &budget;
    }
    rc = es_bedrock_converse(h, c, &cfg, arg(argc, argv, "--system", ""), user,
                             &res);
    print_json(json_pack(
        "{s:i,s:s?,s:I,s:I,s:s,s:I,s:s,s:s,s:i,s:f}", "ok", res.ok, "text",
        res.text, "input_tokens", (json_int_t)res.input_tokens, "output_tokens",
        (json_int_t)res.output_tokens, "stop_reason", res.stop_reason, "status",
        (json_int_t)res.status, "code", res.code, "message", res.message,
        "attempts", res.attempts, "budget_left",
        cfg.budget ? cfg.budget->tokens : -1.0));
    es_bedrock_result_free(&res);
    free(user);
    return rc == 0 ? 0 : 1;
}

static int ses(int argc, char **argv, es_http *h, const es_aws_creds *c)
{
    const char *to[MAX_TO + 1];
    size_t nto = 0, len = 0;
    char id[256], err[512];
    char *mime;
    int rc;

    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--to") == 0 && nto <= MAX_TO) {
            to[nto++] = argv[i + 1];
        }
    }
    mime = read_stdin(&len);
    if (mime == NULL) {
        fprintf(stderr, "cannot read the message\n");
        return 3;
    }
    err[0] = '\0';
    rc = es_ses_send_raw(h, c, arg(argc, argv, "--endpoint", ""),
                         arg(argc, argv, "--region", "us-east-1"),
                         atol(arg(argc, argv, "--timeout-ms", "30000")),
                         arg(argc, argv, "--from", ""), to, nto, mime, len, id,
                         sizeof(id), err, sizeof(err));
    print_json(json_pack("{s:i,s:s,s:s}", "rc", rc, "message_id",
                         rc == 0 ? id : "", "error", rc == 0 ? "" : err));
    free(mime);
    return rc == 0 ? 0 : rc == 1 ? 1 : 2;
}

int main(int argc, char **argv)
{
    es_aws_chain_opts opts = {NULL, "http://169.254.169.254", 1, 1000};
    const char *imds_off = getenv("AWS_EC2_METADATA_DISABLED");
    const es_aws_creds *creds;
    es_aws_chain *chain;
    es_http *h;
    char err[256];
    int rc = 3;

    if (argc < 2 ||
        (strcmp(argv[1], "bedrock") != 0 && strcmp(argv[1], "ses") != 0)) {
        fprintf(stderr, "usage: aws_call bedrock|ses --endpoint URL ...\n");
        return 3;
    }
    opts.imds_enabled = !(imds_off && strcmp(imds_off, "true") == 0);
    chain = es_aws_chain_new(&opts);
    h = es_http_new("echostream-test");
    if (chain == NULL || h == NULL) {
        fprintf(stderr, "out of memory\n");
        goto cleanup;
    }
    creds = es_aws_chain_get(chain, err, sizeof(err));
    if (creds == NULL) {
        fprintf(stderr, "no credentials: %s\n", err);
        goto cleanup;
    }
    rc = strcmp(argv[1], "bedrock") == 0 ? bedrock(argc, argv, h, creds)
                                         : ses(argc, argv, h, creds);

cleanup:
    es_http_free(h);
    es_aws_chain_free(chain);
    return rc;
}
