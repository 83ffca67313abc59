// The KPA reconcile (spec §3.6, Knative pkg/reconciler/autoscaling/kpa kpa.go and scaler.go) as a
// pure function of the PodAutoscaler state, the decider's output and the clock: bounds, initial
// scale, the scale-to-zero state machine, the SKS mode, the number of activators and the new PA
// status. The activator probe is I/O, so the function asks for its result instead of doing it.
// `Scaler` at the end is the thin driver that runs it against a ScaleTarget.
import { SECOND, parseDuration } from '../config/duration.ts';
import { PROGRESS_DEADLINE_ANNOTATION, type Annotations } from '../config/annotations.ts';
import type { DeploymentConfig } from '../config/deployment.ts';
import type { RevisionAutoscaling } from '../config/revision-autoscaling.ts';
import type { ScaleTarget, SksMode } from './scale-target.ts';

/** All times and durations are nanoseconds, like config durations. */
export type Nanos = number;

export type ActiveStatus = 'Active' | 'Activating' | 'Inactive';
/** PA spec.reachability; '' is unknown (neither routed nor in reserve). */
export type Reachability = 'Reachable' | 'Unreachable' | '';

export const REASON_NO_TRAFFIC = 'NoTraffic';
export const REASON_TIMED_OUT = 'TimedOut';
export const REASON_QUEUED = 'Queued';
const MESSAGE_NO_TRAFFIC = 'The target is not receiving traffic.';
const MESSAGE_TIMED_OUT = 'The target could not be activated.';
const MESSAGE_QUEUED = 'Requests to the target are being buffered as resources are provisioned.';

/** Knative: activationTimeout = progress deadline + this buffer, so the revision reconciler sees
 *  the Deployment's own deadline first and can report pod errors before we scale to 0. */
export const ACTIVATION_TIMEOUT_BUFFER: Nanos = 30 * SECOND;
/** Re-check after deactivating while the SKS is already Proxy: no SKS event would wake us. */
export const PROXY_REENQUEUE: Nanos = 3 * SECOND;
/** numActivators before the SKS exists, and the floor afterwards. */
export const MIN_ACTIVATORS = 2;
/** desiredScale when the decider has no data yet. */
export const SCALE_UNKNOWN = -1;

/** The PA condition `Active`: True, Unknown (activating) or False. */
export interface ActiveCondition {
  readonly status: ActiveStatus;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: Nanos;
}

/** The parts of PA status the KPA reads and writes. */
export interface PaStatus {
  readonly active: ActiveCondition;
  readonly scaleTargetInitialized: boolean;
  /** −1 while unknown; undefined before the first reconcile. */
  readonly desiredScale: number | undefined;
  readonly actualScale: number | undefined;
  /** The SKS public service; '' until the SKS reports it. */
  readonly serviceName: string;
  readonly sksReady: boolean;
  /** Active ∧ ScaleTargetInitialized ∧ SKSReady. */
  readonly ready: boolean;
}

/** The ServerlessService as the KPA sees it: its spec and the status its reconciler wrote. */
export interface SksState {
  readonly mode: SksMode;
  readonly numActivators: number;
  /** '' until the SKS reconciler has created the private service. */
  readonly privateServiceName: string;
  readonly serviceName: string;
  readonly ready: boolean;
  /** When ActivatorEndpointsPopulated last became True; undefined while it is not True. */
  readonly proxySince: Nanos | undefined;
}

export type ScalerSettings = Pick<
  RevisionAutoscaling,
  | 'minScale'
  | 'maxScale'
  | 'initialScale'
  | 'scaleToZeroPodRetentionPeriod'
  | 'enableScaleToZero'
  | 'scaleToZeroGracePeriod'
  | 'stableWindow'
  | 'targetBurstCapacity'
  | 'totalValue'
  | 'activatorCapacity'
>;

export interface ScalerInput {
  readonly now: Nanos;
  readonly pa: PaStatus;
  readonly reachability: Reachability;
  readonly settings: ScalerSettings;
  /** The progress deadline in force (see progressDeadlineOf). */
  readonly progressDeadline: Nanos;
  /** The decider's status: desired pods (−1 = no data) and excess burst capacity. */
  readonly desiredScale: number;
  readonly excessBurstCapacity: number;
  readonly readyPods: number;
  /** The scale target's spec.replicas; undefined (nil) counts as 1. */
  readonly currentReplicas: number | undefined;
  /** undefined when the SKS does not exist yet. */
  readonly sks: SksState | undefined;
  /** Result of the synchronous activator probe, once the caller has done it. */
  readonly activatorProbe?: boolean;
}

