// `knts simulate decisions`: replays JSON-lines observations through the production windows and
// decider on a virtual clock (issue 4's "Decision replay" contract). Parsing and replay are pure;
// only runSimulateDecisions reads the input and writes the output.
import { readFile } from 'node:fs/promises';
import type { CommandIO } from '../cli/command.ts';
import { autoscalerConfigMap } from '../config/autoscaler.ts';
import { METRIC_CONCURRENCY, METRIC_RPS, validateAnnotations } from '../config/annotations.ts';
import { resolveRevisionAutoscaling, type RevisionAutoscaling } from '../config/revision-autoscaling.ts';
import { formatIssue } from '../config/schema.ts';
import { createDeciderState, decide, deciderSpecFrom, initialExcessBurstCapacity, type DeciderState } from './decider.ts';
import { createWindow, type WindowAverager } from './windows.ts';

const NS_PER_MS = 1_000_000;
/** Decisions are evaluated every 2 s of virtual time (Knative's tickInterval). */
const TICK_SECONDS = 2;
/** A bound on the virtual clock so a typo in t cannot run for hours. */
const MAX_SPAN_SECONDS = 10_000_000;

export type Observation =
  | { readonly kind: 'raw'; readonly line: number; readonly t: number; readonly concurrency: number; readonly rps: number; readonly readyPods?: number }
  | { readonly kind: 'averaged'; readonly line: number; readonly t: number; readonly stable: number; readonly panic: number; readonly readyPods?: number }
  | { readonly kind: 'pods'; readonly line: number; readonly t: number; readonly readyPods?: number };

export interface ReplayInput {
  readonly autoscaling: RevisionAutoscaling;
  readonly observations: readonly Observation[];
}

export interface ReplayError {
  readonly line: number;
  readonly message: string;
}

export type Parsed = { readonly ok: true; readonly input: ReplayInput } | { readonly ok: false; readonly errors: readonly ReplayError[] };

export interface DecisionLine {
  readonly t: number;
  /** null when the metric source has no data (Knative makes no decision). */
  readonly desiredPods: number | null;
  readonly excessBurstCapacity: number;
  readonly panicking: boolean;
  /** The values the decider used; null when it made no decision. */
  readonly stable: number | null;
  readonly panic: number | null;
}

const CONFIG_KEYS = new Set(['config', 'annotations', 'containerConcurrency']);
const OBSERVATION_KEYS = new Set(['t', 'concurrency', 'rps', 'stable', 'panic', 'readyPods']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** ConfigMap data and annotations are strings; JSON numbers and booleans are accepted as text. */
function stringMap(v: unknown, what: string): { map: Record<string, string> } | { error: string } {
  if (v === undefined) return { map: {} };
  if (!isObject(v)) return { error: `${what} must be an object` };
  const map: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') map[k] = x;
    else if (typeof x === 'number' || typeof x === 'boolean') map[k] = String(x);
    else return { error: `${what}: ${k} must be a string, number or boolean` };
  }
  return { map };
}

function parseConfigLine(o: Record<string, unknown>, line: number): { autoscaling: RevisionAutoscaling } | { errors: ReplayError[] } {
  const at = (message: string): ReplayError => ({ line, message });
  const unknown = Object.keys(o).filter((k) => !CONFIG_KEYS.has(k));
  if (unknown.length > 0) return { errors: [at(`unknown key ${JSON.stringify(unknown[0])} in the config line (expected config, annotations, containerConcurrency)`)] };
  const data = stringMap(o['config'], 'config');
  if ('error' in data) return { errors: [at(data.error)] };
  const annotations = stringMap(o['annotations'], 'annotations');
  if ('error' in annotations) return { errors: [at(annotations.error)] };
  const cc = o['containerConcurrency'] ?? 0;
  if (!isCount(cc)) return { errors: [at('containerConcurrency must be a whole number ≥ 0')] };

  const parsed = autoscalerConfigMap.parse(data.map);
  if (!parsed.ok) return { errors: parsed.errors.map((i) => at(formatIssue(i))) };
  const issues = validateAnnotations(annotations.map, parsed.config);
  if (issues.length > 0) return { errors: issues.map((i) => at(formatIssue(i))) };
  const autoscaling = resolveRevisionAutoscaling(annotations.map, parsed.config, cc);
  if (autoscaling.metric !== METRIC_CONCURRENCY && autoscaling.metric !== METRIC_RPS) {
    return { errors: [at(`metric ${JSON.stringify(autoscaling.metric)} cannot be replayed: the KPA decider scales on concurrency or rps`)] };
  }
  return { autoscaling };
}

