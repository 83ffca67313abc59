// The embedded runtime's control plane with real processes: a revision's pod (the hello app
// behind a real queue-proxy) serves through the ingress and the activator, the first request to
// a revision at zero scales it up, and idle revisions go back to zero.
import test from 'ava';
import { join } from 'node:path';
import pino from 'pino';
import { effectiveConfig } from '../../config/configmaps.ts';
import { startControlPlane } from '../../runtime/control-plane.ts';
import type { LocalRevision } from '../../runtime/local-cluster.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { httpGet } from '../helpers/queue-proxy.ts';
import { until } from '../helpers/activator.ts';

const fastScaling = effectiveConfig([
  {
    name: 'config-autoscaler',
    namespace: 'knative-serving',
    origin: 'test',
    data: { 'stable-window': '6s', 'scale-to-zero-grace-period': '1s', 'scale-to-zero-pod-retention-period': '0s' },
  },
]).config;

const hello = (overrides: Partial<LocalRevision> = {}): LocalRevision => ({
  namespace: 'default',
  name: 'hello-00001',
  configuration: 'hello',
  service: 'hello',
  spec: { containers: [{ name: 'user-container', image: 'x', command: [process.execPath, 'app.js'] }], containerConcurrency: 0, timeoutSeconds: 30 },
  annotations: {},
  labels: {},
  cwd: join(REPO_ROOT, 'examples/hello'),
  reachable: true,
  ...overrides,
});

test('a revision serves through ingress → activator → queue-proxy → app, then scales to zero and back', async (t) => {
  const cp = await startControlPlane({ host: '127.0.0.1', port: 0, internalPort: 0, config: () => fastScaling, log: pino({ level: 'silent' }), podLog: () => undefined });
  try {
    cp.apply([hello()], [{ host: 'hello.default.example.com', namespace: 'default', route: 'hello', visibility: 'external', targets: [{ revision: 'hello-00001', percent: 100 }] }]);
    const r = await httpGet(cp.ports.ingress, '/', { host: 'hello.default.example.com' });
    t.is(r.status, 200);
    t.is(r.body, 'Hello World! (hello-00001)\n');
    const unknown = await httpGet(cp.ports.ingress, '/', { host: 'nope.example.com' });
    t.deepEqual([unknown.status, unknown.body], [404, 'no route for host "nope.example.com"\n']);
    // Idle: the stable window (6 s) passes, the grace period (1 s) too, and the pod goes.
    t.true(await until(() => cp.cluster.status('default/hello-00001')?.pods === 0, 30_000), JSON.stringify(cp.cluster.status('default/hello-00001')));
    // Scale from zero: the request waits in the activator until a new pod is ready.
    const cold = await httpGet(cp.ports.ingress, '/', { host: 'hello.default.example.com' });
    t.is(cold.status, 200);
    t.is(cp.cluster.status('default/hello-00001')?.ready, 1);
  } finally {
    await cp.close();
  }
});
