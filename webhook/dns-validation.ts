// Kubernetes name checks (apimachinery's util/validation) with the exact wording Knative's
// errors embed: DNS-1035 labels (traffic tags, resource names), qualified names (revision
// and configuration references) and fully qualified domain names (route hosts). Every
// function returns the list of problems, empty when the value is valid. config/k8s-names.ts
// keeps shorter wording for ConfigMap diagnostics; these are for messages that must match
// Knative byte for byte.

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';

const whole = (fmt: string): RegExp => new RegExp(`^${fmt}$`);
const DNS1123_LABEL = whole(DNS1123_LABEL_FMT);
const DNS1123_SUBDOMAIN = whole(DNS1123_SUBDOMAIN_FMT);
const DNS1035_LABEL = whole(DNS1035_LABEL_FMT);
const QUALIFIED_NAME = whole(QUALIFIED_NAME_FMT);


const maxLenError = (n: number): string => `must be no more than ${n} characters`;

/**
 * apimachinery's RegexError: the rule, the examples and the regular expression. The examples
 * are joined oddly (`'a',  or 'b', regex …`, with two spaces); Knative's messages carry that.
 */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

/** Go's len() counts bytes; names are ASCII when valid, and the length rule matters only then. */
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

const DNS1035_LABEL_MSG = regexError(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  'my-name',
  'abc-123',
);
const DNS1123_LABEL_MSG = regexError(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  'my-name',
  '123-abc',
);
const DNS1123_SUBDOMAIN_MSG = regexError(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  'example.com',
);

const QUALIFIED_NAME_MSG = regexError(
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  QUALIFIED_NAME_FMT,
  'MyName',
  'my.name',
  '123-abc',
);

/** apimachinery's order: the length problem, then the format problem. */
function nameErrors(value: string, maxLength: number, format: RegExp, formatError: string): string[] {
  const errs = byteLength(value) > maxLength ? [maxLenError(maxLength)] : [];
  if (!format.test(value)) errs.push(formatError);
  return errs;
}

export const isDNS1035Label = (value: string): string[] => nameErrors(value, 63, DNS1035_LABEL, DNS1035_LABEL_MSG);

// A valid subdomain that is not a valid label can only be one with dots.
export const isDNS1123Label = (value: string): string[] =>
  nameErrors(value, 63, DNS1123_LABEL, DNS1123_SUBDOMAIN.test(value) ? 'must not contain dots' : DNS1123_LABEL_MSG);

export const isDNS1123Subdomain = (value: string): string[] => nameErrors(value, 253, DNS1123_SUBDOMAIN, DNS1123_SUBDOMAIN_MSG);

/** A name with an optional DNS-subdomain prefix and a slash, such as `example.com/MyName`. */
export function isQualifiedName(value: string): string[] {
  const parts = value.split('/');
  const errs: string[] = [];
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix === '') errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`);
  return errs;
}

/**
 * apimachinery's IsFullyQualifiedDomainName for a field path, rendered as its aggregate error
 * (`url: Invalid value: "x": …`); undefined when the name is valid. A trailing dot is allowed.
 */
export function fullyQualifiedDomainNameError(path: string, name: string): string | undefined {
  if (name === '') return `${path}: Required value`;
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const invalid = (value: string, detail: string): string => `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
  const subdomain = isDNS1123Subdomain(bare);
  if (subdomain.length > 0) return invalid(bare, subdomain.join(','));
  const labels = bare.split('.');
  if (labels.length < 2) return invalid(bare, 'should be a domain with at least two segments separated by dots');
  for (const label of labels) {
    const errs = isDNS1123Label(label);
    if (errs.length > 0) return invalid(label, errs.join(','));
  }
  return undefined;
}
