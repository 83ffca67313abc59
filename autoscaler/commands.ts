// The autoscaler's CLI commands: `knts simulate decisions` replays observations through the
// production windows and decider.
import { AUTOSCALER_OPTIONS } from './autoscaler-options.ts';
import type { Command, CommandGroup } from '../cli/command.ts';

export const groups: readonly CommandGroup[] = [{ path: ['simulate'], summary: 'Run production code on a virtual clock' }];

export const commands: readonly Command[] = [
  {
    path: ['simulate', 'decisions'],
    summary: 'Replay JSON-lines metric observations through the KPA decider',
    args: 'FILE',
    description:
      'Reads JSON lines ("-" reads stdin): an optional first line {"config": {...config-autoscaler keys...},\n' +
      '"annotations": {...autoscaling.knative.dev/*...}, "containerConcurrency": N}, then observations, raw\n' +
      '{"t": 12, "concurrency": 37.5, "rps": 10, "readyPods": 3} or pre-averaged {"t": 12, "stable": 50,\n' +
      '"panic": 10}. The clock runs in whole seconds from the first observation; the decider is evaluated\n' +
      'then and every 2 s after, printing {"t", "desiredPods", "excessBurstCapacity", "panicking", "stable",\n' +
      '"panic"} per evaluation (desiredPods null when there is no data). Bad input names the line, exit 1.',
    minPositionals: 1,
    maxPositionals: 1,
    async run({ positionals, ...io }) {
      const { runSimulateDecisions } = await import('./replay.ts');
      return runSimulateDecisions(positionals[0] ?? '-', io);
    },
  },
  {
    path: ['autoscaler'],
    summary: 'Run the KPA autoscaler: websocket stat server, decider loop and metrics',
    args: '[CONFIG.yaml...]',
    description:
      'Serves the activators\' websocket stats (default :8080, with kubelet probes), scrapes\n' +
      'queue-proxies, runs one decider per revision every 2 s (and at once when a revision at zero\n' +
      'gets traffic), logs each decision and exports prom-client gauges (default :9090). Config comes\n' +
      'from config-map YAML files (config-autoscaler, config-deployment, ...).',
    options: AUTOSCALER_OPTIONS,
    async run(args) {
      const { runAutoscalerCli } = await import('./autoscaler-process.ts');
      return runAutoscalerCli(args);
    },
  },
];
