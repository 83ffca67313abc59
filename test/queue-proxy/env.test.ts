// The queue-proxy's environment: Knative's variables with envconfig's rules, our local
// overrides, and a clear exit 1 naming the variable when one is missing or bad.
import test from 'ava';
import { parseQueueEnv } from '../../queue-proxy/env.ts';
import { queueProxyEnv, startQueueProxy } from '../helpers/queue-proxy.ts';
import { runNode } from '../helpers/cli.ts';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';

const base = queueProxyEnv(8080);

test('a complete environment parses with Knative defaults for the optional variables', (t) => {
  const r = parseQueueEnv(base);
  t.true(r.ok);
  if (!r.ok) return;
  t.like(r.env, {
    containerConcurrency: 0,
    userPort: 8080,
    revisionTimeoutSeconds: 30,
    responseStartTimeoutSeconds: 0,
    idleTimeoutSeconds: 0,
    readinessProbe: '',
    enableHttpFullDuplex: false,
    enableHttp2AutoDetection: false,
    namespace: 'default',
    revision: 'hello-00001',
    enableRequestLog: false,
    requestMetrics: { protocol: 'none', endpoint: '' },
    drainQuietPeriodMs: 30_000,
    hijackedDrainTimeoutMs: 60_000,
    upgradeTimeoutExempt: false,
  });
});

test('ints follow Go strconv base 0 (hex, octal, underscores)', (t) => {
  const r = parseQueueEnv({ ...base, CONTAINER_CONCURRENCY: '0x10', REVISION_TIMEOUT_SECONDS: '1_000' });
  t.true(r.ok && r.env.containerConcurrency === 16 && r.env.revisionTimeoutSeconds === 1000);
});

// [variable, value (undefined = unset), expected message]
const bad: [string, string | undefined, string][] = [
  ['CONTAINER_CONCURRENCY', undefined, 'CONTAINER_CONCURRENCY: required but not set'],
  ['CONTAINER_CONCURRENCY', 'ten', 'CONTAINER_CONCURRENCY: "ten" is not an integer'],
  ['CONTAINER_CONCURRENCY', '-1', 'CONTAINER_CONCURRENCY: "-1" must be at least 0'],
  ['QUEUE_SERVING_PORT', undefined, 'QUEUE_SERVING_PORT: required but not set'],
  ['USER_PORT', '99999', 'USER_PORT: "99999" is not a port number (0-65535)'],
  ['REVISION_TIMEOUT_SECONDS', '1.5', 'REVISION_TIMEOUT_SECONDS: "1.5" is not an integer'],
  ['REVISION_IDLE_TIMEOUT_SECONDS', 'x', 'REVISION_IDLE_TIMEOUT_SECONDS: "x" is not an integer'],
  ['ENABLE_HTTP_FULL_DUPLEX', 'yes', 'ENABLE_HTTP_FULL_DUPLEX: "yes" is not a boolean (true or false)'],
  ['SERVING_REVISION', undefined, 'SERVING_REVISION: required but not set'],
  ['SERVING_LOGGING_LEVEL', undefined, 'SERVING_LOGGING_LEVEL: required but not set'],
  ['OBSERVABILITY_CONFIG', '{nope', 'OBSERVABILITY_CONFIG: invalid JSON: Expected property name or \'}\' in JSON at position 1 (line 1 column 2)'],
  ['KNTS_DRAIN_QUIET_PERIOD', '10', 'KNTS_DRAIN_QUIET_PERIOD: "10" is not a non-negative duration such as 30s'],
];

for (const [name, value, message] of bad) {
  test(`${name}=${JSON.stringify(value)} is rejected`, (t) => {
    const env: Record<string, string | undefined> = { ...base, [name]: value };
    const r = parseQueueEnv(env);
    t.false(r.ok);
    if (!r.ok) t.deepEqual(r.errors, [message]);
  });
}

test('empty but present required strings are accepted, as envconfig does', (t) => {
  const r = parseQueueEnv({ ...base, SERVING_CONFIGURATION: '', SERVING_LOGGING_LEVEL: '' });
  t.true(r.ok);
});

test('the process exits 1 naming every bad variable', async (t) => {
  const env: Record<string, string> = { ...base, USER_PORT: 'http' };
  delete env['SERVING_POD'];
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'queue-proxy/main.ts')], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  t.is(r.code, 1);
  t.regex(r.stderr, /queue-proxy: USER_PORT: "http" is not a port number/);
  t.regex(r.stderr, /queue-proxy: SERVING_POD: required but not set/);
});

test('a bad readiness probe exits 1 naming SERVING_READINESS_PROBE', async (t) => {
  await t.throwsAsync(startQueueProxy({ ...base, SERVING_READINESS_PROBE: '{"tcpSocket":' }), { message: /SERVING_READINESS_PROBE/ });
});

test('a port already in use exits 1', async (t) => {
  const first = await startQueueProxy(base);
  try {
    await t.throwsAsync(startQueueProxy({ ...base, QUEUE_SERVING_PORT: String(first.serving) }), { message: /exited with 1[\s\S]*EADDRINUSE/ });
  } finally {
    await first.stop();
  }
});

test('knts queue-proxy --help describes the command', async (t) => {
  const r = await runNode('cli/knts.js', ['queue-proxy', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /Usage: knts queue-proxy/);
});
