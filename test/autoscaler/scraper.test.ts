// The pod scraper (spec §3.2) against real HTTP servers on 127.0.0.1: the content-type and
// status rules, the body-size limit, timeouts, pods exhausted, sampling with a deterministic
// random source and N/n scaling; then against real queue-proxy processes under known load.
import test from 'ava';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PodScraper, SCRAPER_POD_NAME, scrapeOrder, type ScrapePod } from '../../autoscaler/scraper.ts';
import { encodeStat, type Stat } from '../../autoscaler/stat-proto.ts';
import { httpGet, queueProxyEnv, startQueueProxy, UserApp } from '../helpers/queue-proxy.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Pod {
  readonly server: Server;
  readonly port: number;
  hits: number;
}

async function startPod(handler: Handler): Promise<Pod> {
  const pod: Pod = { server: createServer((req, res) => { pod.hits++; handler(req, res); }), port: 0, hits: 0 };
  await new Promise<void>((resolve) => pod.server.listen(0, '127.0.0.1', resolve));
  return Object.assign(pod, { port: (pod.server.address() as AddressInfo).port });
}

function closePods(pods: readonly Pod[]): Promise<unknown> {
  return Promise.all(
    pods.map((p) => {
      p.server.closeAllConnections();
      return new Promise<void>((resolve) => p.server.close(() => resolve()));
    }),
  );
}

function stat(s: Partial<Stat>): Stat {
  return { podName: 'pod', averageConcurrentRequests: 0, averageProxiedConcurrentRequests: 0, requestCount: 0, proxiedRequestCount: 0, processUptime: 0, timestamp: 0, ...s };
}

const accepts: (string | undefined)[] = [];
const protobuf = (body: Buffer, contentType = 'application/protobuf'): Handler => (req, res) => {
  accepts.push(req.headers.accept);
  res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
};

const status = (code: number): Handler => (_req, res) => {
  res.writeHead(code, { 'content-type': 'application/protobuf' });
  res.end(encodeStat(stat({ averageConcurrentRequests: 1 })));
};

const NOW = 1_700_000_000_000;
const WINDOW = 60_000;
const asScrapePods = (pods: readonly Pod[], startTimeMs = NOW - 2 * WINDOW): ScrapePod[] => pods.map((p) => ({ ip: '127.0.0.1', port: p.port, startTimeMs }));

test('one pod: its Stat is returned as service-scraper, sent with Accept: application/protobuf', async (t) => {
  const pods = [await startPod(protobuf(encodeStat(stat({ averageConcurrentRequests: 2.5, averageProxiedConcurrentRequests: 0.5, requestCount: 7, proxiedRequestCount: 1, processUptime: 99, timestamp: 5 }))))];
  const scraper = new PodScraper();
  try {
    const r = await scraper.scrape(asScrapePods(pods), WINDOW, NOW);
    t.deepEqual(r, {
      ok: true,
      sampled: 1,
      stat: { podName: SCRAPER_POD_NAME, averageConcurrentRequests: 2.5, averageProxiedConcurrentRequests: 0.5, requestCount: 7, proxiedRequestCount: 1, processUptime: 0, timestamp: 0 },
    });
    t.is(accepts.at(-1), 'application/protobuf');
  } finally {
    scraper.close();
    await closePods(pods);
  }
});

test('no ready pods: no stat and no error', async (t) => {
  const scraper = new PodScraper();
  t.deepEqual(await scraper.scrape([], WINDOW, NOW), { ok: true, stat: null, sampled: 0 });
  scraper.close();
});

for (const contentType of ['application/protobuf; charset=utf-8', 'text/plain', 'Application/Protobuf']) {
  test(`Content-Type ${JSON.stringify(contentType)} is rejected`, async (t) => {
    const pods = [await startPod(protobuf(encodeStat(stat({ averageConcurrentRequests: 1 })), contentType))];
    const scraper = new PodScraper();
    try {
      const r = await scraper.scrape(asScrapePods(pods), WINDOW, NOW);
      t.false(r.ok);
      if (!r.ok) {
        t.is(r.reason, 'no-pods-scraped');
        t.regex(r.error, /unsupported metric type/);
      }
    } finally {
      scraper.close();
      await closePods(pods);
    }
  });
}

