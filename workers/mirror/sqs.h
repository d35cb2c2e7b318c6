/*
 * sqs.h - SendMessageBatch over the SQS JSON 1.0 protocol.
 *
 * The request is what the AWS SDKs send today: POST / to the queue URL's
 * scheme and host, Content-Type application/x-amz-json-1.0,
 * X-Amz-Target AmazonSQS.SendMessageBatch, x-amzn-query-mode true, body
 * {"QueueUrl":…,"Entries":[{"Id":…,"MessageBody":…}]}, signed with SigV4
 * for service "sqs". Each message's Id is its stream id (digits and a
 * hyphen, valid as an SQS batch entry Id and unique within a batch).
 *
 * The answer lists every entry under Successful (with MD5OfMessageBody,
 * which is checked: a mismatch means SQS stored something else, so the entry
 * counts as failed and is sent again) or Failed (Code, Message,
 * SenderFault). An entry in neither list is treated as failed.
 */
#ifndef ES_MIRROR_SQS_H
#define ES_MIRROR_SQS_H

#include <stddef.h>

#include "batch.h"
#include "es_aws.h"
#include "es_aws_creds.h"

typedef struct {
    int ok;           /* accepted, MD5 verified */
    int sender_fault; /* failed and SQS blamed the message */
    char code[96];    /* failure code, "" when ok */
    char message[160];
} es_sqs_entry_result;

typedef struct es_sqs es_sqs;

/*
 * A client for queue_url (copied) signing for region (copied) with
 * credentials from chain (borrowed, must outlive the client). NULL when the
 * URL is not http(s) or memory runs out.
 */
es_sqs *es_sqs_new(const char *queue_url, const char *region,
                   es_aws_chain *chain, long timeout_ms);

void es_sqs_free(es_sqs *q);

/*
 * Sends msgs[0..n) (n <= ES_SQS_MAX_ENTRIES) as one batch. Returns 0 when
 * SQS answered the batch, with results[i] for msgs[i]; -1 when the request
 * as a whole failed (no credentials, transport, HTTP error, unreadable
 * answer), with the reason in *res (res->retryable says whether it is
 * transient).
 */
int es_sqs_send_batch(es_sqs *q, const es_mirror_msg *msgs, size_t n,
                      es_sqs_entry_result *results, es_aws_result *res);

/* The request body of a batch: new string (caller frees) or NULL. */
char *es_sqs_batch_request(const char *queue_url, const es_mirror_msg *msgs,
                           size_t n, size_t *len);

/*
 * Reads a SendMessageBatch answer into results[0..n) (matched to msgs by
 * Id). Returns 0, or -1 when body is not such an answer.
 */
int es_sqs_batch_parse(const char *body, size_t len, const es_mirror_msg *msgs,
                       size_t n, es_sqs_entry_result *results);

/* Lower-case hex MD5 of s[0..n) into out (33 bytes with the NUL). */
void es_sqs_md5_hex(const char *s, size_t n, char out[33]);

#endif
