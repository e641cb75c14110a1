// Static checks of dashboards/, the Grafana provisioning files, docker-compose.yml and the Dockerfile.
// Every check returns a list of problems (empty = fine) instead of throwing, so the tests can run it on the
// repository's files and on mutated copies and see it fail.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);
export const DASHBOARDS_DIR = join(REPO, 'dashboards');
export const PROVISIONING_DIR = join(DASHBOARDS_DIR, 'provisioning');
export const RULES_DIR = join(REPO, 'alerting', 'rules');

/** The dashboards users were promised, by file, with their stable uids. */
export const EXPECTED_DASHBOARDS: Record<string, string> = {
  'pool-overview.json': 'numrep-pool-overview',
  'number-detail.json': 'numrep-number-detail',
  'carriers.json': 'numrep-carriers',
  'exporter-health.json': 'numrep-exporter-health',
};

/** schemaVersion range accepted: Grafana 11 (39) up to the one of the @grafana/schema the plugin builds against. */
export const SCHEMA_MIN = 39;
export const SCHEMA_MAX = 42;

/** Grafana's core panel types (Grafana 11–13). */
export const CORE_PANEL_TYPES = new Set([
  'alertlist', 'annolist', 'barchart', 'bargauge', 'candlestick', 'canvas', 'dashlist', 'datagrid', 'flamegraph',
  'gauge', 'geomap', 'heatmap', 'histogram', 'logs', 'news', 'nodeGraph', 'piechart', 'row', 'stat',
  'state-timeline', 'status-history', 'table', 'text', 'timeseries', 'traces', 'trend', 'xychart',
]);

/** Panel types that display numbers: these must set fieldConfig.defaults.unit. */
export const NUMERIC_PANEL_TYPES = new Set([
  'barchart', 'bargauge', 'candlestick', 'gauge', 'heatmap', 'histogram', 'piechart', 'stat', 'state-timeline',
  'status-history', 'table', 'timeseries', 'trend', 'xychart',
]);

/** Series Prometheus itself creates (scrape health, alert state): allowed besides the numrep catalogue. */
export const PROMETHEUS_SERIES = new Set([
  'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling',
  'scrape_series_added', 'ALERTS', 'ALERTS_FOR_STATE',
]);

/** Grafana's global variables and a value that keeps the PromQL valid. */
export const BUILTIN_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
  __dashboard: 'numrep',
  __org: '1',
  __user: 'admin',
};

export const PLUGIN_JSON = join(REPO, 'grafana-plugin', 'src', 'plugin.json');
export function pluginId(): string {
  return (JSON.parse(readFileSync(PLUGIN_JSON, 'utf8')) as { id: string }).id;
}

export function readYaml<T = any>(file: string): T {
  return parseYaml(readFileSync(file, 'utf8')) as T;
}

export function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFilesUnder(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

// ------------------------------------------------------------------------------------------------
// Contract: metric names

/** Every `numrep_*` name in docs/metrics.md. */
export function catalogueMetrics(file = join(REPO, 'docs', 'metrics.md')): Set<string> {
  const text = readFileSync(file, 'utf8');
  return new Set([...text.matchAll(/`(numrep_[a-z0-9_]+)`/g)].map((m) => m[1]));
}

/** Every `numrep:` recording rule in alerting/rules. */
export function recordingRules(dir = RULES_DIR): Set<string> {
  const out = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = readYaml<{ groups: { rules: { record?: string }[] }[] }>(join(dir, f));
    for (const g of doc.groups ?? []) for (const r of g.rules ?? []) if (r.record) out.add(r.record);
  }
  return out;
}

export function knownMetrics(): Set<string> {
  return new Set([...catalogueMetrics(), ...[...recordingRules()].filter((r) => r.startsWith('numrep:')), ...PROMETHEUS_SERIES]);
}

const PROMQL_KEYWORDS = new Set([
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset',
  'atan2', 'inf', 'nan', 'Inf', 'NaN', 'start', 'end',
]);

/**
 * Metric names a PromQL expression selects (after variable substitution). Strings, label matchers, ranges and
 * grouping label lists are removed first; what remains that is an identifier not followed by `(` (a function
 * or aggregation) and not a keyword is a metric name.
 */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of s.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    if (!PROMQL_KEYWORDS.has(m[1])) names.push(m[1]);
  }
  // A selector written as {__name__="x"}.
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.push(m[1]);
  return [...new Set(names)];
}

// ------------------------------------------------------------------------------------------------
// Dashboards: walking panels, targets and variables

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  annotations?: { list?: Annotation[] };
  [k: string]: unknown;
}
export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: DsRef | string | null;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string; [k: string]: unknown }; overrides?: unknown[] };
  options?: Record<string, unknown>;
  panels?: Panel[];
  collapsed?: boolean;
  repeat?: string;
  [k: string]: unknown;
}
export interface Target {
  refId?: string;
  expr?: string;
  datasource?: DsRef | string | null;
  instant?: boolean;
  range?: boolean;
  format?: string;
  [k: string]: unknown;
}
export interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: DsRef | string | null;
  current?: { value?: string | string[]; text?: string | string[] };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  options?: { value: string }[];
  [k: string]: unknown;
}
export interface Annotation {
  name?: string;
  builtIn?: number;
  datasource?: DsRef | string | null;
  expr?: string;
  [k: string]: unknown;
}
export interface DsRef {
  type?: string;
  uid?: string;
}

