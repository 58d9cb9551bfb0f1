// Every manifest under deploy/ against the published schemas (no cluster or container engine here):
// - KServe's ServingRuntime and InferenceService against the openAPIV3Schema of KServe's own CRDs
//   (deploy/schemas/, extracted from kserve/kserve's config/crd/full), made strict the way
//   `kubectl --validate=strict` is: an unknown field is an error;
// - Kubernetes' Deployment and Service against the Kubernetes OpenAPI schemas as kubernetes-models compiles
//   them (v1.27.1), and every container strictly against the Container schema embedded in KServe's CRD.
// Then what the schemas cannot know: the probes and scrape annotations point at routes abacus serves on the
// port it listens on, every flag in the manifests and Dockerfiles is one `abacus serve` takes, and every
// file a Dockerfile copies exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { Ajv, type ValidateFunction } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { serveCommand } from '../../src/cli/serve.js';
import { routeOf } from '../../src/serve/http.js';
import { ROOT } from '../helpers/cli.js';

const DEPLOY = join(ROOT, 'deploy');

type Json = Record<string, unknown>;

function readYaml(path: string): Json[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${path}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJSON() as Json;
  });
}

function manifests(): { path: string; doc: Json }[] {
  const out: { path: string; doc: Json }[] = [];
  for (const dir of ['kserve', 'kubernetes']) {
    for (const f of readdirSync(join(DEPLOY, dir)).filter((n) => n.endsWith('.yaml')).sort()) {
      for (const doc of readYaml(join(DEPLOY, dir, f))) out.push({ path: `deploy/${dir}/${f}`, doc });
    }
  }
  return out;
}

/** A CRD's structural schema as a strict JSON schema: unknown fields rejected (except where the CRD preserves them), int-or-string as such. */
function strictify(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === 'properties' && typeof v === 'object' && v !== null) s[k] = Object.fromEntries(Object.entries(v as Json).map(([p, sub]) => [p, strictify(sub)]));
    else if (k === 'items' || k === 'additionalProperties' || k === 'allOf' || k === 'anyOf' || k === 'oneOf' || k === 'not') s[k] = strictify(v);
    else s[k] = v;
  }
  if (s['x-kubernetes-int-or-string'] === true) {
    delete s.type;
    s.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (s.properties !== undefined && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) s.additionalProperties = false;
  return s;
}

function crdSchema(file: string): Json {
  return JSON.parse(gunzipSync(readFileSync(join(DEPLOY, 'schemas', file))).toString('utf8')) as Json;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const servingRuntimeSchema = crdSchema('kserve-servingruntime-v1alpha1.schema.json.gz');
const validators: Record<string, ValidateFunction> = {
  'serving.kserve.io/v1alpha1/ServingRuntime': ajv.compile(strictify(servingRuntimeSchema) as Json),
  'serving.kserve.io/v1beta1/InferenceService': ajv.compile(strictify(crdSchema('kserve-inferenceservice-v1beta1.schema.json.gz')) as Json),
};
const containerSchema = (((servingRuntimeSchema.properties as Json).spec as Json).properties as Json).containers as Json;
const validateContainer = ajv.compile(strictify((containerSchema.items as Json)) as Json);

function errorsOf(v: ValidateFunction): string {
  return ajv.errorsText(v.errors, { separator: '; ' });
}

/** Problems of one manifest against its published schema (empty: valid). */
function schemaProblems(doc: Json): string[] {
  const key = `${String(doc.apiVersion)}/${String(doc.kind)}`;
  const crd = validators[key];
  if (crd) return crd(doc) ? [] : [errorsOf(crd)];
  const problems: string[] = [];
  try {
    if (key === 'apps/v1/Deployment') new Deployment(doc as never).validate();
    else if (key === 'v1/Service') new Service(doc as never).validate();
    else return [`no schema for ${key}`];
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  const podSpec = ((((doc.spec as Json | undefined)?.template as Json | undefined)?.spec) as Json | undefined);
  for (const c of ((podSpec?.containers ?? []) as Json[])) if (!validateContainer(c)) problems.push(`container ${String((c as Json).name)}: ${errorsOf(validateContainer)}`);
  return problems;
}

test('every manifest under deploy/ is valid against the published Kubernetes and KServe schemas', () => {
  const all = manifests();
  assert.deepEqual(all.map((m) => `${m.doc.apiVersion as string}/${m.doc.kind as string}`).sort(), ['apps/v1/Deployment', 'serving.kserve.io/v1alpha1/ServingRuntime', 'serving.kserve.io/v1beta1/InferenceService', 'v1/Service']);
  for (const { path, doc } of all) assert.deepEqual(schemaProblems(doc), [], path);
});

test('the validation catches what a cluster would refuse: an unknown field, a wrong type, a missing required field', () => {
  const byKind = new Map(manifests().map((m) => [m.doc.kind as string, m.doc]));
  const copy = (kind: string): Json => structuredClone(byKind.get(kind)) as Json;
  const sr = copy('ServingRuntime');
  ((sr.spec as Json).containers as Json[])[0]!.readinessProb = { httpGet: { path: '/', port: 8080 } };
  assert.match(schemaProblems(sr).join(), /must NOT have additional properties/);
  const srNoContainers = copy('ServingRuntime');
  delete (srNoContainers.spec as Json).containers;
  assert.match(schemaProblems(srNoContainers).join(), /must have required property 'containers'/);
  const isvc = copy('InferenceService');
  (((isvc.spec as Json).predictor as Json).model as Json).storageUri = 42;
  assert.match(schemaProblems(isvc).join(), /must be string/);
  const dep = copy('Deployment');
  (dep.spec as Json).replicas = 'one';
  assert.notDeepEqual(schemaProblems(dep), []);
  const depTypo = copy('Deployment');
  ((((depTypo.spec as Json).template as Json).spec as Json).containers as Json[])[0]!.livenesProbe = {};
  assert.match(schemaProblems(depTypo).join(), /container abacus: .*additional properties/);
  const depNoSelector = copy('Deployment');
  delete (depNoSelector.spec as Json).selector;
  assert.notDeepEqual(schemaProblems(depNoSelector), []);
  const svc = copy('Service');
  ((svc.spec as Json).ports as Json[])[0]!.port = 'http';
  assert.notDeepEqual(schemaProblems(svc), []);
});

/** The `abacus` argument lists of the manifests' containers and of the Dockerfiles' CMD. */
function commandLines(): { where: string; args: string[] }[] {
  const out: { where: string; args: string[] }[] = [];
  const all = manifests();
  const sr = all.find((m) => m.doc.kind === 'ServingRuntime')!;
  const isvc = all.find((m) => m.doc.kind === 'InferenceService')!;
  const runtimeArgs = (((sr.doc.spec as Json).containers as Json[])[0]!.args as string[]);
  // KServe appends the InferenceService's model args to the runtime container's
  out.push({ where: 'ServingRuntime + InferenceService', args: [...runtimeArgs, ...((((isvc.doc.spec as Json).predictor as Json).model as Json).args as string[])] });
  const dep = all.find((m) => m.doc.kind === 'Deployment')!;
  out.push({ where: 'Deployment', args: (((((dep.doc.spec as Json).template as Json).spec as Json).containers as Json[])[0]!.args as string[]) });
  for (const f of ['Dockerfile', 'Dockerfile.cuda']) {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(DEPLOY, f), 'utf8'));
    assert.ok(cmd, `${f} has a CMD`);
    out.push({ where: f, args: JSON.parse(cmd[1]!) as string[] });
  }
  return out;
}

