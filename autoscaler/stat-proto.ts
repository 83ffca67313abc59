// The protobuf wire format of Knative's `pkg/autoscaler/metrics/stat.proto` (package `metrics`):
// `Stat`, served by queue-proxy on :9090 and scraped by the autoscaler, and `WireStatMessages`,
// sent by the activator over the stats websocket. Hand-written for these three messages only.
//
// Byte compatibility target: Knative's gogo-generated marshaller (stat.pb.go). It omits a double
// when `v != 0` is false, so -0.0 is omitted like +0.0 (protobuf-go would keep -0.0) and NaN is
// kept; it writes fields in ascending number order and an empty-but-present `stat` as `1a 00`.
// The decoder follows the same code: known fields with the wrong wire type are errors, unknown
// fields (wire types 0, 1, 2, 5, and groups 3..4, whose end tag must name the same field where
// gogo only counts depth) are skipped, the last occurrence of a scalar wins, and repeated
// occurrences of the embedded `stat` merge into one. Strings are not UTF-8 validated (as gogo).

/** One pod's (or activator's) load report; zero values mean "absent" on the wire (proto3). */
export interface Stat {
  podName: string;
  averageConcurrentRequests: number;
  averageProxiedConcurrentRequests: number;
  requestCount: number;
  proxiedRequestCount: number;
  processUptime: number;
  /** Unix seconds, int64 on the wire; exact while within ±2^53 (rounded beyond, on decode). */
  timestamp: number;
}

/** A Stat addressed to a revision (`namespace`/`name`), as the activator sends it. */
export interface WireStatMessage {
  namespace: string;
  name: string;
  /** Absent (Go nil) is distinct from present-but-empty (`1a 00`) on the wire. */
  stat?: Stat;
}

// Tags: (field << 3) | wire type. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
const TAG_POD_NAME = 0x0a;
const TAG_AVG_CONCURRENCY = 0x11;
const TAG_AVG_PROXIED_CONCURRENCY = 0x19;
const TAG_REQUEST_COUNT = 0x21;
const TAG_PROXIED_REQUEST_COUNT = 0x29;
const TAG_PROCESS_UPTIME = 0x31;
const TAG_TIMESTAMP = 0x38;
const TAG_NAMESPACE = 0x0a;
const TAG_NAME = 0x12;
const TAG_STAT = 0x1a;
const TAG_MESSAGES = 0x0a;

const INT64_LIMIT = 2 ** 63;
const MAX_FIELD_NUMBER = 2 ** 29 - 1;
// Nested unknown groups are skipped recursively; bound the depth so hostile input cannot
// exhaust the stack (protobuf-go's default recursion limit is 10000; nothing real nests at all).
const MAX_GROUP_DEPTH = 64;

// ---------------------------------------------------------------------------------------------
// Encoding: one size pass, then one write into a single Buffer of exactly that size.

/** Encodes a Stat as Knative's marshaller does; an all-zero Stat encodes to zero bytes. */
export function encodeStat(stat: Readonly<Stat>): Buffer {
  const buf = Buffer.allocUnsafe(statSize(stat));
  writeStat(buf, 0, stat);
  return buf;
}

/** Encodes a `WireStatMessages` holding `messages` in order. */
export function encodeWireStatMessages(messages: readonly Readonly<WireStatMessage>[]): Buffer {
  let size = 0;
  for (const m of messages) size += lengthDelimitedSize(wireStatMessageSize(m));
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const m of messages) {
    buf[pos++] = TAG_MESSAGES;
    pos = writeVarint(buf, pos, wireStatMessageSize(m));
    pos = writeWireStatMessage(buf, pos, m);
  }
  return buf;
}

function statSize(s: Readonly<Stat>): number {
  let n = 0;
  if (s.podName.length > 0) n += lengthDelimitedSize(Buffer.byteLength(s.podName, 'utf8'));
  // `!== 0` is false for -0 as well, matching gogo's `!= 0`.
  if (s.averageConcurrentRequests !== 0) n += 9;
  if (s.averageProxiedConcurrentRequests !== 0) n += 9;
  if (s.requestCount !== 0) n += 9;
  if (s.proxiedRequestCount !== 0) n += 9;
  if (s.processUptime !== 0) n += 9;
  if (s.timestamp !== 0) n += 1 + int64Size(s.timestamp);
  return n;
}

