// `knts serve` end to end with real processes: a folder of manifests on disk, the runtime
// in-process with ephemeral ports, pods as child processes behind real queue-proxies, and short
// autoscaling windows from a config map in the folder.
import test from 'ava';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startServe, type RunningServe } from '../../runtime/serve.ts';
import { REPO_ROOT, knts } from '../helpers/cli.ts';
import { httpGet } from '../helpers/queue-proxy.ts';
import { until } from '../helpers/activator.ts';

const APP = join(REPO_ROOT, 'examples/hello/app.js');

const configMaps = `
apiVersion: v1
kind: ConfigMap
metadata: {name: config-autoscaler, namespace: knative-serving}
data:
  stable-window: "6s"
  scale-to-zero-grace-period: "1s"
  scale-to-zero-pod-retention-period: "0s"
  allow-zero-initial-scale: "true"
`;

function service(name: string, opts: { target?: string; annotations?: Record<string, string>; cc?: number; traffic?: string } = {}): string {
  const annotations = Object.entries(opts.annotations ?? {}).map(([k, v]) => `        ${k}: "${v}"`).join('\n');
  return `
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  template:
    metadata:
      annotations:
${annotations || '        {}'}
    spec:
      containerConcurrency: ${opts.cc ?? 0}
      containers:
        - image: example.com/hello
          command: ["${process.execPath}", "${APP}"]
          env: [{name: TARGET, value: "${opts.target ?? 'one'}"}]
${opts.traffic ?? ''}`;
}

interface ServedDir {
  readonly dir: string;
  readonly s: RunningServe;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  write(name: string, text: string): Promise<void>;
  /** Saves as many editors do: a new file renamed over the old one. */
  save(name: string, text: string): Promise<void>;
  close(): Promise<void>;
}

async function serveDir(files: Record<string, string>): Promise<ServedDir> {
  const dir = await mkdtemp(join(tmpdir(), 'knts-serve-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (d: Buffer) => (output += d.toString()));
  const s = await startServe({ dir, port: 0, adminPort: 0, host: '127.0.0.1', stdout: sink, stderr: sink });
  return {
    dir,
    s,
    output: () => output,
    write: (name, text) => writeFile(join(dir, name), text),
    async save(name, text) {
      await writeFile(join(dir, `.${name}.swp`), text);
      await rename(join(dir, `.${name}.swp`), join(dir, name));
    },
    async close() {
      await s.close();
      await rm(dir, { recursive: true, force: true });
      // Every pod process (apps, queue-proxies, warm sidecars) is gone once close() resolves.
      const left = process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
      if (left > 0) throw new Error(`${left} child processes still running after close()`);
    },
  };
}

const get = (s: RunningServe, host: string, path = '/'): ReturnType<typeof httpGet> => httpGet(s.ports.ingress, path, { host });
const revisionStatus = (s: RunningServe, name: string) => s.status().revisions.find((r) => r.name === name);
/** The route sends traffic to `revision` (the ingress has been programmed). */
const routedTo = (s: RunningServe, route: string, revision: string): boolean => s.status().services.some((x) => x.name === route && x.traffic.some((t) => t.revision === revision));

test.serial('scale from zero: the first request succeeds; pods go 0 → 1 → 0 when idle; knts status shows it', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { annotations: { 'autoscaling.knative.dev/initial-scale': '0' } }) });
  try {
    // Initial scale 0: no pod until a request comes.
    t.true(await until(() => revisionStatus(d.s, 'hello-00001') !== undefined));
    t.is(revisionStatus(d.s, 'hello-00001')?.desiredPods, 0);
    const r = await get(d.s, 'hello.default.example.com');
    t.deepEqual([r.status, r.body], [200, 'Hello one! (hello-00001)\n']);
    t.is(revisionStatus(d.s, 'hello-00001')?.readyPods, 1);
    const status = await knts(['status', '--admin-port', String(d.s.ports.admin)]);
    t.is(status.code, 0, status.stderr);
    t.regex(status.stdout, /Service default\/hello {2}http:\/\/hello\.default\.example\.com/);
    t.regex(status.stdout, /default\/hello-00001 +hello +100% +True +1\/1 +(Proxy|Serve)/);
    const json = JSON.parse((await knts(['status', '--json', '--admin-port', String(d.s.ports.admin)])).stdout) as { revisions: { name: string; readyPods: number }[] };
    t.is(json.revisions[0]?.readyPods, 1);
    // Idle: after the 6 s stable window and the 1 s grace the pod is gone.
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.readyPods === 0 && revisionStatus(d.s, 'hello-00001')?.desiredPods === 0, 40_000));
    t.is((await get(d.s, 'hello.default.example.com')).status, 200);
  } finally {
    await d.close();
  }
});

