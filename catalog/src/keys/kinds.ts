import { createPrivateKey } from 'node:crypto';
import { SsmdError } from '../../../core/src/errors.js';

/** Kinds of secret, so a wrong value is refused when it is stored, not when a connector starts. */
export const SECRET_KINDS = ['kalshi-rsa', 's3', 'linear', 'nats', 'mqtt', 'redis', 'postgres', 'generic'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Non-secret attributes each kind requires. */
const REQUIRED_ATTRIBUTES: Partial<Record<SecretKind, string[]>> = {
  'kalshi-rsa': ['key_id'],
  s3: ['access_key_id'],
  mqtt: ['username'],
};

function invalid(name: string, expected: string, got: string): never {
  throw new SsmdError(`key ${name}: expected ${expected}, got ${got}`, { code: 'INVALID_VALUE' });
}

/**
 * Check a secret value and its attributes for its kind; returns the attributes to store.
 * Error messages describe the value's shape, never its content.
 */
export function validateSecret(name: string, kind: SecretKind, value: Buffer, attributes: Record<string, string>): Record<string, string> {
  if (!(SECRET_KINDS as readonly string[]).includes(kind)) invalid(name, `a kind in ${SECRET_KINDS.join(', ')}`, JSON.stringify(kind));
  if (value.length === 0) invalid(name, 'a non-empty value', 'an empty value');
  for (const attr of REQUIRED_ATTRIBUTES[kind] ?? []) {
    if (!attributes[attr]) invalid(name, `attribute ${attr} for a ${kind} key (--attr ${attr}=...)`, 'nothing');
  }
  if (kind === 'kalshi-rsa') {
    let key;
    try {
      key = createPrivateKey(value); // PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY")
    } catch {
      invalid(name, 'an RSA private key in PEM (PKCS#1 or PKCS#8)', `${value.length} bytes that do not parse as a private key`);
    }
    if (key.asymmetricKeyType !== 'rsa') invalid(name, 'an RSA private key', `a ${key.asymmetricKeyType} key`);
  }
  return attributes;
}
