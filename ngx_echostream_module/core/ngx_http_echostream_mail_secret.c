/*
 * ngx_http_echostream_mail_secret.c - "echostream_mail_secret_file PATH":
 * the key that signs the unsubscribe links of digest and alert mail
 * (lib/es_unsub.h), the same file as the workers' mail.secret_file.
 *
 * Read here, when the configuration is, by the master: the file may be
 * readable by root only, and a worker never touches the disk for it. The
 * reading itself (a trailing newline is not part of the key, at least 16
 * bytes) is es_unsub_key_read, the mail worker's too, so both sign with
 * the same bytes. A file that cannot be used fails "nginx -t" with the
 * path and the reason; the bytes never appear in a message, and are
 * wiped when the configuration is released. Without the directive the
 * key stays empty and /unsubscribe answers 503 not_configured.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "es_unsub.h"
#include "core/ngx_http_echostream_directives.h"
#include "core/ngx_http_echostream_module.h"

static void ngx_http_echostream_cleanse(void *data);

char *ngx_http_echostream_conf_mail_secret(ngx_conf_t *cf, ngx_command_t *cmd,
                                           void *conf)
{
    ngx_http_echostream_main_conf_t *emcf = conf;
    ngx_pool_cleanup_t *cln;
    ngx_str_t *value, name;
    char err[160];
    u_char *path;
    long n;

    if (emcf->mail_secret.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];
    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    path = ngx_pnalloc(cf->pool, name.len + 1);
    emcf->mail_secret.data = ngx_pnalloc(cf->pool, ES_UNSUB_KEY_MAX);
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (path == NULL || emcf->mail_secret.data == NULL || cln == NULL) {
        return NGX_CONF_ERROR;
    }
    ngx_cpystrn(path, name.data, name.len + 1);

    cln->handler = ngx_http_echostream_cleanse;
    cln->data = &emcf->mail_secret;

    n = es_unsub_key_read((const char *)path, emcf->mail_secret.data,
                          ES_UNSUB_KEY_MAX, err, sizeof(err));
    if (n < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"echostream_mail_secret_file\" \"%s\": %s", path,
                           err);
        return NGX_CONF_ERROR;
    }
    emcf->mail_secret.len = (size_t)n;

    return NGX_CONF_OK;
}

/* Wipes a secret (an ngx_str_t) before its pool lets the memory go. */
static void ngx_http_echostream_cleanse(void *data)
{
    ngx_str_t *s = data;

    if (s->data != NULL) {
        OPENSSL_cleanse(s->data, ES_UNSUB_KEY_MAX);
    }
}
