import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RedactionRepository, type RedactionProgress } from '@timeline/database';
import { nameBasedUuid, redactionHash, type RedactionKind } from '@timeline/domain';
import { CommandSubmissionService } from '../write-path/command-submission.service';
import { withConsistencyToken, type Answer } from '../write-path/decision-answer';
import type { WriteHeaders } from '../http/request-headers';
import type { Returns } from '../http/response-schemas';
import type { RedactBody, redactionSchema } from './redactions.schemas';

export interface RedactionStatus {
  redactionId: string;
  status: 'applied' | 'pending';
  kind?: RedactionKind;
  valueHash?: string;
  partitions?: number;
  partitionsApplied: number;
  eventsRewritten: number;
  appliedAt?: string;
  location: string;
}

/** Redacts an actor id or a source URL from every event that carries it (docs/redaction.md). */
export class RedactRequest extends Command<Answer> {
  constructor(
    readonly body: RedactBody,
    /** The body as sent: the request's fingerprint is taken from it. */
    readonly sentBody: unknown,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

export class GetRedaction extends Query<RedactionStatus> {
  constructor(readonly redactionId: string) {
    super();
  }
}

/** A retry with the same Idempotency-Key is the same redaction. */
export const redactionIdFor = (idempotencyKey: string | undefined): string =>
  idempotencyKey ? nameBasedUuid(`idempotency:redaction:${idempotencyKey}`) : randomUUID();

const locationOf = (redactionId: string) => `/v1/redactions/${redactionId}`;

function statusOf(redactionId: string, progress: RedactionProgress | null): RedactionStatus {
  const location = locationOf(redactionId);
  if (!progress) return { redactionId, status: 'pending', partitionsApplied: 0, eventsRewritten: 0, location };
  const { kind, valueHash, partitions, partitionsApplied, eventsRewritten, appliedAt } = progress;
  const status = partitionsApplied >= partitions ? 'applied' : 'pending';
  return { redactionId, status, kind, valueHash, partitions, partitionsApplied, eventsRewritten, appliedAt, location };
}

@CommandHandler(RedactRequest)
export class RedactRequestHandler implements ICommandHandler<RedactRequest, Answer> {
  constructor(
    private readonly writes: CommandSubmissionService,
    private readonly redactions: RedactionRepository,
  ) {}

  /** 201 once every partition applied it; 202 with its status link while some have not. */
  async execute({ body, sentBody, headers }: RedactRequest): Promise<Answer> {
    const redactionId = redactionIdFor(headers.idempotencyKey);
    const [kind, value]: [RedactionKind, string] = body.actorId !== undefined ? ['actor', body.actorId] : ['source', body.sourceUrl!];
    const valueHash = redactionHash(value);
    const { partitions, decided, consistencyToken } = await this.writes.submitRedaction(
      { redactionId, kind, valueHash },
      { route: 'POST redaction', body: sentBody },
      headers,
    );
    const location = locationOf(redactionId);
    if (decided < partitions) {
      return { status: 202, body: { ...statusOf(redactionId, null), kind, valueHash, partitions, partitionsApplied: decided }, headers: { location } };
    }
    const status = statusOf(redactionId, await this.redactions.findById(redactionId));
    if (status.status !== 'applied') return { status: 202, body: status, headers: { location } };
    return withConsistencyToken({ status: 201, body: status, headers: { location } }, consistencyToken);
  }
}

@QueryHandler(GetRedaction)
export class GetRedactionHandler implements IQueryHandler<GetRedaction, RedactionStatus> {
  constructor(private readonly redactions: RedactionRepository) {}

  /** Pending while not every partition applied it; like a command, one never issued is pending too. */
  async execute({ redactionId }: GetRedaction): Promise<RedactionStatus> {
    return statusOf(redactionId, await this.redactions.findById(redactionId));
  }
}

const returns: [Returns<RedactionStatus, typeof redactionSchema>] = [true];
void returns;
