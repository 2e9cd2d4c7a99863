import { timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { instant, named, type Returns } from '../http/response-schemas';
import type { OpsStatus } from './ops-status';

const seconds = z.number().nonnegative();
const count = z.number().int().nonnegative();
export const opsStatusSchema = named(
  z.strictObject({
    generatedAt: instant,
    projection: z.strictObject({
      topic: z.string().describe('The command topic the projector reads'),
      partitions: z
        .array(
          z.strictObject({
            partition: count,
            endOffset: count.describe('The offset after the last record of the partition in Kafka'),
            storedOffset: count.describe('The next offset to decide, stored with the read models'),
            records: count.describe('Projection lag in records: endOffset − storedOffset'),
            seconds: seconds
              .nullable()
              .describe(
                'Projection lag in seconds: now − Kafka time of the last decided record while records wait, 0 when none does; null while none was decided yet',
              ),
          }),
        )
        .nullable()
        .describe('Null when the lag could not be read'),
      error: z.string().nullable().describe('Why the lag could not be read'),
      failing: z
        .array(
          z.strictObject({
            partition: count,
            failureClass: z
              .string()
              .describe(
                'unprocessable (a record was refused and is being narrowed down), connection, serialization, timeout, shutdown, fenced, log-behind, database or unknown',
              ),
            error: z.string().describe('The last error'),
            since: instant.describe('First failure in a row'),
            lastFailedAt: instant,
            attempts: count.describe('Failed transactions in a row'),
          }),
        )
        .describe('Partitions whose projector transactions fail now; empty when every partition moves'),
    }),
    throughput: z.strictObject({
      windowSeconds: count,
      decisions: count.describe('Decisions of commands appended within the window'),
      perSecond: seconds,
    }),
    decisions: z.strictObject({
      windowSeconds: count,
      accepted: count,
      rejected: count,
      rejectedByReason: z.array(z.strictObject({ reason: z.string(), count })),
    }),
    recentRejections: z
      .array(
        z.strictObject({
          commandId: z.uuid(),
          commandType: z.string(),
          timelineId: z.string().nullable(),
          eventId: z.uuid().nullable(),
          reason: z.string().nullable(),
          detail: z.string().nullable(),
          knownAt: instant,
          partition: count,
          offset: count,
        }),
      )
      .describe('The latest rejections, newest first'),
    relay: z.strictObject({
      unsentRecords: count.describe('Accepted changes not yet published to timeline.events'),
      oldestUnsentSeconds: seconds.describe('Age of the oldest of them; 0 when none waits'),
    }),
    stream: z.strictObject({ connectedClients: count.nullable().describe('Clients of /v1/stream on this api instance') }),
    admission: z
      .strictObject({
        waitingCommands: count.describe('Commands this api instance holds: appending, or waiting for their decision'),
        maxWaiting: count.describe('ADMISSION_MAX_WAITING: past it writes are answered 503 `overloaded`'),
        refusedCommands: count.describe('Commands answered 503 `overloaded` since this instance started (not recorded)'),
      })
      .nullable(),
    rebuilds: z
      .array(
        z.strictObject({
          schema: z.string().describe('The schema the rebuild replays into'),
          applied: count.describe('Records replayed, summed over the partitions'),
          end: count.nullable().describe('End offsets of the topic summed: what the rebuild catches up to; null when unknown'),
        }),
      )
      .describe('Read-model rebuilds replaying now, or left behind by a failed one (their schema does not advance)'),
    timelines: z.array(z.strictObject({ timelineId: timelineIdSchema, title: z.string(), eventCount: count })),
    readReplicas: z
      .array(
        z.strictObject({
          name: z.string().describe('`replica-0`, `replica-1`, … in DATABASE_READ_URLS order'),
          inRotation: z.boolean().describe('Whether reads use it now: answering, and under READ_REPLICA_MAX_LAG_SECONDS and READ_REPLICA_MAX_LAG_BYTES'),
          lagBytes: count.nullable().describe("WAL bytes between the primary's position and its replay position; null while unknown (unreachable)"),
          lagSeconds: seconds.nullable().describe('How long ago the primary was where its replay is; 0 when caught up; null while unknown'),
          replayPosition: z.string().nullable().describe('The last WAL position it replayed, as PostgreSQL shows it'),
          lastError: z.string().nullable().describe('Why it is out of the rotation, when an error put it out (unreachable, not a replica)'),
        }),
      )
      .describe('The read replicas (DATABASE_READ_URLS) as this api instance sees them; empty when reads use the primary only'),
  }),
  'OpsStatus',
  'What the ops page shows: projection lag per partition, throughput, decisions by outcome, recent rejections, relay and stream',
);

const returns: [Returns<OpsStatus, typeof opsStatusSchema>] = [true];
void returns;
