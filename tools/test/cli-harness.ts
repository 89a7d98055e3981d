import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A scratch directory to run the CLI in, in-process, with its own home and catalog. */
export class CliSandbox {
  private constructor(readonly dir: string, readonly env: Record<string, string>) {}

  static async create(env: Record<string, string> = {}): Promise<CliSandbox> {
    const dir = await mkdtemp(join(tmpdir(), 'ssmd-cli-'));
    return new CliSandbox(dir, { SSMD_HOME: join(dir, '.ssmd'), SSMD_ACTOR: 'tester@test', ...env });
  }

  async run(argv: string[], stdin = ''): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, {
      stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: async () => Buffer.from(stdin),
      env: this.env, cwd: this.dir, isTTY: false,
    });
    return { code, stdout, stderr };
  }

  /** Run with --json and parse stdout. */
  async json<T = any>(argv: string[], stdin = ''): Promise<{ code: number; body: T; stderr: string }> {
    const r = await this.run([...argv, '--json'], stdin);
    return { code: r.code, body: JSON.parse(r.stdout) as T, stderr: r.stderr };
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
