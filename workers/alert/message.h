/*
 * message.h - what an alert says: the e-mail's subject, text and HTML
 * bodies, and the webhook's JSON body, all written from the event as the
 * history holds it.
 *
 *   Subject: [EchoStream] Negative spike on Rust async: 62% negative
 *            (usual 18%)
 *
 * The bodies give the figures (observed, usual, threshold, volume), the
 * window, the samples with their links to Reddit and a link to the
 * dashboard. The webhook body is Slack-compatible (es_webhook.h: "text"
 * and "blocks", which Slack and most chat tools show) and carries the
 * event itself and the delivery id, which a receiver can use to drop a
 * repeat.
 *
 * Pure functions (no Redis, no network); text from comments and topic
 * names is escaped for HTML, and control characters never reach the
 * subject (a header).
 */
#ifndef ES_ALERT_MESSAGE_H
#define ES_ALERT_MESSAGE_H

#include <stddef.h>

#include <jansson.h>

typedef struct {
    char *subject; /* UTF-8, one line */
    char *text;    /* UTF-8, LF line ends */
    char *html;    /* UTF-8 */
} es_alert_message;

/*
 * Builds the e-mail of event (borrowed; its "id" member the history
 * entry's id) about the topic named topic_name. base_url is the
 * dashboard; unsub_url (may be NULL) the recipient's own link to stop
 * alert e-mails. 0, or -1 without memory (out then holds nothing).
 */
int es_alert_message_build(const json_t *event, const char *topic_name,
                           const char *base_url, const char *unsub_url,
                           es_alert_message *out);

void es_alert_message_free(es_alert_message *m);

/* One line: "Negative spike on <name>: 62% negative (usual 18%)". */
char *es_alert_headline(const json_t *event, const char *topic_name);

/*
 * The webhook body, a Slack-compatible card (es_webhook_slack_body): the
 * headline, the figures, the samples, a button to the dashboard, and as
 * "echostream" the event (with "id") and "delivery", the delivery id. A
 * new string (malloc, length in *len), or NULL without memory.
 */
char *es_alert_webhook_body(const json_t *event, const char *topic_name,
                            const char *base_url, const char *delivery_id,
                            size_t *len);

#endif
