/**
 * The native binding's wart that native-client.ts works around, beside it: the session a handle
 * we did not close may have left on the server. See docs/native-client.md.
 */

/** What burying needs of a handle attached to an old session. */
export interface BuryHandle {
  readonly closeCode: number | undefined;
  once(event: 'connected' | 'closed', listener: () => void): unknown;
  close(): void;
}

/**
 * The binding's spin guard (`response_counter_limit` above) closes a handle with -112 while the
 * server may still hold the session and our ephemeral nodes, which would then block successors
 * until the session timeout. The spin it was made for is fixed by lib/native's patch, and this
 * has not been seen since (0 in 1001 stress cycles and three 10-minute chaos runs); as the last
 * resort it stays: after any close we did not ask for, we attach a twin handle to the old
 * session and close it, so the server ends the session and deletes its nodes at once. If the
 * session had really expired, the attach is refused and nothing changes. Bounded: three attempts.
 */
export async function buryOldSession(open: (session: { id: string; password: string }) => BuryHandle, id: string, password: string): Promise<void> {
  if (!id || id === '0' || password.length !== 32) return;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    let twin: BuryHandle;
    try {
      twin = open({ id, password });
    } catch {
      return;
    }
    const { outcome, closeCode } = await closeTwin(twin, BURY_WAIT_MS);
    if (outcome !== 'closed' || closeCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt).unref());
  }
}
const BURY_WAIT_MS = 5000;

/**
 * Waits (at most `waitMs`) until a handle attached to an existing session connects (the server
 * handed the session to it) or is refused (the session is gone: `closeCode` says how), then closes
 * it: the server then ends the session, if it still had it. The one way to end a session whose
 * own handle cannot be used: burying one (above), and expiring one on purpose in tests
 * (zk-election/testing's expireSession).
 */
export async function closeTwin(twin: BuryHandle, waitMs: number): Promise<{ outcome: 'connected' | 'closed' | 'timeout'; closeCode: number | undefined }> {
  const outcome = await new Promise<'connected' | 'closed' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), waitMs);
    timer.unref();
    twin.once('connected', () => (clearTimeout(timer), resolve('connected')));
    twin.once('closed', () => (clearTimeout(timer), resolve('closed')));
  });
  const { closeCode } = twin;
  twin.close();
  return { outcome, closeCode };
}
