// RevisionBackends (spec §2.5) against real HTTP servers on 127.0.0.1 standing in for pods and
// for the private service's ClusterIP: the probe request, the healthy set across endpoint
// changes, the re-probe timer, the probe deadline, the ClusterIP fallback and mesh modes.
import test from 'ava';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { StaticBackendSource, type ActivatorRevision, type RevisionEndpoints } from '../../activator/backends.ts';
import { RevisionBackends, type BackendUpdate, type Prober, type RevisionBackendsOptions } from '../../activator/revision-backends.ts';

const NS = 'ns';
const REV = 'rev';
const log = pino({ level: 'silent' });

/** How a fake pod answers: a status and body, or `hang` to never answer. */
type Answer = { readonly status: number; readonly body: string } | 'hang';
const QUEUE: Answer = { status: 200, body: 'queue' };
const UNAVAILABLE: Answer = { status: 503, body: 'no healthy upstream' };

interface Pod {
  readonly server: Server;
  readonly dest: string;
  answer: Answer;
  hits: number;
  readonly requests: { method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders }[];
}

async function startPod(answer: Answer): Promise<Pod> {
  const server = createServer((req, res) => {
    pod.hits++;
    pod.requests.push({ method: req.method, url: req.url, headers: req.headers });
    if (pod.answer === 'hang') return;
    res.writeHead(pod.answer.status, { 'content-type': 'text/plain' });
    res.end(pod.answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pod: Pod = { server, dest: `127.0.0.1:${(server.address() as AddressInfo).port}`, answer, hits: 0, requests: [] };
  return pod;
}

/** An address nothing listens on: connections are refused. */
async function deadDest(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dest = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return dest;
}

function closePods(pods: readonly Pod[]): Promise<unknown> {
  return Promise.all(
    pods.map((p) => {
      p.server.closeAllConnections();
      return new Promise<void>((resolve) => p.server.close(() => resolve()));
    }),
  );
}

const revision: ActivatorRevision = { namespace: NS, name: REV, containerConcurrency: 0, timeoutSeconds: 300, responseStartTimeoutSeconds: 0, idleTimeoutSeconds: 0, protocol: 'http1' };

/** Polls `cond` every few ms; fails the test after `ms`. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Harness {
  readonly source: StaticBackendSource;
  readonly backends: RevisionBackends;
  readonly updates: BackendUpdate[];
  readonly last: () => BackendUpdate | undefined;
  /** Waits for an update (already received or to come) matching `pred`. */
  readonly waitUpdate: (pred: (u: BackendUpdate) => boolean, what: string) => Promise<BackendUpdate>;
  readonly set: (endpoints: RevisionEndpoints) => void;
}

function harness(opts: Partial<Omit<RevisionBackendsOptions, 'source' | 'onUpdate' | 'log'>> = {}): Harness {
  const source = new StaticBackendSource();
  const updates: BackendUpdate[] = [];
  const backends = new RevisionBackends({
    source,
    log,
    probeFrequencyMs: 20,
    // Generous: a probe timing out on a loaded machine would count as a transport error. Tests of
    // the deadline set their own.
    probeTimeoutMs: 5000,
    ...opts,
    onUpdate: (namespace, name, u) => {
      if (namespace === NS && name === REV) updates.push(u);
    },
  });
  backends.start();
  source.setRevision(revision);
  return {
    source,
    backends,
    updates,
    last: () => updates.at(-1),
    async waitUpdate(pred, what) {
      await until(() => updates.some(pred), what);
      return updates.find(pred) as BackendUpdate;
    },
    set: (endpoints) => source.setEndpoints(NS, REV, endpoints),
  };
}

const hasDests = (...dests: string[]) => (u: BackendUpdate): boolean => u.dests.length === dests.length && dests.every((d) => u.dests.includes(d));

test('a pod answering 200 queue becomes healthy; the probe is GET /healthz with the activator probe headers', async (t) => {
  const pod = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [pod.dest], notReady: [] });
    const u = await h.waitUpdate(hasDests(pod.dest), 'pod healthy');
    t.deepEqual(u, { dests: [pod.dest], readyBackends: 1 });
    t.deepEqual(h.backends.healthy(NS, REV), [pod.dest]);
    t.deepEqual(h.backends.current(NS, REV), u);
    const req = pod.requests[0];
    t.is(req?.method, 'GET');
    t.is(req?.url, '/healthz');
    t.is(req?.headers['k-network-probe'], 'queue');
    t.is(req?.headers['user-agent'], 'Knative-Activator-Probe');
    t.is(req?.headers.host, pod.dest);
    t.is(req?.headers['k-passthrough-lb'], undefined);
    // Healthy everywhere: no timer, no further probes, no further updates.
    const n = h.updates.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    t.is(pod.hits, 1);
    t.is(h.updates.length, n);
  } finally {
    h.backends.close();
    await closePods([pod]);
  }
});