/** Sends `n` requests, `concurrency` at a time; returns the bodies and statuses. */
async function load(s: RunningServe, host: string, n: number, concurrency: number, path = '/'): Promise<{ status: number; body: string }[]> {
  const out: { status: number; body: string }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const r = await get(s, host, path).catch((err: Error) => ({ status: 0, body: err.message }));
      out.push({ status: r.status, body: r.body });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

const configuration = (name: string, target: string): string => `
apiVersion: serving.knative.dev/v1
kind: Configuration
metadata: {name: ${name}, namespace: default}
spec:
  template:
    spec:
      containers: [{image: example.com/hello, command: ["${process.execPath}", "${APP}"], env: [{name: TARGET, value: ${target}}]}]
`;

const canary = (extra: string): Record<string, string> => ({
  'config.yaml': configMaps,
  'canary.yaml': `${configuration('canary-v1', 'v1')}---${configuration('canary-v2', 'v2')}---
apiVersion: serving.knative.dev/v1
kind: Route
metadata: {name: canary, namespace: default}
spec:
  traffic:
    - {configurationName: canary-v1, percent: 90, tag: stable}
    - {configurationName: canary-v2, percent: 10, tag: candidate}
${extra}`,
});

test.serial('a 90/10 split holds over 2,000 requests; each tag host always reaches its revision; a traffic edit re-routes', async (t) => {
  const d = await serveDir(canary(''));
  try {
    t.true(await until(() => d.s.status().services.some((s) => s.name === 'canary' && s.traffic.length === 2), 20_000), JSON.stringify(d.s.status()));
    const replies = await load(d.s, 'canary.default.example.com', 2000, 20);
    t.true(replies.every((r) => r.status === 200), JSON.stringify(replies.find((r) => r.status !== 200)));
    const v2 = replies.filter((r) => r.body.startsWith('Hello v2!')).length;
    // Binomial(2000, 0.1): mean 200, sd 13.4; ±5 sd.
    t.true(v2 > 133 && v2 < 267, `v2 got ${v2} of 2000`);
    t.is(replies.filter((r) => r.body.startsWith('Hello v1!')).length, 2000 - v2);
    for (const [tag, target] of [['stable', 'v1'], ['candidate', 'v2']] as const) {
      const tagged = await load(d.s, `${tag}-canary.default.example.com`, 100, 10);
      t.true(tagged.every((r) => r.status === 200 && r.body.startsWith(`Hello ${target}!`)), `${tag}: ${JSON.stringify(tagged.find((r) => !r.body.startsWith(`Hello ${target}!`)))}`);
    }
    const status = d.s.status().services.find((s) => s.name === 'canary');
    t.deepEqual(status?.traffic.map((x) => [x.revision, x.percent, x.tag, x.url]), [
      ['canary-v1-00001', 90, 'stable', 'http://stable-canary.default.example.com'],
      ['canary-v2-00001', 10, 'candidate', 'http://candidate-canary.default.example.com'],
    ]);
    // Editing the traffic block re-routes at once: everything to the candidate.
    await d.write('canary.yaml', canary('')['canary.yaml']!.replace('percent: 90', 'percent: 0').replace('percent: 10', 'percent: 100'));
    t.true(await until(() => d.s.status().services.find((s) => s.name === 'canary')?.traffic[1]?.percent === 100, 5000));
    const moved = await load(d.s, 'canary.default.example.com', 50, 5);
    t.true(moved.every((r) => r.body.startsWith('Hello v2!')), JSON.stringify(moved.find((r) => !r.body.startsWith('Hello v2!'))));
    t.is((await get(d.s, 'stable-canary.default.example.com')).body, 'Hello v1! (canary-v1-00001)\n', 'a 0 % target stays reachable through its tag');
  } finally {
    await d.close();
  }
});

test.serial('a load step scales out, then back in', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { annotations: { 'autoscaling.knative.dev/target': '1' } }) });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    // 6 requests in flight at all times for 4 s against a target of 1 per pod.
    const end = performance.now() + 4000;
    const busy = async (): Promise<number> => {
      let failed = 0;
      while (performance.now() < end) if ((await get(d.s, 'hello.default.example.com', '/?sleep=300')).status !== 200) failed++;
      return failed;
    };
    const failures = await Promise.all(Array.from({ length: 6 }, busy));
    t.deepEqual(failures, Array(6).fill(0));
    t.true((revisionStatus(d.s, 'hello-00001')?.desiredPods ?? 0) >= 3, JSON.stringify(revisionStatus(d.s, 'hello-00001')));
    t.true(await until(() => (revisionStatus(d.s, 'hello-00001')?.readyPods ?? 0) >= 3, 10_000));
    // Idle again: back in (to zero, after the stable window and the grace period).
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.desiredPods === 0, 40_000), JSON.stringify(revisionStatus(d.s, 'hello-00001')));
  } finally {
    await d.close();
  }
});

