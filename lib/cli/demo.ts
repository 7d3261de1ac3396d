/** `zk-election demo`: placeholder until the local ensemble launcher lands (see lib/local-zookeeper). */
import { EXIT, type CliIo } from './io.js';

export const DEMO_HELP = `Usage: zk-election demo [--participants N]\n`;

export async function demoCommand(_argv: string[], io: CliIo): Promise<number> {
  io.stderr.write('zk-election: demo is not available yet\n');
  return EXIT.FAILURE;
}
