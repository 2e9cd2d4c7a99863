/**
 * A streaming replica of startEmbeddedPostgres()'s server, on a free port with a temp data dir:
 *
 *   const primary = await startEmbeddedPostgres();
 *   const replica = await startEmbeddedReplica(primary);
 *   // reads on replica.urlOf(database) see what was committed on primary.url a moment ago
 *   await replica.stop();
 *
 * All replica knowledge (the base backup, the standby's settings) lives in scripts/postgres/embedded-replica.mjs,
 * run by `postgres.sh replica` as the primary runs; this helper picks the port, the data dir and the slot.
 * It dies with the owner as the primary does (the 'exit' handler, the watchdog).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunningPostgres } from './embedded-postgres';
import { freePort } from './free-ports';
import { childrenOf, isAlive } from './process-alive';
import { killServer, launch, readLogTail, registerLive, type Supervisor, terminate, unregisterLive } from './postgres-script';
import { dropReplicationSlot, replayControls, replicaNamer, type RunningReplica, slotFor } from './read-replica';

// The base backup copies the primary's data dir: longer than a plain start on a loaded primary.
const START_TIMEOUT_MS = 120_000;
const namers = new WeakMap<RunningPostgres, () => string>();

export async function startEmbeddedReplica(primary: RunningPostgres): Promise<RunningReplica> {
  let nextName = namers.get(primary);
  if (!nextName) namers.set(primary, (nextName = replicaNamer()));
  const name = nextName();
  // As for the primary: another process can take the free port before PostgreSQL binds it; retry then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'timeline-replica-'));
    try {
      return await start(primary, name, port, dataDir);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      await dropReplicationSlot(primary.url, slotFor(port)); // made by the base backup, if it got that far
      if (attempt < 3 && /could not bind|already in use/.test(String(error))) continue;
      throw error;
    }
  }
}

async function start(primary: RunningPostgres, name: string, port: number, dataDir: string): Promise<RunningReplica> {
  const slot = slotFor(port);
  const env = { EMBEDDED_POSTGRES_PRIMARY_URL: primary.url, EMBEDDED_POSTGRES_REPLICA_SLOT: slot };
  const run = () => launch('replica', port, dataDir, env, START_TIMEOUT_MS);
  let supervisor: Supervisor | null = await run();
  let stopped = false;
  registerLive(dataDir, () => supervisor);

  const halt = async (): Promise<void> => {
    if (supervisor) await terminate(supervisor, dataDir);
    supervisor = null;
  };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  return {
    name,
    url,
    port,
    slot,
    dataDir,
    get pid() {
      return supervisor?.ready.pid ?? 0;
    },
    urlOf: (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    ...replayControls(url),
    async kill() {
      if (!supervisor) return;
      const crashed = [supervisor.ready.pid, ...childrenOf(supervisor.ready.pid)];
      killServer(supervisor, dataDir);
      await supervisor.exited;
      supervisor = null;
      // SIGKILL is delivered at once but a process takes a moment to go: resolve once none is left.
      for (const deadline = Date.now() + 10_000; crashed.some(isAlive);) {
        if (Date.now() > deadline) throw new Error(`${name}: ${crashed.filter(isAlive).join(', ')} survived SIGKILL`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async restart() {
      if (stopped) throw new Error(`${name} already stopped; start a new one`);
      await halt();
      supervisor = await run();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // Stopped by its script, a replica drops its slot itself; killed, it leaves that to us.
        await halt();
        await dropReplicationSlot(primary.url, slot);
      } finally {
        unregisterLive(dataDir);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    logTail: (lines?: number) => readLogTail(dataDir, lines),
  };
}