test.serial('rolling out a new revision under steady load fails no request; an invalid edit keeps the old state serving', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { target: 'one' }) });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    let stop = false;
    const seen = new Set<string>();
    const results: number[] = [];
    const steady = async (): Promise<void> => {
      while (!stop) {
        const r = await get(d.s, 'hello.default.example.com', '/?sleep=20').catch(() => ({ status: 0, body: '' }));
        results.push(r.status);
        seen.add(r.body);
      }
    };
    const loaders = Array.from({ length: 4 }, steady);
    await new Promise((r) => setTimeout(r, 500));
    await d.write('hello.yaml', service('hello', { target: 'two' }));
    t.true(await until(() => seen.has('Hello two! (hello-00002)\n'), 20_000));
    // Traffic has moved; the old revision is no longer routed and scales to zero.
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.desiredPods === 0, 20_000), JSON.stringify(d.s.status().revisions));
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(loaders);
    t.true(results.length > 50);
    t.deepEqual(results.filter((s) => s !== 200), []);

    // A broken edit: reported, and the last good state keeps serving.
    await d.write('hello.yaml', 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: hello\nspec: [');
    t.true(await until(() => d.s.status().errors.some((e) => e.includes('hello.yaml') && e.includes('invalid YAML')), 5000), JSON.stringify(d.s.status().errors));
    const r = await get(d.s, 'hello.default.example.com');
    t.deepEqual([r.status, r.body], [200, 'Hello two! (hello-00002)\n']);
    // An invalid but well-formed edit gets the webhook's message.
    await d.write('hello.yaml', service('hello', { target: 'three', cc: 5000 }));
    t.true(await until(() => d.s.status().errors.some((e) => e.includes('expected 0 <= 5000 <= 1000: spec.template.spec.containerConcurrency')), 5000), JSON.stringify(d.s.status().errors));
    t.is((await get(d.s, 'hello.default.example.com')).body, 'Hello two! (hello-00002)\n');
  } finally {
    await d.close();
  }
});

