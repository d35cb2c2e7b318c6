/*
 * send.c - e-mail and webhooks for the alert worker (see send.h).
 *
 * Every message goes to one address, so the MIME To: header and the SMTP
 * envelope name the same single recipient and no recipient ever sees
 * another's address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_log.h"
#include "es_mime.h"
#include "es_ses.h"
#include "send.h"

static int send_mail(es_alert_transport *tx, const char *to,
                     const es_alert_message *msg, const char *message_id,
                     const char *unsub_url, long long now_s, char *err,
                     size_t err_size)
{
    es_alert_sender *s = (es_alert_sender *)tx;
    const char *rcpt[1] = {to};
    es_mime_message m;
    size_t len;
    char *raw;
    int rc;

    if (s->kind == ES_MAIL_NONE) {
        snprintf(err, err_size,
                 "no mail transport configured "
                 "(mail.transport, smtp.url, ses.endpoint)");
        return 1;
    }
    memset(&m, 0, sizeof(m));
    m.from = s->from;
    m.to = rcpt;
    m.nto = 1;
    m.subject = msg->subject;
    m.text = msg->text;
    m.html = msg->html;
    m.message_id = message_id;
    m.list_unsubscribe_url = unsub_url;
    m.date_s = now_s;
    raw = es_mime_build(&m, &len);
    if (raw == NULL) {
        snprintf(err, err_size,
                 "the message cannot be built (address or "
                 "header refused)");
        return -1;
    }
    if (s->kind == ES_MAIL_SMTP) {
        rc = es_smtp_send(&s->smtp, s->from_addr, rcpt, 1, raw, len, err,
                          err_size);
    } else {
        char id[256], cerr[256];
        const es_aws_creds *creds =
            es_aws_chain_get(s->chain, cerr, sizeof(cerr));
        if (creds == NULL) {
            snprintf(err, err_size, "no AWS credentials: %s", cerr);
            rc = 1;
        } else {
            rc = es_ses_send_raw(s->http, creds, s->ses_endpoint, s->region,
                                 s->ses_timeout_ms, s->from_addr, rcpt, 1, raw,
                                 len, id, sizeof(id), err, err_size);
        }
    }
    free(raw);
    return rc;
}

static int send_webhook(es_alert_transport *tx, const char *url,
                        const char *secret, const char *body, size_t len,
                        long long now_s, char *err, size_t err_size)
{
    es_alert_sender *s = (es_alert_sender *)tx;
    long status = 0;

    return es_webhook_post(&s->hook, url, secret, body, len, now_s, &status,
                           err, err_size);
}

const char *es_alert_sender_name(const es_alert_sender *s)
{
    return s->kind == ES_MAIL_SMTP  ? "smtp"
           : s->kind == ES_MAIL_SES ? "ses"
                                    : "none";
}

static int configure_mail(es_alert_sender *s, es_worker *w)
{
    const char *t = es_config_str(w->cfg, "mail.transport");
    const char *smtp_url = es_config_str(w->cfg, "smtp.url");
    long long smtp_timeout, ses_timeout;
    int require_tls;

    s->ses_endpoint = es_config_str(w->cfg, "ses.endpoint");
    if (strcmp(t, "auto") == 0) {
        s->kind = s->ses_endpoint[0] ? ES_MAIL_SES
                  : smtp_url[0]      ? ES_MAIL_SMTP
                                     : ES_MAIL_NONE;
    } else if (strcmp(t, "smtp") == 0) {
        s->kind = ES_MAIL_SMTP;
    } else if (strcmp(t, "ses") == 0) {
        s->kind = ES_MAIL_SES;
    } else if (strcmp(t, "none") == 0) {
        s->kind = ES_MAIL_NONE;
    } else {
        fprintf(stderr, "alert: mail.transport must be auto, smtp, ses or "
                        "none\n");
        return -1;
    }
    s->from = es_config_str(w->cfg, "mail.from");
    if (es_mime_addr_spec(s->from, s->from_addr, sizeof(s->from_addr)) != 0) {
        fprintf(stderr, "alert: mail.from is not a mailbox "
                        "(\"Name <address>\" or an address)\n");
        return -1;
    }
    if (es_worker_cfg_int(w, "smtp.timeout", 1, 3600, &smtp_timeout) != 0 ||
        es_worker_cfg_bool(w, "smtp.require_tls", &require_tls) != 0 ||
        es_worker_cfg_int(w, "ses.timeout", 1, 3600, &ses_timeout) != 0) {
        return -1;
    }
    s->smtp.url = smtp_url;
    s->smtp.user = es_config_str(w->cfg, "smtp.user");
    s->smtp.password = es_config_str(w->cfg, "smtp.password");
    s->smtp.require_tls = require_tls;
    s->smtp.ca_file = es_config_str(w->cfg, "smtp.ca_file");
    s->smtp.timeout_ms = (long)smtp_timeout * 1000;
    s->ses_timeout_ms = (long)ses_timeout * 1000;
    s->region = es_config_str(w->cfg, "aws.region");
    if (s->kind == ES_MAIL_SMTP && smtp_url[0] == '\0') {
        fprintf(stderr, "alert: mail.transport smtp needs smtp.url\n");
        return -1;
    }
    return 0;
}

static int configure_ses(es_alert_sender *s, es_worker *w)
{
    es_aws_chain_opts co;
    int imds;

    if (s->kind != ES_MAIL_SES) {
        return 0;
    }
    if (es_worker_cfg_bool(w, "aws.imds", &imds) != 0) {
        return -1;
    }
    memset(&co, 0, sizeof(co));
    co.profile = es_config_str(w->cfg, "aws.profile");
    co.imds_endpoint = es_config_str(w->cfg, "aws.imds_endpoint");
    co.imds_enabled = imds;
    s->chain = es_aws_chain_new(&co);
    s->http = es_http_new("echostream-alert");
    if (s->chain == NULL || s->http == NULL) {
        fprintf(stderr, "alert: out of memory\n");
        return -1;
    }
    return 0;
}

int es_alert_sender_init(es_alert_sender *s, es_worker *w)
{
    long long timeout, max_response;
    int insecure;

    memset(s, 0, sizeof(*s));
    s->base.mail = send_mail;
    s->base.webhook = send_webhook;
    if (configure_mail(s, w) != 0 || configure_ses(s, w) != 0 ||
        es_worker_cfg_bool(w, "webhook.allow_insecure", &insecure) != 0 ||
        es_worker_cfg_int(w, "webhook.timeout", 1, 3600, &timeout) != 0 ||
        es_worker_cfg_int(w, "webhook.max_response", 0, 1 << 30,
                          &max_response) != 0) {
        return -1;
    }
    s->hook.allow_insecure = insecure;
    s->hook.timeout_ms = (long)timeout * 1000;
    s->hook.max_response = (size_t)max_response;
    s->hook.ca_file = es_config_str(w->cfg, "webhook.ca_file");
    return 0;
}

void es_alert_sender_free(es_alert_sender *s)
{
    es_http_free(s->http);
    es_aws_chain_free(s->chain);
    s->http = NULL;
    s->chain = NULL;
}
