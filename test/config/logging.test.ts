// config-logging: the zap logger config and loglevel.<component> levels (spec §4.7), with
// levelFor() and pinoLevel(), table-driven.
import test from 'ava';
import { invalidRows } from '../helpers/config-table.ts';
import { COMPONENTS, DEFAULT_ZAP_LOGGER_CONFIG, levelFor, loggingConfigMap, pinoLevel, type LoggingConfig, type ZapLevel } from '../../config/logging.ts';
import { formatIssue } from '../../config/schema.ts';

const parse = (data: Record<string, string>) => loggingConfigMap.parse(data);
const BAD_LEVEL = 'must be a log level: one of debug, info, warn, error, dpanic, panic, fatal';

test('defaults match Knative', (t) => {
  const expected: LoggingConfig = { zapLoggerConfig: DEFAULT_ZAP_LOGGER_CONFIG, levels: {} };
  t.deepEqual(loggingConfigMap.defaults(), expected);
  const zap = JSON.parse(DEFAULT_ZAP_LOGGER_CONFIG) as Record<string, unknown>;
  t.is(zap['level'], 'info');
  t.is(zap['encoding'], 'json');
  t.deepEqual(zap['outputPaths'], ['stdout']);
  t.deepEqual(zap['errorOutputPaths'], ['stderr']);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) {
    t.deepEqual(empty.config, expected);
    t.deepEqual(empty.warnings, []);
  }
});

test('the components are the ones Knative names', (t) => {
  t.deepEqual([...COMPONENTS], ['controller', 'autoscaler', 'queueproxy', 'webhook', 'activator', 'hpaautoscaler']);
});

// [key, value, component, parsed level]
const valid: [string, string, string, ZapLevel][] = [
  ['loglevel.controller', 'debug', 'controller', 'debug'],
  ['loglevel.autoscaler', 'info', 'autoscaler', 'info'],
  ['loglevel.queueproxy', 'warn', 'queueproxy', 'warn'],
  ['loglevel.webhook', 'error', 'webhook', 'error'],
  ['loglevel.activator', 'dpanic', 'activator', 'dpanic'],
  ['loglevel.hpaautoscaler', 'panic', 'hpaautoscaler', 'panic'],
  ['loglevel.controller', 'fatal', 'controller', 'fatal'],
  ['loglevel.net-kourier-controller', 'debug', 'net-kourier-controller', 'debug'],
  // zap tries the text as written, then lowercased: any case works.
  ['loglevel.controller', 'DEBUG', 'controller', 'debug'],
  ['loglevel.activator', 'Warn', 'activator', 'warn'],
  ['loglevel.queueproxy', 'dPanic', 'queueproxy', 'dpanic'],
  ['loglevel.webhook', 'ERROR', 'webhook', 'error'],
];

for (const [key, value, component, want] of valid) {
  test(`valid ${key}: ${JSON.stringify(value)}`, (t) => {
    const r = parse({ [key]: value });
    t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
    if (r.ok) {
      t.deepEqual(r.config.levels, { [component]: want });
      t.is(levelFor(r.config, component), want);
      t.deepEqual(r.warnings.map(formatIssue), []);
    }
  });
}

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  [{ 'loglevel.controller': 'verbose' }, `config-logging: loglevel.controller: "verbose" ${BAD_LEVEL}`],
  [{ 'loglevel.autoscaler': 'warning' }, `config-logging: loglevel.autoscaler: "warning" ${BAD_LEVEL}`],
  [{ 'loglevel.queueproxy': 'trace' }, `config-logging: loglevel.queueproxy: "trace" ${BAD_LEVEL}`],
  [{ 'loglevel.webhook': ' info' }, `config-logging: loglevel.webhook: " info" ${BAD_LEVEL}`],
  [{ 'loglevel.activator': '1' }, `config-logging: loglevel.activator: "1" ${BAD_LEVEL}`],
  [{ 'loglevel.net-istio': 'loud' }, `config-logging: loglevel.net-istio: "loud" ${BAD_LEVEL}`],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'loglevel.controller': 'loud', 'loglevel.activator': 'quiet', 'loglevel.webhook': 'info' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key).sort(), ['loglevel.activator', 'loglevel.controller']);
});

test('an empty level is skipped', (t) => {
  const r = parse({ 'loglevel.controller': '', 'loglevel.activator': 'debug' });
  t.true(r.ok);
  if (r.ok) {
    t.deepEqual(r.config.levels, { activator: 'debug' });
    t.is(levelFor(r.config, 'controller'), 'info');
  }
  t.deepEqual(r.warnings, []);
});

test('an unknown component is accepted with a warning', (t) => {
  const r = parse({ 'loglevel.controler': 'debug' });
  t.true(r.ok);
  if (r.ok) t.deepEqual(r.config.levels, { controler: 'debug' });
  t.deepEqual(r.warnings.map(formatIssue), [
    'config-logging: loglevel.controler: "debug" names a component Knative does not have (controller, autoscaler, queueproxy, webhook, activator, hpaautoscaler, net-*)',
  ]);
});

