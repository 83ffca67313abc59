// The three timeouts of spec §1.6 — the revision timeout as a hard cap, response-start and
// idle — before and after the response starts, for queued requests and for WebSockets, plus
// our opt-in exemption of upgraded connections from the response-start and idle timers.
import test from 'ava';
import WebSocket from 'ws';
import { httpGet, withQueueProxy as withQp } from '../helpers/queue-proxy.ts';


const near = (ms: number, target: number, slack = 600): boolean => ms >= target - 50 && ms <= target + slack;

test('revision timeout before the response starts: 504 "request timeout", no newline', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const r = await httpGet(qp.serving, '/?sleep=3000');
    t.is(r.status, 504);
    t.is(r.body, 'request timeout');
    t.is(r.headers['content-type'], 'text/plain; charset=utf-8');
    t.true(near(r.ms, 1000), `took ${r.ms} ms`);
  }));

test('revision timeout is a hard cap: a streaming response is cut and ends with "request timeout"', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const r = await httpGet(qp.serving, '/?stream=100&gap=50');
    t.is(r.status, 200, 'the status was already sent');
    t.true(r.body.startsWith('chunk0\n'));
    t.true(r.body.endsWith('request timeout'), `body ends with ${JSON.stringify(r.body.slice(-30))}`);
    t.false(r.body.includes('chunk99'));
    t.true(near(r.ms, 1000), `took ${r.ms} ms`);
  }));

test('response-start timeout: 504 when nothing was written in time', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '10', REVISION_RESPONSE_START_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const r = await httpGet(qp.serving, '/?sleep=3000');
    t.is(r.status, 504);
    t.is(r.body, 'request timeout');
    t.true(near(r.ms, 1000), `took ${r.ms} ms`);
  }));

test('response-start timeout is ignored once the response started', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '10', REVISION_RESPONSE_START_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const r = await httpGet(qp.serving, '/?stream=30&gap=60');
    t.is(r.status, 200);
    t.true(r.body.endsWith('chunk29\n'));
    t.false(r.body.includes('request timeout'));
  }));

test('idle timeout: a stream that pauses too long is cut; a steady one is not', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '10', REVISION_IDLE_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const [paused, steady] = await Promise.all([httpGet(qp.serving, '/?stream=3&gap=2000'), httpGet(qp.serving, '/?stream=8&gap=300')]);
    t.is(paused.status, 200);
    t.is(paused.body, 'chunk0\nrequest timeout');
    t.true(near(paused.ms, 1000), `took ${paused.ms} ms`);
    t.is(steady.status, 200);
    t.true(steady.body.endsWith('chunk7\n'));
  }));

test('idle timeout with nothing written counts from the start: 504', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '10', REVISION_IDLE_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const r = await httpGet(qp.serving, '/?sleep=2500');
    t.is(r.status, 504);
    t.is(r.body, 'request timeout');
  }));

test('a request waiting in the breaker queue is subject to the timeouts', (t) =>
  withQp({ CONTAINER_CONCURRENCY: '1', REVISION_TIMEOUT_SECONDS: '10', REVISION_RESPONSE_START_TIMEOUT_SECONDS: '1' }, async (qp, app) => {
    // The first request writes at once (so its own start timer is satisfied) and holds the
    // only slot for 2 s; the second waits in the queue past its response-start timeout.
    const first = httpGet(qp.serving, '/?stream=20&gap=100&first=1');
    await new Promise((r) => setTimeout(r, 100));
    const queued = await httpGet(qp.serving, '/?second=1');
    t.is(queued.status, 504);
    t.is(queued.body, 'request timeout');
    t.true(near(queued.ms, 1000), `took ${queued.ms} ms`);
    t.is((await first).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    t.false(app.requests.some((r) => r.url.includes('second')), 'the timed-out queued request never reached the app');
  }));

function openWs(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

test('WebSocket echo passes through and counts toward concurrency while open', (t) =>
  withQp({ CONTAINER_CONCURRENCY: '1', REVISION_TIMEOUT_SECONDS: '10' }, async (qp) => {
    const ws = await openWs(qp.serving);
    const echo = await new Promise<string>((resolve) => {
      ws.once('message', (m) => resolve(String(m)));
      ws.send('hello');
    });
    t.is(echo, 'hello');
    // The socket holds the only slot: a plain request queues until the socket closes.
    const pending = httpGet(qp.serving, '/');
    await new Promise((r) => setTimeout(r, 300));
    ws.close();
    const r = await pending;
    t.is(r.status, 200);
    t.true(r.ms >= 250, `the request did not wait for the WebSocket (${r.ms} ms)`);
  }));

test('the revision timeout tears down a WebSocket', (t) =>
  withQp({ REVISION_TIMEOUT_SECONDS: '1' }, async (qp) => {
    const start = performance.now();
    const ws = await openWs(qp.serving);
    const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), 100);
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    clearInterval(timer);
    t.true(near(performance.now() - start, 1000), `closed after ${performance.now() - start} ms`);
  }));

test('Knative semantics: the idle timer closes an active WebSocket; our exemption keeps it', async (t) => {
  const run = async (exempt: boolean): Promise<number> => {
    let lifetime = 0;
    await withQp({ REVISION_TIMEOUT_SECONDS: '10', REVISION_IDLE_TIMEOUT_SECONDS: '1', KNTS_UPGRADE_TIMEOUT_EXEMPT: String(exempt) }, async (qp) => {
      const start = performance.now();
      const ws = await openWs(qp.serving);
      const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), 100);
      await Promise.race([new Promise<void>((resolve) => ws.once('close', () => resolve())), new Promise((r) => setTimeout(r, 2500))]);
      clearInterval(timer);
      lifetime = performance.now() - start;
      ws.terminate();
    });
    return lifetime;
  };
  const [knative, exempt] = await Promise.all([run(false), run(true)]);
  t.true(near(knative, 1000), `without the exemption it closed after ${knative} ms`);
  t.true(exempt >= 2400, `with the exemption it lived ${exempt} ms`);
});
