/**
 * Opening a predictor bundle (`abacus.predictor` v1) as a Predictor, after checking its format, version,
 * shapes and checksums, and that it fits what the caller will feed it (models and slot count).
 */
import { InputError, errorMessage } from '../common/errors.js';
import { type BundleExpectations, type BundleJson, checkExpectations, readBundleFile, readBundleJson } from './bundle-format.js';
import { LinearPredictor } from './linear.js';
import { loadLibsvm } from './libsvm.js';
import { MlpPredictor } from './mlp.js';
import type { Predictor } from './predictor.js';
import { RbfSvrPredictor } from './rbf.js';

export * from './bundle-format.js';

function attach<P extends Predictor>(p: P, bundle: BundleJson): P {
  p.training = bundle.training ?? null;
  p.evaluation = bundle.evaluation ?? null;
  p.ranges = bundle.ranges ?? null;
  return p;
}

/** Load the bundle in `dir`. Throws an InputError if it is corrupt, of another version, or does not fit `expect`. */
export async function loadPredictor(dir: string, expect: BundleExpectations = {}): Promise<Predictor> {
  const b = readBundleJson(dir);
  checkExpectations(dir, b, expect);
  const model = b.model;
  try {
    switch (model.kind) {
      case 'mlp':
        return attach(new MlpPredictor(b.featureSpec, b.standardization, b.label, model.layers, b.name), b);
      case 'linear':
        return attach(new LinearPredictor(b.modeling as 'lr' | 'svm', b.featureSpec, b.standardization, model.weights, model.intercept, b.label, b.name), b);
      case 'libsvm': {
        const text = readBundleFile(dir, model.file, model.sha256);
        const lib = await loadLibsvm();
        return attach(new RbfSvrPredictor(lib, b.featureSpec, b.standardization, b.label, text, b.name), b);
      }
    }
  } catch (err) {
    if (err instanceof InputError && err.message.startsWith(dir)) throw err;
    throw new InputError(`${dir}: corrupt bundle (${errorMessage(err)})`, { cause: err });
  }
}
