// The activator as a buffer in front of revisions, black box (spec §2.4, §2.5, §2.7, §7.2):
// scale from zero with real queue-proxies as pods, capacity changes while requests wait,
// client disconnects, the queue limits, probing, the LB policy per cc, and the stats sent
// to the autoscaler.
import test from 'ava';
import { request } from 'node:http';
import { httpGet, queueProxyEnv, startQueueProxy, UserApp } from '../helpers/queue-proxy.ts';
import { FakePod, revision, startTestActivator, until } from '../helpers/activator.ts';

const headers = (name: string): Record<string, string> => ({ 'knative-serving-revision': name, 'knative-serving-namespace': 'default' });

test('1,000 concurrent requests to a revision at zero all succeed once a queue-proxy pod appears; the poke comes first', async (t) => {
  const app = new UserApp();
  await app.listen();
  const a = await startTestActivator([revision('hello-00001')]);
  const qp = await startQueueProxy(queueProxyEnv(app.port, { SERVING_POD: 'hello-00001-pod-a' }));
  try {
    await until(() => a.act.statsClient.connected);
    const replies = Array.from({ length: 1000 }, (_, i) => httpGet(a.port, `/?i=${i}`, headers('hello-00001')));
    t.true(await until(() => a.act.limits.queued === 1000, 20_000), `queued ${a.act.limits.queued}`);
    // The immediate message: concurrency 1, one request, from this activator, before any pod.
    const first = a.autoscaler.messages[0]?.message;
    t.deepEqual(first && { ns: first.namespace, name: first.name, c: first.stat?.averageConcurrentRequests, n: first.stat?.requestCount, pod: first.stat?.podName }, { ns: 'default', name: 'hello-00001', c: 1, n: 1, pod: 'activator-test' });
    // Periodic reports follow, carrying the waiting demand.
    t.true(await until(() => a.autoscaler.messages.some((m) => (m.message.stat?.averageConcurrentRequests ?? 0) > 900)));
    a.endpoints('hello-00001', { notReady: [`127.0.0.1:${qp.serving}`] });
    const all = await Promise.all(replies);
    t.deepEqual([...new Set(all.map((r) => r.status))], [200]);
    t.is(app.requests.length, 1000);
    // The queue-proxy saw them as proxied by the activator, with the original Host restored.
    t.is(app.requests[0]!.headers['k-proxy-request'], 'activator');
    t.is(a.act.limits.queued, 0);
  } finally {
    await a.close();
    await qp.stop();
    await app.close();
  }
});

test('cc=1 with two queue-proxy pods: never two requests in flight on one pod', async (t) => {
  const apps = [new UserApp(), new UserApp()];
  await Promise.all(apps.map((a) => a.listen()));
  const qps = await Promise.all(apps.map((app, i) => startQueueProxy(queueProxyEnv(app.port, { CONTAINER_CONCURRENCY: '1', SERVING_POD: `pod-${i}` }))));
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1 })]);
  try {
    a.endpoints('hello-00001', { ready: qps.map((q) => `127.0.0.1:${q.serving}`) });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 2));
    const replies = await Promise.all(Array.from({ length: 20 }, () => httpGet(a.port, '/?sleep=30', headers('hello-00001'))));
    t.deepEqual([...new Set(replies.map((r) => r.status))], [200]);
    t.deepEqual(apps.map((app) => app.maxInFlight), [1, 1]);
    t.is(apps[0]!.requests.length + apps[1]!.requests.length, 20);
    t.true(apps.every((app) => app.requests.length >= 5), 'both pods serve');
  } finally {
    await a.close();
    await Promise.all(qps.map((q) => q.stop()));
    await Promise.all(apps.map((app) => app.close()));
  }
});

