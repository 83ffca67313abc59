// The `hello` example app: answers every request with a greeting that names its revision, and
// sleeps first when asked (`?sleep=MS`), so load tests can drive concurrency. Listens on $PORT,
// as every Knative container must. `?crash=1` exits the process (to show restarts).
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const target = process.env.TARGET ?? 'World';
const revision = process.env.K_REVISION ?? 'local';

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://app');
  if (url.searchParams.has('crash')) {
    res.writeHead(500).end('crashing\n');
    setImmediate(() => process.exit(3));
    return;
  }
  const sleep = Math.min(Number(url.searchParams.get('sleep') ?? 0) || 0, 60_000);
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Hello ${target}! (${revision})\n`);
  }, sleep);
});
server.listen(port, () => console.log(`hello: listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
