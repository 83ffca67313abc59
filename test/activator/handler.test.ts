// The activation handler's rarest path (spec §2.4 "Request flow"): a request granted a revision
// slot while every pod slot is taken gives the slot back and queues again. The throttler's own
// accounting never lets that happen, so a throttler whose pick fails on demand stands in, behind
// an ActivatorHandler on a plain HTTP server. Whatever ends the request (a later pick, the client
// leaving, the timeout), it gives back its slot, its queue place and its reporter count.
import test from 'ava';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { BufferLimits } from '../../activator/buffer-limits.ts';
import { ActivatorHandler, type RevisionQueue } from '../../activator/handler.ts';
import { RevisionThrottler, type Pick } from '../../activator/throttler.ts';
import { Upstreams } from '../../activator/upstreams.ts';
import { FakePod, revision, until } from '../helpers/activator.ts';
import { httpGet } from '../helpers/queue-proxy.ts';

const REV = { 'knative-serving-revision': 'hello-00001', 'knative-serving-namespace': 'default' };

interface Rig {
  readonly port: number;
  readonly handler: ActivatorHandler;
  readonly queue: RevisionQueue;
  readonly limits: BufferLimits;
  /** Picks that fail before one succeeds; Infinity: every pick fails. */
  failPicks: number;
  picks: number;
  /** Requests counted in and not yet out by the reporter. */
  reported: number;
  close(): Promise<void>;
}

async function rig(pod: FakePod, timeoutSeconds: number): Promise<Rig> {
  const rev = revision('hello-00001', { containerConcurrency: 1, timeoutSeconds });
  const throttler = new RevisionThrottler({ containerConcurrency: 1, ownIp: '10.0.0.1' });
  throttler.update({ dests: [pod.dest], readyBackends: 1 }, 0);
  const queue: RevisionQueue = { throttler, waiting: new Set(), active: 0 };
  const limits = new BufferLimits();
  const upstreams = new Upstreams(1 << 20);
  const real = throttler.pick.bind(throttler);
  const r: Rig = {
    port: 0,
    handler: undefined as unknown as ActivatorHandler,
    queue,
    limits,
    failPicks: 0,
    picks: 0,
    reported: 0,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      upstreams.close();
    },
  };
  throttler.pick = (): Pick | undefined => {
    r.picks++;
    if (r.failPicks > 0) {
      r.failPicks--;
      return undefined;
    }
    return real();
  };
  const handler = new ActivatorHandler({
    revision: (namespace, name) => (namespace === rev.namespace && name === rev.name ? rev : undefined),
    queue: () => queue,
    report: { in: () => void r.reported++, out: () => void r.reported-- },
    upstreams,
    limits,
    metrics: undefined,
    health: { terminating: () => false, connected: () => true },
    clusterDomain: 'cluster.local',
    passthroughLb: false,
    now: () => performance.now(),
    log: pino({ level: 'silent' }),
  });
  const server: Server = createServer(handler.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(r, { port: (server.address() as AddressInfo).port, handler });
}

/** Nothing held: no slot, no queue place, no body bytes, no open request, no reporter count. */
function released(r: Rig): boolean {
  const b = r.queue.throttler.breaker;
  return b.running === 0 && b.pending === 0 && r.limits.queued === 0 && r.limits.bodyBytes === 0 && r.queue.waiting.size === 0 && r.queue.active === 0 && r.handler.open.open === 0 && r.reported === 0;
}

test('a failed pick queues the request again until a pod slot is free; nothing is left held', async (t) => {
  const pod = await new FakePod('p1').listen();
  const r = await rig(pod, 30);
  try {
    r.failPicks = 3;
    const reply = await httpGet(r.port, '/', REV);
    t.deepEqual([reply.status, reply.body], [200, 'p1']);
    t.is(r.picks, 4);
    t.true(await until(() => released(r)));
  } finally {
    await r.close();
    await pod.close();
  }
});

test('a client that leaves while its request waits to queue again after a failed pick frees everything', async (t) => {
  const pod = await new FakePod('p1').listen();
  const r = await rig(pod, 30);
  try {
    r.failPicks = Infinity;
    const req = request({ host: '127.0.0.1', port: r.port, path: '/', method: 'POST', headers: { ...REV, 'content-length': '5' }, agent: false });
    req.on('error', () => undefined);
    req.write('hello');
    t.true(await until(() => r.picks > 2));
    t.is(r.limits.queued, 1);
    t.is(r.limits.bodyBytes, 5);
    req.destroy();
    t.true(await until(() => released(r)));
    const picks = r.picks;
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.is(r.picks, picks, 'no retry after the client left');
    t.is(pod.seen.length, 0);
  } finally {
    await r.close();
    await pod.close();
  }
});

test('the revision timeout ends a request that keeps failing its pick: 504 and nothing held', async (t) => {
  const pod = await new FakePod('p1').listen();
  const r = await rig(pod, 1);
  try {
    r.failPicks = Infinity;
    const reply = await httpGet(r.port, '/', REV);
    t.deepEqual([reply.status, reply.body], [504, 'activator request timeout']);
    t.true(await until(() => released(r)));
    t.is(pod.seen.length, 0);
  } finally {
    await r.close();
    await pod.close();
  }
});
