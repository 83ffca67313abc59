// HTTP/2 on the serving port: h2c with prior knowledge, gRPC-style requests with trailers
// through to an h2c app, and each concurrent stream counted as one request by the breaker.
import test from 'ava';
import { connect } from 'node:http2';
import { h2request, queueProxyEnv, startH2cApp, startQueueProxy } from '../helpers/queue-proxy.ts';

test('gRPC-style request over h2c: body, headers and trailers pass through', async (t) => {
  const app = await startH2cApp();
  const qp = await startQueueProxy(queueProxyEnv(app.port, { QUEUE_SERVING_PORT: '0' }));
  const session = connect(`http://127.0.0.1:${qp.serving}`);
  try {
    const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
    const r = await h2request(session, '/pkg.Svc/Method', msg, { 'knative-serving-revision': 'hello-00001' });
    t.is(Number(r.headers[':status']), 200);
    t.is(r.headers['content-type'], 'application/grpc');
    t.is(r.headers['x-path'], '/pkg.Svc/Method');
    t.deepEqual([...r.body], [...msg]);
    t.is(r.trailers['grpc-status'], '0');
    t.is(r.trailers['grpc-message'], 'ok');
  } finally {
    session.close();
    await qp.stop();
    app.server.close();
  }
});

test('each concurrent stream counts as one request for the breaker (cc=1)', async (t) => {
  const app = await startH2cApp();
  const qp = await startQueueProxy(queueProxyEnv(app.port, { CONTAINER_CONCURRENCY: '1' }));
  const session = connect(`http://127.0.0.1:${qp.serving}`);
  try {
    const start = performance.now();
    const replies = await Promise.all([1, 2, 3].map(() => h2request(session, '/s?sleep=200', Buffer.from('x'))));
    t.true(replies.every((r) => Number(r.headers[':status']) === 200));
    t.is(app.maxStreams(), 1, 'the app never saw two streams at once');
    t.true(performance.now() - start >= 550, 'the streams ran one after another');
  } finally {
    session.close();
    await qp.stop();
    app.server.close();
  }
});

test('probes are answered over HTTP/2 too', async (t) => {
  const app = await startH2cApp();
  const qp = await startQueueProxy(queueProxyEnv(app.port));
  const session = connect(`http://127.0.0.1:${qp.serving}`);
  try {
    const r = await new Promise<{ status: unknown; body: string; hash: unknown }>((resolve, reject) => {
      const req = session.request({ ':path': '/', 'k-network-probe': 'probe', 'k-network-hash': 'h2hash' });
      let status: unknown;
      let hash: unknown;
      let body = '';
      req.on('response', (h) => {
        status = h[':status'];
        hash = h['k-network-hash'];
      });
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ status, body, hash }));
      req.on('error', reject);
      req.end();
    });
    t.is(r.status, 200);
    t.is(r.hash, 'h2hash');
  } finally {
    session.close();
    await qp.stop();
    app.server.close();
  }
});

test('HTTP/1 full duplex: the app answers while the client is still sending its body', async (t) => {
  const { createServer, request } = await import('node:http');
  const app = createServer((req, res) => {
    // Answer at once, then echo the body as it streams in.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started\n');
    req.on('data', (d: Buffer) => res.write(d));
    req.on('end', () => res.end('done\n'));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as import('node:net').AddressInfo).port;
  const qp = await startQueueProxy(queueProxyEnv(port, { ENABLE_HTTP_FULL_DUPLEX: 'true' }));
  try {
    const got = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: qp.serving, method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          // Only after the first part is echoed back does the client send the rest.
          if (body === 'started\npart1\n') req.end('part2\n');
        });
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.write('part1\n');
    });
    t.is(got, 'started\npart1\npart2\ndone\n');
  } finally {
    await qp.stop();
    app.close();
  }
});
