// Entry point of the activator image (`node dist/activator/main.js [CONFIG.yaml...]`) and of
// `knts activator`: reads the environment (§2.1) and config-map files, starts the servers, and
// on SIGTERM fails health checks, drains for 45 s and shuts down. KNTS_BACKENDS_FILE gives the
// revisions and endpoints without Kubernetes; SIGHUP re-reads it.
import { untilSignal } from '../cli/until-signal.ts';
import { clusterDomain } from '../config/cluster-domain.ts';
import { loadConfigFiles } from '../config/load-files.ts';
import { createLogger } from '../config/logger.ts';
import { levelFor } from '../config/logging.ts';
import { StaticBackendSource } from './backends.ts';
import { applyBackendsFile, readBackendsFile } from './backends-file.ts';
import { parseActivatorEnv } from './env.ts';
import { startActivator } from './server.ts';

export async function runActivator(configFiles: readonly string[], envVars: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseActivatorEnv(envVars);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(`activator: ${e}\n`);
    return 1;
  }
  const env = parsed.env;
  const loaded = await loadConfigFiles(configFiles);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`activator: ${e}\n`);
    return 1;
  }
  const log = createLogger('activator', levelFor(loaded.value.logging, 'activator')).child({ knative: { pod: env.podName } });
  const source = new StaticBackendSource();
  const reload = async (): Promise<boolean> => {
    if (env.backendsFile === undefined) return true;
    const file = await readBackendsFile(env.backendsFile);
    if (!file.ok) {
      for (const e of file.errors) log.error(e);
      return false;
    }
    applyBackendsFile(source, file.entries);
    log.info({ revisions: file.entries.length }, 'backends file loaded');
    return true;
  };
  if (!(await reload())) {
    process.stderr.write(`activator: ${env.backendsFile ?? ''}: invalid backends file (see log)\n`);
    return 1;
  }
  let act;
  try {
    act = await startActivator({ env, source, log, network: loaded.value.network, clusterDomain: clusterDomain() });
  } catch (err) {
    process.stderr.write(`activator: ${(err as Error).message}\n`);
    return 1;
  }
  const running = act;
  process.on('SIGHUP', () => void reload());
  const exit = untilSignal(log, () => running.shutdown());
  log.info({ ports: running.ports }, 'activator listening');
  return exit;
}

if (import.meta.main) {
  process.exitCode = await runActivator(process.argv.slice(2));
}
