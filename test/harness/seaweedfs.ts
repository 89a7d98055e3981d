/**
 * A throwaway SeaweedFS (`weed server`: master + volume + filer + S3 gateway) with an
 * authenticated S3 surface (one random admin identity in s3.json).
 *
 * Ports: SeaweedFS derives each gRPC port as http port + 10000 unless told otherwise, which can
 * collide or exceed 65535, so every http and gRPC port is picked explicitly. The optional
 * Iceberg (8181) and Lance (9101) listeners of the S3 gateway are disabled (port 0) so that
 * parallel instances do not fight over fixed ports.
 *
 * Quirks handled here:
 *   - weed always creates `/tmp/seaweedfs-<svc>-grpc-<port>.sock` (hard-coded /tmp) and does
 *     not always remove them; stop() deletes the ones for our ports.
 *   - on SIGTERM (and SIGINT) weed 4.48 logs "Gracefully stopping gRPC server" and then hangs
 *     indefinitely (observed > 8 s, even after a second signal), so stop() escalates to SIGKILL
 *     after a 1 s grace period; the data is throwaway anyway.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { resolveBinary } from './binaries.js';
import { getFreePorts, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer } from './process.js';

export interface SeaweedServer {
  /** S3 endpoint, http://127.0.0.1:<s3Port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: 'us-east-1';
  s3Port: number;
  masterPort: number;
  filerPort: number;
  dir: string;
  stop(): Promise<void>;
}

export interface StartSeaweedOptions {
  /** Readiness timeout (default 60 s). */
  timeoutMs?: number;
  /** Extra `weed server` arguments. */
  args?: string[];
}

export async function startSeaweed(opts: StartSeaweedOptions = {}): Promise<SeaweedServer> {
  const bin = resolveBinary('weed');
  const { S3Client, ListBucketsCommand } = await import('@aws-sdk/client-s3');

  return retryOnPortClash(async () => {
    const ports = await getFreePorts(8);
    const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = ports as [
      number, number, number, number, number, number, number, number,
    ];
    const accessKeyId = `AK${randomBytes(9).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(24).toString('base64url');
    const dir = await makeTempDir();
    const s3Config = path.join(dir, 's3.json');
    await fsp.writeFile(
      s3Config,
      JSON.stringify(
        {
          identities: [
            {
              name: 'ssmd-test',
              credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
              actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
            },
          ],
        },
        null,
        2,
      ),
    );
    await fsp.mkdir(path.join(dir, 'data'));

    const grpcSockets = [
      `/tmp/seaweedfs-master-grpc-${masterGrpc}.sock`,
      `/tmp/seaweedfs-volume-grpc-${volumeGrpc}.sock`,
      `/tmp/seaweedfs-filer-grpc-${filerGrpc}.sock`,
      `/tmp/seaweedfs-s3-grpc-${s3Grpc}.sock`,
    ];

    const proc = await spawnServer({
      name: 'weed server',
      command: bin,
      dir,
      args: [
        'server',
        `-ip=${LOOPBACK}`,
        `-ip.bind=${LOOPBACK}`,
        `-dir=${path.join(dir, 'data')}`,
        `-master.port=${master}`,
        `-master.port.grpc=${masterGrpc}`,
        '-master.volumeSizeLimitMB=64',
        '-master.telemetry=false',
        `-volume.port=${volume}`,
        `-volume.port.grpc=${volumeGrpc}`,
        // every bucket is its own collection and grows several volumes on first write;
        // volumes are sparse (no preallocation), so a generous count costs little.
        '-volume.max=64',
        '-volume.preStopSeconds=0',
        '-filer',
        `-filer.port=${filer}`,
        `-filer.port.grpc=${filerGrpc}`,
        `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
        '-s3',
        `-s3.port=${s3}`,
        `-s3.port.grpc=${s3Grpc}`,
        `-s3.config=${s3Config}`,
        `-s3.localSocket=${path.join(dir, 's3.sock')}`,
        '-s3.port.iceberg=0',
        '-s3.port.lance=0',
        ...(opts.args ?? []),
      ],
      graceMs: 1_000,
      cleanup: () => {
        for (const sock of grpcSockets) fs.rmSync(sock, { force: true });
      },
    });

    const endpoint = `http://${LOOPBACK}:${s3}`;
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
    try {
      // 1. the volume server has registered with the master (otherwise the first write fails
      //    with "no writable volumes"), 2. the S3 gateway accepts our credentials.
      await proc.waitReady(
        async () => {
          const res = await fetch(`http://${LOOPBACK}:${master}/dir/status`);
          const text = await res.text();
          return res.ok && text.includes(`${LOOPBACK}:${volume}`);
        },
        { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 200, description: 'volume server registered with master' },
      );
      await proc.waitReady(
        async () => {
          await client.send(new ListBucketsCommand({}));
          return true;
        },
        { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 200, description: 'authenticated S3 ListBuckets' },
      );
    } catch (err) {
      await proc.stop();
      throw err;
    } finally {
      client.destroy();
    }

    return {
      endpoint,
      accessKeyId,
      secretAccessKey,
      region: 'us-east-1',
      s3Port: s3,
      masterPort: master,
      filerPort: filer,
      dir,
      stop: () => proc.stop(),
    };
  });
}
