/**
 * Rebuilds the read models without downtime, through the projector's admin listener:
 * replays timeline.commands from offset 0 into a new schema, shows progress, and
 * reports the switch and the checksum comparison. It sends a bearer token with scope
 * ops: TIMELINE_TOKEN, or the file --token-file names.
 *
 *   npm run rebuild -- [admin URL, default http://127.0.0.1:$ADMIN_PORT (3002)] [--token-file FILE] [--drop-retired]
 */
import { SingleBar } from 'cli-progress';
import { tokenFromCommandLine } from './auth/command-line-token';

interface RebuildStatus {
  state: 'idle' | 'replaying' | 'switching' | 'switched' | 'failed';
  rebuildSchema: string | null;
  retiredSchema: string | null;
  progress: { applied: number; total: number; recordsPerSecond: number; etaSeconds: number | null } | null;
  checksum: { equal: boolean } | null;
  error: string | null;
}

async function call(url: string, token: string, method: 'GET' | 'POST', body?: unknown): Promise<RebuildStatus> {
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as RebuildStatus;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const token = tokenFromCommandLine(args);
  const base = args.find((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--token-file') ?? `http://127.0.0.1:${process.env.ADMIN_PORT ?? 3002}`;
  const url = `${base.replace(/\/$/, '')}/admin/rebuild`;
  let status = await call(url, token, 'POST', { dropRetired: args.includes('--drop-retired') });
  console.log(`rebuilding into ${status.rebuildSchema}`);
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | {value}/{total} records | {rate} records/s | ETA {eta_text} | {state}',
    hideCursor: true,
  });
  bar.start(1, 0, { rate: 0, eta_text: '?', state: status.state });
  while (status.state === 'replaying' || status.state === 'switching') {
    await new Promise((resolve) => setTimeout(resolve, 500));
    status = await call(url, token, 'GET');
    const progress = status.progress;
    if (progress) {
      bar.setTotal(Math.max(progress.total, 1));
      bar.update(progress.applied, {
        rate: progress.recordsPerSecond,
        eta_text: progress.etaSeconds === null ? '?' : `${progress.etaSeconds}s`,
        state: status.state,
      });
    }
  }
  bar.stop();
  if (status.state !== 'switched') throw new Error(`rebuild ${status.state}: ${status.error ?? 'unknown error'}`);
  console.log(`switched: reads use the rebuilt read models; checksums equal: ${status.checksum?.equal}; old schema: ${status.retiredSchema}`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
