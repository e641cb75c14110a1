import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { useStyles2 } from '@grafana/ui';

export type PanelState = 'loading' | 'error' | 'empty' | 'no-numrep' | 'no-match';

const TEXT: Record<PanelState, { title: string; body: string }> = {
  loading: { title: 'Loading numbers…', body: 'Waiting for the query to return.' },
  error: { title: 'The query failed', body: '' },
  empty: { title: 'No data', body: 'The query returned no series for the selected time range.' },
  'no-numrep': {
    title: 'No numrep metrics found',
    body:
      'This panel reads numrep_number_* series. Query for example numrep_number_status, numrep_number_reputation_score, ' +
      'numrep_number_subscore, numrep_number_recommendation, numrep_number_carrier_flag, numrep_number_calls{window="24h"} ' +
      'and numrep_number_answer_ratio{window="24h"} from the Prometheus that scrapes the numrep exporter.',
  },
  'no-match': { title: 'No numbers match', body: 'Clear the search or the status filter.' },
};

export function StateView({ state, detail }: { state: PanelState; detail?: string }) {
  const styles = useStyles2(getStyles);
  const t = TEXT[state];
  return (
    <div className={styles.wrap} role={state === 'error' ? 'alert' : 'status'} aria-busy={state === 'loading'} data-state={state}>
      {state === 'loading' && <span className={styles.spinner} aria-hidden />}
      <div className={styles.title} style={state === 'error' ? { color: 'inherit' } : undefined}>
        {state === 'error' && (
          <span className={styles.errorMark} aria-hidden>
            !
          </span>
        )}
        {t.title}
      </div>
      {(detail || t.body) && <div className={styles.body}>{detail || t.body}</div>}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({
    height: '100%',
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
    gap: theme.spacing(1),
    padding: theme.spacing(2),
    textAlign: 'center',
  }),
  title: css({ display: 'flex', alignItems: 'center', gap: 8, fontSize: theme.typography.h5.fontSize, color: theme.colors.text.primary }),
  errorMark: css({
    display: 'inline-flex',
    alignItems: 'center',
    justifyContent: 'center',
    width: 20,
    height: 20,
    borderRadius: '50%',
    background: theme.colors.error.main,
    color: theme.colors.error.contrastText,
    fontSize: 13,
    fontWeight: theme.typography.fontWeightBold,
  }),
  body: css({ maxWidth: 560, color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  spinner: css({
    width: 20,
    height: 20,
    borderRadius: '50%',
    border: `2px solid ${theme.colors.border.medium}`,
    borderTopColor: theme.colors.primary.main,
    animation: 'numrep-spin 0.8s linear infinite',
    '@keyframes numrep-spin': { to: { transform: 'rotate(360deg)' } },
  }),
});
