/** The facts the table's header states: ZooKeeper's settings, node, the machine. */
import os from 'node:os';
import type { LocalServer } from '../lib/testing/index.js';

export interface Machine {
  zookeeper: string;
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  maxClientCnxns: string;
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  loadAverage: number[];
}

function field(text: string, pattern: RegExp): string {
  return pattern.exec(text)?.[1]?.trim() ?? 'unknown';
}

export async function describeMachine(server: LocalServer): Promise<Machine> {
  const srvr = await server.fourLetter('srvr');
  const conf = await server.fourLetter('conf');
  return {
    zookeeper: field(srvr, /^Zookeeper version: ([^,\n]+)/m).replace('-${mvngit.commit.id}', ''),
    tickTime: Number(field(conf, /^tickTime=(\d+)/m)),
    minSessionTimeout: Number(field(conf, /^minSessionTimeout=(\d+)/m)),
    maxSessionTimeout: Number(field(conf, /^maxSessionTimeout=(\d+)/m)),
    maxClientCnxns: field(conf, /^maxClientCnxns=(\d+)/m),
    node: process.version,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

export function headerLines(machine: Machine, mode: string, command: string): string[] {
  return [
    `zk-election bench (${mode}): ${command}`,
    `ZooKeeper ${machine.zookeeper}, standalone on loopback, tickTime ${machine.tickTime} ms, session timeouts ${machine.minSessionTimeout}-${machine.maxSessionTimeout} ms, maxClientCnxns ${machine.maxClientCnxns}`,
    `node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, load average at start ${machine.loadAverage.join(' ')}`,
  ];
}
