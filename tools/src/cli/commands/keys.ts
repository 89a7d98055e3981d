import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ConfigError, SsmdError } from '../../../../core/src/errors.js';
import { loadMasterKey } from '../../../../core/src/crypto/master-key.js';
import { addSecret, listSecrets, revokeSecret, rotateMasterKey, rotateSecret, showSecret } from '../../../../catalog/src/keys/secret.repository.js';
import { SECRET_KINDS, type SecretKind } from '../../../../catalog/src/keys/kinds.js';
import { SCOPES, createApiKey, listApiKeys, revokeApiKey } from '../../../../catalog/src/keys/api-key.repository.js';
import { instant, list, type Runner } from '../action.js';
import type { CommandContext } from '../context.js';
import { table } from '../io.js';

interface ValueOptions {
  fromFile?: string;
  stdin?: boolean;
  fromEnv?: string;
  attr?: string[];
}

/** Read a secret value from exactly one source; never from argv, where `ps` and shell history see it. */
async function readValue(ctx: CommandContext, o: ValueOptions): Promise<Buffer> {
  const sources = [o.fromFile !== undefined, o.stdin === true, o.fromEnv !== undefined].filter(Boolean).length;
  if (sources !== 1) throw new SsmdError('give the value with exactly one of --from-file <path>, --stdin, --from-env <VAR> (never on the command line)', { code: 'USAGE' });
  if (o.fromFile !== undefined) return readFile(o.fromFile);
  if (o.stdin) return ctx.io.readStdin();
  const v = ctx.io.env[o.fromEnv!];
  if (!v) throw new ConfigError([{ file: 'environment variables', path: o.fromEnv!, expected: 'a non-empty value', got: 'nothing' }]);
  return Buffer.from(v);
}

function attributes(pairs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new SsmdError(`--attr expects name=value, got ${JSON.stringify(p)}`, { code: 'USAGE' });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function valueOptions(cmd: Command): Command {
  return cmd.option('--from-file <path>', 'read the value from a file (e.g. a PEM)')
    .option('--stdin', 'read the value from standard input')
    .option('--from-env <VAR>', 'read the value from an environment variable')
    .option('--attr <name=value>', 'non-secret attribute, repeatable (kalshi-rsa needs key_id, s3 needs access_key_id)', collect);
}

export function registerKeys(program: Command, run: Runner): void {
  const keys = program.command('keys').description('The key store: secrets encrypted at rest (AES-256-GCM envelope), and client API keys.')
    .addHelpText('after', `
Secrets are referenced from environment files as key:<name>. Values are never printed.
Examples:
  ssmd keys add kalshi-prod --kind kalshi-rsa --from-file kalshi.pem --attr key_id=a1b2c3
  printf %s "$S3_SECRET" | ssmd keys add s3-offsite --kind s3 --stdin --attr access_key_id=AKIA...
  ssmd keys rotate kalshi-prod --from-file kalshi-new.pem
  ssmd keys api create claude-desktop --scopes data:read,dq:write`);

  valueOptions(keys.command('add <name>').description('Store a new secret (version 1).')
    .addOption(new Option('--kind <kind>', 'what the secret is').choices(SECRET_KINDS).makeOptionMandatory()))
    .action(run(async (ctx, name: string, o: ValueOptions & { kind: SecretKind }) => {
      const { db } = await ctx.catalog();
      const info = await addSecret(db, await ctx.keyStore(), { name, kind: o.kind, value: await readValue(ctx, o), attributes: attributes(o.attr) });
      ctx.out.result(info, () => `added key:${info.name} (${info.kind}, ${info.byteLength} bytes, version ${info.version}, wrapped by ${info.kekId})`);
    }));

  valueOptions(keys.command('rotate <name>').description('Replace a secret with a new version; the old one is retired.'))
    .action(run(async (ctx, name: string, o: ValueOptions) => {
      const { db } = await ctx.catalog();
      const info = await rotateSecret(db, await ctx.keyStore(), name, await readValue(ctx, o), o.attr ? attributes(o.attr) : undefined);
      ctx.out.result(info, () => `rotated key:${info.name} to version ${info.version}`);
    }));

  keys.command('revoke <name>').description('Revoke every version; key:<name> stops resolving.')
    .action(run(async (ctx, name: string) => {
      const { db } = await ctx.catalog();
      await revokeSecret(db, await ctx.keyStore(), name);
      ctx.out.result({ name, status: 'revoked' }, () => `revoked key:${name}`);
    }));

  keys.command('list').description('Every secret, metadata only.')
    .action(run(async (ctx) => {
      const { db } = await ctx.catalog();
      const rows = await listSecrets(db);
      ctx.out.result(rows, () => table(rows, ['name', 'kind', 'version', 'status', 'byteLength', 'kekId', 'createdAt']));
    }));

  keys.command('show <name>').description('One secret\'s metadata (never its value).')
    .action(run(async (ctx, name: string) => {
      const { db } = await ctx.catalog();
      const info = await showSecret(db, name);
      ctx.out.result(info, () => Object.entries(info).map(([k, v]) => `${k.padEnd(11)} ${v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n'));
    }));

  keys.command('rotate-master').description('Re-wrap every secret under a new master key (ciphertexts unchanged, one transaction).')
    .requiredOption('--new-key-file <path>', 'file holding the new 32-byte key (base64 or hex), mode 0600')
    .addHelpText('after', '\nAfterwards point SSMD_MASTER_KEY_FILE (or <home>/master.key) at the new key.')
    .action(run(async (ctx, o: { newKeyFile: string }) => {
      const { db } = await ctx.catalog();
      const from = await ctx.masterKey();
      const to = await loadMasterKey({ file: o.newKeyFile });
      const res = await rotateMasterKey(db, ctx.config.actor, from, to);
      ctx.out.result({ from: from.id, to: to.id, ...res }, () => `re-wrapped ${res.rewrapped} secret versions from ${from.id} to ${to.id}; now use ${o.newKeyFile} as the master key`);
    }));

  const api = keys.command('api').description('Client API keys with scopes, for MCP over HTTP, the gateway and the bridges.');
  api.command('create <name>').description('Create a key; the token is shown once and only its hash is stored.')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`, list)
    .option('--expires <instant>', 'ISO 8601 expiry', instant('--expires'))
    .action(run(async (ctx, name: string, o: { scopes: string[]; expires?: Date }) => {
      const { db } = await ctx.catalog();
      const key = await createApiKey(db, { name, scopes: o.scopes, actor: ctx.config.actor, ...(o.expires ? { expiresAt: o.expires } : {}) });
      // The one place a token is shown on purpose: written raw, not through the redactor.
      ctx.io.stdout(ctx.out.json ? `${JSON.stringify(key, null, 2)}\n` : `${key.token}\n`);
      ctx.out.note(`API key ${key.id} (${key.scopes.join(', ')}). Store the token now; it cannot be shown again.`);
    }));
  api.command('list').description('Every API key (no secrets).')
    .action(run(async (ctx) => {
      const { db } = await ctx.catalog();
      const rows = await listApiKeys(db);
      ctx.out.result(rows, () => table(rows, ['id', 'name', 'scopes', 'created_at', 'expires_at', 'revoked_at', 'last_used_at']));
    }));
  api.command('revoke <id>').description('Revoke a key at once.')
    .action(run(async (ctx, id: string) => {
      const { db } = await ctx.catalog();
      await revokeApiKey(db, id, ctx.config.actor);
      ctx.out.result({ id, status: 'revoked' }, () => `revoked API key ${id}`);
    }));
}
