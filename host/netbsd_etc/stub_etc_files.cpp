// The text files of --stub-etc. Users and groups follow NetBSD's ids (daemon 1, nobody
// 32767 with group nobody 39, nogroup 32766) plus `app` (1000:1000), an unprivileged
// identity for the program itself; every password is locked ("*") and every shell is
// /sbin/nologin: nobody logs into a unikernel.
// SPDX-License-Identifier: BSD-2-Clause
#include "netbsd_etc/stub_etc_files.h"

namespace bakefs::build::stub_etc_files {

const char* const kMasterPasswd =
    "root:*:0:0::0:0:Charlie &:/:/sbin/nologin\n"
    "daemon:*:1:1::0:0:The devil himself:/:/sbin/nologin\n"
    "app:*:1000:1000::0:0:Application:/:/sbin/nologin\n"
    "nobody:*:32767:39::0:0:Unprivileged user:/nonexistent:/sbin/nologin\n";

const char* const kGroup =
    "wheel:*:0:root\n"
    "daemon:*:1:daemon\n"
    "nobody:*:39:\n"
    "app:*:1000:app\n"
    "nogroup:*:32766:\n";

const char* const kHosts =
    "# Host names known without DNS; see hosts(5).\n"
    "127.0.0.1\tlocalhost localhost.\n"
    "::1\t\tlocalhost localhost.\n";

const char* const kNsswitch =
    "# Where the C library looks things up; see nsswitch.conf(5).\n"
    "group:\t\tfiles\n"
    "hosts:\t\tfiles dns\n"
    "netgroup:\tfiles\n"
    "networks:\tfiles\n"
    "passwd:\t\tfiles\n"
    "shells:\t\tfiles\n";

const char* const kResolvConf =
    "# No name server is configured, so only /etc/hosts resolves names. To use DNS, put\n"
    "# an /etc/resolv.conf with \"nameserver ADDRESS\" lines in the image's sources.\n";

const char* const kProtocols =
    "# Internet protocol numbers; see protocols(5).\n"
    "ip\t\t0\tIP\t\t# Internet Protocol\n"
    "icmp\t\t1\tICMP\t\t# Internet Control Message\n"
    "igmp\t\t2\tIGMP\t\t# Internet Group Management\n"
    "ipencap\t\t4\tIP-ENCAP\t# IP in IP\n"
    "tcp\t\t6\tTCP\t\t# Transmission Control\n"
    "egp\t\t8\tEGP\t\t# Exterior Gateway Protocol\n"
    "udp\t\t17\tUDP\t\t# User Datagram\n"
    "ipv6\t\t41\tIPv6\t\t# IPv6 encapsulation\n"
    "ipv6-route\t43\tIPv6-Route\t# routing header for IPv6\n"
    "ipv6-frag\t44\tIPv6-Frag\t# fragment header for IPv6\n"
    "rsvp\t\t46\tRSVP\t\t# Resource Reservation Protocol\n"
    "gre\t\t47\tGRE\t\t# Generic Routing Encapsulation\n"
    "esp\t\t50\tESP\t\t# IPsec Encapsulating Security Payload\n"
    "ah\t\t51\tAH\t\t# IPsec Authentication Header\n"
    "ipv6-icmp\t58\tIPv6-ICMP\t# ICMP for IPv6\n"
    "ipv6-nonxt\t59\tIPv6-NoNxt\t# no next header for IPv6\n"
    "ipv6-opts\t60\tIPv6-Opts\t# destination options for IPv6\n"
    "ospf\t\t89\tOSPFIGP\t\t# Open Shortest Path First\n"
    "etherip\t\t97\tETHERIP\t\t# Ethernet in IP\n"
    "pim\t\t103\tPIM\t\t# Protocol Independent Multicast\n"
    "ipcomp\t\t108\tIPCOMP\t\t# IP payload compression\n"
    "vrrp\t\t112\tVRRP\t\t# Virtual Router Redundancy Protocol\n"
    "l2tp\t\t115\tL2TP\t\t# Layer Two Tunneling Protocol\n"
    "sctp\t\t132\tSCTP\t\t# Stream Control Transmission Protocol\n"
    "udplite\t\t136\tUDPLite\t\t# UDP-Lite\n";

// Common services and their IANA ports.
const char* const kServices =
    "# Network services by name; see services(5).\n"
    "echo\t\t7/tcp\n"
    "echo\t\t7/udp\n"
    "discard\t\t9/tcp\t\tsink null\n"
    "discard\t\t9/udp\t\tsink null\n"
    "daytime\t\t13/tcp\n"
    "daytime\t\t13/udp\n"
    "ftp-data\t20/tcp\n"
    "ftp\t\t21/tcp\n"
    "ssh\t\t22/tcp\n"
    "telnet\t\t23/tcp\n"
    "smtp\t\t25/tcp\t\tmail\n"
    "time\t\t37/tcp\t\ttimserver\n"
    "time\t\t37/udp\t\ttimserver\n"
    "whois\t\t43/tcp\t\tnicname\n"
    "domain\t\t53/tcp\n"
    "domain\t\t53/udp\n"
    "bootps\t\t67/udp\n"
    "bootpc\t\t68/udp\n"
    "tftp\t\t69/udp\n"
    "gopher\t\t70/tcp\n"
    "finger\t\t79/tcp\n"
    "http\t\t80/tcp\t\twww www-http\n"
    "kerberos\t88/tcp\t\tkrb5\n"
    "kerberos\t88/udp\t\tkrb5\n"
    "pop3\t\t110/tcp\t\tpop-3\n"
    "sunrpc\t\t111/tcp\t\trpcbind\n"
    "sunrpc\t\t111/udp\t\trpcbind\n"
    "auth\t\t113/tcp\t\tident\n"
    "nntp\t\t119/tcp\n"
    "ntp\t\t123/tcp\n"
    "ntp\t\t123/udp\n"
    "netbios-ns\t137/udp\n"
    "netbios-dgm\t138/udp\n"
    "netbios-ssn\t139/tcp\n"
    "imap\t\t143/tcp\t\timap2\n"
    "snmp\t\t161/udp\n"
    "snmp-trap\t162/udp\n"
    "bgp\t\t179/tcp\n"
    "ldap\t\t389/tcp\n"
    "ldap\t\t389/udp\n"
    "https\t\t443/tcp\n"
    "https\t\t443/udp\n"
    "microsoft-ds\t445/tcp\n"
    "kpasswd\t\t464/tcp\n"
    "kpasswd\t\t464/udp\n"
    "submissions\t465/tcp\t\tsmtps\n"
    "syslog\t\t514/udp\n"
    "printer\t\t515/tcp\t\tspooler\n"
    "dhcpv6-client\t546/udp\n"
    "dhcpv6-server\t547/udp\n"
    "rtsp\t\t554/tcp\n"
    "submission\t587/tcp\n"
    "ldaps\t\t636/tcp\n"
    "domain-s\t853/tcp\n"
    "rsync\t\t873/tcp\n"
    "ftps-data\t989/tcp\n"
    "ftps\t\t990/tcp\n"
    "imaps\t\t993/tcp\n"
    "pop3s\t\t995/tcp\n"
    "socks\t\t1080/tcp\n"
    "openvpn\t\t1194/tcp\n"
    "openvpn\t\t1194/udp\n"
    "ms-sql-s\t1433/tcp\n"
    "radius\t\t1812/udp\n"
    "radius-acct\t1813/udp\n"
    "mqtt\t\t1883/tcp\n"
    "nfs\t\t2049/tcp\tnfsd\n"
    "nfs\t\t2049/udp\tnfsd\n"
    "iscsi-target\t3260/tcp\n"
    "mysql\t\t3306/tcp\n"
    "sip\t\t5060/tcp\n"
    "sip\t\t5060/udp\n"
    "xmpp-client\t5222/tcp\n"
    "xmpp-server\t5269/tcp\n"
    "mdns\t\t5353/udp\n"
    "postgresql\t5432/tcp\n"
    "amqp\t\t5672/tcp\n"
    "coap\t\t5683/udp\n"
    "x11\t\t6000/tcp\n"
    "redis\t\t6379/tcp\n"
    "http-alt\t8080/tcp\twebcache\n"
    "git\t\t9418/tcp\n"
    "memcache\t11211/tcp\n"
    "memcache\t11211/udp\n";

}  // namespace bakefs::build::stub_etc_files
