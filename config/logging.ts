// config-logging (spec §4.7): the zap logger config and per-component `loglevel.<component>`
// levels. Levels map onto pino's, which our components log with.
import { EXAMPLE_KEY, type ConfigIssue, type ConfigMapSpec, type RawData } from './schema.ts';

export type ZapLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';
const LEVELS: readonly ZapLevel[] = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

/** The components Knative names; another component name is accepted but warned about. */
export const COMPONENTS = ['controller', 'autoscaler', 'queueproxy', 'webhook', 'activator', 'hpaautoscaler'] as const;

export interface LoggingConfig {
  /** JSON zap config; Knative does not validate it until a logger is built. */
  readonly zapLoggerConfig: string;
  readonly levels: Readonly<Record<string, ZapLevel>>;
}

export const DEFAULT_ZAP_LOGGER_CONFIG = JSON.stringify({
  level: 'info',
  development: false,
  outputPaths: ['stdout'],
  errorOutputPaths: ['stderr'],
  encoding: 'json',
  encoderConfig: {
    timeKey: 'ts',
    levelKey: 'level',
    nameKey: 'logger',
    callerKey: 'caller',
    messageKey: 'msg',
    stacktraceKey: 'stacktrace',
    lineEnding: '',
    levelEncoder: '',
    timeEncoder: 'iso8601',
    durationEncoder: '',
    callerEncoder: '',
  },
});

const PREFIX = 'loglevel.';
const NAME = 'config-logging';

/** zap accepts the word as written or lowercased, so in effect any case. */
function parseLevel(raw: string): ZapLevel | undefined {
  return LEVELS.find((l) => l === raw || l === raw.toLowerCase());
}

/**
 * The `level` of a zap logger config, as zap reads it; undefined when the JSON does not parse or
 * the level is not one zap knows (zap then builds its fallback logger, at info). A missing or
 * empty level is info.
 */
export function zapConfigLevel(zapLoggerConfig: string): ZapLevel | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(zapLoggerConfig);
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const level = (doc as { level?: unknown }).level;
  if (level === undefined || level === null || level === '') return 'info';
  return typeof level === 'string' ? parseLevel(level) : undefined;
}

/**
 * The level a component logs at: its own `loglevel.<component>` key, else the `level` of
 * zap-logger-config (knative/pkg NewLoggerFromConfig / UpdateLevelFromConfigMap "reset to
 * global level"), else info.
 */
export function levelFor(config: LoggingConfig, component: string): ZapLevel {
  return config.levels[component] ?? zapConfigLevel(config.zapLoggerConfig) ?? 'info';
}

/** zap levels onto pino levels: dpanic and panic have no pino twin and log as fatal. */
export function pinoLevel(level: ZapLevel): 'debug' | 'info' | 'warn' | 'error' | 'fatal' {
  return level === 'dpanic' || level === 'panic' ? 'fatal' : level;
}

export const loggingConfigMap: ConfigMapSpec<LoggingConfig> = {
  name: NAME,
  defaults: () => ({ zapLoggerConfig: DEFAULT_ZAP_LOGGER_CONFIG, levels: {} }),
  parse(data: RawData) {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const levels: Record<string, ZapLevel> = {};
    const zap = data['zap-logger-config'];
    // An empty config is zap's production default, not an error (knative/pkg zapConfigFromJSON);
    // so is JSON null.
    if (zap !== undefined && zap !== '') {
      try {
        const doc: unknown = JSON.parse(zap);
        if (doc === null) {
          // the default config
        } else if (typeof doc !== 'object' || Array.isArray(doc)) {
          warnings.push({ source: NAME, key: 'zap-logger-config', value: zap, rule: 'is not a JSON object; components would fall back to a default logger' });
        } else if (zapConfigLevel(zap) === undefined) {
          // zap's JSON unmarshalling fails on it just the same.
          warnings.push({ source: NAME, key: 'zap-logger-config', value: zap, rule: `has a level that is not one of ${LEVELS.join(', ')}; components would fall back to a default logger` });
        }
      } catch (err) {
        // Knative accepts it and falls back to a default logger later; say so now.
        warnings.push({ source: NAME, key: 'zap-logger-config', value: zap, rule: `is not valid JSON (${(err as Error).message}); components would fall back to a default logger` });
      }
    }
    for (const [key, raw] of Object.entries(data)) {
      if (key === 'zap-logger-config' || key === EXAMPLE_KEY) continue;
      if (!key.startsWith(PREFIX) || key.length === PREFIX.length) {
        warnings.push({ source: NAME, key, value: raw, rule: 'is not a key of this map and is ignored' });
        continue;
      }
      if (raw === '') continue; // Knative skips empty levels.
      const component = key.slice(PREFIX.length);
      const level = parseLevel(raw);
      if (!level) {
        errors.push({ source: NAME, key, value: raw, rule: `must be a log level: one of ${LEVELS.join(', ')}` });
        continue;
      }
      levels[component] = level;
      if (!(COMPONENTS as readonly string[]).includes(component) && !component.startsWith('net-')) {
        warnings.push({ source: NAME, key, value: raw, rule: `names a component Knative does not have (${COMPONENTS.join(', ')}, net-*)` });
      }
    }
    return errors.length > 0
      ? { ok: false, errors, warnings }
      : { ok: true, config: { zapLoggerConfig: zap ?? DEFAULT_ZAP_LOGGER_CONFIG, levels }, warnings };
  },
  show: (c) => ({ zapLoggerConfig: c.zapLoggerConfig, levels: c.levels }),
};
