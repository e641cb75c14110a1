#!/usr/bin/env node
// Generates the provisioned Grafana dashboards in this folder (dashboards/*.json).
//
//   node dashboards/generate.mjs          write the JSON files
//   node dashboards/generate.mjs --check  exit 1 when a committed file differs from what this script makes
//
// The JSON files are what Grafana loads and what users import; this script is how they are kept consistent
// (one datasource reference, a description and a unit on every panel, a layout without overlaps). Edit here,
// run it, commit both. tests/dashboards/ lints the JSON itself, so a hand-edited file is checked the same way.
//
// Metric names: docs/metrics.md (the contract) and the `numrep:` recording rules in alerting/rules/.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Grafana 11/12 schema; Grafana 13 (the version docker-compose.yml runs) migrates it on load. */
export const SCHEMA_VERSION = 41;
export const PLUGIN_ID = 'numrep-reputation-panel';
const DS = { type: 'prometheus', uid: '${datasource}' };

// ------------------------------------------------------------------------------------------------
// Variables

const datasourceVar = () => ({
  name: 'datasource',
  label: 'Prometheus',
  description: 'The Prometheus that scrapes the numrep exporter (provisioned as uid numrep-prometheus).',
  type: 'datasource',
  query: 'prometheus',
  current: {},
  hide: 0,
  refresh: 1,
  regex: '',
  options: [],
  skipUrlSync: false,
});

function queryVar(name, label, query, { multi = false, all = false, description, sort = 1 } = {}) {
  return {
    name,
    label,
    description,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    refresh: 2,
    regex: '',
    sort,
    multi,
    includeAll: all,
    ...(all ? { allValue: '.*' } : {}),
    current: all ? { selected: true, text: ['All'], value: ['$__all'] } : {},
    options: [],
    hide: 0,
    skipUrlSync: false,
  };
}

function customVar(name, label, values, current, description) {
  return {
    name,
    label,
    description,
    type: 'custom',
    query: values.join(','),
    current: { selected: true, text: current, value: current },
    options: values.map((v) => ({ selected: v === current, text: v, value: v })),
    multi: false,
    includeAll: false,
    hide: 0,
    skipUrlSync: false,
  };
}

function constantVar(name, value, description) {
  return {
    name,
    description,
    type: 'constant',
    query: value,
    current: { selected: true, text: value, value },
    options: [{ selected: true, text: value, value }],
    hide: 2,
    skipUrlSync: true,
  };
}

const poolVar = () =>
  queryVar('pool', 'Pool', 'label_values(numrep_pool_numbers, pool)', {
    multi: true,
    all: true,
    description: 'Pools of caller numbers (from the number inventory; "default" when none is imported).',
  });

// ------------------------------------------------------------------------------------------------
// Panels

/** A PromQL target. `instant` for current values; `table` for instant table format. */
function q(refId, expr, legendFormat = '__auto', { instant = false, table = false, interval } = {}) {
  return {
    refId,
    datasource: DS,
    editorMode: 'code',
    expr,
    legendFormat,
    range: !instant && !table,
    instant: instant || table,
    format: table ? 'table' : 'time_series',
    ...(interval ? { interval } : {}),
  };
}

const thresholds = (steps) => ({
  mode: 'absolute',
  steps: steps.map(([value, color]) => ({ color, value })),
});
const GREEN = [[null, 'green']];
/** Higher is worse (cancel, rejection, block ratios...). */
const badAbove = (orange, red) => thresholds([[null, 'green'], [orange, 'orange'], [red, 'red']]);
/** Higher is better (answer ratio, score, healthy share). */
const goodAbove = (orange, green) => thresholds([[null, 'red'], [orange, 'orange'], [green, 'green']]);

const SCORE_THRESHOLDS = goodAbove(50, 80); // docs/scoring.md bands: 0–49 critical, 50–79 degraded, 80–100 excellent
const ANSWER_THRESHOLDS = goodAbove(0.25, 0.4); // < 25 % alert, 25–40 % watch, ≥ 40 % healthy

function ts({ stack = false, bars = false, thresholdsStyle } = {}) {
  return {
    drawStyle: bars ? 'bars' : 'line',
    lineInterpolation: 'linear',
    lineWidth: 1,
    fillOpacity: stack || bars ? 60 : 10,
    gradientMode: 'none',
    showPoints: 'never',
    pointSize: 4,
    spanNulls: false,
    stacking: { mode: stack ? 'normal' : 'none', group: 'A' },
    axisPlacement: 'auto',
    axisLabel: '',
    axisBorderShow: false,
    axisCenteredZero: false,
    axisColorMode: 'text',
    axisSoftMin: 0,
    barAlignment: 0,
    scaleDistribution: { type: 'linear' },
    hideFrom: { legend: false, tooltip: false, viz: false },
    insertNulls: false,
    thresholdsStyle: { mode: thresholdsStyle ?? 'off' },
  };
}

/** Fixed colours per series name (status, flag...). */
const colourBy = (byName) =>
  Object.entries(byName).map(([name, color]) => ({ matcher: { id: 'byName', options: name }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }] }));
const STATUS_COLOURS = colourBy({ healthy: 'green', in_progress: 'blue', mixed: 'orange', spam: 'red' });
const ACTION_COLOURS = colourBy({ keep: 'green', slow_down: 'yellow', rest: 'orange', retire: 'red', remediate: 'purple' });
const DIAGNOSIS_COLOURS = colourBy({ healthy: 'green', external: 'blue', engagement: 'yellow', degrading: 'orange', blacklisted: 'red' });

function fieldConfig(unit, { min, max, th = thresholds(GREEN), custom, mappings = [], decimals, colorMode, overrides = [] } = {}) {
  return {
    defaults: {
      unit,
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
      ...(decimals !== undefined ? { decimals } : {}),
      color: { mode: colorMode ?? 'palette-classic' },
      thresholds: th,
      mappings,
      ...(custom ? { custom } : {}),
    },
    overrides,
  };
}

const legend = (placement = 'bottom', calcs = []) => ({ showLegend: true, displayMode: calcs.length ? 'table' : 'list', placement, calcs });
const tooltip = { mode: 'multi', sort: 'desc', hideZeros: false };
const reduce = (calcs = ['lastNotNull']) => ({ values: false, calcs, fields: '' });

/**
 * Panel builders: every panel gets the datasource variable, a description and (where it shows numbers) a unit.
 * `size` is [w, h]; the layout pass assigns x/y.
 */
/** Every panel starts the same way; `rest` (fieldConfig, options, …) follows in its own key order. */
function panel(type, title, description, size, targets, rest) {
  return { type, title, description, size, targets, ...rest };
}

function timeseries(title, description, size, targets, unit, o = {}) {
  return panel('timeseries', title, description, size, targets, {
    fieldConfig: fieldConfig(unit, { ...o, custom: ts(o) }),
    options: { legend: legend(o.legendPlacement ?? 'bottom', o.calcs ?? []), tooltip },
  });
}

