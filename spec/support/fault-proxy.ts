import net from 'node:net';
import type { LocalEnsemble } from 'zk-election/testing';
import { CREATE_TYPES, FrameReader, readRequest, replyXid } from './zk-frames.js';

/**
 * A loopback TCP proxy between a client and one ZooKeeper server, to inject network faults:
 * cut live connections, partition them (blackhole) and heal, or refuse new ones. The same
 * idea as the proxy in microsoft/etcd3's tests.
 */
export interface FaultProxy {
  readonly port: number;
  /** `127.0.0.1:port` */
  readonly address: string;
  /** Open client connections. */
  readonly connections: number;
  /** Bytes passed on, both directions, since the proxy started. */
  readonly bytesForwarded: number;
  /** Destroys every open connection; new ones are still accepted. */
  cut(): void;
  /** Keeps connections open and accepts new ones but passes nothing on, in either direction: a partition. */
  blackhole(): void;
  /** Forwards again and accepts again. Bytes that arrived during a blackhole are dropped, never delivered late. */
  restore(): void;
  /** Closes each new connection as soon as it is accepted; open ones are left alone. */
  reject(): void;
  /**
   * Lets the next create request through, and when the server's reply to it comes back, drops the
   * reply and cuts the connection instead: the server made the node, the client never hears of it.
   * With `thenReject`, new connections are refused afterwards until restore(). Resolves with the
   * path the client asked for (for a sequential node: the prefix) once the reply was dropped.
   */
  loseCreateReply(options?: { thenReject?: boolean }): Promise<{ requestedPath: string }>;
  close(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';

/** One client connection and its connection to the target. */
interface Link {
  client: net.Socket;
  upstream: net.Socket;
  /** One side went away during a blackhole; the other learns of it on restore(). */
  brokenWhileBlackholed: boolean;
  /** Frame readers, fed only while a lost reply is armed or pending. */
  fromClient: FrameReader;
  fromServer: FrameReader;
}

interface LostReplyPlan {
  thenReject: boolean;
  /** Set once the create went through: the link and xid whose reply to drop. */
  target: { link: Link; xid: number; path: string } | undefined;
  done(result: { requestedPath: string }): void;
}

class TcpFaultProxy implements FaultProxy {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly links = new Set<Link>();
  private forwarding = true;
  private rejecting = false;
  private forwarded = 0;
  private lostReply: LostReplyPlan | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get address(): string {
    return `${LOOPBACK}:${this.port}`;
  }

  get connections(): number {
    return this.links.size;
  }

  get bytesForwarded(): number {
    return this.forwarded;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, LOOPBACK, () => resolve());
    });
  }

  private accept(client: net.Socket): void {
    if (this.rejecting) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: this.target.host, port: this.target.port });
    const link: Link = { client, upstream, brokenWhileBlackholed: false, fromClient: new FrameReader(), fromServer: new FrameReader() };
    this.links.add(link);
    this.relay(link, client, upstream, 'up');
    this.relay(link, upstream, client, 'down');
  }

  /** Passes `from`'s bytes to `to` while forwarding, with backpressure; drops them during a blackhole. */
  private relay(link: Link, from: net.Socket, to: net.Socket, direction: 'up' | 'down'): void {
    from.on('data', (chunk: Buffer) => {
      if (!this.forwarding) return;
      // Every link's frames are read from its first byte, so that an armed plan sees whole frames.
      if (this.inspect(link, chunk, direction) === 'cut') return;
      this.forwarded += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    // Errors end the link through 'close'; without a listener they would crash the test run.
    from.on('error', () => {});
    from.on('close', () => {
      if (this.forwarding) this.teardown(link);
      else link.brokenWhileBlackholed = true;
    });
  }

  private teardown(link: Link): void {
    link.client.destroy();
    link.upstream.destroy();
    this.links.delete(link);
  }

  cut(): void {
    for (const link of this.links) this.teardown(link);
  }

  blackhole(): void {
    this.forwarding = false;
  }

  restore(): void {
    this.forwarding = true;
    this.rejecting = false;
    // A close that happened during the partition reaches the other side now, as a reset would.
    for (const link of this.links) if (link.brokenWhileBlackholed) this.teardown(link);
  }

  reject(): void {
    this.rejecting = true;
  }

  loseCreateReply(options: { thenReject?: boolean } = {}): Promise<{ requestedPath: string }> {
    return new Promise((resolve) => {
      this.lostReply = { thenReject: options.thenReject ?? false, target: undefined, done: resolve };
    });
  }

  /**
   * Follows the frames of a link; 'cut' when this chunk carries the reply a plan drops (the link
   * is torn down instead of forwarding it). A chunk is forwarded whole otherwise.
   */
  private inspect(link: Link, chunk: Buffer, direction: 'up' | 'down'): 'forward' | 'cut' {
    const plan = this.lostReply;
    const reader = direction === 'up' ? link.fromClient : link.fromServer;
    const frames = reader.push(chunk);
    if (!plan) return 'forward';
    for (const { frame, handshake } of frames) {
      if (handshake) continue;
      if (direction === 'up' && !plan.target) {
        const request = readRequest(frame);
        if (CREATE_TYPES.has(request.type) && request.path) plan.target = { link, xid: request.xid, path: request.path };
      } else if (direction === 'down' && plan.target?.link === link && replyXid(frame) === plan.target.xid) {
        this.lostReply = undefined;
        if (plan.thenReject) this.rejecting = true;
        this.teardown(link);
        plan.done({ requestedPath: plan.target.path });
        return 'cut';
      }
    }
    return 'forward';
  }

  async close(): Promise<void> {
    this.rejecting = true;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A proxy to `target` on a free 127.0.0.1 port. */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const proxy = new TcpFaultProxy(target);
  await proxy.listen();
  return proxy;
}

export interface EnsembleProxies {
  /** Reaches every server through its proxy. */
  readonly connectString: string;
  /** One per server, in the order of `ensemble.servers`. */
  readonly proxies: readonly FaultProxy[];
  cutAll(): void;
  blackholeAll(): void;
  restoreAll(): void;
  close(): Promise<void>;
}

/** One fault proxy in front of each server of `ensemble`. */
export async function startEnsembleProxies(ensemble: Pick<LocalEnsemble, 'servers'>): Promise<EnsembleProxies> {
  const proxies = await Promise.all(
    ensemble.servers.map((server) => startFaultProxy({ host: LOOPBACK, port: server.clientPort })),
  );
  return {
    connectString: proxies.map((proxy) => proxy.address).join(','),
    proxies,
    cutAll: () => proxies.forEach((proxy) => proxy.cut()),
    blackholeAll: () => proxies.forEach((proxy) => proxy.blackhole()),
    restoreAll: () => proxies.forEach((proxy) => proxy.restore()),
    close: async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    },
  };
}
