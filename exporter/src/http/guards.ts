// Guards against web pages in an operator's browser: DNS rebinding (the Host header) and cross-site requests
// (CSRF). numrep's one page (the landing page at /) has no forms or scripts, so nothing legitimate comes from a
// browser on another origin. And the start-up warning for a port open to the network without any auth.

import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `name` and port of a Host header (port 80 when it has none), lower-cased; null when it is not one. */
function splitHost(host: string): { name: string; port: number } | null {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(host);
  return m ? { name: m[1].toLowerCase(), port: m[2] === undefined ? 80 : Number(m[2]) } : null;
}

/**
 * DNS rebinding: a page whose name the attacker points at this machine reaches numrep as a same-origin
 * request, but its Host still carries the attacker's name. Served are the listen address, the loopback names
 * (both with the port numrep listens on), `web.allowed_hosts`, and, on a wildcard listen address, any IP
 * literal: which addresses the machine has is hard to know, and an IP literal cannot be rebound.
 * A request without Host (HTTP/1.0) is not from a browser and passes.
 */
function hostAllowed(host: string | undefined, listenHost: string, port: number, allowed: string[]): boolean {
  if (host === undefined) return true;
  const h = splitHost(host);
  if (!h) return false;
  const listenName = isIP(listenHost) === 6 ? `[${listenHost.toLowerCase()}]` : listenHost.toLowerCase();
  if (h.port === port && (h.name === listenName || LOOPBACK_NAMES.includes(h.name))) return true;
  if (WILDCARDS.has(listenHost) && isIP(h.name.replace(/^\[|\]$/g, '')) !== 0) return true;
  return allowed.some((a) => {
    const e = splitHost(a);
    return e !== null && e.name === h.name && (/:\d+$/.test(a) ? e.port === h.port : true);
  });
}

/** Whether an Origin header names this very server (http or https, the request's own host and port). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    const o = new URL(origin);
    return (o.protocol === 'http:' || o.protocol === 'https:') && host !== undefined && o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false; // "null" (sandboxed pages, file:, redirects) and anything else unparsable
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request looks forged by a web page (CSRF), or null. Browsers mark every request:
 * Sec-Fetch-Site (same-origin, same-site, cross-site, none) and, on a POST, Origin. A page on another origin
 * can POST text/plain, form-urlencoded or multipart bodies without a CORS preflight, so those markers decide,
 * not the content type: curl and scripts send neither (and curl --data-binary says form-urlencoded).
 */
function crossSiteReason(req: Request): string | null {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site: ${site.slice(0, 40)}`;
  const origin = req.get('origin');
  if (origin !== undefined && !sameOrigin(origin, req.get('host'))) return `Origin ${origin.slice(0, 100)} is not this server`;
  return null;
}

/** 421 for a Host this server does not answer to (see hostAllowed). */
export function hostGuard(listenHost: string, allowedHosts: string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (hostAllowed(req.get('host'), listenHost, req.socket.localPort ?? 0, allowedHosts)) return next();
    res.status(421).json({ error: `Host ${JSON.stringify(req.get('host')!.slice(0, 100))} is not a name this server answers to; add it to web.allowed_hosts if it is one` });
  };
}

/** 403 for a state-changing request a browser marks as cross-site, unless `trusted` (a valid bearer token). */
export function crossSiteGuard(trusted: (req: Request) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method) || trusted(req)) return next();
    const why = crossSiteReason(req);
    if (!why) return next();
    res.status(403).json({ error: `cross-site request refused (${why}): numrep takes changes from curl and scripts, not from web pages` });
  };
}

/** Whether a listen host only takes connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** The start-up warning for a port other machines can reach with no credential asked anywhere, or null. */
export function exposureWarning(host: string, port: number, o: { token: boolean; basicAuth: boolean }): string | null {
  if (isLoopbackHost(host) || o.token || o.basicAuth) return null;
  const where = WILDCARDS.has(host) ? `every interface (port ${port})` : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return (
    `warning: listening on ${where} without authentication: anyone who can reach it can read the API ` +
    `(numbers, carriers, sources, history), upload CDR, labels and inventory files (POST /api/v1/upload) and scrape /metrics; ` +
    `set auth.bearer_token_file, or basic_auth_users in a --web.config.file, or listen on 127.0.0.1`
  );
}
