import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import { HttpError, fetchJson, parseRetryAfter, retryDelayMs, safeUrl } from '../../src/http.js';
import { RecordingClock, drive } from './helpers.js';

/** A server answering from a script of replies, one per request (the last one repeats). */
function scripted(replies: Array<{ status: number; body: string; headers?: Record<string, string> }>) {
  let i = 0;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const r = replies[Math.min(i++, replies.length - 1)]!;
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body);
  });
  return { server, seen, reset: (next: typeof replies) => { replies = next; i = 0; seen.length = 0; } };
}

describe('fetchJson', () => {
  const s = scripted([]);
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(s.server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => s.server.close(() => r())));

  const clock = () => new RecordingClock(new SimulatedClock({ start: 0 }));

  it('retries 429 after max(minRetryMs, Retry-After), doubling, then returns the body', async () => {
    s.reset([
      { status: 429, body: '{"error":{"code":"too_many_requests","message":"slow down"}}', headers: { 'retry-after': '2' } },
      { status: 429, body: '{}', headers: { 'retry-after': '30' } },
      { status: 200, body: '{"ok":true}' },
    ]);
    const c = clock();
    const body = await drive(c.sim, fetchJson(`${url}/x`, { clock: c, minRetryMs: 1_000, random: () => 0 }));
    expect(body).toEqual({ ok: true });
    expect(c.sleeps).toEqual([2_000, 60_000]); // max(1 s, 2 s); then max(1 s, 30 s) doubled (the cap is 60 s)
  });

  it('retries 5xx and network errors up to maxAttempts, then names the URL (secrets masked) and last status', async () => {
    s.reset([{ status: 502, body: '<html>bad gateway</html>' }]);
    const c = clock();
    const err = (await drive(c.sim, fetchJson(`${url}/p?cursor=abc&api_key=hunter2&token=t0k`, { clock: c, maxAttempts: 4, minRetryMs: 10, random: () => 0 })).catch((e: unknown) => e)) as HttpError;
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toBe(`GET ${url}/p?cursor=abc&api_key=***&token=*** failed after 4 attempts (last status 502): HTTP 502: <html>bad gateway</html>`);
    expect(err).toMatchObject({ status: 502, attempts: 4, retryable: true });
    expect(c.sleeps).toEqual([10, 20, 40]);
    expect(s.seen).toHaveLength(4);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = (await drive(c.sim, fetchJson(`http://127.0.0.1:${port}/nothing`, { clock: c, maxAttempts: 2, minRetryMs: 1 })).catch((e: unknown) => e)) as HttpError;
    expect(refused.message).toBe(`GET http://127.0.0.1:${port}/nothing failed after 2 attempts: network error: fetch failed: ECONNREFUSED`);
    expect(refused.status).toBeUndefined();
  });

  it('fails at once on another 4xx with the body message', async () => {
    s.reset([{ status: 400, body: '{"error":{"code":"bad_request","message":"limit must be between 1 and 200"}}' }]);
    const c = clock();
    const err = (await fetchJson(`${url}/events?limit=500`, { clock: c }).catch((e: unknown) => e)) as HttpError;
    expect(err.message).toBe(`GET ${url}/events?limit=500 failed (last status 400): HTTP 400: bad_request: limit must be between 1 and 200`);
    expect(err).toMatchObject({ attempts: 1, retryable: false });
    expect(c.sleeps).toEqual([]);
  });

  it('an abort is not retried', async () => {
    s.reset([{ status: 503, body: '{}' }]);
    const c = clock();
    const ac = new AbortController();
    const p = fetchJson(`${url}/x`, { clock: c, signal: ac.signal, minRetryMs: 1_000 });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(s.seen).toHaveLength(1);
  });

  it('helpers: Retry-After forms, backoff cap, URL masking', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(retryDelayMs(10, undefined, { minRetryMs: 5_000, random: () => 0 })).toBe(60_000);
    expect(retryDelayMs(1, 120_000, { minRetryMs: 5_000, random: () => 0 })).toBe(120_000);
    expect(retryDelayMs(1, undefined, { minRetryMs: 5_000, random: () => 0.99 })).toBe(5_495);
    expect(safeUrl('https://u:pw@h/p?signature=s&series_ticker=KX')).toBe('https://u:***@h/p?signature=***&series_ticker=KX');
  });
});
