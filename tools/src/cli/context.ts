import type { MasterKey } from '../../../core/src/crypto/envelope.js';
import { loadMasterKey } from '../../../core/src/crypto/master-key.js';
import { redactor } from '../../../core/src/log/redact.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import type { KeyStoreContext } from '../../../catalog/src/keys/secret.repository.js';
import { loadCliConfig, type CliConfig } from '../config.js';
import { Output, type CliIO } from './io.js';

/** Global options every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  home?: string;
  catalog?: string;
}

/** What a command needs, opened lazily so `--help` and file-only commands touch nothing. */
export class CommandContext {
  readonly config: CliConfig;
  readonly out: Output;
  #catalog: Catalog | undefined;

  constructor(readonly io: CliIO, opts: GlobalOptions) {
    this.config = loadCliConfig(io.env, io.cwd, { ...(opts.home ? { home: opts.home } : {}), ...(opts.catalog ? { catalog: opts.catalog } : {}) });
    this.out = new Output(io, opts.json === true);
  }

  async catalog(): Promise<Catalog> {
    this.#catalog ??= await openCatalog(this.config.catalogUrl);
    return this.#catalog;
  }

  masterKey(): Promise<MasterKey> {
    return loadMasterKey(this.config.masterKey);
  }

  async keyStore(): Promise<KeyStoreContext> {
    return { kek: await this.masterKey(), actor: this.config.actor, redactor };
  }

  async close(): Promise<void> {
    await this.#catalog?.close();
    this.#catalog = undefined;
  }
}
