#!/usr/bin/env bash
# Build the CUDA provider options shim (cuda-options/shim.c) for onnxruntime-node 1.29.0, here (x86-64 Linux, cc):
#     scripts/gpu/build-cuda-options.sh OUT_DIR        -> OUT_DIR/libabacus_cuda_options.so
# It needs onnxruntime 1.29.0's C API headers, which no onnxruntime npm package for Node ships; the npm package
# com.github.asus4.onnxruntime@0.4.9 (ORT 1.29.0's official builds repackaged, 150 MB) carries them. They are
# taken from it once and cached under ${XDG_CACHE_HOME:-~/.cache}/abacus-cuda-ep/1.29.0/include; nothing of
# them is committed. Why the shim exists: see the header of cuda-options/shim.c.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build-cuda-options.sh OUT_DIR}
ORT_VERSION=1.29.0
PKG=com.github.asus4.onnxruntime@0.4.9
inc=${XDG_CACHE_HOME:-$HOME/.cache}/abacus-cuda-ep/$ORT_VERSION/include
if [ ! -f "$inc/onnxruntime_c_api.h" ]; then
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "$PKG" --silent >/dev/null && tar xzf ./*.tgz --wildcards 'package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers/*')
  hdr=$work/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers
  grep -q '#define ORT_API_VERSION 29' "$hdr/onnxruntime_c_api.h" || { echo "build-cuda-options.sh: $PKG's headers are not ORT $ORT_VERSION (API 29)" >&2; exit 1; }
  mkdir -p "$inc"; cp "$hdr"/*.h "$inc/"
fi
mkdir -p "$out"
cc -shared -fPIC -O2 -Wall -Werror -o "$out/libabacus_cuda_options.so" "$here/cuda-options/shim.c" -I"$inc" -ldl -lpthread
echo "build-cuda-options.sh: $out/libabacus_cuda_options.so" >&2
