import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { parseOrThrow } from '@timeline/problems';
import { z } from 'zod';
import { ReadModelRebuild, type RebuildStatus } from './read-model-rebuild';

const startSchema = z.strictObject({ dropRetired: z.boolean().default(false) });

/** Admin endpoints on the projector's own port (keep it off public networks). */
@Controller('admin/rebuild')
export class RebuildController {
  constructor(private readonly rebuild: ReadModelRebuild) {}

  /** Starts a rebuild (202); if one runs already, answers with its status. */
  @Post()
  @HttpCode(202)
  start(@Body() body: unknown): RebuildStatus {
    return this.rebuild.start(parseOrThrow(startSchema, body ?? {}, 'body'));
  }

  @Get()
  status(): RebuildStatus {
    return this.rebuild.status();
  }
}
