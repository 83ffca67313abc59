// The Stat / WireStatMessages wire format: byte vectors worked out by hand from the field table
// in stat.proto (tag = field << 3 | wire type), round trips, and hostile input.
import test from 'ava';
import {
  decodeStat,
  decodeWireStatMessages,
  encodeStat,
  encodeWireStatMessages,
  type Stat,
  type WireStatMessage,
  emptyStat,
} from '../../autoscaler/stat-proto.ts';

const ZERO: Stat = emptyStat();
const stat = (fields: Partial<Stat>): Stat => ({ ...ZERO, ...fields });

const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1 ');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

// Little-endian IEEE-754 doubles used below.
const D_1_5 = '00 00 00 00 00 00 f8 3f'; // 0x3ff8000000000000
const D_1 = '00 00 00 00 00 00 f0 3f';
const D_0_5 = '00 00 00 00 00 00 e0 3f';
const D_2 = '00 00 00 00 00 00 00 40';
const D_10_25 = '00 00 00 00 00 80 24 40'; // 0x4024800000000000

const vectors: [string, Stat, string][] = [
  ['all zero is empty', ZERO, ''],
  ['pod name and average concurrency', stat({ podName: 'p', averageConcurrentRequests: 1.5 }), `0a 01 70 11 ${D_1_5}`],
  [
    'every field, ascending order',
    stat({
      podName: 'pod-1',
      averageConcurrentRequests: 1,
      averageProxiedConcurrentRequests: 0.5,
      requestCount: 2,
      proxiedRequestCount: 1,
      processUptime: 10.25,
      timestamp: 1_700_000_000,
    }),
    `0a 05 70 6f 64 2d 31 11 ${D_1} 19 ${D_0_5} 21 ${D_2} 29 ${D_1} 31 ${D_10_25} 38 80 e2 cf aa 06`,
  ],
  ['timestamp 300 is a 2-byte varint', stat({ timestamp: 300 }), '38 ac 02'],
  ['timestamp 1 is a 1-byte varint', stat({ timestamp: 1 }), '38 01'],
  ['negative timestamp is a 10-byte two\'s complement varint', stat({ timestamp: -1 }), '38 ff ff ff ff ff ff ff ff ff 01'],
  ['int64 minimum', stat({ timestamp: -(2 ** 63) }), '38 80 80 80 80 80 80 80 80 80 01'],
  ['-0.0 is omitted like 0 (gogo compares with != 0)', stat({ requestCount: -0, processUptime: -0 }), ''],
  ['only the proxied request count', stat({ proxiedRequestCount: 0.5 }), `29 ${D_0_5}`],
  ['only the proxied concurrency', stat({ averageProxiedConcurrentRequests: 2 }), `19 ${D_2}`],
  ['unicode pod name is UTF-8 with a byte length', stat({ podName: 'pöd-😀' }), '0a 09 70 c3 b6 64 2d f0 9f 98 80'],
];

for (const [name, value, want] of vectors) {
  test(`encodeStat: ${name}`, (t) => {
    t.is(hex(encodeStat(value)), want);
  });
  test(`decodeStat: ${name}`, (t) => {
    // -0 is not on the wire (omitted as zero), so it comes back as the default +0.
    const plusZero = { requestCount: value.requestCount || 0, processUptime: value.processUptime || 0 };
    t.deepEqual(decodeStat(bytes(want)), { ...value, ...plusZero });
  });
}

test('a 250-byte pod name takes a 2-byte length (fa 01) and fits the 336-byte scrape limit', (t) => {
  const podName = 'x'.repeat(250);
  const full = stat({
    podName,
    averageConcurrentRequests: 1,
    averageProxiedConcurrentRequests: 1,
    requestCount: 1,
    proxiedRequestCount: 1,
    processUptime: 1,
    timestamp: -1,
  });
  const b = encodeStat(full);
  t.is(hex(b.subarray(0, 4)), '0a fa 01 78');
  t.is(b.length, 3 + 250 + 5 * 9 + 11);
  t.true(b.length <= 336);
  t.deepEqual(decodeStat(b), full);
});