test('capacity changes while requests wait: pods come and go, nothing queued is dropped', async (t) => {
  const pods = await Promise.all(['p1', 'p2', 'p3'].map((n) => new FakePod(n).listen()));
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1 })]);
  try {
    a.endpoints('hello-00001', { ready: [pods[0]!.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 1));
    const replies = Array.from({ length: 30 }, () => httpGet(a.port, '/?sleep=40', headers('hello-00001')));
    // All 30 arrived: waiting, or served one at a time by the only pod.
    t.true(await until(() => a.act.limits.queued + pods[0]!.seen.length === 30), `queued ${a.act.limits.queued}, served ${pods[0]!.seen.length}`);
    t.true(a.act.limits.queued > 0);
    a.endpoints('hello-00001', { ready: [pods[0]!.dest, pods[1]!.dest, pods[2]!.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 3));
    await new Promise((r) => setTimeout(r, 100));
    // Down to one pod and back to zero for a moment, then two.
    a.endpoints('hello-00001', { ready: [pods[2]!.dest] });
    await new Promise((r) => setTimeout(r, 60));
    a.endpoints('hello-00001', { ready: [] });
    await new Promise((r) => setTimeout(r, 60));
    a.endpoints('hello-00001', { ready: [pods[1]!.dest, pods[2]!.dest] });
    const all = await Promise.all(replies);
    t.deepEqual([...new Set(all.map((r) => r.status))], [200]);
    t.true(pods.every((p) => p.maxInFlight <= 1), pods.map((p) => p.maxInFlight).join());
    t.is(pods.reduce((n, p) => n + p.seen.length, 0), 30);
  } finally {
    await a.close();
    await Promise.all(pods.map((p) => p.close()));
  }
});

test('a client that disconnects while queued frees its place: it never reaches a pod', async (t) => {
  // `/busy` holds the only slot (cc 1) until the test lets it go, however slow the machine.
  let release = (): void => undefined;
  const pod = await new FakePod('p1', (req, res) => {
    req.resume();
    const reply = (): void => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('p1');
    };
    if (req.url === '/busy') release = reply;
    else req.on('end', reply);
  }).listen();
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1 })]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.capacity === 1));
    const busy = httpGet(a.port, '/busy', headers('hello-00001'));
    t.true(await until(() => pod.inFlight === 1));
    const leaving = request({ host: '127.0.0.1', port: a.port, path: '/leaver', headers: headers('hello-00001'), agent: false });
    leaving.on('error', () => undefined);
    leaving.end();
    t.true(await until(() => a.act.limits.queued === 1));
    leaving.destroy();
    t.true(await until(() => a.act.limits.queued === 0));
    t.is(a.act.throttler('default', 'hello-00001')?.breaker.pending, 0);
    const next = httpGet(a.port, '/next', headers('hello-00001'));
    t.true(await until(() => a.act.limits.queued === 1));
    release();
    t.is((await busy).status, 200);
    t.is((await next).status, 200);
    t.deepEqual(pod.seen.map((r) => r.url), ['/busy', '/next']);
  } finally {
    await a.close();
    await pod.close();
  }
});

test('queue limits shed at once with 503 and Retry-After: per revision, in total, and body bytes', async (t) => {
  const a = await startTestActivator([revision('r1'), revision('r2')], {
    env: { limits: { maxQueuedPerRevision: 2, maxQueuedTotal: 3, maxBufferedBodyBytes: 1000 } },
  });
  try {
    // These wait until the activator closes (their timeout is 30 s); marked handled at once so
    // that a failed assertion below cannot leave their rejections unhandled.
    const wait = (name: string): ReturnType<typeof httpGet> => {
      const p = httpGet(a.port, '/', headers(name));
      p.catch(() => undefined);
      return p;
    };
    const waiting = [wait('r1'), wait('r1')];
    t.true(await until(() => a.act.limits.queued === 2));
    const shed = await httpGet(a.port, '/', headers('r1'));
    t.deepEqual([shed.status, shed.body, shed.headers['retry-after']], [503, 'pending request queue full for this revision\n', '1']);
    // At once, not after the revision timeout (bounded loosely: the machine may be busy).
    t.true(shed.ms < 5000, `${shed.ms}`);
    waiting.push(wait('r2'));
    t.true(await until(() => a.act.limits.queued === 3));
    const total = await httpGet(a.port, '/', headers('r2'));
    t.deepEqual([total.status, total.body], [503, 'pending request queue full\n']);
    t.is(a.act.limits.shed, 2);
    const metrics = await httpGet(a.act.ports.metrics, '/metrics');
    t.regex(metrics.body, /knts_activator_requests_shed_total\{namespace_name="default",revision_name="r1",reason="revision-queue-full"\} 1/);
    await a.close();
    for (const r of await Promise.allSettled(waiting)) t.not(r.status === 'fulfilled' && r.value.status === 200, true);
  } finally {
    await a.close();
  }
});

