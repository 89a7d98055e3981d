import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AuthError } from '../errors.js';

/** The key-encryption key (KEK). `id` names it without revealing it. */
export interface MasterKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A secret sealed with AES-256-GCM under a fresh data key, itself wrapped by the master key. */
export interface Sealed {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  wrappedDek: Buffer;
  dekIv: Buffer;
  dekTag: Buffer;
  kekId: string;
}

const ALGO = 'aes-256-gcm';

/** Build a master key from 32 raw bytes; its id is a short hash, safe to print. */
export function masterKeyFrom(key: Buffer): MasterKey {
  if (key.length !== 32) throw new AuthError(`a master key must be 32 bytes, got ${key.length}`);
  const id = `mk-${createHash('sha256').update('ssmd-kek-id:').update(key).digest('hex').slice(0, 12)}`;
  return { id, key: Buffer.from(key) };
}

export function generateMasterKey(): MasterKey {
  return masterKeyFrom(randomBytes(32));
}

function encrypt(key: Buffer, plaintext: Buffer, aad: string): { ct: Buffer; iv: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv(ALGO, key, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { ct, iv, tag: c.getAuthTag() };
}

function decrypt(key: Buffer, ct: Buffer, iv: Buffer, tag: Buffer, aad: string): Buffer {
  const d = createDecipheriv(ALGO, key, iv);
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/**
 * Seal `plaintext`. `aad` binds the ciphertext to its identity (e.g. `name#version`), so a row
 * copied onto another name or version no longer decrypts.
 */
export function seal(plaintext: Buffer, kek: MasterKey, aad: string): Sealed {
  const dek = randomBytes(32);
  try {
    const body = encrypt(dek, plaintext, `ssmd:secret:${aad}`);
    const wrap = encrypt(kek.key, dek, `ssmd:dek:${aad}`);
    return { ciphertext: body.ct, iv: body.iv, tag: body.tag, wrappedDek: wrap.ct, dekIv: wrap.iv, dekTag: wrap.tag, kekId: kek.id };
  } finally {
    dek.fill(0);
  }
}

function unwrapDek(sealed: Sealed, kek: MasterKey, aad: string): Buffer {
  if (sealed.kekId !== kek.id) {
    throw new AuthError(`secret ${aad} is wrapped with master key ${sealed.kekId}, but the loaded master key is ${kek.id}`);
  }
  try {
    return decrypt(kek.key, sealed.wrappedDek, sealed.dekIv, sealed.dekTag, `ssmd:dek:${aad}`);
  } catch (cause) {
    throw new AuthError(`secret ${aad}: the data key does not unwrap (tampered row or wrong master key)`, { cause });
  }
}

/** Open a sealed secret; throws AuthError on a wrong master key or any tampering. */
export function open(sealed: Sealed, kek: MasterKey, aad: string): Buffer {
  const dek = unwrapDek(sealed, kek, aad);
  try {
    return decrypt(dek, sealed.ciphertext, sealed.iv, sealed.tag, `ssmd:secret:${aad}`);
  } catch (cause) {
    throw new AuthError(`secret ${aad}: ciphertext does not authenticate (tampered row)`, { cause });
  } finally {
    dek.fill(0);
  }
}

/** Re-wrap the data key under a new master key; the ciphertext is untouched. */
export function rewrap(sealed: Sealed, from: MasterKey, to: MasterKey, aad: string): Pick<Sealed, 'wrappedDek' | 'dekIv' | 'dekTag' | 'kekId'> {
  const dek = unwrapDek(sealed, from, aad);
  try {
    const wrap = encrypt(to.key, dek, `ssmd:dek:${aad}`);
    return { wrappedDek: wrap.ct, dekIv: wrap.iv, dekTag: wrap.tag, kekId: to.id };
  } finally {
    dek.fill(0);
  }
}
