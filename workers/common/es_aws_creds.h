/*
 * es_aws_creds.h - AWS credentials from the standard chain.
 *
 * Every AWS client of EchoStream (SQS, Comprehend, S3, Bedrock, SES) finds
 * its credentials the way the AWS SDKs do, first source wins:
 *   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      optionally AWS_SESSION_TOKEN;
 *   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials), section named by aws.profile, else AWS_PROFILE,
 *      else "default";
 *   3. the EC2 instance metadata service, IMDSv2 only (a PUT for a session
 *      token first, so a server-side request forgery cannot read the role's
 *      keys with a plain GET), unless aws.imds is false or
 *      AWS_EC2_METADATA_DISABLED is true.
 * Temporary credentials carry a session token: the caller sends it as the
 * X-Amz-Security-Token header, which is then signed with the request.
 * Credentials that expire are fetched again ten minutes before they do.
 *
 * Secrets never reach a log line: log es_aws_creds.source, which names where
 * the keys came from, never the keys. Memory that held them is cleansed.
 */
#ifndef ES_AWS_CREDS_H
#define ES_AWS_CREDS_H

#include <stddef.h>

typedef struct {
    char access_key_id[128];
    char secret_access_key[128];
    char session_token[4096]; /* "" for long-term keys */
    long long expires_ms;     /* wall clock; 0 when they do not expire */
    char source[96];          /* "env", "file:<profile>", "imds:<role>" */
} es_aws_creds;

typedef struct {
    const char *profile;       /* aws.profile; "" or NULL: AWS_PROFILE */
    const char *imds_endpoint; /* "http://169.254.169.254" */
    int imds_enabled;          /* aws.imds */
    long imds_timeout_ms;      /* per IMDS request; 0 means 1000 */
} es_aws_chain_opts;

typedef struct es_aws_chain es_aws_chain;

/* A chain with copies of opts' strings; NULL when out of memory. */
es_aws_chain *es_aws_chain_new(const es_aws_chain_opts *opts);

/* Frees the chain and cleanses the credentials it held. */
void es_aws_chain_free(es_aws_chain *c);

/*
 * Returns the current credentials (borrowed, valid until the next call on
 * the chain), resolving the chain on first use or when the held ones are
 * about to expire. NULL when no source has credentials, with a reason (no
 * secret in it) in err. When a refresh fails but the held credentials have
 * not expired yet they are returned.
 */
const es_aws_creds *es_aws_chain_get(es_aws_chain *c, char *err, size_t errlen);

/*
 * Forgets the held credentials so the next get resolves the chain again
 * (after an authentication error that rotated keys may explain).
 */
void es_aws_chain_invalidate(es_aws_chain *c);

/* 1 when creds expire within the refresh margin of now_ms (wall clock). */
int es_aws_creds_stale(const es_aws_creds *cr, long long now_ms);

/* Overwrites the credentials with zeros in a way the compiler keeps. */
void es_aws_creds_clear(es_aws_creds *cr);

/*
 * Parses the text of a shared credentials file and fills out from the
 * section named profile ("[name]", or "[profile name]" as the config file
 * spells it): aws_access_key_id, aws_secret_access_key, aws_session_token.
 * Lines are "key = value"; '#' and ';' start comments; keys are matched
 * case-insensitively. Returns 0, or -1 with a reason in err when the profile
 * is missing or lacks a key.
 */
int es_aws_parse_credentials_file(const char *text, size_t len,
                                  const char *profile, es_aws_creds *out,
                                  char *err, size_t errlen);

/*
 * Parses the IMDS security-credentials document {"Code":"Success",
 * "AccessKeyId","SecretAccessKey","Token","Expiration":"…Z"}. Returns 0, or
 * -1 with a reason in err when a field is missing or Code is not Success.
 */
int es_aws_parse_imds_json(const char *text, size_t len, es_aws_creds *out,
                           char *err, size_t errlen);

/*
 * Parses an ISO 8601 UTC time "2026-11-25T19:27:18Z" (fractional seconds
 * allowed) into milliseconds since the epoch. Returns 0 or -1.
 */
int es_aws_parse_iso8601(const char *s, long long *ms);

#endif
