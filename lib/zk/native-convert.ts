/**
 * What native-client.ts sends the addon and reads back, as pure functions: ZkHandle's watchers,
 * ACLs, multi ops and TLS settings in the shapes the addon (and the C client under it) take.
 */
import { InvalidArgumentError } from '../errors.js';
import { OPEN_ACL, type Acl, type MultiOp, type MultiResult, type Stat, type TlsOptions, type Watcher, type WatchEventType } from './handle.js';
import type { NativeAcl, NativeMultiOp, NativeMultiResult, NativeWatcher } from './native-binding.js';

const EVENT_TYPES: Readonly<Record<number, WatchEventType>> = { 1: 'created', 2: 'deleted', 3: 'changed', 4: 'child' };
const SESSION_EVENT = -1;

/** Watch callbacks also receive session events (type -1) on every state change: those are not node events. */
export function wrapWatcher(watcher: Watcher): NativeWatcher {
  return (type, _state, path) => {
    if (type === SESSION_EVENT) return;
    const kind = EVENT_TYPES[type];
    if (kind) watcher({ type: kind, path });
  };
}

export function nativeAcl(acl: readonly Acl[]): NativeAcl[] {
  return acl.map(({ scheme, auth, perms }) => ({ scheme, auth, perm: perms }));
}

export function nativeMultiOp(op: MultiOp): NativeMultiOp {
  switch (op.type) {
    case 'create':
      return { type: 'create', path: op.path, data: op.data, flags: op.mode, acl: nativeAcl(op.acl ?? OPEN_ACL) };
    case 'set':
      return { type: 'set', path: op.path, data: op.data, version: op.version ?? -1 };
    default:
      return { type: op.type, path: op.path, version: op.version ?? -1 };
  }
}

export function multiResult(op: MultiOp, result: NativeMultiResult): MultiResult {
  if (op.type === 'create') return { type: 'create', path: result.path ?? op.path };
  if (op.type === 'set') return { type: 'set', stat: result.stat as Stat };
  return { type: op.type };
}

/**
 * The C client's TLS settings: `ca[,cert,key[,passphrase]]`, which it splits at commas (so none may
 * hold one) and reads as positions (so a passphrase needs the key, and the key the certificate).
 */
export function tlsSettings({ ca, cert, key, passphrase }: TlsOptions): string {
  const given = { ca, cert, key, passphrase };
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`tls.${name} must be a non-empty string`);
    if (value.includes(',')) throw new InvalidArgumentError(`tls.${name} must not contain a comma (the C client splits its TLS settings at commas)`);
  }
  if (ca === undefined) throw new InvalidArgumentError('tls.ca is required: the CA file the servers\' certificates must chain to');
  if ((cert === undefined) !== (key === undefined)) throw new InvalidArgumentError('tls.cert and tls.key go together (a client certificate and its private key)');
  if (passphrase !== undefined && key === undefined) throw new InvalidArgumentError('tls.passphrase is for an encrypted tls.key: give tls.cert and tls.key too');
  return [ca, cert, key, passphrase].filter((part) => part !== undefined).join(',');
}
