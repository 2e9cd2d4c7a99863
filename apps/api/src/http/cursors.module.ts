import { Module } from '@nestjs/common';
import { CursorSigner } from './cursor-signer';

/** One CursorSigner per process: a cursor one feature gives out is read back with the same key. */
@Module({
  providers: [CursorSigner],
  exports: [CursorSigner],
})
export class CursorsModule {}
