// Runs the ava suite in TAP mode, streams its output, and closes with the one line CI reads:
// "N passed, N failed, N skipped". ava's own reporters never print that line (its default
// reporter drops the passed count when anything fails), hence this wrapper.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

// ava does not export its CLI path; it sits beside the main entry point.
const avaCli = join(dirname(fileURLToPath(import.meta.resolve('ava'))), 'cli.js');

const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0' },
});

let passed = 0;
let failed = 0;
let skipped = 0;

const lines = createInterface({ input: child.stdout });
lines.on('line', (line) => {
  process.stdout.write(line + '\n');
  const m = /^(not ok|ok)\s+\d+\b(.*)$/.exec(line);
  if (!m) return;
  const directive = /#\s*(SKIP|TODO)\b/i.exec(m[2] ?? '');
  // Todo tests did not run, so they count with the skipped ones.
  if (directive) skipped++;
  else if (m[1] === 'ok') passed++;
  else failed++;
});

child.on('close', (code, signal) => {
  const avaFailed = code !== 0 || signal !== null;
  // A crash before any result (import error, bad config) must still count as a failure.
  if (avaFailed && failed === 0) {
    failed = 1;
    process.stdout.write(`ava exited with ${signal ?? `code ${code}`} without reporting a failed test\n`);
  }
  if (passed + failed === 0) process.stdout.write('no test ran\n');
  process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
});
