import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import type { DecisionRecord } from './decision.repository';
import { DECISIONS_CHANNEL } from './projection.repository';

/** How often the listening connection is asked whether it still answers, and how long it may take. */
const PROBE_INTERVAL_MS = 10_000;
const PROBE_TIMEOUT_MS = 5_000;

export interface DecisionSubscriber {
  /**
   * A projector batch has committed the decisions on these commands; `carried` are those of them the
   * notification carries whole, as `DecisionRepository.findByCommandIds` would read them.
   */
  decided(commandIds: string[], carried: DecisionRecord[]): void;
  /** The connection was lost and is back: what was notified meanwhile is gone, so look up what may have been missed. */
  reconnected(): void;
}

/**
 * The process's one connection that LISTENs for committed decisions; the
 * api's decision waiters, the stream feed and the relay subscribe to it. On a
 * lost connection it reconnects and tells every subscriber. A connection
 * whose server went away without closing it (half-open: no error, no
 * notification, ever) is found by a probe query that does not answer in
 * time, and replaced the same way.
 */
export class DecisionNotifications implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DecisionNotifications.name);
  private readonly subscribers = new Set<DecisionSubscriber>();
  private client: Client | null = null;
  private closed = false;
  private probe: NodeJS.Timeout | null = null;

  constructor(private readonly databaseUrl: string) {}

  /** Returns the function that ends the subscription. */
  subscribe(subscriber: DecisionSubscriber): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  onModuleInit(): Promise<void> {
    return this.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  async start(): Promise<void> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: 'timeline-decision-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client.on('notification', (message) => {
      if (message.channel !== DECISIONS_CHANNEL || !message.payload) return;
      const { commandIds, carried } = parseNotification(message.payload);
      for (const subscriber of this.subscribers) subscriber.decided(commandIds, carried);
    });
    client.on('error', (error) => {
      this.warn(error);
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
    this.probe = setInterval(() => void this.checkAnswers(client), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
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
      this.warn(new Error(`connection given up: ${(error as Error).message}`));
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
    for (let delay = 100; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.start();
        for (const subscriber of this.subscribers) subscriber.reconnected();
        return;
      } catch (error) {
        this.warn(error as Error);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private warn(error: Error): void {
    this.logger.warn(`decision listener: ${error.message}`);
  }
}

/**
 * A notification's payload: a JSON array of decisions and command ids (see the projection repository), or
 * command ids separated by commas, as projectors before decisions were carried send them.
 */
export function parseNotification(payload: string): { commandIds: string[]; carried: DecisionRecord[] } {
  if (!payload.startsWith('[')) return { commandIds: payload.split(','), carried: [] };
  const entries = JSON.parse(payload) as (DecisionRecord | string)[];
  const carried = entries.filter((entry): entry is DecisionRecord => typeof entry !== 'string');
  return { commandIds: entries.map((entry) => (typeof entry === 'string' ? entry : entry.commandId)), carried };
}
