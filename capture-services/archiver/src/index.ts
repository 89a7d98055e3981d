/** The archiver: journal -> raw day files on block storage -> verified uploads (M4, M15). */
export { openArchiver, type Archiver, type ArchiverOptions, type ArchiverStats } from './archiver.js';
export { CHECKPOINT_JOB, checkpointScope, type ArchiveCheckpoint } from './checkpoint.js';
export { archiverTunablesSchema, loadArchiverTunables, parseArchiverTunables, type ArchiverTunables } from './config.js';
export { ArchiverBusyError, ArchiverConfigError, ArchiverStateError } from './errors.js';
export type { ArchiverFinding, ArchiverFindingKind, ArchiverFindingSink } from './findings.js';
export { dayKey, MANIFEST_NAME, RAW_EXT, rawFileName } from './layout.js';
export { readManifest, type ConnectionGap, type JournalGap, type Manifest, type ManifestFile, type ManifestGap } from './manifest.js';
export { readRawFile, replay, type ReplayOptions } from './replay.js';
export type { UploadReport } from './uploads.js';
