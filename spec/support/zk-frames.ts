/**
 * Just enough of ZooKeeper's wire protocol for the fault proxy to act on one request: frames are
 * a 4-byte big-endian length and a body; a connection opens with ConnectRequest/ConnectResponse
 * (no header), then each request starts with {xid, type} and each reply with {xid, zxid, err}.
 * A create's body starts with its path (a 4-byte length and UTF-8 bytes).
 */

/** Request types that create a node: create, create2, createContainer, createTTL. */
export const CREATE_TYPES = new Set([1, 15, 19, 21]);

/** Splits a byte stream into frames; the first frame of a connection is the handshake. */
export class FrameReader {
  #buffer = Buffer.alloc(0);
  #handshakeSeen = false;

  /** Feeds bytes; returns the complete frames they finish, each with whether it was the handshake. */
  push(chunk: Buffer): Array<{ frame: Buffer; handshake: boolean }> {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const frames: Array<{ frame: Buffer; handshake: boolean }> = [];
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readInt32BE(0);
      if (this.#buffer.length < 4 + length) break;
      const frame = this.#buffer.subarray(0, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      frames.push({ frame, handshake: !this.#handshakeSeen });
      this.#handshakeSeen = true;
    }
    return frames;
  }
}

export interface RequestInfo {
  xid: number;
  type: number;
  /** The node path, for requests whose body starts with one (create, delete, getData, ...). */
  path: string | undefined;
}

export function readRequest(frame: Buffer): RequestInfo {
  const xid = frame.readInt32BE(4);
  const type = frame.readInt32BE(8);
  let path: string | undefined;
  if (frame.length >= 16) {
    const length = frame.readInt32BE(12);
    if (length > 0 && 16 + length <= frame.length) path = frame.subarray(16, 16 + length).toString('utf8');
  }
  return { xid, type, path };
}

/** The xid a reply answers (-1: a watch event, -2: a ping). */
export function replyXid(frame: Buffer): number {
  return frame.readInt32BE(4);
}
