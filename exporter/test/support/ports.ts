// Free loopback ports for the peers a test starts (sipp, Prometheus, numrep serve).
//
// A port the kernel picks with bind(0) lies in the ephemeral range (ip_local_port_range,
// 32768-60999 here): released again before the peer binds it, it can be handed to any
// outgoing connection in between as its source port, including one made by the very peers
// the test starts in parallel. CI saw it: a sipp UAC over TCP failed with "Unable to bind main
// socket, errno = 98" on a port picked that way. So the ports come from below the ephemeral
// range, which the kernel never hands out by itself, each vitest worker drawing from its own
// slice so that two workers cannot pick the same port, and no port is handed out twice in a
// process. A candidate any socket still uses (in any state, TIME_WAIT included) is passed over, and each one is
// still probed by a bind.

import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOW = 20_000;
/** Slices per worker; vitest's pool ids start at 1, and more workers than this share slices. */
const SLICES = 16;

function rangeTop(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && low > LOW + SLICES * 100) return low;
  } catch {
    // not Linux: keep below IANA's dynamic range, where other systems pick ephemeral ports
  }
  return 32_768;
}

const TOP = rangeTop();
const SLICE = Math.floor((TOP - LOW) / SLICES);
const pool = Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES;
const first = LOW + pool * SLICE;
let next = first + Math.floor(Math.random() * SLICE); // another run of the same worker starts elsewhere in its slice
const handedOut = new Set<number>();

function candidate(): number {
  for (let i = 0; i < SLICE; i++) {
    const port = next;
    next = next + 1 >= first + SLICE ? first : next + 1;
    if (!handedOut.has(port)) return port;
  }
  throw new Error(`no free test port left in ${first}-${first + SLICE - 1}`);
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.unref();
    s.once('error', () => {
      try {
        s.close();
      } catch {
        // a socket that never bound is closed already
      }
      resolve(false);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * Local ports of every socket the kernel lists, in any state (Linux; empty elsewhere). A bind probe from Node sets
 * SO_REUSEADDR, so it succeeds on a port whose last connections are in TIME_WAIT, where a peer that binds without
 * that option (sipp, for one) fails: such a port is passed over too.
 */
export function portsListed(): Set<number> {
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      const colon = local?.lastIndexOf(':') ?? -1;
      if (colon >= 0) ports.add(parseInt(local!.slice(colon + 1), 16));
    }
  }
  return ports;
}

/** A loopback port below the ephemeral range that is free for `transport` now and not handed out before in this process. */
export async function freeTestPort(transport: 'tcp' | 'udp'): Promise<number> {
  const listed = portsListed();
  for (let tries = 0; tries < 200; tries++) {
    const port = candidate();
    handedOut.add(port);
    if (listed.has(port)) continue;
    if (await (transport === 'tcp' ? tcpFree(port) : udpFree(port))) return port;
  }
  throw new Error(`no free ${transport} test port found in 200 tries from ${first}-${first + SLICE - 1}`);
}
