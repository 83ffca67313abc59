// Child entry point: the fast fixed-response backend the benchmarks proxy to. A minimal node:http
// server answering every request with 200 "ok"; long keep-alive so no proxy pays reconnects.
// Prints `KNTS_READY <port>` once listening.
// Usage: node bench/backend.ts [port]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exitWithParent } from './harness.ts';

exitWithParent();

const BODY = Buffer.from('ok');
// A flat header array: Node writes it without building a header object.
const HEAD = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', '2'];

// Node dumps an unread request body itself once the response ends, keeping the socket reusable.
const server = createServer((_req, res) => {
  res.writeHead(200, HEAD).end(BODY);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`KNTS_READY ${(server.address() as AddressInfo).port}\n`);
});
