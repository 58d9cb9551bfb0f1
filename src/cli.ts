#!/usr/bin/env node
/** The `abacus` command: a thin commander layer over the library. */
import './common/ort-env.js';
import { Command } from '@commander-js/extra-typings';
import { zooCommand } from './cli/zoo.js';
import { benchCommand } from './cli/bench.js';
import { profileCommand } from './cli/profile.js';
import { reportCommand } from './cli/report.js';
import { quickstartCommand } from './cli/quickstart.js';
import { splitCommand } from './cli/split.js';
import { trainCommand } from './cli/train.js';
import { serveCommand } from './cli/serve.js';
import { loadCommand } from './cli/load.js';
import { balanceCommand } from './cli/balance.js';
import { configureCli } from './cli/help.js';
import { errorMessage, exitCodeOf } from './common/errors.js';
import { stressCommand } from './cli/stress.js';

const program = new Command('abacus')
  .description('several DNN services on one accelerator with deterministic operator overlap and predicted latency')
  .version('0.1.0')
  .showHelpAfterError();

program.addCommand(zooCommand());
program.addCommand(splitCommand());
program.addCommand(benchCommand());
program.addCommand(profileCommand());
program.addCommand(reportCommand());
program.addCommand(quickstartCommand());
program.addCommand(trainCommand());
program.addCommand(serveCommand());
program.addCommand(loadCommand());
program.addCommand(balanceCommand());
program.addCommand(stressCommand());

// one error prefix, plain defaults, required options marked, an example per command; usage errors exit 2
configureCli(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // an error thrown outside a command's action (an option parser, a hook): one line, not a stack trace
  process.stderr.write(`abacus: ${errorMessage(err)}\n`);
  if (process.env.ABACUS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exitCode = exitCodeOf(err);
}
