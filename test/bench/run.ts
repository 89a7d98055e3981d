/**
 * `npm run bench`: runs every `*.bench.ts` in this folder (or those named on the command line) in
 * its own process, one after another, and prints their reports. Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const only = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts') && (only.length === 0 || only.some((o) => f.includes(o)))).sort();
let failed = 0;
process.stdout.write(`# ssmd benchmarks (${new Date().toISOString()}, node ${process.version})\n\n`);
for (const f of files) {
  // A bench may ask for node flags in a `// bench-node-flags: ...` line (e.g. the heap limits a profile sets).
  const flags = /^\/\/ bench-node-flags: (.+)$/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1]?.split(' ') ?? [];
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', '--expose-gc', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    process.stderr.write(`bench ${f} failed with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed ? 1 : 0);