test('body bytes: a waiting request with a large body is shed when the body budget is spent', async (t) => {
  const a = await startTestActivator([revision('r1')], { env: { limits: { maxQueuedPerRevision: 100, maxQueuedTotal: 100, maxBufferedBodyBytes: 20_000 } } });
  try {
    const body = 'x'.repeat(15_000);
    const first = httpGet(a.port, '/', headers('r1'), { method: 'POST', body });
    t.true(await until(() => a.act.limits.queued === 1));
    t.is(a.act.limits.bodyBytes, 15_000);
    const second = await httpGet(a.port, '/', headers('r1'), { method: 'POST', body });
    t.deepEqual([second.status, second.body], [503, 'pending request body buffer full\n']);
    // A bodiless request still fits.
    const small = httpGet(a.port, '/', headers('r1'));
    t.true(await until(() => a.act.limits.queued === 2));
    await a.close();
    await Promise.allSettled([first, small]);
    t.is(a.act.limits.bodyBytes, 0);
  } finally {
    await a.close();
  }
});

test('a pod whose probe fails stays out of rotation until it passes', async (t) => {
  const good = await new FakePod('good').listen();
  const bad = await new FakePod('bad').listen();
  bad.probeStatus = 503;
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [good.dest, bad.dest] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.destinations.length ?? 0) === 1));
    const replies = await Promise.all(Array.from({ length: 20 }, () => httpGet(a.port, '/', headers('hello-00001'))));
    t.true(replies.every((r) => r.body === 'good'));
    t.is(bad.seen.length, 0);
    t.true(bad.probes > 0);
    bad.probeStatus = 200;
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.destinations.length ?? 0) === 2));
  } finally {
    await a.close();
    await good.close();
    await bad.close();
  }
});

test('LB policy by cc: first available packs pod 1 (cc 2), round robin alternates (cc 5), p2c spreads load (cc 0)', async (t) => {
  // `/?hold` requests are answered only once 10 of them are in the pods, so all 10 are in flight
  // when p2c picks, however slowly they arrive.
  const held: (() => void)[] = [];
  const pod = (name: string): FakePod =>
    new FakePod(name, (req, res) => {
      req.resume();
      const reply = (): void => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(name);
      };
      if (!(req.url ?? '').includes('hold')) {
        req.on('end', reply);
        return;
      }
      held.push(reply);
      if (held.length === 10) for (const r of held.splice(0)) r();
    });
  const pods = await Promise.all(['a', 'b'].map((n) => pod(n).listen()));
  const sorted = [...pods].sort((x, y) => (x.dest < y.dest ? -1 : 1));
  const a = await startTestActivator([revision('fa', { containerConcurrency: 2 }), revision('rr', { containerConcurrency: 5 }), revision('p2c', { containerConcurrency: 0 })]);
  try {
    for (const r of ['fa', 'rr', 'p2c']) a.endpoints(r, { ready: pods.map((p) => p.dest) });
    t.true(await until(() => ['fa', 'rr', 'p2c'].every((r) => a.act.throttler('default', r)?.destinations.length === 2)));
    // Sequential requests: first available always takes the first pod in sorted order.
    const fa: string[] = [];
    for (let i = 0; i < 4; i++) fa.push((await httpGet(a.port, '/', headers('fa'))).body);
    t.deepEqual(fa, Array(4).fill(sorted[0]!.name));
    const rr: string[] = [];
    for (let i = 0; i < 4; i++) rr.push((await httpGet(a.port, '/', headers('rr'))).body);
    t.deepEqual(rr, [sorted[0]!.name, sorted[1]!.name, sorted[0]!.name, sorted[1]!.name]);
    // Concurrent requests: p2c sends each to the pod with fewer in flight, so both are used evenly.
    const before = pods.map((p) => p.seen.length);
    const p2c = await Promise.all(Array.from({ length: 10 }, () => httpGet(a.port, '/?hold', headers('p2c'))));
    t.true(p2c.every((r) => r.status === 200));
    const served = pods.map((p, i) => p.seen.length - before[i]!);
    t.deepEqual(served, [5, 5]);
  } finally {
    await a.close();
    await Promise.all(pods.map((p) => p.close()));
  }
});
