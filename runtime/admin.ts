// The runtime's admin API (`--admin-port`, default 8081): `GET /status` is the live state as
// JSON (what `knts status` prints), `GET /healthz` answers 200 while the runtime runs.
import { createServer, type Server } from 'node:http';
import { writePlain } from '../network/http-error.ts';
import type { RuntimeStatus } from './status.ts';

export function createAdminServer(status: () => RuntimeStatus): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writePlain(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      writePlain(res, 200, 'ok\n');
      return;
    }
    if (path === '/status') {
      const body = JSON.stringify(status(), null, 2) + '\n';
      writePlain(res, 200, body, { 'content-type': 'application/json' });
      return;
    }
    writePlain(res, 404, 'not found: try /status\n');
  });
}
