/*
 * digest_text.h - the words of the daily digest e-mail: subject, plain
 * text and HTML, from a tenant's daily summaries and the alerts of the day.
 *
 * Pure text work, kept apart from the Redis reads of digest.c so it can be
 * tested on its own. Everything shown comes from tenant data, much of it
 * written by the public (summary texts quote comments), so the HTML part
 * escapes every character that means something in HTML and links only to
 * the dashboard and the unsubscribe address, which this program builds.
 */
#ifndef ES_SUM_DIGEST_TEXT_H
#define ES_SUM_DIGEST_TEXT_H

#include <stddef.h>

typedef struct {
    const char *title;  /* "All topics", or the topic's name */
    const char *text;   /* the summary's text */
    const char *source; /* "bedrock" or "local" */
    long long comments, before, negative, positive;
    double mean;
} es_digest_summary;

typedef struct {
    const char *fired; /* RFC 3339 */
    const char *topic; /* the topic's name or id */
    const char *metric;
    double observed, mean, stddev;
    long long volume;
} es_digest_alert;

typedef struct {
    const char *day;      /* "Tuesday 24 November 2026 (Europe/Berlin)" */
    const char *base_url; /* the dashboard, ending in '/' */
    const char *unsubscribe_url;        /* NULL: none configured */
    const es_digest_summary *summaries; /* the whole tenant's first */
    size_t nsummaries;
    const es_digest_alert *alerts;
    size_t nalerts;
} es_digest_input;

typedef struct {
    char *subject, *text, *html; /* owned */
} es_digest_mail;

/* Writes the mail; 0, or -1 when memory ran out (m is then empty). */
int es_digest_compose(const es_digest_input *in, es_digest_mail *m);

void es_digest_mail_free(es_digest_mail *m);

#endif
