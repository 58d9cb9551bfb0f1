/*
 * CUDA provider options for onnxruntime-node.
 *
 * onnxruntime-node 1.29's binding passes only `deviceId` to the CUDA execution provider
 * (js/node/src/session_options_helper.cc: CreateCUDAProviderOptions, device_id, AppendExecutionProvider_CUDA_V2),
 * so cudnn_conv_algo_search, do_copy_in_default_stream, enable_cuda_graph, ... cannot be set from JavaScript.
 * This library, preloaded (LD_PRELOAD) into node, stands in for libonnxruntime's exported OrtGetApiBase and hands
 * the binding a copy of the OrtApi table whose SessionOptionsAppendExecutionProvider_CUDA_V2 first applies the
 * options in the environment variable ABACUS_CUDA_PROVIDER_OPTIONS ("key=value;key=value", ORT's own option
 * names) through UpdateCUDAProviderOptions. The variable is read at every session creation, so a process can
 * change it between sessions (the main thread's process.env is the C environment). A bad key or value fails the
 * session's creation with onnxruntime's own message. Every other entry of the table is onnxruntime's.
 * On load it sets ABACUS_CUDA_OPTIONS_SHIM=loaded, and =active once the binding has taken its table, so the app
 * can tell that options it asks for will be applied.
 * After each append it stores the provider's effective options (GetCUDAProviderOptionsAsString) in
 * ABACUS_CUDA_EFFECTIVE_OPTIONS.
 *
 *
 * Device-resident activations (ABACUS_CUDA_DEVICE_ACTIVATIONS=1 when node starts): the binding's 'gpu-buffer'
 * output location is written for webgpu. It binds such outputs to a memory info named "WebGPU_Buf", wraps a result
 * whose memory info is a GPU one of that name into a 'gpu-buffer' tensor (an opaque handle to the OrtValue), and
 * feeds such a tensor to the next run as a tensor over the same device memory. With the variable set, the shim
 * creates a CUDA device memory info ("Cuda", device 0) wherever the binding asks for "WebGPU_Buf", and reports
 * "Cuda" memory as "WebGPU_Buf" to the binding: a CUDA session's output then stays in CUDA device memory and is
 * handed to the next segment's session there, with no host round trip. The process must not use the webgpu
 * provider at the same time (abacus runs one provider per process). Reading such a tensor on the CPU is not
 * possible (the binding cannot download a 'gpu-buffer'); abacus reads only the last segment's output, which it
 * asks for in host memory.
 *
 * Build (scripts/gpu/build-cuda-options.sh): cc -shared -fPIC -O2 shim.c -I<ORT 1.29 headers> -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "onnxruntime_c_api.h"

typedef const OrtApiBase*(ORT_API_CALL* GetApiBaseFn)(void);

static const OrtApiBase* real_base;
static const OrtApi* real_api;
static OrtApi patched_api;
static OrtApiBase patched_base;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define MAX_OPTIONS 32

static int device_activations;
static const char* const WEBGPU_BUFFER_NAME = "WebGPU_Buf";

static OrtStatus* ORT_API_CALL create_memory_info(const char* name, enum OrtAllocatorType type, int id, enum OrtMemType mem_type, OrtMemoryInfo** out) {
  if (device_activations && name && strcmp(name, WEBGPU_BUFFER_NAME) == 0) return real_api->CreateMemoryInfo("Cuda", OrtDeviceAllocator, 0, OrtMemTypeDefault, out);
  return real_api->CreateMemoryInfo(name, type, id, mem_type, out);
}

static OrtStatus* ORT_API_CALL create_memory_info_v2(const char* name, enum OrtMemoryInfoDeviceType device_type, uint32_t vendor_id, int32_t device_id,
                                                     enum OrtDeviceMemoryType mem_type, size_t alignment, enum OrtAllocatorType allocator_type, OrtMemoryInfo** out) {
  if (device_activations && name && strcmp(name, WEBGPU_BUFFER_NAME) == 0) return real_api->CreateMemoryInfo("Cuda", OrtDeviceAllocator, 0, OrtMemTypeDefault, out);
  return real_api->CreateMemoryInfo_V2(name, device_type, vendor_id, device_id, mem_type, alignment, allocator_type, out);
}

static OrtStatus* ORT_API_CALL memory_info_get_name(const OrtMemoryInfo* info, const char** out) {
  OrtStatus* status = real_api->MemoryInfoGetName(info, out);
  if (!status && device_activations && *out && strcmp(*out, "Cuda") == 0) *out = WEBGPU_BUFFER_NAME;
  return status;
}

static OrtStatus* ORT_API_CALL append_cuda_v2(OrtSessionOptions* session_options, const OrtCUDAProviderOptionsV2* cuda_options) {
  const char* spec = getenv("ABACUS_CUDA_PROVIDER_OPTIONS");
  if (spec && *spec) {
    char* copy = strdup(spec);
    const char* keys[MAX_OPTIONS];
    const char* values[MAX_OPTIONS];
    size_t n = 0;
    char* save = NULL;
    for (char* item = strtok_r(copy, ";,", &save); item; item = strtok_r(NULL, ";,", &save)) {
      char* eq = strchr(item, '=');
      if (!eq || eq == item || n == MAX_OPTIONS) {
        free(copy);
        return real_api->CreateStatus(ORT_INVALID_ARGUMENT, "ABACUS_CUDA_PROVIDER_OPTIONS: expected key=value;key=value (at most 32)");
      }
      *eq = '\0';
      keys[n] = item;
      values[n] = eq + 1;
      n++;
    }
    /* the binding owns the options object and releases it right after this call: updating it in place is safe */
    OrtStatus* status = real_api->UpdateCUDAProviderOptions((OrtCUDAProviderOptionsV2*)cuda_options, keys, values, n);
    free(copy);
    if (status) return status;
  }
  OrtStatus* status = real_api->SessionOptionsAppendExecutionProvider_CUDA_V2(session_options, cuda_options);
  if (!status) {
    OrtAllocator* allocator = NULL;
    char* effective = NULL;
    if (!real_api->GetAllocatorWithDefaultOptions(&allocator) && allocator &&
        !real_api->GetCUDAProviderOptionsAsString(cuda_options, allocator, &effective) && effective) {
      setenv("ABACUS_CUDA_EFFECTIVE_OPTIONS", effective, 1);
      allocator->Free(allocator, effective);
    }
  }
  return status;
}

