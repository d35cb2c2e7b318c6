/*
 * es_req_email.h - e-mail addresses as the API accepts them: invitees
 * (POST /members), alert rule recipients and the address of a signed-in
 * user.
 *
 * An address becomes part of a key (es:{invites}:<hash of it>) and is
 * compared with the address a user proved, so one spelling per address
 * is kept: the whole address lower-cased (mailbox providers treat the
 * local part without regard to case, and two spellings must never make
 * two invites). The syntax is a practical subset of RFC 5321, not all of
 * it: nothing that needs quoting is accepted.
 */
#ifndef ES_REQ_EMAIL_H
#define ES_REQ_EMAIL_H

#include <stddef.h>

/* the longest address: RFC 5321's limit on a path */
#define ES_REQ_EMAIL_MAX 254

/*
 * Checks s[0..n) and writes its lower-case form into out (room for
 * ES_REQ_EMAIL_MAX + 1 bytes, NUL-terminated). Accepted: at most 254
 * bytes, exactly one '@' with 1..64 bytes before it, a domain of
 * dot-separated labels (1..63 bytes) of letters, digits and inner '-', no
 * spaces, control characters or the specials that need quoting. Bytes
 * above 0x7f in the local part pass unchanged: the text came through the
 * JSON parser (or the token check), so it is valid UTF-8. Returns the
 * length, or 0 when invalid (out then holds nothing useful).
 */
size_t es_req_email_normalize(const char *s, size_t n, char *out);

#endif
