import type { FatigueFacts } from './data/fatigue';
import type { Diagnosis } from './data/diagnosis';

/** Panel options and the row model shared by the data transforms and the components. */

export const STATUSES = ['healthy', 'mixed', 'spam', 'in_progress'] as const;
export type Status = (typeof STATUSES)[number];
export type StatusOrUnknown = Status | 'unknown';

export const DIMENSIONS = ['connection', 'engagement', 'sentiment', 'maturity'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const RATINGS = ['good', 'normal', 'poor', 'very_poor'] as const;
export type Rating = (typeof RATINGS)[number];

export const CARRIER_FLAGS = ['clean', 'warning', 'flagged'] as const;
export type CarrierFlag = (typeof CARRIER_FLAGS)[number];

export const ACTIONS = ['keep', 'slow_down', 'rest', 'retire', 'remediate'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Recommendation {
  action: Action;
  /** From the optional `reason` label on numrep_number_recommendation, else derived from the figures. */
  reason: string;
  /** True when the reason came from the metric label rather than being derived. */
  reasonFromLabel: boolean;
  /** Epoch ms, from numrep_number_rest_until_timestamp_seconds when the action is `rest`. */
  until: number | null;
  /** What the cell's tooltip shows: the reason, and recipient fatigue when the number is over the cap (data/fatigue.ts). */
  tooltip?: string;
}

export interface NumberRow {
  number: string;
  pool: string;
  status: StatusOrUnknown;
  score: number | null;
  subscores: Record<Dimension, number | null>;
  ratings: Record<Dimension, Rating | null>;
  /** carrier → current flag (only carriers with a numrep_number_carrier_flag series for this number). */
  carriers: Record<string, CarrierFlag>;
  recommendation: Recommendation | null;
  calls24h: number | null;
  answerRatio24h: number | null;
  /** Answer-ratio history (24h window series over the query range), oldest first; nulls are gaps. */
  answerHistory: Array<number | null>;
  /** Engines whose latest label is not clean (numrep_number_engine_flagged == 1). */
  enginesFlagged: string[];
  /** Recipient fatigue in the 24h window, when the numrep_number_*_over_cap series are there. */
  fatigue24h?: FatigueFacts | null;
  /** Where the number lives (numrep_number_info): ISO country and the area of its prefix; null when not given. */
  country: string | null;
  area: string | null;
  /** The inventory's registration state (numrep_number_info `registration`); null when the series is absent. */
  registration: Registration | null;
  /** The exporter's diagnosis (numrep_number_diagnosis); null when the series is absent. */
  diagnosis?: Diagnosis | null;
}

export const REGISTRATIONS = ['registered', 'not_registered', 'unknown'] as const;
export type Registration = (typeof REGISTRATIONS)[number];

export interface TransformResult {
  rows: NumberRow[];
  /** Every carrier seen in numrep_number_carrier_flag, sorted. */
  carriers: string[];
  /** Whether any numrep_* series was found at all. */
  found: boolean;
  /** Metric families the panel reads that had no series (shown as a hint; the rows still render). */
  missing: string[];
}

export type ColumnId =
  | 'pool'
  | 'status'
  | 'score'
  | 'ratings'
  | 'carriers'
  | 'calls24h'
  | 'answerRatio'
  | 'trend'
  | 'recommendation'
  | 'area'
  | 'registration';

export const ALL_COLUMNS: ColumnId[] = [
  'pool',
  'status',
  'score',
  'ratings',
  'carriers',
  'calls24h',
  'answerRatio',
  'trend',
  'recommendation',
  'area',
  'registration',
];

export type SortKey = 'number' | 'pool' | 'status' | 'score' | 'calls24h' | 'answerRatio' | 'recommendation';
export type SortDir = 'asc' | 'desc';
export type Density = 'compact' | 'normal' | 'comfortable';

export interface PanelOptions {
  /** Options schema version, bumped with every change the migration handler has to know about. */
  version: number;
  columns: ColumnId[];
  bands: { excellent: number; critical: number };
  sort: { key: SortKey; dir: SortDir };
  density: Density;
  link: { template: string; newTab: boolean };
  /** Comma-separated carrier names; empty = every carrier seen in the data. */
  carriers: string;
  showToolbar: boolean;
}

export const OPTIONS_VERSION = 1;

export const DEFAULT_LINK = '/d/numrep-number-detail/number-detail?var-number=${number}';

export const defaultOptions: PanelOptions = {
  version: OPTIONS_VERSION,
  columns: [...ALL_COLUMNS],
  bands: { excellent: 80, critical: 50 },
  sort: { key: 'score', dir: 'asc' },
  density: 'normal',
  link: { template: DEFAULT_LINK, newTab: false },
  carriers: '',
  showToolbar: true,
};
