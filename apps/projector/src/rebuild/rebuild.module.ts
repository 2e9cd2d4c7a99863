import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { RebuildController } from './rebuild.controller';
import { ReadModelRebuild } from './read-model-rebuild';

@Module({
  imports: [DatabaseModule],
  controllers: [RebuildController],
  providers: [ReadModelRebuild],
  exports: [ReadModelRebuild],
})
export class RebuildModule {}
