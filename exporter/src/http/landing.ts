// GET / (a landing page, like node_exporter's) and GET /api, /api/v1 (the endpoints as JSON): what answers where.

import { createHash } from 'node:crypto';

export const API_ENDPOINTS = [
  { method: 'GET', path: '/api/v1/numbers', what: 'tracked numbers, in number order; filters status, pool, carrier, flag; pages limit (default 1000, max 10000) and cursor' },
  { method: 'GET', path: '/api/v1/numbers/{number}', what: 'one number' },
  { method: 'GET', path: '/api/v1/numbers/{number}/history', what: 'score, status and sub-scores over time; from, to' },
  { method: 'GET', path: '/api/v1/numbers.csv', what: 'the numbers as CSV; the same filters' },
  { method: 'GET', path: '/api/v1/carriers', what: 'per-carrier KPIs across the pool' },
  { method: 'GET', path: '/api/v1/sources', what: 'followed files: offset, lag, what their rows became' },
  { method: 'POST', path: '/api/v1/upload', what: 'a CDR, labels or inventory file as the request body' },
  { method: 'GET', path: '/api/v1/remediations', what: 'remediation cases, newest first; filters number, engine, state' },
  { method: 'POST', path: '/api/v1/remediations', what: 'open a case: JSON {number, engine, ticket, note}' },
  { method: 'GET', path: '/api/v1/remediations/{id}', what: 'one case with its events' },
  { method: 'PATCH', path: '/api/v1/remediations/{id}', what: 'update a case: JSON {state, ticket, note} (POST works too)' },
] as const;

export function apiIndex(version: string) {
  return { name: 'numrep', version, api: 'v1', endpoints: API_ENDPOINTS };
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:48em;margin:2em auto;padding:0 1em;line-height:1.5}code{font-size:.95em}li{margin:.2em 0}';
/** The page's one inline style, allowed by its hash and nothing else (no scripts at all). */
export const LANDING_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'`;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Links are relative, so the page works behind a proxy that serves numrep under a path. */
export function landingHtml(version: string, auth: string): string {
  const link = (href: string, text: string, what: string) => `<li><a href="${esc(href)}">${esc(text)}</a> — ${esc(what)}</li>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>numrep exporter</title>
<style>${STYLE}</style>
</head>
<body>
<h1>numrep exporter</h1>
<p>Number reputation from CDRs and SIP logs: per-number Prometheus metrics, scores and recommended actions. Version <code>${esc(version)}</code>.</p>
<h2>Prometheus</h2>
<ul>
${link('metrics', '/metrics', 'the exposition Prometheus scrapes')}
</ul>
<h2>API</h2>
<ul>
${link('api/v1', '/api/v1', 'these endpoints as JSON')}
${link('api/v1/numbers', '/api/v1/numbers', 'tracked numbers (?status=spam&limit=100, …)')}
${link('api/v1/numbers.csv', '/api/v1/numbers.csv', 'the numbers as CSV')}
${link('api/v1/carriers', '/api/v1/carriers', 'per-carrier KPIs')}
${link('api/v1/sources', '/api/v1/sources', 'followed files and how far they are read')}
<li><code>/api/v1/numbers/{number}</code>, <code>/api/v1/numbers/{number}/history</code> — one number, and its history</li>
<li><code>POST /api/v1/upload</code> — a CDR, labels or inventory file as the request body</li>
</ul>
<p>${esc(auth)}</p>
<h2>Health</h2>
<ul>
${link('healthz', '/healthz', 'liveness')}
${link('readyz', '/readyz', 'readiness: existing files caught up')}
</ul>
<h2>Documentation</h2>
<p>In the numrep source tree: <code>README.md</code>; <code>docs/operations.md</code> (running it, TLS and auth, HTTP limits);
<code>docs/metrics.md</code> (every metric); <code>docs/formats.md</code> (CDR and log formats); <code>docs/scoring.md</code>;
<code>docs/runbooks/</code> (what to do per alert).</p>
</body>
</html>
`;
}
