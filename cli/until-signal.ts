// The long-running commands' lifecycle: run until SIGTERM or SIGINT, then shut down once and
// resolve to the exit code. Handlers stay installed (not once), so a second signal during a
// drain is logged rather than killing the process.
import type { Logger } from 'pino';

export function untilSignal(log: Logger, shutdown: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.info({ signal }, 'already shutting down');
        return;
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      shutdown().then(
        () => resolve(0),
        (err: Error) => {
          log.error({ err: err.message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