test('non-2xx answers fail; 502 and 503 look like a mesh', async (t) => {
  const pods = [await startPod(status(500)), await startPod(status(503)), await startPod(status(502)), await startPod(status(204))];
  const scraper = new PodScraper();
  try {
    const r500 = await scraper.scrape(asScrapePods(pods.slice(0, 1)), WINDOW, NOW);
    t.like(r500, { ok: false, reason: 'no-pods-scraped', mightBeMesh: false });
    if (!r500.ok) t.regex(r500.error, /returned HTTP status 500/);
    t.like(await scraper.scrape(asScrapePods(pods.slice(1, 3)), WINDOW, NOW), { ok: false, reason: 'no-pods-scraped', mightBeMesh: true });
    // 204 is 2xx: valid; its empty body decodes to an all-zero Stat.
    t.like(await scraper.scrape(asScrapePods(pods.slice(3)), WINDOW, NOW), { ok: true });
  } finally {
    scraper.close();
    await closePods(pods);
  }
});

test('bodies are read up to 336 bytes: a long pod name fails to decode, trailing bytes past the limit are never seen', async (t) => {
  const long = encodeStat(stat({ podName: 'a123456789'.repeat(60), averageConcurrentRequests: 1.1 }));
  // A 12-byte Stat, unknown fixed64 fields (9 bytes each) up to exactly 336 bytes, then garbage
  // that would fail to decode if it were read.
  const head = encodeStat(stat({ podName: 'p', averageConcurrentRequests: 3 }));
  t.is((336 - head.length) % 9, 0);
  const unknown = Buffer.concat(Array.from({ length: (336 - head.length) / 9 }, () => Buffer.from([0x41, 0, 0, 0, 0, 0, 0, 0, 0])));
  const pods = [await startPod(protobuf(long)), await startPod(protobuf(Buffer.concat([head, unknown, Buffer.alloc(1000, 0xff)])))];
  const scraper = new PodScraper();
  try {
    const bad = await scraper.scrape(asScrapePods(pods.slice(0, 1)), WINDOW, NOW);
    t.false(bad.ok);
    if (!bad.ok) t.regex(bad.error, /unmarshalling failed/);
    t.like(await scraper.scrape(asScrapePods(pods.slice(1)), WINDOW, NOW), { ok: true, stat: { averageConcurrentRequests: 3 } });
  } finally {
    scraper.close();
    await closePods(pods);
  }
});

test('a pod that does not answer in time fails the scrape at the timeout; a stalled body too', async (t) => {
  const silent = await startPod(() => undefined);
  const stalled = await startPod((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/protobuf', 'content-length': 100 });
    res.write(Buffer.from([0x11]));
  });
  const scraper = new PodScraper({ timeoutMs: 200 });
  try {
    for (const pod of [silent, stalled]) {
      const start = performance.now();
      const r = await scraper.scrape(asScrapePods([pod]), WINDOW, NOW);
      const ms = performance.now() - start;
      t.false(r.ok);
      if (!r.ok) t.regex(r.error, /timeout after 200ms/);
      t.true(ms >= 190 && ms < 1500, `${ms} ms`);
    }
  } finally {
    scraper.close();
    await closePods([silent, stalled]);
  }
});

test('a worker moves to the next pod on failure; running out of pods fails the whole scrape', async (t) => {
  const good = (c: number): Promise<Pod> => startPod(protobuf(encodeStat(stat({ averageConcurrentRequests: c }))));
  // 3 pods → 3 workers: one failure leaves a worker with nothing left to scrape.
  const three = [await good(1), await startPod(status(500)), await good(1)];
  // 5 pods → 4 workers: one failure is absorbed by the spare pod.
  const five = [await good(1), await good(2), await startPod(status(500)), await good(3), await good(4)];
  // A fixed shuffle ([a b c d e] → [b c d e a]): the failing pod comes second, so the spare pod
  // is always needed, whatever order the workers finish in.
  const scraper = new PodScraper({ random: () => 0 });
  try {
    t.like(await scraper.scrape(asScrapePods(three), WINDOW, NOW), { ok: false, reason: 'pods-exhausted' });
    const r = await scraper.scrape(asScrapePods(five), WINDOW, NOW);
    // (1 + 2 + 3 + 4) / 4 × 5
    t.like(r, { ok: true, sampled: 4, stat: { podName: SCRAPER_POD_NAME, averageConcurrentRequests: 12.5 } });
    t.is(five.reduce((n, p) => n + p.hits, 0), 5);
  } finally {
    scraper.close();
    await closePods([...three, ...five]);
  }
});

