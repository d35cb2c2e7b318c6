/*
 * limiter.js - runs async jobs at most `max` at a time, in the order they
 * were asked for.
 *
 * The topics list wants a small series per topic; a tenant may have 100
 * topics and the API allows a burst of 40 requests, so the list must not
 * fire them all at once.
 */

export function limiter(max) {
  const queue = [];
  let active = 0;

  function next() {
    while (active < max && queue.length) {
      const job = queue.shift();
      active += 1;
      Promise.resolve()
        .then(job.fn)
        .then(job.resolve, job.reject)
        .finally(() => {
          active -= 1;
          next();
        });
    }
  }

  return {
    run(fn) {
      return new Promise((resolve, reject) => {
        queue.push({ fn, resolve, reject });
        next();
      });
    },
    /* drops the jobs not started yet (their promises never settle) */
    clear() {
      queue.length = 0;
    },
  };
}
