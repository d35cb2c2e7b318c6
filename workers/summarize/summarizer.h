/*
 * summarizer.h - the state of one echostream-summarize process, shared by
 * its scheduler (schedule.h), its jobs (job.h) and its main loop.
 */
#ifndef ES_SUM_SUMMARIZER_H
#define ES_SUM_SUMMARIZER_H

#include "es_aws_creds.h"
#include "es_backoff.h"
#include "es_bedrock.h"
#include "es_consumer.h"
#include "es_heartbeat.h"
#include "es_http.h"
#include "es_redis.h"
#include "es_unsub.h"
#include "es_worker.h"
#include "figures.h"

typedef struct {
    es_worker w;
    es_redis *r;
    es_heartbeat hb;
    es_consumer c;
    const char *group;
    es_sum_limits lim;
    long long interval_ms;   /* scheduler tick */
    long long claim_idle_ms; /* a job left this long is taken over */
    long long heartbeat_ms;
    long long next_tick_ms; /* monotonic */

    /* Amazon Bedrock; off when not configured */
    int bedrock_on;
    es_bedrock_config bc;
    char endpoint[512];
    es_aws_chain *chain;
    es_http *http;
    es_retry_budget budget;
    double price_in, price_out; /* USD per million tokens */

    /* the digest e-mails */
    char base_url[1024]; /* mail.base_url, ending in '/' */
    unsigned char unsub_key[ES_UNSUB_KEY_MAX]; /* mail.secret_file */
    long unsub_len;                            /* 0: no unsubscribe links */

    /* what the heartbeat reports */
    long long scheduled, done, failed, local, bedrock, fallbacks;
    long long input_tokens, output_tokens, digests;
} es_summarizer;

/* "[A-Za-z0-9_-]{1,64}": topic and request ids */
int es_sum_id_ok(const char *s);

#endif
