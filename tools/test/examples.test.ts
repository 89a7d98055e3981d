import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../core/src/environment/index.js';
import { collectKeyRefs } from '../../core/src/environment/keyrefs.js';

const DIR = join(import.meta.dirname, '../../deploy/environments');

describe('deploy/environments examples', () => {
  it('are all valid and hold no secrets, only key references', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['embedded.yaml', 'homelab.yaml']));
    for (const f of files) {
      const { env } = await loadEnvironmentFile(join(DIR, f));
      expect(env.name).toBe(f.replace('.yaml', ''));
    }
    const homelab = await loadEnvironmentFile(join(DIR, 'homelab.yaml'));
    expect(collectKeyRefs(homelab.env).map((r) => r.name).sort()).toEqual(['kalshi-prod', 'mqtt-homelab', 's3-offsite']);
  });
});