test('sampling: n of N pods, chosen by the injected random source, scaled by N/n', async (t) => {
  const pods = await Promise.all([1, 2, 3, 4, 5].map((c) => startPod(protobuf(encodeStat(stat({ averageConcurrentRequests: c, requestCount: 10 * c, proxiedRequestCount: c }))))));
  // Always 0: Fisher–Yates from the end turns [a b c d e] into [b c d e a].
  const scraper = new PodScraper({ random: () => 0 });
  try {
    const r = await scraper.scrape(asScrapePods(pods), WINDOW, NOW);
    t.deepEqual(pods.map((p) => p.hits), [0, 1, 1, 1, 1]);
    // (2 + 3 + 4 + 5) / 4 × 5 = 17.5; requests 140 / 4 × 5 = 175; proxied 14 / 4 × 5 = 17.5.
    t.like(r, { ok: true, sampled: 4, stat: { averageConcurrentRequests: 17.5, requestCount: 175, proxiedRequestCount: 17.5 } });
  } finally {
    scraper.close();
    await closePods(pods);
  }
});

test('scrape order: old pods first; the young ones are shuffled only when the old cannot fill the sample', (t) => {
  const pod = (ip: string, ageMs: number): ScrapePod => ({ ip, startTimeMs: NOW - ageMs });
  const old = [pod('o1', WINDOW), pod('o2', 2 * WINDOW)];
  const young = [pod('y1', 1000), pod('y2', 2000), pod('y3', 0)];
  const ips = (ps: readonly ScrapePod[]): string[] => ps.map((p) => p.ip);
  // 5 pods, n = 4 > 2 old: young shuffled ([y1 y2 y3] → [y2 y3 y1] with random 0).
  t.deepEqual(ips(scrapeOrder([...young, ...old], 4, WINDOW, NOW, () => 0)), ['o1', 'o2', 'y2', 'y3', 'y1']);
  // n = 2 ≤ 2 old: old shuffled, young kept in order.
  t.deepEqual(ips(scrapeOrder([...young, ...old], 2, WINDOW, NOW, () => 0)), ['o2', 'o1', 'y1', 'y2', 'y3']);
});

test('connections are kept alive between scrapes and closed by close()', async (t) => {
  const pods = [await startPod(protobuf(encodeStat(stat({ averageConcurrentRequests: 1 }))))];
  let connections = 0;
  pods[0]!.server.on('connection', () => connections++);
  const scraper = new PodScraper();
  try {
    for (let i = 0; i < 3; i++) t.like(await scraper.scrape(asScrapePods(pods), WINDOW, NOW), { ok: true });
    t.is(connections, 1);
    scraper.close();
    await new Promise((r) => setTimeout(r, 50));
    const open = await new Promise<number>((resolve) => pods[0]!.server.getConnections((_e, n) => resolve(n)));
    t.is(open, 0);
  } finally {
    scraper.close();
    await closePods(pods);
  }
});

test('real queue-proxies under known load: concurrency summed over the pods', async (t) => {
  const app = new UserApp();
  await app.listen();
  const qps = await Promise.all([
    startQueueProxy(queueProxyEnv(app.port, { SERVING_POD: 'pod-a' })),
    startQueueProxy(queueProxyEnv(app.port, { SERVING_POD: 'pod-b' })),
  ]);
  const scraper = new PodScraper({ port: qps[0]!.metrics });
  try {
    const [a, b] = qps as [(typeof qps)[0], (typeof qps)[0]];
    // 3 requests held on pod a, 1 held on pod b and proxied by the activator, for 4 s. After 2.2 s
    // every pod's latest 1 s report lies entirely inside that load.
    const load = [
      ...Array.from({ length: 3 }, () => httpGet(a.serving, '/?sleep=4000')),
      httpGet(b.serving, '/?sleep=4000', { 'k-proxy-request': 'activator' }),
    ];
    await new Promise((r) => setTimeout(r, 2200));
    const pods: ScrapePod[] = [
      { ip: '127.0.0.1', startTimeMs: NOW, port: a.metrics },
      { ip: '127.0.0.1', startTimeMs: NOW, port: b.metrics },
    ];
    const r = await scraper.scrape(pods, WINDOW, NOW);
    t.true(r.ok, JSON.stringify(r));
    if (r.ok && r.stat) {
      t.is(r.stat.podName, SCRAPER_POD_NAME);
      t.true(Math.abs(r.stat.averageConcurrentRequests - 4) < 0.05, `concurrency ${r.stat.averageConcurrentRequests}`);
      t.true(Math.abs(r.stat.averageProxiedConcurrentRequests - 1) < 0.05, `proxied ${r.stat.averageProxiedConcurrentRequests}`);
    }
    await Promise.all(load);
  } finally {
    scraper.close();
    await Promise.all(qps.map((q) => q.stop()));
    await app.close();
  }
});
