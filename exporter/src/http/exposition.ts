/** Prometheus text exposition for the high-cardinality families, written directly (no per-series objects). */

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class Family {
  readonly lines: string[] = [];
  constructor(readonly name: string, readonly help: string, readonly type: 'gauge' | 'counter') {}

  /** `labels` is a pre-rendered label set without braces, e.g. `number="+1…",pool="default"`. */
  add(labels: string, value: number | null | undefined): void {
    if (value === null || value === undefined) return; // absent, never 0 (docs/architecture.md#kpis)
    this.lines.push(`${this.name}{${labels}} ${formatValue(value)}`);
  }

  render(out: string[]): void {
    if (this.lines.length === 0) return;
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    for (const l of this.lines) out.push(l);
  }
}

export function labels(pairs: Record<string, string>): string {
  let s = '';
  for (const k in pairs) s += `${s ? ',' : ''}${k}="${escapeLabel(pairs[k])}"`;
  return s;
}
