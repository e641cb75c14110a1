import React from 'react';
import { css, cx } from '@emotion/css';
import { colorManipulator, GrafanaTheme2 } from '@grafana/data';
import { Tooltip, useStyles2, useTheme2 } from '@grafana/ui';
import { ACTION_LABEL, RATING_LABEL, scoreBand, STATUS_LABEL } from '../data/ratings';
import { CarrierFlag, DIMENSIONS, NumberRow, Recommendation, StatusOrUnknown } from '../types';
import { actionColor, answerColor, bandColor, flagColor, ratingColor, statusColor } from './palette';

const alpha = colorManipulator.alpha;

export function StatusBadge({ status }: { status: StatusOrUnknown }) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const c = statusColor(theme, status);
  return (
    <span
      className={styles.badge}
      style={{ color: c, background: alpha(c, theme.isDark ? 0.16 : 0.12), borderColor: alpha(c, 0.45) }}
      data-status={status}
    >
      <span className={styles.dot} style={{ background: c }} aria-hidden />
      {STATUS_LABEL[status]}
    </span>
  );
}

export function ScoreBar({ score, bands }: { score: number | null; bands: { excellent: number; critical: number } }) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  if (score === null) {
    return <span className={styles.muted}>—</span>;
  }
  const s = Math.max(0, Math.min(100, score));
  const band = scoreBand(s, bands);
  const c = bandColor(theme, band);
  return (
    <span className={styles.scoreWrap} aria-label={`score ${Math.round(s)}, ${band}`}>
      <span className={styles.scoreNum} style={{ color: c }}>
        {Math.round(s)}
      </span>
      <span className={styles.track} aria-hidden>
        <span className={styles.fill} style={{ width: `${s}%`, background: c }} />
        <span className={styles.tick} style={{ left: `${bands.critical}%` }} />
        <span className={styles.tick} style={{ left: `${bands.excellent}%` }} />
      </span>
    </span>
  );
}

export function RatingChips({ row }: { row: NumberRow }) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  return (
    <span className={styles.chips}>
      {DIMENSIONS.map((d) => {
        const r = row.ratings[d];
        const v = row.subscores[d];
        const c = ratingColor(theme, r);
        const label = `${d}: ${r ? RATING_LABEL[r] : 'no data'}${v !== null ? ` (${Math.round(v)})` : ''}`;
        return (
          <span
            key={d}
            className={styles.chip}
            title={label}
            aria-label={label}
            style={{
              color: r ? c : theme.colors.text.disabled,
              background: r ? alpha(c, theme.isDark ? 0.18 : 0.13) : 'transparent',
              borderColor: alpha(c, r ? 0.5 : 0.3),
            }}
          >
            {d[0].toUpperCase()}
          </span>
        );
      })}
    </span>
  );
}

const FLAG_GLYPH: Record<CarrierFlag, string> = { clean: '●', warning: '▲', flagged: '■' };

export function CarrierFlagCell({ carrier, flag }: { carrier: string; flag: CarrierFlag | undefined }) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  if (!flag) {
    return (
      <span className={styles.muted} aria-label={`${carrier}: no data`}>
        —
      </span>
    );
  }
  const c = flagColor(theme, flag);
  const strong = flag !== 'clean';
  return (
    <span
      className={cx(styles.flag, strong && styles.flagStrong)}
      style={
        strong
          ? { color: c, background: alpha(c, theme.isDark ? 0.18 : 0.12), borderColor: alpha(c, 0.5) }
          : { color: theme.colors.text.secondary }
      }
      aria-label={`${carrier}: ${flag}`}
      data-flag={flag}
    >
      <span aria-hidden style={{ color: c, fontSize: strong ? 9 : 8 }}>
        {FLAG_GLYPH[flag]}
      </span>
      {flag}
    </span>
  );
}

