// Child entry point: the autocannon fallback load generator (used when wrk is not on PATH).
// Runs in its own process so it can be pinned to the load core. Records every response's latency
// into an hdr-histogram-js histogram and prints one `KNTS_JSON {...}` line (a LoadResult).
// Usage: node bench/autocannon-run.ts <url> <connections> <seconds> [headers-json]
import autocannon from 'autocannon';
import { build } from 'hdr-histogram-js';
import { exitWithParent } from './harness.ts';

const [url, conns, secs, headersJson] = process.argv.slice(2);
if (url === undefined || conns === undefined || secs === undefined) {
  process.stderr.write('usage: autocannon-run.ts <url> <connections> <seconds> [headers-json]\n');
  process.exit(2);
}
exitWithParent();

// Microseconds, 1 µs to 60 s, 3 significant digits.
const hist = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
let non2xx = 0;
let errors = 0;

const headers = headersJson === undefined ? {} : (JSON.parse(headersJson) as Record<string, string>);

const instance = autocannon({ url, connections: Number(conns), duration: Number(secs), pipelining: 1, timeout: 5, headers }, (err, result) => {
  if (err) {
    process.stderr.write(`autocannon: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  const requests = hist.totalCount;
  const seconds = result.duration;
  const out = {
    requests,
    seconds,
    rps: requests / seconds,
    p50: hist.getValueAtPercentile(50),
    p99: hist.getValueAtPercentile(99),
    errors: errors + result.timeouts,
    non2xx,
  };
  process.stdout.write(`KNTS_JSON ${JSON.stringify(out)}\n`, () => process.exit(0));
});
// responseTime is in milliseconds (fractional, from hrtime).
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  hist.recordValue(Math.max(1, Math.round(responseTime * 1000)));
  if (statusCode >= 400) non2xx++;
});
instance.on('reqError', () => {
  errors++;
});
