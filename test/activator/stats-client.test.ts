// The activator's durable stats websocket (spec §2.7) against a real `ws` server on 127.0.0.1:
// binary protobuf frames arrive decoded, the client reconnects after a drop, a server restart on
// the same port, a refused or hung handshake and a missing pong, `connected` follows the
// connection, sending while disconnected drops silently, and close() ends the retry loop.
// Backoff and keepalive are shrunk to milliseconds so every test finishes well under a second.
import test from 'ava';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { backoffDelayMs, DEFAULT_BACKOFF, StatsClient, type Backoff, type StatsClientOptions } from '../../activator/stats-client.ts';
import { decodeWireStatMessages, emptyStat, type WireStatMessage } from '../../autoscaler/stat-proto.ts';
import { createLogger } from '../../config/logger.ts';

const FAST_BACKOFF: Backoff = { initialMs: 5, factor: 1.3, jitter: 0.5, steps: 5 };

function message(name: string, averageConcurrentRequests: number, requestCount: number): WireStatMessage {
  return { namespace: 'ns', name, stat: { ...emptyStat(), podName: 'activator-1', averageConcurrentRequests, requestCount } };
}

/** Polls `check` every few ms; fails the test with `what` if it stays false for 2 s. */
async function eventually(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface StatServer {
  readonly port: number;
  readonly received: WireStatMessage[];
  readonly textFrames: number;
  readonly connections: WebSocket[];
  readonly closeCodes: number[];
  pings: number;
  /** Terminates every client and stops listening. */
  close(): Promise<void>;
}

/** A stand-in for the autoscaler's stat server; `autoPong: false` makes it ignore pings. */
async function startStatServer(port = 0, autoPong = true): Promise<StatServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, autoPong });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  let textFrames = 0;
  const s: StatServer = {
    port: (wss.address() as AddressInfo).port,
    received: [],
    get textFrames() {
      return textFrames;
    },
    connections: [],
    closeCodes: [],
    pings: 0,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on('connection', (ws) => {
    s.connections.push(ws);
    ws.on('error', () => {});
    ws.on('ping', () => s.pings++);
    ws.on('close', (code) => s.closeCodes.push(code));
    ws.on('message', (data: RawData, isBinary) => {
      if (!isBinary) {
        textFrames++;
        return;
      }
      s.received.push(...decodeWireStatMessages(data as Buffer));
    });
  });
  return s;
}

