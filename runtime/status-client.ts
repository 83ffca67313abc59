// `knts status`: GET the admin API's /status from a running `knts serve` and print it.
import { request } from 'node:http';
import { formatStatus, type RuntimeStatus } from './status.ts';

export function fetchStatus(host: string, port: number, json: boolean, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/status', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          stderr.write(`status: ${host}:${port} answered ${res.statusCode}: ${body}`);
          resolve(1);
          return;
        }
        try {
          const status = JSON.parse(body) as RuntimeStatus;
          stdout.write(json ? body : formatStatus(status));
          resolve(0);
        } catch (err) {
          stderr.write(`status: not a knts serve status: ${(err as Error).message}\n`);
          resolve(1);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => {
      stderr.write(`status: cannot reach knts serve at ${host}:${port}: ${err.message} (is \`knts serve\` running? --admin-port?)\n`);
      resolve(1);
    });
    req.end();
  });
}