function stat(title, description, size, targets, unit, o = {}) {
  return panel('stat', title, description, size, targets, {
    fieldConfig: fieldConfig(unit, { colorMode: 'thresholds', ...o }),
    options: {
      reduceOptions: reduce(),
      orientation: o.orientation ?? 'auto',
      textMode: o.textMode ?? 'auto',
      colorMode: o.statColor ?? 'value',
      graphMode: o.graphMode ?? 'none',
      justifyMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
    },
  });
}

function gauge(title, description, size, targets, unit, o = {}) {
  return panel('gauge', title, description, size, targets, {
    fieldConfig: fieldConfig(unit, { colorMode: 'thresholds', ...o }),
    options: { reduceOptions: reduce(), orientation: 'auto', showThresholdLabels: false, showThresholdMarkers: true, minVizWidth: 75, minVizHeight: 75, sizing: 'auto' },
  });
}

function bargauge(title, description, size, targets, unit, o = {}) {
  return panel('bargauge', title, description, size, targets, {
    fieldConfig: fieldConfig(unit, { colorMode: 'thresholds', ...o }),
    options: {
      reduceOptions: reduce(),
      orientation: o.orientation ?? 'horizontal',
      displayMode: 'gradient',
      valueMode: 'color',
      namePlacement: 'auto',
      showUnfilled: true,
      sizing: 'auto',
      minVizWidth: 8,
      minVizHeight: 16,
      maxVizHeight: 300,
    },
  });
}

function table(title, description, size, targets, unit, { overrides = [], transformations = [], th, sortBy = [] } = {}) {
  const fc = fieldConfig(unit, { th, colorMode: 'thresholds', custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false, filterable: true } });
  fc.overrides = overrides;
  return panel('table', title, description, size, targets, {
    fieldConfig: fc,
    options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false, fields: '' }, sortBy },
    transformations,
  });
}

function stateTimeline(title, description, size, targets, mappings) {
  return panel('state-timeline', title, description, size, targets, {
    fieldConfig: fieldConfig('none', {
      colorMode: 'thresholds',
      mappings,
      custom: { lineWidth: 0, fillOpacity: 80, hideFrom: { legend: false, tooltip: false, viz: false }, insertNulls: false, spanNulls: false },
    }),
    options: { mergeValues: true, showValue: 'auto', alignValue: 'left', rowHeight: 0.9, legend: legend(), tooltip: { mode: 'single', sort: 'none', hideZeros: false } },
  });
}

function piechart(title, description, size, targets, unit) {
  return panel('piechart', title, description, size, targets, {
    fieldConfig: fieldConfig(unit, { custom: { hideFrom: { legend: false, tooltip: false, viz: false } } }),
    options: {
      reduceOptions: reduce(),
      pieType: 'donut',
      displayLabels: ['name', 'percent'],
      legend: { showLegend: true, displayMode: 'table', placement: 'right', values: ['value'] },
      tooltip: { mode: 'single', sort: 'none', hideZeros: false },
    },
  });
}

function heatmap(title, description, size, targets, yUnit, o = {}) {
  return panel('heatmap', title, description, size, targets, {
    ...(o.repeat ? { repeat: o.repeat, repeatDirection: 'h', maxPerRow: 3 } : {}),
    fieldConfig: fieldConfig(yUnit, { custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: 'linear' } } }),
    options: {
      calculate: true,
      calculation: { xBuckets: { mode: 'size', value: '' }, yBuckets: { mode: 'size', value: o.bucket ?? '0.05', scale: { type: 'linear' } } },
      cellGap: 1,
      cellValues: { unit: 'short' },
      color: { mode: 'scheme', scheme: o.scheme ?? 'Oranges', fill: 'dark-orange', scale: 'exponential', exponent: 0.5, steps: 64, reverse: false },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      showValue: 'never',
      tooltip: { mode: 'single', yHistogram: true, showColorScale: true },
      yAxis: { axisPlacement: 'left', reverse: false, unit: yUnit, min: 0, max: 1, axisLabel: 'share of calls' },
    },
  });
}

function reputationPanel(title, description, size, targets, options) {
  return { type: PLUGIN_ID, title, description, size, targets, options };
}

/** Lays panels out left to right, wrapping at 24 columns; assigns ids. Rows (`{row: title}`) start a new line. */
function layout(items) {
  const panels = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  let id = 1;
  for (const it of items) {
    if (it.row) {
      y += rowH;
      x = 0;
      rowH = 0;
      panels.push({ type: 'row', title: it.row, id: id++, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
      y += 1;
      continue;
    }
    const [w, h] = it.size;
    if (x + w > 24) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    const { size, ...rest } = it;
    const p = { id: id++, type: rest.type, title: rest.title, description: rest.description, datasource: DS, gridPos: { x, y, w, h }, ...rest };
    if (p.type === 'text') delete p.datasource;
    panels.push(p);
    x += w;
    rowH = Math.max(rowH, h);
  }
  return panels;
}

function dashboard({ uid, title, description, tags, variables, items, links = [], annotations = [], time = 'now-24h', refresh = '1m' }) {
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...annotations,
      ],
    },
    description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      { title: 'numrep', type: 'dashboards', tags: ['numrep'], asDropdown: true, includeVars: false, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' },
      ...links,
    ],
    panels: layout(items),
    refresh,
    schemaVersion: SCHEMA_VERSION,
    tags: ['numrep', ...tags],
    templating: { list: variables },
    time: { from: time, to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title,
    uid,
    version: 1,
    weekStart: '',
  };
}

// ------------------------------------------------------------------------------------------------
// Pool overview

const P = 'pool=~"$pool"';
/** Worst-N selector shared by the reputation panel targets. */
const worst = `and on (number, pool) bottomk($worst, numrep_number_reputation_score{${P}})`;
/** Pool-wide ratio for a window: Σ(ratio × calls) / Σ calls over the pool's numbers. */
const poolRatio = (metric, window) =>
  `sum by (window) (numrep_number_${metric}{${P},window="${window}"} * on (number, pool, window) numrep_number_calls{${P},window="${window}"})\n/\nsum by (window) (numrep_number_calls{${P},window="${window}"} > 0)`;