test('the first update for a revision without endpoints is empty', async (t) => {
  const h = harness();
  try {
    t.deepEqual(h.updates, [{ dests: [], readyBackends: 0 }]);
    // A revision-only change is no endpoint change: nothing new is reported.
    h.source.setRevision({ ...revision, containerConcurrency: 5 });
    t.is(h.updates.length, 1);
  } finally {
    h.backends.close();
  }
});

test('a pod answering 503 is re-probed on the timer and becomes healthy once it answers queue', async (t) => {
  const pod = await startPod(UNAVAILABLE);
  const h = harness();
  try {
    h.set({ ready: [], notReady: [pod.dest] });
    await until(() => pod.hits >= 2, 'two probes');
    t.deepEqual(h.backends.healthy(NS, REV), []);
    t.false(h.updates.some((u) => u.dests.length > 0));
    pod.answer = QUEUE;
    // Probe optimisation: healthy although Kubernetes lists it as not ready.
    t.deepEqual(await h.waitUpdate(hasDests(pod.dest), 'pod healthy'), { dests: [pod.dest], readyBackends: 0 });
  } finally {
    h.backends.close();
    await closePods([pod]);
  }
});

test('a pod answering 200 with another body is never healthy', async (t) => {
  const pod = await startPod({ status: 200, body: 'queue-proxy' });
  const h = harness();
  try {
    h.set({ ready: [pod.dest], notReady: [] });
    await until(() => pod.hits >= 3, 'three probes');
    t.deepEqual(h.backends.healthy(NS, REV), []);
    t.false(h.updates.some((u) => u.dests.length > 0));
  } finally {
    h.backends.close();
    await closePods([pod]);
  }
});

test('a pod that never answers is left out after the round deadline; the others are healthy', async (t) => {
  const good = await startPod(QUEUE);
  const stuck = await startPod('hang');
  const h = harness({ probeTimeoutMs: 150 });
  try {
    const started = Date.now();
    h.set({ ready: [good.dest, stuck.dest], notReady: [] });
    // The round waits for its deadline, then reports what passed.
    await h.waitUpdate(hasDests(good.dest), 'good pod healthy');
    t.true(Date.now() - started >= 140);
    await until(() => stuck.hits >= 2, 'the stuck pod re-probed');
    t.deepEqual(h.backends.healthy(NS, REV), [good.dest]);
    t.deepEqual(h.last(), { dests: [good.dest], readyBackends: 2 });
  } finally {
    h.backends.close();
    await closePods([good, stuck]);
  }
});

test('an injected prober that never settles is cut off by the deadline; dests come sorted', async (t) => {
  const probed: string[] = [];
  const probe: Prober = ({ dest }) => {
    probed.push(dest);
    return dest === '10.0.0.9:8012' ? new Promise(() => undefined) : Promise.resolve({ ok: true, status: 200 });
  };
  const h = harness({ probe, probeTimeoutMs: 30, probeFrequencyMs: 1000 });
  try {
    h.set({ ready: ['10.0.0.3:8012', '10.0.0.9:8012', '10.0.0.10:8012'], notReady: [] });
    const u = await h.waitUpdate((x) => x.dests.length > 0, 'healthy pods');
    t.deepEqual(u.dests, ['10.0.0.10:8012', '10.0.0.3:8012']);
    t.is(probed.length, 3);
  } finally {
    h.backends.close();
  }
});

test('removed pods are dropped at once; a pod demoted to not ready is probed again', async (t) => {
  const a = await startPod(QUEUE);
  const b = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [a.dest, b.dest], notReady: [] });
    await h.waitUpdate(hasDests(a.dest, b.dest), 'both healthy');
    h.set({ ready: [a.dest], notReady: [] });
    // Synchronously: no probe round stands between a pod's removal and its leaving the set.
    t.deepEqual(h.last(), { dests: [a.dest], readyBackends: 1 });
    t.deepEqual(h.backends.healthy(NS, REV), [a.dest]);

    a.answer = UNAVAILABLE;
    const hits = a.hits;
    h.set({ ready: [], notReady: [a.dest] });
    t.deepEqual(h.last(), { dests: [], readyBackends: 0 });
    await until(() => a.hits >= hits + 2, 'demoted pod re-probed');
    t.deepEqual(h.backends.healthy(NS, REV), []);
    a.answer = QUEUE;
    await until(() => h.last()?.dests[0] === a.dest, 'demoted pod healthy again');
  } finally {
    h.backends.close();
    await closePods([a, b]);
  }
});

