/*
 * transport.h - how the delivery loop sends: one e-mail to one address,
 * or one webhook POST. The loop (deliver.c) decides what and when; a
 * transport only moves bytes, so the loop reads the same whichever mail
 * service is configured (send.c: SMTP, SES, none).
 *
 * Both calls answer as the project's senders do: 0 sent (the other side
 * took it), 1 a failure worth retrying (the service is down, busy, or
 * timed out), -1 a failure that will not change (the address or URL is
 * refused); err then says why, without any secret.
 */
#ifndef ES_ALERT_TRANSPORT_H
#define ES_ALERT_TRANSPORT_H

#include <stddef.h>

#include "message.h"

typedef struct es_alert_transport es_alert_transport;

struct es_alert_transport {
    /* msg to the one address to; message_id without <>; unsub_url may be
       NULL (no List-Unsubscribe header) */
    int (*mail)(es_alert_transport *tx, const char *to,
                const es_alert_message *msg, const char *message_id,
                const char *unsub_url, long long now_s, char *err,
                size_t err_size);
    /* body[0..len) to url, signed with secret */
    int (*webhook)(es_alert_transport *tx, const char *url, const char *secret,
                   const char *body, size_t len, long long now_s, char *err,
                   size_t err_size);
};

#endif
