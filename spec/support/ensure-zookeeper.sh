#!/usr/bin/env bash
# Makes sure a ZooKeeper server jar is on this machine, installing Debian's package when it is missing.
# The test suite and the demo start real servers from these jars; without them they must fail, loudly,
# rather than skip. Prints where the jars are.
set -euo pipefail

find_jar() {
  local dir
  for dir in "${ZOOKEEPER_HOME:-}" "${ZOOKEEPER_HOME:-}/lib" /usr/share/java /usr/share/zookeeper /usr/share/zookeeper/lib; do
    [ -n "$dir" ] || continue
    if [ -f "$dir/zookeeper.jar" ]; then echo "$dir/zookeeper.jar"; return 0; fi
    local found
    found=$(ls "$dir"/zookeeper-3.*.jar 2>/dev/null | grep -v -E 'jute|tests|contrib|recipes|it-' | head -n 1 || true)
    if [ -n "$found" ]; then echo "$found"; return 0; fi
  done
  return 1
}

if jar=$(find_jar); then
  echo "zookeeper server jar: $jar"
  exit 0
fi

if ! command -v java >/dev/null 2>&1; then
  echo "ensure-zookeeper: no 'java' on PATH; ZooKeeper needs a Java runtime (17 works)" >&2
fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "ensure-zookeeper: no ZooKeeper jar found; installing Debian's 'zookeeper' package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq zookeeper >&2
elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
  echo "ensure-zookeeper: no ZooKeeper jar found; installing Debian's 'zookeeper' package with sudo" >&2
  sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >&2
fi

if jar=$(find_jar); then
  echo "zookeeper server jar: $jar"
  exit 0
fi
echo "ensure-zookeeper: FAILED: no ZooKeeper server jar in \$ZOOKEEPER_HOME or /usr/share/java, and it could not be installed." >&2
echo "ensure-zookeeper: install Debian's 'zookeeper' package or set ZOOKEEPER_HOME to an Apache ZooKeeper distribution." >&2
exit 1
