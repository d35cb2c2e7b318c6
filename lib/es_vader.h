/*
 * es_vader.h - VADER sentiment (Hutto & Gilbert, ICWSM 2014), a C port that
 * reproduces NLTK's SentimentIntensityAnalyzer (nltk 3.8,
 * nltk/sentiment/vader.py) score for score.
 *
 * The lexicon is a data file (lib/data/vader_lexicon.txt, with its license)
 * loaded once into a read-only hash; scoring allocates nothing on the heap
 * for ordinary texts, is linear in the text length and safe on any bytes
 * (invalid UTF-8 is treated as opaque non-space characters, as Python would
 * see the replacement characters).
 */
#ifndef ES_VADER_H
#define ES_VADER_H

#include <stddef.h>

#include "es_sentiment.h"

typedef struct es_vader es_vader;

/*
 * Loads the lexicon file (token<TAB>mean<TAB>…). NULL with a reason in err
 * when it cannot be read or parsed. The result is immutable: share it across
 * threads freely; free with es_vader_free.
 */
es_vader *es_vader_load(const char *lexicon_path, char *err, size_t errlen);

void es_vader_free(es_vader *v);

/*
 * The default lexicon path: $ECHOSTREAM_VADER_LEXICON if set, else the
 * installed data file next to the binaries (build/…/share or lib/data).
 */
const char *es_vader_default_lexicon(void);

/* Scores a text of n bytes; the label follows es_label_from_compound. */
es_sentiment es_vader_score(const es_vader *v, const char *text, size_t n);

#endif
