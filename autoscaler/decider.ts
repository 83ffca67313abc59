// The KPA decider (spec §3.4, §3.5; Knative's pkg/autoscaler/scaling/autoscaler.go): from the
// stable and panic metric values and the ready pod count to a desired pod count and the excess
// burst capacity. Pure: the state goes in and comes out, and the time is an argument.
import type { RevisionAutoscaling } from '../config/revision-autoscaling.ts';

const NS_PER_MS = 1_000_000;
/** Decisions are made every 2 s; the scale-down-delay window uses buckets of that size. */
export const TICK_INTERVAL_MS = 2000;

/** Knative's DeciderSpec, with times in milliseconds. */
export interface DeciderSpec {
  /** `concurrency` or `rps`; anything else reads concurrency, as in Knative. */
  readonly scalingMetric: string;
  readonly targetValue: number;
  readonly totalValue: number;
  /** 0: never behind the activator for burst; −1: always; > 0: the burst to keep spare. */
  readonly targetBurstCapacity: number;
  /** A ratio: 2 means 200 %. */
  readonly panicThreshold: number;
  readonly stableWindowMs: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  readonly activatorCapacity: number;
  readonly initialScale: number;
  readonly activationScale: number;
  readonly scaleDownDelayMs: number;
  readonly reachable: boolean;
}

export function deciderSpecFrom(r: RevisionAutoscaling, reachable: boolean): DeciderSpec {
  return {
    scalingMetric: r.metric,
    targetValue: r.targetValue,
    totalValue: r.totalValue,
    targetBurstCapacity: r.targetBurstCapacity,
    panicThreshold: r.panicThreshold,
    stableWindowMs: r.stableWindow / NS_PER_MS,
    maxScaleUpRate: r.maxScaleUpRate,
    maxScaleDownRate: r.maxScaleDownRate,
    activatorCapacity: r.activatorCapacity,
    initialScale: r.initialScale,
    activationScale: r.activationScale,
    scaleDownDelayMs: r.scaleDownDelay / NS_PER_MS,
    reachable,
  };
}

/** One entry of the descending maxima of the scale-down-delay window. */
interface MaxEntry {
  readonly index: number;
  readonly value: number;
}

/** Knative's max.TimeWindow: the largest value recorded in the last `size` 2 s buckets. */
export interface DelayWindow {
  readonly size: number;
  /** Descending by value, ascending by index: the front is the current maximum. */
  readonly maxima: readonly MaxEntry[];
}

export interface DeciderState {
  /** When panic was entered or last extended; undefined when not panicking. */
  readonly panicTimeMs: number | undefined;
  /** The pod count panic mode holds; it only grows while panicking. */
  readonly maxPanicPods: number;
  /** Present iff the spec had a scale-down delay when the decider was created. */
  readonly delay: DelayWindow | undefined;
}

export interface Decision {
  readonly desiredPodCount: number;
  readonly excessBurstCapacity: number;
  readonly panicking: boolean;
  readonly state: DeciderState;
}

/**
 * A new decider. With more than one ready pod it starts panicking, so that an autoscaler
 * restart (which loses the metric history) does not scale the revision down.
 */
export function createDeciderState(spec: DeciderSpec, readyPods: number, nowMs: number): DeciderState {
  return {
    panicTimeMs: readyPods > 1 ? nowMs : undefined,
    maxPanicPods: readyPods,
    delay: spec.scaleDownDelayMs > 0 ? { size: Math.ceil(spec.scaleDownDelayMs / TICK_INTERVAL_MS), maxima: [] } : undefined,
  };
}

/** The EBC a decider reports before its first decision (Go's int32() truncates). */
export function initialExcessBurstCapacity(spec: DeciderSpec): number {
  const tbc = spec.targetBurstCapacity;
  if (tbc === -1 || tbc === 0) return tbc;
  return Math.trunc(spec.initialScale * spec.totalValue - tbc);
}

/** Records a value at a 2 s bucket index, as Knative's ascending-minima max window does. */
export function recordDelay(w: DelayWindow, nowMs: number, value: number): DelayWindow {
  const index = Math.floor(Math.floor(nowMs / 1000) / (TICK_INTERVAL_MS / 1000));
  const m = [...w.maxima];
  let v = value;
  // Smaller (or equal) older values can never be the maximum again.
  while (m.length > 0 && !(v < m[m.length - 1]!.value)) m.pop();
  // Entries a whole window old drop off the front.
  while (m.length > 0 && index - m[0]!.index >= w.size) m.shift();
  // Several records in one bucket keep the largest.
  const last = m[m.length - 1];
  if (last !== undefined && last.index === index) {
    if (last.value > v) v = last.value;
    m.pop();
  }
  m.push({ index, value: v });
  return { size: w.size, maxima: m };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);

