/** Environment texts shared by the environment tests. Line numbers matter: tests assert positions in them. */

/** A full environment using every section (36 lines). */
export const FULL = `# homelab environment
name: homelab
description: Kalshi, Kraken and Polymarket on the homelab
day:
  timezone: America/New_York
  start: "08:00"
  end: "20:00"
  calendar: us-holidays
calendars:
  - name: us-holidays
    weekdays: [mon, tue, wed, thu, fri]
    holidays: ["2026-12-25"]
feeds:
  - feed: kalshi
    select: {series: [KXBTCD], status: open}
    channels: [ticker, trade, market_lifecycle_v2]
    credentials: key:kalshi-prod
  - feed: kraken
    select: {pairs: [BTC/USD, ETH/USD]}
    channels: [ticker, trade, book]
    transport: echidna
    book_depth: 25
  - feed: polymarket
    name: poly-crypto
    select: {tags: [crypto]}
    channels: [book, last_trade_price]
middleware: {journal: jetstream, transport: mqtt, cache: redis, storage: s3, scheduler: temporal}
servers:
  nats: {url: nats://127.0.0.1:4222, credentials: key:nats-homelab}
  mqtt: {url: mqtt://127.0.0.1:1883}
  redis: {url: redis://127.0.0.1:6379}
  temporal: {address: 127.0.0.1:7233}
storage:
  block: .ssmd/data
  s3: {bucket: ssmd-archive, prefix: homelab/, endpoint: http://127.0.0.1:8333, credentials: key:s3-offsite}
profile: {memory_mb: 1024}
`;

/** The smallest valid environment (embedded middleware by default). */
export const MINIMAL = `name: homelab
day: {timezone: UTC, start: "08:00", end: "20:00"}
feeds:
  - feed: kraken
    select: {pairs: [BTC/USD]}
    channels: [trade]
`;

/** MINIMAL plus a Kalshi feed, with comments to keep through edits. */
export const COMMENTED = `# my environment: do not lose this comment
name: homelab
day:
  timezone: UTC
  start: "08:00" # the open
  end: "20:00"
feeds:
  # the crypto feed
  - feed: kraken
    select: {pairs: [BTC/USD]}
    channels: [trade, ticker]
  - feed: kalshi
    select: {series: [KXBTCD]}
    channels: [ticker]
    credentials: key:kalshi-prod
profile:
  memory_mb: 512 # fits the small box
`;
