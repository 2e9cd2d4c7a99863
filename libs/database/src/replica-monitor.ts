import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { formatWalPosition, type WalPosition } from './consistency-token';
import { replayCovers, replicaLag } from './replica-lag';
import { ReplicationRepository } from './replication.repository';

/** What the ops page and the metrics show of a replica. */
export interface ReplicaStatus {
  /** `replica-0`, `replica-1`, … in DATABASE_READ_URLS order. */
  name: string;
  inRotation: boolean;
  /** Null until sampled, and while the replica does not answer. */
  lagBytes: number | null;
  lagSeconds: number | null;
  /** The last replay position seen, as PostgreSQL shows it (`16/B374D848`). */
  replayPosition: string | null;
  /** Why it is out of the rotation, when it is for an error (unreachable, not a replica); null otherwise. */
  lastError: string | null;
}

export interface RotationBounds {
  maxLagSeconds: number;
  maxLagBytes: number;
}

/** How long a read polls a replica between two looks at its replay position while it waits for a token. */
const REPLAY_POLL_MS = 5;

interface ReplayWaiter {
  position: WalPosition;
  settle: (reached: boolean) => void;
}

/**
 * One read replica: its pool, what its last sample said, and whether reads may use it. Reads waiting for a
 * token share one poll of its replay position.
 */
export class ReadReplica {
  private readonly logger: Logger;
  private readonly replication: ReplicationRepository;
  inRotation = false;
  /** The greatest replay position seen: a read carrying a token at or before it may read here at once. */
  replayed: WalPosition | null = null;
  lagBytes: number | null = null;
  lagSeconds: number | null = null;
  lastError: string | null = null;
  private caughtUpAt: number | null = null;
  /** `wal_block_size` as the replica reported it; 8192 until it has. */
  private walBlockSize = 8_192;
  private readonly waiters = new Set<ReplayWaiter>();
  private polling = false;

  constructor(
    readonly name: string,
    readonly pool: Pool,
    private readonly bounds: RotationBounds,
  ) {
    this.logger = new Logger(`ReadReplica ${name}`);
    this.replication = new ReplicationRepository(pool);
    // An idle connection the replica ended (a restart, a crash): what was known of its replay position may no
    // longer hold (a restarted replica can show less for a while), so it is out until a sample says again.
    pool.on('error', (error) => this.failed(error));
  }

  status(): ReplicaStatus {
    return {
      name: this.name,
      inRotation: this.inRotation,
      lagBytes: this.lagBytes,
      lagSeconds: this.lagSeconds,
      replayPosition: this.replayed === null ? null : formatWalPosition(this.replayed),
      lastError: this.lastError,
    };
  }

  /**
   * Samples the replica against the primary's position (read just before; null when the primary did not
   * answer, and then only the replica's own answer counts) and puts it in or out of the rotation.
   */
  async sample(primary: { position: WalPosition; sampledAt: number } | null, timeoutMs: number): Promise<void> {
    try {
      const position = await withTimeout(this.replication.replicaPosition(), timeoutMs);
      if (!position.inRecovery || position.replayed === null) throw new Error('not a replica: the server is not in recovery');
      // The sample's word, also when lower than a poll's: after a restart a replica may show less than it did.
      this.replayed = position.replayed;
      this.walBlockSize = position.walBlockSize;
      if (primary) {
        const lag = replicaLag(primary, position, Date.now(), this.caughtUpAt);
        this.caughtUpAt = lag.caughtUpAt;
        this.lagBytes = lag.bytes;
        this.lagSeconds = lag.seconds === null ? null : Math.round(lag.seconds * 1_000) / 1_000;
      }
      this.lastError = null;
      this.rotate(this.withinBounds());
    } catch (error) {
      this.failed(error);
    }
  }

  /** A read or a sample found the replica failing: out of the rotation until a sample finds it well again. */
  failed(error: unknown): void {
    const message = (error as Error)?.message ?? String(error);
    if (this.lastError !== message) this.logger.warn(`out of the read rotation: ${message}`);
    this.lastError = message;
    this.replayed = null;
    this.lagBytes = null;
    this.lagSeconds = null;
    this.caughtUpAt = null;
    this.rotate(false);
  }

  /** Whether the replica is known to have replayed everything before `position` (see `replayCovers`). */
  hasReplayed(position: WalPosition): boolean {
    return this.replayed !== null && replayCovers(this.replayed, position, this.walBlockSize);
  }

  /**
   * Resolves true once the replica has replayed up to `position`, false at `deadline` (ms) or when it
   * cannot be asked. Known positions answer at once; otherwise one poll serves every waiting read.
   */
  waitForReplay(position: WalPosition, deadline: number): Promise<boolean> {
    if (this.hasReplayed(position)) return Promise.resolve(true);
    if (Date.now() >= deadline) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => waiter.settle(false), deadline - Date.now());
      const waiter: ReplayWaiter = {
        position,
        settle: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      this.waiters.add(waiter);
      if (!this.polling) void this.pollWhileWaited();
    });
  }

  private async pollWhileWaited(): Promise<void> {
    this.polling = true;
    try {
      while (this.waiters.size > 0) {
        const replayed = await this.replication.replayPosition();
        if (replayed === null) throw new Error('not a replica: the server is not in recovery');
        this.sawReplayed(replayed);
        for (const waiter of [...this.waiters]) if (this.hasReplayed(waiter.position)) waiter.settle(true);
        if (this.waiters.size > 0) await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
      }
    } catch (error) {
      for (const waiter of [...this.waiters]) waiter.settle(false);
      this.failed(error);
    } finally {
      this.polling = false;
    }
  }

  private sawReplayed(position: WalPosition): void {
    if (this.replayed === null || position > this.replayed) this.replayed = position;
  }

  private withinBounds(): boolean {
    if (this.lagBytes === null || this.lagSeconds === null) return false;
    return this.lagBytes <= this.bounds.maxLagBytes && this.lagSeconds <= this.bounds.maxLagSeconds;
  }

  private rotate(inRotation: boolean): void {
    if (inRotation === this.inRotation) return;
    this.inRotation = inRotation;
    if (inRotation) this.logger.log(`in the read rotation (lag ${this.lagBytes} bytes, ${this.lagSeconds} s)`);
    else if (this.lastError === null) this.logger.warn(`out of the read rotation: lag ${this.lagBytes} bytes, ${this.lagSeconds ?? 'unknown'} s`);
  }
}

/**
 * Samples every replica each READ_REPLICA_CHECK_INTERVAL_MS against the primary's WAL position, read just
 * before: one statement on the primary and one on each replica per round, rounds never overlapping.
 */
export class ReplicaMonitor {
  private readonly logger = new Logger(ReplicaMonitor.name);
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly primary: ReplicationRepository,
    private readonly replicas: ReadReplica[],
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.replicas.length === 0) return;
    this.round = this.sampleAll().finally(() => this.scheduleNext());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.round;
  }

  /** One round: the primary's position, then every replica against it. */
  async sampleAll(): Promise<void> {
    const timeoutMs = Math.max(1_000, 2 * this.intervalMs);
    let primary: { position: WalPosition; sampledAt: number } | null = null;
    try {
      const sampledAt = Date.now();
      primary = { position: await withTimeout(this.primary.walInsertPosition(), timeoutMs), sampledAt };
    } catch (error) {
      this.logger.warn(`primary WAL position not read; replicas judged on their own answers: ${(error as Error).message}`);
    }
    await Promise.all(this.replicas.map((replica) => replica.sample(primary, timeoutMs)));
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round = this.sampleAll().finally(() => this.scheduleNext());
    }, this.intervalMs);
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