static const OrtApi* ORT_API_CALL patched_get_api(uint32_t version) {
  const OrtApi* api = real_base->GetApi(version);
  if (!api) return api;
  /* the binding asks for ORT_API_VERSION of its headers; the table is the same object for every version */
  if (api == real_api) return &patched_api;
  return api;
}

static const char* ORT_API_CALL patched_version_string(void) { return real_base->GetVersionString(); }

static void init(void) {
  void* lib = dlopen("libonnxruntime.so.1", RTLD_LAZY | RTLD_NOLOAD);
  const char* path = getenv("ABACUS_ORT_LIBRARY");
  if (!lib && path) lib = dlopen(path, RTLD_LAZY);
  GetApiBaseFn real = lib ? (GetApiBaseFn)dlsym(lib, "OrtGetApiBase") : NULL;
  if (!real) {
    fprintf(stderr, "abacus cuda-options shim: libonnxruntime.so.1 is not loaded (set ABACUS_ORT_LIBRARY to its path)\n");
    abort();
  }
  real_base = real();
  real_api = real_base->GetApi(ORT_API_VERSION);
  if (!real_api) {
    fprintf(stderr, "abacus cuda-options shim: onnxruntime does not offer API version %d (shim built for ORT 1.29)\n", ORT_API_VERSION);
    abort();
  }
  memcpy(&patched_api, real_api, sizeof(OrtApi));
  patched_api.SessionOptionsAppendExecutionProvider_CUDA_V2 = append_cuda_v2;
  const char* dev = getenv("ABACUS_CUDA_DEVICE_ACTIVATIONS");
  device_activations = dev && strcmp(dev, "1") == 0;
  if (device_activations) {
    patched_api.CreateMemoryInfo = create_memory_info;
    patched_api.CreateMemoryInfo_V2 = create_memory_info_v2;
    patched_api.MemoryInfoGetName = memory_info_get_name;
  }
  patched_base.GetApi = patched_get_api;
  patched_base.GetVersionString = patched_version_string;
}

ORT_EXPORT const OrtApiBase* ORT_API_CALL OrtGetApiBase(void) NO_EXCEPTION {
  pthread_once(&once, init);
  setenv("ABACUS_CUDA_OPTIONS_SHIM", device_activations ? "active-device-activations" : "active", 1);
  return &patched_base;
}

__attribute__((constructor)) static void announce(void) { setenv("ABACUS_CUDA_OPTIONS_SHIM", "loaded", 1); }
