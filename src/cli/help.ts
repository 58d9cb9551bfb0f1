/**
 * What every command's help and usage errors look like: defaults and choices written as people write
 * them (`default: abacus`, `default: 4,8,16,32`, not JSON), required options marked `(required)`, an
 * example line per command, usage errors with the same `abacus:` prefix as every other error and exit
 * code 2.
 */
import { Help, type Command, type Option } from '@commander-js/extra-typings';

/** One example per command (its path from the top: 'zoo build'), run from a fresh clone. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  zoo: ['abacus zoo build resnet50 bert --scale tiny --models-dir models-tiny'],
  'zoo build': ['abacus zoo build resnet50 bert --scale tiny --models-dir models-tiny --verify'],
  'zoo list': ['abacus zoo list --models-dir models-tiny'],
  split: ['abacus split my-model.onnx --out models/my-model --operators 20 --id 8 --verify'],
  bench: ['abacus bench executor --models resnet50 --scale tiny --models-dir models-tiny --reps 5'],
  'bench executor': ['abacus bench executor --models resnet50 --scale tiny --models-dir models-tiny --reps 5'],
  profile: ['abacus profile --model-num 2 --comb resnet50 vgg16 --scale tiny --models-dir models-tiny --samples 4 --reps 5'],
  report: ['abacus report data/cpu-experiments --out report'],
  quickstart: ['abacus quickstart --out quickstart'],
  train: ['abacus train --modeling mlp            (the newest profile under runs/profile/)', 'abacus train --data runs/profile/cpu-tiny-2in2 --modeling lr --out runs/predictor/my-lr'],
  serve: ['abacus serve --comb resnet50 vgg16 --scale tiny --models-dir models-tiny --policy all --qos 80 --load 20 --queries 200'],
  load: ['abacus load --url http://127.0.0.1:8000 --rate 20 --duration 10'],
  balance: ['abacus balance --listen 127.0.0.1:9000 --nodes http://127.0.0.1:8001,http://127.0.0.1:8002'],
};

/** A default or choice as a person writes it: lists joined as the flag takes them, strings unquoted. */
export function plainValue(value: unknown, variadic = false): string {
  if (Array.isArray(value)) return value.map((v) => plainValue(v)).join(variadic ? ' ' : ',');
  if (typeof value === 'string') return value === '' ? "''" : value;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}=${plainValue(v)}`).join(',');
  }
  return String(value);
}

class PlainHelp extends Help {
  override optionDescription(option: Option): string {
    const extra: string[] = [];
    if (option.mandatory) extra.push('required');
    if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
    const showDefault = option.defaultValue !== undefined && (option.required || option.optional || (option.isBoolean() && typeof option.defaultValue === 'boolean' && !option.negate));
    if (showDefault) extra.push(`default: ${option.defaultValueDescription ?? plainValue(option.defaultValue, option.variadic)}`);
    if (extra.length === 0) return option.description;
    return option.description ? `${option.description} (${extra.join('; ')})` : `(${extra.join('; ')})`;
  }
}

interface Walkable {
  name(): string;
  readonly commands: readonly Walkable[];
  exitOverride(fn: (err: { exitCode: number }) => never): unknown;
  configureOutput(config: { outputError: (str: string, write: (s: string) => void) => void }): unknown;
  createHelp(): Help;
  configureHelp(): Record<string, unknown>;
  addHelpText(position: 'after', text: string): unknown;
}

/** Apply the conventions to `program` and every subcommand under it. */
export function configureCli(program: Command): void {
  const walk = (cmd: Walkable, path: string): void => {
    cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
    cmd.configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'abacus: ')) });
    cmd.createHelp = () => Object.assign(new PlainHelp(), cmd.configureHelp());
    const examples = EXAMPLES[path];
    if (examples) cmd.addHelpText('after', `\nExample${examples.length > 1 ? 's' : ''}:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program as unknown as Walkable, '');
}