test('endpoints going empty emit an empty update; updates carry the activators', async (t) => {
  const pod = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [pod.dest], notReady: [], activators: ['10.1.0.1'] });
    await h.waitUpdate(hasDests(pod.dest), 'pod healthy');
    const n = h.updates.length;
    h.set({ ready: [pod.dest], notReady: [], activators: ['10.1.0.1', '10.1.0.2'] });
    t.is(h.updates.length, n + 1);
    t.deepEqual(h.last(), { dests: [pod.dest], readyBackends: 1, activators: ['10.1.0.1', '10.1.0.2'] });
    h.set({ ready: [], notReady: [], activators: ['10.1.0.1', '10.1.0.2'] });
    t.deepEqual(h.last(), { dests: [], readyBackends: 0, activators: ['10.1.0.1', '10.1.0.2'] });
    t.deepEqual(h.backends.healthy(NS, REV), []);
  } finally {
    h.backends.close();
    await closePods([pod]);
  }
});

test('a deleted revision reports no destinations and is forgotten', async (t) => {
  const pod = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [pod.dest], notReady: [] });
    await h.waitUpdate(hasDests(pod.dest), 'pod healthy');
    h.source.deleteRevision(NS, REV);
    t.deepEqual(h.last(), { dests: [], readyBackends: 0 });
    t.is(h.backends.current(NS, REV), undefined);
  } finally {
    h.backends.close();
    await closePods([pod]);
  }
});

test('a revision deleted at zero is reported too, though its last update was already empty', (t) => {
  const h = harness();
  try {
    h.set({ ready: [], notReady: [] });
    t.deepEqual(h.last(), { dests: [], readyBackends: 0 });
    const n = h.updates.length;
    h.source.deleteRevision(NS, REV);
    t.is(h.updates.length, n + 1);
    t.deepEqual(h.last(), { dests: [], readyBackends: 0 });
    t.is(h.backends.current(NS, REV), undefined);
  } finally {
    h.backends.close();
  }
});

test('pods behind a mesh (503 and refused connections): fallback to the ClusterIP, for good', async (t) => {
  const pod = await startPod(UNAVAILABLE);
  const dead = await deadDest();
  const service = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [pod.dest, dead], notReady: [], clusterIP: service.dest });
    const u = await h.waitUpdate((x) => x.clusterIPDest !== undefined, 'ClusterIP mode');
    t.deepEqual(u, { dests: [], clusterIPDest: service.dest, readyBackends: 2 });
    t.is(service.requests[0]?.headers['k-network-probe'], 'queue');
    t.is(service.requests[0]?.headers['user-agent'], 'Knative-Activator-Probe');
    t.is(service.requests[0]?.url, '/healthz');

    // Permanent: even pods that now answer are not probed again; only the capacity follows.
    pod.answer = QUEUE;
    const podHits = pod.hits;
    h.set({ ready: [pod.dest], notReady: [dead], clusterIP: service.dest });
    t.deepEqual(h.last(), { dests: [], clusterIPDest: service.dest, readyBackends: 1 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    t.is(pod.hits, podHits);

    // Scaled to zero: the ClusterIP state resets and the ClusterIP (not the pods) is probed again.
    const serviceHits = service.hits;
    h.set({ ready: [], notReady: [], clusterIP: service.dest });
    t.deepEqual(h.last(), { dests: [], readyBackends: 0 });
    h.set({ ready: [pod.dest], notReady: [], clusterIP: service.dest });
    await until(() => h.last()?.clusterIPDest === service.dest, 'ClusterIP mode again');
    t.is(service.hits, serviceHits + 1);
    t.is(pod.hits, podHits);
  } finally {
    h.backends.close();
    await closePods([pod, service]);
  }
});

test('no fallback when a pod answered something other than 502/503', async (t) => {
  const meshy = await startPod({ status: 502, body: '' });
  const broken = await startPod({ status: 500, body: 'boom' });
  const service = await startPod(QUEUE);
  const h = harness();
  try {
    h.set({ ready: [meshy.dest, broken.dest], notReady: [], clusterIP: service.dest });
    await until(() => broken.hits >= 3, 'three rounds');
    t.is(service.hits, 0);
    t.false(h.updates.some((u) => u.clusterIPDest !== undefined || u.dests.length > 0));
  } finally {
    h.backends.close();
    await closePods([meshy, broken, service]);
  }
});

