#!/usr/bin/env bash
# ../shared/gpu/pack.sh, then the app archive again without what the GPU machine's steps never load
# (tfjs: training runs here; source maps, declarations, READMEs) and node without its symbol table (the
# dynamic symbols that native addons link against stay), because the working tree and .gpu/ together must
# stay under 64 MiB. Run from the project root after `npm run build`.
set -euo pipefail
../shared/gpu/pack.sh "$@"
stage=$(mktemp -d)
tar -xJf .gpu/app.tar.xz -C "$stage"
rm -rf "$stage/node_modules/@tensorflow" "$stage/node_modules/@types"
find "$stage" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.md' \) -type f -delete
tar -C "$stage" -cf - . | xz -T2 -9e > .gpu/app.tar.xz
rm -rf "$stage"
strip -o .gpu/node.stripped "$(readlink -f "$(command -v node)")"
xz -T2 -9e -c .gpu/node.stripped > .gpu/node.xz
rm .gpu/node.stripped
echo "pack-slim.sh: .gpu/ is $(du -sm .gpu | cut -f1) MiB" >&2
