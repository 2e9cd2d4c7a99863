import { Client } from 'pg';
import { DECISIONS_CHANNEL } from './projection.repository';

/** How often the listening connection is asked whether it still answers, and how long it may take. */
const PROBE_INTERVAL_MS = 10_000;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * A dedicated connection that LISTENs for committed decisions. On a lost
 * connection it reconnects and calls `onReconnect`, so that waiters can look
 * up what they may have missed meanwhile. A connection whose server went away
 * without closing it (half-open: no error, no notification, ever) is found by
 * a probe query that does not answer in time, and replaced the same way.
 */
export class DecisionNotifications {
  private client: Client | null = null;
  private closed = false;
  private connected = false;
  private probe: NodeJS.Timeout | null = null;

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
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: 'timeline-decision-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
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
    this.probe = setInterval(() => void this.checkAnswers(client), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.connected = false;
    this.stopProbe();
    await this.client?.end().catch(() => undefined);
  }

  /** A listening connection that does not answer `select 1` in time is given up and replaced. */
  private async checkAnswers(client: Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.query('select 1'), silent]);
    } catch (error) {
      if (this.client !== client) return;
      this.onError(new Error(`decision listener connection given up: ${(error as Error).message}`));
      // Ends the socket whatever its state; the reconnect below takes over.
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      void this.reconnect(client);
    } finally {
      clearTimeout(timer);
    }
  }

  private stopProbe(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = null;
  }

  private async reconnect(lost: Client): Promise<void> {
    if (this.closed || this.client !== lost) return;
    this.stopProbe();
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
