// The webhook's CLI commands: `knts webhook` (the admission webhook server, the same process
// as the image), and the webhook offline: `knts validate` and `knts routes`.
import type { Command, CommandIO, OptionSpec } from '../cli/command.ts';
import type { ServingSemantics } from './admission.ts';

export const WEBHOOK_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  port: { type: 'string', value: 'PORT', description: 'HTTPS port (default: env WEBHOOK_PORT, else 8443)' },
  host: { type: 'string', value: 'HOST', description: 'bind address (default: all interfaces)' },
  'self-signed': { type: 'boolean', description: 'serve with a fresh self-signed certificate (its caBundle is logged at start)' },
  'tls-cert': { type: 'string', value: 'FILE', description: 'PEM certificate (default: env KNTS_WEBHOOK_TLS_CERT)' },
  'tls-key': { type: 'string', value: 'FILE', description: 'PEM private key (default: env KNTS_WEBHOOK_TLS_KEY)' },
};

const clusterDomainOption: Readonly<Record<string, OptionSpec>> = {
  'cluster-domain': { type: 'string', value: 'DOMAIN', description: 'Cluster domain (default: CLUSTER_DOMAIN, resolv.conf, cluster.local)' },
};

type OfflineOptions = { clusterDomain: string; semantics: ServingSemantics };

async function offlineOptions(values: Readonly<Record<string, unknown>>): Promise<OfflineOptions> {
  const [{ clusterDomain }, { servingSemantics }] = await Promise.all([import('../config/cluster-domain.ts'), import('./semantics.ts')]);
  const domain = values['cluster-domain'];
  return { clusterDomain: typeof domain === 'string' ? domain : clusterDomain(), semantics: servingSemantics };
}

/** An offline command over `FILE...` with --cluster-domain; `load` imports its runner lazily. */
function offlineCommand(
  name: string,
  summary: string,
  description: string,
  load: () => Promise<(files: readonly string[], io: CommandIO, o: OfflineOptions) => Promise<number>>,
): Command {
  return {
    path: [name],
    summary,
    args: 'FILE...',
    description,
    minPositionals: 1,
    options: clusterDomainOption,
    async run({ positionals, values, ...io }) {
      const [runner, o] = await Promise.all([load(), offlineOptions(values)]);
      return runner(positionals, io, o);
    },
  };
}

export const commands: readonly Command[] = [
  {
    path: ['webhook'],
    summary: 'Run the admission webhook: defaulting, validation and config-map validation over HTTPS',
    args: '[CONFIG.yaml...]',
    description:
      'Serves Knative\'s admission paths on :8443 over HTTPS: POST /defaulting (JSON Patch),\n' +
      '/resource-validation and /config-validation, with AdmissionReview admission.k8s.io/v1. Config\n' +
      'comes from config-map YAML files (config-defaults, config-features, ...); SIGHUP re-reads them\n' +
      'and the certificate files. A certificate is required: --tls-cert and --tls-key, or --self-signed.',
    options: WEBHOOK_OPTIONS,
    async run(args) {
      const { runWebhookCli } = await import('./webhook-process.ts');
      return runWebhookCli(args);
    },
  },
  offlineCommand(
    'validate',
    'Default and validate Knative Serving YAML as the webhook would, printing the result or every error',
    'Reads every YAML document ("-" reads stdin). Each Service, Configuration, Revision and Route is\n' +
      'defaulted and validated as on CREATE in a cluster, with the files\' ConfigMaps as the config-*\n' +
      'maps. Valid resources are printed defaulted, as YAML documents; invalid ones are reported with\n' +
      'file:line, Kind/name and every error, and the exit code is 1. Warnings do not fail.',
    async () => (await import('./validate-cli.ts')).runValidate,
  ),
  offlineCommand(
    'routes',
    'Print the traffic table (HOST, REVISION, PERCENT, TAG) of the Services and Routes in YAML files',
    'Resolves the traffic of every Service and Route in the files ("-" reads stdin) as the route\n' +
      'controller would once each Configuration has its first Revision (<config>-00001) ready, with\n' +
      'hosts from the files\' config-network and config-domain. Invalid resources and traffic that\n' +
      'cannot be assigned are errors (exit 1).',
    async () => (await import('./routes-cli.ts')).runRoutes,
  ),
];
