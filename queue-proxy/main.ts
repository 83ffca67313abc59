// Entry point of the queue-proxy image (`node dist/queue-proxy/main.js`) and of
// `knts queue-proxy`: reads the environment Knative's controller sets, starts the servers, and
// drains on SIGTERM or SIGINT. A missing or bad variable exits 1 naming it.
import module from 'node:module';
import { untilSignal } from '../cli/until-signal.ts';
import { createLogger } from '../config/logger.ts';
import { zapConfigLevel } from '../config/logging.ts';
import { parseQueueEnv } from './env.ts';
import { startQueueProxy } from './server.ts';

export async function runQueueProxy(envVars: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseQueueEnv(envVars);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(`queue-proxy: ${e}\n`);
    return 1;
  }
  const env = parsed.env;
  const level = env.loggingLevel || zapConfigLevel(env.loggingConfig) || 'info';
  const log = createLogger('queueproxy', level).child({ knative: { revision: env.revision, namespace: env.namespace, pod: env.pod } });
  const started = await startQueueProxy(env, log);
  if (!started.ok) {
    log.error(started.error);
    process.stderr.write(`queue-proxy: ${started.error}\n`);
    return 1;
  }
  const qp = started.qp;
  const exit = untilSignal(log, () => qp.shutdown());
  // Announced only once the signal handlers are in place.
  log.info({ ports: qp.ports, containerConcurrency: env.containerConcurrency }, 'queue-proxy listening');
  // A local pod outlives a runtime that was killed outright; reparenting tells us it is gone.
  if (env.exitWithParent) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
    }, 1000).unref();
  }
  // With NODE_COMPILE_CACHE set (knts serve sets it), keep what this start compiled for the next
  // pod now, rather than at exit: pods of a revision at zero start often and die by signal.
  if (process.env['NODE_COMPILE_CACHE']) module.flushCompileCache();
  return exit;
}

if (import.meta.main) {
  process.exitCode = await runQueueProxy();
}
