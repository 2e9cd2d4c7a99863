import { Injectable } from '@nestjs/common';
import type { RedactionKind } from '@timeline/domain';
import { Pool } from 'pg';

/** A redaction as the partitions that decided it record it (docs/redaction.md). */
export interface RedactionProgress {
  redactionId: string;
  kind: RedactionKind;
  valueHash: string;
  /** Partitions the topic had when the redaction was issued. */
  partitions: number;
  /** Partitions that decided it so far. */
  partitionsApplied: number;
  eventsRewritten: number;
  /** Known time of the last partition's decision. */
  appliedAt: string;
}

@Injectable()
export class RedactionRepository {
  constructor(private readonly pool: Pool) {}

  /** null while no partition has decided it (or it was never issued). */
  async findById(redactionId: string): Promise<RedactionProgress | null> {
    const { rows } = await this.pool.query<{
      kind: RedactionKind;
      value_hash: string;
      partitions: number;
      partitions_applied: number;
      events_rewritten: number;
      applied_at: Date;
    }>(
      `select min(kind) as kind, min(value_hash) as value_hash, max(partitions) as partitions,
              count(*)::int as partitions_applied, sum(events_rewritten)::int as events_rewritten, max(known_at) as applied_at
       from redactions
       where redaction_id = $1
       having count(*) > 0`,
      [redactionId],
    );
    const [row] = rows;
    if (!row) return null;
    return {
      redactionId,
      kind: row.kind,
      valueHash: row.value_hash,
      partitions: row.partitions,
      partitionsApplied: row.partitions_applied,
      eventsRewritten: row.events_rewritten,
      appliedAt: row.applied_at.toISOString(),
    };
  }
}
