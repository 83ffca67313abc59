// The Serving resource semantics the webhook and the offline commands apply, wired from the
// modules that own them: parsing (parse.ts), defaulting (defaults.ts) and validation
// (validation.ts). admission.ts takes them as an interface so that it stays testable alone.
import type { ServingSemantics } from './admission.ts';
import { setDefaults } from './defaults.ts';
import { asServingResource } from './parse.ts';
import { validateResource } from './validation.ts';

export const servingSemantics: ServingSemantics = {
  parse: asServingResource,
  setDefaults,
  validate: validateResource,
};
