// The pino logger every knts process logs with: JSON lines with a level, named for the
// component. Knative's zap levels (config-logging) map onto pino's.
import { pino, type Logger } from 'pino';
import { pinoLevel, type ZapLevel } from './logging.ts';

const ZAP_LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

/** A logger at the given zap level word (empty or unknown: info). */
export function createLogger(component: string, level = 'info', destination?: NodeJS.WritableStream): Logger {
  const word = level.toLowerCase();
  const zap = (ZAP_LEVELS.includes(word) ? word : 'info') as ZapLevel;
  const options = { name: component, level: pinoLevel(zap), base: { component }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
