// Flags of `knts autoscaler` and the autoscaler image, kept apart from the process code so that
// the CLI can print help without loading ws and prom-client.
import type { OptionSpec } from '../cli/command.ts';

export const AUTOSCALER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  // Knative's autoscaler Service: stats on 8080, metrics on 9090.
  port: { type: 'string', value: 'PORT', default: '8080', description: 'stat server (websocket stats, kubelet probes)' },
  'metrics-port': { type: 'string', value: 'PORT', default: '9090', description: 'prom-client metrics and /healthz' },
  host: { type: 'string', value: 'HOST', description: 'bind address (default: all interfaces)' },
};
