// The webhook's commands as a user runs them: `knts validate` (defaulted YAML out, or every
// error with file:line and exit 1), `knts routes` (the traffic table), and `knts webhook` as a
// real process answering an AdmissionReview over HTTPS with its self-signed certificate.
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments } from 'yaml';
import { selfSignedCertificate } from '../../webhook/self-signed.ts';
import { knts, REPO_ROOT, runNode, tempFiles } from '../helpers/cli.ts';
import { review, send } from '../helpers/webhook.ts';

const svc = (name: string, spec = '', meta = ''): string => `apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: ${name}
  namespace: default
${meta}spec:
  template:
    spec:
      containers:
        - image: ghcr.io/knative/helloworld-go:latest
${spec}`;

const docs = (text: string): unknown[] => parseAllDocuments(text).map((d) => d.toJS() as unknown);

// ---------------------------------------------------------------------------------------------
// knts validate

test('validate: a valid Service is printed defaulted, exit 0', async (t) => {
  const f = await tempFiles({ 'svc.yaml': svc('hello') });
  const r = await knts(['validate', f['svc.yaml']!]);
  t.is(r.code, 0, r.stderr);
  // Knative's secure-pod-defaults warning: printed, but not a failure.
  t.regex(r.stderr, /^warning: .*svc\.yaml:1: Service\/hello: Kubernetes default value is insecure, Knative may default this to secure in a future release: spec\.template\.spec\.containers\[0\]\.securityContext\.allowPrivilegeEscalation, /);
  t.notRegex(r.stderr, /^error/m);
  const [out] = docs(r.stdout) as { kind: string; spec: { template: { spec: Record<string, unknown> }; traffic: unknown } }[];
  t.is(out?.kind, 'Service');
  t.is(out?.spec.template.spec['timeoutSeconds'], 300);
  t.is((out?.spec.template.spec['containers'] as { name: string }[])[0]?.name, 'user-container');
  t.deepEqual(out?.spec.traffic, [{ latestRevision: true, percent: 100 }]);
});

test('validate: several documents, ConfigMaps configure the defaults, "---" between outputs', async (t) => {
  const f = await tempFiles({
    'all.yaml': `${svc('a')}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-defaults
  namespace: knative-serving
data:
  revision-timeout-seconds: "120"
---
apiVersion: serving.knative.dev/v1
kind: Route
metadata:
  name: r
spec:
  traffic:
    - configurationName: a
      percent: 100
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: unrelated
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-settings
data:
  color: blue
`,
  });
  const r = await knts(['validate', f['all.yaml']!]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.split('\n').filter((l) => l === '---').length, 1);
  const [a, route] = docs(r.stdout) as { kind: string; spec: Record<string, unknown> }[];
  t.is(a?.kind, 'Service');
  t.is((a?.spec['template'] as { spec: Record<string, unknown> }).spec['timeoutSeconds'], 120);
  t.is(route?.kind, 'Route');
  t.regex(r.stderr, /^warning: .*all\.yaml:29: apps\/v1 Deployment is not a Knative Serving resource; skipped$/m);
  t.regex(r.stderr, /^warning: .*all\.yaml:34: ConfigMap app-settings is not a Knative config map; skipped$/m);
});

test('validate: every error of every invalid resource, with file:line and Kind/name; exit 1', async (t) => {
  const f = await tempFiles({
    'bad.yaml': `${svc('good')}---
${svc('bad', '      containerConcurrency: -1\n      timeoutSeconds: 6000\n').replace('        - image: ghcr.io/knative/helloworld-go:latest\n', '        - image: ghcr.io/knative/helloworld-go:latest\n          ports:\n            - containerPort: 9090\n')}`,
  });
  const r = await knts(['validate', f['bad.yaml']!]);
  t.is(r.code, 1);
  const file = f['bad.yaml']!;
  t.regex(r.stderr, new RegExp(`^error: ${file}:12: Service/bad:\\n`, 'm'));
  t.regex(r.stderr, /^ {2}expected 0 <= -1 <= 1000: spec\.template\.spec\.containerConcurrency$/m);
  t.regex(r.stderr, /^ {2}expected 0 <= 6000 <= 600: spec\.template\.spec\.timeoutSeconds$/m);
  t.regex(r.stderr, /9090/);
  t.regex(r.stderr, /\n1 error\n$/);
  // The valid one is still printed.
  t.deepEqual((docs(r.stdout) as { metadata: { name: string } }[]).map((d) => d.metadata.name), ['good']);
});

test('validate: bad YAML names file, line and column; exit 1', async (t) => {
  const f = await tempFiles({ 'broken.yaml': 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: hello\n' });
  const r = await knts(['validate', f['broken.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /^error: \/.*broken\.yaml:\d+:\d+: invalid YAML: /m);
  t.is(r.stdout, '');
});

test('validate: JSON works, and bad JSON is reported with its line', async (t) => {
  const good = JSON.stringify({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ image: 'img' }] } } } }, null, 2);
  const f = await tempFiles({ 'good.json': good, 'bad.json': '{\n  "apiVersion": "serving.knative.dev/v1",\n  "kind": "Service",\n  "metadata": {"name": "j"\n' });
  const ok = await knts(['validate', f['good.json']!]);
  t.is(ok.code, 0, ok.stderr);
  t.is((docs(ok.stdout)[0] as { metadata: { name: string } }).metadata.name, 'j');
  const bad = await knts(['validate', f['bad.json']!]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^error: \/.*bad\.json:\d+:\d+: invalid YAML: /m);
});