export interface ScaleDecision {
  readonly kind: 'decided';
  /** What the scaler wants: −1 (unknown), 0 or a replica count. */
  readonly want: number;
  /** The replica count to patch, or undefined when nothing is to be written. */
  readonly replicas: number | undefined;
  /** Reconcile again after this long, if set. */
  readonly requeueAfter: Nanos | undefined;
  /** The probe failed: probe every second for up to 45 s, then reconcile 1 s later. */
  readonly startAsyncProbe: boolean;
  readonly mode: SksMode;
  readonly numActivators: number;
  /** The SKS spec (mode or numActivators) must be written. */
  readonly sksChanged: boolean;
  readonly status: PaStatus;
}

/** The scale-to-zero gate reached the activator probe: do it and call again with the result. */
export interface ProbeNeeded {
  readonly kind: 'probe';
}

export type ScalerOutcome = ScaleDecision | ProbeNeeded;

/** A PA as created: every condition Unknown, so Active=Unknown reads as activating. */
export function initialPaStatus(now: Nanos): PaStatus {
  return {
    active: { status: 'Activating', reason: '', message: '', lastTransitionTime: now },
    scaleTargetInitialized: false,
    desiredScale: undefined,
    actualScale: undefined,
    serviceName: '',
    sksReady: false,
    ready: false,
  };
}

/** The annotation serving.knative.dev/progress-deadline when it parses, else config-deployment's. */
export function progressDeadlineOf(annotations: Annotations, deployment: Pick<DeploymentConfig, 'progressDeadline'>): Nanos {
  const raw = annotations[PROGRESS_DEADLINE_ANNOTATION];
  const d = raw === undefined ? undefined : parseDuration(raw);
  return d?.ok ? d.ns : deployment.progressDeadline;
}

/** computeNumActivators: enough activators to carry the ready capacity plus the burst capacity. */
export function computeNumActivators(readyPods: number, s: Pick<ScalerSettings, 'targetBurstCapacity' | 'totalValue' | 'activatorCapacity'>): number {
  if (s.targetBurstCapacity === 0) return MIN_ACTIVATORS;
  const capacity = readyPods * s.totalValue + Math.max(s.targetBurstCapacity, 0);
  return Math.max(MIN_ACTIVATORS, Math.ceil(capacity / s.activatorCapacity));
}

/** Serve only when pods are wanted and they cover the burst capacity without the activator. */
export function sksModeFor(want: number, excessBurstCapacity: number): SksMode {
  return want > 0 && excessBurstCapacity >= 0 ? 'Serve' : 'Proxy';
}

/** pa.ScaleBounds: min-scale does not hold a revision nobody routes to. */
function minScaleOf(s: ScalerSettings, reachability: Reachability): number {
  return reachability === 'Unreachable' ? 0 : s.minScale;
}

function applyBounds(min: number, max: number, x: number): number {
  if (x < min) return min;
  if (max !== 0 && x > max) return max;
  return x;
}

interface ScaleResult {
  readonly want: number;
  readonly apply: boolean;
  readonly requeueAfter?: Nanos;
  readonly startAsyncProbe?: boolean;
}

/** handleScaleToZero: only called with desired 0. */
function scaleToZeroGate(input: ScalerInput): ScaleResult | ProbeNeeded {
  const { settings: s, pa, now } = input;
  if (!s.enableScaleToZero) return { want: 1, apply: true };
  const since = now - pa.active.lastTransitionTime;
  switch (pa.active.status) {
    case 'Activating': {
      const activationTimeout = input.progressDeadline + ACTIVATION_TIMEOUT_BUFFER;
      // Stuck activating past the deadline: give up and scale to 0 (strictly longer, as Knative).
      if (since > activationTimeout) return { want: 0, apply: true };
      return { want: SCALE_UNKNOWN, apply: false, requeueAfter: activationTimeout };
    }
    case 'Active': {
      // Deactivate only after a full stable window: want 0 marks the PA inactive and flips the
      // SKS to Proxy, but the pods stay until the activator is proven in the path.
      if (since >= s.stableWindow) {
        return input.sks?.mode === 'Proxy' ? { want: 0, apply: false, requeueAfter: PROXY_REENQUEUE } : { want: 0, apply: false };
      }
      return { want: 1, apply: true, requeueAfter: s.stableWindow - since };
    }
    case 'Inactive': {
      // With TBC −1 the activator is always in the path, so there is nothing to prove. Without a
      // public service name there is nothing to probe: Knative counts that as a failed probe.
      let inPath = true;
      if (s.targetBurstCapacity !== -1) {
        if (pa.serviceName === '') inPath = false;
        else if (input.activatorProbe === undefined) return { kind: 'probe' };
        else inPath = input.activatorProbe;
      }
      if (!inPath) return { want: 0, apply: false, startAsyncProbe: true };
      const retention = input.reachability === 'Unreachable' ? 0 : s.scaleToZeroPodRetentionPeriod;
      if (since >= Math.max(s.scaleToZeroGracePeriod, retention)) return { want: 0, apply: true };
      // The last pod's retention is a hard deadline whatever the network state.
      if (retention > 0 && since < retention) return { want: 0, apply: false, requeueAfter: retention - since };
      // Fast path: the SKS has been proxying for the whole grace period already.
      const proxyFor = input.sks?.proxySince === undefined ? 0 : now - input.sks.proxySince;
      const remaining = s.scaleToZeroGracePeriod - proxyFor;
      if (remaining <= 0) return { want: 0, apply: true };
      return { want: 0, apply: false, requeueAfter: remaining };
    }
  }
}

