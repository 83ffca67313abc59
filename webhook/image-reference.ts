// Container image references as Knative's webhook accepts them: go-containerregistry's
// ParseReference with weak validation, i.e. `[registry/]repository[:tag]` or
// `[registry/]repository[:tag]@sha256:<64 hex>`, the registry being told apart from the
// repository by a `.` or `:` in the first path segment. The tag is optional (weak validation).
// Only validity matters: whatever failed, the library reports "could not parse reference".

const TAG = /^[A-Za-z0-9_.-]{1,128}$/;
const REPOSITORY = /^[a-z0-9_./-]{2,255}$/;
const DIGEST_HEX = /^[a-f0-9]{64}$/;
// What url.Parse("//" + registry) keeps whole as the host: an IP literal or host name, with an
// optional numeric port. An approximation of Go's URL parser (see the report).
const REGISTRY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=]+)(?::[0-9]*)?$/;

function validRepository(name: string): boolean {
  if (name === '') return false;
  const slash = name.indexOf('/');
  let repo = name;
  if (slash >= 0) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':')) {
      if (!REGISTRY.test(first)) return false;
      repo = name.slice(slash + 1);
    }
  }
  return REPOSITORY.test(repo);
}

/** A tag reference: the part after the last `:` is a tag unless it contains a `/` (a port). */
function validTagged(name: string): boolean {
  const colon = name.lastIndexOf(':');
  if (colon >= 0 && !name.slice(colon + 1).includes('/')) {
    const tag = name.slice(colon + 1);
    // An empty tag is skipped under weak validation.
    if (tag !== '' && !TAG.test(tag)) return false;
    return validRepository(name.slice(0, colon));
  }
  return validRepository(name);
}

function validDigested(name: string): boolean {
  const parts = name.split('@');
  if (parts.length !== 2) return false;
  const [base = '', digest = ''] = parts;
  if (!digest.startsWith('sha256:') || !DIGEST_HEX.test(digest.slice('sha256:'.length))) return false;
  return validTagged(base);
}

/** go-containerregistry's error for an unparsable reference; undefined when it parses. */
export function imageReferenceError(image: string): string | undefined {
  return validTagged(image) || validDigested(image) ? undefined : `could not parse reference: ${image}`;
}
