// Drain and shutdown (spec §1.10): after SIGTERM probes fail with "shutting down" while traffic
// still flows, each request restarts the quiet period, in-flight requests and upgraded
// connections finish, and the process exits 0. /wait-for-drain serves the preStop hook.
import test from 'ava';
import WebSocket from 'ws';
import { httpGet, withQueueProxy } from '../helpers/queue-proxy.ts';

const KUBELET = { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGTERM: probes answer 503 while requests flow; in-flight requests complete; exit 0 after the quiet period', async (t) => {
  await withQueueProxy({ KNTS_DRAIN_QUIET_PERIOD: '2s', CONTAINER_CONCURRENCY: '2' }, async (qp) => {
    const inflight = httpGet(qp.serving, '/?sleep=3000');
    await sleep(100);
    const sigterm = performance.now();
    qp.child.kill('SIGTERM');
    await sleep(100);
    const probe = await httpGet(qp.serving, '/', KUBELET);
    t.is(probe.status, 503);
    t.is(probe.body, 'shutting down\n');
    const ingress = await httpGet(qp.serving, '/', { 'k-network-probe': 'probe', 'k-network-hash': 'x' });
    t.is(ingress.status, 503);
    await sleep(400);
    const late = await httpGet(qp.serving, '/still-served'); // restarts the 2 s quiet period
    const lateAt = performance.now();
    t.is(late.status, 200);
    const done = await inflight;
    t.is(done.status, 200, 'the in-flight request finished');
    const code = await qp.exited;
    const exitedAt = performance.now();
    t.is(code, 0);
    t.true(exitedAt - lateAt >= 1950, `exited ${exitedAt - lateAt} ms after the last request`);
    t.true(exitedAt - sigterm < 8000);
    t.true(qp.logs.some((l) => l.includes('received TERM signal')));
  });
});

test('/wait-for-drain without SIGTERM is a container restart: the drain resets and probes pass again', async (t) => {
  await withQueueProxy({ KNTS_DRAIN_QUIET_PERIOD: '5s' }, async (qp) => {
    const start = performance.now();
    const wait = await httpGet(qp.admin, '/wait-for-drain');
    t.is(wait.status, 200);
    t.is(wait.body, '');
    const took = performance.now() - start;
    t.true(took >= 900 && took < 3000, `reset after ${took} ms`);
    const probe = await httpGet(qp.serving, '/', KUBELET);
    t.is(probe.status, 200);
    t.is((await httpGet(qp.admin, '/other')).status, 404);
  });
});

test('/wait-for-drain with SIGTERM blocks until the drain is over', async (t) => {
  await withQueueProxy({ KNTS_DRAIN_QUIET_PERIOD: '1500ms' }, async (qp) => {
    const start = performance.now();
    const wait = httpGet(qp.admin, '/wait-for-drain');
    await sleep(100);
    qp.child.kill('SIGTERM');
    const r = await wait;
    t.is(r.status, 200);
    t.true(performance.now() - start >= 1400, `returned after ${performance.now() - start} ms`);
    t.is(await qp.exited, 0);
  });
});

test('upgraded connections keep working through the drain and the process waits for them', async (t) => {
  await withQueueProxy({ KNTS_DRAIN_QUIET_PERIOD: '500ms', KNTS_DRAIN_HIJACKED_TIMEOUT: '10s' }, async (qp) => {
    const ws = new WebSocket(`ws://127.0.0.1:${qp.serving}/ws`);
    await new Promise((r) => ws.once('open', r));
    qp.child.kill('SIGTERM');
    await sleep(1200); // past the quiet period: the servers are closed, the socket is not
    const echo = await new Promise<string>((resolve) => {
      ws.once('message', (m) => resolve(String(m)));
      ws.send('still here');
    });
    t.is(echo, 'still here');
    t.is(qp.child.exitCode, null, 'the process waits for the WebSocket');
    const closedAt = performance.now();
    ws.close();
    t.is(await qp.exited, 0);
    t.true(performance.now() - closedAt < 3000);
  });
});

test('SIGINT drains like SIGTERM', async (t) => {
  await withQueueProxy({ KNTS_DRAIN_QUIET_PERIOD: '200ms' }, async (qp) => {
    qp.child.kill('SIGINT');
    t.is(await qp.exited, 0);
  });
});
