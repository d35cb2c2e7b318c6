/*
 * es_req_unsub.c - the unsubscribe link's query and body (es_req_unsub.h).
 *
 * A signature of the wrong shape is answered as a wrong signature (403),
 * so a client cannot tell "malformed" from "forged"; the other arguments
 * are answered 400 naming the one at fault, since a mangled link is
 * worth telling apart from a refused one and reveals nothing.
 */
#include "es_req_unsub.h"

#include <string.h>
#include <strings.h>

int es_req_unsub_read(const char *qs, size_t len, es_req_unsub_args *out,
                      es_req_err *err)
{
    char list[16];
    size_t n, i;
    int rc;

    memset(out, 0, sizeof(*out));

    rc = es_req_arg(qs, len, "t", out->tenant, sizeof(out->tenant) - 1, &n);
    if (rc != ES_ARG_OK || es_tenant_id_valid(out->tenant, n) != 0) {
        return es_req_fail(err, 400, "bad_request", "t",
                           "t must be a tenant id");
    }

    rc = es_req_arg(qs, len, "s", out->sub, sizeof(out->sub) - 1, &n);
    if (rc != ES_ARG_OK || es_user_sub_valid(out->sub, n) != 0) {
        return es_req_fail(err, 400, "bad_request", "s", "s must be a user id");
    }

    rc = es_req_arg(qs, len, "l", list, sizeof(list) - 1, &n);
    if (rc == ES_ARG_OK && strcmp(list, "digest") == 0) {
        out->list = "digest";
        out->member = "digest";
    } else if (rc == ES_ARG_OK && strcmp(list, "alerts") == 0) {
        out->list = "alerts";
        out->member = "alert_email";
    } else {
        return es_req_fail(err, 400, "bad_request", "l",
                           "l must be \"digest\" or \"alerts\"");
    }

    rc = es_req_arg(qs, len, "sig", out->sig, sizeof(out->sig) - 1, &n);
    if (rc != ES_ARG_OK || n != ES_UNSUB_SIG_LEN) {
        goto bad_sig;
    }
    for (i = 0; i < n; i++) {
        if (!((out->sig[i] >= '0' && out->sig[i] <= '9') ||
              (out->sig[i] >= 'a' && out->sig[i] <= 'f'))) {
            goto bad_sig;
        }
    }

    return 0;

bad_sig:

    out->sig[0] = '\0';
    return es_req_fail(err, 403, "invalid_signature", "sig",
                       "this unsubscribe link is not valid");
}

int es_req_unsub_body(const char *ct, size_t ct_len, const char *body,
                      size_t len, es_req_err *err)
{
    static const char form[] = "application/x-www-form-urlencoded";
    static const char field[] = "List-Unsubscribe=One-Click";
    const char *p, *end, *amp;

    if (len == 0) {
        return 0;
    }

    /* the type, alone or followed by parameters */
    if (ct == NULL || ct_len < sizeof(form) - 1 ||
        strncasecmp(ct, form, sizeof(form) - 1) != 0 ||
        (ct_len > sizeof(form) - 1 && ct[sizeof(form) - 1] != ';' &&
         ct[sizeof(form) - 1] != ' ')) {
        return es_req_fail(err, 415, "unsupported_media_type", NULL,
                           "the body must be "
                           "application/x-www-form-urlencoded");
    }

    /* one of its fields, exactly (a CRLF some clients end with aside) */
    end = body + len;
    while (end > body && (end[-1] == '\n' || end[-1] == '\r')) {
        end--;
    }
    for (p = body; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (amp == NULL) {
            amp = end;
        }
        if ((size_t)(amp - p) == sizeof(field) - 1 &&
            memcmp(p, field, sizeof(field) - 1) == 0) {
            return 0;
        }
    }

    return es_req_fail(err, 400, "bad_request", "List-Unsubscribe",
                       "the body must be List-Unsubscribe=One-Click");
}
