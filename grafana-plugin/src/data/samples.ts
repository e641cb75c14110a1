import { DataFrame, Field, FieldType } from '@grafana/data';
import { inferFromLabels, isNumrepName, metricKeyFor, MetricKey } from './metrics';

/**
 * One series, flattened out of whatever frame shape Grafana's Prometheus data source produced:
 * - range or instant "time series" frames: one frame per series, [Time, Value] with the labels on the value field;
 * - instant "table" frames: one row per series, labels as string columns, a numeric `Value` (or `Value #A`) column;
 * - several series packed into one wide frame (labels on each numeric field).
 */
export interface Sample {
  metric: MetricKey;
  labels: Record<string, string>;
  /** Newest non-null value, or null when the series has no value. */
  last: number | null;
  /** Time of the newest non-null value (epoch ms), or null (instant table without a Time column). */
  lastTime: number | null;
  /** Values oldest first (range queries); one element for instant queries. */
  history: Array<number | null>;
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) {
    return null;
  }
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

function toTime(v: unknown): number | null {
  if (v === null || v === undefined) {
    return null;
  }
  if (typeof v === 'number') {
    return v;
  }
  if (v instanceof Date) {
    return v.getTime();
  }
  const t = Date.parse(String(v));
  return Number.isNaN(t) ? null : t;
}

/**
 * The one numrep metric a PromQL expression reads, if exactly one (e.g. `max by (number) (numrep_number_reputation_score)`),
 * so frames whose series lost `__name__` to an aggregation can still be placed by their query's refId.
 */
export function metricOfExpr(expr: string | undefined): string | undefined {
  if (!expr) {
    return undefined;
  }
  const names = new Set(expr.match(/numrep_[a-z0-9_]+/g) ?? []);
  return names.size === 1 ? [...names][0] : undefined;
}

function resolveName(candidates: Array<string | undefined>, labels: Record<string, string>): MetricKey | undefined {
  for (const c of candidates) {
    if (isNumrepName(c)) {
      const k = metricKeyFor(c);
      if (k) {
        return k;
      }
    }
  }
  return inferFromLabels(labels);
}

function isNumeric(f: Field): boolean {
  return f.type === FieldType.number;
}

function isLabelColumn(f: Field): boolean {
  return f.type === FieldType.string && !f.name.startsWith('Value');
}

/** Whether any frame carries a numrep series by name (used for the "no numrep metrics found" state). */
export function mentionsNumrep(frames: DataFrame[]): boolean {
  for (const frame of frames) {
    if (isNumrepName(frame.name)) {
      return true;
    }
    for (const f of frame.fields) {
      if (isNumrepName(f.name) || isNumrepName(f.labels?.__name__) || isNumrepName(f.config?.displayNameFromDS)) {
        return true;
      }
      if (f.name === '__name__' && f.values.some((v) => isNumrepName(String(v)))) {
        return true;
      }
    }
  }
  return false;
}

function seriesSamples(frame: DataFrame, timeField: Field | undefined, out: Sample[], fromQuery: string | undefined): void {
  for (const field of frame.fields) {
    if (!isNumeric(field)) {
      continue;
    }
    const labels = { ...(field.labels ?? {}) };
    const metric = resolveName(
      [labels.__name__, field.name, field.config?.displayNameFromDS, frame.name, fromQuery],
      labels
    );
    if (!metric) {
      continue;
    }
    delete labels.__name__;
    const history: Array<number | null> = [];
    let last: number | null = null;
    let lastTime: number | null = null;
    const n = field.values.length;
    for (let i = 0; i < n; i++) {
      const v = toNumber(field.values[i]);
      history.push(v);
      if (v !== null) {
        last = v;
        lastTime = timeField ? toTime(timeField.values[i]) : null;
      }
    }
    out.push({ metric, labels, last, lastTime, history });
  }
}

function tableSamples(frame: DataFrame, timeField: Field | undefined, out: Sample[], fromQuery: string | undefined): void {
  const labelCols = frame.fields.filter(isLabelColumn);
  const valueCols = frame.fields.filter(isNumeric);
  const n = frame.length ?? frame.fields[0]?.values.length ?? 0;
  for (const vf of valueCols) {
    for (let i = 0; i < n; i++) {
      const labels: Record<string, string> = { ...(vf.labels ?? {}) };
      for (const c of labelCols) {
        const v = c.values[i];
        if (v !== null && v !== undefined && v !== '') {
          labels[c.name] = String(v);
        }
      }
      const metric = resolveName(
        [labels.__name__, vf.name, vf.config?.displayNameFromDS, frame.name, fromQuery],
        labels
      );
      if (!metric) {
        continue;
      }
      delete labels.__name__;
      const v = toNumber(vf.values[i]);
      out.push({
        metric,
        labels,
        last: v,
        lastTime: v !== null && timeField ? toTime(timeField.values[i]) : null,
        history: [v],
      });
    }
  }
}

/**
 * Flatten frames into samples; frames that carry no numrep series are ignored. `exprByRefId` (the panel's query
 * expressions) is the last resort for naming a series whose frame does not say which metric it is.
 */
export function framesToSamples(frames: DataFrame[], exprByRefId: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const frame of frames) {
    const fromQuery = frame.refId ? metricOfExpr(exprByRefId[frame.refId]) : undefined;
    const timeField = frame.fields.find((f) => f.type === FieldType.time);
    // A table frame has its labels as string columns (and `number` among them); a series frame has them on the field.
    const isTable = frame.fields.some((f) => isLabelColumn(f) && f.name === 'number');
    if (isTable) {
      tableSamples(frame, timeField, out, fromQuery);
    } else {
      seriesSamples(frame, timeField, out, fromQuery);
    }
  }
  return out;
}
