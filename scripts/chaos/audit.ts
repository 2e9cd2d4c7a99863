/**
 * After a scenario: waits for the service to settle, then compares what the writers were told with
 * what the read models and timeline.events hold, and the read models with a clean replay of the log.
 *
 *   acknowledged = answered 201 (200 for a revision); lost = acknowledged but not in the read models,
 *   or answered 202 and never decided; duplicated = a command applied twice (two revisions, two
 *   versions) or a change published under two CloudEvents ids. Re-sends of one change with the same
 *   `ce_id` are at-least-once delivery: counted, not duplicates.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { ConsumerOffsetsRepository, ReadModelSwitchRepository } from '@timeline/database';
import { changeEventId } from '@timeline/change-events';
import type { Deployment } from './lab';
import { kafkaAdmin } from './lab';
import type { Write } from './write-load';

export interface AuditResult {
  settled: boolean;
  settleNote: string;
  writes: number;
  acknowledged: number;
  found: number;
  /** Acknowledged (201/200) and missing from the read models. */
  lostAcknowledged: number;
  /** Answered 202 and never decided accepted. */
  lostPending: number;
  pendingDecided: number;
  /** The first few lost writes: what they were and every answer they got (ISO times). */
  lostExamples: string[];
  /** Not acknowledged (503 or no answer after the retries) yet applied: allowed, shown for the record. */
  unacknowledgedApplied: number;
  duplicated: number;
  duplicateDetails: string[];
  /** Acknowledged versions that do not match the decision, and timelines whose versions are not 1..n. */
  versionMismatches: number;
  /** Records on timeline.events as read, and the sum of its partitions' end offsets (the same, unless the reader missed some). */
  eventRecords: number;
  topicEndOffsets: number;
  distinctEventIds: number;
  outboxRows: number;
  unsentOutboxRows: number;
  /** Re-sent records (same ce_id). */
  resent: number;
  /** Accepted changes (outbox rows) whose ce_id is not on timeline.events; the first few named. */
  unpublished: number;
  unpublishedExamples: string[];
  replayEqual: boolean | null;
  replayNote: string;
}

