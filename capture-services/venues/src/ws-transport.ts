import WebSocket from 'ws';
import type { RawData } from 'ws';
import { SsmdError } from '../../../core/src/errors.js';

/**
 * The network seam of the feeds: `WsTransport` opens a `WsSocket`. `wsTransport` implements it over `ws`; a native
 * transport (libechidna through native/) can replace it without touching WsFeedBase.
 */

/** TLS settings of a wss:// connection (PEM text). */
export interface WsTlsOptions {
  ca?: string | string[];
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface WsConnectOptions {
  /** Extra upgrade request headers (auth). */
  headers: Record<string, string>;
  tls?: WsTlsOptions;
  /** Largest frame accepted; larger ones close the connection (1009). */
  maxPayloadBytes: number;
  /** Aborts the attempt (shutdown or connect timeout); the promise then rejects. */
  signal: AbortSignal;
}

/** An open WebSocket as the feed sees it. `activity` fires on WebSocket ping/pong control frames. */
export interface WsSocket {
  send(data: string): void;
  /** A WebSocket ping control frame. */
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
  /** Stop / restart reading from the network (backpressure). */
  pause(): void;
  resume(): void;
  on(event: 'message', fn: (bytes: Uint8Array, isBinary: boolean) => void): void;
  on(event: 'close', fn: (code: number, reason: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  on(event: 'activity', fn: () => void): void;
}

/**
 * Opens WebSockets. Resolves once the upgrade succeeded; rejects with `UpgradeRefusedError` on a non-101 answer.
 * The default, `wsTransport`, uses `ws`; a native transport (libechidna) can implement the same interface.
 */
export interface WsTransport {
  connect(url: string, options: WsConnectOptions): Promise<WsSocket>;
}

/**
 * The server answered the upgrade with an HTTP status instead of 101. Retryable: the feed backs off, and a 429 or
 * 503 with `Retry-After` (the raw header value, seconds or an HTTP date) waits that long instead.
 */
export class UpgradeRefusedError extends SsmdError {
  readonly retryable = true;
  constructor(readonly status: number, readonly body: string, readonly retryAfter?: string) {
    super(`WebSocket upgrade refused: HTTP ${status}${body === '' ? '' : ` ${body.slice(0, 300)}`}`, { code: 'WS_UPGRADE_REFUSED' });
  }
}

const asBytes = (data: RawData): Uint8Array => (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));

class WsSocketAdapter implements WsSocket {
  /**
   * Frames that arrive with the upgrade response are emitted by `ws` synchronously right after 'open', before the
   * feed has attached its handler (it does so after awaiting `connect`). They are raw data too: hold them until the
   * handler arrives, then deliver them first. A close that comes that early is held the same way.
   */
  #early: Array<[Uint8Array, boolean]> | undefined = [];
  #onMessage: ((bytes: Uint8Array, isBinary: boolean) => void) | undefined;
  #closed: [number, string] | undefined;
  #onClose: ((code: number, reason: string) => void) | undefined;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const bytes = asBytes(data);
      if (this.#onMessage) this.#onMessage(bytes, isBinary);
      else this.#early?.push([bytes, isBinary]);
    });
    ws.on('close', (code, reason) => {
      this.#closed = [code, reason.toString()];
      this.#onClose?.(code, reason.toString());
    });
  }
  send(data: string): void {
    this.ws.send(data);
  }
  ping(): void {
    this.ws.ping();
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  terminate(): void {
    this.ws.terminate();
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  on(event: 'message' | 'close' | 'error' | 'activity', fn: (...args: never[]) => void): void {
    const f = fn as (...args: unknown[]) => void;
    if (event === 'message') {
      this.#onMessage = f as (bytes: Uint8Array, isBinary: boolean) => void;
      for (const [bytes, isBinary] of this.#early ?? []) this.#onMessage(bytes, isBinary);
      this.#early = undefined;
    } else if (event === 'close') {
      this.#onClose = f as (code: number, reason: string) => void;
      if (this.#closed !== undefined) this.#onClose(...this.#closed);
    } else if (event === 'error') this.ws.on('error', (err) => f(err));
    else for (const e of ['ping', 'pong'] as const) this.ws.on(e, () => f());
  }
}

/**
 * The default transport over `ws`. Text frames are not UTF-8-validated (`skipUTF8Validation`): a venue's invalid
 * UTF-8 is raw data for the classifier to flag, not a reason to drop the connection (1007).
 */
export const wsTransport: WsTransport = {
  connect(url, o) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: o.headers, maxPayload: o.maxPayloadBytes, skipUTF8Validation: true, ...o.tls });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        o.signal.removeEventListener('abort', onAbort);
        ws.terminate();
        reject(err);
      };
      const onAbort = (): void => fail(o.signal.reason instanceof Error ? o.signal.reason : new Error('aborted'));
      if (o.signal.aborted) return onAbort();
      o.signal.addEventListener('abort', onAbort, { once: true });
      ws.on('error', (err) => fail(err));
      ws.once('unexpected-response', (req, res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => {
          req.destroy();
          fail(new UpgradeRefusedError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), res.headers['retry-after']));
        };
        res.on('data', (c: Buffer) => {
          if ((size += c.length) <= 4096) chunks.push(c);
          else done();
        });
        res.on('end', done);
        res.on('error', done);
      });
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        o.signal.removeEventListener('abort', onAbort);
        resolve(new WsSocketAdapter(ws));
      });
    });
  },
};