/** Every panel, rows' nested panels included (collapsed rows keep theirs in `panels`). */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels ?? []) {
    out.push(p);
    if (p.type === 'row') out.push(...(p.panels ?? []));
  }
  return out;
}

/** The PromQL inside a variable query: label_values(SELECTOR, label), query_result(EXPR), or a plain expression. */
export function variableQuery(v: Variable): string | undefined {
  const raw = typeof v.query === 'string' ? v.query : v.query?.query ?? v.definition;
  return typeof raw === 'string' ? raw : undefined;
}

export function variablePromql(v: Variable): { expr: string; label?: string } | undefined {
  if (v.type !== 'query') return undefined;
  const raw = variableQuery(v)?.trim();
  if (!raw) return undefined;
  let m = /^label_values\(\s*(.+)\s*,\s*([a-zA-Z_][\w]*)\s*\)$/s.exec(raw);
  if (m) return { expr: m[1], label: m[2] };
  m = /^label_values\(\s*([a-zA-Z_][\w]*)\s*\)$/.exec(raw);
  if (m) return undefined; // all values of a label: no expression
  m = /^query_result\(\s*(.+)\s*\)$/s.exec(raw);
  if (m) return { expr: m[1] };
  m = /^(metrics|label_names)\(/.exec(raw);
  if (m) return undefined;
  return { expr: raw };
}

export interface QueryRef {
  /** file › panel title › refId (for messages) */
  where: string;
  kind: 'target' | 'variable' | 'annotation';
  expr: string;
  /** range or instant, as Grafana would run it */
  instant: boolean;
  panel?: Panel;
  variable?: Variable;
}

/** Every PromQL expression in a dashboard: panel targets, variable queries, annotation queries. */
export function queriesOf(d: Dashboard, file = d.uid ?? '?'): QueryRef[] {
  const out: QueryRef[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (typeof t.expr === 'string') {
        out.push({ where: `${file} › "${p.title}" › ${t.refId}`, kind: 'target', expr: t.expr, instant: !!t.instant && !t.range, panel: p });
      }
    }
  }
  for (const v of d.templating?.list ?? []) {
    const pq = variablePromql(v);
    if (pq) out.push({ where: `${file} › variable $${v.name}`, kind: 'variable', expr: pq.expr, instant: true, variable: v });
  }
  for (const a of d.annotations?.list ?? []) {
    if (typeof a.expr === 'string') out.push({ where: `${file} › annotation "${a.name}"`, kind: 'annotation', expr: a.expr, instant: false });
  }
  return out;
}

const VAR_RE = /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g;

/** Names of the variables an expression uses. */
export function variablesUsed(text: string): string[] {
  return [...new Set([...text.matchAll(VAR_RE)].map((m) => m[1] ?? m[2] ?? m[3]))];
}

/**
 * Substitutes Grafana variables the way Grafana does for Prometheus: `values` per variable name (a string, or
 * several joined as a regex alternation), then the built-ins. Unknown variables are left as they are (the lint
 * reports them).
 */
export function substitute(text: string, values: Record<string, string | string[]>): string {
  return text.replace(VAR_RE, (whole, a, b, c) => {
    const name = a ?? b ?? c;
    const v = values[name] ?? BUILTIN_VARIABLES[name];
    if (v === undefined) return whole;
    if (Array.isArray(v)) return v.length === 1 ? promRegexEscape(v[0]) : `(${v.map(promRegexEscape).join('|')})`;
    return v;
  });
}

/**
 * How Grafana's Prometheus data source escapes the values of multi-value / include-All variables: regex
 * metacharacters get a backslash, doubled because the regex sits inside a PromQL string literal.
 * Pass a one-element array to `substitute` for such a variable with a single selection.
 */
export function promRegexEscape(s: string): string {
  return s.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

/** Values good enough to parse: custom/constant variables' current value, a plausible label value otherwise. */
export function lintValues(d: Dashboard): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of d.templating?.list ?? []) {
    const cur = v.current?.value;
    const current = Array.isArray(cur) ? cur[0] : cur;
    if ((v.type === 'custom' || v.type === 'constant' || v.type === 'textbox') && current && current !== '$__all') out[v.name] = current;
    else if (v.type === 'datasource') out[v.name] = 'numrep-prometheus';
    else if (v.includeAll) out[v.name] = v.allValue ?? '.*';
    else out[v.name] = `lint_${v.name}`;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Provisioning

export interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url: string;
}

export function provisionedDatasources(dir = join(PROVISIONING_DIR, 'datasources')): ProvisionedDatasource[] {
  return yamlFilesUnder(dir).flatMap((f) => (readYaml<{ datasources?: ProvisionedDatasource[] }>(f).datasources ?? []));
}

// ------------------------------------------------------------------------------------------------
// Dashboard lint

export interface LintContext {
  known: Set<string>;
  datasourceUids: Set<string>;
  pluginId: string;
  /** The plugin's default options (grafana-plugin/src/types.ts): saved options must be a subset. */
  pluginDefaults?: Record<string, unknown>;
}