export async function audit(deployment: Deployment, writes: Write[], settleTimeoutMs: number): Promise<AuditResult> {
  // The replay starts at once and catches up while the live service settles.
  const replaySchema = `replay_${randomBytes(4).toString('hex')}`;
  const replay = deployment.startReplay(replaySchema);
  replay.catch(() => undefined);
  const settle = await waitSettled(deployment, writes, settleTimeoutMs);
  const { pool } = deployment;
  const commandIds = writes.map((write) => write.commandId);

  const decisions = new Map<string, { outcome: string; version: number | null }>();
  for (const row of (
    await pool.query<{ command_id: string; outcome: string; version: number | null }>(
      'select command_id, outcome, version from decisions where command_id = any($1::uuid[])',
      [commandIds],
    )
  ).rows) {
    decisions.set(row.command_id, { outcome: row.outcome, version: row.version });
  }
  const recordedEvents = new Set(
    (
      await pool.query<{ event_id: string }>('select event_id from events where event_id = any($1::uuid[])', [
        writes.filter((w) => w.kind === 'record').map((w) => w.eventId),
      ])
    ).rows.map((row) => row.event_id),
  );
  const revisionsByCommand = new Map<string, number>();
  for (const row of (
    await pool.query<{ command_id: string; n: number }>(
      'select command_id, count(*)::int as n from event_revisions where command_id = any($1::uuid[]) group by command_id',
      [commandIds],
    )
  ).rows) {
    revisionsByCommand.set(row.command_id, row.n);
  }

  const applied = (write: Write) =>
    decisions.get(write.commandId)?.outcome === 'accepted' &&
    (revisionsByCommand.get(write.commandId) ?? 0) > 0 &&
    (write.kind === 'revise' || recordedEvents.has(write.eventId));

  let acknowledged = 0;
  let found = 0;
  let lostPending = 0;
  let pendingDecided = 0;
  let unacknowledgedApplied = 0;
  let versionMismatches = 0;
  const duplicateDetails: string[] = [];
  const lostExamples: string[] = [];
  const describe = (write: Write) =>
    `${write.kind} ${write.kind === 'record' ? 'on' : 'of'} ${write.kind === 'record' ? write.timelineId : write.eventId} (command ${write.commandId}): ` +
    write.attempts
      .map(
        (attempt) => `${attempt.status} at ${new Date(attempt.startedAt).toISOString().slice(11, 23)} in ${(attempt.finishedAt ?? NaN) - attempt.startedAt} ms`,
      )
      .join(', ') +
    `; decision ${decisions.get(write.commandId)?.outcome ?? 'none'}`;
  for (const write of writes) {
    if (write.outcome === 'acknowledged') {
      acknowledged++;
      if (applied(write)) found++;
      else if (lostExamples.length < 5) lostExamples.push(describe(write));
      const decided = decisions.get(write.commandId);
      if (decided && write.version !== null && decided.version !== write.version) versionMismatches++;
    } else if (write.outcome === 'pending') {
      if (applied(write)) pendingDecided++;
      else {
        lostPending++;
        if (lostExamples.length < 5) lostExamples.push(describe(write));
      }
    } else if (applied(write)) {
      unacknowledgedApplied++;
    }
    const revisions = revisionsByCommand.get(write.commandId) ?? 0;
    if (revisions > 1) duplicateDetails.push(`command ${write.commandId} made ${revisions} revisions`);
  }

  // Per timeline: accepted decisions carry versions 1..n, each once, and n is the timeline's version.
  const timelines = await pool.query<{ timeline_id: string; version: number; accepted: number; distinct_versions: number; max_version: number | null }>(
    `select t.timeline_id, t.version,
            count(d.command_id)::int as accepted,
            count(distinct d.version)::int as distinct_versions,
            max(d.version) as max_version
     from timelines t left join decisions d on d.timeline_id = t.timeline_id and d.outcome = 'accepted' and d.changed
     group by t.timeline_id, t.version`,
  );
  for (const row of timelines.rows) {
    if (row.accepted !== row.distinct_versions)
      duplicateDetails.push(`timeline ${row.timeline_id}: ${row.accepted} accepted changes share ${row.distinct_versions} versions`);
    if (row.version !== row.accepted || (row.max_version ?? 0) !== row.version) {
      versionMismatches++;
      duplicateDetails.push(
        `timeline ${row.timeline_id}: version ${row.version}, ${row.accepted} accepted changes, highest decided version ${row.max_version}`,
      );
    }
  }

  const outbox = await pool.query<{ command_id: string; change_index: number; position: number; sent: boolean; timeline_id: string }>(
    'select command_id, change_index, position, sent_at is not null as sent, timeline_id from outbox order by position',
  );
  const { ids: published, endOffsets } = await readEventIds(deployment.options.brokers, deployment.eventsTopic);
  const publishedIds = new Set(published);
  const distinctEventIds = publishedIds.size;
  const outboxRows = outbox.rows.length;
  const unpublished = outbox.rows.filter((row) => !publishedIds.has(changeEventId(row.command_id, row.change_index)));
  if (distinctEventIds > outboxRows)
    duplicateDetails.push(`${distinctEventIds} distinct ce_ids on ${deployment.eventsTopic} for ${outboxRows} accepted changes`);

  const replayed = await compareWithReplay(deployment, replaySchema, replay, settleTimeoutMs);
  return {
    settled: settle.settled,
    settleNote: settle.note,
    writes: writes.length,
    acknowledged,
    found,
    lostAcknowledged: acknowledged - found,
    lostPending,
    pendingDecided,
    lostExamples,
    unacknowledgedApplied,
    duplicated: duplicateDetails.filter((detail) => !detail.includes('highest decided version')).length,
    duplicateDetails,
    versionMismatches,
    eventRecords: published.length,
    distinctEventIds,
    outboxRows,
    unsentOutboxRows: outbox.rows.filter((row) => !row.sent).length,
    resent: published.length - distinctEventIds,
    unpublished: unpublished.length,
    unpublishedExamples: unpublished.slice(0, 3).map((row) => `outbox position ${row.position} (${row.timeline_id}, ${row.sent ? 'marked sent' : 'unsent'})`),
    topicEndOffsets: endOffsets,
    replayEqual: replayed.equal,
    replayNote: replayed.note,
  };
}

