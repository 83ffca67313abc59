// The activator's timeout handler while a request is proxied (spec §2.2 step 11, §1.6): the
// response-start timeout before the pod answers, the idle timeout and the revision timeout on a
// streaming response, and the idle timeout of a request still waiting. Each gives back the
// pod's slot, so the next request is served.
import test from 'ava';
import { request } from 'node:http';
import { httpGet } from '../helpers/queue-proxy.ts';
import { FakePod, revision, startTestActivator, until } from '../helpers/activator.ts';

const REV = { 'knative-serving-revision': 'hello-00001', 'knative-serving-namespace': 'default' };

interface RawReply {
  readonly status: number;
  readonly body: string;
  /** False when the response was cut before its end. */
  readonly complete: boolean;
  readonly ms: number;
}

/** A GET that reports whether the response arrived whole. */
function get(port: number, path: string): Promise<RawReply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: REV, agent: false }, (res) => {
      let body = '';
      let settled = false;
      const done = (complete: boolean): void => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, body, complete, ms: performance.now() - start });
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done(res.complete));
      res.on('error', () => done(false));
      res.on('aborted', () => done(false));
      res.on('close', () => done(res.complete));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A pod for timeouts: `/hang` never answers, `/stall` sends a head and a chunk then goes quiet, `/trickle?n=N` writes a chunk every 300 ms N times, `/late` sends its head at once and its body after 1.5 s. */
function timeoutPod(): FakePod {
  return new FakePod('p1', (req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => timers.forEach(clearTimeout));
    switch (url.pathname) {
      case '/hang':
        return;
      case '/stall':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return;
      case '/trickle': {
        const n = Number(url.searchParams.get('n') ?? 5);
        res.writeHead(200, { 'content-type': 'text/plain' });
        let i = 0;
        const tick = (): void => {
          res.write(String(i++));
          if (i < n) timers.push(setTimeout(tick, 300));
          else res.end();
        };
        timers.push(setTimeout(tick, 300));
        return;
      }
      case '/late':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.flushHeaders();
        timers.push(setTimeout(() => res.end('late'), 1500));
        return;
      default:
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('p1');
    }
  });
}

test('response-start timeout: 504 when the pod has not answered in time; the pod request is cancelled and its slot freed', async (t) => {
  const pod = await timeoutPod().listen();
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1, responseStartTimeoutSeconds: 1 })]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 1));
    const hung = get(a.port, '/hang');
    t.true(await until(() => pod.inFlight === 1));
    const metrics = await httpGet(a.act.ports.metrics, '/metrics');
    t.regex(metrics.body, /kn_revision_request_active\{namespace_name="default",revision_name="hello-00001"\} 1/);
    const r = await hung;
    t.deepEqual([r.status, r.body], [504, 'activator request timeout']);
    t.true(r.ms >= 950 && r.ms < 10_000, `${r.ms}`);
    t.true(await until(() => pod.inFlight === 0), 'the pod sees its request cancelled');
    // A response that started in time is not cut by the response-start timer.
    const late = await get(a.port, '/late');
    t.deepEqual([late.status, late.body, late.complete], [200, 'late', true]);
    // cc 1: the next request gets the pod, so the slot came back.
    const next = await get(a.port, '/');
    t.deepEqual([next.status, next.body], [200, 'p1']);
    t.true(await until(() => a.act.handler.open.open === 0));
    const after = await httpGet(a.act.ports.metrics, '/metrics');
    t.regex(after.body, /kn_revision_request_active\{namespace_name="default",revision_name="hello-00001"\} 0/);
  } finally {
    await a.close();
    await pod.close();
  }
});

test('idle timeout: a response that goes quiet is cut with the message appended; one that keeps writing is not', async (t) => {
  const pod = await timeoutPod().listen();
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1, idleTimeoutSeconds: 2 })]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 1));
    const stalled = await get(a.port, '/stall');
    t.is(stalled.status, 200);
    t.is(stalled.body, 'partialactivator request timeout');
    t.false(stalled.complete);
    t.true(stalled.ms >= 1950 && stalled.ms < 10_000, `${stalled.ms}`);
    // Ten writes 300 ms apart: 3 s in all, never 2 s without a write.
    const trickle = await get(a.port, '/trickle?n=10');
    t.deepEqual([trickle.status, trickle.body, trickle.complete], [200, '0123456789', true]);
    t.true(await until(() => a.act.handler.open.open === 0 && pod.inFlight === 0));
  } finally {
    await a.close();
    await pod.close();
  }
});

test('the revision timeout caps a streaming response: the client gets what was sent, the message, and a cut', async (t) => {
  const pod = await timeoutPod().listen();
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1, timeoutSeconds: 1 })]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 1));
    const r = await get(a.port, '/trickle?n=100');
    t.is(r.status, 200);
    t.regex(r.body, /^(0(12?)?)?activator request timeout$/);
    t.false(r.complete);
    t.true(await until(() => pod.inFlight === 0), 'the pod sees its request cancelled');
    const next = await get(a.port, '/');
    t.deepEqual([next.status, next.body], [200, 'p1']);
  } finally {
    await a.close();
    await pod.close();
  }
});

test('idle timeout while waiting for capacity: nothing was written, so 504 after the idle timeout', async (t) => {
  const a = await startTestActivator([revision('hello-00001', { idleTimeoutSeconds: 1 })]);
  try {
    const r = await get(a.port, '/');
    t.deepEqual([r.status, r.body], [504, 'activator request timeout']);
    t.true(r.ms >= 950 && r.ms < 10_000, `${r.ms}`);
    t.is(a.act.limits.queued, 0);
    t.is(a.act.throttler('default', 'hello-00001')?.breaker.pending, 0);
  } finally {
    await a.close();
  }
});
