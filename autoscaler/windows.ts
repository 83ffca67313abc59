// The metric windows (spec §3.3, Knative's pkg/autoscaler/aggregation/bucketing.go): a ring of
// 1 s buckets averaged linearly or with exponential weights. Pure: every call takes the time.
export type Algorithm = 'linear' | 'weighted-exponential';

export interface WindowAverager {
  /** Adds value to the bucket of truncate(time) (1 s buckets). */
  record(timeMs: number, value: number): void;
  /** The window's average at nowMs (§3.3); linear averages are rounded down to 6 decimals. */
  windowAverage(nowMs: number): number;
  /** True when nothing was recorded for more than a window before nowMs (Knative's "no data"). */
  isEmpty(nowMs: number): boolean;
  /**
   * Window shrink/grow on a config change, keeping the newest buckets. Knative decides whether
   * the data is still fresh with the wall clock; pass nowMs for that, else data is kept when
   * anything was ever recorded.
   */
  resize(windowMs: number, nowMs?: number): void;
  readonly windowMs: number;
}

const GRANULARITY_MS = 1000;
/** Knative's weightPrecision is the constant 0.9999; Go folds `1 − 0.9999` exactly to 0.0001. */
const ONE_MINUS_WEIGHT_PRECISION = 0.0001;
const MIN_SMOOTHING = 0.2;
const PRECISION = 1e6;

const truncate = (ms: number): number => Math.floor(ms / GRANULARITY_MS) * GRANULARITY_MS;
const indexOf = (ms: number): number => Math.floor(ms / GRANULARITY_MS);
const mod = (i: number, n: number): number => ((i % n) + n) % n;
const bucketCount = (windowMs: number): number => Math.ceil(windowMs / GRANULARITY_MS);

/** Knative's roundToNDigits(6, f): floor, so 2/3 reads 0.666666. */
export const roundDown6 = (f: number): number => Math.floor(f * PRECISION) / PRECISION;

/** m = max(1 − 0.0001^(1/n), 0.2), with Go's Pow (6 buckets → 0.78456…, ≥ 60 → 0.2). */
export function smoothingCoefficient(numBuckets: number): number {
  return Math.max(1 - goPow(ONE_MINUS_WEIGHT_PRECISION, 1 / numBuckets), MIN_SMOOTHING);
}

function checkWindow(windowMs: number): void {
  if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`window must be a positive number of milliseconds, got ${windowMs}`);
}

/** The ring shared by both averagers: Knative's TimedFloat64Buckets without the averaging. */
class Buckets {
  buckets: Float64Array;
  windowMs: number;
  /** Bucket-truncated times; −∞ and undefined stand for Go's zero time. */
  lastWrite = -Infinity;
  firstWrite: number | undefined = undefined;
  /** Sum of every bucket, including stale ones past lastWrite (Knative's windowTotal). */
  total = 0;

  constructor(windowMs: number) {
    checkWindow(windowMs);
    this.windowMs = windowMs;
    this.buckets = new Float64Array(bucketCount(windowMs));
  }

  record(timeMs: number, value: number): void {
    const bt = truncate(timeMs);
    const writeIdx = indexOf(timeMs);
    const n = this.buckets.length;
    if (bt !== this.lastWrite) {
      // Older than a window before the newest write: ignored.
      if (!(bt + this.windowMs > this.lastWrite)) return;
      if (this.firstWrite === undefined || this.firstWrite > bt) this.firstWrite = bt;
      if (bt > this.lastWrite) {
        if (bt - this.lastWrite >= this.windowMs) {
          // A whole window without writes: start afresh.
          this.firstWrite = bt;
          this.buckets.fill(0);
          this.total = 0;
        } else {
          // Seconds skipped since the last write count as 0: clear their stale values.
          for (let i = indexOf(this.lastWrite) + 1; i <= writeIdx; i++) {
            const idx = mod(i, n);
            this.total -= this.buckets[idx]!;
            this.buckets[idx] = 0;
          }
        }
        this.lastWrite = bt;
      }
    }
    this.buckets[mod(writeIdx, n)]! += value;
    this.total += value;
  }

  isEmpty(nowMs: number): boolean {
    return truncate(nowMs) - this.lastWrite > this.windowMs;
  }

  resize(windowMs: number, nowMs: number | undefined): void {
    checkWindow(windowMs);
    if (windowMs === this.windowMs) return;
    const numBuckets = bucketCount(windowMs);
    const fresh = new Float64Array(numBuckets);
    let total = 0;
    const recent = nowMs === undefined ? this.lastWrite !== -Infinity : truncate(nowMs) - this.lastWrite <= this.windowMs;
    if (recent) {
      // Copy the newest min(old, new) buckets, newest first; the total follows what was kept.
      const old = this.buckets.length;
      let t = indexOf(this.lastWrite);
      for (let i = 0; i < Math.min(numBuckets, old); i++, t--) {
        const v = this.buckets[mod(t, old)]!;
        fresh[mod(t, numBuckets)] = v;
        total += v;
      }
      // Knative assumes the old ring was full, whatever firstWrite was.
      this.firstWrite = this.lastWrite - (old - 1) * GRANULARITY_MS;
    } else {
      this.firstWrite = undefined;
    }
    this.windowMs = windowMs;
    this.buckets = fresh;
    this.total = total;
  }
}