test('validate: stdin with "-", and a bad config map is an error', async (t) => {
  const ok = await knts(['validate', '-'], svc('from-stdin'));
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /name: from-stdin/);
  const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-defaults\ndata:\n  revision-timeout-seconds: "soon"\n';
  const bad = await knts(['validate', '-'], `${cm}---\n${svc('x')}`);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^error: config-defaults: revision-timeout-seconds: "soon" /m);
  t.is(bad.stdout, '');
});

test('validate: a missing file exits 1; no file is a usage error', async (t) => {
  const missing = await knts(['validate', '/nonexistent/x.yaml']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^error: \/nonexistent\/x\.yaml: cannot read: ENOENT$/m);
  const none = await knts(['validate']);
  t.is(none.code, 2);
});

// ---------------------------------------------------------------------------------------------
// knts routes

test('routes: Services, Configurations and a split Route give the aligned table', async (t) => {
  const f = await tempFiles({
    'svc.yaml': svc('hello', '  traffic:\n    - latestRevision: true\n      percent: 100\n      tag: current\n'),
    'route.yaml': `apiVersion: serving.knative.dev/v1
kind: Configuration
metadata:
  name: blue
spec:
  template:
    spec:
      containers:
        - image: ghcr.io/knative/helloworld-go:blue
---
apiVersion: serving.knative.dev/v1
kind: Route
metadata:
  name: split
spec:
  traffic:
    - revisionName: hello-00001
      percent: 60
    - configurationName: blue
      percent: 40
      tag: candidate
`,
  });
  const r = await knts(['routes', '--cluster-domain', 'cluster.local', f['svc.yaml']!, f['route.yaml']!]);
  t.is(r.code, 0, r.stderr);
  t.is(
    r.stdout,
    [
      'HOST                                       REVISION     PERCENT  TAG',
      'hello.default.svc.cluster.local            hello-00001  100%',
      'current-hello.default.svc.cluster.local    hello-00001  100%     current',
      'split.default.svc.cluster.local            hello-00001  60%',
      'split.default.svc.cluster.local            blue-00001   40%',
      'candidate-split.default.svc.cluster.local  blue-00001   100%     candidate',
      '',
    ].join('\n'),
  );
});

