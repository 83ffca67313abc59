// Entry point of the webhook image: `node dist/webhook/main.js [CONFIG.yaml...] [flags]` is
// exactly `knts webhook` (same flags, help and exit codes).
import { main } from '../cli/main.ts';

if (import.meta.main) {
  process.exitCode = await main(['webhook', ...process.argv.slice(2)]);
}
