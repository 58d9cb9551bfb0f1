export * from './errors.js';
export * from './rng.js';
export * from './stats.js';
export * from './fsutil.js';
export * from './provenance.js';
export * from './progress.js';
