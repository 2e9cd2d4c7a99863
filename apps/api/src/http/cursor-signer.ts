import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';

const MAC_BYTES = 16;

/**
 * Cursors are `<payload>.<mac>`, both base64url: the payload is JSON, the mac an
 * HMAC-SHA256 of it under CURSOR_SECRET. A cursor this service did not give out
 * (forged, changed, or signed with another key) is refused before anything in it
 * is read, so its fields never reach SQL; they are still checked one by one.
 */
@Injectable()
export class CursorSigner {
  private readonly key: Buffer;

  constructor(config: TimelineConfig) {
    if (config.cursorSecret) {
      this.key = Buffer.from(config.cursorSecret, 'utf8');
    } else {
      // One instance per process (CursorsModule), so this key is shared by every feature that pages.
      this.key = randomBytes(32);
      new Logger(CursorSigner.name).warn('CURSOR_SECRET is not set: cursors hold only for this process (not across restarts or instances)');
    }
  }

  sign(payload: unknown): string {
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The payload of a cursor this service signed, or null for any other text. */
  verify(cursor: string): { payload: unknown } | null {
    const [body, mac, ...rest] = cursor.split('.');
    if (!body || !mac || rest.length > 0) return null;
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(body))) return null;
    try {
      return { payload: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) };
    } catch {
      return null;
    }
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
