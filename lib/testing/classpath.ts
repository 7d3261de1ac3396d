import fs from 'node:fs';
import path from 'node:path';
import { ZooKeeperNotFoundError } from './testing-errors.js';

/** Where Debian's `zookeeper` package puts its jars (and the slf4j bindings it can use). */
export const DEFAULT_SEARCH_DIRS: readonly string[] = ['/usr/share/java'];

const INSTALL_HINT =
  "install Debian's package (apt-get install zookeeper) or set ZOOKEEPER_HOME to an Apache ZooKeeper distribution";

/**
 * Out of the box the Debian jars log nothing (slf4j falls back to NOP). With one of these
 * bindings on the classpath each server writes its log to stderr, which goes to its log file.
 */
const SLF4J_BINDINGS = ['slf4j-simple.jar', 'slf4j-jdk14.jar'];

/** A jar name that is the server itself, not its tests, jute or contrib pieces. */
const SERVER_JAR = /^zookeeper-\d[\w.-]*\.jar$/;
const NOT_SERVER_JAR = /tests|sources|javadoc|jute|contrib|recipes|-it-/;

/** What it takes to launch a server: the java executable and the classpath. */
export interface ZooKeeperRuntime {
  java: string;
  classpath: string;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return isFile(file);
  } catch {
    return false;
  }
}

function jarsIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.jar')).sort().map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** The java executable: `$JAVA_HOME/bin/java` when set, else the first `java` on PATH. */
export function findJava(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  if (env.JAVA_HOME) candidates.push(path.join(env.JAVA_HOME, 'bin', 'java'));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'java'));
  const java = candidates.find(isExecutable);
  if (java) return java;
  throw new ZooKeeperNotFoundError(
    `no 'java' executable in ${env.JAVA_HOME ? '$JAVA_HOME/bin or ' : ''}PATH; ZooKeeper needs a Java runtime (17 works): ` +
      `apt-get install default-jre-headless, or set JAVA_HOME`,
  );
}

/**
 * An Apache distribution: the server jar sits in the home directory (3.4) or in lib/ (3.5+),
 * next to every dependency and an slf4j binding; conf/ carries its logging configuration.
 */
function classpathFromHome(home: string): string | undefined {
  const lib = path.join(home, 'lib');
  const serverJars = [...jarsIn(home), ...jarsIn(lib)].filter((jar) => {
    const name = path.basename(jar);
    return SERVER_JAR.test(name) && !NOT_SERVER_JAR.test(name);
  });
  if (serverJars.length === 0) return undefined;
  const rootJars = jarsIn(home).filter((jar) => serverJars.includes(jar));
  const conf = path.join(home, 'conf');
  const entries = [...rootJars, ...jarsIn(lib), ...(fs.existsSync(conf) ? [conf] : [])];
  return entries.join(path.delimiter);
}

/** Debian's layout: zookeeper.jar's manifest Class-Path names its dependencies in the same directory. */
function classpathFromSystemDir(dir: string): string | undefined {
  const jar = path.join(dir, 'zookeeper.jar');
  if (!isFile(jar)) return undefined;
  const binding = SLF4J_BINDINGS.map((name) => path.join(dir, name)).find(isFile);
  return binding ? [jar, binding].join(path.delimiter) : jar;
}

/**
 * The classpath that starts a ZooKeeper server: `$ZOOKEEPER_HOME` first (its `zookeeper-*.jar`
 * and `lib/*.jar`), then `zookeeper.jar` in each of `searchDirs`. Throws ZooKeeperNotFoundError,
 * naming every place it looked, when there is no server jar or no `java` to run it.
 */
export function findZooKeeperClasspath(
  env: NodeJS.ProcessEnv = process.env,
  searchDirs: readonly string[] = DEFAULT_SEARCH_DIRS,
): string {
  findJava(env);
  const looked: string[] = [];
  const home = env.ZOOKEEPER_HOME;
  if (home) {
    const fromHome = classpathFromHome(home);
    if (fromHome) return fromHome;
    looked.push(`$ZOOKEEPER_HOME (${home}/zookeeper-*.jar, ${home}/lib/*.jar)`);
  }
  for (const dir of searchDirs) {
    const fromDir = classpathFromSystemDir(dir);
    if (fromDir) return fromDir;
    looked.push(path.join(dir, 'zookeeper.jar'));
  }
  const where = looked.length > 0 ? looked.join(', ') : 'nowhere (ZOOKEEPER_HOME unset and no search directories)';
  throw new ZooKeeperNotFoundError(`no ZooKeeper server jar found; looked in ${where}; ${INSTALL_HINT}`);
}

/**
 * Netty, which a TLS server needs (NettyServerCnxnFactory). An Apache distribution ships it in
 * lib/; Debian's zookeeper.jar names only some of it in its manifest (not netty-codec, which
 * SslHandler is built on, nor netty-resolver and the native transport's common part), so they
 * are added from Debian's libnetty-java, next to zookeeper.jar.
 */
const NETTY_JARS = ['netty-buffer', 'netty-codec', 'netty-common', 'netty-handler', 'netty-resolver', 'netty-transport', 'netty-transport-native-unix-common'];

/** `classpath` with Netty's jars; throws ZooKeeperNotFoundError naming the missing ones. */
export function withNettyJars(classpath: string): string {
  const entries = classpath.split(path.delimiter);
  if (entries.some((entry) => /(^|[/\\])netty-handler[\w.-]*\.jar$/.test(entry))) return classpath;
  const dir = path.dirname(entries[0] ?? '');
  const jars = NETTY_JARS.map((name) => path.join(dir, `${name}.jar`));
  const missing = jars.filter((jar) => !isFile(jar));
  if (missing.length > 0) {
    throw new ZooKeeperNotFoundError(
      `a TLS server (NettyServerCnxnFactory) needs Netty's jars, missing: ${missing.join(', ')}; ` +
        "install Debian's libnetty-java (apt-get install libnetty-java), or set ZOOKEEPER_HOME to an Apache ZooKeeper distribution (its lib/ has them)",
    );
  }
  return [...entries, ...jars].join(path.delimiter);
}

/** Both halves at once, for starting servers; with `tls`, Netty's jars too. */
export function findZooKeeperRuntime(
  env: NodeJS.ProcessEnv = process.env,
  searchDirs: readonly string[] = DEFAULT_SEARCH_DIRS,
  options: { tls?: boolean } = {},
): ZooKeeperRuntime {
  const classpath = findZooKeeperClasspath(env, searchDirs);
  return { java: findJava(env), classpath: options.tls ? withNettyJars(classpath) : classpath };
}
