// The queue-proxy as Knative's controller runs it: a child process with env vars in front of a
// real app. Every row of the handler chain (spec §1.3), header rewriting, errors and limits.
import test from 'ava';
import { connect } from 'node:net';
import { decodeStat } from '../../autoscaler/stat-proto.ts';
import { httpGet, queueProxyEnv, startQueueProxy, UserApp, type QueueProxyProcess } from '../helpers/queue-proxy.ts';

interface Ctx {
  app: UserApp;
  qp: QueueProxyProcess;
}

async function setup(overrides: Record<string, string> = {}): Promise<Ctx> {
  const app = new UserApp();
  await app.listen();
  const qp = await startQueueProxy(queueProxyEnv(app.port, overrides));
  return { app, qp };
}

async function teardown(c: Ctx): Promise<void> {
  await c.qp.stop();
  await c.app.close();
}

const KUBELET = { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' };

test('proxies to the app, strips revision headers, restores K-Original-Host, keeps K-Proxy-Request', async (t) => {
  const c = await setup();
  try {
    const r = await httpGet(c.qp.serving, '/path?x=1', {
      host: 'hello-00001.default.svc',
      'knative-serving-revision': 'hello-00001',
      'knative-serving-namespace': 'default',
      'k-original-host': 'hello.default.example.com',
      'k-proxy-request': 'activator',
      'knative-serving-tag': 'blue',
      'k-network-hash': 'h',
    });
    t.is(r.status, 200);
    t.is(r.headers['x-app'], 'yes');
    const seen = c.app.requests.at(-1)!;
    t.is(seen.url, '/path?x=1');
    t.is(seen.headers.host, 'hello.default.example.com');
    t.is(seen.headers['knative-serving-revision'], undefined);
    t.is(seen.headers['knative-serving-namespace'], undefined);
    t.is(seen.headers['k-original-host'], undefined);
    t.is(seen.headers['k-proxy-request'], 'activator');
    t.is(seen.headers['knative-serving-tag'], 'blue');
    t.is(seen.headers['k-network-hash'], 'h');
    t.is(seen.headers['x-forwarded-for'], '127.0.0.1');
  } finally {
    await teardown(c);
  }
});

test('Forwarded is synthesised from X-Forwarded-*; an existing Forwarded is kept', async (t) => {
  const c = await setup();
  try {
    await httpGet(c.qp.serving, '/', { 'x-forwarded-for': '1.1.1.1, ::1', 'x-forwarded-host': 'a.com', 'x-forwarded-proto': 'https' });
    const seen = c.app.requests.at(-1)!;
    t.is(seen.headers['forwarded'], 'for=1.1.1.1;host=a.com;proto=https, for="[::1]"');
    t.is(seen.headers['x-forwarded-for'], '1.1.1.1, ::1, 127.0.0.1');
    await httpGet(c.qp.serving, '/', { forwarded: 'for=9.9.9.9', 'x-forwarded-for': '1.1.1.1' });
    t.is(c.app.requests.at(-1)!.headers['forwarded'], 'for=9.9.9.9');
  } finally {
    await teardown(c);
  }
});

test('request bodies are streamed to the app and back', async (t) => {
  const c = await setup();
  try {
    const body = 'x'.repeat(3 * 1024 * 1024);
    const r = await httpGet(c.qp.serving, '/?echo=1', { 'content-type': 'application/octet-stream' }, { method: 'POST', body });
    t.is(r.status, 200);
    t.is(r.body.length, body.length);
  } finally {
    await teardown(c);
  }
});

test('kubelet probe: 200 "queue" when ready, 503 empty body when the app is down', async (t) => {
  const app = new UserApp();
  const port = await app.listen();
  await app.close(); // the port is free again: the app is "not started"
  const qp = await startQueueProxy(queueProxyEnv(port, { SERVING_READINESS_PROBE: JSON.stringify({ tcpSocket: { port, host: '127.0.0.1' }, periodSeconds: 1, timeoutSeconds: 1 }) }));
  try {
    const down = await httpGet(qp.serving, '/anything', KUBELET);
    t.is(down.status, 503);
    t.is(down.body, '');
    const up = new UserApp();
    await up.listen(port);
    try {
      const ready = await httpGet(qp.serving, '/healthz', KUBELET);
      t.is(ready.status, 200);
      t.is(ready.body, 'queue');
      t.is(up.requests.length, 0, 'probes are answered by the queue-proxy, not forwarded');
    } finally {
      await up.close();
    }
  } finally {
    await qp.stop();
  }
});

test('health checks: activator and autoscaler user agents; a wrong probe value is 400 unquoted', async (t) => {
  const c = await setup();
  try {
    const act = await httpGet(c.qp.serving, '/', { 'user-agent': 'Knative-Activator-Probe', 'k-network-probe': 'queue' });
    t.is(act.status, 200);
    t.is(act.body, 'queue');
    const as = await httpGet(c.qp.serving, '/', { 'user-agent': 'Knative-Autoscaling-Probe', 'k-network-probe': 'queue' });
    t.is(as.status, 200);
    const bad = await httpGet(c.qp.serving, '/', { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'activator' });
    t.is(bad.status, 400);
    t.is(bad.body, 'unexpected probe header value: activator\n');
    t.is(bad.headers['content-type'], 'text/plain; charset=utf-8');
    t.is(bad.headers['x-content-type-options'], 'nosniff');
    const empty = await httpGet(c.qp.serving, '/', { 'user-agent': 'kube-probe/1.30' });
    t.is(empty.body, 'unexpected probe header value: \n');
  } finally {
    await teardown(c);
  }
});

test('ingress probe: K-Network-Hash is echoed; a missing hash is 400', async (t) => {
  const c = await setup();
  try {
    const ok = await httpGet(c.qp.serving, '/healthz', { 'k-network-probe': 'probe', 'k-network-hash': 'abc123', 'user-agent': 'Knative-Ingress-Probe' });
    t.is(ok.status, 200);
    t.is(ok.body, '');
    t.is(ok.headers['k-network-hash'], 'abc123');
    const missing = await httpGet(c.qp.serving, '/healthz', { 'k-network-probe': 'probe' });
    t.is(missing.status, 400);
    t.is(missing.body, 'a probe request must contain a non-empty "K-Network-Hash" header\n');
    t.is(c.app.requests.length, 0);
  } finally {
    await teardown(c);
  }
});

test('an app that is down gives 502 with Go\'s dial error', async (t) => {
  // Port 1: nothing listens there. (A port freed by a closed server could be taken by another
  // test's server meanwhile, which once answered 404 here.)
  const port = 1;
  const qp = await startQueueProxy(queueProxyEnv(port));
  try {
    const r = await httpGet(qp.serving, '/');
    t.is(r.status, 502);
    t.is(r.body, `dial tcp 127.0.0.1:${port}: connect: connection refused\n`);
  } finally {
    await qp.stop();
  }
});

test('cc=1 never lets two requests reach the app at once', async (t) => {
  const c = await setup({ CONTAINER_CONCURRENCY: '1' });
  try {
    const replies = await Promise.all(Array.from({ length: 6 }, () => httpGet(c.qp.serving, '/?sleep=60')));
    t.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
    t.is(c.app.maxInFlight, 1);
  } finally {
    await teardown(c);
  }
});

test('cc=1: with 1 running and 10 queued, the 12th request gets 503 at once', async (t) => {
  const c = await setup({ CONTAINER_CONCURRENCY: '1' });
  try {
    const slow = Array.from({ length: 11 }, () => httpGet(c.qp.serving, '/?sleep=400'));
    await new Promise((r) => setTimeout(r, 300));
    const rejected = await httpGet(c.qp.serving, '/');
    t.is(rejected.status, 503);
    t.is(rejected.body, 'pending request queue full\n');
    // A queued request would wait for the ten ahead of it (4 s); a rejection is immediate. The
    // bound leaves room for a loaded machine without blurring the two.
    t.true(rejected.ms < 1500, `rejected after ${rejected.ms} ms`);
    const done = await Promise.all(slow);
    t.true(done.every((r) => r.status === 200));
  } finally {
    await teardown(c);
  }
});

test('kubelet probes bypass the breaker', async (t) => {
  const c = await setup({ CONTAINER_CONCURRENCY: '1' });
  try {
    const busy = Array.from({ length: 11 }, () => httpGet(c.qp.serving, '/?sleep=300'));
    await new Promise((r) => setTimeout(r, 100));
    const probe = await httpGet(c.qp.serving, '/', KUBELET);
    t.is(probe.status, 200);
    await Promise.all(busy);
  } finally {
    await teardown(c);
  }
});

test('a client that disconnects while queued frees its place; one that leaves mid-request frees the slot', async (t) => {
  const c = await setup({ CONTAINER_CONCURRENCY: '1' });
  try {
    const sock = connect(c.qp.serving, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET /?sleep=5000 HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy(); // leaves mid-request, holding the only slot
    const after = await httpGet(c.qp.serving, '/');
    t.is(after.status, 200);
    // Had the slot stayed taken, this would wait for the app's 5 s.
    t.true(after.ms < 2500, `the slot was not freed promptly (${after.ms} ms)`);
  } finally {
    await teardown(c);
  }
});

test('oversized headers get 431 and garbage gets 400; other requests are unaffected', async (t) => {
  const c = await setup();
  try {
    const big = await httpGet(c.qp.serving, '/', { 'x-big': 'a'.repeat(1100 * 1024) }).catch(() => ({ status: 431 }));
    t.is(big.status, 431);
    const raw = await new Promise<string>((resolve) => {
      const s = connect(c.qp.serving, '127.0.0.1', () => s.write('\x00\x01garbage\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    t.regex(raw, /^HTTP\/1\.1 400 Bad Request/);
    const fine = await httpGet(c.qp.serving, '/');
    t.is(fine.status, 200);
    const largeOk = await httpGet(c.qp.serving, '/', { cookie: 'c'.repeat(64 * 1024) });
    t.is(largeOk.status, 200, 'headers up to Go\'s 1 MiB limit pass');
  } finally {
    await teardown(c);
  }
});

test(':9090/metrics serves a protobuf Stat that reflects known load; other paths 404', async (t) => {
  const c = await setup();
  try {
    const first = await fetch(`http://127.0.0.1:${c.qp.metrics}/metrics`);
    t.is(first.headers.get('content-type'), 'application/protobuf');
    // Two overlapping 600 ms requests, one through the activator. Sample every report (each
    // has its own uptime) until the windows that saw them have all been published.
    const reports = new Map<number, ReturnType<typeof decodeStat>>();
    const sampling = (async () => {
      for (let i = 0; i < 16; i++) {
        const stat = decodeStat(new Uint8Array(await (await fetch(`http://127.0.0.1:${c.qp.metrics}/metrics`, { method: 'POST' })).arrayBuffer()));
        reports.set(stat.processUptime, stat);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await Promise.all([httpGet(c.qp.serving, '/?sleep=600'), httpGet(c.qp.serving, '/?sleep=600', { 'k-proxy-request': 'activator' })]);
    await sampling;
    let requests = 0;
    let proxied = 0;
    let peak = 0;
    for (const stat of reports.values()) {
      t.is(stat.podName, 'hello-00001-deployment-abc');
      requests += stat.requestCount;
      proxied += stat.proxiedRequestCount;
      peak = Math.max(peak, stat.averageConcurrentRequests);
    }
    t.true([...reports.keys()].some((u) => u > 0), 'reports carry the process uptime');
    t.is(proxied, 1);
    t.is(requests, 2);
    t.true(proxied <= requests);
    t.true(peak > 0.3 && peak <= 2, `average concurrency ${peak}`);
    const notFound = await fetch(`http://127.0.0.1:${c.qp.metrics}/other`);
    t.is(notFound.status, 404);
  } finally {
    await teardown(c);
  }
});

test('probes are not counted in the stats', async (t) => {
  const c = await setup();
  try {
    await new Promise((r) => setTimeout(r, 1100)); // let a report pass
    for (let i = 0; i < 5; i++) await httpGet(c.qp.serving, '/', KUBELET);
    await new Promise((r) => setTimeout(r, 1100));
    const stat = decodeStat(new Uint8Array(await (await fetch(`http://127.0.0.1:${c.qp.metrics}/metrics`)).arrayBuffer()));
    t.is(stat.requestCount, 0);
  } finally {
    await teardown(c);
  }
});
