// Consistent subsetting (spec §3.7, knative.dev/pkg/hash ChooseSubset): picks n of a set of
// names (activator IPs) seeded by a target (the SKS name), so each revision gets a stable,
// evenly spread slice of activators that changes little when one activator comes or goes.
// The SKS reconciler and the activator both compute it and must agree with Knative's bits.

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;
/** The angle space; a power of two so that `h mod U` has no bias. */
const UNIVERSE = 2048n;
const START_SALT = 'start-angle-salt';
const STEP_SALT = 'step-angle-salt';

const utf8 = new TextEncoder();

/** FNV-1a 64 over the UTF-8 bytes of `s`, as Go's hash/fnv New64a. */
export function fnv1a64(s: string): bigint {
  let h = FNV64_OFFSET;
  for (const b of utf8.encode(s)) h = ((h ^ BigInt(b)) * FNV64_PRIME) & MASK64;
  return h;
}

interface HashRing {
  /** Occupied slots, ascending. */
  readonly slots: readonly number[];
  readonly nameOf: ReadonlyMap<number, string>;
  readonly start: number;
  readonly step: number;
}

function buildRing(from: readonly string[], target: string): HashRing {
  const nameOf = new Map<number, string>();
  for (const name of from) {
    // Each name gets its own slot; the hashed bytes are name+target, and on a collision the
    // previous hash in lowercase hex is appended and the whole buffer rehashed, as Go does.
    let buf = name + target;
    let h = fnv1a64(buf);
    let slot = Number(h % UNIVERSE);
    while (nameOf.has(slot)) {
      buf += h.toString(16);
      h = fnv1a64(buf);
      slot = Number(h % UNIVERSE);
    }
    nameOf.set(slot, name);
  }
  return {
    slots: [...nameOf.keys()].sort((a, b) => a - b),
    nameOf,
    start: Number(fnv1a64(target + START_SALT) % UNIVERSE),
    step: Number(fnv1a64(target + STEP_SALT) % UNIVERSE),
  };
}

/** First index whose slot is ≥ angle, or slots.length (sort.Search). */
function searchSlot(slots: readonly number[], angle: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((slots[mid] ?? 0) >= angle) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Chooses n of `from` using `target` as the seed. Duplicates count once and the input order
 * does not matter: candidates are sorted first, as Knative's callers pass a sorted set (the
 * order decides who keeps a slot on a hash collision). Returns the chosen names sorted; all of
 * them when n ≥ the number of candidates.
 */
export function chooseSubset(from: readonly string[], n: number, target: string): string[] {
  const names = [...new Set(from)].sort();
  if (n >= names.length) return names;
  const ring = buildRing(names, target);
  const count = ring.slots.length;
  const chosen = new Set<number>();
  let angle = ring.start;
  while (chosen.size < n) {
    let i = searchSlot(ring.slots, angle);
    if (i === count) i = 0;
    while (chosen.has(i)) i = (i + 1) % count;
    chosen.add(i);
    angle = (angle + ring.step) % Number(UNIVERSE);
  }
  return [...chosen].map((i) => ring.nameOf.get(ring.slots[i] ?? -1) ?? '').sort();
}
