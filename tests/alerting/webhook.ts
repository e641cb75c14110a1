// A tiny HTTP server standing in for every Alertmanager receiver (loopback only).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Notification } from './helpers.js';

export interface WebhookSink {
  base: string;
  received: (Notification & { path: string })[];
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const received: (Notification & { path: string })[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        received.push({ ...(JSON.parse(body) as Notification), path: req.url ?? '' });
      } catch {
        /* not JSON: ignore */
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
