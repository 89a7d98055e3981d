import type { Generated, Selectable } from 'kysely';

export type SecretStatus = 'active' | 'retired' | 'revoked';

export interface SecretsTable {
  id: Generated<number>;
  name: string;
  version: number;
  kind: string;
  ciphertext: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  wrapped_dek: Uint8Array;
  dek_iv: Uint8Array;
  dek_tag: Uint8Array;
  kek_id: string;
  byte_length: number;
  /** Non-secret metadata (e.g. Kalshi `key_id`, S3 `access_key_id`). */
  attributes: Generated<Record<string, string>>;
  status: SecretStatus;
  created_by: string;
  created_at: Generated<Date>;
  retired_at: Date | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  scopes: string[];
  secret_hash: string;
  created_by: string;
  created_at: Generated<Date>;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: Generated<Date>;
  actor: string;
  action: string;
  target: string;
  outcome: 'ok' | 'denied' | 'error';
  detail: Generated<unknown>;
}

export type SecretRow = Selectable<SecretsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type AuditEntry = Selectable<AuditLogTable>;
