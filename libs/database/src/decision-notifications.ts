import { Client } from 'pg';
import { DECISIONS_CHANNEL } from './projection.repository';

/**
 * A dedicated connection that LISTENs for committed decisions. On a lost
 * connection it reconnects and calls `onReconnect`, so that waiters can look
 * up what they may have missed meanwhile.
 */
export class DecisionNotifications {
  private client: Client | null = null;
  private closed = false;
  private connected = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly onDecided: (commandIds: string[]) => void,
    private readonly onReconnect: () => void,
    private readonly onError: (error: Error) => void,
  ) {}

  get isListening(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'timeline-decision-listener' });
    client.on('notification', (message) => {
      if (message.channel === DECISIONS_CHANNEL && message.payload) this.onDecided(message.payload.split(','));
    });
    client.on('error', (error) => {
      this.onError(error);
      void this.reconnect(client);
    });
    client.on('end', () => void this.reconnect(client));
    await client.connect();
    await client.query(`listen ${DECISIONS_CHANNEL}`);
    if (this.closed) {
      // Stopped while this (re)connection was under way.
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.connected = false;
    await this.client?.end().catch(() => undefined);
  }

  private async reconnect(lost: Client): Promise<void> {
    if (this.closed || this.client !== lost) return;
    this.client = null;
    this.connected = false;
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.start();
        this.onReconnect();
        return;
      } catch (error) {
        this.onError(error as Error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