function writeStat(buf: Buffer, pos: number, s: Readonly<Stat>): number {
  if (s.podName.length > 0) pos = writeString(buf, pos, TAG_POD_NAME, s.podName);
  if (s.averageConcurrentRequests !== 0) pos = writeDouble(buf, pos, TAG_AVG_CONCURRENCY, s.averageConcurrentRequests);
  if (s.averageProxiedConcurrentRequests !== 0) {
    pos = writeDouble(buf, pos, TAG_AVG_PROXIED_CONCURRENCY, s.averageProxiedConcurrentRequests);
  }
  if (s.requestCount !== 0) pos = writeDouble(buf, pos, TAG_REQUEST_COUNT, s.requestCount);
  if (s.proxiedRequestCount !== 0) pos = writeDouble(buf, pos, TAG_PROXIED_REQUEST_COUNT, s.proxiedRequestCount);
  if (s.processUptime !== 0) pos = writeDouble(buf, pos, TAG_PROCESS_UPTIME, s.processUptime);
  if (s.timestamp !== 0) {
    buf[pos++] = TAG_TIMESTAMP;
    pos = writeInt64(buf, pos, s.timestamp);
  }
  return pos;
}

function wireStatMessageSize(m: Readonly<WireStatMessage>): number {
  let n = 0;
  if (m.namespace.length > 0) n += lengthDelimitedSize(Buffer.byteLength(m.namespace, 'utf8'));
  if (m.name.length > 0) n += lengthDelimitedSize(Buffer.byteLength(m.name, 'utf8'));
  if (m.stat !== undefined) n += lengthDelimitedSize(statSize(m.stat));
  return n;
}

function writeWireStatMessage(buf: Buffer, pos: number, m: Readonly<WireStatMessage>): number {
  if (m.namespace.length > 0) pos = writeString(buf, pos, TAG_NAMESPACE, m.namespace);
  if (m.name.length > 0) pos = writeString(buf, pos, TAG_NAME, m.name);
  if (m.stat !== undefined) {
    buf[pos++] = TAG_STAT;
    pos = writeVarint(buf, pos, statSize(m.stat));
    pos = writeStat(buf, pos, m.stat);
  }
  return pos;
}

/** Size of a one-byte tag, the length varint and `len` bytes of payload. */
function lengthDelimitedSize(len: number): number {
  return 1 + varintSize(len) + len;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function int64Size(v: number): number {
  checkInt64(v);
  // A negative int64 is its 64-bit two's complement, which always needs all 10 varint bytes.
  return v < 0 ? 10 : varintSize(v);
}

function checkInt64(v: number): void {
  if (!Number.isInteger(v) || v < -INT64_LIMIT || v >= INT64_LIMIT) {
    throw new RangeError(`protobuf: Stat.timestamp ${v} is not an int64`);
  }
}

function writeString(buf: Buffer, pos: number, tag: number, s: string): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, Buffer.byteLength(s, 'utf8'));
  return pos + buf.write(s, pos, 'utf8');
}

function writeDouble(buf: Buffer, pos: number, tag: number, v: number): number {
  buf[pos++] = tag;
  return buf.writeDoubleLE(v, pos);
}

