/**
 * A throw-away Prometheus server (the `prometheus` binary of Debian's package, beside `promtool`): a temporary
 * directory for its configuration, rules, token file and data, a free port, and short scrape and evaluation
 * intervals. It scrapes the targets it is given with a bearer token from a file, as operators configure it
 * (docs/operations.md), and answers the HTTP API a test asks. No server outlives this process: an 'exit' handler
 * SIGKILLs it, and scripts/watchdog.sh does the same (and removes the directory) if this process is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './free-ports';
import { REPO_ROOT } from './service-process';

export interface ScrapeJob {
  job: string;
  /** host:port of each instance. */
  targets: string[];
}

export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** The rules file's content (YAML). */
  rules: string;
  /** A bearer token every scrape sends (written to a file, `credentials_file`). */
  token: string;
  intervalSeconds?: number;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class PrometheusServer {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start({ jobs, rules, token, intervalSeconds = 1 }: PrometheusOptions): Promise<PrometheusServer> {
    if (spawnSync('prometheus', ['--version']).error) {
      throw new Error('the prometheus binary is not installed (Debian: apt-get install prometheus; npm test installs it as root)');
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'timeline-prometheus-'));
    writeFileSync(path.join(dir, 'rules.yml'), rules);
    writeFileSync(path.join(dir, 'ops.token'), token, { mode: 0o600 });
    const config = {
      global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${intervalSeconds}s`, evaluation_interval: `${intervalSeconds}s` },
      rule_files: ['rules.yml'],
      scrape_configs: jobs.map(({ job, targets }) => ({
        job_name: job,
        authorization: { type: 'Bearer', credentials_file: 'ops.token' },
        static_configs: [{ targets }],
      })),
    };
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    running.add(child);
    spawn('bash', [path.join(REPO_ROOT, 'scripts', 'watchdog.sh'), String(process.pid), String(child.pid), dir], { detached: true, stdio: 'ignore' }).unref();
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
      const ready = await fetch(`${server.url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return server;
      if (Date.now() > deadline) throw new Error('prometheus was not ready within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async api<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.url}/api/v1/${pathAndQuery}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  }

  /** An instant query now. */
  async query(expr: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: Sample[] }>(`query?query=${encodeURIComponent(expr)}`);
    return data.result;
  }

  async alerts(): Promise<ActiveAlert[]> {
    return (await this.api<{ alerts: ActiveAlert[] }>('alerts')).alerts;
  }

  async targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]> {
    return (await this.api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('targets')).activeTargets;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    running.delete(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