test('mesh mode disabled never falls back', async (t) => {
  const pod = await startPod(UNAVAILABLE);
  const service = await startPod(QUEUE);
  const h = harness({ meshMode: 'disabled' });
  try {
    h.set({ ready: [], notReady: [pod.dest], clusterIP: service.dest });
    await until(() => pod.hits >= 3, 'three rounds');
    t.is(service.hits, 0);
    t.false(h.updates.some((u) => u.clusterIPDest !== undefined));
  } finally {
    h.backends.close();
    await closePods([pod, service]);
  }
});

test('mesh mode not auto: ready pods are trusted without a probe, not-ready ones are probed', async (t) => {
  const ready = await startPod({ status: 500, body: 'would fail' });
  const notReady = await startPod(QUEUE);
  const h = harness({ meshMode: 'disabled' });
  try {
    h.set({ ready: [ready.dest], notReady: [notReady.dest] });
    t.deepEqual(h.last(), { dests: [ready.dest], readyBackends: 1 });
    await h.waitUpdate(hasDests(ready.dest, notReady.dest), 'not-ready pod probed healthy');
    t.is(ready.hits, 0);
    t.is(notReady.hits, 1);
  } finally {
    h.backends.close();
    await closePods([ready, notReady]);
  }
});

test('mesh mode enabled goes straight to the ClusterIP without probing pods', async (t) => {
  const pod = await startPod(QUEUE);
  const service = await startPod(UNAVAILABLE);
  const h = harness({ meshMode: 'enabled' });
  try {
    h.set({ ready: [pod.dest], notReady: [], clusterIP: service.dest });
    // The ClusterIP is re-probed on the timer until it answers.
    await until(() => service.hits >= 2, 'ClusterIP re-probed');
    t.false(h.updates.some((u) => u.clusterIPDest !== undefined || u.dests.length > 0));
    service.answer = QUEUE;
    t.deepEqual(await h.waitUpdate((u) => u.clusterIPDest !== undefined, 'ClusterIP mode'), { dests: [], clusterIPDest: service.dest, readyBackends: 1 });
    t.is(pod.hits, 0);
  } finally {
    h.backends.close();
    await closePods([pod, service]);
  }
});

test('passthrough LB: probes carry the private service Host and K-Passthrough-Lb, and never fall back', async (t) => {
  const good = await startPod(QUEUE);
  const meshy = await startPod(UNAVAILABLE);
  const service = await startPod(QUEUE);
  const h = harness({ passthroughLb: true });
  try {
    h.set({ ready: [good.dest], notReady: [], clusterIP: service.dest });
    await h.waitUpdate(hasDests(good.dest), 'pod healthy');
    t.is(good.requests[0]?.headers.host, `${REV}-private.${NS}`);
    t.is(good.requests[0]?.headers['k-passthrough-lb'], 'true');
    t.is(good.requests[0]?.headers['k-network-probe'], 'queue');

    h.set({ ready: [meshy.dest], notReady: [], clusterIP: service.dest });
    await until(() => meshy.hits >= 3, 'three rounds');
    t.is(service.hits, 0);
    t.deepEqual(h.last(), { dests: [], readyBackends: 1 });
  } finally {
    h.backends.close();
    await closePods([good, meshy, service]);
  }
});

test('revisions known before start are synced on request; close stops the re-probe timer', async (t) => {
  const pod = await startPod(UNAVAILABLE);
  const source = new StaticBackendSource();
  source.setRevision(revision);
  source.setEndpoints(NS, REV, { ready: [pod.dest], notReady: [] });
  const updates: BackendUpdate[] = [];
  const backends = new RevisionBackends({ source, log, probeFrequencyMs: 10, probeTimeoutMs: 100, onUpdate: (_ns, _name, u) => updates.push(u) });
  try {
    backends.start();
    t.is(updates.length, 0);
    backends.sync(NS, REV);
    t.deepEqual(updates, [{ dests: [], readyBackends: 1 }]);
    await until(() => pod.hits >= 2, 'two rounds');
    backends.close();
    const hits = pod.hits;
    await new Promise((resolve) => setTimeout(resolve, 60));
    // At most the probe already on the wire when close ran.
    t.true(pod.hits <= hits + 1);
    t.deepEqual(backends.healthy(NS, REV), []);
    source.setEndpoints(NS, REV, { ready: [], notReady: [] });
    t.is(updates.length, 1);
  } finally {
    backends.close();
    await closePods([pod]);
  }
});