test.serial('an app that crashes under load restarts, and no request hangs', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { annotations: { 'autoscaling.knative.dev/min-scale': '1' } }) });
  try {
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.readyPods === 1 && routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    // Steady load for 3 s; the app crashes 100 ms in. Every request must come back, quickly.
    const end = performance.now() + 3000;
    const results: { status: number; ms: number }[] = [];
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        const r = await get(d.s, 'hello.default.example.com', '/?sleep=20').catch(() => ({ status: 0, ms: 0 }));
        results.push({ status: r.status, ms: r.ms });
        if (r.status !== 200) await new Promise((w) => setTimeout(w, 20));
      }
    };
    const during = Promise.all(Array.from({ length: 8 }, worker));
    await new Promise((r) => setTimeout(r, 100));
    const crash = await get(d.s, 'hello.default.example.com', '/?crash=1');
    t.is(crash.status, 500);
    await during;
    const slowest = Math.max(...results.map((r) => r.ms));
    t.true(slowest < 5000, `slowest request ${slowest} ms`);
    const statuses = [...new Set(results.map((r) => r.status))].sort();
    // While the app is down its queue-proxy answers 502 (connection refused), as in Knative.
    t.true(statuses.every((st) => st === 200 || st === 502 || st === 503), statuses.join());
    t.log(`${results.filter((r) => r.status !== 200).length} of ${results.length} failed while the app restarted`);
    // The app came back in the same pod: requests succeed again.
    t.regex(d.output(), /^\[hello-00001-deployment-[0-9a-f]{5} user-container\] exited \(code 3\); restarting$/m);
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.readyPods === 1, 20_000));
    const after = await load(d.s, 'hello.default.example.com', 20, 4);
    t.true(after.every((r) => r.status === 200), JSON.stringify(after.find((r) => r.status !== 200)));
  } finally {
    await d.close();
  }
});

test.serial('cluster-local routes stay off the public port; the ingress probe gets the route hash echoed', async (t) => {
  const local = service('private').replace('metadata: {name: private, namespace: default}', 'metadata: {name: private, namespace: default, labels: {networking.knative.dev/visibility: cluster-local}}');
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello'), 'private.yaml': local });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001') && routedTo(d.s, 'private', 'private-00001'), 20_000), JSON.stringify(d.s.status()));
    const svc = d.s.status().services.find((s) => s.name === 'private');
    t.deepEqual([svc?.url, svc?.visibility], ['http://private.default.svc.cluster.local', 'cluster-local']);
    const outside = await get(d.s, 'private.default.svc.cluster.local');
    t.deepEqual([outside.status, outside.body], [404, 'no route for host "private.default.svc.cluster.local"\n']);
    const inside = await httpGet(d.s.ports.internal, '/', { host: 'private.default.svc.cluster.local' });
    t.deepEqual([inside.status, inside.body], [200, 'Hello one! (private-00001)\n']);

    // Spec §6.2: the prober sends K-Network-Hash: override; the backend echoes the route's hash.
    const hash = d.s.controlPlane.ingress.hashFor('hello.default.example.com');
    t.regex(hash ?? '', /^[0-9a-f]{64}$/);
    const probe = await httpGet(d.s.ports.ingress, '/healthz', { host: 'hello.default.example.com', 'k-network-probe': 'probe', 'k-network-hash': 'override', 'user-agent': 'Knative-Ingress-Probe' });
    t.is(probe.status, 200);
    t.is(probe.headers['k-network-hash'], hash);
  } finally {
    await d.close();
  }
});

test.serial('the activator leaves the path (Serve) once there is burst capacity, and comes back (Proxy) at zero', async (t) => {
  // Target burst capacity 0: the KPA puts the revision in Serve mode as soon as it has a pod.
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { annotations: { 'autoscaling.knative.dev/target-burst-capacity': '0' } }) });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.mode === 'Serve', 10_000), JSON.stringify(revisionStatus(d.s, 'hello-00001')));
    // In Serve mode requests go straight to the pod's queue-proxy: no activator Server-Timing.
    const direct = await get(d.s, 'hello.default.example.com');
    t.is(direct.status, 200);
    t.is(direct.headers['server-timing'], undefined);
    // Idle: scaled to zero, the revision is in Proxy mode and the activator answers again.
    t.true(await until(() => revisionStatus(d.s, 'hello-00001')?.desiredPods === 0 && revisionStatus(d.s, 'hello-00001')?.mode === 'Proxy', 40_000));
    const cold = await get(d.s, 'hello.default.example.com');
    t.is(cold.status, 200);
    t.regex(String(cold.headers['server-timing']), /^activator-queued;dur=/);
  } finally {
    await d.close();
  }
});