/** What both averagers share: the buckets, recording, emptiness and resizing. */
abstract class BucketWindow implements WindowAverager {
  protected readonly b: Buckets;
  constructor(windowMs: number) {
    this.b = new Buckets(windowMs);
  }
  get windowMs(): number {
    return this.b.windowMs;
  }
  record(timeMs: number, value: number): void {
    this.b.record(timeMs, value);
  }
  isEmpty(nowMs: number): boolean {
    return this.b.isEmpty(nowMs);
  }
  resize(windowMs: number, nowMs?: number): void {
    this.b.resize(windowMs, nowMs);
  }
  abstract windowAverage(nowMs: number): number;
}

class LinearWindow extends BucketWindow {
  windowAverage(nowMs: number): number {
    const b = this.b;
    const now = truncate(nowMs);
    const d = now - b.lastWrite;
    const n = b.buckets.length;
    // Seconds with data so far; Go's zero firstWrite (after a stale resize) saturates to n.
    const span = b.firstWrite === undefined ? n : Math.trunc((b.lastWrite - b.firstWrite) / GRANULARITY_MS) + 1;
    if (d <= 0) return roundDown6(b.total / Math.min(span, n));
    if (d < b.windowMs) {
      // The seconds after the last write hold stale values from a window ago: take them out.
      const st = indexOf(b.lastWrite);
      const et = indexOf(now);
      let total = b.total;
      for (let i = st + 1; i <= et; i++) total -= b.buckets[mod(i, n)]!;
      return roundDown6(total / Math.min(span, n - (et - st)));
    }
    return 0;
  }
}

class WeightedWindow extends BucketWindow {
  #m: number;
  constructor(windowMs: number) {
    super(windowMs);
    this.#m = smoothingCoefficient(Math.ceil(windowMs / GRANULARITY_MS));
  }
  /** The decay constant m in use. */
  get smoothing(): number {
    return this.#m;
  }
  override resize(windowMs: number, nowMs?: number): void {
    super.resize(windowMs, nowMs);
    this.#m = smoothingCoefficient(Math.ceil(windowMs / GRANULARITY_MS));
  }

  windowAverage(nowMs: number): number {
    const b = this.b;
    const now = truncate(nowMs);
    if (b.isEmpty(now)) return 0;
    const m = this.#m;
    const total = b.buckets.length;
    let count = total;
    let multiplier = m;
    if (now > b.lastWrite) {
      // Seconds since the last write are zero-valued newest buckets: skip to m·(1−m)^k.
      const zeros = Math.trunc((now - b.lastWrite) / GRANULARITY_MS);
      multiplier = multiplier * goPow(1 - m, zeros);
      count -= zeros;
    }
    const start = indexOf(b.lastWrite) + total;
    let ret = 0;
    for (let i = 0; i < count; i++) {
      ret += b.buckets[mod(start - i, total)]! * multiplier;
      multiplier *= 1 - m;
    }
    return ret;
  }
}

// Go's math.Pow for the cases used here (x > 0, y ≥ 0), so the last digits match Knative's:
// a fractional exponent goes through Exp(y·Log(x)), an integral one through repeated squaring
// of the mantissa with the binary exponent kept apart. (Go's Exp and Log are assembly on amd64;
// Math.exp and Math.log may differ from them in the last bit.)
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (y === 0.5) return Math.sqrt(x);
  let yi = Math.trunc(y);
  let yf = y - yi;
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = Math.exp(yf * Math.log(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      ae += xe;
      break;
    }
    if (i % 2 === 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  return ldexp(a1, ae);
}

/** x = f·2^e with f in [0.5, 1), for finite x > 0. Scaling by powers of two is exact. */
function frexp(x: number): [number, number] {
  let e = Math.floor(Math.log2(x)) + 1;
  let f = x * pow2(-e);
  while (f >= 1) {
    f /= 2;
    e++;
  }
  while (f < 0.5) {
    f *= 2;
    e--;
  }
  return [f, e];
}

/** f·2^e rounded once, as Go's Ldexp does (also into the subnormal range). */
function ldexp(frac: number, e: number): number {
  const [f, fe] = frexp(frac);
  const exp = fe + e - 1; // f·2 is in [1, 2)
  if (exp < -1075) return 0;
  if (exp > 1023) return Infinity;
  if (exp < -1022) return f * 2 * pow2(exp + 53) * pow2(-53);
  return f * 2 * pow2(exp);
}

/** 2^e exactly, for −1022 ≤ e ≤ 1023, and beyond by halves. */
function pow2(e: number): number {
  if (e > 1023) return pow2(1023) * pow2(e - 1023);
  if (e < -1022) return pow2(-1022) * pow2(e + 1022);
  const view = new DataView(new ArrayBuffer(8));
  view.setUint16(0, (e + 1023) << 4);
  return view.getFloat64(0);
}

export function createWindow(algorithm: Algorithm, windowMs: number): WindowAverager {
  return algorithm === 'linear' ? new LinearWindow(windowMs) : new WeightedWindow(windowMs);
}
