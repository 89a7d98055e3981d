import type { Command } from 'commander';
import { listFindings } from '../../../../catalog/src/dq/finding.repository.js';
import type { Runner } from '../action.js';
import { table } from '../io.js';

export function registerFindings(program: Command, run: Runner): void {
  program.command('findings')
    .description('Data-quality findings recorded by capture, jobs and agents (gaps, sequence gaps, malformed frames, drops).')
    .option('--feed <name>', 'only this feed')
    .option('--day <yyyy-mm-dd>', 'only this UTC day')
    .option('--kind <kind>', 'e.g. gap, sequence_gap, malformed_frame, data_dropped')
    .option('--limit <n>', 'at most n findings', (v) => Number.parseInt(v, 10), 100)
    .action(run(async (ctx, o: { feed?: string; day?: string; kind?: string; limit: number }) => {
      const rows = await listFindings((await ctx.catalog()).db, o);
      ctx.out.result(rows, () => table(rows, ['id', 'day', 'feed', 'kind', 'severity', 'window_start', 'window_end', 'summary']));
    }));
}