export function defaultLintContext(pluginDefaults?: Record<string, unknown>): LintContext {
  return {
    known: knownMetrics(),
    datasourceUids: new Set(provisionedDatasources().map((d) => d.uid)),
    pluginId: pluginId(),
    pluginDefaults,
  };
}

function dsProblem(ref: DsRef | string | null | undefined, ctx: LintContext, where: string, dashVars: Set<string>): string | null {
  if (ref === undefined || ref === null) return null; // inherits the panel's / dashboard default
  if (typeof ref === 'string') {
    if (/^\$\{?datasource\}?$/.test(ref)) return null;
    return `${where}: datasource "${ref}" is neither \${datasource} nor a {type, uid} reference to a provisioned data source`;
  }
  const uid = ref.uid ?? '';
  const v = /^\$\{?(\w+)\}?$/.exec(uid);
  if (v) {
    if (!dashVars.has(v[1])) return `${where}: datasource uid ${uid} names no datasource variable of the dashboard`;
    if (ref.type && ref.type !== 'prometheus') return `${where}: datasource ${uid} has type ${ref.type}, the variable is of type prometheus`;
    return null;
  }
  if (ctx.datasourceUids.has(uid)) return null;
  if (ref.type === 'grafana' || uid === '-- Grafana --' || uid === 'grafana') return null;
  if (ref.type === '__expr__' || uid === '__expr__') return null;
  return `${where}: datasource uid "${uid}" is neither the \${datasource} variable nor a provisioned uid (${[...ctx.datasourceUids].join(', ')})`;
}

function overlaps(a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function subsetProblems(saved: unknown, defaults: unknown, path: string): string[] {
  if (defaults === undefined) return [`option ${path} is not one of the plugin's options`];
  if (Array.isArray(defaults)) return Array.isArray(saved) ? [] : [`option ${path} should be an array`];
  if (defaults !== null && typeof defaults === 'object') {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return [`option ${path} should be an object`];
    return Object.entries(saved as Record<string, unknown>).flatMap(([k, v]) =>
      subsetProblems(v, (defaults as Record<string, unknown>)[k], path ? `${path}.${k}` : k),
    );
  }
  return typeof saved === typeof defaults ? [] : [`option ${path} should be a ${typeof defaults}, is ${typeof saved}`];
}

/** All problems of one dashboard (empty when it is fine). `file` is its file name, for uid and messages. */
export function lintDashboard(d: Dashboard, file: string, ctx: LintContext): string[] {
  const problems: string[] = [];
  const at = (s: string) => `${file}: ${s}`;

  const expectedUid = EXPECTED_DASHBOARDS[file];
  if (expectedUid && d.uid !== expectedUid) problems.push(at(`uid is "${d.uid}", expected the stable uid "${expectedUid}"`));
  if (!d.uid || !/^[a-zA-Z0-9_-]{1,40}$/.test(d.uid)) problems.push(at(`uid "${d.uid}" is missing or not a valid Grafana uid`));
  if (!d.title) problems.push(at('no title'));
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < SCHEMA_MIN || d.schemaVersion > SCHEMA_MAX) {
    problems.push(at(`schemaVersion ${d.schemaVersion} is not a current one (${SCHEMA_MIN}–${SCHEMA_MAX})`));
  }

  const vars = d.templating?.list ?? [];
  const varNames = new Set(vars.map((v) => v.name));
  const dsVars = new Set(vars.filter((v) => v.type === 'datasource').map((v) => v.name));
  const dsVar = vars.find((v) => v.name === 'datasource');
  if (!dsVar || dsVar.type !== 'datasource' || dsVar.query !== 'prometheus') {
    problems.push(at('no `datasource` template variable of type datasource with query "prometheus"'));
  }
  const seenVar = new Set<string>();
  for (const v of vars) {
    if (seenVar.has(v.name)) problems.push(at(`variable $${v.name} defined twice`));
    seenVar.add(v.name);
    const p = dsProblem(v.datasource, ctx, at(`variable $${v.name}`), dsVars);
    if (p) problems.push(p);
  }

  // Panels
  const panels = allPanels(d);
  const ids = new Map<number, string>();
  for (const p of panels) {
    const name = `panel ${p.id} "${p.title ?? ''}"`;
    if (typeof p.id !== 'number') problems.push(at(`${name}: no numeric id`));
    else if (ids.has(p.id)) problems.push(at(`panel id ${p.id} used twice ("${ids.get(p.id)}" and "${p.title}")`));
    else ids.set(p.id, p.title ?? '');

    const type = p.type ?? '';
    if (!CORE_PANEL_TYPES.has(type) && type !== ctx.pluginId) problems.push(at(`${name}: panel type "${type}" is neither a core type nor ${ctx.pluginId}`));

    const g = p.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n))) problems.push(at(`${name}: gridPos missing or not integers`));
    else if (g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) problems.push(at(`${name}: gridPos ${JSON.stringify(g)} is outside the 24-column grid`));

    if (type === 'row') continue;
    if (!p.title) problems.push(at(`${name}: no title`));
    if (typeof p.description !== 'string' || p.description.trim().length < 10) problems.push(at(`${name}: no description`));
    if (NUMERIC_PANEL_TYPES.has(type)) {
      const unit = p.fieldConfig?.defaults?.unit;
      if (typeof unit !== 'string' || unit === '') problems.push(at(`${name}: no unit (fieldConfig.defaults.unit)`));
    }
    if (p.repeat && !varNames.has(p.repeat)) problems.push(at(`${name}: repeats over undefined variable $${p.repeat}`));

    const dp = dsProblem(p.datasource, ctx, at(name), dsVars);
    if (dp) problems.push(dp);
    if (type !== 'text' && type !== 'row' && (p.targets ?? []).length === 0 && type !== 'alertlist' && type !== 'dashlist') {
      problems.push(at(`${name}: no query`));
    }
    const refIds = new Set<string>();
    for (const t of p.targets ?? []) {
      const tw = `${name} › ${t.refId}`;
      if (!t.refId) problems.push(at(`${name}: a target without refId`));
      else if (refIds.has(t.refId)) problems.push(at(`${name}: refId ${t.refId} used twice`));
      else refIds.add(t.refId);
      const tp = dsProblem(t.datasource, ctx, at(tw), dsVars);
      if (tp) problems.push(tp);
      if (typeof t.expr !== 'string' || !t.expr.trim()) problems.push(at(`${tw}: empty expr`));
    }
    for (const v of variablesUsed(JSON.stringify({ t: p.title, targets: p.targets }))) {
      if (!varNames.has(v) && !(v in BUILTIN_VARIABLES)) problems.push(at(`${name}: uses undefined variable $${v}`));
    }
    if (type === ctx.pluginId && ctx.pluginDefaults) {
      for (const s of subsetProblems(p.options ?? {}, ctx.pluginDefaults, '')) problems.push(at(`${name}: ${s}`));
    }
  }
  // Overlaps (top-level panels and the panels of expanded rows share one grid)
  const placed = panels.filter((p) => p.gridPos);
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      if (overlaps(placed[i].gridPos!, placed[j].gridPos!)) {
        problems.push(at(`panels ${placed[i].id} "${placed[i].title}" and ${placed[j].id} "${placed[j].title}" overlap`));
      }
    }
  }

  // Annotations
  for (const a of d.annotations?.list ?? []) {
    const p = dsProblem(a.datasource, ctx, at(`annotation "${a.name}"`), dsVars);
    if (p) problems.push(p);
  }

  // Queries: variables defined, metric names in the contract
  for (const qr of queriesOf(d, file)) {
    for (const v of variablesUsed(qr.expr)) {
      if (!varNames.has(v) && !(v in BUILTIN_VARIABLES)) problems.push(`${qr.where}: uses undefined variable $${v}`);
    }
    const expr = substitute(qr.expr, lintValues(d));
    for (const m of metricNames(expr)) {
      if (!ctx.known.has(m)) problems.push(`${qr.where}: metric ${m} is neither in docs/metrics.md nor a numrep: recording rule in alerting/rules`);
    }
    if (metricNames(expr).length === 0 && !/vector\(|time\(\)/.test(expr)) problems.push(`${qr.where}: selects no metric`);
  }
  return problems;
}

