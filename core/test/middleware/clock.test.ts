import { describe, expect, it } from 'vitest';
import { RealClock, SimulatedClock } from '../../src/middleware/clock.js';

describe('SimulatedClock', () => {
  it('fires timers in time order as recorded timestamps advance it', async () => {
    const clock = new SimulatedClock({ start: 1_000 });
    const fired: string[] = [];
    clock.setTimer(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimer(() => fired.push(`a@${clock.now()}`), 100);
    const h = clock.setTimer(() => fired.push('cancelled'), 150);
    clock.clearTimer(h);
    await clock.advanceTo(1_150);
    expect(fired).toEqual(['a@1100']);
    expect(clock.now()).toBe(1_150);
    await clock.advanceTo(1_500);
    expect(fired).toEqual(['a@1100', 'b@1200']);
    await clock.advanceTo(1_000); // never backwards
    expect(clock.now()).toBe(1_500);
  });

  it('runs sleeps and timers set by woken code deterministically', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const log: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(1_000);
        log.push(clock.now());
      }
    })();
    await clock.advanceTo(10_000);
    await loop;
    expect(log).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(clock.pending).toBe(0);
  });

  it('aborts a sleep', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const ac = new AbortController();
    const p = clock.sleep(1_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
  });

  it('paces at N× speed against the wall clock, and not at all at max', async () => {
    const fast = new SimulatedClock({ start: 0, speed: 'max' });
    let t0 = Date.now();
    await fast.advanceTo(3_600_000); // an hour, instantly
    expect(Date.now() - t0).toBeLessThan(200);
    const paced = new SimulatedClock({ start: 0, speed: 10 });
    t0 = Date.now();
    await paced.advanceTo(2_000); // 2 s of sim time at 10x = 200 ms of wall time
    const wall = Date.now() - t0;
    expect(wall).toBeGreaterThanOrEqual(180);
    expect(wall).toBeLessThan(1_500);
    expect(() => new SimulatedClock({ start: 0, speed: 0 })).toThrow(RangeError);
  });
});

describe('RealClock', () => {
  it('tells wall time in ms and ns and sleeps', async () => {
    const clock = new RealClock();
    const ns = clock.nowNs();
    expect(Math.abs(Number(ns / 1_000_000n) - clock.now())).toBeLessThan(5);
    let prev = clock.nowNs();
    let backwards = 0;
    for (let i = 0; i < 100_000; i++) {
      const t = clock.nowNs();
      if (t < prev) backwards += 1;
      prev = t;
    }
    expect(backwards).toBe(0); // receive times never go backwards
    const t0 = Date.now();
    await clock.sleep(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });
});
