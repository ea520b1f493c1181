/**
 * Which IP addresses the server refuses to connect to when it fetches a URL on a user's behalf
 * (SSRF defence). Everything that is not plainly public unicast is refused: loopback, private
 * networks, link-local, cloud metadata endpoints, multicast, reserved and documentation blocks.
 * IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible, SIIT, NAT64, 6to4, Teredo)
 * are judged by the IPv4 address they carry.
 */
import { isIPv4, isIPv6 } from 'node:net';

import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

interface Rule<T> {
  readonly range: [T, number];
  readonly reason: string;
}

function v4Rules(table: ReadonlyArray<readonly [string, string]>): Rule<IPv4>[] {
  return table.map(([cidr, reason]) => ({ range: ipaddr.IPv4.parseCIDR(cidr), reason }));
}

function v6Rules(table: ReadonlyArray<readonly [string, string]>): Rule<IPv6>[] {
  return table.map(([cidr, reason]) => ({ range: ipaddr.IPv6.parseCIDR(cidr), reason }));
}

/** First match wins, so more specific blocks come before the blocks that contain them. */
const IPV4_RULES = v4Rules([
  ['0.0.0.0/32', 'unspecified'],
  ['0.0.0.0/8', 'reserved'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['100.100.100.200/32', 'cloud metadata'], // Alibaba Cloud (inside 100.64/10 anyway)
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['168.63.129.16/32', 'cloud metadata'], // Azure wire server
  ['169.254.169.254/32', 'cloud metadata'], // AWS, GCP, Azure, OCI, DigitalOcean...
  ['169.254.170.2/32', 'cloud metadata'], // AWS ECS task metadata
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
]);

const IPV6_RULES = v6Rules([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'], // local-use NAT64 (RFC 8215)
  ['100::/64', 'reserved'], // discard-only
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'reserved'], // ORCHID (deprecated)
  ['2001:20::/28', 'reserved'], // ORCHIDv2
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'reserved'], // segment routing SIDs
  ['fd00:ec2::254/128', 'cloud metadata'], // AWS IMDS over IPv6
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
]);

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const MAPPED_V6 = ipaddr.IPv6.parseCIDR('::ffff:0:0/96');
const COMPAT_V6 = ipaddr.IPv6.parseCIDR('::/96');
const SIIT_V6 = ipaddr.IPv6.parseCIDR('::ffff:0:0:0/96');
const NAT64_V6 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR_V6 = ipaddr.IPv6.parseCIDR('2002::/16');
const TEREDO_V6 = ipaddr.IPv6.parseCIDR('2001::/32');

function v4FromWords(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([(high >> 8) & 0xff, high & 0xff, (low >> 8) & 0xff, low & 0xff]);
}

function checkV4(addr: IPv4): string | undefined {
  for (const rule of IPV4_RULES) if (addr.match(rule.range)) return rule.reason;
  return undefined;
}

function checkV6(addr: IPv6): string | undefined {
  const p = addr.parts as [number, number, number, number, number, number, number, number];
  // Forms that carry an IPv4 address: the IPv4 address decides.
  if (addr.match(MAPPED_V6) || addr.match(SIIT_V6) || addr.match(NAT64_V6)) {
    return checkV4(v4FromWords(p[6], p[7]));
  }
  if (addr.match(SIX_TO_FOUR_V6)) return checkV4(v4FromWords(p[1], p[2]));
  if (addr.match(TEREDO_V6)) {
    // The client's public IPv4 address is stored bit-inverted in the last 32 bits.
    return checkV4(v4FromWords(~p[6] & 0xffff, ~p[7] & 0xffff));
  }
  for (const rule of IPV6_RULES) if (addr.match(rule.range)) return rule.reason;
  // Deprecated IPv4-compatible form (::a.b.c.d): refuse, naming the embedded address's reason if any.
  if (addr.match(COMPAT_V6)) return checkV4(v4FromWords(p[6], p[7])) ?? 'reserved';
  // Everything outside 2000::/3 is unallocated or special-purpose.
  if (!addr.match(GLOBAL_UNICAST_V6)) return 'reserved';
  return undefined;
}

/**
 * Returns why the server must not connect to `ip` ('loopback', 'private', 'link-local',
 * 'cloud metadata', 'unspecified', 'multicast', 'broadcast', 'reserved', 'carrier-grade NAT',
 * 'unique local', 'documentation', 'benchmarking', 'invalid address'), or undefined when the address
 * is public. IPv6 zone ids (fe80::1%eth0) and brackets ([::1]) are accepted.
 */
export function isForbiddenAddress(ip: string): string | undefined {
  let text = ip.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  try {
    if (text.includes(':')) {
      text = text.replace(/%.*$/, ''); // zone id: irrelevant to the policy
      if (!isIPv6(text)) return 'invalid address';
      return checkV6(ipaddr.IPv6.parse(dottedTailToHex(text)));
    }
    if (!isIPv4(text)) return 'invalid address'; // four-part decimal only: no 127.1 or 0x7f.1 guessing
    return checkV4(ipaddr.IPv4.parse(text));
  } catch {
    return 'invalid address';
  }
}

/**
 * Rewrites a trailing dotted IPv4 part of an IPv6 address as two hex groups (::1.2.3.4 ->
 * ::102:304). ipaddr.js reads "::a.b.c.d" as IPv4-mapped (::ffff:a.b.c.d), which is a different
 * address; doing the conversion here keeps the policy exact.
 */
function dottedTailToHex(text: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!match) return text;
  const [a, b, c, d] = match.slice(2).map(Number) as [number, number, number, number];
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** "a loopback address", "an unspecified address": the reason with its article. */
export function describeReason(reason: string): string {
  const article = /^[aeio]/i.test(reason) || /^un(?!i)/i.test(reason) ? 'an' : 'a';
  return `${article} ${reason} address`;
}
