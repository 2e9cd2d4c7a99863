import { Body, Controller, Get, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { parseOrThrow, Problem } from '@timeline/problems';
import { z } from 'zod';
import { ReadModelRebuild, type RebuildStatus } from './read-model-rebuild';

/** What the endpoints ask of the projector's rebuild. */
export type RebuildControl = Pick<ReadModelRebuild, 'start' | 'status'>;

const startSchema = z.strictObject({ dropRetired: z.boolean().default(false) });

/** Admin endpoints, on the projector's admin listener (`admin.app.ts`); an `ops` token for each. */
@Controller('admin/rebuild')
@RequiresScope('ops')
export class RebuildController {
  constructor(@Inject(ReadModelRebuild) private readonly rebuild: RebuildControl) {}

  /** Starts a rebuild (202); if one runs already, answers with its status. Only a JSON body: no form can send one. */
  @Post()
  @HttpCode(202)
  start(@Headers('content-type') contentType: string | undefined, @Body() body: unknown): RebuildStatus {
    if (contentType?.split(';')[0].trim().toLowerCase() !== 'application/json') {
      throw new Problem('unsupported-media-type', 'send the body as application/json, e.g. {"dropRetired": false}');
    }
    return this.rebuild.start(parseOrThrow(startSchema, body ?? {}, 'body'));
  }

  @Get()
  status(): RebuildStatus {
    return this.rebuild.status();
  }
}
