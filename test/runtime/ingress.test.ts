// The embedded ingress alone, with real listeners and pods: the weighted pick with an injected
// random source, the revision headers it sets, Serve-mode round robin, and the 503 a client
// gets when the upstream refuses the connection.
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Upstreams } from '../../activator/upstreams.ts';
import { createDualServer } from '../../network/h1-h2c-server.ts';
import { listen } from '../../network/listen.ts';
import { Ingress, type HostRule } from '../../runtime/ingress.ts';
import { httpGet } from '../helpers/queue-proxy.ts';

async function backend(name: string): Promise<{ port: number; seen: Record<string, string | string[] | undefined>[]; close: () => Promise<void> }> {
  const seen: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise((r) => server.close(() => r())) };
}

const rule: HostRule = { host: 'split.default.example.com', namespace: 'default', route: 'split', visibility: 'external', targets: [{ revision: 'a', percent: 30 }, { revision: 'b', percent: 70 }] };

test('weighted pick, revision headers, Serve round robin, and 503 when the upstream refuses', async (t) => {
  const activator = await backend('activator');
  const pods = [await backend('pod-1'), await backend('pod-2')];
  const draws = [0.29, 0.3, 0.99, 0.5, 0.5];
  let i = 0;
  let activatorDest = `127.0.0.1:${activator.port}`;
  const upstreams = new Upstreams(1 << 20);
  const ingress = new Ingress({
    upstreams,
    log: pino({ level: 'silent' }),
    random: () => draws[i++ % draws.length] as number,
    activator: () => activatorDest,
    routing: { destinationsFor: (_ns, rev) => (rev === 'b' ? { via: 'pods', pods: pods.map((p) => `127.0.0.1:${p.port}`) } : { via: 'activator' }) },
  });
  ingress.setRules([rule]);
  const h = ingress.handler(false);
  const s = createDualServer({ onRequest: h.request, onUpgrade: h.upgrade });
  const port = await listen(s.net, 0, '127.0.0.1');
  try {
    const bodies: string[] = [];
    for (let k = 0; k < 4; k++) bodies.push((await httpGet(port, '/', { host: 'split.default.example.com:8080' })).body);
    // 0.29 × 100 < 30 → a (activator); 0.3 → b; 0.99 → b; 0.5 → b: pods in turn.
    t.deepEqual(bodies, ['activator', 'pod-1', 'pod-2', 'pod-1']);
    t.like(activator.seen[0], { 'knative-serving-revision': 'a', 'knative-serving-namespace': 'default' });
    t.like(pods[0]!.seen[0], { 'knative-serving-revision': 'b' });
    // The activator goes away: its connection is refused.
    await activator.close();
    activatorDest = '127.0.0.1:1';
    i = 0;
    const refused = await httpGet(port, '/', { host: 'split.default.example.com' });
    t.is(refused.status, 503);
    t.regex(refused.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: /);
  } finally {
    s.net.close();
    for (const sock of s.sockets) sock.destroy();
    upstreams.close();
    await Promise.all(pods.map((p) => p.close()));
  }
});
