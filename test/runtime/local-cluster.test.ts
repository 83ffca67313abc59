// The local cluster as the autoscaler sees it, without processes (an unreachable revision starts
// at zero and keeps no warm sidecar): a config-autoscaler edit reaches revisions that already
// run, and a closed cluster takes no new revisions.
import test from 'ava';
import pino from 'pino';
import { effectiveConfig, type EffectiveConfig } from '../../config/configmaps.ts';
import { LocalCluster, type LocalRevision } from '../../runtime/local-cluster.ts';

const autoscalerConfig = (data: Record<string, string>): EffectiveConfig => effectiveConfig([{ name: 'config-autoscaler', namespace: 'knative-serving', origin: 'test', data }]).config;

const parked: LocalRevision = {
  namespace: 'default',
  name: 'hello-00001',
  configuration: 'hello',
  service: 'hello',
  spec: { containers: [{ name: 'user-container', image: 'x', command: ['true'] }], containerConcurrency: 0, timeoutSeconds: 30 },
  annotations: {},
  labels: {},
  cwd: '/',
  reachable: false,
};

function cluster(config: () => EffectiveConfig): LocalCluster {
  return new LocalCluster({ config, queueProxy: { execPath: 'false', args: [] }, log: pino({ level: 'silent' }), podLog: () => undefined });
}

test('a config-autoscaler edit is announced for the revisions that run, so the autoscaler re-reads them', async (t) => {
  let config = autoscalerConfig({});
  const c = cluster(() => config);
  try {
    c.setRevisions([parked]);
    t.is(c.revisions.get('default/hello-00001')?.autoscaling.targetValue, 70);
    const announced: string[] = [];
    c.revisions.subscribe((key) => announced.push(key));
    // The same revisions and config: nothing to announce.
    c.setRevisions([parked]);
    t.deepEqual(announced, []);
    config = autoscalerConfig({ 'container-concurrency-target-default': '10' });
    c.setRevisions([parked]);
    t.deepEqual(announced, ['default/hello-00001']);
    t.is(c.revisions.get('default/hello-00001')?.autoscaling.targetValue, 7);
    c.setRevisions([parked]);
    t.deepEqual(announced, ['default/hello-00001']);
  } finally {
    await c.close();
  }
});

test('a closed cluster takes no new revisions', async (t) => {
  const c = cluster(() => autoscalerConfig({}));
  await c.close();
  c.setRevisions([parked]);
  t.deepEqual(c.keys(), []);
});
