import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { encodeConsistencyToken, type WalPosition } from './consistency-token';
import { freshSharedCall } from './fresh-shared-call';
import { ReplicationRepository } from './replication.repository';

/**
 * The clock the write path stamps consistency tokens with: the primary's WAL insert position, read after the
 * decision is in hand. Concurrent writes share one statement, each served by one that started after it asked
 * (`freshSharedCall`), so that the token is never older than the decision it is given with.
 */
@Injectable()
export class LsnClock {
  private readonly position: () => Promise<WalPosition>;

  constructor(pool: Pool) {
    const replication = new ReplicationRepository(pool);
    this.position = freshSharedCall(() => replication.walInsertPosition());
  }

  /** The primary's WAL insert position now (at or after every commit that finished before this call). */
  now(): Promise<WalPosition> {
    return this.position();
  }

  /** A `Consistency-Token` at or after every commit that finished before this call. */
  async token(): Promise<string> {
    return encodeConsistencyToken(await this.position());
  }
}
