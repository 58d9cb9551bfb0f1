// After tsc: make the CLI entry executable (tsc keeps the shebang but not the mode bit), and bundle the
// experiment scripts' helper (experiments/_lib/exp.ts with the src/ modules it uses) into one ES module,
// dist/experiments/exp.mjs, so that the experiment scripts run where only the production dependencies are
// installed (the GPU machine's bundle has no tsx). Packages stay external: they resolve from node_modules.
// The bundle sits two folders below the package root, as dist/<stage>/*.js do, so paths that the modules
// resolve from their own location (assets/fonts, package.json) stay right.
import { chmodSync, existsSync } from 'node:fs';
import { build } from 'esbuild';

if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
await build({
  entryPoints: ['experiments/_lib/exp.ts'],
  outfile: 'dist/experiments/exp.mjs',
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
