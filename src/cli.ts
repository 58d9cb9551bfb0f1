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

// usage errors in any subcommand are bad input too (exit code 2)
const overrideAll = (cmd: { commands: readonly unknown[]; exitOverride: (fn: (err: { exitCode: number }) => never) => unknown }): void => {
  cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  for (const sub of cmd.commands) overrideAll(sub as typeof cmd);
};
overrideAll(program as unknown as Parameters<typeof overrideAll>[0]);

await program.parseAsync(process.argv);