export function loadDashboard(file: string): { dashboard?: Dashboard; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [`${basename(file)}: ${(err as Error).message}`] };
  }
  try {
    return { dashboard: JSON.parse(text) as Dashboard, problems: [] };
  } catch (err) {
    return { problems: [`${basename(file)}: not valid JSON: ${(err as Error).message}`] };
  }
}

/** Lint every dashboards/*.json of a folder, plus the cross-dashboard contract. */
export function lintDashboardDir(dir: string, ctx: LintContext): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const problems: string[] = [];
  for (const f of Object.keys(EXPECTED_DASHBOARDS)) if (!files.includes(f)) problems.push(`${f}: missing`);
  const uids = new Map<string, string>();
  const byUid = new Map<string, Dashboard>();
  for (const f of files) {
    const { dashboard, problems: p } = loadDashboard(join(dir, f));
    problems.push(...p);
    if (!dashboard) continue;
    problems.push(...lintDashboard(dashboard, f, ctx));
    if (dashboard.uid) {
      if (uids.has(dashboard.uid)) problems.push(`${f}: uid ${dashboard.uid} also used by ${uids.get(dashboard.uid)}`);
      uids.set(dashboard.uid, f);
      byUid.set(dashboard.uid, dashboard);
    }
  }
  // The panel links to /d/numrep-number-detail/…?var-number=…: that dashboard and variable must exist.
  const detail = byUid.get('numrep-number-detail');
  if (!detail) problems.push('no dashboard with uid numrep-number-detail (the Number Reputation panel links to it)');
  else if (!(detail.templating?.list ?? []).some((v) => v.name === 'number')) problems.push('numrep-number-detail has no `number` variable (the panel links with var-number)');
  for (const d of byUid.values()) {
    for (const p of allPanels(d)) {
      const tpl = (p.options as { link?: { template?: string } } | undefined)?.link?.template;
      if (p.type !== ctx.pluginId || !tpl) continue;
      const m = /\/d\/([^/?]+)[^?]*\?(.*)$/.exec(tpl);
      if (!m) continue;
      const target = byUid.get(m[1]);
      if (!target) problems.push(`${d.uid} › "${p.title}": row link goes to unknown dashboard uid ${m[1]}`);
      for (const vm of m[2].matchAll(/var-(\w+)=/g)) {
        if (target && !(target.templating?.list ?? []).some((v) => v.name === vm[1])) problems.push(`${d.uid} › "${p.title}": row link sets var-${vm[1]}, which ${m[1]} does not define`);
      }
    }
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// Dockerfile, docker-compose.yml, provisioning

export interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** Dockerfile instructions with continuation lines joined; ARG defaults substituted into FROM. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[]; instructions: string[] } {
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) && cur === '') continue;
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    cur += line;
    if (cur.trim()) logical.push(cur.trim());
    cur = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of logical) {
    const [kw] = ins.split(/\s+/, 1);
    const rest = ins.slice(kw.length).trim();
    if (kw.toUpperCase() === 'ARG' && stages.length === 0) {
      const [k, v] = rest.split('=');
      if (v !== undefined) args[k] = v;
    } else if (kw.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.replace(/--platform=\S+\s+/, ''));
      const from = (m?.[1] ?? rest).replace(/\$\{?(\w+)\}?/g, (_w, k) => args[k] ?? _w);
      stages.push({ from, name: m?.[2], lines: [] });
    } else if (stages.length) {
      stages[stages.length - 1].lines.push(ins);
    }
  }
  return { args, stages, instructions: logical };
}