/** A port that was free a moment ago: nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Client {
  readonly client: StatsClient;
  readonly statuses: boolean[];
  readonly logs: { level: number; msg: string; attempt?: number; delayMs?: number; err?: string }[];
}

function startClient(port: number, opts: Partial<StatsClientOptions> = {}): Client {
  const statuses: boolean[] = [];
  const logs: Client['logs'] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _e, cb) => {
      logs.push(JSON.parse(chunk.toString()) as Client['logs'][number]);
      cb();
    },
  });
  const client = new StatsClient({
    url: `ws://127.0.0.1:${port}/`,
    log: createLogger('activator', 'debug', sink),
    backoff: FAST_BACKOFF,
    onStatus: (c) => statuses.push(c),
    ...opts,
  });
  client.start();
  return { client, statuses, logs };
}

test('backoffDelayMs: initial × factor^k, jittered, held at the last step', (t) => {
  const noJitter = (): number => 0;
  const table: [failures: number, random: () => number, want: number][] = [
    [1, noJitter, 100],
    [2, noJitter, 130],
    [3, noJitter, 169],
    [20, noJitter, 100 * 1.3 ** 19],
    [21, noJitter, 100 * 1.3 ** 19], // retried forever at the last step's delay
    [1000, noJitter, 100 * 1.3 ** 19],
    [1, () => 0.5, 125], // 100 × (1 + 0.5 × 0.5)
    [2, () => 0.999, 130 * (1 + 0.5 * 0.999)],
  ];
  for (const [failures, random, want] of table) {
    t.true(Math.abs(backoffDelayMs(failures, DEFAULT_BACKOFF, random) - want) < 1e-9, `failures ${failures}`);
  }
  // Knative's schedule: the 20th delay is about 14.6 s before jitter, at most 1.5× that after.
  t.is(Math.round(backoffDelayMs(20, DEFAULT_BACKOFF, noJitter)), 14_619);
});

test('batches arrive as binary protobuf frames, in order; connected follows the connection', async (t) => {
  const server = await startStatServer();
  const { client, statuses } = startClient(server.port);
  try {
    t.false(client.connected);
    await eventually('connected', () => client.connected);
    t.deepEqual(statuses, [true]);
    client.send([message('a', 1, 1)]);
    client.send([message('a', 0.5, 3), message('b', 2, 0)]);
    client.send([]); // nothing to say: no frame
    await eventually('3 messages', () => server.received.length === 3);
    t.deepEqual(server.received, [message('a', 1, 1), message('a', 0.5, 3), message('b', 2, 0)]);
    t.is(server.textFrames, 0);
    t.is(server.connections.length, 1);
  } finally {
    await client.close();
    await server.close();
  }
  t.false(client.connected);
  t.deepEqual(statuses, [true, false]);
});

test('a batch that cannot be encoded is logged and dropped; the connection carries on', async (t) => {
  const server = await startStatServer();
  const { client, logs } = startClient(server.port);
  try {
    await eventually('connected', () => client.connected);
    const bad = message('bad', 1, 1);
    if (bad.stat) bad.stat.timestamp = 0.5; // not an int64: the encoder throws
    t.notThrows(() => client.send([bad]));
    t.true(logs.some((l) => l.level === 50 && l.msg === 'failed to send stats to the autoscaler'));
    client.send([message('good', 1, 1)]);
    await eventually('1 message', () => server.received.length === 1);
    t.deepEqual(server.received, [message('good', 1, 1)]);
    t.true(client.connected);
  } finally {
    await client.close();
    await server.close();
  }
});

test('send while disconnected drops the batch without throwing; the server coming up later is found', async (t) => {
  const port = await closedPort();
  const { client, statuses, logs } = startClient(port);
  let server: StatServer | undefined;
  try {
    t.notThrows(() => client.send([message('lost', 1, 1)]));
    // Several refused attempts: no uncaught error, no unhandled rejection (ava would fail).
    await eventually('3 failed attempts', () => logs.filter((l) => l.attempt !== undefined).length >= 3);
    t.false(client.connected);
    t.true(logs.some((l) => l.msg === 'not connected to the autoscaler; dropping stats' && l.level === 20));
    // The first refusal is a warning; the rest are debug until a backoff cycle completes.
    t.is(logs.find((l) => l.attempt === 1)?.level, 40);

    server = await startStatServer(port);
    await eventually('connected', () => client.connected);
    client.send([message('kept', 1, 1)]);
    await eventually('1 message', () => server?.received.length === 1);
    t.deepEqual(server.received, [message('kept', 1, 1)]);
    t.deepEqual(statuses, [true]);
  } finally {
    await client.close();
    await server?.close();
  }
});

test('reconnects after the server drops the connection', async (t) => {
  const server = await startStatServer();
  const { client, statuses } = startClient(server.port);
  try {
    await eventually('connected', () => client.connected);
    server.connections[0]?.terminate();
    await eventually('disconnected', () => !client.connected);
    await eventually('a second connection', () => client.connected && server.connections.length === 2);
    t.deepEqual(statuses, [true, false, true]);
    client.send([message('a', 1, 0)]);
    await eventually('1 message', () => server.received.length === 1);
    t.deepEqual(server.received, [message('a', 1, 0)]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('reconnects after the server restarts on the same port', async (t) => {
  const first = await startStatServer();
  const port = first.port;
  const { client, statuses } = startClient(port);
  let second: StatServer | undefined;
  try {
    await eventually('connected', () => client.connected);
    client.send([message('before', 1, 1)]);
    await eventually('1 message', () => first.received.length === 1);
    await first.close();
    await eventually('disconnected', () => !client.connected);
    // Let a few attempts be refused before the server comes back.
    await delay(30);
    t.false(client.connected);
    client.send([message('dropped', 1, 1)]);

    second = await startStatServer(port);
    await eventually('reconnected', () => client.connected);
    client.send([message('after', 2, 2)]);
    await eventually('1 message', () => second?.received.length === 1);
    t.deepEqual(second.received, [message('after', 2, 2)]);
    t.deepEqual(statuses, [true, false, true]);
  } finally {
    await client.close();
    await second?.close();
  }
});

test('the backoff grows by the factor, is jittered, and holds at the last step', async (t) => {
  const port = await closedPort();
  // 8 ms × 2^k × (1 + 0.5 × 0.5): 10, 20, 40, then 40 forever (3 steps).
  const { client, logs } = startClient(port, { backoff: { initialMs: 8, factor: 2, jitter: 0.5, steps: 3 }, random: () => 0.5 });
  try {
    await eventually('5 failed attempts', () => logs.filter((l) => l.attempt !== undefined).length >= 5);
  } finally {
    await client.close();
  }
  const delays = logs.filter((l) => l.attempt !== undefined).slice(0, 5).map((l) => [l.attempt, l.delayMs]);
  t.deepEqual(delays, [[1, 10], [2, 20], [3, 40], [4, 40], [5, 40]]);
  // Once per completed backoff cycle the outage is logged as an error.
  t.is(logs.find((l) => l.attempt === 3)?.level, 50);
});

test('no pong within the timeout: the client drops the connection and reconnects', async (t) => {
  const server = await startStatServer(0, false);
  const { client, statuses, logs } = startClient(server.port, { pingIntervalMs: 10, pongTimeoutMs: 60 });
  try {
    await eventually('a second connection', () => server.connections.length >= 2);
    t.true(server.pings >= 2);
    t.true(logs.some((l) => l.msg === 'no pong from the autoscaler; dropping the connection'));
    t.deepEqual(statuses.slice(0, 2), [true, false]);
  } finally {
    await client.close();
    await server.close();
  }
});

test('pongs keep the connection open past the pong timeout', async (t) => {
  const server = await startStatServer();
  // A pong timeout several ping intervals long, so a busy test machine cannot miss it.
  const { client } = startClient(server.port, { pingIntervalMs: 15, pongTimeoutMs: 120 });
  try {
    await eventually('connected', () => client.connected);
    await delay(400); // more than 3 pong timeouts
    t.true(client.connected);
    t.is(server.connections.length, 1);
    t.true(server.pings >= 5);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a handshake that never completes times out and is retried', async (t) => {
  // Accepts TCP, never answers the HTTP upgrade.
  const sockets: Socket[] = [];
  const hung: NetServer = createNetServer((socket) => {
    socket.on('error', () => {});
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const { client, logs } = startClient((hung.address() as AddressInfo).port, { handshakeTimeoutMs: 30 });
  try {
    await eventually('3 connection attempts', () => sockets.length >= 3);
    t.false(client.connected);
    t.regex(logs.find((l) => l.attempt === 1)?.err ?? '', /handshake has timed out/);
  } finally {
    await client.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => hung.close(() => resolve()));
  }
});

test('close() sends a normal close and stops reconnecting', async (t) => {
  const server = await startStatServer();
  const { client, statuses } = startClient(server.port);
  await eventually('connected', () => client.connected);
  await client.close();
  t.false(client.connected);
  await eventually('the server saw the close', () => server.closeCodes.length === 1);
  t.deepEqual(server.closeCodes, [1000]);
  await delay(50); // ten initial backoff delays
  t.is(server.connections.length, 1);
  t.deepEqual(statuses, [true, false]);
  t.notThrows(() => client.send([message('late', 1, 1)]));
  client.start(); // a closed client stays closed
  await delay(20);
  t.is(server.connections.length, 1);
  await client.close(); // idempotent
  await server.close();
});

test('close() during the retry loop stops it', async (t) => {
  // Answers every handshake with 400, as a non-websocket endpoint would.
  let requests = 0;
  const http: HttpServer = createHttpServer((_req, res) => {
    requests++;
    res.writeHead(400).end();
  });
  http.on('upgrade', (_req, socket: Socket) => {
    requests++;
    // The client hangs up as soon as it reads the 400, which may reset this side.
    socket.on('error', () => {});
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { client } = startClient((http.address() as AddressInfo).port);
  try {
    await eventually('2 rejected handshakes', () => requests >= 2);
    await client.close();
    const seen = requests;
    await delay(60);
    t.is(requests, seen);
    t.false(client.connected);
  } finally {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
});

test('close() before start() or while connecting resolves', async (t) => {
  const idle = new StatsClient({ url: 'ws://127.0.0.1:1/', log: createLogger('activator', 'error', new Writable({ write: (_c, _e, cb) => cb() })) });
  await idle.close();
  t.false(idle.connected);

  const port = await closedPort();
  const { client } = startClient(port);
  await client.close(); // the first attempt is still connecting
  t.false(client.connected);
});
