/*
 * tombstone.h - the public tombstones of a batch's deletions, written
 * after every tenant has taken the comment out.
 *
 * A deletion is computed from the comment's stored parts, and a VADER
 * record's label, compound and terms live in the shared public part
 * (lib/es_record.h). Were the public part replaced by the tombstone in the
 * same pipeline as the tenants' calls, a tenant call that fails, is found
 * stale or dies with the worker would be retried against a public part
 * with nothing left to compute from, and the comment would stay counted.
 * So the public tombstones ("X" operations of es_enrich_public) go in a
 * call of their own once the tenants' replies are in, and only for the
 * deletion entries every tenant call applied; an entry whose tombstone is
 * not written stays pending and is retried (the tenants' deletions are
 * replays then). It costs a batch holding deletions one round trip more,
 * on the thread that settles the batch.
 */
#ifndef ES_ENRICH_TOMBSTONE_H
#define ES_ENRICH_TOMBSTONE_H

#include "aggregate.h"

/*
 * Writes the public tombstones of the deletion entries of job j whose
 * entry has no error and whose creation hour is known (from the entry or
 * found by es_enrich_parts). An entry whose tombstone could not be written
 * gets an error. 0, or -1 when the call failed.
 */
int es_tombstone_public(es_redis *r, const es_aggregate_job *j);

#endif
