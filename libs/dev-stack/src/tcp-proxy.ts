import * as net from 'node:net';

/**
 * A loopback TCP proxy a test can cut and restore: to the apps behind it, the
 * server on the other side goes away (connections dropped, new ones refused)
 * and comes back, without stopping a server other tests share. Or it can
 * freeze: connections stay open but nothing passes either way, not even a
 * close, as on a path cut between two hosts (a half-open socket).
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;

  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(0, target);
    const port = await proxy.listen(0);
    (proxy as { port: number }).port = port;
    return proxy;
  }

  /** Drops every connection and refuses new ones until `restore`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** From now on every byte and every close is swallowed, on the connections open now and on new ones. */
  freeze(): void {
    this.frozen = true;
  }

  async restore(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  private listen(port: number): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      const forward = (from: net.Socket, to: net.Socket) => {
        from.on('data', (chunk) => {
          if (!this.frozen) to.write(chunk);
        });
        from.on('close', () => {
          if (!this.frozen) to.destroy();
        });
      };
      forward(client, upstream);
      forward(upstream, client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  }
}
