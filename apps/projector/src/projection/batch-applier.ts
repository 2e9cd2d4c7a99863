import type { LogRecord } from '@timeline/command-log';
import type { LoadedPartition, LoadedState, ProjectionRepository } from '@timeline/database';
import {
  decideBatch,
  decidedOn,
  parseRecord,
  PartitionMemory,
  referencedIds,
  untilNextRedaction,
  type DecidedBatch,
  type ParsedRecord,
} from '@timeline/projection';
import { DecideError, LogBehindStoredOffset, OffsetMovedError, StateChangedError } from './batch-failure';

export type ChunkOutcome = { kind: 'applied' } | { kind: 'seek'; offset: number };
/** Decides the records on the state; the default is `decideBatch`. */
export type DecideRecords = (records: ParsedRecord[], state: LoadedState, alreadyDecided: ReadonlySet<string>) => DecidedBatch;

/** Where the chunk stands in Kafka: what tells a redelivery, a gap and a lost log apart. */
export interface LogPosition {
  /** The partition's end offset as last fetched: a stored offset past it means Kafka lost records. */
  logEnd: number;
  /** The offset the projector last asked Kafka to re-read from: a gap found again there is a real gap. */
  soughtTo: number | undefined;
}

type ReferencedIds = ReturnType<typeof referencedIds>;
/** What one chunk came to; `applyBatchMs`: the time of its last `apply_batch` call, the one that committed. */
export type Applied = { outcome: ChunkOutcome; committed?: DecidedBatch; applyBatchMs?: number };
type Attempt = Applied | 'state-changed';

/** A batch refused because rows it was decided on changed is decided again on what is stored, this many times. */
const DECISION_ATTEMPTS = 3;

/**
 * Applies chunks of a partition's records in one round trip each: decided on the state remembered of the
 * partition (PartitionMemory), applied by `ProjectionRepository.applyBatch` with the offset compare-and-set.
 * A partition not remembered (first batch, after a reassignment, after a failure) is read first: two round
 * trips. A batch refused because what it was decided on changed is read and decided again.
 */
export class BatchApplier {
  constructor(
    private readonly topic: string,
    private readonly projection: ProjectionRepository,
    private readonly memory = new PartitionMemory(),
  ) {}

  /** On (re)assignment: another owner may have written any partition meanwhile. */
  forgetAll(): void {
    this.memory.forgetAll();
  }

  async apply(partition: number, chunk: LogRecord[], position: LogPosition, decideRecords: DecideRecords = this.decide): Promise<Applied> {
    try {
      for (let attempt = 1; ; attempt += 1) {
        const result = await this.attempt(partition, chunk, position, decideRecords);
        if (result !== 'state-changed') return result;
        this.memory.forget(partition);
        if (attempt === DECISION_ATTEMPTS) throw new StateChangedError(partition, attempt);
      }
    } catch (error) {
      // Whether a failed call was stored is unknown: read the partition again next time.
      this.memory.forget(partition);
      throw error;
    }
  }

  private readonly decide: DecideRecords = (records, state, alreadyDecided) => decideBatch(this.topic, records, state, alreadyDecided);

  private async attempt(partition: number, chunk: LogRecord[], position: LogPosition, decideRecords: DecideRecords): Promise<Attempt> {
    const parsed = decidedPurely(() => chunk.map(parseRecord));
    const remembered = this.memory.nextOffset(partition);
    let loaded = remembered === undefined ? await this.load(partition, referencedIds(untilNextRedaction(parsed))) : undefined;
    const stored = loaded?.storedOffset ?? remembered!;
    if (stored > position.logEnd) throw new LogBehindStoredOffset(partition, stored, position.logEnd);
    const last = chunk[chunk.length - 1].offset;
    // Applied already (a redelivery, or a start from offset 0 when the stored offsets could not be read): skip ahead.
    if (stored > last) return { outcome: { kind: 'seek', offset: stored } };
    if (stored < chunk[0].offset && position.soughtTo !== stored) return { outcome: { kind: 'seek', offset: stored } };

    const records = untilNextRedaction(parsed.filter(({ record }) => record.offset >= stored));
    const ids = referencedIds(records);
    // A redaction is decided on the rows it rewrites, read from the database; so is a batch the first read did not cover.
    if ((loaded && !covers(loaded.ids, ids)) || (!loaded && ids.redaction)) {
      loaded = await this.load(partition, ids);
      if (loaded.storedOffset !== stored) return 'state-changed';
    }
    const state: LoadedState = loaded ?? this.memory.stateFor(partition, ids);
    const alreadyDecided = loaded?.alreadyDecided ?? new Set<string>();
    const decided = decidedPurely(() => decideRecords(records, state, alreadyDecided));
    const applied = records[records.length - 1].record.offset;
    const called = performance.now();
    const outcome = await this.projection.applyBatch({
      topic: this.topic,
      partition,
      firstOffset: stored,
      nextOffset: applied + 1,
      decidedOn: decidedOn(ids, state, alreadyDecided),
      ...decided,
    });
    if (outcome.kind === 'state-changed') return outcome.kind;
    if (outcome.kind === 'offset-moved') {
      throw new OffsetMovedError(`offset of partition ${partition} moved under us (to ${outcome.storedOffset}); retrying from the stored offset`);
    }
    this.memory.remember(partition, applied + 1, state, decided);
    // A redaction is read again, to start the next batch.
    return {
      outcome: applied < last ? { kind: 'seek', offset: applied + 1 } : { kind: 'applied' },
      committed: decided,
      applyBatchMs: performance.now() - called,
    };
  }

  private async load(partition: number, ids: ReferencedIds): Promise<LoadedPartition & { ids: ReferencedIds }> {
    return { ...(await this.projection.loadPartitionState(this.topic, partition, ids)), ids };
  }
}

/** Whether state read for `read` holds everything a batch that refers to `wanted` is decided on. */
function covers(read: ReferencedIds, wanted: ReferencedIds): boolean {
  const within = (have: string[], want: string[]) => {
    const set = new Set(have);
    return want.every((id) => set.has(id));
  };
  const sameRedaction =
    wanted.redaction === null || (read.redaction?.kind === wanted.redaction.kind && read.redaction.valueHash === wanted.redaction.valueHash);
  return sameRedaction && within(read.commandIds, wanted.commandIds) && within(read.timelineIds, wanted.timelineIds) && within(read.eventIds, wanted.eventIds);
}

/** Runs a pure step of the batch; what it throws, the same records will always make it throw. */
function decidedPurely<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw new DecideError(error);
  }
}
