/**
 * The numrep metric families the panel reads (docs/metrics.md is the contract).
 * Names are matched without the `numrep_` prefix so a recording rule or relabel that keeps the suffix still works.
 */
export const METRIC = {
  status: 'numrep_number_status',
  score: 'numrep_number_reputation_score',
  subscore: 'numrep_number_subscore',
  recommendation: 'numrep_number_recommendation',
  restUntil: 'numrep_number_rest_until_timestamp_seconds',
  carrierFlag: 'numrep_number_carrier_flag',
  calls: 'numrep_number_calls',
  answerRatio: 'numrep_number_answer_ratio',
  engineFlagged: 'numrep_number_engine_flagged',
  consumersOverCap: 'numrep_number_consumers_over_cap',
  attemptsOverCap: 'numrep_number_attempts_over_cap',
  repeatDialRatio: 'numrep_number_repeat_dial_ratio',
  info: 'numrep_number_info',
  diagnosis: 'numrep_number_diagnosis',
} as const;

export type MetricKey = keyof typeof METRIC;

const BY_NAME = new Map<string, MetricKey>(Object.entries(METRIC).map(([k, v]) => [v, k as MetricKey]));

/** Families whose absence is worth telling the user about. */
export const EXPECTED: MetricKey[] = ['status', 'score', 'subscore', 'recommendation', 'carrierFlag', 'calls', 'answerRatio'];

/** `numrep_number_status` or a legend such as `numrep_number_status{number="+1…", status="spam"}`. */
export function metricKeyFor(name: string | undefined): MetricKey | undefined {
  if (!name) {
    return undefined;
  }
  return BY_NAME.get(name.split('{')[0].trim());
}

export function isNumrepName(name: string | undefined): boolean {
  return !!name && name.startsWith('numrep_');
}

/**
 * When a query hides `__name__` (e.g. `max by (number, pool, status) (numrep_number_status)`), the labels still
 * say which family a series belongs to. Score, calls and the answer ratio carry no telling label and cannot be inferred.
 */
export function inferFromLabels(labels: Record<string, string>): MetricKey | undefined {
  if (!labels.number) {
    return undefined;
  }
  if (labels.status !== undefined) {
    return 'status';
  }
  if (labels.action !== undefined) {
    return 'recommendation';
  }
  if (labels.dimension !== undefined) {
    return 'subscore';
  }
  if (labels.carrier !== undefined && labels.state !== undefined) {
    return 'carrierFlag';
  }
  if (labels.engine !== undefined) {
    return 'engineFlagged';
  }
  if (labels.registration !== undefined) {
    return 'info';
  }
  if (labels.diagnosis !== undefined) {
    return 'diagnosis';
  }
  return undefined;
}
