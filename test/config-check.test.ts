// `knts config check` end to end: valid files print the effective configuration as JSON;
// invalid input prints every error and exits 1.
import test from 'ava';
import { knts, runNode, tempFiles } from './helpers/cli.ts';

const autoscaler = (data: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: config-autoscaler
  namespace: knative-serving
data:
${data}`;

test('a valid multi-document file prints the effective config', async (t) => {
  const f = await tempFiles({
    'cm.yaml': `${autoscaler('  stable-window: "2m"\n  container-concurrency-target-percentage: "1"\n')}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-domain
data:
  example.org: ""
  internal.example.org: |
    selector:
      app: internal
`,
  });
  const r = await knts(['config', 'check', f['cm.yaml']!]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
  t.is(out['config-autoscaler']?.['stableWindow'], '2m0s');
  t.is(out['config-autoscaler']?.['containerConcurrencyTargetFraction'], 1);
  t.is(out['config-autoscaler']?.['targetBurstCapacity'], 211);
  t.deepEqual(out['config-domain'], { 'example.org': { selector: {} }, 'internal.example.org': { selector: { app: 'internal' } } });
  t.is(out['config-defaults']?.['revisionTimeoutSeconds'], 300);
});

test('several files combine', async (t) => {
  const f = await tempFiles({
    'a.yaml': autoscaler('  min-scale: "1"\n'),
    'b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-defaults\ndata:\n  container-concurrency: "4"\n',
  });
  const r = await knts(['config', 'check', f['a.yaml']!, f['b.yaml']!]);
  t.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
  t.is(out['config-autoscaler']?.['minScale'], 1);
  t.is(out['config-defaults']?.['containerConcurrency'], 4);
});

test('stdin is read with "-"', async (t) => {
  const r = await knts(['config', 'check', '-'], autoscaler('  max-scale: "7"\n'));
  t.is(r.code, 0, r.stderr);
  t.is((JSON.parse(r.stdout) as Record<string, Record<string, unknown>>)['config-autoscaler']?.['maxScale'], 7);
});

test('invalid values: every error is printed and the exit code is 1', async (t) => {
  const f = await tempFiles({ 'bad.yaml': autoscaler('  stable-window: "3s"\n  max-scale-up-rate: "1"\n  enable-scale-to-zero: "maybe"\n') });
  const r = await knts(['config', 'check', f['bad.yaml']!]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  t.deepEqual(r.stderr.trim().split('\n'), [
    'error: config-autoscaler: enable-scale-to-zero: "maybe" must be a boolean (true or false)',
    'error: config-autoscaler: max-scale-up-rate: "1" must be greater than 1',
    'error: config-autoscaler: stable-window: "3s" must be between 6s and 1h0m0s',
    '3 errors',
  ]);
});

test('malformed YAML: file, line and column', async (t) => {
  const f = await tempFiles({ 'm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-autoscaler\n' });
  const r = await knts(['config', 'check', f['m.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /^error: \/.*m\.yaml:\d+:\d+: invalid YAML: /m);
});

test('an empty file is an error', async (t) => {
  const f = await tempFiles({ 'e.yaml': '# nothing here\n' });
  const r = await knts(['config', 'check', f['e.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /e\.yaml: no YAML documents: expected one or more ConfigMaps/);
});

test('the wrong kind is an error naming the document line', async (t) => {
  const f = await tempFiles({ 'k.yaml': `${autoscaler('  min-scale: "1"\n')}---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello\n` });
  const r = await knts(['config', 'check', f['k.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /k\.yaml:9: kind "Service" is not a ConfigMap/);
});

test('unknown config map names are reported', async (t) => {
  const f = await tempFiles({ 'u.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscalar\ndata: {}\n' });
  const r = await knts(['config', 'check', f['u.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /unknown config map "config-autoscalar"/);
});

test('unknown keys are warnings on stderr; the config still prints', async (t) => {
  const f = await tempFiles({ 'w.yaml': autoscaler('  stable-windw: "10s"\n') });
  const r = await knts(['config', 'check', f['w.yaml']!]);
  t.is(r.code, 0);
  t.is(r.stderr, 'warning: config-autoscaler: stable-windw: "10s" is not a key of this map and is ignored\n');
  t.truthy(JSON.parse(r.stdout));
});

test('a missing file is an error, and other files are still checked', async (t) => {
  const f = await tempFiles({ 'bad.yaml': autoscaler('  stable-window: "1s"\n') });
  const r = await knts(['config', 'check', '/nonexistent/x.yaml', f['bad.yaml']!]);
  t.is(r.code, 1);
  t.regex(r.stderr, /error: \/nonexistent\/x\.yaml: cannot read: ENOENT/);
  t.regex(r.stderr, /stable-window: "1s" must be between 6s and 1h0m0s/);
});

test('--cluster-domain sets the default domain of config-domain', async (t) => {
  const r = await knts(['config', 'check', '--cluster-domain', 'corp.internal', '-'], autoscaler('  min-scale: "0"\n'));
  t.is(r.code, 0, r.stderr);
  t.deepEqual((JSON.parse(r.stdout) as Record<string, unknown>)['config-domain'], { 'svc.corp.internal': { selector: {} } });
});

test('config/main.ts is the same check as an entry point', async (t) => {
  const r = await runNode('config/main.ts', ['-'], autoscaler('  stable-window: "3s"\n'));
  t.is(r.code, 1);
  t.regex(r.stderr, /stable-window: "3s" must be between 6s and 1h0m0s/);
});
