# source /tmp/cuda-ep/cuda-boot.sh on the GPU machine, after .gpu/boot.sh (call 2 of scripts/gpu/cuda-pack.sh):
# installs ORT 1.29.0's CUDA provider next to $APP's onnxruntime binary, points LD_LIBRARY_PATH at the machine's
# CUDA 13 and cuDNN 9, and preloads the CUDA provider options shim into every node started from here on.
_cuda_ep=/tmp/cuda-ep
[ -f "$_cuda_ep/boot-cuda.sh" ] || { echo "cuda-boot: $_cuda_ep is missing: the machine was given back since call 1 (bash .gpu-cuda/stash.sh); make it again" >&2; return 2; }
source "$_cuda_ep/boot-cuda.sh" || return
export LD_PRELOAD=$_cuda_ep/libabacus_cuda_options.so${LD_PRELOAD:+:$LD_PRELOAD}
# device-resident activations are the default on cuda (data/h200-cuda/device: output-exact, 0.1-0.9 ms a boundary
# against 2-24 ms through host memory at batch 8); ABACUS_CUDA_DEVICE_ACTIVATIONS=0 before sourcing turns them off
export ABACUS_CUDA_DEVICE_ACTIVATIONS=${ABACUS_CUDA_DEVICE_ACTIVATIONS:-1}
node -e 'require(process.env.APP + "/node_modules/onnxruntime-node"); if (!/^active/.test(process.env.ABACUS_CUDA_OPTIONS_SHIM || "")) { console.error("cuda-boot: the options shim did not take"); process.exit(1); }' || return
echo "cuda-boot: CUDA provider options shim active (device activations: $ABACUS_CUDA_DEVICE_ACTIVATIONS; ABACUS_CUDA_DEVICE_ACTIVATIONS=0 for a node to pass segment activations through host memory)"
