// The stat server (spec §3.1) with a real `ws` client sending protobuf WireStatMessages, as the
// activator does (§2.7): decoding, timestamping, bad and text frames, probes, close code 1012.
import test from 'ava';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { CLOSE_SERVICE_RESTART, startStatServer, type StatServer } from '../../autoscaler/stat-server.ts';
import { encodeWireStatMessages, type Stat } from '../../autoscaler/stat-proto.ts';
import { createLogger } from '../../config/logger.ts';
import { httpGet } from '../helpers/queue-proxy.ts';

const NOW_MS = 1_700_000_000_750;

function stat(s: Partial<Stat>): Stat {
  return { podName: 'activator-1', averageConcurrentRequests: 0, averageProxiedConcurrentRequests: 0, requestCount: 0, proxiedRequestCount: 0, processUptime: 0, timestamp: 0, ...s };
}

interface Harness {
  server: StatServer;
  received: { key: string; stat: Stat }[];
  logs: string[];
  waitFor(n: number): Promise<void>;
}

async function start(): Promise<Harness> {
  const received: { key: string; stat: Stat }[] = [];
  const logs: string[] = [];
  const waiters: (() => void)[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => { logs.push(chunk.toString()); cb(); } });
  const server = await startStatServer({
    port: 0,
    host: '127.0.0.1',
    now: () => NOW_MS,
    log: createLogger('autoscaler', 'debug', sink),
    onStat: (key, s) => {
      received.push({ key, stat: s });
      for (const w of waiters.splice(0)) w();
    },
  });
  const waitFor = async (n: number): Promise<void> => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { server, received, logs, waitFor };
}

async function connect(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

test('binary frames are decoded into one stat per message, keyed ns/name; timestamp 0 becomes now', async (t) => {
  const h = await start();
  const ws = await connect(h.server.port);
  try {
    ws.send(
      encodeWireStatMessages([
        { namespace: 'default', name: 'hello-00001', stat: stat({ averageConcurrentRequests: 1, requestCount: 1 }) },
        { namespace: 'other', name: 'rev-2', stat: stat({ averageConcurrentRequests: 2, timestamp: 1234 }) },
      ]),
    );
    await h.waitFor(2);
    t.deepEqual(h.received, [
      { key: 'default/hello-00001', stat: stat({ averageConcurrentRequests: 1, requestCount: 1, timestamp: 1_700_000_000 }) },
      { key: 'other/rev-2', stat: stat({ averageConcurrentRequests: 2, timestamp: 1234 }) },
    ]);
  } finally {
    ws.terminate();
    await h.server.close();
  }
});

test('undecodable frames are logged and skipped, null stats skipped, text frames dropped', async (t) => {
  const h = await start();
  const ws = await connect(h.server.port);
  try {
    ws.send(Buffer.from([0x0a, 0x05, 0x01])); // length past the end
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'no-stat' }]));
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'text', stat: stat({ averageConcurrentRequests: 9 }) }]).toString('latin1'));
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'after', stat: stat({ averageConcurrentRequests: 3 }) }]));
    await h.waitFor(1);
    t.is(h.received.length, 1);
    t.is(h.received[0]?.key, 'default/after');
    t.true(h.logs.some((l) => l.includes('failed to decode a stat frame')));
    t.true(h.logs.some((l) => l.includes('non-binary')));
    t.is(ws.readyState, WebSocket.OPEN, 'bad frames do not close the connection');
  } finally {
    ws.terminate();
    await h.server.close();
  }
});

test('kubelet probes get 200 on any path; other plain requests are not upgraded', async (t) => {
  const h = await start();
  try {
    t.is((await httpGet(h.server.port, '/healthz', { 'user-agent': 'kube-probe/1.30' })).status, 200);
    t.is((await httpGet(h.server.port, '/any/thing', { 'k-kubelet-probe': 'true' })).status, 200);
    t.is((await httpGet(h.server.port, '/')).status, 400);
  } finally {
    await h.server.close();
  }
});

test('shutdown sends close code 1012 to every client', async (t) => {
  const h = await start();
  const clients = [await connect(h.server.port), await connect(h.server.port)];
  const codes = clients.map((ws) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))));
  await h.server.close();
  t.deepEqual(await Promise.all(codes), [CLOSE_SERVICE_RESTART, CLOSE_SERVICE_RESTART]);
  t.false(h.server.server.listening);
});
