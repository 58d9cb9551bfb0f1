// Redraw the figures of experiment results folders from their committed data (raw/ and run.json), with
// the current figure code; summary files and logs are left as they are. Run after `npm run build`:
//   node scripts/refigure.mjs data/cpu-experiments/7.2_qos [more results folders...]
import { join } from 'node:path';
import { renderExperimentFigures, summarizeExperiment } from '../dist/report/experiment-report.js';

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  console.error('usage: node scripts/refigure.mjs <results folder>...');
  process.exit(2);
}
for (const dir of dirs) {
  const figures = await renderExperimentFigures(summarizeExperiment(dir), join(dir, 'figures'));
  console.log(`${dir}: ${figures.map((f) => f.name ?? f.title).join(', ')}`);
}
