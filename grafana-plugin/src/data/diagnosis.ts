/**
 * The exporter's diagnosis of a number (numrep_number_diagnosis, docs/metrics.md): what the evidence points at, beside
 * the status. The recommendation's tooltip says it when it is not "healthy", so an on-call engineer sees whether the
 * number, the pool/carrier or the dialling list is the suspect. Pure: no Grafana imports.
 */
export const DIAGNOSES = ['healthy', 'external', 'engagement', 'degrading', 'blacklisted'] as const;
export type Diagnosis = (typeof DIAGNOSES)[number];

export function isDiagnosis(v: string | undefined): v is Diagnosis {
  return v !== undefined && (DIAGNOSES as readonly string[]).includes(v);
}

const MEANING: Record<Exclude<Diagnosis, 'healthy'>, string> = {
  external: 'the pool or a carrier moved, not this number',
  engagement: 'answers stable, conversions fell: the list or the script, not the number',
  degrading: 'the number\'s own calls are getting worse (early warning)',
  blacklisted: 'blocked or labelled',
};

/** A short sentence for the tooltip, or null for a healthy number or no diagnosis series. */
export function diagnosisNote(d: Diagnosis | null | undefined): string | null {
  if (!d || d === 'healthy') {
    return null;
  }
  return `Diagnosis: ${d} (${MEANING[d]})`;
}
