/*
 * zk-election: the ZooKeeper C client's config.h, in place of the one its ./configure writes.
 * zk-election compiles the C client with node-gyp (lib/native/binding.gyp), without autotools, for
 * the POSIX systems it supports (Linux, macOS), where all of these hold. TLS (HAVE_OPENSSL_H) and
 * close-on-exec sockets (SOCK_CLOEXEC_ENABLED, Linux) are set in binding.gyp.
 */
#ifndef ZK_ELECTION_CONFIG_H
#define ZK_ELECTION_CONFIG_H

#define HAVE_ARPA_INET_H 1
#define HAVE_GETCWD 1
#define HAVE_GETHOSTNAME 1
#define HAVE_GETLOGIN 1
#define HAVE_GETPWUID_R 1
#define HAVE_GETUID 1
#define HAVE_NETDB_H 1
#define HAVE_NETINET_IN_H 1
#define HAVE_POLL 1
#define HAVE_SYS_SOCKET_H 1
#define HAVE_SYS_TIME_H 1
#define HAVE_SYS_UTSNAME_H 1
#define HAVE_UNISTD_H 1
#define POLL_NFDS_TYPE nfds_t

#define PACKAGE_STRING "zookeeper C client 3.8.2"

#endif
