// `knts serve` end to end with real processes: a folder of manifests on disk, the runtime
// in-process with ephemeral ports, pods as child processes behind real queue-proxies, and short
// autoscaling windows from a config map in the folder.
import test from 'ava';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
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

async function serveDir(files: Record<string, string>): Promise<{ dir: string; s: RunningServe; write(name: string, text: string): Promise<void>; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'knts-serve-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const sink = new PassThrough();
  sink.resume();
  const s = await startServe({ dir, port: 0, adminPort: 0, host: '127.0.0.1', stdout: sink, stderr: sink });
  return {
    dir,
    s,
    write: (name, text) => writeFile(join(dir, name), text),
    async close() {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const get = (s: RunningServe, host: string, path = '/'): ReturnType<typeof httpGet> => httpGet(s.ports.ingress, path, { host });
const revisionStatus = (s: RunningServe, name: string) => s.status().revisions.find((r) => r.name === name);

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
