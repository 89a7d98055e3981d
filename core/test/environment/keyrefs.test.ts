import { describe, expect, test } from 'vitest';
import { collectKeyRefs, parseEnvironment, positionOf } from '../../src/environment/index.js';
import { parsePath, renderPath } from '../../src/environment/document.js';
import { FULL } from './fixtures.js';

describe('key references', () => {
  test('collects every key: reference with its path', () => {
    expect(collectKeyRefs(parseEnvironment(FULL, 'env.yaml'))).toEqual([
      { ref: 'key:kalshi-prod', name: 'kalshi-prod', path: 'feeds[0].credentials' },
      { ref: 'key:nats-homelab', name: 'nats-homelab', path: 'servers.nats.credentials' },
      { ref: 'key:s3-offsite', name: 's3-offsite', path: 'storage.s3.credentials' },
    ]);
  });

  test('positionOf locates a reference so a missing key can be reported at file:line:col', () => {
    expect(positionOf(FULL, 'env.yaml', 'feeds[0].credentials')).toEqual({ file: 'env.yaml', line: 17, col: 18 });
    expect(positionOf(FULL, 'env.yaml', 'servers.nats.credentials')).toEqual({ file: 'env.yaml', line: 29, col: 51 });
    // a missing path falls back to the nearest existing parent; a malformed path gives no position
    expect(positionOf(FULL, 'env.yaml', 'feeds[1].credentials')).toEqual({ file: 'env.yaml', line: 18, col: 5 });
    expect(positionOf(FULL, 'env.yaml', 'feeds[')).toEqual({ file: 'env.yaml' });
  });
});

describe('paths', () => {
  test('render and parse are inverse', () => {
    const segs = ['feeds', 1, 'channels', 0];
    expect(renderPath(segs)).toBe('feeds[1].channels[0]');
    expect(parsePath('feeds[1].channels[0]')).toEqual(segs);
    expect(parsePath('feeds.1.channels.0')).toEqual(segs);
    expect(parsePath('')).toEqual([]);
    expect(parsePath('a..b')).toBeUndefined();
  });
});