test('keys other than loglevel.<component> and zap-logger-config are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'log-level.controller': 'debug', 'loglevel.': 'info', 'zap-config': '{}' });
  t.true(r.ok);
  if (r.ok) t.deepEqual(r.config.levels, {});
  t.deepEqual(r.warnings.map(formatIssue), [
    'config-logging: log-level.controller: "debug" is not a key of this map and is ignored',
    'config-logging: loglevel.: "info" is not a key of this map and is ignored',
    'config-logging: zap-config: "{}" is not a key of this map and is ignored',
  ]);
});

test('zap-logger-config is kept as written', (t) => {
  const zap = '{"level": "warn", "encoding": "console"}';
  const r = parse({ 'zap-logger-config': zap });
  t.true(r.ok);
  if (r.ok) t.is(r.config.zapLoggerConfig, zap);
  t.deepEqual(r.warnings, []);
});

// [zap-logger-config, exact warning]: Knative accepts these and builds a fallback logger later.
const zapWarnings: [string, string][] = [
  [
    '{"level": "info",',
    `config-logging: zap-logger-config: "{\\"level\\": \\"info\\"," is not valid JSON (Expected double-quoted property name in JSON at position 17 (line 1 column 18)); components would fall back to a default logger`,
  ],
  ['not json', `config-logging: zap-logger-config: "not json" is not valid JSON (Unexpected token 'o', "not json" is not valid JSON); components would fall back to a default logger`],
  ['["info"]', 'config-logging: zap-logger-config: "[\\"info\\"]" is not a JSON object; components would fall back to a default logger'],
  [
    '{"level": "verbose"}',
    'config-logging: zap-logger-config: "{\\"level\\": \\"verbose\\"}" has a level that is not one of debug, info, warn, error, dpanic, panic, fatal; components would fall back to a default logger',
  ],
];

for (const [zap, warning] of zapWarnings) {
  test(`zap-logger-config ${JSON.stringify(zap)} is a warning, not an error`, (t) => {
    const r = parse({ 'zap-logger-config': zap, 'loglevel.controller': 'debug' });
    t.true(r.ok);
    if (r.ok) {
      t.is(r.config.zapLoggerConfig, zap);
      t.is(levelFor(r.config, 'controller'), 'debug');
      t.is(levelFor(r.config, 'activator'), 'info');
    }
    t.deepEqual(r.warnings.map(formatIssue), [warning]);
  });
}

test('an empty zap-logger-config is zap\'s default, without a warning', (t) => {
  const r = parse({ 'zap-logger-config': '' });
  t.true(r.ok);
  if (r.ok) {
    t.is(r.config.zapLoggerConfig, '');
    t.is(levelFor(r.config, 'controller'), 'info');
  }
  t.deepEqual(r.warnings, []);
});

// [zap-logger-config, loglevel.* data, component, level]
const levelCases: [string | undefined, Record<string, string>, string, ZapLevel][] = [
  [undefined, {}, 'controller', 'info'],
  [undefined, { 'loglevel.controller': 'error' }, 'controller', 'error'],
  [undefined, { 'loglevel.controller': 'error' }, 'activator', 'info'],
  // Without its own key a component logs at the zap config's level ("reset to global level").
  ['{"level": "debug"}', {}, 'activator', 'debug'],
  ['{"level": "WARN"}', {}, 'webhook', 'warn'],
  ['{"level": "debug"}', { 'loglevel.activator': 'error' }, 'activator', 'error'],
  ['{"encoding": "json"}', {}, 'autoscaler', 'info'],
  ['{"level": ""}', {}, 'autoscaler', 'info'],
  ['null', {}, 'autoscaler', 'info'],
];

for (const [zap, levels, component, want] of levelCases) {
  test(`levelFor ${component} with zap ${String(zap)} and ${JSON.stringify(levels)}`, (t) => {
    const r = parse(zap === undefined ? levels : { ...levels, 'zap-logger-config': zap });
    t.true(r.ok);
    if (r.ok) t.is(levelFor(r.config, component), want);
  });
}

test('pinoLevel maps zap levels onto pino levels', (t) => {
  const want: Record<ZapLevel, ReturnType<typeof pinoLevel>> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', dpanic: 'fatal', panic: 'fatal', fatal: 'fatal' };
  for (const [zap, pino] of Object.entries(want) as [ZapLevel, ReturnType<typeof pinoLevel>][]) t.is(pinoLevel(zap), pino, zap);
});

test('show prints the config and levels', (t) => {
  const r = parse({ 'loglevel.activator': 'Debug' });
  t.true(r.ok);
  if (r.ok) t.deepEqual(loggingConfigMap.show(r.config), { zapLoggerConfig: DEFAULT_ZAP_LOGGER_CONFIG, levels: { activator: 'debug' } });
});
