/**
 * Opens a transport by kind. Implementations are imported on demand, so the embedded default
 * (`memory`) never loads the `mqtt` or `@nats-io/transport-node` packages.
 */
import { ConfigError } from '../../errors.js';
import type { Transport } from '../transport.js';
import type { MqttTransportOptions } from './mqtt.js';
import type { NatsTransportOptions } from './nats.js';

export type { MqttTransportOptions } from './mqtt.js';
export type { NatsTransportOptions } from './nats.js';

/** Which transport to open, and its connection options. */
export type TransportConfig =
  | { kind: 'memory' }
  | ({ kind: 'nats' } & NatsTransportOptions)
  | ({ kind: 'mqtt' } & MqttTransportOptions);

/** Opens the transport `config.kind` names; connection failures reject with `MiddlewareUnavailableError`. */
export async function openTransport(config: TransportConfig): Promise<Transport> {
  switch (config.kind) {
    case 'memory': {
      const { MemoryTransport } = await import('./memory.js');
      return new MemoryTransport();
    }
    case 'nats': {
      const { kind: _, ...opts } = config;
      const { openNatsTransport } = await import('./nats.js');
      return openNatsTransport(opts);
    }
    case 'mqtt': {
      const { kind: _, ...opts } = config;
      const { openMqttTransport } = await import('./mqtt.js');
      return openMqttTransport(opts);
    }
    default:
      throw new ConfigError([
        { file: '(transport config)', path: 'kind', expected: "'memory', 'nats' or 'mqtt'", got: JSON.stringify((config as { kind: unknown }).kind) },
      ]);
  }
}