// Valid for integers in [0, 2^64): `%` and division by 128 are exact on doubles of that size.
function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function writeInt64(buf: Buffer, pos: number, v: number): number {
  if (v >= 0) return writeVarint(buf, pos, v);
  let u = BigInt.asUintN(64, BigInt(v));
  while (u >= 128n) {
    buf[pos++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[pos++] = Number(u);
  return pos;
}

// ---------------------------------------------------------------------------------------------
// Decoding. Every read checks bounds first; every loop iteration consumes at least one byte, so
// malformed input ends in an Error naming the message, field and byte offset, never a hang.

/** Decodes a Stat; absent fields are zero. Throws on truncated or malformed input. */
export function decodeStat(bytes: Uint8Array): Stat {
  const r = new Reader(bytes);
  const stat = emptyStat();
  readStatInto(r, r.end, stat);
  return stat;
}

/** Decodes a `WireStatMessages` into its list of messages. Throws on malformed input. */
export function decodeWireStatMessages(bytes: Uint8Array): WireStatMessage[] {
  const r = new Reader(bytes);
  const out: WireStatMessage[] = [];
  while (r.pos < r.end) {
    const at = r.pos;
    const tag = r.varint('WireStatMessages', 'tag');
    if (tag === TAG_MESSAGES) {
      const end = r.lengthEnd(r.end, 'WireStatMessages.messages');
      out.push(readWireStatMessage(r, end));
    } else {
      r.skipOrReject(tag, at, r.end, 'WireStatMessages', KNOWN_WIRE_STAT_MESSAGES);
    }
  }
  return out;
}

/** A Stat with every field at its proto3 default. */
export function emptyStat(): Stat {
  return {
    podName: '',
    averageConcurrentRequests: 0,
    averageProxiedConcurrentRequests: 0,
    requestCount: 0,
    proxiedRequestCount: 0,
    processUptime: 0,
    timestamp: 0,
  };
}

// Field number → [name, wire type], to name a known field that arrived with the wrong wire type.
type KnownFields = ReadonlyMap<number, readonly [string, number]>;
const KNOWN_STAT: KnownFields = new Map([
  [1, ['pod_name', 2]],
  [2, ['average_concurrent_requests', 1]],
  [3, ['average_proxied_concurrent_requests', 1]],
  [4, ['request_count', 1]],
  [5, ['proxied_request_count', 1]],
  [6, ['process_uptime', 1]],
  [7, ['timestamp', 0]],
]);
const KNOWN_WIRE_STAT_MESSAGE: KnownFields = new Map([
  [1, ['namespace', 2]],
  [2, ['name', 2]],
  [3, ['stat', 2]],
]);
const KNOWN_WIRE_STAT_MESSAGES: KnownFields = new Map([[1, ['messages', 2]]]);

/** Reads Stat fields up to `end`, overwriting only the fields present (proto merge). */
function readStatInto(r: Reader, end: number, s: Stat): void {
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.varint('Stat', 'tag', end);
    switch (tag) {
      case TAG_POD_NAME:
        s.podName = r.string(end, 'Stat.pod_name');
        break;
      case TAG_AVG_CONCURRENCY:
        s.averageConcurrentRequests = r.double(end, 'Stat.average_concurrent_requests');
        break;
      case TAG_AVG_PROXIED_CONCURRENCY:
        s.averageProxiedConcurrentRequests = r.double(end, 'Stat.average_proxied_concurrent_requests');
        break;
      case TAG_REQUEST_COUNT:
        s.requestCount = r.double(end, 'Stat.request_count');
        break;
      case TAG_PROXIED_REQUEST_COUNT:
        s.proxiedRequestCount = r.double(end, 'Stat.proxied_request_count');
        break;
      case TAG_PROCESS_UPTIME:
        s.processUptime = r.double(end, 'Stat.process_uptime');
        break;
      case TAG_TIMESTAMP:
        s.timestamp = r.int64(end, 'Stat.timestamp');
        break;
      default:
        r.skipOrReject(tag, at, end, 'Stat', KNOWN_STAT);
    }
  }
}

function readWireStatMessage(r: Reader, end: number): WireStatMessage {
  const m: WireStatMessage = { namespace: '', name: '' };
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.varint('WireStatMessage', 'tag', end);
    switch (tag) {
      case TAG_NAMESPACE:
        m.namespace = r.string(end, 'WireStatMessage.namespace');
        break;
      case TAG_NAME:
        m.name = r.string(end, 'WireStatMessage.name');
        break;
      case TAG_STAT: {
        const statEnd = r.lengthEnd(end, 'WireStatMessage.stat');
        m.stat ??= emptyStat();
        readStatInto(r, statEnd, m.stat);
        break;
      }
      default:
        r.skipOrReject(tag, at, end, 'WireStatMessage', KNOWN_WIRE_STAT_MESSAGE);
    }
  }
  return m;
}

class Reader {
  readonly buf: Buffer;
  readonly end: number;
  pos = 0;