/** Problems of the Dockerfile against the brief: pinned node 20 slim, multi-stage, from-source native build, non-root, ... */
export function checkDockerfile(text: string, dockerignore: string, repo = REPO): string[] {
  const problems: string[] = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2) problems.push('Dockerfile: not multi-stage');
  for (const s of stages) {
    if (stages.some((o) => o.name === s.from)) continue;
    if (!/^node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(s.from)) problems.push(`Dockerfile: FROM ${s.from} is not a pinned node:20.x.y-bookworm-slim`);
  }
  const build = stages[0];
  const runtime = stages[stages.length - 1];
  if (build && !build.lines.some((l) => /npm_config_build_from_source=true|--build-from-source/.test(l))) problems.push('Dockerfile: the build stage does not build native modules (better-sqlite3) from source');
  if (build && !build.lines.some((l) => /^RUN .*(g\+\+|build-essential)/.test(l))) problems.push('Dockerfile: the build stage installs no C++ toolchain for better-sqlite3');
  if (runtime) {
    const users = runtime.lines.filter((l) => /^USER\s/i.test(l));
    const last = users[users.length - 1]?.split(/\s+/)[1] ?? 'root';
    if (/^(root|0)(:|$)/.test(last)) problems.push('Dockerfile: the runtime stage runs as root (no USER)');
    if (runtime.lines.some((l) => /^RUN .*(apt-get install|g\+\+)/.test(l))) problems.push('Dockerfile: the runtime stage installs a toolchain');
    const hc = runtime.lines.find((l) => /^HEALTHCHECK\s/i.test(l)) ?? '';
    const cmd = runtime.lines.find((l) => /^CMD\s/i.test(l)) ?? '';
    const listen = /--listen["',\s]+0\.0\.0\.0:(\d+)/.exec(cmd);
    if (!listen) problems.push('Dockerfile: CMD does not listen on 0.0.0.0 (--listen 0.0.0.0:PORT)');
    const port = listen?.[1] ?? '9847';
    if (!new RegExp(`:${port}/healthz`).test(hc)) problems.push(`Dockerfile: HEALTHCHECK does not ask /healthz on port ${port}`);
    if (!runtime.lines.some((l) => new RegExp(`^EXPOSE\\s+.*\\b${port}\\b`).test(l))) problems.push(`Dockerfile: EXPOSE ${port} missing`);
    const vol = runtime.lines.find((l) => /^VOLUME\s/i.test(l)) ?? '';
    const inbox = /--inbox["',\s]+([^"',\s]+)/.exec(cmd)?.[1];
    const db = /--db["',\s]+([^"',\s]+)/.exec(cmd)?.[1];
    if (!inbox || !vol.includes(inbox)) problems.push(`Dockerfile: the inbox (${inbox}) is not a VOLUME`);
    if (!db || !vol.includes(posix.dirname(db))) problems.push(`Dockerfile: the database directory (${db && posix.dirname(db)}) is not a VOLUME`);
  }
  // COPY sources from the build context must exist and not be excluded by .dockerignore.
  const allow = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map((l) => l.slice(1).replace(/\/$/, ''));
  const excludesAll = dockerignore.split('\n').some((l) => l.trim() === '*');
  for (const s of stages) {
    for (const l of s.lines) {
      const m = /^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/i.exec(l);
      if (!m) continue;
      const parts = m[1].trim().split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        if (!existsSync(join(repo, src))) problems.push(`Dockerfile: COPY ${src}: not in the repository`);
        if (excludesAll && !allow.some((a) => src === a || src.startsWith(a + '/'))) problems.push(`Dockerfile: COPY ${src} is excluded by .dockerignore`);
      }
    }
  }
  return problems;
}

export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  [k: string]: unknown;
}
export interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: { test?: string | string[] };
  [k: string]: unknown;
}

/** Compose ${VAR:-default} interpolation with an env map (defaults when unset). */
export function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_w, k, def) => env[k] ?? def ?? '');
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export function commandArgs(c: string | string[] | undefined): string[] {
  if (!c) return [];
  return Array.isArray(c) ? c : c.trim().split(/\s+/);
}

