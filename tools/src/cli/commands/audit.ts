import type { Command } from 'commander';
import { listAudit } from '../../../../catalog/src/audit/audit.repository.js';
import { instant, type Runner } from '../action.js';
import { table } from '../io.js';

export function registerAudit(program: Command, run: Runner): void {
  program.command('audit')
    .description('Read the append-only audit log (newest first): key management, key use, applies.')
    .option('--since <instant>', 'only entries at or after this ISO 8601 instant', instant('--since'))
    .option('--action <action>', 'e.g. key.use, env.apply, or a prefix with * (key.*)')
    .option('--target <target>', 'e.g. key:kalshi-prod, env:homelab')
    .option('--limit <n>', 'at most n entries', (v) => Number.parseInt(v, 10), 50)
    .action(run(async (ctx, opts: { since?: Date; action?: string; target?: string; limit: number }) => {
      const { db } = await ctx.catalog();
      const rows = await listAudit(db, opts);
      ctx.out.result(rows, () => table(rows.map((r) => ({ ...r, detail: JSON.stringify(r.detail) })), ['at', 'actor', 'action', 'target', 'outcome', 'detail']));
    }));
}
