import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/*
 * A port handed out here is free now and listened on a little later, by a process that is still starting.
 * Ports that the kernel hands out itself (bind to port 0, outgoing connections) come from its ephemeral range,
 * so a port taken from that range can be taken by any process in between: a restarted projector of the chaos
 * spec once failed to listen with EADDRINUSE on the port it had just been given, while the other e2e worker's
 * services listened on port 0. So the ports come from below the ephemeral range, at random, and each jest
 * worker (and every process it starts, which inherits JEST_WORKER_ID) draws from a slice of its own.
 */
const LOWEST_PORT = 10_000;
const WORKER_SLICES = 8;

function ephemeralRangeStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > LOWEST_PORT + WORKER_SLICES * 100) return low;
  } catch {
    // Not Linux: the range most systems use (IANA's dynamic ports start at 49152).
  }
  return 32_768;
}

/** This process's slice of the ports below the ephemeral range: [start, end). */
function portSlice(): { start: number; end: number } {
  const size = Math.floor((ephemeralRangeStart() - LOWEST_PORT) / WORKER_SLICES);
  const worker = Number(process.env.JEST_WORKER_ID ?? 0);
  const start = LOWEST_PORT + (Number.isInteger(worker) ? worker % WORKER_SLICES : 0) * size;
  return { start, end: start + size };
}

/** Ports this process handed out: it may not have listened on them yet, so they are not handed out again. */
const handedOut = new Set<number>();

function listenOn(server: net.Server, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
}

/** Distinct free loopback ports outside the kernel's ephemeral range (all held until all are known). */
export async function freePorts(count: number): Promise<number[]> {
  const { start, end } = portSlice();
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > 1_000) throw new Error(`no free port in ${start}-${end - 1} after 1000 tries`);
      const port = start + Math.floor(Math.random() * (end - start));
      if (handedOut.has(port)) continue;
      const server = net.createServer();
      if (!(await listenOn(server, port))) continue;
      servers.push(server);
      handedOut.add(port);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port;
}
