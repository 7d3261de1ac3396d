# zk-election's native client: the `zookeeper` binding's addon (src/node-zk.cpp) and the ZooKeeper
# C client it wraps, compiled together by node-gyp from the sources lib/native/build.mjs copies and
# patches into native-build/ (this file is copied there as binding.gyp). It replaces the binding's
# own binding.gyp and its `./configure && make` of the C client: no autotools, nothing built in
# another package's directory, and TLS always (HAVE_OPENSSL_H) with the OpenSSL headers Node.js
# ships for addons (<node>/include/node/openssl); the OpenSSL symbols come from the node binary.
{
  'targets': [
    {
      'target_name': 'zookeeper',
      'sources': [
        'src/node-zk.cpp',
        'deps/zookeeper-client-c/src/zookeeper.c',
        'deps/zookeeper-client-c/src/recordio.c',
        'deps/zookeeper-client-c/src/zk_log.c',
        'deps/zookeeper-client-c/src/zk_hashtable.c',
        'deps/zookeeper-client-c/src/addrvec.c',
        'deps/zookeeper-client-c/src/st_adaptor.c',
        'deps/zookeeper-client-c/src/hashtable/hashtable.c',
        'deps/zookeeper-client-c/src/hashtable/hashtable_itr.c',
        'deps/zookeeper-client-c/generated/zookeeper.jute.c',
      ],
      'include_dirs': [
        'config',
        'deps/zookeeper-client-c/include',
        'deps/zookeeper-client-c/generated',
        "<!(node -e \"require('nan')\")",
      ],
      # The single-threaded C client (the binding drives it from the event loop), with TLS.
      'defines': ['HAVE_OPENSSL_H', 'USE_STATIC_LIB'],
      # Third-party code: its warnings are upstream's.
      'cflags': ['-w'],
      'conditions': [
        # Sockets that child processes do not inherit (./configure --with-sock-cloexec).
        ['OS=="linux"', { 'defines': ['SOCK_CLOEXEC_ENABLED'] }],
        ['OS=="mac"', { 'xcode_settings': { 'OTHER_CFLAGS': ['-w'] } }],
      ],
    },
  ],
}
