/** An ensemble's directory: configs, data, logs and certificates. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeOnExit } from './host-exit.js';

/** Where configs, data and logs live; `remove()` deletes only a directory we created. */
export interface BaseDir {
  path: string;
  remove(): Promise<void>;
}

/** A directory we create is ours to remove, on stop or at exit if stop never came; a given one is the caller's. */
export async function makeBaseDir(given: string | undefined): Promise<BaseDir> {
  if (given !== undefined) {
    await fs.mkdir(given, { recursive: true });
    return { path: given, remove: async () => {} };
  }
  const created = await fs.mkdtemp(path.join(os.tmpdir(), 'zk-election-'));
  const forget = removeOnExit(created);
  return {
    path: created,
    remove: async () => {
      await fs.rm(created, { recursive: true, force: true });
      forget();
    },
  };
}
