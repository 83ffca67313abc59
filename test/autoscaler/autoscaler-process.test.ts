// The autoscaler process wired together: a websocket stat lands in the collector, a decision
// shows up in the prom-client gauges, probes and /healthz answer, and close releases the ports.
import test from 'ava';
import { WebSocket } from 'ws';
import { kpaDecider } from '../../autoscaler/autoscaler-process.ts';
import { encodeWireStatMessages } from '../../autoscaler/stat-proto.ts';
import { startTestAutoscaler } from '../helpers/autoscaler.ts';
import { httpGet } from '../helpers/queue-proxy.ts';

test('websocket stats reach the collector; decisions reach the gauges', async (t) => {
  const key = 'default/hello-00001';
  const as = await startTestAutoscaler(key, { 'autoscaling.knative.dev/target-burst-capacity': '-1' }, {
    createDecider: () => ({ decide: (stable: number) => ({ desiredPodCount: Math.ceil(stable / 70), excessBurstCapacity: -1, panicking: true }) }),
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${as.ports.stats}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const stat = { podName: 'activator', averageConcurrentRequests: 140, averageProxiedConcurrentRequests: 0, requestCount: 1, proxiedRequestCount: 0, processUptime: 0, timestamp: 0 };
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'hello-00001', stat }]));
    // No scrape target (TBC −1): the window reads 0 until the stat lands.
    const stable = (): number => {
      const r = as.collector.stableAndPanic(key, 'concurrency', Date.now());
      return r.ok ? r.stable : -1;
    };
    for (let i = 0; i < 50 && stable() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const seen = as.collector.stableAndPanic(key, 'concurrency', Date.now());
    t.like(seen, { ok: true, stable: 140 });
    t.like(as.multiScaler.evaluate(key), { desiredPodCount: 2, panicking: true });
    const metrics = await httpGet(as.ports.metrics, '/metrics');
    t.regex(metrics.body, /autoscaler_desired_pods\{namespace_name="default",revision_name="hello-00001",metric="concurrency"\} 2/);
    t.regex(metrics.body, /autoscaler_panic_mode\{[^}]*\} 1/);
    t.is((await httpGet(as.ports.metrics, '/healthz')).status, 200);
    t.is((await httpGet(as.ports.stats, '/', { 'user-agent': 'kube-probe/1.30' })).status, 200);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await as.close();
    t.is(await closed, 1012);
  } finally {
    await as.close().catch(() => undefined);
  }
});

test('with the production KPA decider, an activator stat for a revision at zero pokes it to 1', async (t) => {
  const key = 'default/cold-00001';
  const as = await startTestAutoscaler(key, { 'autoscaling.knative.dev/target-burst-capacity': '-1' }, { createDecider: kpaDecider });
  try {
    // Idle: an empty window reads 0 with TBC −1, so the decider says 0.
    t.like(as.multiScaler.evaluate(key), { desiredPodCount: 0, excessBurstCapacity: -1 });
    t.is(as.multiScaler.latestScale(key), 0);
    const ws = new WebSocket(`ws://127.0.0.1:${as.ports.stats}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const stat = { podName: 'activator', averageConcurrentRequests: 1, averageProxiedConcurrentRequests: 0, requestCount: 1, proxiedRequestCount: 0, processUptime: 0, timestamp: 0 };
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'cold-00001', stat }]));
    for (let i = 0; i < 100 && as.multiScaler.latestScale(key) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // No 2 s tick has passed: only the poke can have produced this decision.
    t.is(as.multiScaler.latestScale(key), 1);
    ws.close();
  } finally {
    await as.close();
  }
});
