export * from './sampling.js';
export * from './format.js';
export { runProfile, activationsSetting, type ProfileRunOptions, type ProfileRunResult, type ProfileFile, type ProfileSettings } from './profile.js';