const poolOverview = dashboard({
  uid: 'numrep-pool-overview',
  title: 'numrep / Pool overview',
  description: 'Caller-number pools at a glance: status, healthy share, pool-wide ratios, carriers, the worst numbers and active alerts.',
  tags: ['pool'],
  variables: [
    datasourceVar(),
    poolVar(),
    customVar('worst', 'Worst numbers shown', ['10', '20', '50', '100'], '20', 'How many of the lowest-scoring numbers the Number Reputation panel lists.'),
  ],
  items: [
    stat(
      'Numbers by status',
      'Numbers in the selected pools by current status (numrep_pool_numbers). in_progress: too few calls to judge yet; mixed: a carrier flag or warning that is not yet consistent; spam: flagged consistently or labelled by an engine.',
      [8, 5],
      [q('A', `sum by (status) (numrep_pool_numbers{${P}})`, '{{status}}', { instant: true })],
      'short',
      { th: thresholds(GREEN), textMode: 'value_and_name', statColor: 'background', decimals: 0, colorMode: 'fixed', overrides: STATUS_COLOURS },
    ),
    gauge(
      'Healthy share per pool',
      'Healthy numbers / numbers that can be judged (in_progress left out), per pool (recording rule numrep:pool_healthy:ratio). The PoolHealthyShareLow alert fires below 70 % for 30 minutes.',
      [8, 5],
      [q('A', `numrep:pool_healthy:ratio{${P}}`, '{{pool}}', { instant: true })],
      'percentunit',
      { min: 0, max: 1, th: goodAbove(0.5, 0.7), decimals: 0 },
    ),
    stat(
      'Usable numbers',
      'Numbers still fit to dial (healthy plus warming up) and the pool size, per pool (numrep:pool_usable_numbers:sum, numrep:pool_numbers:sum). PoolExhaustionForecast warns when the usable count trends to zero within 3 days.',
      [8, 5],
      [
        q('A', `numrep:pool_usable_numbers:sum{${P}}`, '{{pool}} usable', { instant: true }),
        q('B', `numrep:pool_numbers:sum{${P}}`, '{{pool}} total', { instant: true }),
      ],
      'short',
      { textMode: 'value_and_name', decimals: 0 },
    ),
    timeseries(
      'Numbers by status over time',
      'Count of numbers per status in the selected pools. A growing mixed or spam band is the pool degrading; in_progress grows when new numbers are added.',
      [12, 8],
      [q('A', `sum by (status) (numrep_pool_numbers{${P}})`, '{{status}}')],
      'short',
      { stack: true, decimals: 0, overrides: STATUS_COLOURS },
    ),
    bargauge(
      'Pool ratios, 24h vs 7d',
      'Pool-wide answer, cancel (487), rejection and block ratios over the last 24h and the 7d baseline: each number\'s ratio weighted by its calls. A 24h answer ratio well below the 7d one, or 487s climbing, is the early sign of a label.',
      [12, 8],
      [
        q('A', poolRatio('answer_ratio', '24h'), 'answer 24h', { instant: true }),
        q('B', poolRatio('answer_ratio', '7d'), 'answer 7d', { instant: true }),
        q('C', poolRatio('cancel_ratio', '24h'), 'cancel (487) 24h', { instant: true }),
        q('D', poolRatio('cancel_ratio', '7d'), 'cancel (487) 7d', { instant: true }),
        q('E', poolRatio('rejection_ratio', '24h'), 'rejection 24h', { instant: true }),
        q('F', poolRatio('rejection_ratio', '7d'), 'rejection 7d', { instant: true }),
        q('G', poolRatio('block_ratio', '24h'), 'block 24h', { instant: true }),
        q('H', poolRatio('block_ratio', '7d'), 'block 7d', { instant: true }),
      ],
      'percentunit',
      { min: 0, max: 1, th: thresholds([[null, 'blue']]), decimals: 1 },
    ),
    timeseries(
      'Answer ratio per carrier (24h)',
      'Answered / calls over the trailing 24h per pool and terminating carrier (recording rule numrep:pool_carrier_answer:ratio24h). A drop on one carrier only points at that carrier\'s analytics engine (Hiya for AT&T, TNS for Verizon, First Orion for T-Mobile).',
      [12, 8],
      [q('A', `numrep:pool_carrier_answer:ratio24h{${P}}`, '{{pool}} · {{carrier}}')],
      'percentunit',
      { min: 0, max: 1, th: ANSWER_THRESHOLDS, thresholdsStyle: 'dashed' },
    ),
    timeseries(
      'Pool ratios over time (24h window)',
      'Pool-wide answer, cancel (487), rejection and block ratios of the trailing 24h window, weighted by each number\'s calls.',
      [12, 8],
      [
        q('A', poolRatio('answer_ratio', '24h'), 'answer'),
        q('B', poolRatio('cancel_ratio', '24h'), 'cancel (487)'),
        q('C', poolRatio('rejection_ratio', '24h'), 'rejection'),
        q('D', poolRatio('block_ratio', '24h'), 'block'),
      ],
      'percentunit',
      { min: 0, max: 1 },
    ),
    reputationPanel(
      'Worst numbers',
      'The $worst lowest-scoring numbers of the selected pools: status, score, sub-score ratings, per-carrier flags, calls and answer ratio over 24h with its trend, the recommended action (its tooltip adds the diagnosis when the number is not healthy), where the number lives and its registration. Click a row for the number\'s detail dashboard.',
      [24, 12],
      [
        q('A', `(numrep_number_status{${P}} or numrep_number_engine_flagged{${P}})\n${worst}`, '__auto', { table: true }),
        q('B', `numrep_number_reputation_score{${P}}\n${worst}`, '__auto', { table: true }),
        q('C', `numrep_number_subscore{${P}}\n${worst}`, '__auto', { table: true }),
        q('D', `(numrep_number_recommendation{${P}} or numrep_number_rest_until_timestamp_seconds{${P}})\n${worst}`, '__auto', { table: true }),
        q('E', `numrep_number_carrier_flag{${P}}\n${worst}`, '__auto', { table: true }),
        q('F', `numrep_number_calls{${P},window="24h"}\n${worst}`, '__auto', { table: true }),
        q('G', `numrep_number_answer_ratio{${P},window="24h"}\n${worst}`, '__auto', { interval: '1h' }),
        q('H', `(numrep_number_consumers_over_cap{${P},window="24h"} or numrep_number_attempts_over_cap{${P},window="24h"} or numrep_number_repeat_dial_ratio{${P},window="24h"})\n${worst}`, '__auto', { table: true }),
        q('I', `numrep_number_info{${P}}\n${worst}`, '__auto', { table: true }),
        q('J', `numrep_number_diagnosis{${P}}\n${worst}`, '__auto', { table: true }),
      ],
      {
        version: 1,
        columns: ['pool', 'status', 'score', 'ratings', 'carriers', 'calls24h', 'answerRatio', 'trend', 'recommendation', 'area', 'registration'],
        bands: { excellent: 80, critical: 50 },
        sort: { key: 'score', dir: 'asc' },
        density: 'normal',
        link: { template: '/d/numrep-number-detail/number-detail?var-number=${number}', newTab: false },
        carriers: '',
        showToolbar: true,
      },
    ),
    timeseries(
      'Consumers over the daily cap (24h)',
      'Consumers the pool\'s numbers, together, called more than the pool\'s daily cap (numrep_pool_consumer_daily_cap, default 3) within 24h, and the calls beyond it. Consumers are counted by a keyed hash, never named. Above 0 for 5 minutes, PoolConsumersOverDailyCap fires.',
      [12, 8],
      [
        q('A', `numrep_pool_consumers_over_cap{${P},window="24h"}`, '{{pool}} consumers over cap'),
        q('B', `numrep_pool_attempts_over_cap{${P},window="24h"}`, '{{pool}} calls over cap'),
      ],
      'short',
      { min: 0, decimals: 0, th: thresholds([[null, 'green'], [1, 'red']]), thresholdsStyle: 'dashed' },
    ),
    timeseries(
      'Repeat-dial ratio',
      'Calls to a consumer the pool had already called in the window / calls, over 24h and 7d (numrep_pool_repeat_dial_ratio). High and rising: a campaign re-dials the same people instead of reaching new ones.',
      [12, 8],
      [
        q('A', `numrep_pool_repeat_dial_ratio{${P},window="24h"}`, '{{pool}} 24h'),
        q('B', `numrep_pool_repeat_dial_ratio{${P},window="7d"}`, '{{pool}} 7d'),
      ],
      'percentunit',
      { min: 0, max: 1 },
    ),
    timeseries(
      'Conversion ratio',
      'Conversions / calls that reached a person, by the dialer\'s dispositions (a result column or userfield), per pool over 24h and 7d (numrep_pool_conversion_ratio). Empty when the records carry no dispositions. A declining score with a stable conversion ratio points at the number, not the campaign.',
      [12, 8],
      [
        q('A', `numrep_pool_conversion_ratio{${P},window="24h"}`, '{{pool}} 24h'),
        q('B', `numrep_pool_conversion_ratio{${P},window="7d"}`, '{{pool}} 7d'),
      ],
      'percentunit',
      { min: 0, max: 1 },
    ),
    timeseries(
      'Abandoned share per campaign (3 % rule)',
      'Abandoned calls / (calls that reached a person + abandoned), per campaign of the inventory over 7d (numrep_campaign_abandoned_ratio), against the limit (numrep_abandoned_ratio_limit, default 3 %: dashed). The US Telemarketing Sales Rule measures it per campaign over 30 days; 7 days is the early signal.',
      [12, 8],
      [
        q('A', 'numrep_campaign_abandoned_ratio{window="7d"}', '{{campaign}}'),
        q('B', 'numrep_abandoned_ratio_limit', 'limit'),
      ],
      'percentunit',
      { min: 0, th: thresholds([[null, 'green'], [0.03, 'red']]), thresholdsStyle: 'dashed', decimals: 1 },
    ),
    timeseries(
      'Calls by outcome',
      'Calls ingested per second by outcome across the selected pools (numrep_calls_total). Counted at ingest, so a dropped CDR file shows as a burst.',
      [12, 8],
      [q('A', `sum by (outcome) (rate(numrep_calls_total{${P}}[$__rate_interval]))`, '{{outcome}}')],
      'cps',
      { stack: true },
    ),
    table(
      'Active alerts',
      'numrep alerts pending or firing in Prometheus (the ALERTS series) for the selected pools, plus carrier-wide alerts (which have no pool). Routing, silences and notifications are in Alertmanager.',
      [12, 8],
      [q('A', `ALERTS{alertname!="", ${P}}`, '', { table: true })],
      'none',
      {
        transformations: [
          { id: 'organize', options: { excludeByName: { Time: true, Value: true, __name__: true, job: true, instance: true, window: true }, indexByName: { alertstate: 0, severity: 1, alertname: 2, pool: 3, number: 4, carrier: 5 }, renameByName: { alertstate: 'state' } } },
        ],
        sortBy: [{ displayName: 'severity', desc: false }],
      },
    ),
    { row: 'Remediation (all pools)' },
    stat(
      'Remediation cases by state',
      'Cases with the analytics engines (numrep_remediation_cases), all pools: suggested (numrep saw an engine label the number; nobody has opened it yet), open, submitted (waiting on the engine), resolved, rejected. Open one with `numrep remediation open NUMBER --engine …` (runbook NumberEngineLabelled).',
      [8, 5],
      [q('A', 'sum by (state) (numrep_remediation_cases)', '{{state}}', { instant: true })],
      'short',
      { textMode: 'value_and_name', decimals: 0 },
    ),
    stat(
      'Time in review (median)',
      'Median time from submitted (or opened, when never marked submitted) to resolved or rejected, per engine, over every closed case (numrep_remediation_review_seconds). Empty until a case has been closed.',
      [8, 5],
      [q('A', 'histogram_quantile(0.5, sum by (engine, le) (numrep_remediation_review_seconds_bucket))', '{{engine}}', { instant: true })],
      's',
      { textMode: 'value_and_name', decimals: 1 },
    ),
    stat(
      'Re-flagged within 30 days',
      'Resolved cases whose number the same engine labelled again within 30 days of the resolution (numrep_remediation_reflagged_total): the fix did not hold; the calling behaviour, not the label, needs the work.',
      [8, 5],
      [q('A', 'sum by (engine) (numrep_remediation_reflagged_total)', '{{engine}}', { instant: true })],
      'short',
      { textMode: 'value_and_name', decimals: 0, th: badAbove(0.5, 1) },
    ),
    timeseries(
      'Active cases by engine',
      'Suggested, open and submitted cases per engine over time. A submitted band that only grows is an engine that does not answer: chase the ticket.',
      [24, 7],
      [q('A', 'sum by (engine, state) (numrep_remediation_cases{state=~"suggested|open|submitted"})', '{{engine}} · {{state}}')],
      'short',
      { stack: true, decimals: 0 },
    ),
  ],
});

