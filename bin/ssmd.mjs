#!/usr/bin/env node
// The `ssmd` command. Runs the compiled CLI from dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/tools/src/cli/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('ssmd is not built: run `npm ci` (or `npm run build`) in the repository first\n');
  process.exit(1);
}
await import(entry.href);