function parseObservation(o: Record<string, unknown>, line: number): Observation | ReplayError {
  const at = (message: string): ReplayError => ({ line, message });
  for (const k of Object.keys(o)) if (!OBSERVATION_KEYS.has(k)) return at(`unknown key ${JSON.stringify(k)} (expected t, concurrency, rps, stable, panic, readyPods)`);
  const { t, readyPods } = o;
  if (t === undefined) return at('missing t (only the first line may be the config line)');
  if (typeof t !== 'number' || !Number.isSafeInteger(t)) return at(`t must be a whole number of seconds, got ${JSON.stringify(t)}`);
  if (readyPods !== undefined && !isCount(readyPods)) return at(`readyPods must be a whole number ≥ 0, got ${JSON.stringify(readyPods)}`);
  for (const k of ['concurrency', 'rps', 'stable', 'panic']) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return at(`${k} must be a number, got ${JSON.stringify(v)}`);
  }
  const num = (k: string): number | undefined => o[k] as number | undefined;
  const pods = readyPods === undefined ? {} : { readyPods };
  const raw = num('concurrency') !== undefined || num('rps') !== undefined;
  const averaged = num('stable') !== undefined || num('panic') !== undefined;
  if (raw && averaged) return at('a line is either raw (concurrency, rps) or pre-averaged (stable, panic), not both');
  if (raw) return { kind: 'raw', line, t, concurrency: num('concurrency') ?? 0, rps: num('rps') ?? 0, ...pods };
  if (averaged) {
    const stable = num('stable');
    const panic = num('panic');
    if (stable === undefined || panic === undefined) return at('a pre-averaged line needs both stable and panic');
    return { kind: 'averaged', line, t, stable, panic, ...pods };
  }
  return { kind: 'pods', line, t, ...pods };
}

/** Parses and checks the whole input, collecting every error with its line number. */
export function parseReplay(text: string): Parsed {
  const errors: ReplayError[] = [];
  const observations: Observation[] = [];
  let autoscaling: RevisionAutoscaling | undefined;
  let first = true;
  let kind: 'raw' | 'averaged' | undefined;
  let previous: Observation | undefined;
  let t0: number | undefined;
  const lines = text.split('\n');
  for (const [i, rawLine] of lines.entries()) {
    const line = i + 1;
    const s = rawLine.trim();
    if (s === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch (e) {
      errors.push({ line, message: `not valid JSON: ${(e as Error).message}` });
      first = false;
      continue;
    }
    if (!isObject(value)) {
      errors.push({ line, message: 'expected a JSON object' });
      first = false;
      continue;
    }
    if (first && !('t' in value)) {
      first = false;
      const c = parseConfigLine(value, line);
      if ('errors' in c) errors.push(...c.errors);
      else autoscaling = c.autoscaling;
      continue;
    }
    first = false;
    const o = parseObservation(value, line);
    if (!('kind' in o)) {
      errors.push(o);
      continue;
    }
    if (previous !== undefined && o.t < previous.t) {
      errors.push({ line, message: `t ${o.t} goes back in time (line ${previous.line} has t ${previous.t})` });
      continue;
    }
    t0 ??= o.t;
    if (o.t - t0 > MAX_SPAN_SECONDS) {
      errors.push({ line, message: `t ${o.t} is more than ${MAX_SPAN_SECONDS} s after the first observation` });
      continue;
    }
    if (o.kind !== 'pods') {
      if (kind !== undefined && kind !== o.kind) {
        errors.push({ line, message: `a ${o.kind === 'raw' ? 'raw' : 'pre-averaged'} line in a file of ${kind === 'raw' ? 'raw' : 'pre-averaged'} lines: use one kind per file` });
        continue;
      }
      kind = o.kind;
    }
    previous = o;
    observations.push(o);
  }
  if (errors.length === 0 && observations.length === 0) errors.push({ line: Math.max(1, lines.length), message: 'no observation lines' });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, input: { autoscaling: autoscaling ?? defaultAutoscaling(), observations } };
}

