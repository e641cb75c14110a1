import React from 'react';
import { css, cx } from '@emotion/css';
import { colorManipulator, GrafanaTheme2 } from '@grafana/data';
import { Button, Input, useStyles2, useTheme2 } from '@grafana/ui';
import { STATUS_LABEL } from '../data/ratings';
import { STATUS_FILTERS, StatusCounts } from '../data/view';
import { StatusOrUnknown } from '../types';
import { statusColor } from './palette';

export interface ToolbarProps {
  counts: StatusCounts;
  selected: ReadonlySet<StatusOrUnknown>;
  onToggle: (s: StatusOrUnknown | 'all') => void;
  search: string;
  onSearch: (s: string) => void;
  shown: number;
  onExport: () => void;
  missing: string[];
}

export function Toolbar({ counts, selected, onToggle, search, onSearch, shown, onExport, missing }: ToolbarProps) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const all = selected.size === 0;
  return (
    <div className={styles.bar}>
      <div className={styles.chips} role="group" aria-label="Filter by status">
        <button type="button" className={cx(styles.chip, all && styles.on)} aria-pressed={all} onClick={() => onToggle('all')}>
          All <span className={styles.count}>{counts.all.toLocaleString('en-US')}</span>
        </button>
        {STATUS_FILTERS.filter((s) => s !== 'unknown' || counts.unknown > 0).map((s) => {
          const on = selected.has(s);
          const c = statusColor(theme, s);
          return (
            <button
              key={s}
              type="button"
              className={cx(styles.chip, on && styles.on)}
              style={on ? { borderColor: c, background: colorManipulator.alpha(c, 0.16) } : undefined}
              aria-pressed={on}
              aria-label={`${STATUS_LABEL[s]}: ${counts[s]} numbers`}
              onClick={() => onToggle(s)}
              data-status={s}
            >
              <span className={styles.dot} style={{ background: c }} aria-hidden />
              {STATUS_LABEL[s]} <span className={styles.count}>{counts[s].toLocaleString('en-US')}</span>
            </button>
          );
        })}
      </div>
      <div className={styles.right}>
        {missing.length > 0 && (
          <span className={styles.missing} title={`No series for: ${missing.join(', ')}. Those cells show —.`}>
            {missing.length} metric{missing.length > 1 ? 's' : ''} missing
          </span>
        )}
        <span className={styles.shown} aria-live="polite">
          {shown.toLocaleString('en-US')} of {counts.all.toLocaleString('en-US')}
        </span>
        <div className={styles.search}>
          <Input
            value={search}
            placeholder="Search number or pool"
            aria-label="Search numbers"
            onChange={(e) => onSearch(e.currentTarget.value)}
          />
        </div>
        <Button size="md" variant="secondary" fill="outline" onClick={onExport} disabled={shown === 0} aria-label={`Export ${shown} rows shown as CSV`}>
          Export CSV
        </Button>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  bar: css({
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
    padding: theme.spacing(1),
  }),
  chips: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.75) }),
  chip: css({
    display: 'inline-flex',
    alignItems: 'center',
    gap: 6,
    height: 28,
    padding: theme.spacing(0, 1.25),
    borderRadius: theme.shape.radius.pill,
    border: `1px solid ${theme.colors.border.medium}`,
    background: 'transparent',
    color: theme.colors.text.primary,
    fontSize: theme.typography.bodySmall.fontSize,
    cursor: 'pointer',
    '&:hover': { background: theme.colors.action.hover },
    '&:focus-visible': { outline: `2px solid ${theme.colors.primary.main}`, outlineOffset: 1 },
  }),
  on: css({ borderColor: theme.colors.primary.border, background: theme.colors.action.selected, fontWeight: theme.typography.fontWeightMedium }),
  dot: css({ width: 8, height: 8, borderRadius: '50%' }),
  count: css({ color: theme.colors.text.secondary, fontVariantNumeric: 'tabular-nums' }),
  right: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), marginLeft: 'auto' }),
  search: css({ width: 220, flex: 'none' }),
  shown: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize, whiteSpace: 'nowrap' }),
  missing: css({
    color: theme.colors.warning.text,
    fontSize: theme.typography.bodySmall.fontSize,
    whiteSpace: 'nowrap',
    cursor: 'help',
  }),
});
