// Every threshold of the reputation model (docs/scoring.md), with defaults and a
// zod schema that validates a partial override and merges it over the defaults.

import { z } from 'zod';

export const DIMENSIONS = ['maturity', 'connection', 'engagement', 'sentiment'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export const ENGINES = ['hiya', 'first_orion', 'tns', 'other'] as const;
export type Engine = (typeof ENGINES)[number];

export interface ReputationConfig {
  /** Sub-score ratings: good ≥ good, normal ≥ normal, poor ≥ poor, very_poor below. */
  ratings: { good: number; normal: number; poor: number };
  /** Composite bands: excellent ≥ excellent, degraded ≥ degraded, critical below. */
  bands: { excellent: number; degraded: number };
  /** Composite weights (normalised by their sum). */
  weights: Record<Dimension, number>;
  /** Caps on the composite score. */
  caps: {
    /** Block ratio (24h or 7d window) at or above which the score is capped. */
    blockRatio: number;
    /** The cap when blocked. 49 puts the number in the critical band. */
    blockedMax: number;
    /** The cap when any engine labels the number (label not in labels.benign). */
    labelledMax: number;
  };
  /** Small-sample shrinkage: k pseudo-observations at a neutral prior (docs/scoring.md §2). */
  smoothing: {
    pseudoCalls: number;
    pseudoAnswered: number;
    answerPrior: number;
    refusalPrior: number;
    shortCallPrior: number;
    talkPriorSeconds: number;
  };
  connection: {
    /** Answer ratio at or above which the number is healthy (connection 80). */
    healthy: number;
    /** Answer ratio below which the number is in alert (connection 40 at the edge). */
    watch: number;
    /** Answer ratio that earns 100. */
    excellent: number;
    /** A 24h answer ratio more than this many points below the prior 6 days is a drop. */
    dropPoints: number;
    /** Connection points lost per point of drop, once it is a drop. */
    dropPenaltyPerPoint: number;
    maxDropPenalty: number;
    /** Calls needed in the 24h window and in the prior 6 days before a drop is judged. */
    dropMinCalls: number;
    /**
     * Refused-before-answer ratio ((cancelled 487 + blocked) / calls, 7d) above the rest of the pool's:
     * the first `cancelGrace` is free, then `cancelPenaltyPerPoint` per point, up to `maxCancelPenalty`.
     */
    cancelGrace: number;
    /** 7d calls needed before the refused-before-answer penalty applies. */
    cancelMinCalls: number;
    cancelPenaltyPerPoint: number;
    maxCancelPenalty: number;
  };
  engagement: {
    /** Answered calls shorter than this are short calls (must match the windows' tally). */
    shortCallSeconds: number;
    /** Answered calls at least this long count as engaged. */
    engagedSeconds: number;
    /** Short-call ratio above which engagement reads as low trust. */
    shortCallLowTrust: number;
    /** Short-call ratio at or below which there is no penalty. */
    shortCallIdeal: number;
    /** Short-call ratio that scores 0. */
    shortCallZero: number;
    /** Share of engagement from the short-call curve (the rest from average talk). */
    shortCallWeight: number;
  };
  sentiment: {
    /** Rejection ratio (rejected + busy + blocked) below which it is normal. */
    rejectionNormal: number;
    /** Rejection ratio above which it is critical. */
    rejectionCritical: number;
    /** Block ratio that costs the full block penalty. */
    blockFull: number;
    blockMaxPenalty: number;
    /** Spam report rate: below green no penalty; green..red orange; above red red. */
    reportGreen: number;
    reportRed: number;
    reportMaxPenalty: number;
    /** Penalty when any engine labels the number. */
    labelPenalty: number;
  };
  maturity: {
    /** Age since first seen that earns full age credit. */
    matureDays: number;
    /** Answered calls over 7 days that earn full depth credit. */
    depthAnswered: number;
    /** Share of maturity from age, depth and steady use (normalised). */
    ageWeight: number;
    depthWeight: number;
    steadyWeight: number;
    /** Maturity points lost per 1 % over a velocity cap. */
    velocityPenaltyPerPercent: number;
    maxVelocityPenalty: number;
  };
  velocity: {
    /** Calls per number per 24h. */
    dailyCap: number;
    /** Calls per number per hour: at most half the daily budget in any one hour. */
    hourlyCap: number;
    /** Over the daily cap only counts when the 72 h also hold more than this many days' cap (sustained pacing). */
    sustainedDays: number;
  };
  /** Number-level signals (warnings and flags) that drive status. */
  signals: {
    /** Calls a window needs before number-level ratios raise anything. */
    minCalls: number;
    /** Answered calls needed before the short-call ratio raises anything. */
    minAnswered: number;
    /** Voicemail share above which calls may be being filtered. */
    voicemailFiltering: number;
    /** List the velocity caps among the signals (pacing: slow_down, never a status change). */
    velocity: boolean;
  };
  status: {
    /** Fewer calls than this in 7d, no label and no block: in_progress. */
    minCalls7d: number;
    /** Blocks (608/603+) in 7d, with some in 24h too, that make the number spam. */
    spamMinBlocks: number;
  };
  /** Per number × carrier flag (docs/scoring.md §6). */
  carrier: {
    /** Calls the rest of the pool needs on the carrier before its cancel baseline is trusted (connection, §3.1). */
    baselineMinCalls: number;
    /** Baselines used when the pool has too few calls (the connection sub-score's cancel baseline). */
    defaultBaseline: { answer: number; cancel: number; rejection: number };
    /** Flagged when blocks ≥ blockMinCount and block ratio ≥ blockMinRatio. */
    blockMinCount: number;
    blockMinRatio: number;
    /** Carrier id → the analytics engine that labels for it. */
    engines: Record<string, Engine>;
  };
  /** Early warning (docs/scoring.md §6.3): the false-alarm budget and the evidence test it sets the level of. */
  earlyWarning: {
    /** The design target: false warnings per 1,000 healthy number-days; every test's level follows from it. */
    falseWarningsPer1000NumberDays: number;
    /** Times per day a test on unchanging traffic newly crosses a fixed level, per unit of that level (measured). */
    crossingsPerDay: number;
    /** Calls (blocked aside) a window needs before its test runs. */
    minCalls: number;
    /** Calls the rest of the pool needs on the carrier before it is the prior and its moves are allowed for. */
    poolMinCalls: number;
    /** The number's own earlier days are shrunk toward the pool with this many pseudo-calls. */
    shrinkCalls: number;
    /** Day-to-day variation of a number's shares beyond chance (standard deviation, absolute). */
    dayToDay: number;
    /** multinomial: G test over answered ≥ 10 s / short / 487 / declined+busy / other (4 df); directional: score test along "answers turn into short, 487, declined" (1 df). */
    test: 'multinomial' | 'directional';
  };
  /** Pool and carrier events (docs/scoring.md §6.4): a move shared by the pool, not a number's problem. */
  events: {
    /** The pool's (or a carrier's) answer rate fell this many points, 24h against the 6 days before. */
    answerDropPoints: number;
    /** …or its 487 + declined + busy share rose this many points. */
    refusalRisePoints: number;
    /** Calls the pool (or carrier) needs in 24h and in the 6 days before. */
    minCalls: number;
  };
  /** The diagnosis' reading of the dialer's dispositions (docs/scoring.md §7.1, engagement.ts). */
  diagnosis: {
    /** People reached (connected_human) the last 24h and the 6 days before each need before conversions are compared. */
    minPeopleReached: number;
    /** The conversion ratio must fall at least this many points, 24h against the 6 days before. */
    conversionDropPoints: number;
    /** …beyond chance: Newcombe's lower bound of the fall above 0 at this normal quantile. */
    z: number;
    /** Answers count as stable when the answer rate moved at most this many points. */
    stableAnswerPoints: number;
  };
  labels: {
    /** Labels that do not count as flagged. */
    benign: string[];
  };
  /** Rest period for `rest` recommendations, days. */
  restDays: number;
}

export const DEFAULT_REPUTATION_CONFIG: ReputationConfig = {
  ratings: { good: 80, normal: 60, poor: 40 },
  bands: { excellent: 80, degraded: 50 },
  weights: { connection: 0.35, sentiment: 0.35, engagement: 0.2, maturity: 0.1 },
  caps: { blockRatio: 0.05, blockedMax: 49, labelledMax: 30 },
  smoothing: {
    pseudoCalls: 10,
    pseudoAnswered: 5,
    answerPrior: 0.35,
    refusalPrior: 0.02,
    shortCallPrior: 0.1,
    talkPriorSeconds: 45,
  },
  connection: {
    healthy: 0.4,
    watch: 0.25,
    excellent: 0.6,
    dropPoints: 10,
    dropPenaltyPerPoint: 2,
    maxDropPenalty: 50,
    dropMinCalls: 20,
    cancelGrace: 0.05,
    cancelMinCalls: 20,
    cancelPenaltyPerPoint: 1,
    maxCancelPenalty: 30,
  },
  engagement: {
    shortCallSeconds: 10,
    engagedSeconds: 60,
    shortCallLowTrust: 0.15,
    shortCallIdeal: 0.05,
    shortCallZero: 0.5,
    shortCallWeight: 0.6,
  },
  sentiment: {
    rejectionNormal: 0.05,
    rejectionCritical: 0.15,
    blockFull: 0.2,
    blockMaxPenalty: 60,
    reportGreen: 0.005,
    reportRed: 0.02,
    reportMaxPenalty: 60,
    labelPenalty: 60,
  },
  maturity: {
    matureDays: 90,
    depthAnswered: 100,
    ageWeight: 0.5,
    depthWeight: 0.3,
    steadyWeight: 0.2,
    velocityPenaltyPerPercent: 1,
    maxVelocityPenalty: 60,
  },
  velocity: { dailyCap: 100, hourlyCap: 50, sustainedDays: 3 },
  signals: { minCalls: 20, minAnswered: 10, voicemailFiltering: 0.6, velocity: true },
  status: { minCalls7d: 20, spamMinBlocks: 2 },
  carrier: {
    baselineMinCalls: 50,
    defaultBaseline: { answer: 0.35, cancel: 0.1, rejection: 0.05 },
    blockMinCount: 1,
    blockMinRatio: 0.01,
    engines: { att: 'hiya', verizon: 'tns', tmobile: 'first_orion' },
  },
  earlyWarning: { falseWarningsPer1000NumberDays: 1, crossingsPerDay: 5, minCalls: 10, poolMinCalls: 100, shrinkCalls: 30, dayToDay: 0.04, test: 'multinomial' },
  events: { answerDropPoints: 10, refusalRisePoints: 10, minCalls: 200 },
  diagnosis: { minPeopleReached: 20, conversionDropPoints: 5, z: 3, stableAnswerPoints: 5 },
  labels: { benign: ['clean', 'unknown'] },
  restDays: 30,
};

// ---------- validation ----------

const ratio = z.number().finite().min(0, 'must be a ratio between 0 and 1').max(1, 'must be a ratio between 0 and 1');
const points = z.number().finite().min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100');
const nonNeg = z.number().finite().nonnegative('must be ≥ 0');
const posInt = z.number().int('must be a whole number').positive('must be > 0');
const nonNegInt = z.number().int('must be a whole number').nonnegative('must be ≥ 0');
const weight = z.number().finite().nonnegative('weights must be ≥ 0');

const engineEnum = z.enum(ENGINES, {
  errorMap: () => ({ message: `must be one of ${ENGINES.join(', ')}` }),
});

const schema = z
  .object({
    ratings: z.object({ good: points, normal: points, poor: points }).strict().partial(),
    bands: z.object({ excellent: points, degraded: points }).strict().partial(),
    weights: z
      .object({ maturity: weight, connection: weight, engagement: weight, sentiment: weight })
      .strict()
      .partial(),
    caps: z.object({ blockRatio: ratio, blockedMax: points, labelledMax: points }).strict().partial(),
    smoothing: z
      .object({
        pseudoCalls: nonNeg,
        pseudoAnswered: nonNeg,
        answerPrior: ratio,
        refusalPrior: ratio,
        shortCallPrior: ratio,
        talkPriorSeconds: nonNeg,
      })
      .strict()
      .partial(),
    connection: z
      .object({
        healthy: ratio,
        watch: ratio,
        excellent: ratio,
        dropPoints: points,
        dropPenaltyPerPoint: nonNeg,
        maxDropPenalty: points,
        dropMinCalls: nonNegInt,
        cancelGrace: ratio,
        cancelMinCalls: nonNegInt,
        cancelPenaltyPerPoint: nonNeg,
        maxCancelPenalty: points,
      })
      .strict()
      .partial(),
    engagement: z
      .object({
        shortCallSeconds: posInt,
        engagedSeconds: posInt,
        shortCallLowTrust: ratio,
        shortCallIdeal: ratio,
        shortCallZero: ratio,
        shortCallWeight: ratio,
      })
      .strict()
      .partial(),
    sentiment: z
      .object({
        rejectionNormal: ratio,
        rejectionCritical: ratio,
        blockFull: ratio,
        blockMaxPenalty: points,
        reportGreen: ratio,
        reportRed: ratio,
        reportMaxPenalty: points,
        labelPenalty: points,
      })
      .strict()
      .partial(),
    maturity: z
      .object({
        matureDays: z.number().finite().positive('must be > 0'),
        depthAnswered: posInt,
        ageWeight: weight,
        depthWeight: weight,
        steadyWeight: weight,
        velocityPenaltyPerPercent: nonNeg,
        maxVelocityPenalty: points,
      })
      .strict()
      .partial(),
    velocity: z.object({ dailyCap: posInt, hourlyCap: posInt, sustainedDays: nonNeg }).strict().partial(),
    signals: z
      .object({
        minCalls: nonNegInt,
        minAnswered: nonNegInt,
        voicemailFiltering: ratio,
        velocity: z.boolean(),
        // Accepted and ignored since issue 16 (their tests were replaced by the budgeted evidence test).
        z: z.number().finite().positive('must be > 0'),
        warningsForFlag: posInt,
        answerDropAlonePoints: points,
      })
      .strict()
      .partial(),
    status: z.object({ minCalls7d: nonNegInt, spamMinBlocks: posInt }).strict().partial(),
    earlyWarning: z
      .object({
        falseWarningsPer1000NumberDays: z.number().finite().positive('must be > 0'),
        crossingsPerDay: z.number().finite().positive('must be > 0'),
        minCalls: nonNegInt,
        poolMinCalls: nonNegInt,
        shrinkCalls: nonNeg,
        dayToDay: ratio,
        test: z.enum(['multinomial', 'directional']),
      })
      .strict()
      .partial(),
    events: z.object({ answerDropPoints: points, refusalRisePoints: points, minCalls: nonNegInt }).strict().partial(),
    diagnosis: z
      .object({ minPeopleReached: posInt, conversionDropPoints: points, z: z.number().finite().positive('must be > 0'), stableAnswerPoints: points })
      .strict()
      .partial(),
    carrier: z
      .object({
        baselineMinCalls: nonNegInt,
        defaultBaseline: z.object({ answer: ratio, cancel: ratio, rejection: ratio }).strict().partial(),
        blockMinCount: posInt,
        blockMinRatio: ratio,
        engines: z.record(
          z.string().regex(/^[a-z0-9_]+$/, 'carrier ids are lower-case letters, digits and _'),
          engineEnum,
        ),
        // Accepted and ignored since issue 16 (their tests were replaced by the budgeted evidence test).
        minCalls: posInt,
        z: z.number().finite().positive('must be > 0'),
        margin: ratio,
        answerMargin: ratio,
        ownHistory: z
          .object({
            enabled: z.boolean(),
            minCalls: posInt,
            minPriorCalls: posInt,
            z: z.number().finite().positive('must be > 0'),
            margin: ratio,
          })
          .strict()
          .partial(),
      })
      .strict()
      .partial(),
    labels: z.object({ benign: z.array(z.string().min(1)).min(1, 'needs at least one label') }).strict().partial(),
    restDays: z.number().finite().positive('must be > 0'),
  })
  .strict()
  .partial();

export type ReputationConfigOverride = z.input<typeof schema>;

export class ReputationConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid reputation config:\n  ${issues.join('\n  ')}`);
    this.name = 'ReputationConfigError';
  }
}

/** Cross-field rules that only make sense on the merged config. */
function crossCheck(c: ReputationConfig): string[] {
  const out: string[] = [];
  const ord = (path: string, cond: boolean, why: string) => {
    if (!cond) out.push(`${path}: ${why}`);
  };
  ord('ratings', c.ratings.good > c.ratings.normal && c.ratings.normal > c.ratings.poor, 'must satisfy good > normal > poor');
  ord('bands', c.bands.excellent > c.bands.degraded, 'must satisfy excellent > degraded');
  ord('weights', DIMENSIONS.some((d) => c.weights[d] > 0), 'at least one weight must be > 0');
  ord(
    'connection',
    c.connection.excellent > c.connection.healthy && c.connection.healthy > c.connection.watch && c.connection.watch > 0,
    'must satisfy excellent > healthy > watch > 0',
  );
  ord(
    'engagement',
    c.engagement.shortCallIdeal < c.engagement.shortCallLowTrust && c.engagement.shortCallLowTrust < c.engagement.shortCallZero,
    'must satisfy shortCallIdeal < shortCallLowTrust < shortCallZero',
  );
  ord('engagement.engagedSeconds', c.engagement.engagedSeconds > c.engagement.shortCallSeconds, 'must be greater than shortCallSeconds');
  ord('sentiment', c.sentiment.rejectionNormal < c.sentiment.rejectionCritical, 'must satisfy rejectionNormal < rejectionCritical');
  ord('sentiment', c.sentiment.reportGreen < c.sentiment.reportRed, 'must satisfy reportGreen < reportRed');
  ord('sentiment.blockFull', c.sentiment.blockFull > 0, 'must be > 0');
  ord('maturity', c.maturity.ageWeight + c.maturity.depthWeight + c.maturity.steadyWeight > 0, 'at least one of ageWeight, depthWeight, steadyWeight must be > 0');
  ord('velocity.hourlyCap', c.velocity.hourlyCap <= c.velocity.dailyCap, 'must not exceed dailyCap');
  return out;
}

function mergeDeep<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    if (v === undefined) continue;
    // carrier.engines is a map: an override replaces it wholesale so a mapping can be removed.
    out[k] = k === 'engines' ? v : mergeDeep(out[k], v);
  }
  return out as T;
}

/**
 * Validate a partial override (e.g. the `reputation:` section of the config file) and merge it over
 * the defaults. Throws ReputationConfigError listing every problem as `key.path: why`.
 */
export function parseReputationConfig(override: unknown = {}, base: ReputationConfig = DEFAULT_REPUTATION_CONFIG): ReputationConfig {
  const parsed = schema.safeParse(override ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const path = i.path.length ? i.path.join('.') : '(root)';
      if (i.code === 'unrecognized_keys') return `${path}: unknown key(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
      if (i.code === 'invalid_type' && i.received !== 'float') return `${path}: expected ${i.expected}, got ${i.received}`;
      return `${path}: ${i.message}`;
    });
    throw new ReputationConfigError(issues);
  }
  const merged = mergeDeep(base, parsed.data);
  const cross = crossCheck(merged);
  if (cross.length) throw new ReputationConfigError(cross);
  return merged;
}
