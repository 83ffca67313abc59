#!/usr/bin/env node
// Launcher for the `knts` bin: runs the TypeScript sources through Node's type stripping, so a
// checkout works without a build. Images run `node dist/cli/main.js` instead.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