export function Sparkline({ values, width = 80, height = 22 }: { values: Array<number | null>; width?: number; height?: number }) {
  const theme = useTheme2();
  const pts = values.map((v, i) => ({ v, i })).filter((p): p is { v: number; i: number } => p.v !== null);
  if (pts.length === 0) {
    return <span style={{ color: theme.colors.text.disabled }}>—</span>;
  }
  const last = pts[pts.length - 1].v;
  const c = answerColor(theme, last);
  // Answer ratio is 0–1: a fixed 0–1 scale (padding 2px) keeps rows comparable with each other.
  const n = Math.max(values.length - 1, 1);
  const x = (i: number) => 1 + (i / n) * (width - 2);
  const y = (v: number) => 2 + (1 - Math.max(0, Math.min(1, v))) * (height - 4);
  if (pts.length === 1) {
    return (
      <svg width={width} height={height} aria-hidden>
        <line x1={1} x2={width - 1} y1={y(last)} y2={y(last)} stroke={c} strokeWidth={1.5} strokeDasharray="3 2" />
      </svg>
    );
  }
  const line = pts.map((p, k) => `${k ? 'L' : 'M'}${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const area = `${line}L${x(pts[pts.length - 1].i).toFixed(1)},${height}L${x(pts[0].i).toFixed(1)},${height}Z`;
  return (
    <svg width={width} height={height} aria-hidden data-testid="sparkline">
      <path d={area} fill={alpha(c, 0.15)} />
      <path d={line} fill="none" stroke={c} strokeWidth={1.5} strokeLinejoin="round" />
      <circle cx={x(pts[pts.length - 1].i)} cy={y(last)} r={2} fill={c} />
    </svg>
  );
}

export function RecommendationCell({ rec }: { rec: Recommendation | null }) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  if (!rec) {
    return <span className={styles.muted}>—</span>;
  }
  const c = actionColor(theme, rec.action);
  return (
    <Tooltip content={rec.tooltip ?? rec.reason} placement="left">
      <span className={styles.rec} data-action={rec.action}>
        <span
          className={styles.action}
          style={{ color: c, borderColor: alpha(c, 0.5), background: alpha(c, rec.action === 'keep' ? 0.06 : 0.14) }}
        >
          {ACTION_LABEL[rec.action]}
        </span>
        <span className={styles.reason}>{rec.reason}</span>
      </span>
    </Tooltip>
  );
}

export function Percent({ value }: { value: number | null }) {
  const theme = useTheme2();
  if (value === null) {
    return <span style={{ color: theme.colors.text.disabled }}>—</span>;
  }
  return <span style={{ color: answerColor(theme, value), fontVariantNumeric: 'tabular-nums' }}>{Math.round(value * 100)}%</span>;
}

const getStyles = (theme: GrafanaTheme2) => ({
  muted: css({ color: theme.colors.text.disabled }),
  badge: css({
    display: 'inline-flex',
    alignItems: 'center',
    gap: 6,
    padding: '1px 8px',
    borderRadius: theme.shape.radius.pill,
    border: '1px solid',
    fontSize: theme.typography.bodySmall.fontSize,
    fontWeight: theme.typography.fontWeightMedium,
    lineHeight: '18px',
    whiteSpace: 'nowrap',
  }),
  dot: css({ width: 7, height: 7, borderRadius: '50%', flex: 'none' }),
  scoreWrap: css({ display: 'inline-flex', alignItems: 'center', gap: 8, width: '100%' }),
  scoreNum: css({
    width: 24,
    textAlign: 'right',
    fontVariantNumeric: 'tabular-nums',
    fontWeight: theme.typography.fontWeightMedium,
  }),
  track: css({
    position: 'relative',
    flex: 1,
    height: 6,
    borderRadius: 3,
    background: theme.colors.background.secondary,
    boxShadow: `inset 0 0 0 1px ${theme.colors.border.weak}`,
    overflow: 'hidden',
  }),
  fill: css({ position: 'absolute', left: 0, top: 0, bottom: 0, borderRadius: 3 }),
  tick: css({ position: 'absolute', top: 0, bottom: 0, width: 1, background: theme.colors.text.disabled, opacity: 0.7 }),
  chips: css({ display: 'inline-flex', gap: 4 }),
  chip: css({
    display: 'inline-flex',
    alignItems: 'center',
    justifyContent: 'center',
    width: 20,
    height: 20,
    borderRadius: theme.shape.radius.default,
    border: '1px solid',
    fontSize: 11,
    fontWeight: theme.typography.fontWeightBold,
  }),
  flag: css({
    display: 'inline-flex',
    alignItems: 'center',
    gap: 4,
    fontSize: theme.typography.bodySmall.fontSize,
    whiteSpace: 'nowrap',
    padding: '0 5px',
    border: '1px solid transparent',
    borderRadius: theme.shape.radius.default,
    lineHeight: '18px',
  }),
  flagStrong: css({ fontWeight: theme.typography.fontWeightMedium }),
  rec: css({ display: 'flex', alignItems: 'center', gap: 8, minWidth: 0, width: '100%' }),
  action: css({
    flex: 'none',
    padding: '0 7px',
    border: '1px solid',
    borderRadius: theme.shape.radius.default,
    fontSize: theme.typography.bodySmall.fontSize,
    fontWeight: theme.typography.fontWeightMedium,
    lineHeight: '18px',
    whiteSpace: 'nowrap',
  }),
  reason: css({
    minWidth: 0,
    overflow: 'hidden',
    textOverflow: 'ellipsis',
    whiteSpace: 'nowrap',
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
});
