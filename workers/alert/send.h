/*
 * send.h - the alert worker's transport (transport.h) over the project's
 * senders: e-mail built by es_mime and sent through SMTP (es_smtp) or
 * SES v2 (es_ses), webhooks through es_webhook, chosen from the
 * configuration (mail.*, smtp.*, ses.*, webhook.*, aws.*).
 *
 * mail.transport "auto" picks SES when ses.endpoint is set, else SMTP
 * when smtp.url is set, else none; "none" answers every mail with a
 * retryable failure, so alerts queued while mail is not configured are
 * still sent once it is (until their attempts run out), and the
 * delivery record says why they wait.
 */
#ifndef ES_ALERT_SEND_H
#define ES_ALERT_SEND_H

#include "es_aws_creds.h"
#include "es_http.h"
#include "es_smtp.h"
#include "es_webhook.h"
#include "es_worker.h"
#include "transport.h"

typedef enum { ES_MAIL_NONE = 0, ES_MAIL_SMTP, ES_MAIL_SES } es_mail_transport;

typedef struct {
    es_alert_transport base; /* first: the loop calls through it */
    es_mail_transport kind;
    const char *from;    /* mail.from, a mailbox */
    char from_addr[256]; /* its bare address: the SMTP envelope */
    es_smtp_config smtp;
    es_webhook_config hook;
    /* SES */
    es_http *http;
    es_aws_chain *chain;
    const char *ses_endpoint;
    const char *region;
    long ses_timeout_ms;
} es_alert_sender;

/* Reads the configuration; 0, or -1 after printing why. */
int es_alert_sender_init(es_alert_sender *s, es_worker *w);

void es_alert_sender_free(es_alert_sender *s);

/* "none", "smtp" or "ses" */
const char *es_alert_sender_name(const es_alert_sender *s);

#endif
