// The queue-proxy's CLI command: `knts queue-proxy` runs the sidecar from its environment.
import type { Command } from '../cli/command.ts';

export const commands: readonly Command[] = [
  {
    path: ['queue-proxy'],
    summary: 'Run the queue-proxy sidecar, configured by the env vars Knative sets (see queue-proxy/README.md)',
    description:
      'Runs the per-pod sidecar: serving port (QUEUE_SERVING_PORT, HTTP/1.1 and h2c), admin :8022,\n' +
      'autoscaler metrics :9090 and, with request-metrics-protocol prometheus, user metrics :9091.\n' +
      'Configuration comes only from the environment, as Knative\'s controller sets it; a missing or\n' +
      'invalid variable exits 1 naming it. SIGTERM drains, then exits 0.',
    maxPositionals: 0,
    async run() {
      const { runQueueProxy } = await import('./main.ts');
      return runQueueProxy(process.env);
    },
  },
];
