/*
 * prompt.h - what Bedrock is asked: a fixed system prompt and a user
 * message built from the figures.
 *
 * Comment text is untrusted: anyone on Reddit wrote it, and some of it
 * will be written to steer a model ("ignore previous instructions…"). So
 * every comment travels inside its own <comment> block whose text has
 * '&', '<' and '>' escaped (a comment cannot close its block or open
 * another), the numbers travel outside the blocks, and the system prompt
 * says that text inside the blocks is data to summarise, never
 * instructions to follow.
 */
#ifndef ES_SUM_PROMPT_H
#define ES_SUM_PROMPT_H

#include "figures.h"

/* The system prompt (static). */
const char *es_sum_system_prompt(void);

/* The user message (caller frees), or NULL when memory ran out. */
char *es_sum_user_prompt(const es_sum_figures *f, const char *title,
                         const char *period, const char *before);

#endif
