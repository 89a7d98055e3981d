/** Data frames per second per connection, or as fast as the socket drains. */
export type Rate = number | 'max';

export interface TlsOptions {
  key: string;
  cert: string;
}

/** Play a `.jsonl` capture: each non-empty line becomes one text frame, with the venue's framing. */
export interface ReplayOptions {
  file: string;
  rate: Rate;
  /** Start again from the first line at the end of the file (default false: stop). */
  loop?: boolean;
}

/** Options every venue simulator accepts. */
export interface BaseSimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Serve https/wss with this PEM key and certificate. */
  tls?: TlsOptions;
  /** Data frames per second per connection (default 50). */
  rate?: Rate;
  /** Seed of the market-activity generator (default 1). The same seed gives the same frames. */
  seed?: number;
  /** Keep every frame sent for `sent()` (tests). Counters only otherwise (benchmarks). */
  record?: boolean;
  replay?: ReplayOptions;
  /**
   * Start of the virtual clock that stamps generated data (epoch ms). Virtual time advances by about
   * 1000/rate ms per data frame, so timestamps are deterministic. Default 2026-02-12T17:00:00Z.
   */
  startTimeMs?: number;
  /** Size of the `malformed: huge` frame in bytes (default 3 MiB, above Polymarket's 2 MiB frame cap). */
  hugeFrameBytes?: number;
}

export interface SentFrame {
  connectionId: string;
  /** 1-based, per connection, in send order. */
  seq: number;
  /** The frame payload; for a binary frame, its bytes decoded as latin1. */
  text: string;
  binary?: true;
}

export interface SimulatorStats {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Text and binary message frames sent (acks, heartbeats and data; not WebSocket ping/pong). */
  framesSent: number;
  /** Payload bytes of those frames. */
  bytesSent: number;
  /** WebSocket upgrades refused for failed authentication. */
  rejectedAuth: number;
}

export type MalformedVariant = 'truncated-json' | 'wrong-types' | 'huge' | 'binary';

export type Fault =
  | { kind: 'disconnect'; connectionId?: string }
  | { kind: 'stale'; ms: number }
  | { kind: 'malformed'; variant: MalformedVariant }
  | { kind: 'sequence-gap'; skip: number }
  | { kind: 'rest-429'; count: number; retryAfterSec?: number }
  | { kind: 'subscription-limit' };

export interface SimulatorHandle {
  /** ws://127.0.0.1:<port>/<venue path> (wss:// with TLS). */
  wsUrl: string;
  /** http(s)://127.0.0.1:<port>/<venue REST base>. */
  restUrl: string;
  port: number;
  /** Every message frame sent, per connection, when `record: true`; empty otherwise. */
  sent(): SentFrame[];
  stats(): SimulatorStats;
  /** Ids of the connections open now (also sent to each client in the `x-simulator-connection-id` upgrade header). */
  connectionIds(): string[];
  /** Apply a scripted fault now, to every open connection (or the one named). */
  inject(fault: Fault): void;
  close(): Promise<void>;
}