const roundTrips: [string, Stat][] = [
  ['large safe timestamp', stat({ timestamp: Number.MAX_SAFE_INTEGER })],
  ['most negative safe timestamp', stat({ timestamp: Number.MIN_SAFE_INTEGER })],
  ['timestamp 2^62', stat({ timestamp: 2 ** 62 })],
  ['timestamp 2^49 (first 8-byte varint)', stat({ timestamp: 2 ** 49 })],
  ['timestamp 2^49 - 1 (last 7-byte varint)', stat({ timestamp: 2 ** 49 - 1 })],
  ['negative timestamp', stat({ timestamp: -1_700_000_000 })],
  ['tiny and huge doubles', stat({ averageConcurrentRequests: 5e-324, requestCount: Number.MAX_VALUE, processUptime: -1.25 })],
  ['infinities', stat({ averageConcurrentRequests: Infinity, proxiedRequestCount: -Infinity })],
  ['emoji, CJK and combining marks', stat({ podName: '服务-😀-e\u0301', timestamp: 42 })],
];

for (const [name, value] of roundTrips) {
  test(`round trip: ${name}`, (t) => {
    t.deepEqual(decodeStat(encodeStat(value)), value);
  });
}

test('NaN is not zero, so it is encoded and survives', (t) => {
  const b = encodeStat(stat({ averageConcurrentRequests: NaN }));
  t.is(b.length, 9);
  t.is(b[0], 0x11);
  t.true(Number.isNaN(decodeStat(b).averageConcurrentRequests));
});

test('encodeStat rejects timestamps that are not int64', (t) => {
  for (const timestamp of [1.5, NaN, Infinity, 2 ** 63, -(2 ** 64)]) {
    t.throws(() => encodeStat(stat({ timestamp })), { instanceOf: RangeError, message: /Stat\.timestamp .* is not an int64/ });
  }
});

test('decodeStat accepts a plain Uint8Array view at an offset', (t) => {
  const backing = new Uint8Array(20);
  backing.set(bytes('0a 01 70 38 ac 02'), 5);
  t.deepEqual(decodeStat(backing.subarray(5, 11)), stat({ podName: 'p', timestamp: 300 }));
});

test('decodeStat: fields in any order, the last occurrence wins', (t) => {
  const b = bytes(`38 ac 02 11 ${D_1} 0a 01 61 11 ${D_1_5} 0a 02 62 63 38 01`);
  t.deepEqual(decodeStat(b), stat({ podName: 'bc', averageConcurrentRequests: 1.5, timestamp: 1 }));
});

test('decodeStat: a non-minimal tag varint (8a 00 = field 1, wire type 2) is accepted', (t) => {
  t.deepEqual(decodeStat(bytes('8a 00 01 70')), stat({ podName: 'p' }));
});

test('decodeStat: unknown fields of every wire type are skipped', (t) => {
  const unknown = [
    '40 96 01', // field 8, varint 150
    `49 ${D_2}`, // field 9, fixed64
    '52 03 61 62 63', // field 10, length-delimited "abc"
    '5d 01 02 03 04', // field 11, fixed32
    '63 08 01 6b 0a 00 6c 64', // field 12, group holding a varint and a nested group 13
    '80 01 00', // field 16: a two-byte tag
  ].join(' ');
  const b = bytes(`${unknown} 0a 01 70 ${unknown} 11 ${D_1_5} ${unknown}`);
  t.deepEqual(decodeStat(b), stat({ podName: 'p', averageConcurrentRequests: 1.5 }));
});