/**
 * One evaluation (§3.5 steps 3–10) with the metric values already read; a caller whose metric
 * source has no data makes no decision and keeps the state.
 */
export function decide(spec: DeciderSpec, state: DeciderState, stable: number, panic: number, readyPods: number, nowMs: number): Decision {
  // 1. Zero ready pods count as one for the rates and the threshold.
  const r = Math.max(1, readyPods);

  // 3. Rate limits: at least one more pod when scaling up; no floor when unreachable.
  const maxScaleUp = Math.ceil(spec.maxScaleUpRate * r);
  const maxScaleDown = spec.reachable ? Math.floor(r / spec.maxScaleDownRate) : 0;

  // 4–5. Pods wanted by each window, kept within the rate limits.
  const dspc = Math.ceil(stable / spec.targetValue);
  const dppc = Math.ceil(panic / spec.targetValue);
  let desiredStable = Math.trunc(clamp(dspc, maxScaleDown, maxScaleUp));
  let desiredPanic = Math.trunc(clamp(dppc, maxScaleDown, maxScaleUp));

  // 6. Activation scale: once there is any demand, go straight to at least A pods.
  if (spec.activationScale > 1) {
    if (dspc > 0 && spec.activationScale > desiredStable) desiredStable = spec.activationScale;
    if (dppc > 0 && spec.activationScale > desiredPanic) desiredPanic = spec.activationScale;
  }

  // 7. Panic entry, extension and exit; the threshold uses the unclamped panic pod count.
  const over = dppc / r >= spec.panicThreshold;
  let panicTimeMs = state.panicTimeMs;
  let maxPanicPods = state.maxPanicPods;
  if (over) panicTimeMs = nowMs; // enter, or extend
  else if (panicTimeMs !== undefined && panicTimeMs + spec.stableWindowMs < nowMs) {
    panicTimeMs = undefined;
    maxPanicPods = 0;
  }

  // 8. In panic, provision for the larger window and never scale down.
  let desired = desiredStable;
  if (panicTimeMs !== undefined) {
    if (desired < desiredPanic) desired = desiredPanic;
    if (desired > maxPanicPods) maxPanicPods = desired;
    desired = maxPanicPods;
  }

  // 9. Scale-down delay: the largest decision of the last ScaleDownDelay.
  let delay = state.delay;
  if (delay !== undefined && spec.reachable) {
    delay = recordDelay(delay, nowMs, desired);
    desired = delay.maxima[0]!.value;
  }

  // 10. Excess burst capacity, from the actual ready count and the panic value.
  let ebc = -1;
  if (spec.targetBurstCapacity === 0) ebc = 0;
  else if (spec.targetBurstCapacity > 0) ebc = Math.floor(readyPods * spec.totalValue - spec.targetBurstCapacity - panic);

  return {
    desiredPodCount: desired,
    excessBurstCapacity: Math.trunc(ebc),
    panicking: panicTimeMs !== undefined,
    state: { panicTimeMs, maxPanicPods, delay },
  };
}

/**
 * The decider as the multiscaler drives it: one revision's spec and state behind the small
 * `decide(stable, panic, readyPods, now)` interface, created when the revision appears.
 */
export class KpaDecider {
  spec: DeciderSpec;
  #state: DeciderState;

  constructor(autoscaling: RevisionAutoscaling, readyPods: number, nowMs: number, reachable = true) {
    this.spec = deciderSpecFrom(autoscaling, reachable);
    this.#state = createDeciderState(this.spec, readyPods, nowMs);
  }

  /** A changed PA (annotations or config-autoscaler): new settings, same state, as Knative's Update. */
  update(autoscaling: RevisionAutoscaling, reachable = true): void {
    this.spec = deciderSpecFrom(autoscaling, reachable);
  }

  decide(stable: number, panic: number, readyPods: number, nowMs: number): Decision {
    const d = decide(this.spec, this.#state, stable, panic, readyPods, nowMs);
    this.#state = d.state;
    return d;
  }
}
