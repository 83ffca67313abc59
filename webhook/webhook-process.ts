// The webhook process (`knts webhook`, the webhook image): config-map files in, the HTTPS
// admission server up, SIGHUP re-reading the config maps and the certificate files (a bad
// reload is logged and the previous ones kept), SIGTERM/SIGINT failing probes and closing.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { UsageError, type CommandArgs } from '../cli/command.ts';
import { untilSignal } from '../cli/until-signal.ts';
import { clusterDomain } from '../config/cluster-domain.ts';
import type { EffectiveConfig } from '../config/configmaps.ts';
import { loadConfigFiles } from '../config/load-files.ts';
import { createLogger } from '../config/logger.ts';
import { levelFor, pinoLevel } from '../config/logging.ts';
import { ADMISSION_PATHS, type AdmissionContext } from './admission.ts';
import { selfSignedCertificate } from './self-signed.ts';
import { servingSemantics } from './semantics.ts';
import { startWebhookServer, WEBHOOK_PORT, type TlsFiles } from './server.ts';

const COMMAND = ['webhook'];

type TlsSource = { readonly selfSigned: true } | { readonly selfSigned: false; readonly certFile: string; readonly keyFile: string };

/** Where the certificate comes from: flags first, then KNTS_WEBHOOK_TLS_CERT/KEY. */
export function tlsSource(values: CommandArgs['values'], env: NodeJS.ProcessEnv): TlsSource {
  const flag = (name: string): string | undefined => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  if (values['self-signed'] === true) {
    if (flag('tls-cert') !== undefined || flag('tls-key') !== undefined) throw new UsageError('--self-signed and --tls-cert/--tls-key exclude each other', COMMAND);
    return { selfSigned: true };
  }
  const certFile = flag('tls-cert') ?? (env['KNTS_WEBHOOK_TLS_CERT'] || undefined);
  const keyFile = flag('tls-key') ?? (env['KNTS_WEBHOOK_TLS_KEY'] || undefined);
  if (certFile === undefined && keyFile === undefined) {
    throw new UsageError('a certificate is required: --tls-cert FILE and --tls-key FILE (or KNTS_WEBHOOK_TLS_CERT and KNTS_WEBHOOK_TLS_KEY), or --self-signed', COMMAND);
  }
  if (certFile === undefined || keyFile === undefined) throw new UsageError(`--tls-cert and --tls-key go together: ${certFile === undefined ? '--tls-cert' : '--tls-key'} is missing`, COMMAND);
  return { selfSigned: false, certFile, keyFile };
}

async function readTls(source: Extract<TlsSource, { selfSigned: false }>): Promise<TlsFiles | string> {
  try {
    const [cert, key] = await Promise.all([readFile(source.certFile), readFile(source.keyFile)]);
    return { cert, key };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `cannot read ${e.path ?? 'the certificate'}: ${e.code ?? e.message}`;
  }
}

function portFrom(values: CommandArgs['values'], env: NodeJS.ProcessEnv): number | string {
  const flag = values['port'];
  const [raw, name] = typeof flag === 'string' ? [flag, '--port'] : env['WEBHOOK_PORT'] ? [env['WEBHOOK_PORT'], 'WEBHOOK_PORT'] : [String(WEBHOOK_PORT), '--port'];
  const n = Number(raw);
  return /^\d+$/.test(raw) && n <= 65535 ? n : `${name}: ${JSON.stringify(raw)} is not a port number (0-65535)`;
}

/** knative/pkg's TLS_MIN_VERSION: "1.2", "1.3" or unset (1.3). */
function minTlsVersion(env: NodeJS.ProcessEnv): 'TLSv1.2' | 'TLSv1.3' | string {
  const v = env['TLS_MIN_VERSION'] ?? '';
  if (v === '' || v === '1.3') return 'TLSv1.3';
  if (v === '1.2') return 'TLSv1.2';
  return `TLS_MIN_VERSION: ${JSON.stringify(v)} must be "1.2" or "1.3"`;
}

export async function runWebhookCli(args: CommandArgs, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fail = (message: string): number => {
    args.stderr.write(`webhook: ${message}\n`);
    return 1;
  };
  const source = tlsSource(args.values, env);
  const port = portFrom(args.values, env);
  if (typeof port === 'string') return fail(port);
  const minVersion = minTlsVersion(env);
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') return fail(minVersion);
  const loaded = await loadConfigFiles(args.positionals);
  if (!loaded.ok) {
    for (const e of loaded.errors) args.stderr.write(`error: ${e}\n`);
    return 1;
  }
  for (const w of loaded.warnings) args.stderr.write(`warning: ${w}\n`);
  const initial: TlsFiles | string = source.selfSigned ? selfSignedCertificate() : await readTls(source);
  if (typeof initial === 'string') return fail(initial);
  const tls: TlsFiles = initial;

  let config: EffectiveConfig = loaded.value;
  const domain = clusterDomain(env);
  const log = createLogger('webhook', levelFor(config.logging, 'webhook'));
  const context = (): AdmissionContext => ({ config, semantics: servingSemantics, clusterDomain: domain });
  const host = args.values['host'];
  let server;
  try {
    server = await startWebhookServer({ tls, context, log, port, minTlsVersion: minVersion, ...(typeof host === 'string' ? { host } : {}) });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'webhook failed to start');
    return fail((err as Error).message);
  }
  const running = server;
  process.on('SIGHUP', () => void reload(log));

  async function reload(l: Logger): Promise<void> {
    const next = await loadConfigFiles(args.positionals);
    if (next.ok) {
      config = next.value;
      // config-logging's loglevel.webhook applies from now on, as Knative's watched map does.
      l.level = pinoLevel(levelFor(config.logging, 'webhook'));
      l.info({ files: args.positionals }, 'configuration reloaded');
    } else l.error({ errors: next.errors }, 'configuration reload failed; keeping the previous configuration');
    if (source.selfSigned) return;
    const files = await readTls(source);
    try {
      if (typeof files === 'string') throw new Error(files);
      running.setCertificate(files);
      l.info('certificate reloaded');
    } catch (err) {
      l.error({ err: (err as Error).message }, 'certificate reload failed; keeping the previous certificate');
    }
  }

  const exit = untilSignal(log, () => running.close());
  log.info(
    {
      port: running.port,
      paths: ADMISSION_PATHS,
      // What a webhook configuration's clientConfig.caBundle needs to trust this server.
      ...(source.selfSigned ? { caBundle: Buffer.from(tls.cert).toString('base64') } : {}),
    },
    'webhook listening',
  );
  return exit;
}
