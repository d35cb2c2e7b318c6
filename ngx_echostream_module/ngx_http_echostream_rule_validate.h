/*
 * ngx_http_echostream_rule_validate.h - what makes an alert rule valid,
 * and its canonical form (docs/openapi.yaml, AlertRule).
 *
 * One check serves requests and rules read back from Redis alike, so a
 * rule that was stored damaged is never served, and a rule always leaves
 * here with every member present: the alert worker needs no defaults.
 */

#ifndef _NGX_HTTP_ECHOSTREAM_RULE_VALIDATE_H_INCLUDED_
#define _NGX_HTTP_ECHOSTREAM_RULE_VALIDATE_H_INCLUDED_

#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#define NGX_HTTP_ECHOSTREAM_RULE_EMAILS_MAX 10
#define NGX_HTTP_ECHOSTREAM_WEBHOOK_MAX     2048

/*
 * Checks the alert rule id (valid, NUL-terminated). Each member is taken
 * from src (borrowed), or when src lacks it from base (borrowed, may be
 * NULL: PATCH merges over the stored rule), or else takes its default:
 * enabled true, min_volume 20, sensitivity 3.0, cooldown_minutes 60,
 * email [], webhook null (topic has none). Returns NULL with a new
 * canonical rule {"id","topic","enabled","min_volume","sensitivity",
 * "cooldown_minutes","email","webhook"} in *out (still NULL only when
 * memory ran out), or why the rule is invalid, with the member at fault
 * in *field. Whether the topic exists is decided later, atomically with
 * the write (es_rule_put).
 */
const char *ngx_http_echostream_rule_check(json_t *src, json_t *base,
                                           const char *id, json_t **out,
                                           const char **field);

#endif /* _NGX_HTTP_ECHOSTREAM_RULE_VALIDATE_H_INCLUDED_ */
