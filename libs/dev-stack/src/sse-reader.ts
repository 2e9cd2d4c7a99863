export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * A minimal Server-Sent Events client over fetch, parsing frames as the WHATWG
 * spec says. Comments (heartbeats) are counted, not returned as messages.
 */
export class SseReader {
  readonly messages: SseMessage[] = [];
  comments = 0;
  status = 0;
  contentType = '';
  ended = false;
  private readonly controller = new AbortController();
  private done: Promise<void> = Promise.resolve();

  /** Opens the stream with these request headers (authorization included: the reader adds none). */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: reader.controller.signal });
    reader.status = response.status;
    reader.contentType = response.headers.get('content-type') ?? '';
    if (response.ok && response.body) reader.done = reader.read(response.body);
    return reader;
  }

  /** The CloudEvents received so far (messages without an event name). */
  get changes(): { id: string; event: any }[] {
    return this.messages.filter((m) => m.event === undefined).map((m) => ({ id: m.id!, event: JSON.parse(m.data) }));
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done.catch(() => undefined);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }

  private parse(frame: string): void {
    const message: SseMessage = { data: '' };
    const data: string[] = [];
    let isComment = true;
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue;
      isComment = false;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') message.id = value;
      else if (field === 'event') message.event = value;
      else if (field === 'data') data.push(value);
    }
    if (isComment) {
      this.comments += 1;
      return;
    }
    message.data = data.join('\n');
    this.messages.push(message);
  }
}
