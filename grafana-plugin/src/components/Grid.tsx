import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { css, cx } from '@emotion/css';
import { colorManipulator, GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import { ACTION_LABEL, STATUS_LABEL } from '../data/ratings';
import { placeText, registrationText } from '../data/place';
import { COLUMN_LABEL } from '../options';
import { ColumnId, NumberRow, PanelOptions, SortDir, SortKey } from '../types';
import { CarrierFlagCell, Percent, RatingChips, RecommendationCell, ScoreBar, Sparkline, StatusBadge } from './cells';

export const ROW_HEIGHT: Record<PanelOptions['density'], number> = { compact: 28, normal: 36, comfortable: 44 };
const HEADER_HEIGHT = 32;
const OVERSCAN = 8;

interface Col {
  id: 'number' | ColumnId | `carrier:${string}`;
  label: string;
  width: string;
  sortKey?: SortKey;
  align?: 'right' | 'center';
  title?: string;
}

function columnsFor(shown: ColumnId[], carriers: string[]): Col[] {
  const cols: Col[] = [{ id: 'number', label: 'Number', width: '124px', sortKey: 'number' }];
  const has = new Set(shown);
  const add = (c: Col) => has.has(c.id as ColumnId) && cols.push(c);
  add({ id: 'pool', label: COLUMN_LABEL.pool, width: '96px', sortKey: 'pool' });
  add({ id: 'status', label: COLUMN_LABEL.status, width: '108px', sortKey: 'status' });
  add({ id: 'score', label: COLUMN_LABEL.score, width: '116px', sortKey: 'score' });
  add({ id: 'ratings', label: COLUMN_LABEL.ratings, width: '112px', title: 'Connection · Engagement · Sentiment · Maturity' });
  if (has.has('carriers')) {
    for (const c of carriers) {
      cols.push({ id: `carrier:${c}`, label: c, width: '84px', title: `Flag on ${c}: clean, warning or flagged` });
    }
  }
  add({ id: 'calls24h', label: COLUMN_LABEL.calls24h, width: '92px', sortKey: 'calls24h', align: 'right', title: 'Call attempts in the last 24 hours' });
  add({ id: 'answerRatio', label: COLUMN_LABEL.answerRatio, width: '104px', sortKey: 'answerRatio', align: 'right', title: 'Answer ratio over the last 24 hours' });
  add({ id: 'trend', label: COLUMN_LABEL.trend, width: '96px', title: 'Answer ratio (24h window) over the time range, on a 0–100 % scale' });
  add({ id: 'recommendation', label: COLUMN_LABEL.recommendation, width: 'minmax(200px, 1fr)', sortKey: 'recommendation', title: 'Hover a row for the full reason' });
  add({ id: 'area', label: COLUMN_LABEL.area, width: '140px', title: 'Where the number lives: the area of its prefix and its country (libphonenumber)' });
  add({ id: 'registration', label: COLUMN_LABEL.registration, width: '112px', title: 'Registration state from the inventory (registered column)' });
  return cols;
}

function rowLabel(r: NumberRow): string {
  const parts = [r.number, STATUS_LABEL[r.status]];
  if (r.score !== null) {
    parts.push(`score ${Math.round(r.score)}`);
  }
  if (r.recommendation) {
    parts.push(`${ACTION_LABEL[r.recommendation.action]}: ${r.recommendation.reason}`);
  }
  return parts.join(', ');
}

export interface GridProps {
  rows: NumberRow[];
  carriers: string[];
  options: PanelOptions;
  sort: { key: SortKey; dir: SortDir };
  onSort: (key: SortKey) => void;
  onActivate?: (row: NumberRow) => void;
  height: number;
  idPrefix: string;
}

export function Grid({ rows, carriers, options, sort, onSort, onActivate, height, idPrefix }: GridProps) {
  const styles = useStyles2(getStyles);
  const rowH = ROW_HEIGHT[options.density] ?? ROW_HEIGHT.normal;
  const cols = useMemo(() => columnsFor(options.columns, carriers), [options.columns, carriers]);
  const template = cols.map((c) => c.width).join(' ');
  const minWidth = useMemo(
    () => cols.reduce((w, c) => w + (parseInt(c.width.replace('minmax(', ''), 10) || 100), 0),
    [cols]
  );
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [active, setActive] = useState(0);
  const bodyH = Math.max(height - HEADER_HEIGHT, rowH);

  // Keep the active row inside the data when a filter shrinks it.
  useEffect(() => {
    if (active >= rows.length) {
      setActive(Math.max(0, rows.length - 1));
    }
  }, [rows.length, active]);

  const onScroll = useCallback((e: React.UIEvent<HTMLDivElement>) => setScrollTop(e.currentTarget.scrollTop), []);

  const scrollIntoView = useCallback(
    (i: number) => {
      const el = scroller.current;
      if (!el) {
        return;
      }
      const top = i * rowH;
      if (top < el.scrollTop) {
        el.scrollTop = top;
      } else if (top + rowH > el.scrollTop + bodyH) {
        el.scrollTop = top + rowH - bodyH;
      }
    },
    [rowH, bodyH]
  );

  const onKeyDown = (e: React.KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget || rows.length === 0) {
      return;
    }
    const page = Math.max(1, Math.floor(bodyH / rowH) - 1);
    const moves: Record<string, number> = {
      ArrowDown: active + 1,
      ArrowUp: active - 1,
      PageDown: active + page,
      PageUp: active - page,
      Home: 0,
      End: rows.length - 1,
    };
    if (e.key in moves) {
      e.preventDefault();
      const next = Math.max(0, Math.min(rows.length - 1, moves[e.key]));
      setActive(next);
      scrollIntoView(next);
    } else if ((e.key === 'Enter' || e.key === ' ') && onActivate && rows[active]) {
      e.preventDefault();
      onActivate(rows[active]);
    }
  };

  // Focus lands on the row in view when the active one was scrolled away with the mouse (it is not rendered then).
  const onFocus = (e: React.FocusEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget || rows.length === 0) {
      return;
    }
    const top = Math.floor(scrollTop / rowH);
    const bottom = Math.floor((scrollTop + bodyH) / rowH) - 1;
    if (active < top || active > bottom) {
      setActive(Math.min(rows.length - 1, top));
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / rowH) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + bodyH) / rowH) + OVERSCAN);
  const visible = rows.slice(first, last);
  const activeId = rows.length ? `${idPrefix}-row-${active}` : undefined;

  return (
    <div
      ref={scroller}
      className={styles.scroller}
      style={{ height }}
      role="grid"
      aria-label={`Number reputation, ${rows.length} numbers. Arrow keys move between rows${onActivate ? ', Enter opens the number' : ''}.`}
      aria-rowcount={rows.length + 1}
      aria-colcount={cols.length}
      aria-activedescendant={activeId}
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      onFocus={onFocus}
      data-testid="numrep-grid"
    >
      <div className={styles.header} role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, minWidth, height: HEADER_HEIGHT }}>
        {cols.map((c, ci) => {
          const sorted = c.sortKey && sort.key === c.sortKey;
          const ariaSort = sorted ? (sort.dir === 'asc' ? 'ascending' : 'descending') : c.sortKey ? 'none' : undefined;
          return (
            <div
              key={c.id}
              role="columnheader"
              aria-colindex={ci + 1}
              aria-sort={ariaSort}
              className={cx(styles.headCell, c.align === 'right' && styles.right, ci === 0 && styles.stickyHead)}
              title={c.title}
            >
              {c.sortKey ? (
                <button
                  type="button"
                  className={cx(styles.sortBtn, sorted && styles.sorted)}
                  onClick={() => onSort(c.sortKey!)}
                  aria-label={`Sort by ${c.label}`}
                >
                  <span className={styles.headLabel}>{c.label}</span>
                  <span aria-hidden className={styles.arrow}>
                    {sorted ? (sort.dir === 'asc' ? '▲' : '▼') : '⇅'}
                  </span>
                </button>
              ) : (
                <span className={styles.headLabel}>{c.label}</span>
              )}
            </div>
          );
        })}
      </div>
      <div role="rowgroup" style={{ position: 'relative', height: rows.length * rowH, minWidth }}>
        {visible.map((r, k) => {
          const i = first + k;
          return (
            <div
              key={r.number}
              id={`${idPrefix}-row-${i}`}
              role="row"
              aria-rowindex={i + 2}
              aria-selected={i === active}
              aria-label={rowLabel(r)}
              data-number={r.number}
              className={cx(styles.row, i % 2 === 1 && styles.zebra, onActivate && styles.clickable)}
              style={{ gridTemplateColumns: template, height: rowH, transform: `translateY(${i * rowH}px)` }}
              onClick={() => {
                setActive(i);
                onActivate?.(r);
              }}
            >
              {cols.map((c, ci) => (
                <div
                  key={c.id}
                  role="gridcell"
                  aria-colindex={ci + 1}
                  className={cx(styles.cell, c.align === 'right' && styles.right, ci === 0 && styles.stickyCell)}
                >
                  {renderCell(c, r, options)}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function renderCell(c: Col, r: NumberRow, options: PanelOptions): React.ReactNode {
  if (c.id.startsWith('carrier:')) {
    const carrier = c.id.slice('carrier:'.length);
    return <CarrierFlagCell carrier={carrier} flag={r.carriers[carrier]} />;
  }
  switch (c.id) {
    case 'number':
      return <span className={numberClass}>{r.number}</span>;
    case 'pool':
      return <span className={ellipsis}>{r.pool || '—'}</span>;
    case 'status':
      return <StatusBadge status={r.status} />;
    case 'score':
      return <ScoreBar score={r.score} bands={options.bands} />;
    case 'ratings':
      return <RatingChips row={r} />;
    case 'calls24h':
      return <span className={tabular}>{r.calls24h === null ? '—' : Math.round(r.calls24h).toLocaleString('en-US')}</span>;
    case 'answerRatio':
      return <Percent value={r.answerRatio24h} />;
    case 'trend':
      return <Sparkline values={r.answerHistory} />;
    case 'recommendation':
      return <RecommendationCell rec={r.recommendation} />;
    case 'area':
      return <span className={ellipsis}>{placeText(r)}</span>;
    case 'registration':
      return <span className={ellipsis}>{registrationText(r.registration)}</span>;
    default:
      return null;
  }
}

const tabular = css({ fontVariantNumeric: 'tabular-nums' });
const ellipsis = css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' });
const numberClass = css({ fontFamily: 'monospace', fontVariantNumeric: 'tabular-nums', letterSpacing: 0.2, whiteSpace: 'nowrap' });

const getStyles = (theme: GrafanaTheme2) => ({
  scroller: css({
    overflow: 'auto',
    position: 'relative',
    outline: 'none',
    borderTop: `1px solid ${theme.colors.border.weak}`,
    '&:focus-visible': { boxShadow: `inset 0 0 0 2px ${theme.colors.primary.main}` },
    // The active row is only marked while the grid has focus (keyboard or after a click), like a cursor.
    '&:focus [aria-selected="true"]::after': { background: theme.colors.action.selected },
    '&:focus-visible [aria-selected="true"]': { boxShadow: `inset 3px 0 0 ${theme.colors.primary.main}` },
  }),
  header: css({
    display: 'grid',
    position: 'sticky',
    top: 0,
    zIndex: 2,
    background: theme.colors.background.primary,
    borderBottom: `1px solid ${theme.colors.border.medium}`,
  }),
  headCell: css({
    display: 'flex',
    alignItems: 'center',
    padding: theme.spacing(0, 1),
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
    fontWeight: theme.typography.fontWeightMedium,
    textTransform: 'none',
    minWidth: 0,
  }),
  headLabel: css({ overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
  sortBtn: css({
    all: 'unset',
    display: 'inline-flex',
    alignItems: 'center',
    gap: 4,
    cursor: 'pointer',
    minWidth: 0,
    borderRadius: theme.shape.radius.default,
    padding: '2px 2px',
    '&:hover': { color: theme.colors.text.primary },
    '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: 1 },
  }),
  sorted: css({ color: theme.colors.text.primary }),
  arrow: css({ fontSize: 9, opacity: 0.8 }),
  right: css({ justifyContent: 'flex-end', textAlign: 'right' }),
  row: css({
    display: 'grid',
    position: 'absolute',
    left: 0,
    right: 0,
    top: 0,
    alignItems: 'center',
    borderBottom: `1px solid ${theme.colors.border.weak}`,
    // Solid backgrounds so the sticky number cell (background: inherit) hides what scrolls under it;
    // hover and the active row are drawn by an overlay above every cell.
    background: theme.colors.background.primary,
    '&::after': { content: '""', position: 'absolute', inset: 0, pointerEvents: 'none', zIndex: 2 },
    '&:hover::after': { background: theme.colors.action.hover },
  }),
  zebra: css({ background: colorManipulator.emphasize(theme.colors.background.primary, 0.025) }),
  stickyCell: css({ position: 'sticky', left: 0, zIndex: 1, background: 'inherit', alignSelf: 'stretch' }),
  stickyHead: css({ position: 'sticky', left: 0, zIndex: 3, background: theme.colors.background.primary }),
  clickable: css({ cursor: 'pointer' }),
  cell: css({
    display: 'flex',
    alignItems: 'center',
    padding: theme.spacing(0, 1),
    minWidth: 0,
    overflow: 'hidden',
    color: theme.colors.text.primary,
    fontSize: theme.typography.body.fontSize,
  }),
});
