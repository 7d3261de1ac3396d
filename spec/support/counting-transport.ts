/**
 * Counting requests without counters in the library: a Transport that wraps the real one (the
 * native client by default) and counts every request a Session's handles send. Tests and the
 * bench use it to say "exactly one candidate did any work" or "four requests per candidate".
 */
import type { Transport, ZkHandle } from 'zk-election';
import { nativeTransport } from '../../lib/zk/native-client.js';

export interface RequestCounts {
  total: number;
  byOperation: Record<string, number>;
}

const REQUESTS = new Set(['create', 'multi', 'getAcl', 'get', 'exists', 'getChildren', 'delete', 'setData', 'sync', 'setAcl', 'addAuth']);

export function newCounts(): RequestCounts {
  return { total: 0, byOperation: {} };
}

/** A Transport whose handles count their requests into `counts`. */
export function countingTransport(counts: RequestCounts, inner: Transport = nativeTransport): Transport {
  return interceptingTransport((operation) => {
    counts.total += 1;
    counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
  }, inner);
}

/**
 * A Transport whose handles call `onRequest` with each request's operation and arguments just
 * before it is sent; `onRequest` may replace arguments in place (wrap a watcher, say).
 */
export function interceptingTransport(onRequest: (operation: string, args: unknown[]) => void, inner: Transport = nativeTransport): Transport {
  return (options) => {
    const handle = inner(options);
    return new Proxy(handle, {
      get(target, property) {
        // Getters and methods run on the real handle (its private fields live there).
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (typeof property === 'string' && REQUESTS.has(property)) {
          return (...args: unknown[]) => {
            onRequest(property, args);
            return method.apply(target, args);
          };
        }
        return method.bind(target);
      },
    }) as ZkHandle;
  };
}
