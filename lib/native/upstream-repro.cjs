// node-zookeeper 7.3.0: the process dies when the C client closes its socket inside an a_* call
// and the next socket (here another handle's) gets the same descriptor number.
// Usage (Linux; it reads /proc/self/fd): node upstream-repro.cjs <host:port of a running ZooKeeper server>
// Unpatched: SIGSEGV in uv_poll_start (poll.c:128), or SIGABRT with
// "uv_poll_start: Assertion `!uv__is_closing(handle)' failed" (poll.c:126).
const fs = require('fs');
const net = require('net');
const ZooKeeper = require('zookeeper');

const [host, port] = process.argv[2].split(':');
const describeFd = (fd) => { try { return fs.readlinkSync(`/proc/self/fd/${fd}`); } catch { return undefined; } };
const pause = new Int32Array(new SharedArrayBuffer(4));

// A proxy in this process, so that A's connection can be reset synchronously.
const accepted = [];
const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(port), host);
  for (const [from, to] of [[client, upstream], [upstream, client]]) {
    from.on('error', () => {});
    from.on('close', () => to.destroy());
    from.pipe(to);
  }
  accepted.push(client);
});

proxy.listen(0, '127.0.0.1', () => {
  // Take every free number below the highest open descriptor: A's socket gets the lowest free one.
  const highest = Math.max(...fs.readdirSync('/proc/self/fd').map(Number));
  let fd = fs.openSync('/dev/null', 'r');
  while (fd <= highest) fd = fs.openSync('/dev/null', 'r');
  fs.closeSync(fd);
  const number = fd;

  const a = new ZooKeeper({ connect: `127.0.0.1:${proxy.address().port}`, timeout: 6000 });
  a.once('connect', () => {
    const socketOfA = describeFd(number);
    console.log(`A connected; its socket is descriptor ${number} (${socketOfA})`);
    // 1. A's connection is reset (RST).
    accepted[0].resetAndDestroy();
    // 2. A sends a request: send() fails and the C client closes its socket inside zoo_aexists
    //    (nonblocking_send). The binding is not told: its uv_poll_t stays registered on the number.
    for (let i = 0; i < 200 && describeFd(number) === socketOfA; i += 1) {
      a.a_exists('/', false, () => {});
      if (describeFd(number) === socketOfA) Atomics.wait(pause, 0, 0, 5);
    }
    if (describeFd(number) !== undefined) throw new Error('the C client did not close its socket; try again');
    console.log(`A's C client closed descriptor ${number}; creating B`);
    // 3. B's socket gets the same number: uv_poll_init returns UV_EEXIST, unchecked, and
    //    uv_poll_start runs on an uninitialised uv_poll_t.
    const b = new ZooKeeper({ connect: process.argv[2], timeout: 6000 });
    b.once('connect', () => {
      console.log('B connected: not reproduced (is the binding patched?)');
      process.exit(0);
    });
    b.connect({}, () => {});
    console.log(`B's socket is descriptor ${number} (${describeFd(number)})`);
  });
  a.connect({}, () => {});
});