// ------------------------------------------------------------------------------------------------
// Number detail

const N = 'number="$number"';
const numberDetail = dashboard({
  uid: 'numrep-number-detail',
  title: 'numrep / Number detail',
  description: 'One caller number: score and sub-scores over time, status and recommended action, KPIs per window, carriers, attestation, velocity and engine labels.',
  tags: ['number'],
  variables: [
    datasourceVar(),
    queryVar('pool', 'Pool', 'label_values(numrep_pool_numbers, pool)', { multi: true, all: true, description: 'Narrows the number list to these pools.' }),
    queryVar('number', 'Number', `label_values(numrep_number_reputation_score{${P}}, number)`, {
      description: 'The caller number (E.164). The Number Reputation panel links here with ?var-number=….',
    }),
    constantVar('daily_cap', '100', 'Daily call cap per number: the exporter\'s reputation velocity cap (default 100) and the NumberVelocityOverDailyCap alert threshold. Keep the three in step.'),
  ],
  annotations: [
    {
      name: 'numrep alerts',
      datasource: DS,
      enable: true,
      hide: false,
      iconColor: 'red',
      expr: `ALERTS{${N}}`,
      titleFormat: '{{alertname}}',
      textFormat: '{{alertstate}} · {{severity}}',
      tagKeys: 'alertstate,severity,carrier',
      useValueForTime: false,
      step: '60s',
    },
  ],
  links: [
    { title: 'Pool overview', type: 'link', url: '/d/numrep-pool-overview/pool-overview', icon: 'dashboard', includeVars: false, keepTime: true, asDropdown: false, tags: [], targetBlank: false, tooltip: '' },
  ],
  items: [
    stat(
      'Reputation score',
      'Composite score 0–100 (weighted sub-scores, capped when a carrier blocks or an engine labels the number). 80–100 excellent, 50–79 degraded, below 50 critical.',
      [4, 5],
      [q('A', `numrep_number_reputation_score{${N}}`, 'score', { instant: true })],
      'none',
      { min: 0, max: 100, th: SCORE_THRESHOLDS, decimals: 0, statColor: 'background' },
    ),
    stat(
      'Status',
      'Current status: in_progress (too few calls to judge), healthy, mixed (a carrier flag or warning not yet consistent) or spam (flagged in both the 24h and 7d windows, or labelled by an engine now).',
      [5, 5],
      [q('A', `numrep_number_status{${N}} == 1`, '{{status}}', { instant: true })],
      'none',
      { textMode: 'name', statColor: 'background', th: thresholds([[null, 'blue']]), colorMode: 'fixed', overrides: STATUS_COLOURS },
    ),
    stat(
      'Recommended action',
      'The one action numrep recommends: keep, slow_down (over the daily cap), rest, retire (rotate out of the pool) or remediate (labelled by a named engine: open a review with it). /api/v1/numbers/<number> gives the reason and the rest-until time.',
      [5, 5],
      [q('A', `numrep_number_recommendation{${N}} == 1`, '{{action}}', { instant: true })],
      'none',
      { textMode: 'name', statColor: 'background', th: thresholds([[null, 'purple']]), colorMode: 'fixed', overrides: ACTION_COLOURS },
    ),
    stat(
      'Calls 24h / 7d',
      'Call attempts from the number in the trailing 24 hours and 7 days.',
      [5, 5],
      [q('A', `numrep_number_calls{${N},window=~"24h|7d"}`, '{{window}}', { instant: true })],
      'short',
      { textMode: 'value_and_name', decimals: 0 },
    ),
    stat(
      'First / last seen',
      'When numrep first and most recently saw a call from the number (maturity counts age since first seen).',
      [5, 5],
      [
        q('A', `numrep_number_first_seen_timestamp_seconds{${N}} * 1000`, 'first seen', { instant: true }),
        q('B', `numrep_number_last_seen_timestamp_seconds{${N}} * 1000`, 'last seen', { instant: true }),
      ],
      'dateTimeFromNow',
      { textMode: 'value_and_name', th: thresholds([[null, 'text']]) },
    ),
    timeseries(
      'Score and sub-scores',
      'The composite reputation score and its four sub-scores (connection, engagement, sentiment, maturity), each 0–100. Dashed lines: the 50 (critical) and 80 (excellent) bands.',
      [16, 9],
      [
        q('A', `numrep_number_reputation_score{${N}}`, 'score'),
        q('B', `numrep_number_subscore{${N}}`, '{{dimension}}'),
      ],
      'none',
      { min: 0, max: 100, th: SCORE_THRESHOLDS, thresholdsStyle: 'dashed', calcs: ['lastNotNull', 'min'], legendPlacement: 'right' },
    ),
    bargauge(
      'Sub-scores now',
      'Current sub-scores: good ≥ 80, normal ≥ 60, poor ≥ 40, very poor below. connection: answer ratio and its drop; engagement: short calls and talk time; sentiment: rejections, blocks, reports and labels; maturity: age, history and velocity.',
      [8, 9],
      [q('A', `numrep_number_subscore{${N}}`, '{{dimension}}', { instant: true })],
      'none',
      { min: 0, max: 100, th: thresholds([[null, 'red'], [40, 'orange'], [60, 'yellow'], [80, 'green']]), decimals: 0 },
    ),
    table(
      'KPIs per window',
      'Every KPI of the number over the trailing 1h, 24h and 7d windows. Ratios over zero calls are absent (empty), never 0.',
      [24, 6],
      [
        q('A', `max by (window) (numrep_number_calls{${N}})`, '', { table: true }),
        q('B', `max by (window) (numrep_number_answer_ratio{${N}})`, '', { table: true }),
        q('C', `max by (window) (numrep_number_cancel_ratio{${N}})`, '', { table: true }),
        q('D', `max by (window) (numrep_number_rejection_ratio{${N}})`, '', { table: true }),
        q('E', `max by (window) (numrep_number_block_ratio{${N}})`, '', { table: true }),
        q('F', `max by (window) (numrep_number_voicemail_ratio{${N}})`, '', { table: true }),
        q('G', `max by (window) (numrep_number_short_call_ratio{${N}})`, '', { table: true }),
        q('H', `max by (window) (numrep_number_talk_seconds_avg{${N}})`, '', { table: true }),
      ],
      'percentunit',
      {
        transformations: [
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, number: true, pool: true, job: true, instance: true, __name__: true },
              indexByName: { window: 0, 'Value #A': 1, 'Value #B': 2, 'Value #C': 3, 'Value #D': 4, 'Value #E': 5, 'Value #F': 6, 'Value #G': 7, 'Value #H': 8 },
              renameByName: {
                'Value #A': 'calls',
                'Value #B': 'answer',
                'Value #C': 'cancel (487)',
                'Value #D': 'rejection',
                'Value #E': 'block',
                'Value #F': 'voicemail',
                'Value #G': 'short calls',
                'Value #H': 'mean talk',
              },
            },
          },
        ],
        overrides: [
          { matcher: { id: 'byName', options: 'calls' }, properties: [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 0 }] },
          { matcher: { id: 'byName', options: 'mean talk' }, properties: [{ id: 'unit', value: 's' }] },
        ],
        sortBy: [{ displayName: 'window', desc: false }],
      },
    ),
    timeseries(
      'Ratios over time (24h window)',
      'Answer, cancel (487), rejection, block and short-call ratios of the trailing 24h window. Industry bands for the answer ratio: ≥ 40 % healthy, 25–40 % watch, < 25 % alert.',
      [12, 8],
      [
        q('A', `numrep_number_answer_ratio{${N},window="24h"}`, 'answer'),
        q('B', `numrep_number_cancel_ratio{${N},window="24h"}`, 'cancel (487)'),
        q('C', `numrep_number_rejection_ratio{${N},window="24h"}`, 'rejection'),
        q('D', `numrep_number_block_ratio{${N},window="24h"}`, 'block'),
        q('E', `numrep_number_short_call_ratio{${N},window="24h"}`, 'short calls'),
      ],
      'percentunit',
      { min: 0, max: 1 },
    ),
    timeseries(
      'Answer drop, 24h vs 7d',
      'Answer ratio over the 7d baseline minus the last 24h (recording rule numrep:number_answer_drop:24h_vs_7d); positive is worse. More than 10 points is a drop (dashed line).',
      [12, 8],
      [q('A', `numrep:number_answer_drop:24h_vs_7d{${N}}`, 'drop')],
      'percentunit',
      { th: badAbove(0.05, 0.1), thresholdsStyle: 'dashed' },
    ),
    table(
      'Carriers now (24h)',
      'Per terminating carrier over the trailing 24h: calls, answer, cancel (487), rejection and block ratios. A carrier where only this number drops is where its label is.',
      [12, 7],
      [
        q('A', `max by (carrier) (numrep_number_carrier_calls{${N},window="24h"})`, '', { table: true }),
        q('B', `max by (carrier) (numrep_number_carrier_answer_ratio{${N},window="24h"})`, '', { table: true }),
        q('C', `max by (carrier) (numrep_number_carrier_cancel_ratio{${N},window="24h"})`, '', { table: true }),
        q('D', `max by (carrier) (numrep_number_carrier_rejection_ratio{${N},window="24h"})`, '', { table: true }),
        q('E', `max by (carrier) (numrep_number_carrier_block_ratio{${N},window="24h"})`, '', { table: true }),
      ],
      'percentunit',
      {
        transformations: [
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true, number: true, pool: true, window: true, job: true, instance: true, __name__: true },
              indexByName: { carrier: 0, 'Value #A': 1, 'Value #B': 2, 'Value #C': 3, 'Value #D': 4, 'Value #E': 5 },
              renameByName: { 'Value #A': 'calls', 'Value #B': 'answer', 'Value #C': 'cancel (487)', 'Value #D': 'rejection', 'Value #E': 'block' },
            },
          },
        ],
        overrides: [{ matcher: { id: 'byName', options: 'calls' }, properties: [{ id: 'unit', value: 'short' }, { id: 'decimals', value: 0 }] }],
      },
    ),
    stateTimeline(
      'Carrier flags',
      'Per-carrier flag over time: clean; warning (cancel or rejection ratio well above the carrier\'s pool baseline, or the answer ratio collapsing on that carrier only); flagged (blocks from that carrier or its engine\'s label).',
      [12, 7],
      [
        q(
          'A',
          `2 * max by (carrier) (numrep_number_carrier_flag{${N},state="flagged"})\nor\n1 * max by (carrier) (numrep_number_carrier_flag{${N},state="warning"})\nor\n0 * max by (carrier) (numrep_number_carrier_flag{${N},state="clean"})`,
          '{{carrier}}',
        ),
      ],
      [
        {
          type: 'value',
          options: {
            0: { text: 'clean', color: 'green', index: 0 },
            1: { text: 'warning', color: 'orange', index: 1 },
            2: { text: 'flagged', color: 'red', index: 2 },
          },
        },
      ],
    ),
    timeseries(
      'Answer ratio per carrier (24h)',
      'Answer ratio of this number on each carrier over the trailing 24h. The NumberAnswerRateDrop alert compares it with the 7d baseline (numrep:number_carrier_answer_drop:24h_vs_7d).',
      [12, 8],
      [q('A', `numrep_number_carrier_answer_ratio{${N},window="24h"}`, '{{carrier}}')],
      'percentunit',
      { min: 0, max: 1, th: ANSWER_THRESHOLDS, thresholdsStyle: 'dashed' },
    ),
    timeseries(
      'Cancel (487) ratio per carrier (24h)',
      'Share of this number\'s calls on each carrier that rang and were cancelled before answer (SIP 487). Consumers who see "Spam Likely" let it ring out: this climbs before blocks do.',
      [12, 8],
      [q('A', `numrep_number_carrier_cancel_ratio{${N},window="24h"}`, '{{carrier}}')],
      'percentunit',
      { min: 0, max: 1, th: badAbove(0.15, 0.3), thresholdsStyle: 'dashed' },
    ),
    piechart(
      'STIR/SHAKEN attestation (7d)',
      'Share of the number\'s calls in the last 7 days by attestation level (A full, B partial, C gateway, none). Anything but A lowers what terminating carriers trust.',
      [8, 8],
      [q('A', `numrep_number_attestation_ratio{${N},window="7d"}`, '{{level}}', { instant: true })],
      'percentunit',
    ),
    timeseries(
      'Velocity against the daily cap',
      'Calls in the trailing 24h against the daily cap ($daily_cap per number: dashed line), and the last hour\'s pace × 24. Over the cap, the number is recommended to slow down; engines punish velocity first.',
      [10, 8],
      [
        q('A', `numrep_number_calls{${N},window="24h"}`, 'calls 24h'),
        q('B', `numrep_number_calls{${N},window="1h"} * 24`, 'last hour × 24'),
      ],
      'short',
      { min: 0, th: thresholds([[null, 'green'], [100, 'red']]), thresholdsStyle: 'dashed', decimals: 0 },
    ),
    gauge(
      'Daily cap used',
      'Calls in the trailing 24h as a share of the daily cap ($daily_cap). Above 100 % the NumberVelocityOverDailyCap alert fires after 10 minutes.',
      [6, 8],
      [q('A', `numrep_number_calls{${N},window="24h"} / $daily_cap`, 'cap used', { instant: true })],
      'percentunit',
      { min: 0, max: 1.5, th: badAbove(0.8, 1), decimals: 0 },
    ),
    timeseries(
      'Recipient fatigue',
      'Consumers this number called more than its pool\'s daily cap within 24h (default 3 calls to one consumer), the calls beyond it, and the share of its 24h calls that went to a consumer it had already called (right axis). Consumers are counted by a keyed hash, never named; NumberConsumersOverDailyCap fires above 0.',
      [12, 8],
      [
        q('A', `numrep_number_consumers_over_cap{${N},window="24h"}`, 'consumers over cap'),
        q('B', `numrep_number_attempts_over_cap{${N},window="24h"}`, 'calls over cap'),
        q('C', `numrep_number_consumers{${N},window="24h"}`, 'consumers dialled'),
      ],
      'short',
      { min: 0, decimals: 0 },
    ),
    stat(
      'Repeat dials and conversion (24h)',
      'Repeat-dial ratio: calls to a consumer already called in the window / calls. Conversion ratio: conversions / calls that reached a person, by the dialer\'s dispositions (empty when the records carry none).',
      [12, 8],
      [
        q('A', `numrep_number_repeat_dial_ratio{${N},window="24h"}`, 'repeat dials', { instant: true }),
        q('B', `numrep_number_conversion_ratio{${N},window="24h"}`, 'conversion', { instant: true }),
      ],
      'percentunit',
      { textMode: 'value_and_name', decimals: 0, th: thresholds([[null, 'blue']]), colorMode: 'fixed' },
    ),
    stateTimeline(
      'Engine labels',
      'Latest label per analytics engine (hiya for AT&T, tns for Verizon, first_orion for T-Mobile, other), from `numrep labels import`: labelled means not clean. Empty when no label snapshot was imported for the number.',
      [16, 6],
      [q('A', `numrep_number_engine_flagged{${N}}`, '{{engine}}')],
      [{ type: 'value', options: { 0: { text: 'clean', color: 'green', index: 0 }, 1: { text: 'labelled', color: 'red', index: 1 } } }],
    ),
    stat(
      'Spam report ratio (7d)',
      'Spam reports / calls over 7 days, where the label snapshots carry report counts. Above 1 % is orange, above 2 % red (NumberSpamReportRateHigh).',
      [8, 6],
      [q('A', `numrep_number_report_ratio{${N},window="7d"}`, 'reports / calls', { instant: true })],
      'percentunit',
      { th: badAbove(0.01, 0.02), decimals: 2, graphMode: 'area' },
    ),
    stat(
      'Diagnosis',
      'What the evidence points at (numrep_number_diagnosis): healthy; external (the pool or a carrier moved, not this number); engagement (answers stable while the people reached convert less: the list or the script); degrading (the number\'s own calls are getting worse: early warning); blacklisted (blocks or engine labels). /api/v1/numbers/<number> gives its reason and every signal behind it.',
      [10, 3],
      [q('A', `numrep_number_diagnosis{${N}} == 1`, '{{diagnosis}}', { instant: true })],
      'none',
      { textMode: 'name', statColor: 'background', th: thresholds([[null, 'blue']]), colorMode: 'fixed', overrides: DIAGNOSIS_COLOURS },
    ),
    stat(
      'Where it lives and registration',
      'The country and area of the number (libphonenumber geocoding data; empty for ranges it does not place, such as mobile ones) and its registration state from the inventory `registered` column: registered, not_registered or unknown (numrep_number_info).',
      [14, 3],
      [q('A', `numrep_number_info{${N}}`, '{{country}} · {{area}} · {{registration}}', { instant: true })],
      'none',
      { textMode: 'name', th: thresholds([[null, 'text']]) },
    ),
  ],
});