test('the containers run `abacus serve --listen` with flags abacus serve takes; probes and scrape annotations hit served routes on the listened port', () => {
  const flags = new Set(serveCommand().options.flatMap((o) => [o.long, o.short].filter((x): x is string => typeof x === 'string')));
  for (const { where, args } of commandLines()) {
    assert.equal(args[0], 'serve', where);
    for (const a of args) if (a.startsWith('--')) assert.ok(flags.has(a), `${where}: abacus serve has no flag ${a}`);
    const listen = args[args.indexOf('--listen') + 1];
    assert.equal(listen, '0.0.0.0:8080', `${where}: REST on 8080`);
    assert.equal(args[args.indexOf('--grpc') + 1], '0.0.0.0:8081', `${where}: gRPC on 8081`);
    assert.ok(args.includes('--comb'), `${where}: the models are named`);
    if (where !== 'Deployment' && where !== 'Dockerfile') assert.equal(args[args.indexOf('--ep') + 1], 'cuda', `${where}: the CUDA image runs the CUDA provider`);
  }
  for (const { path, doc } of manifests()) {
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"path":"([^"]+)"/g)) {
      const kind = routeOf(m[1]!).kind;
      assert.ok(['live', 'ready', 'metrics'].includes(kind), `${path}: ${m[1]} is ${kind}`);
    }
    for (const m of text.matchAll(/"prometheus\.(?:kserve\.)?io\/port":"(\d+)"/g)) assert.equal(m[1], '8080', `${path}: scraped on the REST port`);
    for (const m of text.matchAll(/"prometheus\.(?:kserve\.)?io\/path":"([^"]+)"/g)) assert.equal(routeOf(m[1]!).kind, 'metrics', path);
    assert.match(text, /"prometheus\.(kserve\.)?io\/port"/, `${path}: has scrape annotations`);
  }
  const dep = manifests().find((m) => m.doc.kind === 'Deployment')!.doc;
  const podSpec = ((dep.spec as Json).template as Json).spec as Json;
  const c = (podSpec.containers as Json[])[0] as Json;
  const grpcProbe = (c.livenessProbe as Json).grpc as Json;
  assert.equal(grpcProbe.port, 8081);
  assert.equal(grpcProbe.service, 'inference.GRPCInferenceService', 'a service name the health service knows');
  const args = c.args as string[];
  assert.ok((podSpec.terminationGracePeriodSeconds as number) > Number(args[args.indexOf('--drain-timeout') + 1]), 'the grace period outlasts the drain');
});

test('the Dockerfiles copy files that exist, build on the pinned bases, and keep the protos beside dist/', () => {
  for (const f of ['Dockerfile', 'Dockerfile.cuda']) {
    const text = readFileSync(join(DEPLOY, f), 'utf8');
    const froms = [...text.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    assert.equal(froms[0], 'node:20-bookworm-slim', `${f}: Node 20 (package.json engines)`);
    if (f === 'Dockerfile.cuda') assert.match(froms[1]!, /^nvidia\/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu24\.04$/, 'CUDA 13 runtime with cuDNN 9');
    for (const m of text.matchAll(/^COPY (?!--from)(.+) (\S+)$/gm)) {
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(join(ROOT, src)), `${f}: COPY ${src} exists`);
    }
    assert.match(text, /COPY --from=build \/app\/src\/serve\/proto \.\/src\/serve\/proto/);
    assert.ok(existsSync(join(DEPLOY, `${f}.dockerignore`)), `${f}.dockerignore keeps the build context small`);
  }
  assert.match(readFileSync(join(ROOT, 'package.json'), 'utf8'), /"onnxruntime-node": "1\.29\.0"/, 'the CUDA provider taken in Dockerfile.cuda is ORT 1.29.0');
});