  constructor(bytes: Uint8Array) {
    // A view, not a copy: Buffer gives fast UTF-8 and little-endian double reads.
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = this.buf.length;
  }

  /**
   * Reads an unsigned varint of at most 10 bytes (as Go does) as a number; values past 2^53 lose
   * precision, which only matters for int64 (see `int64`) since lengths and tags that large fail.
   */
  varint(where: string, what: string, end = this.end): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.error(`truncated ${what} varint`, where, start);
      const b = this.buf[this.pos++] ?? 0;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw this.error(`${what} varint longer than 10 bytes`, where, start);
  }

  /** Reads a varint int64: two's complement, so negative values arrive as 10-byte varints. */
  int64(end: number, where: string): number {
    const start = this.pos;
    const value = this.varint(where, 'int64', end);
    if (this.pos - start <= 7) return value; // < 2^49: exact and non-negative
    let u = 0n;
    for (let i = this.pos - 1; i >= start; i--) u = (u << 7n) | BigInt((this.buf[i] ?? 0) & 0x7f);
    return Number(BigInt.asIntN(64, u));
  }

  double(end: number, where: string): number {
    if (end - this.pos < 8) {
      throw this.error(`truncated double (need 8 bytes, have ${end - this.pos})`, where, this.pos);
    }
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix and returns where the payload ends, checking it fits before `end`. */
  lengthEnd(end: number, where: string): number {
    const start = this.pos;
    const len = this.varint(where, 'length', end);
    if (len > end - this.pos) {
      throw this.error(`length ${len} exceeds the ${end - this.pos} bytes remaining`, where, start);
    }
    return this.pos + len;
  }

  // Invalid UTF-8 decodes to U+FFFD rather than failing the whole stat.
  string(end: number, where: string): string {
    const stop = this.lengthEnd(end, where);
    const s = this.buf.toString('utf8', this.pos, stop);
    this.pos = stop;
    return s;
  }

  /** Skips an unknown field, or throws if a known field number came with the wrong wire type. */
  skipOrReject(tag: number, at: number, end: number, message: string, known: KnownFields): void {
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    const expected = known.get(field);
    if (expected !== undefined) {
      throw this.error(`wrong wire type ${wireType} for field ${expected[0]} (want ${expected[1]})`, message, at);
    }
    this.skipField(field, wireType, at, end, message, 0);
  }

  private skipField(field: number, wireType: number, at: number, end: number, message: string, depth: number): void {
    if (field === 0 || field > MAX_FIELD_NUMBER) throw this.error(`illegal field number ${field}`, message, at);
    const where = `${message} unknown field ${field}`;
    switch (wireType) {
      case 0:
        this.varint(where, 'value', end);
        return;
      case 1:
        this.skipBytes(8, end, where);
        return;
      case 2:
        this.pos = this.lengthEnd(end, where);
        return;
      case 5:
        this.skipBytes(4, end, where);
        return;
      case 3:
        if (depth >= MAX_GROUP_DEPTH) throw this.error(`groups nested deeper than ${MAX_GROUP_DEPTH}`, where, at);
        this.skipGroup(field, end, where, depth + 1);
        return;
      case 4:
        throw this.error('end-group without a matching start-group', where, at);
      default:
        throw this.error(`illegal wire type ${wireType}`, where, at);
    }
  }

  // Deprecated proto2 groups: skip nested fields until the end-group tag of the same field.
  private skipGroup(field: number, end: number, where: string, depth: number): void {
    const start = this.pos;
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.varint(where, 'tag', end);
      const inner = Math.floor(tag / 8);
      const wireType = tag % 8;
      if (wireType === 4) {
        if (inner !== field) throw this.error(`end-group for field ${inner} inside group ${field}`, where, at);
        return;
      }
      this.skipField(inner, wireType, at, end, where, depth);
    }
    throw this.error('truncated group (no end-group tag)', where, start);
  }

  private skipBytes(n: number, end: number, where: string): void {
    if (end - this.pos < n) throw this.error(`truncated fixed${n * 8} (have ${end - this.pos} bytes)`, where, this.pos);
    this.pos += n;
  }

  private error(problem: string, where: string, offset: number): Error {
    return new Error(`protobuf: ${where}: ${problem} at byte ${offset}`);
  }
}
