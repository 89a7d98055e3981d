/** Real-server test harness: start throwaway servers from tests (beforeAll/afterAll). */
export * from './binaries.js';
export * from './mosquitto.js';
export * from './nats.js';
export * from './ports.js';
export * from './postgres.js';
export * from './process.js';
export * from './redis.js';
export * from './seaweedfs.js';
export * from './temporal.js';
