// Entry point of the config component: `node dist/config/main.js FILE...` checks ConfigMap
// YAML exactly as `knts config check` does.
import { main } from '../cli/main.ts';

process.exitCode = await main(['config', 'check', ...process.argv.slice(2)]);