test('routes: hosts follow config-domain; a missing configuration is an error, exit 1', async (t) => {
  const f = await tempFiles({
    'all.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: config-domain
data:
  example.com: ""
---
${svc('hello')}---
apiVersion: serving.knative.dev/v1
kind: Route
metadata:
  name: orphan
spec:
  traffic:
    - configurationName: nowhere
      percent: 100
`,
  });
  const r = await knts(['routes', '--cluster-domain', 'cluster.local', f['all.yaml']!]);
  t.is(r.code, 1);
  t.is(r.stdout, ['HOST                       REVISION     PERCENT  TAG', 'hello.default.example.com  hello-00001  100%', ''].join('\n'));
  t.regex(r.stderr, /^error: .*all\.yaml:\d+: Route\/orphan: traffic not assigned: Configuration "nowhere" referenced in traffic not found\.$/m);
});

test('routes: an invalid Service is reported and exits 1', async (t) => {
  const f = await tempFiles({ 's.yaml': svc('bad', '  traffic:\n    - latestRevision: true\n      percent: 50\n') });
  const r = await knts(['routes', f['s.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /Service\/bad:\n {2}.*Traffic targets sum to 50, want 100/);
});

// ---------------------------------------------------------------------------------------------
// knts webhook

test('webhook: without a certificate it is a usage error (exit 2)', async (t) => {
  const r = await knts(['webhook']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^knts webhook: a certificate is required: --tls-cert FILE and --tls-key FILE/);
  const half = await knts(['webhook', '--tls-cert', '/tmp/x.pem']);
  t.is(half.code, 2);
  t.regex(half.stderr, /--tls-cert and --tls-key go together: --tls-key is missing/);
  const both = await knts(['webhook', '--self-signed', '--tls-key', '/tmp/x.pem']);
  t.is(both.code, 2);
});

test('webhook: unreadable certificate files and a bad port exit 1', async (t) => {
  const r = await knts(['webhook', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem', '--port', '0']);
  t.is(r.code, 1);
  t.regex(r.stderr, /^webhook: cannot read \/nonexistent\/[ck]\.pem: ENOENT$/m);
  const port = await knts(['webhook', '--self-signed', '--port', '99999']);
  t.is(port.code, 1);
  t.regex(port.stderr, /--port: "99999" is not a port number/);
});

test('webhook/main.ts is `knts webhook`', async (t) => {
  const [a, b] = await Promise.all([runNode('webhook/main.ts', ['--help']), knts(['webhook', '--help'])]);
  t.is(a.code, 0);
  t.is(a.stdout, b.stdout);
  t.regex(a.stdout, /--self-signed/);
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Starts `knts webhook` as a child and resolves to its port and logged caBundle. */
async function startWebhookProcess(args: readonly string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'cli/knts.js'), 'webhook', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines: string[] = [];
  const ready = await new Promise<{ port: number; caBundle?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webhook did not start: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!line.includes('"webhook listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { port: number; caBundle?: string });
    });
    void exited.then((code) => reject(new Error(`webhook exited ${code}: ${stderr}`)));
  });
  return { child, exited, ready, lines };
}

test('webhook: --self-signed serves reviews with the logged caBundle; SIGTERM exits 0', async (t) => {
  const cm = await tempFiles({ 'defaults.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-defaults\ndata:\n  revision-timeout-seconds: "42"\n' });
  const p = await startWebhookProcess(['--self-signed', '--port', '0', '--host', '127.0.0.1', cm['defaults.yaml']!]);
  try {
    const ca = Buffer.from(p.ready.caBundle ?? '', 'base64').toString('utf8');
    t.regex(ca, /^-----BEGIN CERTIFICATE-----/);
    const out = await review(p.ready.port, ca, '/defaulting', {
      uid: 'u-1',
      kind: { group: 'serving.knative.dev', version: 'v1', kind: 'Service' },
      operation: 'CREATE',
      object: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'x', namespace: 'default' }, spec: { template: { spec: { containers: [{ image: 'img' }] } } } },
    });
    t.true(out.response.allowed);
    const ops = JSON.parse(Buffer.from(out.response.patch ?? '', 'base64').toString()) as { path: string; value: unknown }[];
    t.true(ops.some((o) => o.path === '/spec/template/spec/timeoutSeconds' && o.value === 42), JSON.stringify(ops));
    t.is((await send(p.ready.port, ca, '/healthz', undefined, { method: 'GET', contentType: null })).status, 200);
    // The log line may reach this end of the pipe after the answer does.
    t.true(await until(() => p.lines.some((l) => l.includes('"admission review"') && l.includes('"uid":"u-1"'))));
    p.child.kill('SIGTERM');
    t.is(await p.exited, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('webhook: SIGHUP re-reads the config maps, config-logging\'s webhook level included', async (t) => {
  const maps = (timeout: string, level: string): string =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-defaults\ndata:\n  revision-timeout-seconds: "${timeout}"\n---\n` +
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-logging\ndata:\n  loglevel.webhook: ${level}\n`;
  const f = await tempFiles({ 'maps.yaml': maps('42', 'info') });
  const p = await startWebhookProcess(['--self-signed', '--port', '0', '--host', '127.0.0.1', f['maps.yaml']!]);
  const closed = new Promise<void>((resolve) => p.child.on('close', () => resolve()));
  const ca = Buffer.from(p.ready.caBundle ?? '', 'base64').toString('utf8');
  const timeoutOf = async (uid: string): Promise<unknown> => {
    const out = await review(p.ready.port, ca, '/defaulting', {
      uid,
      kind: { group: 'serving.knative.dev', version: 'v1', kind: 'Service' },
      operation: 'CREATE',
      object: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'x', namespace: 'default' }, spec: { template: { spec: { containers: [{ image: 'img' }] } } } },
    });
    const ops = JSON.parse(Buffer.from(out.response.patch ?? '', 'base64').toString()) as { path: string; value: unknown }[];
    return ops.find((o) => o.path === '/spec/template/spec/timeoutSeconds')?.value;
  };
  try {
    t.is(await timeoutOf('before'), 42);
    await writeFile(f['maps.yaml']!, maps('77', 'error'));
    p.child.kill('SIGHUP');
    // The reload is not logged at the new level: ask until the new default shows.
    let polls = 0;
    while ((await timeoutOf(`poll-${polls}`)) !== 77) {
      t.true(++polls < 200, 'the new config-defaults never applied');
      await new Promise((r) => setTimeout(r, 20));
    }
    t.is(await timeoutOf('after'), 77);
    p.child.kill('SIGTERM');
    t.is(await p.exited, 0);
    await closed; // every line the child wrote has been read
    t.true(p.lines.some((l) => l.includes('"admission review"') && l.includes('"uid":"before"')));
    t.false(p.lines.some((l) => l.includes('"uid":"after"')), 'info lines are off after the reload');
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('webhook: certificate files from the environment', async (t) => {
  const { cert, key } = selfSignedCertificate();
  const f = await tempFiles({ 'tls.crt': cert, 'tls.key': key });
  const p = await startWebhookProcess(['--port', '0', '--host', '127.0.0.1'], { KNTS_WEBHOOK_TLS_CERT: f['tls.crt']!, KNTS_WEBHOOK_TLS_KEY: f['tls.key']! });
  try {
    t.is(p.ready.caBundle, undefined);
    t.is((await send(p.ready.port, cert, '/healthz', undefined, { method: 'GET', contentType: null })).status, 200);
    p.child.kill('SIGTERM');
    t.is(await p.exited, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});
