/** `abacus split`: cut a user's ONNX model into operators. */
import { Command } from '@commander-js/extra-typings';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { join } from 'node:path';
import { defaultName, splitModel } from '../zoo/split.js';
import { action, parseIntOption, parseNumberOption, printJson } from './shared.js';

function parseDims(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([A-Za-z_][\w.]*)=(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < 1) throw new InvalidArgumentError(`--dim takes NAME=VALUE with a positive integer (got '${value}')`);
  return { ...previous, [m[1]!]: Number(m[2]) };
}

export function splitCommand(): Command<[string]> {
  return new Command('split')
    .description('cut any ONNX model into operators at every valid cut (one activation crosses it) and write a model folder')
    .argument('<model>', 'the .onnx file (weights embedded or as external data next to it)')
    .option('--out <dir>', 'model folder to write (model.onnx, model.onnx.data, manifest.json); default <models-dir>/<name>')
    .option('--models-dir <dir>', 'models folder the model folder goes into when --out is absent (where serve, profile and bench look)', 'models')
    .option('--operators <n>', 'merge the pieces into N operators of balanced FLOPs', parseIntOption('--operators', 1))
    .option('--verify', 'run the whole model and the chain of its operators on the CPU and compare')
    .option('--verify-tolerance <x>', 'largest absolute difference --verify accepts', parseNumberOption('--verify-tolerance', 0), 1e-4)
    .option('--name <name>', 'model name (default: the file name)')
    .option('--id <n>', 'model id for the predictor (7 or more; the zoo has 0-6; default: the id of the model replaced at --out, else the next free id in its models folder)', parseIntOption('--id', 7))
    .option('--activation-input <name>', 'the graph input that flows through the operators (default: the first)')
    .option('--dim <name=value>', 'value of a symbolic input dimension for the probe runs (repeatable)', parseDims, {})
    .option('--seed <n>', 'seed of the random probe input', parseIntOption('--seed'), 0)
    .option('--json', 'print one JSON object on stdout')
    .action(
      action(async (model, opts) => {
        const result = await splitModel(model, {
          outDir: opts.out ?? join(opts.modelsDir, opts.name ?? defaultName(model)),
          operators: opts.operators,
          verify: opts.verify === true,
          verifyTolerance: opts.verifyTolerance,
          name: opts.name,
          ...(opts.id !== undefined ? { id: opts.id } : {}),
          activationInput: opts.activationInput,
          dims: opts.dim,
          seed: opts.seed,
        });
        const { manifest, ...rest } = result;
        void manifest;
        if (Object.keys(result.pinned).length > 0) {
          process.stderr.write(`abacus split: warning: the model only runs with ${Object.entries(result.pinned).map(([k, v]) => `${k}=${v}`).join(', ')} (fixed by the exporter)\n`);
        }
        if (opts.json) printJson(rest);
        else {
          console.log(`${result.name} (id ${result.id}): ${result.operators} operators from ${result.cuts} valid cuts, ${result.params.toLocaleString('en-US')} parameters → ${result.dir}`);
          if (result.maxAbsDiff !== undefined) console.log(`verify: chain vs whole model, largest absolute difference ${result.maxAbsDiff.toExponential(2)}`);
        }
      }),
    );
}
