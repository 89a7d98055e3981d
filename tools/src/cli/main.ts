import { Command, CommanderError } from 'commander';
import { makeRunner } from './action.js';
import { VERSION } from './version.js';
import { registerCapture } from './commands/capture.js';
import { registerFindings } from './commands/findings.js';
import { registerArchive } from './commands/archive.js';
import { registerDay } from './commands/day.js';
import { EXIT, Output, exitCodeOf, type CliIO } from './io.js';
import { registerInit } from './commands/init.js';
import { registerEnv } from './commands/env.js';
import { registerKeys } from './commands/keys.js';
import { registerCatalog } from './commands/catalog.js';
import { registerAudit } from './commands/audit.js';
import { registerSecmaster } from './commands/secmaster.js';


/** Build the `ssmd` program; commands write through `io` so tests can run it in-process. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('ssmd')
    .description('ssmd: stupid simple market data. Capture, journal, archive, normalize and serve Kalshi, Polymarket and Kraken data.')
    .version(VERSION)
    .option('--json', 'machine-readable output on stdout (errors too)')
    .option('--home <dir>', 'state directory (env SSMD_HOME, default ./.ssmd)')
    .option('--catalog <url>', 'catalog: postgres://user@host:port/db or pglite:<dir> (env SSMD_CATALOG, default pglite:<home>/catalog)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', `
Environment:
  SSMD_HOME, SSMD_CATALOG        as --home, --catalog
  SSMD_MASTER_KEY                master key, 32 bytes as base64 or hex (else SSMD_MASTER_KEY_FILE)
  SSMD_MASTER_KEY_FILE           default <home>/master.key (mode 0600, created by \`ssmd init\`)
  SSMD_ACTOR                     who you are in the audit log (default user@host)
Exit codes: 0 ok, 1 error, 2 invalid configuration or usage, 3 not found, 4 not authorized.
Start here:
  ssmd init && ssmd env init homelab && ssmd env apply homelab`);
  const run = makeRunner(io);
  registerInit(program, run);
  registerEnv(program, run);
  registerKeys(program, run);
  registerCatalog(program, run);
  registerAudit(program, run);
  registerCapture(program, run);
  registerFindings(program, run);
  registerArchive(program, run);
  registerDay(program, run);
  registerSecmaster(program, run);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  }
  return program;
}

/** Run the CLI; resolves to the exit code instead of exiting. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.config; // usage errors: commander already printed the message
    }
    new Output(io, json).error(err);
    return exitCodeOf(err);
  }
}
