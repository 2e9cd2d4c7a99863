import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from '@jest/globals';
import { expectEventually } from './support/eventually';

const REPO_ROOT = path.resolve(__dirname, '..');
const SEED = JSON.parse(readFileSync(path.join(REPO_ROOT, 'scripts/seed/japan-nato.json'), 'utf8')) as {
  events: { eventId: string }[];
  revisions: { eventId: string; changes: { factuality?: string } }[];
};
const OWN_NETWORK = readlinkSync('/proc/self/ns/net');
const REQUIREMENT =
  'this test runs scripts/start.sh in a private network namespace (unshare --net), where nothing listens on ' +
  '127.0.0.1:5432 whatever this machine runs, and reaches it with nsenter: that needs root (CAP_SYS_ADMIN) and ' +
  "util-linux's unshare and nsenter, iproute2's ip and curl. Run the suite as root, e.g. in CI or a container";

/** Every process in a network namespace, with its command line: in a private one, all of them are this test's. */
function processesIn(network: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== network) continue;
      found.push({ pid: Number(entry), command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

/** Resolves with the first match of `pattern` in what the process printed so far or later; rejects if it exits first. */
function printed(child: ChildProcess, output: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(output());
      if (match) done(() => resolve(match));
    };
    const exited = () => done(() => reject(new Error(`start.sh exited (${child.exitCode ?? child.signalCode}) first:\n${output()}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`start.sh printed no ${pattern} in ${timeoutMs} ms:\n${output()}`))), timeoutMs);
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', exited);
      settle();
    };
    child.stdout!.on('data', check);
    child.once('exit', exited);
    check();
  });
}

describe('npm start on a machine without PostgreSQL', () => {
  let workDir = '';
  let network = '';

  afterAll(async () => {
    // Only when the test failed half-way: what runs in the private namespace was started by this test.
    if (network && network !== OWN_NETWORK) for (const { pid } of processesIn(network)) process.kill(pid, 'SIGKILL');
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('runs an embedded PostgreSQL, Kafka, both apps and the seed; SIGINT stops all of it', async () => {
    if (process.getuid?.() !== 0) throw new Error(`${REQUIREMENT}; this process is not root.`);
    workDir = await mkdtemp(path.join(os.tmpdir(), 'timeline-start-'));
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'KAFKA_PORT', 'KAFKA_CONTROLLER_PORT', 'KAFKA_OWNER_PID', 'EMBEDDED_POSTGRES_PORT']) {
      delete env[name];
    }
    // Throw-away data; the Kafka jars stay in the machine's cache (the global setup installed them).
    env.KAFKA_DATA_DIR = path.join(workDir, 'kafka');
    env.EMBEDDED_POSTGRES_DATA_DIR = path.join(workDir, 'postgres');
    // The development key pair goes here, and the apps verify the tokens it signs.
    env.TIMELINE_STATE_DIR = path.join(workDir, 'state');

    const inNamespace = [
      'ip link set lo up',
      'if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then echo "something listens on 5432" >&2; exit 97; fi',
      'exec bash scripts/start.sh',
    ].join(' && ');
    const started = spawn('unshare', ['--net', '--', 'bash', '-c', inNamespace], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      started.once('exit', (code, signal) => resolve({ code, signal })),
    );

    network = await expectEventually(
      () => {
        const exited = () => started.exitCode !== null || started.signalCode !== null;
        if (exited()) throw new Error(`unshare exited (${started.exitCode ?? started.signalCode}):\n${output}`);
        const entered = readlinkSync(`/proc/${started.pid}/ns/net`);
        // Still running after the read, so the pid was the child's (not reaped and reused).
        if (exited()) throw new Error('unshare exited');
        if (entered === OWN_NETWORK) throw new Error('not in a network namespace of its own yet');
        return entered;
      },
      { timeoutMs: 10_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n(${REQUIREMENT}.)`);
    });
    const [, api] = await printed(started, () => output, /timeline service running: (http:\S+)/, 300_000);
    const running = processesIn(network).map(({ command }) => command);
    expect(running).toContainEqual(expect.stringContaining(`-D ${path.join(workDir, 'postgres', 'pgdata')}`));
    expect(running).toContainEqual(expect.stringContaining(`kafka.Kafka ${path.join(workDir, 'kafka')}`));

    const [, token] = await printed(started, () => output, /development token[^\n]*\n\s+(\S+)/, 10_000);
    const [, opsLink] = await printed(started, () => output, /ops page: (\S+)/, 10_000);
    expect(opsLink).toBe(`${api}/ops#token=${token}`);
    expect(existsSync(path.join(workDir, 'state', 'dev-signing-key.pem'))).toBe(true);
    const curl = (...args: string[]) => promisify(execFile)('nsenter', [`--net=/proc/${started.pid}/ns/net`, 'curl', '-sS', ...args]);
    const anonymous = await curl('-o', '/dev/null', '-w', '%{http_code}', `${api}/v1/timelines/japan-nato/events`);
    expect(anonymous.stdout).toBe('401');
    const { stdout } = await curl('-f', '-H', `authorization: Bearer ${token}`, `${api}/v1/timelines/japan-nato/events`);
    const { events } = JSON.parse(stdout) as { events: { eventId: string; factuality: string }[] };
    expect(events.map((event) => event.eventId).sort()).toEqual(SEED.events.map((event) => event.eventId).sort());
    for (const { eventId, changes } of SEED.revisions.filter((revision) => revision.changes.factuality)) {
      expect(events.find((event) => event.eventId === eventId)).toMatchObject({ factuality: changes.factuality });
    }

    started.kill('SIGINT');
    expect(await exited).toEqual({ code: 130, signal: null });
    expect(processesIn(network)).toEqual([]);
    expect(existsSync(path.join(workDir, 'postgres', 'pgdata', 'PG_VERSION'))).toBe(true);
  }, 420_000);
});
