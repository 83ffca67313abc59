// RFC 6902 JSON Patch between two JSON values, for the defaulting webhook's response: the API
// server applies the patch to the object it sent, so the patch must take exactly the original to
// the defaulted object. Diffing is structural and deterministic: objects key by key (removals
// first, then the target's keys in order), arrays by their common prefix and suffix so that a
// changed element is patched in place rather than rewritten, and a type change replaces the
// value. `applyPatch` applies add/remove/replace (what `createPatch` emits) for tests and tools.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type PatchOperation =
  | { readonly op: 'add'; readonly path: string; readonly value: JsonValue }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'replace'; readonly path: string; readonly value: JsonValue };

/** RFC 6901: `~` → `~0`, `/` → `~1` (in that order, so `~1` in a key stays distinct). */
export const escapePointer = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapePointer = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** An own property only: `obj.__proto__` must not read the prototype. */
const own = (obj: Record<string, unknown>, key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

/**
 * The operations that turn `from` into `to`. Both are JSON data (what JSON.parse returns, or
 * plain objects); a property whose value is `undefined` counts as absent, as in JSON text.
 */
export function createPatch(from: unknown, to: unknown): PatchOperation[] {
  const ops: PatchOperation[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(from: unknown, to: unknown, path: string, ops: PatchOperation[]): void {
  if (isObject(from) && isObject(to)) {
    for (const key of Object.keys(from)) {
      if (own(from, key) !== undefined && own(to, key) === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointer(key)}` });
    }
    for (const key of Object.keys(to)) {
      const next = own(to, key);
      if (next === undefined) continue;
      const child = `${path}/${escapePointer(key)}`;
      const prev = own(from, key);
      if (prev === undefined) ops.push({ op: 'add', path: child, value: toJson(next) });
      else diff(prev, next, child, ops);
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    diffArrays(from, to, path, ops);
    return;
  }
  if (!deepEqual(from, to)) ops.push({ op: 'replace', path, value: toJson(to) });
}

function diffArrays(from: readonly unknown[], to: readonly unknown[], path: string, ops: PatchOperation[]): void {
  // Equal elements at both ends stay put; only the middle changes.
  let prefix = 0;
  while (prefix < from.length && prefix < to.length && deepEqual(from[prefix], to[prefix])) prefix++;
  let suffix = 0;
  while (suffix < from.length - prefix && suffix < to.length - prefix && deepEqual(from[from.length - 1 - suffix], to[to.length - 1 - suffix])) suffix++;
  const fromMid = from.length - prefix - suffix;
  const toMid = to.length - prefix - suffix;
  const common = Math.min(fromMid, toMid);
  for (let i = 0; i < common; i++) diff(from[prefix + i], to[prefix + i], `${path}/${prefix + i}`, ops);
  // Extra target elements are inserted in order before the suffix; surplus ones are removed at
  // the same index, each removal shifting the next one into place.
  for (let i = common; i < toMid; i++) ops.push({ op: 'add', path: `${path}/${prefix + i}`, value: toJson(to[prefix + i]) });
  for (let i = common; i < fromMid; i++) ops.push({ op: 'remove', path: `${path}/${prefix + common}` });
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], own(b, k)));
  }
  return false;
}

/** A deep copy that drops `undefined` properties, so the patch carries plain JSON. */
function toJson(v: unknown): JsonValue {
  if (Array.isArray(v)) return v.map((e) => (e === undefined ? null : toJson(e)));
  if (isObject(v)) {
    // fromEntries defines own properties, so a `__proto__` key stays data, never a prototype.
    return Object.fromEntries(Object.entries(v).flatMap(([k, e]) => (e === undefined ? [] : [[k, toJson(e)]])));
  }
  return v as JsonValue;
}

/** Sets an own property even for keys such as `__proto__`, which plain assignment would not. */
function setMember(obj: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------------------------
// Applying a patch.

export type ApplyResult = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly error: string };

/** Applies add, remove and replace to a copy of `doc`; the first failing operation is the error. */
export function applyPatch(doc: unknown, patch: readonly PatchOperation[]): ApplyResult {
  let root = toJson(doc);
  for (const [i, op] of patch.entries()) {
    const fail = (why: string): ApplyResult => ({ ok: false, error: `operation ${i} (${op.op} ${JSON.stringify(op.path)}): ${why}` });
    if (op.path === '') {
      if (op.op === 'remove') return fail('cannot remove the whole document');
      root = toJson(op.value);
      continue;
    }
    if (!op.path.startsWith('/')) return fail('a JSON pointer starts with "/"');
    const tokens = op.path.slice(1).split('/').map(unescapePointer);
    const last = tokens.pop() ?? '';
    let parent: JsonValue = root;
    for (const token of tokens) {
      const next: JsonValue | undefined = Array.isArray(parent)
        ? parent[arrayIndex(token, parent.length - 1) ?? -1]
        : isObject(parent) && Object.hasOwn(parent, token)
          ? parent[token]
          : undefined;
      if (next === undefined) return fail(`no value at ${JSON.stringify(token)}`);
      parent = next;
    }
    if (Array.isArray(parent)) {
      const index = last === '-' && op.op === 'add' ? parent.length : arrayIndex(last, op.op === 'add' ? parent.length : parent.length - 1);
      if (index === undefined) return fail(`${JSON.stringify(last)} is not an index of an array of ${parent.length}`);
      if (op.op === 'add') parent.splice(index, 0, toJson(op.value));
      else if (op.op === 'remove') parent.splice(index, 1);
      else parent[index] = toJson(op.value);
    } else if (isObject(parent)) {
      if (op.op !== 'add' && !Object.hasOwn(parent, last)) return fail(`no member ${JSON.stringify(last)}`);
      if (op.op === 'remove') delete parent[last];
      else setMember(parent, last, toJson(op.value));
    } else {
      return fail('the parent is not an object or array');
    }
  }
  return { ok: true, value: root };
}

function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const n = Number(token);
  return n <= max ? n : undefined;
}
