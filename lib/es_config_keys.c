/*
 * es_config_keys.c - every configuration key of the EchoStream workers.
 *
 * One table, so `--help`, the README reference and the parser can never
 * disagree. Keys are grouped by the component that reads them; the
 * environment variable of each is ECHOSTREAM_ + the key upper-cased with
 * '.' as '_'. Durations are in seconds unless the name says otherwise.
 */
#include <stddef.h>

#include "es_config.h"

const es_config_key es_config_keys[] = {
    /* shared by every worker */
    {"redis", "redis://127.0.0.1:6379/0",
     "Redis address: redis://[[user]:password@]host:port/db, "
     "unix://[[user]:password@]/path/to.sock[?db=N] or "
     "redis+sentinel://[[user]:password@]host:port[,host:port...]/master/db",
     0},
    {"log.format", "text",
     "log line format: text (logfmt), json, or journal (text with syslog "
     "priorities; chosen by itself under systemd)",
     0},
    {"log.level", "info", "lowest level logged: debug, info, warn, error", 0},
    {"log.file", "",
     "absolute path of a file to log to instead of stderr (reopened on "
     "SIGHUP)",
     0},
    {"worker.heartbeat", "2", "seconds between liveness reports to Redis", 0},
    {"worker.consumer_prune_ms", "3600000",
     "consumers of a group idle this long with nothing pending are removed", 0},

    /* the comment stream (written by ingest, read by consumer groups) */
    {"stream.max_len", "1000000",
     "stream length at which ingest pauses until consumers catch up", 0},
    {"stream.groups", "",
     "consumer groups ingest creates so entries wait for them "
     "(comma-separated)",
     0},
    {"stream.trim_interval", "5", "seconds between stream trims", 0},

    /* Reddit API (ingest) */
    {"reddit.api_url", "https://oauth.reddit.com", "Reddit API base URL", 0},
    {"reddit.token_url", "https://www.reddit.com/api/v1/access_token",
     "Reddit OAuth2 token endpoint", 0},
    {"reddit.client_id", "", "Reddit app client id (script/web app)", 0},
    {"reddit.client_secret", "", "Reddit app client secret", 1},
    {"reddit.user_agent", "linux:echostream:0.1.0 (by /u/echostream)",
     "User-Agent, in Reddit's <platform>:<app id>:<version> (by /u/<user>) "
     "form",
     0},
    {"reddit.qpm", "100",
     "requests per minute to Reddit (token requests included), all spent", 0},
    {"reddit.timeout", "20", "seconds before a Reddit request is abandoned", 0},
    {"reddit.max_body", "8388608", "largest Reddit response accepted (bytes)",
     0},

    /* ingest scheduling */
    {"ingest.min_interval", "2",
     "shortest time between two polls of a subreddit", 0},
    {"ingest.max_interval", "120",
     "wait before a private or failing subreddit is polled again", 0},
    {"ingest.watch_refresh", "2",
     "seconds between checks of the watchlist for changes", 0},
    {"ingest.dedup_ttl", "2592000",
     "seconds a comment id is remembered for de-duplication", 0},
    {"ingest.batch", "500", "comments written to Redis per round trip", 0},
    {"ingest.probe_every", "10",
     "polls of a subreddit between probes of its newest page (re-reads "
     "recent comments for deletions; 0 = only when polls come back empty)",
     0},
    {"ingest.lease", "10",
     "seconds the polling ingest's lease lasts unrenewed; another ingest "
     "process takes over polling after it (at once after a clean stop)",
     0},

    /* SQS mirror */
    {"mirror.queue_url", "",
     "SQS queue URL; empty leaves the mirror idle (no consumer group)", 0},
    {"mirror.group", "mirror", "consumer group name of the mirror", 0},
    {"mirror.batch_wait_ms", "1000",
     "longest wait for a full batch of 10 before sending a smaller one", 0},
    {"mirror.retry_budget", "20",
     "retry tokens; each retry spends 5, each success returns 1", 0},
    {"mirror.timeout", "20", "seconds before an SQS request is abandoned", 0},
    {"mirror.claim_idle_ms", "60000",
     "pending entries idle this long (a crashed mirror's) are claimed", 0},
    {"mirror.backoff_cap_ms", "20000",
     "longest wait between retries, and the wait once the budget is spent", 0},
    {"mirror.sender_fault_retries", "3",
     "sends of an entry SQS rejects (SenderFault) before it is left pending",
     0},

    /* summarizer */
    {"summarize.group", "summarize",
     "consumer group of the summarizer on es:{summaries}:requests", 0},
    {"summarize.interval", "30",
     "seconds between checks for tenants whose summary hour has come", 0},
    {"summarize.max_comments", "30", "most comments a summary is written from",
     0},
    {"summarize.max_chars", "500",
     "longest comment text (characters) a summary quotes or sends", 0},
    {"summarize.claim_idle_ms", "120000",
     "a summary job left pending this long (a crashed summarizer's) is taken "
     "over",
     0},

    /* enrich worker */
    {"enrich.group", "enrich", "consumer group name of the enrich worker", 0},
    {"enrich.batch", "4000", "stream entries read and written per batch", 0},
    {"enrich.block_ms", "1000",
     "longest wait for new entries (bounds how soon SIGTERM is seen)", 0},
    {"enrich.claim_idle_ms", "60000",
     "pending entries idle this long (a crashed enricher's) are claimed", 0},
    {"enrich.max_deliveries", "5",
     "deliveries of an entry that keeps failing before it goes to the "
     "dead-letter stream",
     0},
    {"enrich.engine_default", "vader",
     "sentiment engine of tenants whose meta names none: vader or comprehend",
     0},
    {"enrich.topics_refresh_ms", "1000",
     "milliseconds between checks of es:{topics}:version while idle (each "
     "batch is checked anyway)",
     0},

    /* raw archive (enrich) */
    {"lake.dir", "var/lake", "directory of the raw archive (jsonl.zst files)",
     0},
    {"lake.enabled", "true", "write the raw archive", 0},
    {"lake.upload_retry_ms", "30000",
     "wait after a failed S3 upload of archive files before trying again", 0},

    /* sentiment (echostream-sentiment, and VADER wherever it is loaded) */
    {"sentiment.lexicon", "",
     "VADER lexicon file; empty: $ECHOSTREAM_VADER_LEXICON, else the copy "
     "installed beside the binaries",
     0},

    /* Amazon Comprehend (sentiment engine "comprehend") */
    {"comprehend.endpoint", "",
     "Comprehend endpoint; empty: https://comprehend.<aws.region>."
     "amazonaws.com",
     0},
    {"comprehend.language", "en", "LanguageCode sent with every text", 0},
    {"comprehend.timeout", "10",
     "seconds before a Comprehend call is abandoned (each attempt)", 0},
    {"comprehend.breaker_failures", "5",
     "consecutive failed calls that open the circuit breaker (VADER then "
     "answers)",
     0},
    {"comprehend.breaker_cooldown", "30",
     "seconds the open breaker keeps Comprehend out before one trial call", 0},
    {"comprehend.backoff_cap_ms", "20000",
     "longest wait between retries of a Comprehend call", 0},
    {"comprehend.price_per_unit", "0.0001",
     "USD per 100-character unit (at least 3 units per text)", 0},

    /* Amazon S3 (raw archive upload) */
    {"s3.bucket", "", "bucket the raw archive is uploaded to; empty: none", 0},
    {"s3.prefix", "", "key prefix of uploaded objects (e.g. \"echostream/\")",
     0},
    {"s3.endpoint", "",
     "S3 endpoint; empty: https://<bucket>.s3.<aws.region>.amazonaws.com", 0},
    {"s3.path_style", "false",
     "address the bucket in the path (<endpoint>/<bucket>/<key>) instead of "
     "the host name",
     0},
    {"s3.timeout", "60", "seconds before an S3 upload is abandoned", 0},

    /* Amazon Bedrock (summaries) */
    {"bedrock.enabled", "false",
     "summarize with Bedrock (also on when bedrock.endpoint is set); "
     "otherwise summaries are made locally",
     0},
    {"bedrock.endpoint", "",
     "Bedrock Runtime endpoint; empty: https://bedrock-runtime.<aws.region>."
     "amazonaws.com",
     0},
    {"bedrock.model", "global.anthropic.claude-haiku-4-5-20251001-v1:0",
     "model or inference profile id Converse is called with", 0},
    {"bedrock.max_tokens", "800",
     "maxTokens of every call (Bedrock reserves input + maxTokens of the "
     "quota)",
     0},
    {"bedrock.timeout", "60",
     "seconds before a Bedrock call is abandoned (each attempt)", 0},
    {"bedrock.attempts", "3",
     "attempts per call, the first included (throttling, 5xx, timeouts are "
     "retried)",
     0},
    {"bedrock.backoff_cap_ms", "20000",
     "longest wait between retries of a Bedrock call", 0},
    {"bedrock.retry_budget", "10",
     "retry tokens shared by all calls; each retry spends 1, each success "
     "returns 1",
     0},
    {"bedrock.price_input_per_mtok", "1.00",
     "USD per million input tokens of bedrock.model", 0},
    {"bedrock.price_output_per_mtok", "5.00",
     "USD per million output tokens of bedrock.model", 0},

    /* Amazon SES v2 (mail) */
    {"ses.endpoint", "",
     "SES v2 endpoint; when set, mail goes through SES (mail.transport "
     "auto); AWS's is https://email.<aws.region>.amazonaws.com",
     0},
    {"ses.timeout", "30", "seconds before a SendEmail call is abandoned", 0},

    /* alerts (echostream-alert) */
    {"alert.interval", "60", "seconds between evaluations of every alert rule",
     0},
    {"alert.group", "deliver",
     "consumer group reading es:{deliver}:queue (e-mails and webhooks to send)",
     0},
    {"alert.claim_idle_ms", "60000",
     "deliveries pending this long (a crashed worker's, or waiting to be "
     "retried) are claimed",
     0},

    /* AWS (every AWS client) */
    {"aws.region", "us-east-1", "AWS region used for signing", 0},
    {"aws.profile", "",
     "shared-credentials profile (default: AWS_PROFILE "
     "or \"default\")",
     0},
    {"aws.imds_endpoint", "http://169.254.169.254",
     "EC2 instance metadata endpoint (IMDSv2)", 0},
    {"aws.imds", "true", "try the instance metadata service for credentials",
     0},

    /* e-mail and webhooks (alert worker) */
    {"mail.transport", "auto",
     "how mail is sent: ses, smtp, none, or auto (ses when ses.endpoint is "
     "set, else smtp when smtp.url is set, else none)",
     0},
    {"mail.from", "EchoStream <echostream@localhost>",
     "sender of every mail: \"Name <addr>\" or a plain address", 0},
    {"mail.base_url", "http://127.0.0.1:8080/",
     "the dashboard's public address, for the links in mails", 0},
    {"mail.secret_file", "",
     "file holding the secret that signs unsubscribe links (the same file "
     "as nginx's echostream_mail_secret_file)",
     0},
    {"smtp.url", "",
     "SMTP server: smtp://host:port (STARTTLS) or smtps://host:port", 0},
    {"smtp.user", "", "SMTP AUTH user name; empty: no AUTH", 0},
    {"smtp.password", "", "SMTP AUTH password", 1},
    {"smtp.require_tls", "true",
     "STARTTLS is mandatory for every SMTP host but loopback (it is used "
     "whenever offered anyway)",
     0},
    {"smtp.ca_file", "",
     "PEM CA bundle to verify the SMTP server with (a private CA); empty: "
     "the system's",
     0},
    {"smtp.timeout", "30", "seconds before an SMTP session is abandoned", 0},
    {"webhook.allow_insecure", "false",
     "allow http:// and loopback/private destinations (development only)", 0},
    {"webhook.timeout", "10", "seconds before a webhook POST is abandoned", 0},
    {"webhook.max_response", "65536",
     "response bytes read from a webhook receiver; the rest is cut off", 0},
    {"webhook.ca_file", "",
     "PEM CA bundle to verify webhook receivers with; empty: the system's", 0},
    {NULL, NULL, NULL, 0},
};