// ------------------------------------------------------------------------------------------------
// Carriers

const C = 'carrier=~"$carrier"';
const carrierRatio = (metric, title, description, th) =>
  timeseries(title, description, [12, 8], [q('A', `numrep_carrier_${metric}{${C},window="$window"}`, '{{carrier}}')], 'percentunit', {
    min: 0,
    max: 1,
    th,
    thresholdsStyle: 'dashed',
  });

const carriers = dashboard({
  uid: 'numrep-carriers',
  title: 'numrep / Carriers',
  description: 'Terminating carriers across every number: ratios over time, numbers flagged or warned per carrier, 487 and block heatmaps, blocks by engine.',
  tags: ['carrier'],
  variables: [
    datasourceVar(),
    queryVar('carrier', 'Carrier', 'label_values(numrep_carrier_calls, carrier)', { multi: true, all: true, description: 'Terminating carriers (from the record, the trunk map or the prefix map).' }),
    customVar('window', 'Window', ['24h', '7d'], '24h', 'The trailing window of the carrier ratios.'),
    poolVar(),
  ],
  items: [
    carrierRatio('answer_ratio', 'Answer ratio per carrier', 'Answered / calls on each carrier across all our numbers, over the selected trailing window. A carrier-wide drop is an external cause (outage, network-wide filtering), not a number problem.', ANSWER_THRESHOLDS),
    carrierRatio('cancel_ratio', 'Cancel (487) ratio per carrier', 'Calls on each carrier that rang and were cancelled before answer (SIP 487) / calls. The per-number alerts compare each number with this baseline.', badAbove(0.15, 0.3)),
    carrierRatio('rejection_ratio', 'Rejection ratio per carrier', '(Rejected + busy) / calls on each carrier: 603, 607, 403 and busy. Below 5 % normal, 5–15 % concerning, above 15 % critical.', badAbove(0.05, 0.15)),
    carrierRatio('block_ratio', 'Block ratio per carrier', 'Blocked (608, 603 with "Network Blocked") / calls on each carrier. Any sustained block ratio means numbers are being refused by that carrier\'s analytics.', badAbove(0.01, 0.05)),
    timeseries(
      'Calls per carrier',
      'Call attempts terminating on each carrier in the selected trailing window.',
      [12, 8],
      [q('A', `numrep_carrier_calls{${C},window="$window"}`, '{{carrier}}')],
      'short',
      { decimals: 0 },
    ),
    timeseries(
      'Answer drop, 24h vs 7d',
      'Carrier-wide answer ratio over the 7d baseline minus the last 24h (recording rule numrep:carrier_answer_drop:24h_vs_7d); positive is worse. Above 10 points with ≥ 200 calls, CarrierAnswerRateDrop fires and per-number drops on that carrier are inhibited.',
      [12, 8],
      [q('A', `numrep:carrier_answer_drop:24h_vs_7d{${C}}`, '{{carrier}}')],
      'percentunit',
      { th: badAbove(0.05, 0.1), thresholdsStyle: 'dashed' },
    ),
    timeseries(
      'Numbers flagged / warned per carrier',
      'Numbers of the selected pools by their flag on each carrier: flagged (blocks or the engine\'s label), warning (cancel or rejection well above the carrier baseline, or answer collapsing on that carrier only), clean.',
      [12, 8],
      [q('A', `sum by (carrier, state) (numrep_number_carrier_flag{${C},${P}})`, '{{carrier}} {{state}}')],
      'short',
      { stack: true, bars: false, decimals: 0 },
    ),
    bargauge(
      'Flagged or warned now',
      'Numbers flagged or warned on each carrier now (selected pools).',
      [12, 8],
      [q('A', `sum by (carrier, state) (numrep_number_carrier_flag{${C},${P},state=~"flagged|warning"})`, '{{carrier}} {{state}}', { instant: true })],
      'short',
      { min: 0, th: thresholds([[null, 'orange']]), decimals: 0 },
    ),
    heatmap(
      '487 ratio across numbers — $carrier',
      'Distribution of the per-number cancel (487) ratio on this carrier over the trailing 24h: each cell counts numbers whose ratio falls in that band. A cluster moving up means many numbers are being screened as spam.',
      [24, 9],
      [q('A', `numrep_number_carrier_cancel_ratio{carrier=~"$carrier",${P},window="24h"}`, '{{number}}')],
      'percentunit',
      { repeat: 'carrier' },
    ),
    heatmap(
      'Block ratio across numbers — $carrier',
      'Distribution of the per-number block ratio on this carrier over the trailing 24h (608, 603+). Anything off the bottom row is a number the carrier refuses.',
      [24, 9],
      [q('A', `numrep_number_carrier_block_ratio{carrier=~"$carrier",${P},window="24h"}`, '{{number}}')],
      'percentunit',
      { repeat: 'carrier', scheme: 'Reds' },
    ),
    timeseries(
      'Blocks by engine',
      'Blocked calls per second by carrier and by the engine or redress host named in the SIP response (unknown when none is given), from numrep_blocks_total.',
      [24, 8],
      [q('A', `sum by (carrier, engine) (rate(numrep_blocks_total{${C}}[$__rate_interval]))`, '{{carrier}} · {{engine}}')],
      'cps',
      { stack: true },
    ),
  ],
});

