# source /tmp/cuda-ep/cuda-boot.sh on the GPU machine, after .gpu/boot.sh (call 2 of scripts/gpu/cuda-pack.sh):
# installs ORT 1.29.0's CUDA provider next to $APP's onnxruntime binary, points LD_LIBRARY_PATH at the machine's
# CUDA 13 and cuDNN 9, and preloads the CUDA provider options shim into every node started from here on.
_cuda_ep=/tmp/cuda-ep
[ -f "$_cuda_ep/boot-cuda.sh" ] || { echo "cuda-boot: $_cuda_ep is missing: the machine was given back since call 1 (bash .gpu-cuda/stash.sh); make it again" >&2; return 2; }
source "$_cuda_ep/boot-cuda.sh" || return
export LD_PRELOAD=$_cuda_ep/libabacus_cuda_options.so${LD_PRELOAD:+:$LD_PRELOAD}
node -e 'require(process.env.APP + "/node_modules/onnxruntime-node"); if (!/^active/.test(process.env.ABACUS_CUDA_OPTIONS_SHIM || "")) { console.error("cuda-boot: the options shim did not take"); process.exit(1); }' || return
echo "cuda-boot: CUDA provider options shim active (device activations: ${ABACUS_CUDA_DEVICE_ACTIVATIONS:-0}; set ABACUS_CUDA_DEVICE_ACTIVATIONS=1 for a node to keep segment activations in CUDA memory)"
