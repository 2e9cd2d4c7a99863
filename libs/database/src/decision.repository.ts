import { Injectable } from '@nestjs/common';
import { REJECTION_REASONS, type AsJson, type CommandType, type Decision, type EventState } from '@timeline/domain';
import { Pool } from 'pg';

/**
 * Why a command was rejected, as the decisions table holds it: the decider's reasons, and the projector's
 * for a record the decider never saw: one that is not a command we can read (`malformed`), or one whose
 * decision the database refused to store (`unprocessable`).
 */
export const DECISION_REJECTION_REASONS = [...REJECTION_REASONS, 'malformed', 'unprocessable'] as const;
export type DecisionRejectionReason = (typeof DECISION_REJECTION_REASONS)[number];

/**
 * The decision on one command as it is recorded and read back: the projector
 * stores one per command id, the api answers a caller and tells a command's
 * status from it.
 */
export interface CommandDecision {
  readonly commandId: string;
  /** `unknown` for a record so malformed that it names no command type. */
  readonly commandType: CommandType | 'unknown';
  readonly timelineId: string | null;
  readonly eventId: string | null;
  readonly outcome: Decision['outcome'];
  readonly reason: DecisionRejectionReason | null;
  readonly detail: string | null;
  /** Hash of the request that produced the command; tells an idempotent retry from a reused key. */
  readonly fingerprint: string | null;
  /** The timeline's version after the command, when accepted. */
  readonly version: number | null;
  /** The event's revision after the command, when accepted and about an event. */
  readonly revision: number | null;
  /** False when an accepted command changed nothing (a retry, a revision to the same values). */
  readonly changed: boolean;
  /** Known time: the Kafka append time of the command's record. */
  readonly knownAt: string;
}

/** A decision as the decisions table holds it: one per command, at the place of its command's record in the log. */
export interface DecisionRow extends CommandDecision {
  partition: number;
  offset: number;
}

/** A decision with what a caller's answer needs. */
export interface DecisionRecord extends DecisionRow {
  /** The event as this decision left it (accepted event commands). */
  event: AsJson<EventState> | null;
  /** The timeline it created or found (accepted CreateTimeline). */
  timeline: { title: string; description: string; defaultLanguage: string; createdAt: string } | null;
}

/** A decisions row as pg hands it over (bigint as number, by pool.ts; timestamps as Date). */
export interface DecisionColumns {
  command_id: string;
  command_type: CommandDecision['commandType'];
  timeline_id: string | null;
  event_id: string | null;
  outcome: CommandDecision['outcome'];
  reason: CommandDecision['reason'];
  detail: string | null;
  fingerprint: string | null;
  version: number | null;
  revision: number | null;
  changed: boolean;
  topic_partition: number;
  topic_offset: number;
  known_at: Date;
}

/** The joined timeline's columns are null exactly when `title` is. */
type DecisionWithAnswerColumns = DecisionColumns & {
  event_state: DecisionRecord['event'];
  title: string | null;
  description: string;
  default_language: string;
  created_at: Date;
};

@Injectable()
export class DecisionRepository {
  constructor(private readonly pool: Pool) {}

  /** Decisions with what a caller's answer needs: the event at the decided revision, or the timeline. */
  async findByCommandIds(commandIds: string[]): Promise<DecisionRecord[]> {
    if (commandIds.length === 0) return [];
    const { rows } = await this.pool.query<DecisionWithAnswerColumns>(
      `select d.command_id, d.command_type, d.timeline_id, d.event_id, d.outcome, d.reason, d.detail,
              d.fingerprint, d.version, d.revision, d.changed, d.topic_partition, d.topic_offset, d.known_at,
              r.state as event_state,
              t.title, t.description, t.default_language, t.created_at
       from decisions d
       left join event_revisions r on r.event_id = d.event_id and r.revision = d.revision
       left join timelines t on t.timeline_id = d.timeline_id and d.command_type = 'CreateTimeline' and d.outcome = 'accepted'
       where d.command_id = any($1::uuid[])`,
      [commandIds],
    );
    return rows.map((row) => ({
      commandId: row.command_id,
      commandType: row.command_type,
      timelineId: row.timeline_id,
      eventId: row.event_id,
      outcome: row.outcome,
      reason: row.reason,
      detail: row.detail,
      fingerprint: row.fingerprint,
      version: row.version,
      revision: row.revision,
      changed: row.changed,
      partition: row.topic_partition,
      offset: row.topic_offset,
      knownAt: row.known_at.toISOString(),
      event: row.event_state,
      timeline:
        row.title === null
          ? null
          : { title: row.title, description: row.description, defaultLanguage: row.default_language, createdAt: row.created_at.toISOString() },
    }));
  }
}