function envOf(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

export interface Mount {
  source: string;
  target: string;
  bind: boolean;
}
export function mountsOf(s: Service): Mount[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target] = v.split(':');
      return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
    }
    return { source: v.source ?? '', target: v.target, bind: v.type === 'bind' };
  });
}

/** The port a service listens on inside its container. */
export function listenPort(name: string, s: Service): number | undefined {
  const args = commandArgs(s.command);
  const flag = (re: RegExp) => {
    for (let i = 0; i < args.length; i++) {
      const m = re.exec(args[i]);
      if (m?.[1]) return m[1];
      if (m && args[i + 1]) return args[i + 1];
    }
    return undefined;
  };
  const addr = flag(/^--listen(?:=(.*))?$/) ?? flag(/^--web\.listen-address(?:=(.*))?$/);
  if (addr) return Number(addr.split(':').pop());
  const image = s.image ?? '';
  if (/prom\/prometheus/.test(image)) return 9090;
  if (/prom\/alertmanager/.test(image)) return 9093;
  if (/grafana\/grafana/.test(image)) return Number(envOf(s).GF_SERVER_HTTP_PORT ?? 3000);
  if (name === 'exporter') return 9847;
  return undefined;
}

function containerPorts(s: Service, env: Record<string, string>): number[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return Number(p.target);
    const parts = interpolate(p, env).split(':');
    return Number(parts[parts.length - 1].split('/')[0]);
  });
}

