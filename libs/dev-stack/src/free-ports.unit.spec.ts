import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { freePorts } from './free-ports';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('free ports', () => {
  test('lie below the kernel ephemeral range, so no bind to port 0 or outgoing connection can take one before it is listened on', async () => {
    const ports = await freePorts(20);
    for (const port of ports) expect(port).toBeLessThan(ephemeralLow);
  });

  test('are never handed out twice in one process, even before anything listens on them', async () => {
    const first = await freePorts(50);
    const second = await freePorts(50);
    expect(new Set([...first, ...second]).size).toBe(100);
  });

  test('are free: each can be listened on', async () => {
    const [port] = await freePorts(1);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