/** scaler.scale: the want and whether to apply it to the scale target. */
function scale(input: ScalerInput): ScaleResult | ProbeNeeded {
  const { settings: s, pa } = input;
  let desired = input.desiredScale;
  if (desired < 0 && pa.active.status !== 'Activating') return { want: desired, apply: false };

  let min = minScaleOf(s, input.reachability);
  // Initial scale holds until the target first reaches it; a revision in reserve skips it.
  if (s.initialScale > 1 && !pa.scaleTargetInitialized && input.reachability !== 'Unreachable') {
    min = Math.max(min, s.initialScale);
  }
  desired = applyBounds(min, s.maxScale, desired);
  return desired === 0 ? scaleToZeroGate(input) : { want: desired, apply: true };
}

/** Keeps lastTransitionTime unless status, reason or message change (knative.dev/pkg SetCondition). */
function setActive(prev: ActiveCondition, status: ActiveStatus, reason: string, message: string, now: Nanos): ActiveCondition {
  if (prev.status === status && prev.reason === reason && prev.message === message) return prev;
  return { status, reason, message, lastTransitionTime: now };
}

/** computeStatus and computeActiveCondition (spec §3.6 step 7). */
function computeStatus(input: ScalerInput, want: number, ready: number, serviceName: string, sksReady: boolean): PaStatus {
  const { pa, settings: s, now } = input;
  const min = minScaleOf(s, input.reachability);
  const minReady = pa.scaleTargetInitialized ? Math.max(min, 1) : Math.max(min, s.initialScale);
  const initialized = pa.scaleTargetInitialized || (ready >= minReady && serviceName !== '');

  let active = pa.active;
  const wasInactive = pa.active.status === 'Inactive';
  if (want === 0 || minReady === 0) {
    // Scaling to 0 while activating only happens when activation timed out.
    active =
      pa.active.status === 'Activating' && minReady > 0
        ? setActive(active, 'Inactive', REASON_TIMED_OUT, MESSAGE_TIMED_OUT, now)
        : setActive(active, 'Inactive', REASON_NO_TRAFFIC, MESSAGE_NO_TRAFFIC, now);
  } else if (ready < minReady) {
    active =
      want > 0 || !wasInactive
        ? setActive(active, 'Activating', REASON_QUEUED, MESSAGE_QUEUED, now)
        : setActive(active, 'Inactive', REASON_NO_TRAFFIC, MESSAGE_NO_TRAFFIC, now);
  } else if (want > 0 || !wasInactive) {
    active = setActive(active, 'Active', '', '', now);
  }

  // A −1 (no data, e.g. after an autoscaler restart) must not erase a known desired scale.
  const keep = want === SCALE_UNKNOWN && pa.desiredScale !== undefined && pa.desiredScale >= 0;
  return {
    active,
    scaleTargetInitialized: initialized,
    desiredScale: keep ? pa.desiredScale : want,
    actualScale: ready,
    serviceName,
    sksReady,
    ready: active.status === 'Active' && initialized && sksReady,
  };
}

/**
 * One KPA reconcile. Returns `{kind: 'probe'}` when the scale-to-zero gate needs the activator
 * probe and `activatorProbe` is not given; call again with the result and the same `now`.
 */
