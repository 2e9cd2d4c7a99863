import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { ReadModelRebuild } from './read-model-rebuild';

@Module({
  imports: [DatabaseModule],
  providers: [ReadModelRebuild],
  exports: [ReadModelRebuild],
})
export class RebuildModule {}
