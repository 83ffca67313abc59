// Go duration syntax: parse and print must match Go's time package to the letter.
import test from 'ava';
import { formatDuration, parseDuration, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND } from '../../config/duration.ts';

const parses: [string, number][] = [
  ['0', 0],
  ['-0', 0],
  ['+0', 0],
  ['5s', 5 * SECOND],
  ['30s', 30 * SECOND],
  ['1478s', 1478 * SECOND],
  ['-5s', -5 * SECOND],
  ['+5s', 5 * SECOND],
  ['5.0s', 5 * SECOND],
  ['5.6s', 5.6 * SECOND],
  ['5.s', 5 * SECOND],
  ['.5s', SECOND / 2],
  ['1.004s', 1004 * MILLISECOND],
  ['10ns', 10],
  ['11us', 11 * MICROSECOND],
  ['12µs', 12 * MICROSECOND],
  ['12μs', 12 * MICROSECOND],
  ['13ms', 13 * MILLISECOND],
  ['15m', 15 * MINUTE],
  ['16h', 16 * HOUR],
  ['3h30m', 3.5 * HOUR],
  ['1m30s', 90 * SECOND],
  ['10.5s4m', 4 * MINUTE + 10.5 * SECOND],
  ['-2m3.4s', -(2 * MINUTE + 3.4 * SECOND)],
  ['1h2m3s4ms5us6ns', HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6],
  ['0.3333333333333333333h', 1_200_000_000_000],
];

for (const [input, ns] of parses) {
  test(`parse ${input}`, (t) => {
    const r = parseDuration(input);
    t.deepEqual(r, { ok: true, ns });
  });
}

const errors: [string, string][] = [
  ['', 'time: invalid duration ""'],
  ['3', 'time: missing unit in duration "3"'],
  ['60', 'time: missing unit in duration "60"'],
  ['-', 'time: invalid duration "-"'],
  ['s', 'time: invalid duration "s"'],
  ['.', 'time: invalid duration "."'],
  ['-.', 'time: invalid duration "-."'],
  ['.s', 'time: invalid duration ".s"'],
  ['+.s', 'time: invalid duration "+.s"'],
  ['1d', 'time: unknown unit "d" in duration "1d"'],
  ['3000000h', 'time: invalid duration "3000000h"'],
  [' 1s', 'time: invalid duration " 1s"'],
];

for (const [input, error] of errors) {
  test(`parse error ${JSON.stringify(input)}`, (t) => {
    t.deepEqual(parseDuration(input), { ok: false, error });
  });
}

const prints: [number, string][] = [
  [0, '0s'],
  [1, '1ns'],
  [1100, '1.1µs'],
  [2_200_000, '2.2ms'],
  [3_300_000_000, '3.3s'],
  [4 * MINUTE + 5 * SECOND, '4m5s'],
  [4 * MINUTE + 5001 * MILLISECOND, '4m5.001s'],
  [5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, '5h6m7.001s'],
  [8 * MINUTE + 1, '8m0.000000001s'],
  [HOUR, '1h0m0s'],
  [6 * SECOND, '6s'],
  [MINUTE, '1m0s'],
  [500 * MILLISECOND, '500ms'],
  [-SECOND, '-1s'],
  [-1, '-1ns'],
];

for (const [ns, text] of prints) {
  test(`format ${text}`, (t) => {
    t.is(formatDuration(ns), text);
  });
}
