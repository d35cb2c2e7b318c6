/*
 * extract.h - the local summariser: a brief written from the figures alone,
 * with no network, when Bedrock is not configured, over budget or failing.
 *
 * It is extractive: every sentence is a number the series hold, a term the
 * term sets rank, or a comment quoted as its author wrote it (cut to the
 * configured length, with its link). It reads as a brief, in the order a
 * reader asks: how much and how it felt, what moved against the period
 * before, the themes and who carried them, the voices to read, and one
 * thing to do.
 */
#ifndef ES_SUM_EXTRACT_H
#define ES_SUM_EXTRACT_H

#include "figures.h"

/*
 * The brief (caller frees), or NULL when memory ran out. title names what
 * is summarized ("Rust async", or "all topics"); period describes the
 * period ("Tuesday 24 November 2026 (Europe/Berlin)", "the last 24
 * hours"); before names the period before ("the day before").
 */
char *es_sum_local_text(const es_sum_figures *f, const char *title,
                        const char *period, const char *before);

/* The one-sentence recommendation the brief ends with (static text). */
const char *es_sum_recommendation(const es_sum_figures *f, char *buf,
                                  size_t size);

#endif
