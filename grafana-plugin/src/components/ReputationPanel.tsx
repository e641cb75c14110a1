import React, { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, LoadingState, PanelProps } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import { csvFileName, rowsToCsv } from '../data/csv';
import { buildLink, isSafeLink } from '../data/link';
import { transformFrames } from '../data/transform';
import { countByStatus, viewRows } from '../data/view';
import { carriersToShow, migrateOptions } from '../options';
import { NumberRow, PanelOptions, SortKey, StatusOrUnknown } from '../types';
import { Grid } from './Grid';
import { openLink } from './navigate';
import { StateView } from './States';
import { Toolbar } from './Toolbar';

const TOOLBAR_HEIGHT = 46;

/** Height of the toolbar as laid out (it wraps onto two lines in narrow panels). */
function useHeight(): [(el: HTMLDivElement | null) => void, number | undefined] {
  const [h, setH] = useState<number>();
  const observer = useRef<ResizeObserver>();
  const ref = useCallback((el: HTMLDivElement | null) => {
    observer.current?.disconnect();
    if (el && typeof ResizeObserver !== 'undefined') {
      observer.current = new ResizeObserver(() => setH(el.offsetHeight || undefined));
      observer.current.observe(el);
      setH(el.offsetHeight || undefined);
    }
  }, []);
  useEffect(() => () => observer.current?.disconnect(), []);
  return [ref, h];
}

/** Sort keys whose natural first click is "worst first" (high severity rank = low value). */
const DESC_FIRST: ReadonlySet<SortKey> = new Set(['calls24h']);

export function downloadCsv(text: string, name: string): void {
  const blob = new Blob([text], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ReputationPanel(props: PanelProps<PanelOptions>) {
  const { data, width, height, replaceVariables } = props;
  const styles = useStyles2(getStyles);
  // Saved options of an older shape (or a partial object from an embedding app) are normalised here too.
  const options = useMemo(() => migrateOptions(props.options), [props.options]);
  const idPrefix = `numrep-${useId().replace(/:/g, '')}`;

  const exprByRefId = useMemo(() => {
    const m: Record<string, string> = {};
    for (const t of (data?.request?.targets ?? []) as Array<{ refId: string; expr?: unknown }>) {
      if (typeof t.expr === 'string') {
        m[t.refId] = t.expr;
      }
    }
    return m;
  }, [data?.request?.targets]);
  const result = useMemo(() => transformFrames(data?.series ?? [], exprByRefId), [data?.series, exprByRefId]);
  const carriers = useMemo(() => carriersToShow(options.carriers, result.carriers), [options.carriers, result.carriers]);

  const [statuses, setStatuses] = useState<ReadonlySet<StatusOrUnknown>>(new Set());
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState(options.sort);
  useEffect(() => setSort(options.sort), [options.sort]);

  const [toolbarRef, measuredToolbar] = useHeight();
  const counts = useMemo(() => countByStatus(result.rows), [result.rows]);
  const rows = useMemo(() => viewRows(result.rows, { statuses, search, sort }), [result.rows, statuses, search, sort]);

  const onToggle = useCallback((s: StatusOrUnknown | 'all') => {
    setStatuses((prev) => {
      if (s === 'all') {
        return new Set();
      }
      const next = new Set(prev);
      if (next.has(s)) {
        next.delete(s);
      } else {
        next.add(s);
      }
      return next;
    });
  }, []);

  const onSort = useCallback((key: SortKey) => {
    setSort((prev) =>
      prev.key === key ? { key, dir: prev.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: DESC_FIRST.has(key) ? 'desc' : 'asc' }
    );
  }, []);

  const template = options.link.template.trim();
  const onActivate = useMemo(() => {
    if (!template) {
      return undefined;
    }
    return (row: NumberRow) => {
      const url = buildLink(template, row, replaceVariables);
      if (isSafeLink(url)) {
        openLink(url, options.link.newTab);
      }
    };
  }, [template, replaceVariables, options.link.newTab]);

  const onExport = useCallback(() => {
    const shownCarriers = options.columns.includes('carriers') ? carriers : [];
    downloadCsv(rowsToCsv(rows, shownCarriers), csvFileName());
  }, [rows, carriers, options.columns]);

  const series = data?.series ?? [];
  const loading = data?.state === LoadingState.Loading;
  const error = data?.state === LoadingState.Error || data?.error || (data?.errors?.length ?? 0) > 0;

  let body: React.ReactNode;
  if (error && result.rows.length === 0) {
    const msg = data?.error?.message ?? data?.errors?.[0]?.message ?? 'Unknown error';
    body = <StateView state="error" detail={msg} />;
  } else if (loading && result.rows.length === 0) {
    body = <StateView state="loading" />;
  } else if (series.length === 0) {
    body = <StateView state="empty" />;
  } else if (!result.found || result.rows.length === 0) {
    body = <StateView state="no-numrep" />;
  } else {
    const toolbarH = options.showToolbar ? (measuredToolbar ?? TOOLBAR_HEIGHT) : 0;
    body = (
      <>
        {options.showToolbar && (
          <div ref={toolbarRef}>
          <Toolbar
            counts={counts}
            selected={statuses}
            onToggle={onToggle}
            search={search}
            onSearch={setSearch}
            shown={rows.length}
            onExport={onExport}
            missing={result.missing}
          />
          </div>
        )}
        {rows.length === 0 ? (
          <div style={{ height: height - toolbarH }}>
            <StateView state="no-match" />
          </div>
        ) : (
          <Grid
            rows={rows}
            carriers={options.columns.includes('carriers') ? carriers : []}
            options={options}
            sort={sort}
            onSort={onSort}
            onActivate={onActivate}
            height={Math.max(height - toolbarH, 80)}
            idPrefix={idPrefix}
          />
        )}
      </>
    );
  }

  return (
    <div className={styles.root} style={{ width, height }} data-testid="numrep-panel">
      {body}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: css({
    display: 'flex',
    flexDirection: 'column',
    overflow: 'hidden',
    fontFamily: theme.typography.fontFamily,
    fontSize: theme.typography.body.fontSize,
    color: theme.colors.text.primary,
  }),
});
