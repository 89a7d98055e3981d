import type { SentFrame, SimulatorStats } from './types.js';

/** Counters for every simulator, plus the frame log when recording is on. */
export class Recorder {
  readonly stats: SimulatorStats = { connections: 0, connectionsTotal: 0, framesSent: 0, bytesSent: 0, rejectedAuth: 0 };
  private readonly frames: SentFrame[] = [];

  constructor(private readonly enabled: boolean) {}

  frame(connectionId: string, seq: number, payload: string | Buffer): void {
    const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this.stats.framesSent++;
    this.stats.bytesSent += bytes;
    if (!this.enabled) return;
    if (typeof payload === 'string') this.frames.push({ connectionId, seq, text: payload });
    else this.frames.push({ connectionId, seq, text: payload.toString('latin1'), binary: true });
  }

  sent(): SentFrame[] {
    return this.frames.slice();
  }
}