const malformed: [string, string, RegExp][] = [
  ['a lone tag for a string', '0a', /Stat\.pod_name: truncated length varint at byte 1/],
  ['a string longer than the input', '0a 05 70', /Stat\.pod_name: length 5 exceeds the 1 bytes remaining at byte 1/],
  ['a short double', '11 00 00 00', /Stat\.average_concurrent_requests: truncated double \(need 8 bytes, have 3\) at byte 1/],
  ['an unfinished timestamp varint', '38 80 80', /Stat\.timestamp: truncated int64 varint at byte 1/],
  ['a varint longer than 10 bytes', '38 ff ff ff ff ff ff ff ff ff ff 01', /Stat\.timestamp: int64 varint longer than 10 bytes/],
  ['an unfinished tag varint', `11 ${D_1} 80`, /Stat: truncated tag varint at byte 9/],
  ['a known field with the wrong wire type', '10 01', /Stat: wrong wire type 0 for field average_concurrent_requests \(want 1\) at byte 0/],
  ['pod_name as a varint', '08 01', /wrong wire type 0 for field pod_name \(want 2\)/],
  ['field number 0', '00 01', /illegal field number 0 at byte 0/],
  ['wire type 6', '46 00', /Stat unknown field 8: illegal wire type 6 at byte 0/],
  ['wire type 7', '4f 00', /illegal wire type 7/],
  ['an end-group with no start', '4c', /end-group without a matching start-group/],
  ['a group that never ends', '63 08 01', /truncated group \(no end-group tag\)/],
  ['a group closed by another field', '63 6c', /end-group for field 13 inside group 12/],
  ['groups nested too deep', '63 '.repeat(100), /groups nested deeper than 64/],
  ['a truncated unknown fixed64', '49 00 00', /Stat unknown field 9: truncated fixed64 \(have 2 bytes\)/],
  ['a truncated unknown fixed32', '5d 00', /Stat unknown field 11: truncated fixed32 \(have 1 bytes\)/],
  ['an unknown length past the end', '52 7f 00', /Stat unknown field 10: length 127 exceeds the 1 bytes remaining/],
  ['a field number past 2^29 - 1', '80 80 80 80 10 00', /illegal field number 536870912/],
];

for (const [name, input, message] of malformed) {
  test(`decodeStat rejects ${name}`, (t) => {
    t.throws(() => decodeStat(bytes(input)), { instanceOf: Error, message });
  });
}

test('every strict prefix of a Stat either decodes (at a field boundary) or throws', (t) => {
  const full = encodeStat(stat({ podName: 'pod-1', averageConcurrentRequests: 1, processUptime: 3, timestamp: -5 }));
  const boundaries = new Set([0, 7, 16, 25]);
  for (let n = 0; n < full.length; n++) {
    const prefix = full.subarray(0, n);
    if (boundaries.has(n)) t.notThrows(() => decodeStat(prefix), `prefix ${n}`);
    else t.throws(() => decodeStat(prefix), { message: /^protobuf: / }, `prefix ${n}`);
  }
});

test('random and mutated input never hangs or reads out of bounds: it decodes or throws an Error', (t) => {
  let seed = 0x2545f491;
  const rand = (): number => {
    // xorshift32: deterministic, so a failure reproduces.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const valid = encodeWireStatMessages([
    { namespace: 'default', name: 'hello-00001', stat: stat({ podName: 'act-1', requestCount: 3, timestamp: 99 }) },
    { namespace: 'ns', name: 'r', stat: stat({ averageConcurrentRequests: 2 }) },
  ]);
  for (let i = 0; i < 5000; i++) {
    const input =
      i % 2 === 0
        ? Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)))
        : Buffer.from(valid).map((b) => (rand() < 0.05 ? Math.floor(rand() * 256) : b));
    for (const decode of [decodeStat, decodeWireStatMessages]) {
      try {
        decode(input);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('protobuf: ')) {
          t.fail(`input ${hex(input)}: ${String(e)}`);
          return;
        }
      }
    }
  }
  t.pass();
});

// ---------------------------------------------------------------------------------------------
// WireStatMessages

