import { Controller, Get, Param, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DecisionRepository, LsnClock, type CommandDecision } from '@timeline/database';
import type { FastifyReply } from 'fastify';
import { CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { parseCommandId } from '../http/path-params';

/** A command's decision as its status tells it; while it is pending, only its id. */
export type CommandStatus = { commandId: string; status: 'pending' | CommandDecision['outcome'] } & Partial<
  Pick<CommandDecision, 'commandType' | 'timelineId' | 'eventId' | 'reason' | 'detail' | 'version' | 'revision' | 'knownAt'>
>;

export class GetCommandStatus extends Query<CommandStatus> {
  constructor(readonly commandId: string) {
    super();
  }
}

@QueryHandler(GetCommandStatus)
export class GetCommandStatusHandler implements IQueryHandler<GetCommandStatus, CommandStatus> {
  constructor(private readonly decisions: DecisionRepository) {}

  /** A command with no decision yet is pending: the API cannot tell "not yet decided" from "never sent". */
  async execute({ commandId }: GetCommandStatus): Promise<CommandStatus> {
    const [decision] = await this.decisions.findByCommandIds([commandId]);
    if (!decision) return { commandId, status: 'pending' };
    const { outcome, commandType, timelineId, eventId, reason, detail, version, revision, knownAt } = decision;
    return { commandId, status: outcome, commandType, timelineId, eventId, reason, detail, version, revision, knownAt };
  }
}

@Controller('v1/commands')
export class CommandsController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly clock: LsnClock,
  ) {}

  /** Once decided, with the `Consistency-Token` of the decision: how a caller that followed a 202 reads its write. */
  @RequiresScope('timelines:read')
  @Get(':commandId')
  async getStatus(@Param('commandId') commandId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const status = await this.queryBus.execute(new GetCommandStatus(parseCommandId(commandId)));
    if (status.status !== 'pending') void reply.header(CONSISTENCY_TOKEN_HEADER, await this.clock.token());
    return status;
  }
}
