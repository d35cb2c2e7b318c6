/*
 * es_ses.h - Amazon SES v2 SendEmail of a ready-made MIME message.
 *
 * The mail is built elsewhere (es_mime) so SMTP and SES send the very same
 * bytes; SES v2's raw content takes it whole: `POST /v2/email/outbound-emails`
 * on email.<region>.amazonaws.com (signing name "ses") with
 * {"FromEmailAddress":…,"Destination":{"ToAddresses":[…]},
 *  "Content":{"Raw":{"Data":<base64 of the message>}}}, answered with
 * {"MessageId":…}. One call is one attempt: delivery is queued and retried
 * by its caller, so this only says whether trying again can help.
 */
#ifndef ES_SES_H
#define ES_SES_H

#include <stddef.h>

#include "es_aws_creds.h"
#include "es_http.h"

/* SES's recipient limit per message. */
#define ES_SES_MAX_RECIPIENTS 50
/*
 * Largest message accepted here. SES v2 takes up to 40 MB after base64;
 * EchoStream's mails are a few KB, so this only bounds memory.
 */
#define ES_SES_MAX_RAW (10u * 1024 * 1024)

/*
 * Sends raw_mime[0..raw_len) from from to the nto addresses in to, with
 * creds (borrowed), to endpoint ("" or NULL: https://email.<region>…),
 * waiting at most timeout_ms (<= 0: 30000). Returns 0 with SES's MessageId
 * in message_id (id_size bytes), 1 for a failure worth retrying later
 * (throttling, 5xx, transport) or -1 for a permanent one (rejected message,
 * unverified sender, bad input, refused credentials), with the reason (AWS
 * error code and message, never a secret or the message) in err.
 */
int es_ses_send_raw(es_http *h, const es_aws_creds *creds, const char *endpoint,
                    const char *region, long timeout_ms, const char *from,
                    const char *const *to, size_t nto, const char *raw_mime,
                    size_t raw_len, char *message_id, size_t id_size, char *err,
                    size_t err_size);

/*
 * The SendEmail request body (JSON, malloc'd, caller frees; *len set), or
 * NULL when out of memory or an address is not valid UTF-8. Exposed for
 * tests.
 */
char *es_ses_body(const char *from, const char *const *to, size_t nto,
                  const char *raw_mime, size_t raw_len, size_t *len);

#endif
