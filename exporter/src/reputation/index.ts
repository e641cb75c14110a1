// The reputation engine's public surface (docs/scoring.md).
export * from './config.js';
export * from './math.js';
export * from './subscores.js';
export * from './score.js';
export * from './carrierFlag.js';
export * from './status.js';
export * from './recommendation.js';
export * from './velocity.js';
export * from './signals.js';
export * from './evidence.js';
export * from './events.js';
export * from './diagnosis.js';
export * from './assess.js';
export * from './labels.js';