export function reconcileScale(input: ScalerInput & { readonly activatorProbe: boolean }): ScaleDecision;
export function reconcileScale(input: ScalerInput): ScalerOutcome;
export function reconcileScale(input: ScalerInput): ScalerOutcome {
  const sks = input.sks;
  if (sks === undefined || sks.privateServiceName === '') {
    // No private service yet: create the SKS behind the activator and wait for it.
    return {
      kind: 'decided',
      want: SCALE_UNKNOWN,
      replicas: undefined,
      requeueAfter: undefined,
      startAsyncProbe: false,
      mode: 'Proxy',
      numActivators: MIN_ACTIVATORS,
      sksChanged: sks === undefined || sks.mode !== 'Proxy' || sks.numActivators !== MIN_ACTIVATORS,
      status: computeStatus(input, SCALE_UNKNOWN, 0, input.pa.serviceName, false),
    };
  }

  const result = scale(input);
  if ('kind' in result) return result;
  const current = input.currentReplicas ?? 1;
  const replicas = result.apply && result.want !== current ? result.want : undefined;
  const mode = sksModeFor(result.want, input.excessBurstCapacity);
  const numActivators = computeNumActivators(input.readyPods, input.settings);
  return {
    kind: 'decided',
    want: result.want,
    replicas,
    requeueAfter: result.requeueAfter,
    startAsyncProbe: result.startAsyncProbe ?? false,
    mode,
    numActivators,
    sksChanged: sks.mode !== mode || sks.numActivators !== numActivators,
    status: computeStatus(input, result.want, input.readyPods, sks.serviceName, sks.ready),
  };
}

/** What the driver observes of a revision at each reconcile. */
export interface RevisionObservation {
  readonly settings: ScalerSettings;
  readonly progressDeadline: Nanos;
  readonly reachability: Reachability;
  readonly desiredScale: number;
  readonly excessBurstCapacity: number;
  readonly readyPods: number;
  /** The SKS status; its spec (mode, numActivators) is what this driver last set. */
  readonly sks: Omit<SksState, 'mode' | 'numActivators'> | undefined;
}

export interface ScalerOptions {
  readonly target: ScaleTarget;
  /** Nanoseconds. */
  readonly now: () => Nanos;
  readonly probeActivator: (revisionKey: string) => Promise<boolean>;
}

/**
 * Runs reconcileScale for each revision against a ScaleTarget, keeping the PA status and the SKS
 * spec between calls. The caller owns timers: it reconciles again after `requeueAfter`, and
 * runs the async prober when `startAsyncProbe` is set.
 */
export class Scaler {
  readonly #opts: ScalerOptions;
  readonly #pa = new Map<string, PaStatus>();
  readonly #sks = new Map<string, { mode: SksMode; numActivators: number }>();

  constructor(opts: ScalerOptions) {
    this.#opts = opts;
  }

  status(revisionKey: string): PaStatus | undefined {
    return this.#pa.get(revisionKey);
  }

  /** Starts a revision from a known status (e.g. read back from a PA after a restart). */
  setStatus(revisionKey: string, status: PaStatus): void {
    this.#pa.set(revisionKey, status);
  }

  forget(revisionKey: string): void {
    this.#pa.delete(revisionKey);
    this.#sks.delete(revisionKey);
  }

  async reconcile(revisionKey: string, obs: RevisionObservation): Promise<ScaleDecision> {
    const { target, now: clock, probeActivator } = this.#opts;
    const now = clock();
    const spec = this.#sks.get(revisionKey);
    const input: ScalerInput = {
      now,
      pa: this.#pa.get(revisionKey) ?? initialPaStatus(now),
      reachability: obs.reachability,
      settings: obs.settings,
      progressDeadline: obs.progressDeadline,
      desiredScale: obs.desiredScale,
      excessBurstCapacity: obs.excessBurstCapacity,
      readyPods: obs.readyPods,
      currentReplicas: await target.getReplicas(revisionKey),
      // Before this driver has written the SKS spec it is unknown; it gets written below anyway.
      sks: obs.sks && { ...obs.sks, mode: spec?.mode ?? 'Proxy', numActivators: spec?.numActivators ?? MIN_ACTIVATORS },
    };
    const first = reconcileScale(input);
    const out = first.kind === 'probe' ? reconcileScale({ ...input, activatorProbe: await probeActivator(revisionKey) }) : first;

    if (out.replicas !== undefined) await target.setReplicas(revisionKey, out.replicas);
    // Judged against what this driver last wrote, so a missing SKS is created only once.
    if (spec === undefined || spec.mode !== out.mode || spec.numActivators !== out.numActivators) {
      await target.setMode(revisionKey, out.mode, out.numActivators);
      this.#sks.set(revisionKey, { mode: out.mode, numActivators: out.numActivators });
    }
    this.#pa.set(revisionKey, out.status);
    return out;
  }
}
