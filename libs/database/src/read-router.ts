import type { Pool } from 'pg';
import type { WalPosition } from './consistency-token';
import { isConnectionFailure } from './connection-failure';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { EventQueryRepository } from './event-query.repository';
import { OpsStatusRepository } from './ops-status.repository';
import { OutboxRepository } from './outbox.repository';
import { ReadReplica, ReplicaMonitor, type ReplicaStatus, type RotationBounds } from './replica-monitor';
import { ReplicationRepository } from './replication.repository';
import { TimelineReadRepository } from './timeline-read.repository';

/** The repositories a routed read may use, all on one server. */
export interface ReadModels {
  timelines: TimelineReadRepository;
  events: EventQueryRepository;
  outbox: OutboxRepository;
  opsStatus: OpsStatusRepository;
}

export const PRIMARY = 'primary';

export interface ReadRoutingSettings extends RotationBounds {
  checkIntervalMs: number;
  consistencyWaitMs: number;
}

interface ReadServer {
  name: string;
  models: ReadModels;
  replica: ReadReplica | null;
}

// SQLSTATE 40001 on a hot standby: a query cancelled because replay had to remove rows it could see.
const RECOVERY_CONFLICT = '40001';

/**
 * Picks the server each read runs on. Without a token: a replica in rotation, round robin, else the primary.
 * With a token (the WAL position of the caller's last write): a replica in rotation known to have replayed
 * past it, else one that gets there within READ_CONSISTENCY_WAIT_MS, else the primary. A read that fails on
 * a replica for the replica's sake (lost, conflict with recovery) takes the replica out of the rotation and
 * runs again on the primary. With no replica configured every read goes to the primary at once.
 */
export class ReadRouter {
  private readonly primary: ReadServer;
  private readonly replicas: ReadServer[];
  private readonly monitor: ReplicaMonitor;
  private nextReplica = 0;
  private readonly readObservers: ((server: string) => void)[] = [];

  constructor(
    primaryPool: Pool,
    replicaPools: Pool[],
    private readonly settings: ReadRoutingSettings,
  ) {
    this.primary = { name: PRIMARY, models: readModelsOn(primaryPool), replica: null };
    this.replicas = replicaPools.map((pool, index) => {
      const replica = new ReadReplica(`replica-${index}`, pool, settings);
      return { name: replica.name, models: readModelsOn(pool), replica };
    });
    this.monitor = new ReplicaMonitor(
      new ReplicationRepository(primaryPool),
      this.replicas.map((server) => server.replica!),
      settings.checkIntervalMs,
    );
  }

  /** Every server a read may be answered by: `primary`, then the replicas' names. */
  get serverNames(): string[] {
    return [PRIMARY, ...this.replicas.map((server) => server.name)];
  }

  start(): void {
    this.monitor.start();
  }

  /** Stops sampling and closes the replicas' pools (the primary's belongs to the caller). */
  async stop(): Promise<void> {
    await this.monitor.stop();
    await Promise.all(this.replicas.map((server) => server.replica!.pool.end()));
  }

  /** Samples every replica now (the monitor does so each READ_REPLICA_CHECK_INTERVAL_MS). */
  checkReplicas(): Promise<void> {
    return this.monitor.sampleAll();
  }

  replicaStatuses(): ReplicaStatus[] {
    return this.replicas.map((server) => server.replica!.status());
  }

  /** `observer` hears the name of the server of each read answered. */
  observeReads(observer: (server: string) => void): void {
    this.readObservers.push(observer);
  }

  /** Runs `work` on a server that has replayed up to `atLeast` (when given); see the class. */
  async read<T>(atLeast: WalPosition | undefined, work: (models: ReadModels) => Promise<T>): Promise<T> {
    const server = this.replicas.length === 0 ? this.primary : await this.serverFor(atLeast);
    if (server === this.primary) return this.readPrimary(work);
    try {
      const result = await work(server.models);
      this.answered(server.name);
      return result;
    } catch (error) {
      if (!isReplicaFailure(error)) throw error;
      server.replica!.failed(error);
      return this.readPrimary(work);
    }
  }

  /** Runs `work` on the primary, counted as a read. */
  async readPrimary<T>(work: (models: ReadModels) => Promise<T>): Promise<T> {
    const result = await work(this.primary.models);
    this.answered(PRIMARY);
    return result;
  }

  private async serverFor(atLeast: WalPosition | undefined): Promise<ReadServer> {
    const inRotation = this.replicas.filter((server) => server.replica!.inRotation);
    if (inRotation.length === 0) return this.primary;
    if (atLeast === undefined) return this.roundRobin(inRotation);
    const caughtUp = inRotation.filter((server) => server.replica!.hasReplayed(atLeast));
    if (caughtUp.length > 0) return this.roundRobin(caughtUp);
    if (this.settings.consistencyWaitMs === 0) return this.primary;
    return (await firstToReplay(inRotation, atLeast, Date.now() + this.settings.consistencyWaitMs)) ?? this.primary;
  }

  private roundRobin(servers: ReadServer[]): ReadServer {
    this.nextReplica = (this.nextReplica + 1) % 1_000_000;
    return servers[this.nextReplica % servers.length];
  }

  private answered(server: string): void {
    for (const observer of this.readObservers) observer(server);
  }
}

/** The first of `servers` to replay up to `position` before `deadline`, or null when none does. */
function firstToReplay(servers: ReadServer[], position: WalPosition, deadline: number): Promise<ReadServer | null> {
  return new Promise((resolve) => {
    let waiting = servers.length;
    for (const server of servers) {
      void server.replica!.waitForReplay(position, deadline).then((reached) => {
        if (reached) resolve(server);
        else if (--waiting === 0) resolve(null);
      });
    }
  });
}

function isReplicaFailure(error: unknown): boolean {
  return isConnectionFailure(error) || (error as { code?: unknown })?.code === RECOVERY_CONFLICT;
}

function readModelsOn(pool: Pool): ReadModels {
  return {
    timelines: new TimelineReadRepository(pool),
    events: new EventQueryRepository(pool),
    outbox: new OutboxRepository(pool),
    opsStatus: new OpsStatusRepository(pool, new ConsumerOffsetsRepository(pool)),
  };
}
