/*
 * summary_request.js - "Request summary": queue one (POST /summaries) and
 * follow it (GET /summaries/requests/{id}) until it is done or failed.
 *
 * The API keeps one request per topic in flight and answers a second POST
 * with that same request, so requests are tracked by id: asking again
 * while one runs shows the same status line rather than a second one, and
 * a double click costs one summary. The status is text (queued, running,
 * done, failed with its reason) in a polite live region, so it is read out
 * as it changes. Polling slows down the longer a request takes and stops
 * when the page is left (stop()).
 */

import { get, post } from '../api.js';
import { h } from '../dom.js';
import { describe } from '../ui.js';

const FIRST_MS = 1000;
const MAX_MS = 5000;

export function requestTracker(container, { topicName, onDone }) {
  const lines = new Map(); /* request id -> {el, timer} */
  let stopped = false;

  function say(id, text, kind) {
    const line = lines.get(id);
    line.el.textContent = text;
    line.el.className = `summary-request summary-request-${kind}`;
  }

  function label(req) {
    return `Summary of ${req.topic ? topicName(req.topic) : 'all topics'}`;
  }

  function show(req) {
    const what = label(req);
    if (req.status === 'done') {
      say(req.id, `${what}: done (${req.source === 'bedrock' ? 'Amazon Bedrock' : 'local summariser'}). It is shown below.`, 'done');
    } else if (req.status === 'failed') {
      say(req.id, `${what}: failed${req.reason ? ` (${req.reason})` : ''}.`, 'failed');
    } else {
      say(req.id, `${what}: ${req.status}…${lines.get(req.id).note || ''}`, req.status);
    }
  }

  async function poll(id, delay) {
    const line = lines.get(id);
    line.timer = setTimeout(async () => {
      if (stopped) return;
      let req;
      try {
        req = (await get(`/summaries/requests/${encodeURIComponent(id)}`)).request;
      } catch (err) {
        if (stopped) return;
        if (err.status === 404) {
          say(id, 'The request is no longer known to the API (only the newest 100 are kept).', 'failed');
          lines.delete(id);
          return;
        }
        say(id, `Could not check the request: ${describe(err)} Checking again…`, 'error');
        poll(id, Math.min(MAX_MS * 2, delay * 2));
        return;
      }
      if (stopped) return;
      show(req);
      if (req.status === 'done' || req.status === 'failed') {
        lines.delete(id);
        if (req.status === 'done' && req.summary) onDone(req.summary);
        return;
      }
      poll(id, Math.min(MAX_MS, Math.round(delay * 1.5)));
    }, delay);
  }

  /* Queues a summary of topic (null: the whole tenant); throws ApiError. */
  async function request(topic) {
    const body = topic ? { topic } : {};
    const req = (await post('/summaries', body)).request;
    if (lines.has(req.id)) {
      /* the API answered the request already in flight: keep following it */
      lines.get(req.id).note = ' (asked again: still the same request, not queued twice)';
      show(req);
      return req;
    }
    const el = h('p', { class: 'summary-request', role: 'status' });
    container.prepend(el);
    lines.set(req.id, { el, timer: null });
    show(req);
    poll(req.id, FIRST_MS);
    return req;
  }

  function stop() {
    stopped = true;
    for (const line of lines.values()) clearTimeout(line.timer);
    lines.clear();
  }

  return { request, stop };
}
