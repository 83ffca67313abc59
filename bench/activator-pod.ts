// Child entry point for bench/activator.ts: simulated pods, i.e. user containers the activator
// can probe directly (no queue-proxy). Each pod is a node:http server on its own loopback port
// answering 200 `ok`, and the activator's probe (`K-Network-Probe: queue`) with 200 `queue` while
// its probe passes, 503 otherwise. Each pod records, on this process's clock
// (performance.timeOrigin + performance.now(), comparable across processes), when its probe
// started passing, and when the first probe and the first other request arrived.
// Usage: node bench/activator-pod.ts
// Starts one pod and prints `KNTS_READY <port>`. Commands on stdin (bench/child-protocol.ts),
// `<id> <command> [args]`, each answered by `KNTS_OK <id> <json>`:
//   listen [200|503]       a new pod (a new port: no connection to it is pooled anywhere) → {port}
//   probe <port> 200|503   its probe answer from now on → {at}, the clock time of the switch
//   times <port>           → {probeAt, requestAt, passingSince, requests, probes} (times: 0 = not yet)
//   close <port>           closes the pod and its connections
//   clock                  → {now}, for the parent's clock check
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clock, serveCommands } from './child-protocol.ts';
import { exitWithParent } from './harness.ts';

exitWithParent();

const BODY = Buffer.from('ok');
const QUEUE = Buffer.from('queue');
const HEAD = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '2'];
const PROBE_OK = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '5'];

interface Pod {
  readonly server: Server;
  probeStatus: number;
  passingSince: number;
  probeAt: number;
  requestAt: number;
  requests: number;
  probes: number;
}

const pods = new Map<number, Pod>();

function startPod(probeStatus: number): Promise<number> {
  const server = createServer((req, res) => {
    if (req.headers['k-network-probe'] === 'queue') {
      if (pod.probeAt === 0) pod.probeAt = clock();
      pod.probes++;
      if (pod.probeStatus === 200) res.writeHead(200, PROBE_OK).end(QUEUE);
      else res.writeHead(pod.probeStatus, { 'content-length': 9 }).end('not ready');
      return;
    }
    if (pod.requestAt === 0) pod.requestAt = clock();
    pod.requests++;
    res.writeHead(200, HEAD).end(BODY);
  });
  const pod: Pod = { server, probeStatus, passingSince: probeStatus === 200 ? clock() : 0, probeAt: 0, requestAt: 0, requests: 0, probes: 0 };
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      pods.set(port, pod);
      resolve(port);
    });
  });
}

function podAt(port: string | undefined): Pod {
  const pod = pods.get(Number(port));
  if (pod === undefined) throw new Error(`no pod on port ${port}`);
  return pod;
}

async function run(cmd: string | undefined, args: string[]): Promise<unknown> {
  switch (cmd) {
    case 'listen':
      return { port: await startPod(Number(args[0] ?? 200)) };
    case 'probe': {
      const pod = podAt(args[0]);
      const at = clock();
      pod.probeStatus = Number(args[1]);
      pod.passingSince = pod.probeStatus === 200 ? at : 0;
      return { at };
    }
    case 'times': {
      const { probeAt, requestAt, passingSince, requests, probes } = podAt(args[0]);
      return { probeAt, requestAt, passingSince, requests, probes };
    }
    case 'close': {
      const pod = podAt(args[0]);
      pods.delete(Number(args[0]));
      pod.server.closeAllConnections();
      await new Promise((resolve) => pod.server.close(resolve));
      return {};
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

serveCommands(run);

process.stdout.write(`KNTS_READY ${await startPod(200)}\n`);
