import type { WalPosition } from './consistency-token';
import type { ReplicaPosition } from './replication.repository';

/** The size of a WAL page header at the start of a segment (SizeOfXLogLongPHD); other pages have a shorter one. */
const LONG_PAGE_HEADER_BYTES = 40n;

/**
 * Whether a replica that has replayed up to `replayed` shows everything before `position` (a token, or the
 * primary's insert position). Replay positions are ends of records; an insert position read when the last
 * record ended exactly at a page boundary points past the next page's header, where no record is yet. So a
 * replay position on a page boundary also covers that header: a record inserted after it would end further on.
 */
export function replayCovers(replayed: WalPosition, position: WalPosition, walBlockSize: number): boolean {
  if (replayed >= position) return true;
  return replayed % BigInt(walBlockSize) === 0n && position <= replayed + LONG_PAGE_HEADER_BYTES;
}

/** How far a replica is behind the primary, from one sample of each. */
export interface ReplicaLag {
  bytes: number;
  /** Null when it cannot be told yet (never seen caught up, and no transaction replayed). */
  seconds: number | null;
  /** The primary's sample time (ms) when the replica had replayed all the primary had then; else the earlier one. */
  caughtUpAt: number | null;
}

/**
 * The lag of a replica: bytes of WAL between the primary's position and its replay position; seconds since
 * the primary was where the replica is now. A replica that has replayed all the primary had when it was
 * sampled (just before the replica) is 0 s behind, however long ago the last write was. Otherwise two upper
 * bounds, the better one taken: the time since the last sample that found it caught up, and the age of the
 * last commit it replayed (which alone would count an idle gap before the next write as lag).
 */
export function replicaLag(
  primary: { position: WalPosition; sampledAt: number },
  replica: ReplicaPosition,
  now: number,
  previouslyCaughtUpAt: number | null,
): ReplicaLag {
  const replayed = replica.replayed ?? 0n;
  if (replayCovers(replayed, primary.position, replica.walBlockSize)) return { bytes: 0, seconds: 0, caughtUpAt: primary.sampledAt };
  const bytes = Number(primary.position - replayed);
  const bounds = [previouslyCaughtUpAt === null ? null : Math.max(0, (now - previouslyCaughtUpAt) / 1_000), replica.sinceLastReplayedCommitSeconds].filter(
    (bound): bound is number => bound !== null,
  );
  return { bytes, seconds: bounds.length ? Math.min(...bounds) : null, caughtUpAt: previouslyCaughtUpAt };
}
