// Service scraping and the mesh fallback (spec §3.2) against real HTTP servers: a "service"
// server stands for `<rev>-private`, answering each fresh connection with the next pod's Stat
// the way kube-proxy would spread them; "pods" answer 503 as a mesh sidecar would.
import test, { type ExecutionContext } from 'ava';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { childName } from '../../config/k8s-names.ts';
import { privateServiceOf, ScrapeRoute } from '../../autoscaler/scrape-route.ts';
import { PodScraper, SCRAPER_POD_NAME, type ScrapePod, type ScrapeService } from '../../autoscaler/scraper.ts';
import { encodeStat, emptyStat, type Stat } from '../../autoscaler/stat-proto.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Endpoint {
  readonly server: Server;
  readonly port: number;
  readonly requests: IncomingMessage[];
  connections: number;
}

async function serve(t: ExecutionContext, handler: Handler): Promise<Endpoint> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  const ep: Endpoint = { server, port: 0, requests, connections: 0 };
  server.on('connection', () => ep.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(ep, { port: (server.address() as AddressInfo).port });
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return ep;
}

const stat = (s: Partial<Stat>): Stat => ({ ...emptyStat(), ...s });

function sendStat(res: ServerResponse, s: Stat): void {
  const body = encodeStat(s);
  res.writeHead(200, { 'content-type': 'application/protobuf', 'content-length': body.length });
  res.end(body);
}

/** A service in front of `pods`: each request gets the next pod's stat, round robin. */
function roundRobin(pods: readonly Stat[]): Handler {
  let next = 0;
  return (_req, res) => sendStat(res, pods[next++ % pods.length] as Stat);
}

const meshSidecar: Handler = (_req, res) => {
  res.writeHead(503, { 'content-type': 'text/plain' });
  res.end('upstream connect error');
};

const WINDOW = 60_000;
const NOW = 1_700_000_000_000;
const OLD = WINDOW / 1000;
const svc = (ep: Endpoint): ScrapeService => ({ host: '127.0.0.1', port: ep.port });
const podsAt = (...eps: Endpoint[]): ScrapePod[] => eps.map((ep) => ({ ip: '127.0.0.1', port: ep.port, startTimeMs: NOW - 2 * WINDOW }));

test('service scraping: n distinct pods over fresh connections, summed and scaled by N/n', async (t) => {
  // 5 ready pods → n = 4; the service spreads over 5 pods with concurrency 1..5, all old.
  const service = await serve(t, roundRobin([1, 2, 3, 4, 5].map((c) => stat({ podName: `p${c}`, averageConcurrentRequests: c, requestCount: 10, processUptime: OLD }))));
  const scraper = new PodScraper();
  try {
    const r = await scraper.scrapeService(svc(service), 5, WINDOW);
    // The first four pods: (1 + 2 + 3 + 4) / 4 × 5 = 12.5; requests 40 / 4 × 5 = 50.
    t.like(r, { ok: true, sampled: 4, stat: { podName: SCRAPER_POD_NAME, averageConcurrentRequests: 12.5, requestCount: 50 } });
    t.is(service.requests.length, 4);
    t.is(service.connections, 4, 'no connection is reused');
    t.deepEqual(await scraper.scrapeService(svc(service), 0, WINDOW), { ok: true, stat: null, sampled: 0 });
  } finally {
    scraper.close();
  }
});

test('service scraping prefers pods up for a stable window; young ones fill the sample', async (t) => {
  // 2 ready pods → n = 2. The service answers young y1, old o1, young y2, old o2 in turn.
  const pods = [
    stat({ podName: 'y1', averageConcurrentRequests: 100, processUptime: 1 }),
    stat({ podName: 'o1', averageConcurrentRequests: 1, processUptime: OLD }),
    stat({ podName: 'y2', averageConcurrentRequests: 200, processUptime: OLD - 0.5 }),
    stat({ podName: 'o2', averageConcurrentRequests: 2, processUptime: OLD + 5 }),
  ];
  const service = await serve(t, roundRobin(pods));
  const scraper = new PodScraper();
  try {
    const r = await scraper.scrapeService(svc(service), 2, WINDOW);
    // Both workers keep going past young pods until each has found an old one: o1 + o2.
    t.like(r, { ok: true, stat: { averageConcurrentRequests: 3 } });
    t.is(service.requests.length, 4);

    // Only young pods behind the service: they make up the sample.
    const youngOnly = await serve(t, roundRobin([pods[0]!, pods[2]!]));
    const y = await scraper.scrapeService(svc(youngOnly), 2, WINDOW);
    t.like(y, { ok: true, stat: { averageConcurrentRequests: 300 } });
  } finally {
    scraper.close();
  }
});

test('service scraping fails when it keeps seeing the same pod, after 10 tries per worker', async (t) => {
  const service = await serve(t, roundRobin([stat({ podName: 'only', averageConcurrentRequests: 1, processUptime: OLD })]));
  const scraper = new PodScraper();
  try {
    const r = await scraper.scrapeService(svc(service), 2, WINDOW);
    t.like(r, { ok: false, reason: 'no-pods-scraped' });
    if (!r.ok) t.is(r.error, 'unsuccessful scrape, sampleSize=2: did not receive stat from an unscraped pod');
    // One worker got the pod; the other saw it again 10 times.
    t.is(service.requests.length, 11);

    const broken = await serve(t, meshSidecar);
    const b = await scraper.scrapeService(svc(broken), 1, WINDOW);
    t.like(b, { ok: false });
    if (!b.ok) t.regex(b.error, /^unsuccessful scrape, sampleSize=1: GET request for URL ".*" returned HTTP status 503$/);
    t.is(broken.requests.length, 10);
  } finally {
    scraper.close();
  }
});

