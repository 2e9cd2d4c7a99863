import { Module } from '@nestjs/common';
import { RebuildController } from './rebuild.controller';
import { ReadModelRebuild } from './read-model-rebuild';

@Module({
  controllers: [RebuildController],
  providers: [ReadModelRebuild],
  exports: [ReadModelRebuild],
})
export class RebuildModule {}