test('encodeWireStatMessages: one message, by hand', (t) => {
  const msgs: WireStatMessage[] = [{ namespace: 'ns', name: 'r', stat: stat({ podName: 'a' }) }];
  // message: 0a 02 "ns" | 12 01 "r" | 1a 03 (0a 01 "a") = 12 bytes
  const want = '0a 0c 0a 02 6e 73 12 01 72 1a 03 0a 01 61';
  t.is(hex(encodeWireStatMessages(msgs)), want);
  t.deepEqual(decodeWireStatMessages(bytes(want)), msgs);
});

test('encodeWireStatMessages: an absent stat is omitted, an empty one is 1a 00', (t) => {
  const msgs: WireStatMessage[] = [{ namespace: '', name: '' }, { namespace: '', name: '', stat: ZERO }];
  const want = '0a 00 0a 02 1a 00';
  t.is(hex(encodeWireStatMessages(msgs)), want);
  t.deepEqual(decodeWireStatMessages(bytes(want)), msgs);
});

test('encodeWireStatMessages: no messages is empty', (t) => {
  t.is(encodeWireStatMessages([]).length, 0);
  t.deepEqual(decodeWireStatMessages(new Uint8Array(0)), []);
});

test('WireStatMessages with several messages round trip in order', (t) => {
  const msgs: WireStatMessage[] = [];
  for (let i = 0; i < 50; i++) {
    msgs.push({
      namespace: `ns-${i % 3}`,
      name: `rev-${i}`.padEnd(i * 3, 'z'),
      stat: stat({
        podName: `activator-${i}`,
        averageConcurrentRequests: i / 7,
        averageProxiedConcurrentRequests: i / 7,
        requestCount: i,
        proxiedRequestCount: i,
        timestamp: 1_700_000_000 + i,
      }),
    });
  }
  msgs.push({ namespace: 'x', name: '' });
  const encoded = encodeWireStatMessages(msgs);
  t.true(encoded.length > 128 * 20); // long enough for 2-byte message lengths
  t.deepEqual(decodeWireStatMessages(encoded), msgs);
});

test('decodeWireStatMessages: repeated stat fields merge, unknown fields are skipped at every level', (t) => {
  // message: 20 07 (unknown field 4) | 1a 03 (0a 01 "a") | 1a 09 (11 <1.5>) | 12 01 "r"
  const inner = `20 07 1a 03 0a 01 61 1a 09 11 ${D_1_5} 12 01 72`;
  const b = bytes(`10 05 0a 15 ${inner} 1d 00 00 00 00`);
  t.deepEqual(decodeWireStatMessages(b), [
    { namespace: '', name: 'r', stat: stat({ podName: 'a', averageConcurrentRequests: 1.5 }) },
  ]);
});

test('decodeWireStatMessages: a stat field may not read past its own length', (t) => {
  // The embedded stat claims 1 byte but holds a double tag; the 8 bytes after it are not its own.
  const b = bytes(`0a 03 1a 01 11 ${D_1}`);
  t.throws(() => decodeWireStatMessages(b), {
    message: /Stat\.average_concurrent_requests: truncated double \(need 8 bytes, have 0\) at byte 5/,
  });
});

const malformedMessages: [string, string, RegExp][] = [
  ['a message longer than the input', '0a 05 0a', /WireStatMessages\.messages: length 5 exceeds the 1 bytes remaining/],
  ['a stat longer than its message', '0a 02 1a 05', /WireStatMessage\.stat: length 5 exceeds the 0 bytes remaining/],
  ['a namespace as fixed64', `0a 09 09 ${D_1}`, /WireStatMessage: wrong wire type 1 for field namespace \(want 2\)/],
  ['messages as a varint', '08 01', /WireStatMessages: wrong wire type 0 for field messages \(want 2\)/],
  ['a name past its message end', '0a 02 12 03 61 62 63', /WireStatMessage\.name: length 3 exceeds the 0 bytes remaining/],
];

for (const [name, input, message] of malformedMessages) {
  test(`decodeWireStatMessages rejects ${name}`, (t) => {
    t.throws(() => decodeWireStatMessages(bytes(input)), { message });
  });
}