// ------------------------------------------------------------------------------------------------
// Exporter health

const J = 'job=~"$job",instance=~"$instance"';
const exporterHealth = dashboard({
  uid: 'numrep-exporter-health',
  title: 'numrep / Exporter health',
  description: 'The numrep exporter itself: scrape health, records read and rejected, how far behind each source is, rotations, tracked numbers and the series budget.',
  tags: ['exporter'],
  refresh: '30s',
  time: 'now-6h',
  variables: [
    datasourceVar(),
    queryVar('job', 'Job', 'label_values(numrep_build_info, job)', { multi: false, description: 'Scrape job of the exporter (alerting/prometheus.yml: numrep).' }),
    queryVar('instance', 'Instance', 'label_values(numrep_build_info{job=~"$job"}, instance)', { multi: true, all: true, description: 'Exporter instances of the job.' }),
  ],
  items: [
    stat(
      'Up',
      'Whether Prometheus scrapes the exporter (1) or not (0). NumrepExporterDown pages after 5 minutes down.',
      [4, 4],
      [q('A', `up{${J}}`, '{{instance}}', { instant: true })],
      'none',
      { th: thresholds([[null, 'red'], [1, 'green']]), statColor: 'background', mappings: [{ type: 'value', options: { 0: { text: 'down', index: 0 }, 1: { text: 'up', index: 1 } } }] },
    ),
    stat(
      'Version',
      'numrep version and Node.js runtime of each instance (numrep_build_info).',
      [5, 4],
      [q('A', `numrep_build_info{${J}}`, '{{version}} · node {{node}}', { instant: true })],
      'none',
      { textMode: 'name', th: thresholds([[null, 'text']]) },
    ),
    stat(
      'Tracked numbers',
      'Numbers with calls in the 7d window or in the inventory.',
      [5, 4],
      [q('A', `sum(numrep_tracked_numbers{${J}})`, 'tracked', { instant: true })],
      'short',
      { decimals: 0, graphMode: 'area' },
    ),
    stat(
      'Series budget / dropped',
      'The configured cap on number × carrier series (--series-budget) and how many the budget left out at the last scrape. Dropped series cannot alert: NumrepSeriesBudgetExceeded warns after 30 minutes.',
      [10, 4],
      [
        q('A', `sum(numrep_series_budget{${J}})`, 'budget', { instant: true }),
        q('B', `sum(numrep_series_dropped{${J}})`, 'dropped', { instant: true }),
      ],
      'short',
      { textMode: 'value_and_name', decimals: 0 },
    ),
    timeseries(
      'Records read by format and result',
      'Records read per second by input format, accepted or rejected (numrep_ingest_records_total).',
      [12, 8],
      [q('A', `sum by (format, result) (rate(numrep_ingest_records_total{${J}}[$__rate_interval]))`, '{{format}} {{result}}')],
      'cps',
      { stack: true },
    ),
    timeseries(
      'Rejected records by reason',
      'Records rejected per second by format and reason. Rejected records are quarantined (quarantine.jsonl next to the database), not counted: the call metrics under-count them.',
      [12, 8],
      [q('A', `sum by (format, reason) (rate(numrep_ingest_records_total{${J},result="rejected"}[$__rate_interval]))`, '{{format}}: {{reason}}')],
      'cps',
      { stack: true },
    ),
    stat(
      'Rejected share (range)',
      'Rejected / all records read over the selected time range, per format. NumrepIngestRejecting warns above 5 % over 15 minutes.',
      [6, 8],
      [
        q(
          'A',
          `sum by (format) (increase(numrep_ingest_records_total{${J},result="rejected"}[$__range]))\n/\nsum by (format) (increase(numrep_ingest_records_total{${J}}[$__range]))`,
          '{{format}}',
          { instant: true },
        ),
      ],
      'percentunit',
      { th: badAbove(0.01, 0.05), decimals: 2, textMode: 'value_and_name' },
    ),
    timeseries(
      'Bytes behind per source',
      'File size minus the committed offset per source file. A source the exporter cannot make progress on for stall_after_seconds is a stall (numrep_source_stalled, NumrepIngestStalled); over 1 MiB for 15 minutes, NumrepSourceBehind.',
      [18, 8],
      [q('A', `numrep_source_bytes_behind{${J}}`, '{{source}}')],
      'bytes',
      { th: thresholds([[null, 'green'], [1048576, 'red']]), thresholdsStyle: 'dashed' },
    ),
    timeseries(
      'Newest record age',
      'Wall clock minus the event time of the newest record read from each source. It grows between CDR drops; for a live tailed file it should stay near the call duration.',
      [12, 8],
      [q('A', `time() - numrep_source_newest_record_timestamp_seconds{${J}}`, '{{source}}')],
      's',
    ),
    timeseries(
      'Time since last read',
      'Wall clock minus the last successful read of each source.',
      [12, 8],
      [q('A', `time() - numrep_source_last_read_timestamp_seconds{${J}}`, '{{source}}')],
      's',
    ),
    timeseries(
      'Ingest throughput',
      'Bytes consumed per second per source file (numrep_ingest_bytes_total).',
      [12, 8],
      [q('A', `sum by (source) (rate(numrep_ingest_bytes_total{${J}}[$__rate_interval]))`, '{{source}}')],
      'Bps',
    ),
    timeseries(
      'Rotations and truncations',
      'Rotations (rename) and truncations (copytruncate) detected per source over each interval. The exporter follows the new content; frequent truncations of a file that is not rotated are worth a look.',
      [12, 8],
      [q('A', `sum by (source, kind) (increase(numrep_source_rotations_total{${J}}[$__rate_interval]))`, '{{source}} {{kind}}')],
      'short',
      { bars: true, decimals: 0 },
    ),
    timeseries(
      'Scrape duration and render time',
      'How long Prometheus takes to scrape the exporter (scrape_duration_seconds) and how long the exporter takes to build the /metrics body (numrep_metrics_render_seconds). Keep both well under the scrape interval; the series budget caps the body.',
      [12, 8],
      [
        q('A', `scrape_duration_seconds{${J}}`, 'scrape {{instance}}'),
        q('B', `numrep_metrics_render_seconds{${J}}`, 'render {{instance}}'),
      ],
      's',
    ),
    timeseries(
      'Series and samples',
      'Samples per scrape (scrape_samples_scraped), tracked numbers and dropped number × carrier series: the exporter\'s cardinality over time.',
      [12, 8],
      [
        q('A', `scrape_samples_scraped{${J}}`, 'samples {{instance}}'),
        q('B', `numrep_tracked_numbers{${J}}`, 'tracked numbers {{instance}}'),
        q('C', `numrep_series_dropped{${J}}`, 'dropped series {{instance}}'),
      ],
      'short',
      { decimals: 0 },
    ),
  ],
});

// ------------------------------------------------------------------------------------------------

export const DASHBOARDS = {
  'pool-overview.json': poolOverview,
  'number-detail.json': numberDetail,
  'carriers.json': carriers,
  'exporter-health.json': exporterHealth,
};

const render = (d) => JSON.stringify(d, null, 2) + '\n';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, d] of Object.entries(DASHBOARDS)) {
    const path = join(HERE, file);
    const want = render(d);
    if (check) {
      let have = '';
      try {
        have = readFileSync(path, 'utf8');
      } catch {
        /* missing */
      }
      if (have !== want) {
        console.error(`dashboards/${file} is out of date: run node dashboards/generate.mjs`);
        stale++;
      }
    } else {
      writeFileSync(path, want);
      console.log(`wrote dashboards/${file} (${d.panels.length} panels)`);
    }
  }
  process.exit(stale ? 1 : 0);
}
