// The families /metrics renders per number and per number x carrier pair, with their help text: one table each
// for the window rows, the verdict rows, the pair rows and the management rows (http/metrics.ts renders them; the
// config's metrics.exclude names them). No imports, so the config can check names without loading the exporter.

export const NUMBER_DATA_FAMILIES = [
  ['numrep_number_calls', 'Call attempts from the number in the window.'],
  ['numrep_number_answered', 'Answered calls (voicemail excluded) in the window.'],
  ['numrep_number_answer_ratio', 'Answered / calls.'],
  ['numrep_number_cancel_ratio', 'Cancelled (SIP 487) / calls.'],
  ['numrep_number_rejection_ratio', '(Rejected + busy) / calls.'],
  ['numrep_number_block_ratio', 'Blocked (608, 603+) / calls.'],
  ['numrep_number_voicemail_ratio', 'Voicemail / calls.'],
  ['numrep_number_short_call_ratio', 'Answered calls shorter than 10 s / answered.'],
  ['numrep_number_talk_seconds_avg', 'Mean talk seconds of answered calls.'],
  ['numrep_number_attestation_ratio', 'Share of calls by STIR/SHAKEN attestation level.'],
  ['numrep_number_first_seen_timestamp_seconds', 'First call seen from the number.'],
  ['numrep_number_last_seen_timestamp_seconds', 'Newest call seen from the number.'],
] as const;
export const VERDICT_FAMILIES = [
  ['numrep_number_reputation_score', 'Composite reputation score 0-100.'],
  ['numrep_number_subscore', 'Reputation sub-score 0-100 by dimension.'],
  ['numrep_number_status', 'Current status of the number (1 for the current status only).'],
  ['numrep_number_recommendation', 'Recommended action (1 for the current action only).'],
  ['numrep_number_rest_until_timestamp_seconds', 'End of the recommended rest period.'],
  ['numrep_number_engine_flagged', '1 when the engine\'s latest label for the number is not clean.'],
  ['numrep_number_report_ratio', 'Spam reports / calls, where reports are known.'],
  ['numrep_number_diagnosis', 'Diagnosis of the number: healthy, external (the pool or a carrier moved), engagement (answers stable, conversions fell), degrading (early warning), blacklisted (blocks or labels); 1 for the current one only.'],
] as const;
export const PAIR_DATA_FAMILIES = [
  ['numrep_number_carrier_calls', 'Calls from the number terminating on the carrier.'],
  ['numrep_number_carrier_answer_ratio', 'Answered / calls on the carrier.'],
  ['numrep_number_carrier_cancel_ratio', 'Cancelled (487) / calls on the carrier.'],
  ['numrep_number_carrier_rejection_ratio', '(Rejected + busy) / calls on the carrier.'],
  ['numrep_number_carrier_block_ratio', 'Blocked / calls on the carrier.'],
] as const;
export const PAIR_FLAG_FAMILIES = [['numrep_number_carrier_flag', 'Per number x carrier state (1 for the current state only).']] as const;

export const NUMBER_MANAGEMENT_FAMILIES = [
  ['numrep_number_consumers', 'Distinct consumers the number dialled in the window (counted by keyed hash, never shown).'],
  ['numrep_number_repeat_dial_ratio', 'Calls to a consumer the number already dialled in the window / calls.'],
  ['numrep_number_consumers_over_cap', 'Consumers the number called more than the daily cap within 24 h, in the window.'],
  ['numrep_number_attempts_over_cap', 'Calls beyond the daily cap to one consumer from the number, in the window.'],
  ['numrep_number_conversion_ratio', "Conversions / calls that reached a person, by the dialer's dispositions."],
] as const;

/** Every per-number and per-pair family /metrics renders. */
export const PER_NUMBER_FAMILIES: readonly string[] = [NUMBER_DATA_FAMILIES, VERDICT_FAMILIES, PAIR_DATA_FAMILIES, PAIR_FLAG_FAMILIES, NUMBER_MANAGEMENT_FAMILIES].flatMap((t) => t.map(([name]) => name));

/**
 * The per-number and per-pair families the shipped alert rules read (alerting/rules/*.yml; a test keeps this list
 * equal to what the rules name): a config may not leave these out, or those alerts could never fire.
 */
export const ALERTED_FAMILIES: readonly string[] = [
  'numrep_number_answer_ratio', 'numrep_number_attempts_over_cap', 'numrep_number_block_ratio', 'numrep_number_calls',
  'numrep_number_carrier_answer_ratio', 'numrep_number_carrier_block_ratio', 'numrep_number_carrier_calls',
  'numrep_number_carrier_cancel_ratio', 'numrep_number_carrier_flag', 'numrep_number_carrier_rejection_ratio',
  'numrep_number_consumers_over_cap', 'numrep_number_diagnosis', 'numrep_number_engine_flagged',
  'numrep_number_recommendation', 'numrep_number_report_ratio', 'numrep_number_reputation_score', 'numrep_number_status',
  'numrep_number_subscore',
];

/** The families a config may leave out of /metrics (`metrics.exclude`): per number or pair, read by no shipped alert. */
export const EXCLUDABLE_FAMILIES: readonly string[] = PER_NUMBER_FAMILIES.filter((f) => !ALERTED_FAMILIES.includes(f));
