import { AbortedError, TimeoutError } from '../errors.js';

/** The reason to reject with when `signal` aborted: our typed error, keeping the caller's reason as cause. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortedError || reason instanceof TimeoutError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new TimeoutError(reason.message);
  return new AbortedError(reason instanceof Error ? reason.message : 'the operation was aborted', { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Resolves when `signal` aborts (with nothing), and lets the caller detach the listener:
 * a waiter that outlives its purpose must not keep a closure alive on a long-lived signal.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    queueMicrotask(listener);
    return () => {};
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** A delay that rejects with the abort reason as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      detach();
      resolve();
    }, ms);
    const detach = signal ? onAbort(signal, () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    }) : () => {};
  });
}

/**
 * Waits for `promise`, or rejects with the abort reason as soon as `signal` aborts. The promise
 * itself goes on (it is shared with others); only this caller stops waiting for it.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const detach = onAbort(signal, () => reject(abortReason(signal)));
    promise.then(
      (value) => (detach(), resolve(value)),
      (error: unknown) => (detach(), reject(error)),
    );
  });
}

/**
 * Combines optional signals and an optional timeout (ms) into one signal. `dispose()` clears the
 * timeout once the caller is done with it, so a finished wait does not leave a timer behind.
 */
export function combineSignals(signals: Array<AbortSignal | undefined>, timeoutMs?: number, timeoutMessage?: string): { signal: AbortSignal; dispose: () => void } {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  let timer: NodeJS.Timeout | undefined;
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
    const controller = new AbortController();
    // Ref'd: a caller awaits this deadline (electLeader's `timeout`); dispose() clears it.
    timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMessage ?? `timed out after ${timeoutMs} ms`)), timeoutMs);
    list.push(controller.signal);
  }
  const signal = list.length === 1 ? list[0]! : AbortSignal.any(list);
  return { signal, dispose: () => clearTimeout(timer) };
}

/** One signal for "the caller gave up or the session closed"; dispose() detaches it. */
export function anySignal(a: AbortSignal | undefined, b: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  if (!a) return { signal: b, dispose: () => {} };
  const controller = new AbortController();
  const onA = (): void => controller.abort(a.reason);
  const onB = (): void => controller.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}
