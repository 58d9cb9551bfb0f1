// After tsc: make the CLI entry executable (tsc keeps the shebang but not the mode bit), and compile the
// experiment scripts' TypeScript helpers (experiments/_lib/exp.ts, motivation/cdf.ts, 7.6_cluster/cluster.ts)
// into dist/experiments/<name>.mjs, so that the experiment scripts run where only the production
// dependencies are installed (the GPU machine's bundle has no tsx). Each helper's imports of src/ are
// pointed at the compiled modules in dist/ (not copied in: modules that find files next to themselves,
// like the executor's host entry, stay where they are); packages resolve from node_modules.
import { chmodSync, cpSync, existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
// the vendored gRPC protos go next to the compiled server (where protoDir() looks for them), so that a build
// shipped without src/ (the GPU machine's bundle, a package of dist/) serves gRPC
cpSync('src/serve/proto', 'dist/serve/proto', { recursive: true });

const srcRoot = resolve('src');
const srcToDist = {
  name: 'src-to-dist',
  setup(b) {
    b.onResolve({ filter: /\/src\// }, (args) => {
      const target = relative(srcRoot, resolve(args.resolveDir, args.path));
      if (target.startsWith('..')) return undefined;
      return { path: `../${target.split(sep).join('/')}`, external: true };
    });
  },
};
await build({
  entryPoints: { exp: 'experiments/_lib/exp.ts', cdf: 'experiments/motivation/cdf.ts', cluster: 'experiments/7.6_cluster/cluster.ts' },
  outdir: 'dist/experiments',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  packages: 'external',
  plugins: [srcToDist],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
