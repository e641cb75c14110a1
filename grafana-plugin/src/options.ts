import { PanelModel, PanelOptionsEditorBuilder } from '@grafana/data';
import { ALL_COLUMNS, ColumnId, defaultOptions, Density, OPTIONS_VERSION, PanelOptions, SortDir, SortKey } from './types';

export const COLUMN_LABEL: Record<ColumnId, string> = {
  pool: 'Pool',
  status: 'Status',
  score: 'Score',
  ratings: 'Sub-scores',
  carriers: 'Carriers',
  calls24h: 'Calls 24h',
  answerRatio: 'Answer 24h',
  trend: 'Answer trend',
  recommendation: 'Recommendation',
  area: 'Area',
  registration: 'Registration',
};

const SORT_KEYS: Array<{ value: SortKey; label: string }> = [
  { value: 'score', label: 'Score' },
  { value: 'status', label: 'Status (worst first)' },
  { value: 'recommendation', label: 'Recommendation (most urgent first)' },
  { value: 'number', label: 'Number' },
  { value: 'pool', label: 'Pool' },
  { value: 'calls24h', label: 'Calls 24h' },
  { value: 'answerRatio', label: 'Answer ratio 24h' },
];
const DENSITIES: Density[] = ['compact', 'normal', 'comfortable'];

export function buildOptions(builder: PanelOptionsEditorBuilder<PanelOptions>): PanelOptionsEditorBuilder<PanelOptions> {
  return builder
    .addMultiSelect({
      path: 'columns',
      name: 'Columns shown',
      description: 'The number column is always shown.',
      category: ['Columns'],
      defaultValue: defaultOptions.columns as unknown as ColumnId,
      settings: { options: ALL_COLUMNS.map((c) => ({ value: c, label: COLUMN_LABEL[c] })) },
    })
    .addTextInput({
      path: 'carriers',
      name: 'Carriers to show',
      description: 'Comma-separated carrier names, in the order wanted (e.g. "att,verizon,tmobile"). Empty: every carrier in the data.',
      category: ['Columns'],
      defaultValue: defaultOptions.carriers,
      settings: { placeholder: 'all carriers' },
    })
    .addBooleanSwitch({
      path: 'showToolbar',
      name: 'Show toolbar',
      description: 'Status filter chips, search and CSV export above the grid.',
      category: ['Columns'],
      defaultValue: defaultOptions.showToolbar,
    })
    .addNumberInput({
      path: 'bands.excellent',
      name: 'Excellent from',
      description: 'Scores at or above this are excellent (green).',
      category: ['Score bands'],
      defaultValue: defaultOptions.bands.excellent,
      settings: { min: 0, max: 100, integer: true },
    })
    .addNumberInput({
      path: 'bands.critical',
      name: 'Critical below',
      description: 'Scores below this are critical (red); between the two, degraded (orange).',
      category: ['Score bands'],
      defaultValue: defaultOptions.bands.critical,
      settings: { min: 0, max: 100, integer: true },
    })
    .addSelect({
      path: 'sort.key',
      name: 'Default sort',
      category: ['Sorting'],
      defaultValue: defaultOptions.sort.key,
      settings: { options: SORT_KEYS },
    })
    .addRadio({
      path: 'sort.dir',
      name: 'Direction',
      category: ['Sorting'],
      defaultValue: defaultOptions.sort.dir,
      settings: {
        options: [
          { value: 'asc' as SortDir, label: 'Ascending' },
          { value: 'desc' as SortDir, label: 'Descending' },
        ],
      },
    })
    .addRadio({
      path: 'density',
      name: 'Row density',
      category: ['Appearance'],
      defaultValue: defaultOptions.density,
      settings: { options: DENSITIES.map((d) => ({ value: d, label: d[0].toUpperCase() + d.slice(1) })) },
    })
    .addTextInput({
      path: 'link.template',
      name: 'Row link',
      description:
        'Opened when a row is clicked or Enter is pressed. ${number}, ${pool} and ${status} come from the row; dashboard variables are interpolated too. Empty: rows are not links.',
      category: ['Data link'],
      defaultValue: defaultOptions.link.template,
    })
    .addBooleanSwitch({
      path: 'link.newTab',
      name: 'Open in new tab',
      category: ['Data link'],
      defaultValue: defaultOptions.link.newTab,
    });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const SORT_KEY_SET = new Set<string>(SORT_KEYS.map((s) => s.value));

function num(v: unknown, fallback: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : fallback;
}

/**
 * Bring saved options of any earlier shape to the current one. Version 0 is the pre-release flat shape
 * (`linkTemplate`, `excellentFrom`, `criticalBelow`, `defaultSort: "score:asc"`, `columns` as a comma list);
 * unknown values fall back to the defaults so a hand-edited dashboard JSON never breaks the panel.
 */
export function migrateOptions(saved: unknown): PanelOptions {
  const o = isObj(saved) ? saved : {};
  const out: PanelOptions = structuredClone(defaultOptions);

  let columns: unknown = o.columns;
  if (typeof columns === 'string') {
    columns = columns.split(',').map((s) => s.trim());
  }
  if (Array.isArray(columns)) {
    out.columns = columns.filter((c): c is ColumnId => (ALL_COLUMNS as string[]).includes(c as string));
  }

  const bands = isObj(o.bands) ? o.bands : {};
  out.bands.excellent = num(bands.excellent ?? o.excellentFrom, out.bands.excellent);
  out.bands.critical = num(bands.critical ?? o.criticalBelow, out.bands.critical);
  if (out.bands.critical > out.bands.excellent) {
    [out.bands.critical, out.bands.excellent] = [out.bands.excellent, out.bands.critical];
  }

  let sort: unknown = o.sort;
  if (typeof o.defaultSort === 'string') {
    const [key, dir] = o.defaultSort.split(':');
    sort = { key, dir };
  }
  if (isObj(sort)) {
    if (typeof sort.key === 'string' && SORT_KEY_SET.has(sort.key)) {
      out.sort.key = sort.key as SortKey;
    }
    if (sort.dir === 'asc' || sort.dir === 'desc') {
      out.sort.dir = sort.dir;
    }
  }

  if (typeof o.density === 'string' && (DENSITIES as string[]).includes(o.density)) {
    out.density = o.density as Density;
  }

  const link = isObj(o.link) ? o.link : {};
  const template = link.template ?? o.linkTemplate;
  if (typeof template === 'string') {
    out.link.template = template;
  }
  if (typeof (link.newTab ?? o.linkNewTab) === 'boolean') {
    out.link.newTab = (link.newTab ?? o.linkNewTab) as boolean;
  }

  if (typeof o.carriers === 'string') {
    out.carriers = o.carriers;
  } else if (Array.isArray(o.carriers)) {
    out.carriers = o.carriers.filter((c) => typeof c === 'string').join(',');
  }
  if (typeof o.showToolbar === 'boolean') {
    out.showToolbar = o.showToolbar;
  }
  out.version = OPTIONS_VERSION;
  return out;
}

/** Grafana calls this when the saved pluginVersion differs from the running one (and on first load). */
export function migrationHandler(panel: PanelModel<Partial<PanelOptions>>): PanelOptions {
  return migrateOptions(panel.options);
}

/** Carriers option → the ordered carrier columns (only carriers present in the data when the option is empty). */
export function carriersToShow(option: string, inData: string[]): string[] {
  const wanted = option
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return wanted.length ? [...new Set(wanted)] : inData;
}
