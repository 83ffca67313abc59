// The config component's CLI commands: `knts config check`.
import type { Command, CommandGroup } from '../cli/command.ts';

export const groups: readonly CommandGroup[] = [{ path: ['config'], summary: 'Read and check Knative config-* ConfigMaps' }];

export const commands: readonly Command[] = [
  {
    path: ['config', 'check'],
    summary: 'Print the effective configuration of ConfigMap YAML files, or every error',
    args: 'FILE...',
    description:
      'Reads ConfigMap YAML (one or many documents per file; "-" reads stdin) and prints the effective\n' +
      'configuration of every config map knts reads as JSON, with Knative\'s defaults where keys or maps\n' +
      'are absent. On invalid input it prints every error and exits 1. Warnings go to stderr.',
    minPositionals: 1,
    options: {
      'cluster-domain': { type: 'string', value: 'DOMAIN', description: 'Cluster domain for config-domain (default: CLUSTER_DOMAIN, resolv.conf, cluster.local)' },
    },
    async run({ positionals, values, ...io }) {
      const { checkConfigFiles } = await import('./check.ts');
      const domain = values['cluster-domain'];
      return checkConfigFiles(positionals, io, typeof domain === 'string' ? { clusterDomain: domain } : {});
    },
  },
];