/**
 * Settled: every partition's stored offset at the end of timeline.commands, every write answered 202
 * decided, and the outbox relayed. Returns what was still missing when time ran out.
 */
async function waitSettled(deployment: Deployment, writes: Write[], timeoutMs: number): Promise<{ settled: boolean; note: string }> {
  const deadline = Date.now() + timeoutMs;
  const admin = await kafkaAdmin(deployment.options.brokers);
  let note = '';
  try {
    for (;;) {
      try {
        const ends = await admin.fetchTopicOffsets(deployment.commandsTopic);
        const stored = await new ConsumerOffsetsRepository(deployment.pool).nextOffsets(deployment.commandsTopic);
        const behind = ends.filter((end) => (stored.get(end.partition) ?? 0) < Number(end.high));
        const unsent = (await deployment.pool.query<{ n: number }>('select count(*)::int as n from outbox where sent_at is null')).rows[0].n;
        const pending = writes.filter((write) => write.outcome === 'pending').map((write) => write.commandId);
        const decided = (await deployment.pool.query<{ n: number }>('select count(*)::int as n from decisions where command_id = any($1::uuid[])', [pending]))
          .rows[0].n;
        note = `${behind.length} partitions behind, ${pending.length - decided} writes answered 202 undecided, ${unsent} outbox rows unsent`;
        if (behind.length === 0 && unsent === 0 && decided === pending.length) return { settled: true, note: '' };
      } catch (error) {
        note = `not settled: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) return { settled: false, note: `after ${timeoutMs} ms: ${note}` };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Every record's `ce_id` on the events topic, read from the start to the current end, as a subscriber would. */
export async function readEventIds(brokers: string[], topic: string): Promise<{ ids: string[]; endOffsets: number }> {
  const kafka = new Kafka({ clientId: 'chaos-subscriber', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, Number(entry.high)]));
  await admin.disconnect();
  const ids: string[] = [];
  const endOffsets = [...ends.values()].reduce((sum, end) => sum + end, 0);
  if (endOffsets === 0) return { ids, endOffsets };
  const consumer = kafka.consumer({ groupId: `chaos-subscriber-${randomBytes(4).toString('hex')}` });
  const reached = new Map([...ends].map(([partition, end]) => [partition, end === 0]));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} took over 60 s`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const id = message.headers?.ce_id;
            ids.push(id === undefined ? '(no ce_id)' : String(Array.isArray(id) ? id[0] : id));
            if (Number(message.offset) + 1 >= (ends.get(partition) ?? 0)) reached.set(partition, true);
            if ([...reached.values()].every(Boolean)) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { ids, endOffsets };
}

/**
 * Replays timeline.commands from offset 0 into a fresh schema with a second projector and compares
 * the checksums of every read model and the decisions over the shared columns, as the rebuild does.
 */
async function compareWithReplay(
  deployment: Deployment,
  schema: string,
  starting: ReturnType<Deployment['startReplay']>,
  timeoutMs: number,
): Promise<{ equal: boolean | null; note: string }> {
  const offsets = new ConsumerOffsetsRepository(deployment.pool);
  const checksums = new ReadModelSwitchRepository(deployment.pool, offsets);
  const live = deployment.env.DATABASE_SCHEMA;
  try {
    const target = await offsets.nextOffsets(deployment.commandsTopic, { schema: live });
    const replay = await starting;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reached = await offsets.nextOffsets(deployment.commandsTopic, { schema }).catch(() => new Map<number, number>());
      if ([...target].every(([partition, offset]) => (reached.get(partition) ?? 0) >= offset)) break;
      if (replay.exited || Date.now() > deadline)
        return { equal: null, note: `replay did not reach the live offsets (${replay.exited ? 'exited' : 'timed out'})` };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await replay.stop(5_000);
    const [liveSums, replaySums] = await checksums.checksums([live, schema]);
    const differing = Object.keys(liveSums).filter((table) => JSON.stringify(liveSums[table]) !== JSON.stringify(replaySums[table]));
    await checksums.dropSchema(schema);
    return {
      equal: differing.length === 0,
      note: differing.map((table) => `${table}: live ${liveSums[table].rows} rows, replay ${replaySums[table].rows}`).join('; '),
    };
  } catch (error) {
    return { equal: null, note: `replay failed: ${(error as Error).message}` };
  }
}
