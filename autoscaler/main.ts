// Entry point of the autoscaler image (`node dist/autoscaler/main.js [CONFIG.yaml...]`): the
// same process as `knts autoscaler`, with config-map files as arguments.
import { parseArgs } from 'node:util';
import { AUTOSCALER_OPTIONS, runAutoscalerCli } from './autoscaler-process.ts';

if (import.meta.main) {
  const options = Object.fromEntries(Object.entries(AUTOSCALER_OPTIONS).map(([k, o]) => [k, { type: o.type }])) as Record<string, { type: 'string' | 'boolean' }>;
  const { values, positionals } = parseArgs({ options, allowPositionals: true });
  process.exitCode = await runAutoscalerCli({ values, positionals, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
}
