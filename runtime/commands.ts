// The embedded runtime's commands: `knts serve [DIR]` runs Knative Services on this machine,
// `knts status` asks a running `knts serve` what it is doing.
import type { Command } from '../cli/command.ts';

const portValue = (v: unknown, name: string, def: number): number | string => {
  if (v === undefined) return def;
  const n = Number(v);
  return typeof v === 'string' && /^\d+$/.test(v) && n <= 65535 ? n : `--${name}: ${JSON.stringify(v)} is not a port number (0-65535)`;
};

export const commands: readonly Command[] = [
  {
    path: ['serve'],
    summary: 'Run Knative Services from a folder of YAML on this machine',
    args: '[DIR]',
    description:
      'Loads every Service, Configuration, Route and config-* ConfigMap in DIR (default examples/),\n' +
      'validates and defaults them as the webhook does, and serves them: pods are local processes,\n' +
      'each behind a real queue-proxy; the activator and autoscaler run as in a cluster. Edits to\n' +
      'the folder apply live; an invalid file is reported and the last good state keeps serving.',
    maxPositionals: 1,
    options: {
      port: { type: 'string', value: 'PORT', default: '8080', description: 'ingress port (Host-based routing)' },
      'admin-port': { type: 'string', value: 'PORT', default: '8081', description: 'admin API port (knts status)' },
      host: { type: 'string', value: 'ADDR', default: '127.0.0.1', description: 'address to listen on' },
    },
    async run({ positionals, values, stdout, stderr }) {
      const port = portValue(values['port'], 'port', 8080);
      const adminPort = portValue(values['admin-port'], 'admin-port', 8081);
      for (const p of [port, adminPort]) {
        if (typeof p === 'string') {
          stderr.write(`serve: ${p}\n`);
          return 2;
        }
      }
      const { runServe } = await import('./serve.ts');
      return runServe({ dir: positionals[0] ?? 'examples', port: port as number, adminPort: adminPort as number, host: String(values['host'] ?? '127.0.0.1'), stdout, stderr });
    },
  },
  {
    path: ['status'],
    summary: 'Show what a running `knts serve` serves: URLs, traffic, pods, SKS mode, concurrency',
    maxPositionals: 0,
    options: {
      'admin-port': { type: 'string', value: 'PORT', default: '8081', description: 'the admin port of knts serve' },
      host: { type: 'string', value: 'ADDR', default: '127.0.0.1', description: 'where knts serve runs' },
      json: { type: 'boolean', description: 'print the raw JSON' },
    },
    async run({ values, stdout, stderr }) {
      const adminPort = portValue(values['admin-port'], 'admin-port', 8081);
      if (typeof adminPort === 'string') {
        stderr.write(`status: ${adminPort}\n`);
        return 2;
      }
      const { fetchStatus } = await import('./status-client.ts');
      return fetchStatus(String(values['host'] ?? '127.0.0.1'), adminPort, values['json'] === true, stdout, stderr);
    },
  },
];
