// serve's live sources: the HEP collector (`--hep-listen`, config `hep.listen`) and the push CDR
// endpoints (config `push:`), set up here so serve.ts only calls in.
import type { Router } from 'express';
import type client from 'prom-client';
import type { Config } from '../config.js';
import { readerOptionsFrom, type Runtime } from '../runtime.js';
import type { LiveRuntime } from '../ingest/live.js';
import { HepCollector } from '../ingest/hep/collector.js';
import { registerHepMetrics, registerPushMetrics } from '../http/liveMetrics.js';
import { pushRouter, pushSettingsFrom, pushStats } from '../http/push.js';
import { parseListen } from './common.js';
import { fail } from './log.js';

export interface Live {
  /** /api/v1/cdr/* when `push:` configures a provider. */
  pushRoutes?: Router;
  /** Start listening (after the HTTP server is up). */
  start(registry: client.Registry): Promise<void>;
  close(): Promise<void>;
  hep?: HepCollector;
}

export function liveRuntimeOf(rt: Runtime, c: Config): LiveRuntime {
  return {
    store: rt.store,
    classifier: rt.classifier,
    bucketMs: c.bucket_seconds * 1000,
    now: Date.now,
    futureToleranceMs: c.future_tolerance_seconds * 1000,
    committed: (batch, src) => rt.liveCommitted(batch, src),
  };
}

export function setupLive(c: Config, rt: Runtime, hepListen: string | undefined, log: (m: string) => void): Live {
  const live = liveRuntimeOf(rt, c);
  const listen = hepListen ?? c.hep.listen;
  let hep: HepCollector | undefined;
  const push = pushSettingsFrom(c, fail);
  const l: Live = {
    pushRoutes: push ? pushRouter(push, live, readerOptionsFrom(c), log) : undefined,
    async start(registry) {
      if (l.pushRoutes) {
        registerPushMetrics(registry, pushStats);
        log(`push CDRs: POST /api/v1/cdr/{${Object.keys(push ?? {}).join(',')}}`);
      }
      if (!listen) return;
      const { host, port } = parseListen(listen);
      hep = new HepCollector({ host, port, authKey: c.hep.auth_key, live, readerOptions: readerOptionsFrom(c), log });
      try {
        await hep.start();
      } catch (err) {
        fail(`cannot listen for HEP on ${listen} (UDP and TCP): ${(err as Error).message}`);
      }
      l.hep = hep;
      registerHepMetrics(registry, hep);
      log(`HEP collector on ${host}:${hep.port} (UDP and TCP)${c.hep.auth_key ? ', auth key required' : ''}; ${hep.openDialogs} dialog(s) resumed`);
    },
    async close() {
      await hep?.close();
    },
  };
  return l;
}
