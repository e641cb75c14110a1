// The test-port picker: ports below the ephemeral range (never a source port the kernel
// hands out on its own), never the same one twice, and only ones that are free.
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freeTestPort, portsListed } from './ports.js';

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('freeTestPort', () => {
  it('hands out distinct ports below the ephemeral range that a peer can then bind', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freeTestPort(i % 2 ? 'udp' : 'tcp'));
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(ephemeralLow);
    }
    const servers = await Promise.all(ports.filter((_, i) => i % 2 === 0).map(listen));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  it('skips a port something else holds', async () => {
    // Hold the next 30 ports of this worker's walk (the picker goes up one by one in its slice),
    // then ask: whatever it returns must be none of them.
    const probe = await freeTestPort('tcp');
    const held: Server[] = [];
    for (let p = probe + 1; p <= probe + 30 && p < ephemeralLow; p++) held.push(await listen(p).catch(() => undefined as unknown as Server));
    const heldPorts = new Set(held.filter(Boolean).map((s) => (s.address() as { port: number }).port));
    try {
      const got = await freeTestPort('tcp');
      expect(heldPorts.has(got)).toBe(false);
      expect(heldPorts.size).toBeGreaterThan(0);
    } finally {
      await Promise.all(held.filter(Boolean).map((s) => new Promise((r) => s.close(r))));
    }
  });

  it('lists a port whose listener is gone but whose connection waits in TIME_WAIT (a peer without SO_REUSEADDR cannot bind it)', async () => {
    const port = await freeTestPort('tcp');
    const server = await listen(port);
    // The server closes first, so its side of the connection, on `port`, is the one left in TIME_WAIT.
    const accepted = new Promise<void>((resolve) => server.once('connection', (sock) => sock.end(() => resolve())));
    const client = connect(port, '127.0.0.1');
    client.on('data', () => undefined);
    const clientClosed = new Promise((r) => client.once('close', r));
    client.once('end', () => client.end());
    await accepted;
    await clientClosed;
    await new Promise((r) => server.close(r));
    expect(portsListed().has(port)).toBe(true);
  });
});