test.serial('edits apply live: editor saves (a file renamed over the old one), config-autoscaler and config-domain; pod output is prefixed', async (t) => {
  // min-scale 1: the routed revision keeps a pod, so the autoscaler keeps deciding for it.
  const hello = (target: string): string => service('hello', { target, annotations: { 'autoscaling.knative.dev/min-scale': '1' } });
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': hello('one') });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    t.regex(d.output(), /^\[hello-00001-deployment-[0-9a-f]{5} user-container\] hello: listening on \d+$/m);
    // Twice: a watcher that follows the file's inode goes deaf after the first rename.
    for (const [target, revision] of [['two', 'hello-00002'], ['three', 'hello-00003']] as const) {
      await d.save('hello.yaml', hello(target));
      t.true(await until(() => routedTo(d.s, 'hello', revision), 20_000), `${revision}: ${JSON.stringify(d.s.status())}`);
      t.is((await get(d.s, 'hello.default.example.com')).body, `Hello ${target}! (${revision})\n`);
    }
    // The running revision's autoscaler follows a config-autoscaler edit: target 100 × 70 % → 10 × 70 %.
    const key = 'default/hello-00003';
    t.true(await until(() => d.s.controlPlane.decisions.get(key)?.target === 70, 10_000), JSON.stringify(d.s.controlPlane.decisions.get(key)));
    await d.save('config.yaml', configMaps.replace('\ndata:', '\ndata:\n  container-concurrency-target-default: "10"'));
    t.true(await until(() => d.s.controlPlane.decisions.get(key)?.target === 7, 10_000), JSON.stringify([d.s.controlPlane.decisions.get(key), d.s.status().errors]));
    // A config-domain edit moves the host.
    await d.write('domain.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-domain, namespace: knative-serving}\ndata: {knative.test: ""}\n');
    t.true(await until(() => d.s.status().services[0]?.url === 'http://hello.default.knative.test', 5000), JSON.stringify(d.s.status().services));
    t.is((await get(d.s, 'hello.default.knative.test')).body, 'Hello three! (hello-00003)\n');
    t.is((await get(d.s, 'hello.default.example.com')).status, 404);
    t.deepEqual(
      d.s.status().revisions.map((r) => r.name),
      ['hello-00001', 'hello-00002', 'hello-00003'],
    );
  } finally {
    await d.close();
  }
});

test.serial('a Service deleted and added again is a new revision: not ready until its pod is', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello', { target: 'one' }) });
  try {
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    await rm(join(d.dir, 'hello.yaml'));
    await d.s.reload();
    t.deepEqual([d.s.status().services, d.s.status().revisions], [[], []]);
    t.is((await get(d.s, 'hello.default.example.com')).status, 404);
    await d.write('hello.yaml', service('hello', { target: 'two' }));
    await d.s.reload();
    t.like(revisionStatus(d.s, 'hello-00001'), { ready: false, percent: 0 });
    t.false(routedTo(d.s, 'hello', 'hello-00001'));
    t.true(await until(() => routedTo(d.s, 'hello', 'hello-00001'), 20_000));
    t.like(revisionStatus(d.s, 'hello-00001'), { ready: true, percent: 100 });
    t.is((await get(d.s, 'hello.default.example.com')).body, 'Hello two! (hello-00001)\n');
  } finally {
    await d.close();
  }
});

test.serial('an app whose command cannot start is retried with backoff, as a crash is', async (t) => {
  const d = await serveDir({ 'config.yaml': configMaps, 'hello.yaml': service('hello').replace(`command: ["${process.execPath}", "${APP}"]`, 'command: ["./no-such-program"]') });
  try {
    const failures = (): number => d.output().match(/user-container\] failed to start: spawn \.\/no-such-program ENOENT; restarting/g)?.length ?? 0;
    t.true(await until(() => failures() >= 3, 10_000), d.output());
    t.like(revisionStatus(d.s, 'hello-00001'), { ready: false, readyPods: 0, desiredPods: 1 });
  } finally {
    await d.close();
  }
});
