// The exporter's metrics about its live sources (docs/metrics.md#live-sources): the HEP collector's
// packets, bytes, malformed packets and open dialogs, and the pushed CDRs by provider and answer.
import client from 'prom-client';
import type { HepCollector } from '../ingest/hep/collector.js';
import { HEP_MALFORMED } from '../ingest/hep/hep.js';

export function registerHepMetrics(registry: client.Registry, hep: HepCollector): void {
  const split = (k: string) => k.split('\u0000');
  new client.Counter({
    name: 'numrep_hep_packets_total', help: 'HEP packets received, by capture agent id (chunk 0x0c) and transport; malformed ones under agent "unknown".',
    labelNames: ['agent', 'transport'], registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of hep.stats.packets) {
        const [agent, transport] = split(k);
        this.inc({ agent, transport }, v);
      }
    },
  });
  new client.Counter({
    name: 'numrep_hep_bytes_total', help: 'Bytes of HEP packets received, by capture agent id and transport.',
    labelNames: ['agent', 'transport'], registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of hep.stats.bytes) {
        const [agent, transport] = split(k);
        this.inc({ agent, transport }, v);
      }
    },
  });
  new client.Counter({
    name: 'numrep_hep_packets_malformed_total', help: 'HEP packets refused, by reason (docs/formats.md#hep): counted, never fatal.',
    labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      for (const r of HEP_MALFORMED) this.inc({ reason: r }, hep.stats.malformed.get(r) ?? 0);
    },
  });
  new client.Counter({
    name: 'numrep_hep_packets_ignored_total', help: 'Well-formed HEP packets of a protocol type numrep does not read (RTCP, logs, …), by type.',
    labelNames: ['type'], registers: [registry],
    collect() {
      this.reset();
      for (const [type, v] of hep.stats.ignored) this.inc({ type }, v);
    },
  });
  new client.Counter({
    name: 'numrep_hep_sip_messages_total', help: 'SIP messages from HEP packets fed to the dialog tracker.', registers: [registry],
    collect() {
      this.reset();
      this.inc(hep.stats.sipMessages);
    },
  });
  new client.Gauge({
    name: 'numrep_hep_dialogs_open', help: 'SIP dialogs the HEP collector is following (INVITE seen, no final answer or BYE yet).', registers: [registry],
    collect() {
      this.set(hep.openDialogs);
    },
  });
  new client.Counter({
    name: 'numrep_hep_udp_drops_total',
    help: 'HEP datagrams dropped unread: by the kernel on the UDP socket (receive buffer full, from /proc/net/udp; Linux) and by the receive thread (more than 64 MiB waiting for the main thread).',
    registers: [registry],
    collect() {
      this.reset();
      hep.pollDrops();
      if (hep.stats.udpDrops !== null) this.inc(hep.stats.udpDrops);
    },
  });
  new client.Gauge({
    name: 'numrep_hep_udp_receive_buffer_bytes', help: 'Receive buffer the kernel granted the HEP UDP socket (capped by net.core.rmem_max).', registers: [registry],
    collect() {
      this.set(hep.stats.udpRecvBuffer);
    },
  });
  new client.Gauge({
    name: 'numrep_hep_tcp_connections', help: 'HEP senders connected over TCP.', registers: [registry],
    collect() {
      this.set(hep.tcpConnections);
    },
  });
}

/** numrep_push_requests_total{provider,status}: pushed CDR requests by how they were answered. */
export function registerPushMetrics(registry: client.Registry, stats: Map<string, number>): void {
  new client.Counter({
    name: 'numrep_push_requests_total', help: 'POST /api/v1/cdr/<provider> requests by answer: 200 stored, 401/403 refused (credentials, signature), 422 stored as rejected, 503 not stored.',
    labelNames: ['provider', 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const [k, v] of stats) {
        const [provider, status] = k.split('\u0000');
        this.inc({ provider, status }, v);
      }
    },
  });
}
