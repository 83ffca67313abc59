// The activator's CLI command: `knts activator [CONFIG.yaml...]`, the same process as the image.
import type { Command } from '../cli/command.ts';

export const commands: readonly Command[] = [
  {
    path: ['activator'],
    summary: 'Run the activator: buffering, throttling and load balancing in front of revisions',
    args: '[CONFIG.yaml...]',
    description:
      'Serves revisions in Proxy mode on :8012 and :8013 (HTTP/1.1 and h2c), metrics on :9090, and\n' +
      'reports demand to the autoscaler websocket. Env as Knative\'s (POD_NAME, POD_IP, ...) plus\n' +
      'KNTS_* extensions (see activator/README.md); KNTS_BACKENDS_FILE lists revisions and pods.',
    async run({ positionals }) {
      const { runActivator } = await import('./main.ts');
      return runActivator(positionals);
    },
  },
];
