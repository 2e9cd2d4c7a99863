import { SseReader as DevSseReader } from '@timeline/dev-stack';
import { bearer } from './tokens';

export type { SseMessage } from '@timeline/dev-stack';

/** The dev stack's SSE client with every scope, unless a test sends its own Authorization (or none: `authorization: ''`). */
export class SseReader extends DevSseReader {
  static override open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return super.open(url, 'authorization' in headers ? headers : { ...bearer(), ...headers });
  }
}
