import type { Command } from 'commander';
import { CommandContext, type GlobalOptions } from './context.js';
import type { CliIO } from './io.js';

/** The one way commands are run: build the context, run, always close what was opened. */
export type Runner = <A extends unknown[]>(fn: (ctx: CommandContext, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

export function makeRunner(io: CliIO): Runner {
  return (fn) => async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const ctx = new CommandContext(io, cmd.optsWithGlobals<GlobalOptions>());
    try {
      await fn(ctx, ...(args.slice(0, -1) as never));
    } finally {
      await ctx.close();
    }
  };
}

/** Split `a,b , c` into trimmed non-empty items. */
export const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter(Boolean);

/** Parse an ISO instant or throw a message naming the option. */
export function instant(option: string): (v: string) => Date {
  return (v) => {
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`${option}: expected an ISO 8601 instant such as 2026-11-29T14:00:00Z, got ${JSON.stringify(v)}`);
    return d;
  };
}
