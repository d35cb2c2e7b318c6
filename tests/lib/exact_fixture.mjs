// exact_fixture.mjs - the tenants and the vocabulary the exact-count suites
// share (enrich_exact, scale_out, redis_failover): overlapping subreddits, "all", queries
// with OR, a phrase and a negation, so every matching path of the matcher
// is counted against the ground truth of tests/lib/enrich.mjs's truth().
// One copy, so a new matching case reaches every exactness check at once.

export const TENANTS = {
  acme: [
    { id: 'rust', name: 'Rust', subreddits: ['rust'], query: '' },
    { id: 'perf', name: 'Perf', subreddits: ['rust', 'golang'], query: 'fast' },
    { id: 'lovers', name: 'Love', subreddits: ['all'], query: 'love OR great' },
  ],
  beta: [
    { id: 'go', name: 'Go', subreddits: ['golang'], query: '' },
    { id: 'rust-love', name: 'Rust love', subreddits: ['rust'], query: 'love' },
    { id: 'bc', name: 'Borrow', subreddits: ['rust', 'python'],
      query: '"borrow checker"' },
  ],
  gamma: [
    { id: 'everything', name: 'All', subreddits: ['all'], query: '' },
    { id: 'async_ok', name: 'Async', subreddits: ['all'], query: 'async -crash' },
  ],
};

// words the bodies are made of; "the", "and", "really" are stop words and
// "go"/"ok" are too short: none of them may trend
export const VOCAB = ['love', 'great', 'hate', 'terrible', 'fast', 'slow',
  'borrow', 'checker', 'compiler', 'release', 'async', 'memory', 'safe',
  'crash', 'bug', 'team', 'docs', 'awesome', 'broken', 'fine', 'the', 'and',
  'really', 'go', 'ok', 'not', 'very'];
export const STOP = new Set(['the', 'and', 'really', 'not', 'very']);
export const SUBS = ['rust', 'golang', 'python', 'news'];
