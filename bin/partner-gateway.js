#!/usr/bin/env node
// The `partner-gateway` command: runs the compiled JavaScript in dist/ (`npm run build`, run by
// `npm ci` through `prepare`). No TypeScript transform at run time: tsx is a dev dependency only.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  // A git checkout installed with --ignore-scripts has no dist/ yet: say what to run, not a stack.
  console.error('partner-gateway: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
