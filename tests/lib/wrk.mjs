// wrk.mjs - running wrk from the benchmarks and reading its report.
//
// The benchmarks under tests/bench/ compare an API route with a baseline
// measured in the same run on the same machine; these helpers run one wrk
// (-t2 -c256 --latency, optional headers and Lua script) and pick the
// numbers out of its text report.

import { spawn } from 'node:child_process';

// Runs wrk for seconds against url; resolves its report (stdout text).
export function wrk(url, seconds, { headers = [], script } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['-t2', '-c256', `-d${seconds}s`, '--latency'];
    for (const h of headers) args.push('-H', h);
    if (script) args.push('-s', script);
    args.push(url);
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out)
      : reject(new Error(`wrk exit ${code}: ${out}`))));
  });
}

const ms = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit]);

// {rps, p99 (ms), non2xx, total, sockErrors, out} of a wrk report.
export function parseWrk(out) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1]
    ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
    .exec(out);
  const total = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps, p99: p99 ? ms(p99[1], p99[2]) : NaN, non2xx, total,
           sockErrors: sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0)
                            : 0, out };
}

export const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
