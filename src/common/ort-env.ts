/**
 * onnxruntime's telemetry off: unless the user set `ORT_DISABLE_TELEMETRY` themselves, it is set to 1
 * before the first session is created (onnxruntime reads it when it creates its environment, at the
 * first session). Without it, each process that runs a session writes a device id and an event database
 * under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/` and leaves a `/tmp/mat-debug-<pid>.log` (the
 * 1DS "MAT" telemetry client). Imported for its effect by the CLI and by the executor's engine.
 */
export const ORT_TELEMETRY_ENV = 'ORT_DISABLE_TELEMETRY';

if (process.env[ORT_TELEMETRY_ENV] === undefined) process.env[ORT_TELEMETRY_ENV] = '1';