function defaultAutoscaling(): RevisionAutoscaling {
  return resolveRevisionAutoscaling({}, autoscalerConfigMap.defaults(), 0);
}

/** The collector's four windows (§3.2), fed by raw lines. */
interface Windows {
  readonly stable: WindowAverager;
  readonly panic: WindowAverager;
}

/** Runs the decider over the observations on the virtual clock; one line per evaluation. */
export function replayDecisions(input: ReplayInput): DecisionLine[] {
  const r = input.autoscaling;
  const spec = deciderSpecFrom(r, true);
  const obs = input.observations;
  const first = obs[0];
  const last = obs[obs.length - 1];
  if (first === undefined || last === undefined) return [];
  const t0 = first.t;
  const windows = (): Windows => ({
    stable: createWindow(r.metricAggregationAlgorithm, r.stableWindow / NS_PER_MS),
    panic: createWindow(r.metricAggregationAlgorithm, r.panicWindow / NS_PER_MS),
  });
  const concurrency = windows();
  const rps = windows();
  const metric = spec.scalingMetric === METRIC_RPS ? rps : concurrency;
  // TBC −1 means no scrape target, and Knative reports "no data" only with one.
  const scraped = spec.targetBurstCapacity !== -1;
  const preAveraged = obs.some((o) => o.kind === 'averaged');

  let readyPods = 0;
  let averaged: { stable: number; panic: number } | undefined;
  let state: DeciderState | undefined;
  let ebc = initialExcessBurstCapacity(spec);
  const out: DecisionLine[] = [];
  let next = 0;

  for (let t = t0; t <= last.t; t++) {
    const nowMs = t * 1000;
    for (; next < obs.length && obs[next]!.t === t; next++) {
      const o = obs[next]!;
      if (o.readyPods !== undefined) readyPods = o.readyPods;
      if (o.kind === 'raw') {
        for (const [w, v] of [[concurrency, o.concurrency], [rps, o.rps]] as const) {
          w.stable.record(nowMs, v);
          w.panic.record(nowMs, v);
        }
      } else if (o.kind === 'averaged') averaged = { stable: o.stable, panic: o.panic };
    }
    state ??= createDeciderState(spec, readyPods, nowMs);
    if ((t - t0) % TICK_SECONDS !== 0) continue;

    let values: { stable: number; panic: number } | undefined;
    if (preAveraged) values = averaged ?? (scraped ? undefined : { stable: 0, panic: 0 });
    else if (!(scraped && metric.stable.isEmpty(nowMs))) values = { stable: metric.stable.windowAverage(nowMs), panic: metric.panic.windowAverage(nowMs) };

    if (values === undefined) {
      out.push({ t, desiredPods: null, excessBurstCapacity: ebc, panicking: state.panicTimeMs !== undefined, stable: null, panic: null });
      continue;
    }
    const d = decide(spec, state, values.stable, values.panic, readyPods, nowMs);
    state = d.state;
    ebc = d.excessBurstCapacity;
    out.push({ t, desiredPods: d.desiredPodCount, excessBurstCapacity: ebc, panicking: d.panicking, stable: values.stable, panic: values.panic });
  }
  return out;
}

async function readInput(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += chunk as string;
  return text;
}

/** The command: reads FILE (or stdin for "-"), prints one JSON line per evaluation. */
export async function runSimulateDecisions(file: string, io: CommandIO): Promise<number> {
  let text: string;
  try {
    text = await readInput(file, io.stdin);
  } catch (e) {
    io.stderr.write(`knts simulate decisions: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  const parsed = parseReplay(text);
  if (!parsed.ok) {
    for (const e of parsed.errors) io.stderr.write(`${file === '-' ? 'stdin' : file}: line ${e.line}: ${e.message}\n`);
    return 1;
  }
  const lines = replayDecisions(parsed.input).map((d) => JSON.stringify(d));
  io.stdout.write(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return 0;
}
