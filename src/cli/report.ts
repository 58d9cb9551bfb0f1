/** `abacus report`: one HTML page and one Markdown file from experiment results folders. */
import { Command } from '@commander-js/extra-typings';
import { writeExperimentsReport } from '../report/experiment-report.js';
import { action, printJson } from './shared.js';

export function reportCommand(): Command<[string[]]> {
  return new Command('report')
    .description('an HTML page and a Markdown file with every figure and table of experiment results folders, their provenance and the paper\'s numbers beside ours')
    .argument('<dirs...>', 'results folders (experiments/<section>/results/<run-id>), or folders to search for them (experiments/)')
    .option('--out <dir>', 'report folder (report.html, report.md, figures/)', 'report')
    .option('--title <text>', 'title of the page', 'abacus experiments')
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (dirs, opts) => {
        const written = await writeExperimentsReport(dirs, opts.out, { title: opts.title });
        if (opts.json) printJson(written);
        else {
          process.stderr.write(`${written.runs.length} run(s): ${written.runs.join(', ')}\n`);
          console.log(written.htmlPath);
          console.log(written.mdPath);
        }
      }),
    );
}