function hostPort(u: string): { host: string; port: number } | undefined {
  const m = /^(?:https?:\/\/)?([^/:]+):(\d+)/.exec(u);
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

function semverAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Paths `npm run build` produces (root build runs every workspace's build). */
export function buildOutputs(repo = REPO): Map<string, string> {
  const out = new Map<string, string>();
  const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  if (!/--workspaces/.test(root.scripts?.build ?? '')) return out;
  for (const ws of root.workspaces ?? []) {
    const pkg = JSON.parse(readFileSync(join(repo, ws, 'package.json'), 'utf8'));
    if (pkg.scripts?.build) out.set(`${ws}/dist`, `${pkg.name} build`);
  }
  return out;
}

export interface StackFiles {
  compose: Compose;
  prometheus: any;
  datasources: ProvisionedDatasource[];
  dashboardProviders: { name: string; options?: { path?: string } }[];
  env: Record<string, string>;
  composeText: string;
}

export function loadStack(repo = REPO): StackFiles {
  const composeText = readFileSync(join(repo, 'docker-compose.yml'), 'utf8');
  return {
    compose: parseYaml(composeText) as Compose,
    composeText,
    prometheus: readYaml(join(repo, 'alerting', 'prometheus.yml')),
    datasources: provisionedDatasources(join(repo, 'dashboards', 'provisioning', 'datasources')),
    dashboardProviders: yamlFilesUnder(join(repo, 'dashboards', 'provisioning', 'dashboards')).flatMap((f) => readYaml(f).providers ?? []),
    env: parseEnvFile(readFileSync(join(repo, '.env.example'), 'utf8')),
  };
}

/** Everything docker-compose.yml must agree with. */
export function checkStack(st: StackFiles, repo = REPO): string[] {
  const problems: string[] = [];
  const services = st.compose?.services ?? {};
  for (const name of ['exporter', 'prometheus', 'alertmanager', 'grafana']) if (!services[name]) problems.push(`docker-compose.yml: no service ${name}`);
  const outputs = buildOutputs(repo);
  const env = st.env;

  // Variables used in the compose file are documented in .env.example
  const uncommented = st.composeText.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
  for (const m of uncommented.matchAll(/\$\{(\w+)/g)) if (!(m[1] in env)) problems.push(`docker-compose.yml: \${${m[1]}} is not in .env.example`);

  const namedVolumes = new Set(Object.keys(st.compose?.volumes ?? {}));
  for (const [name, s] of Object.entries(services)) {
    // Images pinned by version
    if (!s.image) problems.push(`docker-compose.yml: service ${name} has no pinned image`);
    else {
      const tag = /:([^:/@]+)(@sha256:[0-9a-f]+)?$/.exec(s.image)?.[1];
      if (!tag || tag === 'latest' || !/^v?\d+\.\d+\.\d+/.test(tag)) problems.push(`docker-compose.yml: service ${name} image ${s.image} is not pinned to a version`);
    }
    if (s.build) {
      const b = typeof s.build === 'string' ? { context: s.build } : s.build;
      const df = join(repo, b.context ?? '.', b.dockerfile ?? 'Dockerfile');
      if (!existsSync(df)) problems.push(`docker-compose.yml: service ${name} builds from ${df}, which does not exist`);
    }
    // Mounted paths exist (or are built by npm run build); named volumes are declared
    for (const m of mountsOf(s)) {
      const src = interpolate(m.source, env);
      if (m.bind) {
        const rel = posix.normalize(src).replace(/^\.\//, '');
        if (src.startsWith('/')) problems.push(`docker-compose.yml: ${name} mounts the absolute host path ${src}`);
        else if (!existsSync(join(repo, rel)) && !outputs.has(rel)) problems.push(`docker-compose.yml: ${name} mounts ${src}, which is neither in the repository nor built by npm run build`);
      } else if (!namedVolumes.has(src)) problems.push(`docker-compose.yml: ${name} uses volume ${src}, not declared under volumes:`);
    }
    // Published ports map to the port the service listens on
    const lp = listenPort(name, s);
    for (const cp of containerPorts(s, env)) if (lp !== undefined && cp !== lp) problems.push(`docker-compose.yml: ${name} publishes container port ${cp} but listens on ${lp}`);
    // Health checks ask the port the service listens on
    const hc = JSON.stringify(s.healthcheck?.test ?? '');
    const hp = /127\.0\.0\.1:(\d+)|localhost:(\d+)/.exec(hc);
    if (hp && lp !== undefined && Number(hp[1] ?? hp[2]) !== lp) problems.push(`docker-compose.yml: ${name} healthcheck asks port ${hp[1] ?? hp[2]} but the service listens on ${lp}`);
  }

  const ex = services.exporter;
  if (ex) {
    const args = commandArgs(ex.command);
    if (!args.includes('serve')) problems.push('docker-compose.yml: exporter command does not run `serve`');
    const i = args.indexOf('--listen');
    if (i < 0 || !/^0\.0\.0\.0:\d+$/.test(args[i + 1] ?? '')) problems.push('docker-compose.yml: exporter does not --listen 0.0.0.0:PORT (unreachable from the other containers)');
    if (!/\/healthz/.test(JSON.stringify(ex.healthcheck?.test ?? ''))) problems.push('docker-compose.yml: exporter has no healthcheck on /healthz');
    const targets = new Set(mountsOf(ex).map((m) => m.target));
    for (const flag of ['--inbox', '--db']) {
      const j = args.indexOf(flag);
      const p = j >= 0 ? args[j + 1] : undefined;
      const dir = flag === '--db' && p ? posix.dirname(p) : p;
      if (!dir || ![...targets].some((t) => dir === t || dir.startsWith(t + '/'))) problems.push(`docker-compose.yml: exporter ${flag} ${p} is not on a volume`);
    }
  }

  // Prometheus: the repo's config and rules, and its targets are compose services on the right ports
  const prom = services.prometheus;
  if (prom) {
    const args = commandArgs(prom.command);
    const cfg = args.find((a) => a.startsWith('--config.file='))?.split('=')[1] ?? '/etc/prometheus/prometheus.yml';
    const mounts = mountsOf(prom);
    const cfgMount = mounts.find((m) => m.target === cfg || cfg.startsWith(m.target + '/'));
    const cfgSource = cfgMount && (cfgMount.target === cfg ? cfgMount.source : join(cfgMount.source, cfg.slice(cfgMount.target.length)));
    if (!cfgSource || posix.normalize(cfgSource).replace(/^\.\//, '') !== 'alerting/prometheus.yml') problems.push(`docker-compose.yml: prometheus ${cfg} is not alerting/prometheus.yml`);
    for (const rf of st.prometheus?.rule_files ?? []) {
      const inContainer = posix.join(posix.dirname(cfg), rf);
      const m = mounts.find((mm) => inContainer.startsWith(mm.target + '/'));
      if (!m) {
        problems.push(`docker-compose.yml: prometheus rule_files ${rf} (${inContainer}) is not mounted`);
        continue;
      }
      const hostDir = join(repo, posix.dirname(join(m.source, inContainer.slice(m.target.length))));
      const re = new RegExp('^' + posix.basename(rf).replace(/\./g, '\\.').replace(/\*/g, '.*') + '$');
      if (!existsSync(hostDir) || !readdirSync(hostDir).some((f) => re.test(f))) problems.push(`docker-compose.yml: prometheus rule_files ${rf} match no file in ${hostDir}`);
      else if (resolve(hostDir) !== resolve(RULES_DIR)) problems.push(`docker-compose.yml: prometheus rule_files ${rf} resolve to ${hostDir}, not alerting/rules`);
    }
    const check = (what: string, target: string) => {
      const hp = hostPort(target);
      if (!hp) return problems.push(`alerting/prometheus.yml: ${what} ${target} is not host:port`);
      if (hp.host === 'localhost' || hp.host === '127.0.0.1') return;
      const s = services[hp.host];
      if (!s) return problems.push(`alerting/prometheus.yml: ${what} ${target}: docker-compose.yml has no service "${hp.host}"`);
      const lp = listenPort(hp.host, s);
      if (lp !== hp.port) problems.push(`alerting/prometheus.yml: ${what} ${target}: service ${hp.host} listens on ${lp}`);
    };
    for (const job of st.prometheus?.scrape_configs ?? []) for (const sc of job.static_configs ?? []) for (const t of sc.targets ?? []) check(`job ${job.job_name} target`, t);
    for (const am of st.prometheus?.alerting?.alertmanagers ?? []) for (const sc of am.static_configs ?? []) for (const t of sc.targets ?? []) check('alertmanager', t);
    if (!(st.prometheus?.scrape_configs ?? []).some((j: any) => j.job_name === 'numrep' && (j.static_configs ?? []).some((sc: any) => (sc.targets ?? []).some((t: string) => t.startsWith('exporter:'))))) {
      problems.push('alerting/prometheus.yml: no job "numrep" scraping the exporter service (the alert rules select job="numrep")');
    }
  }

  const am = services.alertmanager;
  if (am) {
    const args = commandArgs(am.command);
    const cfg = args.find((a) => a.startsWith('--config.file='))?.split('=')[1] ?? '/etc/alertmanager/alertmanager.yml';
    const m = mountsOf(am).find((mm) => mm.target === cfg);
    if (!m || posix.normalize(m.source).replace(/^\.\//, '') !== 'alerting/alertmanager.yml') problems.push(`docker-compose.yml: alertmanager ${cfg} is not alerting/alertmanager.yml`);
  }

  // Grafana: data sources, provisioning, dashboards and the plugin
  const gf = services.grafana;
  const id = pluginId();
  if (gf) {
    const genv = envOf(gf);
    const mounts = mountsOf(gf);
    const rel = (m?: Mount) => (m ? posix.normalize(interpolate(m.source, env)).replace(/^\.\//, '') : undefined);
    const allowed = (genv.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS ?? '').split(',').map((s) => s.trim());
    if (!allowed.includes(id)) problems.push(`docker-compose.yml: grafana GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS does not allow ${id}`);
    const pluginsDir = genv.GF_PATHS_PLUGINS ?? '/var/lib/grafana/plugins';
    const pm = mounts.find((m) => posix.dirname(m.target) === pluginsDir && rel(m) === 'grafana-plugin/dist');
    if (!pm) problems.push(`docker-compose.yml: grafana does not mount grafana-plugin/dist into ${pluginsDir}/`);
    const provDir = genv.GF_PATHS_PROVISIONING ?? '/etc/grafana/provisioning';
    const prov = mounts.find((m) => m.target === provDir);
    if (!prov || rel(prov) !== 'dashboards/provisioning') problems.push(`docker-compose.yml: grafana does not mount dashboards/provisioning at ${provDir}`);
    for (const p of st.dashboardProviders) {
      const path = p.options?.path ?? '';
      const m = mounts
        .filter((mm) => path === mm.target || path.startsWith(mm.target + '/'))
        .sort((a, b) => b.target.length - a.target.length)[0];
      if (!m || !m.bind) problems.push(`dashboards/provisioning: provider ${p.name} reads ${path}, which grafana does not mount from the repository`);
      else {
        const host = join(repo, rel(m)!, path.slice(m.target.length));
        if (!existsSync(host) || !readdirSync(host).some((f) => f.endsWith('.json'))) problems.push(`dashboards/provisioning: provider ${p.name} path ${path} holds no dashboard JSON (${host})`);
      }
    }
    if (st.dashboardProviders.length === 0) problems.push('dashboards/provisioning: no dashboard provider');
    const home = genv.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) {
      const m = mounts.find((mm) => home.startsWith(mm.target + '/'));
      if (!m || !existsSync(join(repo, rel(m)!, home.slice(m.target.length)))) problems.push(`docker-compose.yml: grafana home dashboard ${home} is not a mounted file`);
    }
    // The Grafana image satisfies the plugin's grafanaDependency (">=x.y.z").
    const dep = JSON.parse(readFileSync(PLUGIN_JSON, 'utf8')).dependencies?.grafanaDependency as string | undefined;
    const ver = /:(\d+\.\d+\.\d+)/.exec(gf.image ?? '')?.[1];
    const min = dep && /^>=\s*(\d+\.\d+\.\d+)/.exec(dep)?.[1];
    if (min && ver && !semverAtLeast(ver, min)) problems.push(`docker-compose.yml: grafana ${ver} is older than the plugin's grafanaDependency ${dep}`);
  }

  // Data source URLs are compose services on the right ports
  const kinds: Record<string, string> = { prometheus: 'prom/prometheus', alertmanager: 'prom/alertmanager' };
  for (const ds of st.datasources) {
    const hp = hostPort(ds.url);
    if (!hp) {
      problems.push(`dashboards/provisioning: data source ${ds.uid} url ${ds.url} has no host:port`);
      continue;
    }
    const s = services[hp.host];
    if (!s) problems.push(`dashboards/provisioning: data source ${ds.uid} url ${ds.url}: docker-compose.yml has no service "${hp.host}"`);
    else {
      const lp = listenPort(hp.host, s);
      if (lp !== hp.port) problems.push(`dashboards/provisioning: data source ${ds.uid} url ${ds.url}: service ${hp.host} listens on ${lp}`);
      if (kinds[ds.type] && !(s.image ?? '').startsWith(kinds[ds.type])) problems.push(`dashboards/provisioning: data source ${ds.uid} (type ${ds.type}) points at service ${hp.host} running ${s.image}`);
    }
    if (!/^numrep-[a-z-]+$/.test(ds.uid ?? '')) problems.push(`dashboards/provisioning: data source ${ds.name} has no stable uid`);
  }
  for (const t of ['prometheus', 'alertmanager']) if (!st.datasources.some((d) => d.type === t)) problems.push(`dashboards/provisioning: no ${t} data source`);
  return problems;
}

/** Whether a file or directory exists and is non-empty (for build outputs). */
export function nonEmpty(p: string): boolean {
  if (!existsSync(p)) return false;
  return statSync(p).isDirectory() ? readdirSync(p).length > 0 : statSync(p).size > 0;
}

export { dirname };