test('auto: pods that all answer like a mesh fall back to the service, which then sticks', async (t) => {
  const sidecars = [await serve(t, meshSidecar), await serve(t, meshSidecar)];
  const service = await serve(t, roundRobin([stat({ podName: 'a', averageConcurrentRequests: 2, processUptime: OLD }), stat({ podName: 'b', averageConcurrentRequests: 4, processUptime: OLD })]));
  const route = new ScrapeRoute({ mode: 'auto', passthroughLb: false });
  const scraper = new PodScraper();
  try {
    t.is(route.via, 'pods');
    const r = await route.scrape(scraper, podsAt(...sidecars), svc(service), WINDOW, NOW);
    t.like(r, { ok: true, via: 'service', stat: { averageConcurrentRequests: 6 } });
    t.is(route.via, 'service');
    const podHits = sidecars.reduce((n, s) => n + s.requests.length, 0);
    t.is(podHits, 2);
    t.like(await route.scrape(scraper, podsAt(...sidecars), svc(service), WINDOW, NOW), { ok: true, via: 'service' });
    t.is(sidecars.reduce((n, s) => n + s.requests.length, 0), podHits, 'pods are not tried again');
  } finally {
    scraper.close();
  }
});

test('auto: a failed service scrape keeps pod scraping; a non-mesh error or one answering pod never falls back', async (t) => {
  const sidecar = await serve(t, meshSidecar);
  const deadService = await serve(t, meshSidecar);
  const route = new ScrapeRoute({ mode: 'auto', passthroughLb: false });
  const scraper = new PodScraper({ random: () => 0 });
  try {
    const r = await route.scrape(scraper, podsAt(sidecar), svc(deadService), WINDOW, NOW);
    t.like(r, { ok: false, via: 'service' });
    t.is(route.via, 'pods');

    const erroring = await serve(t, (_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const service = await serve(t, roundRobin([stat({ podName: 'a', processUptime: OLD })]));
    t.like(await route.scrape(scraper, podsAt(erroring), svc(service), WINDOW, NOW), { ok: false, via: 'pods', reason: 'no-pods-scraped', mightBeMesh: false });
    t.is(service.requests.length, 0);

    // 3 pods, one answers: pods exhausted, but a pod was reachable, so no mesh.
    const good = await serve(t, roundRobin([stat({ podName: 'g', averageConcurrentRequests: 1 })]));
    const mixed = await route.scrape(scraper, podsAt(sidecar, good, await serve(t, meshSidecar)), svc(service), WINDOW, NOW);
    t.like(mixed, { ok: false, via: 'pods', reason: 'pods-exhausted' });
    t.is(service.requests.length, 0);
    t.is(route.via, 'pods');
  } finally {
    scraper.close();
  }
});

test('mesh-compatibility-mode enabled scrapes only the service; disabled only the pods', async (t) => {
  const pod = await serve(t, meshSidecar);
  const service = await serve(t, roundRobin([stat({ podName: 'a', averageConcurrentRequests: 7, processUptime: OLD })]));
  const scraper = new PodScraper();
  try {
    const enabled = new ScrapeRoute({ mode: 'enabled', passthroughLb: false });
    t.like(await enabled.scrape(scraper, podsAt(pod), svc(service), WINDOW, NOW), { ok: true, via: 'service', stat: { averageConcurrentRequests: 7 } });
    t.is(pod.requests.length, 0);
    const disabled = new ScrapeRoute({ mode: 'disabled', passthroughLb: false });
    t.like(await disabled.scrape(scraper, podsAt(pod), svc(service), WINDOW, NOW), { ok: false, via: 'pods', mightBeMesh: true });
    t.is(service.requests.length, 1);
  } finally {
    scraper.close();
  }
});

test('passthrough LB: pod scrapes carry the service Host and Knative-Direct-Lb, and never fall back', async (t) => {
  const pod = await serve(t, meshSidecar);
  const service = await serve(t, roundRobin([stat({ podName: 'a', processUptime: OLD })]));
  const route = new ScrapeRoute({ mode: 'auto', passthroughLb: true });
  const scraper = new PodScraper();
  try {
    const target: ScrapeService = { host: 'rev-private.ns', port: pod.port };
    t.like(await route.scrape(scraper, podsAt(pod), target, WINDOW, NOW), { ok: false, via: 'pods', mightBeMesh: true });
    t.is(pod.requests[0]?.headers.host, `rev-private.ns:${pod.port}`);
    t.is(pod.requests[0]?.headers['knative-direct-lb'], 'true');
    t.is(pod.requests.length, 1);
    t.is(service.requests.length, 0);
  } finally {
    scraper.close();
  }
});

test('private service names follow kmeta.ChildName', (t) => {
  t.deepEqual(privateServiceOf('default/hello-00001'), { host: 'hello-00001-private.default' });
  const long = 'a'.repeat(56);
  t.is(childName('a'.repeat(55), '-private'), `${'a'.repeat(55)}-private`);
  // 56 + 8 > 63: 23 characters of the parent, its MD5, then the suffix; 63 in all.
  const name = childName(long, '-private');
  t.is(name.length, 63);
  t.is(name, `${'a'.repeat(23)}3b0c8ac703f828b04c6c197006d17218-private`);
  // A suffix of 31 characters or more: parent and suffix are hashed together, the suffix's
  // start pads to 63, and a trailing '-' is cut.
  const suffix = `---${'x'.repeat(40)}`;
  t.regex(childName('p'.repeat(25), suffix), /^p{25}[0-9a-f]{32}---xxx$/);
  t.regex(childName('p'.repeat(30), suffix), /^p{30}[0-9a-f]{32}$/);
});
