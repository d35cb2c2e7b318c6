/*
 * job.h - one summary request, from the requests stream to a stored
 * summary.
 *
 * A job (an entry of es:{summaries}:requests read through the consumer
 * group) goes: es_summary_start (the tenant's lock, status running) ->
 * the tenant's settings and topics -> the figures of its period
 * (figures.h) -> Bedrock when it is configured and the tenant's monthly
 * budget allows, else (or when Bedrock fails after its retries) the local
 * summariser (extract.h) -> es_summary_finish, which stores the summary,
 * marks the request done, counts tokens and cost, and acknowledges the
 * entry in one atomic call. Until that call the entry stays pending, so a
 * summarizer killed anywhere leaves the job to run again (the claim sweep
 * hands it to a live instance), and the call itself turns a second run
 * into an acknowledgement only: a request ends "done" exactly once.
 *
 * The period of a daily job is the tenant's local day named by its date;
 * a request made through the API covers the 24 hours before it runs.
 * Either is compared with the equally long period before it.
 */
#ifndef ES_SUM_JOB_H
#define ES_SUM_JOB_H

#include <hiredis.h>

#include "summarizer.h"

/*
 * Runs the job of one stream entry ([id, [field, value, …]]). Returns 0
 * when the entry was settled (done, failed or acknowledged as invalid), 1
 * when it must wait (another instance runs a job of the tenant; it stays
 * pending), -1 when Redis failed (the worker is stopping).
 */
int es_sum_job_run(es_summarizer *s, const redisReply *entry);

#endif
