// A Go text/template subset: enough to validate and run the templates Knative keeps in its
// ConfigMaps (domain-template, tag-template, container-name-template, request-log-template).
// Supported: text, trim markers, comments, field chains, variables, literals, parentheses,
// pipelines, if/else if/else/with/range/end, and the builtins and, or, not, len, index, print,
// printf, println, html, js, urlquery, eq, ne, lt, le, gt, ge. Data: plain objects behave as Go
// structs (an unknown field is an error); `Map` instances behave as Go maps (a missing key
// prints "<no value>"; `index` gives "").

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; alt: Node[] };

interface Pipeline {
  decl: string[];
  cmds: Arg[][];
}

type Arg =
  | { t: 'field'; base: 'dot' | string; path: string[] } // base: 'dot' or a variable name like "$x"
  | { t: 'lit'; v: unknown }
  | { t: 'ident'; name: string }
  | { t: 'pipe'; pipe: Pipeline; path: string[] };

const FUNCS = new Set(['and', 'or', 'not', 'len', 'index', 'print', 'printf', 'println', 'html', 'js', 'urlquery', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export interface Template {
  execute(data: unknown): string;
}

/** Parses a template; throws TemplateError with Go-like wording on a syntax error. */
export function parseTemplate(source: string, name = 'template'): Template {
  const nodes = parseNodes(lexActions(source, name), name);
  return { execute: (data) => run(nodes, data, new Map([['$', data]]), name) };
}

type Piece = { text: string } | { action: string; line: number };

function lexActions(src: string, name: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) out.push({ text });
      break;
    }
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) out.push({ text });
    const line = src.slice(0, open).split('\n').length;
    const close = findClose(src, start);
    if (close < 0) throw new TemplateError(`template: ${name}:${line}: unclosed action`);
    let end = close;
    if (/\s-$/.test(src.slice(start, close))) {
      end = close - 1;
      trimNext = true;
    }
    const body = src.slice(start, end).trim();
    if (!(body.startsWith('/*') && body.endsWith('*/'))) out.push({ action: body, line });
    i = close + 2;
  }
  return out;
}

// The closing braces of an action, skipping over string literals.
function findClose(src: string, from: number): number {
  for (let i = from; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === '`') {
      const quote = c;
      for (i++; i < src.length && src[i] !== quote; i++) if (quote === '"' && src[i] === '\\') i++;
    } else if (c === '}' && src[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

function parseNodes(pieces: Piece[], name: string): Node[] {
  let pos = 0;
  const block = (depth: number): { nodes: Node[]; end: 'end' | 'else' | 'else-if' | 'eof'; rest?: string } => {
    const nodes: Node[] = [];
    while (pos < pieces.length) {
      const p = pieces[pos++] as Piece;
      if ('text' in p) {
        nodes.push({ kind: 'text', text: p.text });
        continue;
      }
      const err = (msg: string) => new TemplateError(`template: ${name}:${p.line}: ${msg}`);
      const [word = '', ...restWords] = p.action.split(/\s+/);
      const rest = p.action.slice(word.length).trim();
      if (word === 'end') {
        if (depth === 0) throw err('unexpected {{end}}');
        return { nodes, end: 'end' };
      }
      if (word === 'else') {
        if (depth === 0) throw err('unexpected {{else}}');
        return restWords[0] === 'if'
          ? { nodes, end: 'else-if', rest: rest.slice(2).trim() }
          : { nodes, end: 'else' };
      }
      if (word === 'if' || word === 'with' || word === 'range') {
        nodes.push(control(word, rest, depth, err));
        continue;
      }
      if (['define', 'template', 'block', 'break', 'continue'].includes(word)) throw err(`{{${word}}} is not supported here`);
      if (p.action === '') throw err('missing value for command');
      nodes.push({ kind: 'action', pipe: parsePipeline(p.action, err) });
    }
    if (depth > 0) throw new TemplateError(`template: ${name}: unexpected EOF`);
    return { nodes, end: 'eof' };
  };
  const control = (kind: 'if' | 'with' | 'range', text: string, depth: number, err: (m: string) => TemplateError): Node => {
    if (text === '') throw err(`missing value for ${kind}`);
    const pipe = parsePipeline(text, err);
    const body = block(depth + 1);
    let alt: Node[] = [];
    if (body.end === 'else') {
      const tail = block(depth + 1);
      if (tail.end !== 'end') throw err(`expected end; found else`);
      alt = tail.nodes;
    } else if (body.end === 'else-if') {
      // `else if X` is sugar for `else` + a nested `if X ... end` sharing the outer end.
      alt = [control('if', body.rest ?? '', depth, err)];
    }
    return { kind, pipe, body: body.nodes, alt };
  };
  return block(0).nodes;
}

const TOKEN_RE = /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(\()|(\))|(\|)|(:=|=)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?)|([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\S))/y;

function parsePipeline(text: string, err: (m: string) => TemplateError): Pipeline {
  type Tok = { k: string; v: string };
  const toks: Tok[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m && m[0].trim() !== ''; m = TOKEN_RE.exec(text)) {
    const kinds = ['str', 'raw', '(', ')', '|', 'assign', 'var', 'field', 'num', 'ident', 'bad'];
    const idx = m.slice(1).findIndex((g) => g !== undefined);
    toks.push({ k: kinds[idx] ?? 'bad', v: m[idx + 1] ?? '' });
    if (TOKEN_RE.lastIndex >= text.length) break;
  }
  let pos = 0;
  const pipeline = (inParens: boolean): Pipeline => {
    const decl: string[] = [];
    if (toks[pos]?.k === 'var' && toks[pos + 1]?.k === 'assign') {
      decl.push(toks[pos]?.v ?? '');
      pos += 2;
    }
    const cmds: Arg[][] = [];
    let cmd: Arg[] = [];
    for (; pos < toks.length; pos++) {
      const t = toks[pos] as Tok;
      if (t.k === ')') {
        if (!inParens) throw err(`unexpected ")" in command`);
        break;
      }
      if (t.k === '|') {
        if (cmd.length === 0) throw err('missing command before "|"');
        cmds.push(cmd);
        cmd = [];
        continue;
      }
      cmd.push(operand(t));
    }
    if (inParens && toks[pos]?.k !== ')') throw err('unclosed left paren');
    if (cmd.length === 0) throw err('missing value for command');
    cmds.push(cmd);
    return { decl, cmds };
  };
  const operand = (t: Tok): Arg => {
    switch (t.k) {
      case 'str':
        return { t: 'lit', v: JSON.parse(t.v) as string };
      case 'raw':
        return { t: 'lit', v: t.v.slice(1, -1) };
      case 'num':
        return { t: 'lit', v: Number(t.v) };
      case 'field':
        return { t: 'field', base: 'dot', path: t.v === '.' ? [] : t.v.slice(1).split('.') };
      case 'var': {
        const [base = '$', ...path] = t.v.split('.');
        return { t: 'field', base, path };
      }
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
        if (t.v === 'nil') return { t: 'lit', v: null };
        if (!FUNCS.has(t.v)) throw err(`function "${t.v}" not defined`);
        return { t: 'ident', name: t.v };
      case '(': {
        pos++;
        const inner = pipeline(true);
        const next = toks[pos + 1];
        const path = next?.k === 'field' && next.v !== '.' ? next.v.slice(1).split('.') : [];
        if (path.length > 0) pos++;
        return { t: 'pipe', pipe: inner, path };
      }
      default:
        throw err(`unexpected ${JSON.stringify(t.v)} in command`);
    }
  };
  const p = pipeline(false);
  if (pos < toks.length) throw err(`unexpected ${JSON.stringify(toks[pos]?.v)} in command`);
  return p;
}

type Vars = Map<string, unknown>;

function run(nodes: Node[], dot: unknown, vars: Vars, name: string): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'action') {
      const v = evalPipe(n.pipe, dot, vars, name);
      if (n.pipe.decl.length === 0) out += printValue(v);
    } else {
      const scope = new Map(vars);
      const v = evalPipe(n.pipe, dot, scope, name);
      if (n.kind === 'range') {
        const items = v instanceof Map ? [...v.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([, x]) => x as unknown) : Array.isArray(v) ? v : [];
        if (items.length === 0) out += run(n.alt, dot, scope, name);
        for (const item of items) out += run(n.body, item, scope, name);
      } else if (truthy(v)) {
        out += run(n.body, n.kind === 'with' ? v : dot, scope, name);
      } else {
        out += run(n.alt, dot, scope, name);
      }
    }
  }
  return out;
}

function evalPipe(p: Pipeline, dot: unknown, vars: Vars, name: string): unknown {
  let prev: unknown;
  let hasPrev = false;
  for (const cmd of p.cmds) {
    prev = evalCmd(cmd, dot, vars, name, hasPrev ? [prev] : []);
    hasPrev = true;
  }
  for (const d of p.decl) vars.set(d, prev);
  return prev;
}

function evalCmd(cmd: Arg[], dot: unknown, vars: Vars, name: string, piped: unknown[]): unknown {
  const [head, ...rest] = cmd;
  if (!head) return undefined;
  if (head.t === 'ident') {
    const args = [...rest.map((a) => evalArg(a, dot, vars, name)), ...piped];
    return callFunc(head.name, args, name);
  }
  if (rest.length > 0 || piped.length > 0) throw new TemplateError(`template: ${name}: can't give argument to non-function`);
  return evalArg(head, dot, vars, name);
}

function evalArg(a: Arg, dot: unknown, vars: Vars, name: string): unknown {
  switch (a.t) {
    case 'lit':
      return a.v;
    case 'ident':
      return callFunc(a.name, [], name);
    case 'pipe':
      return walk(evalPipe(a.pipe, dot, new Map(vars), name), a.path, name);
    case 'field': {
      if (a.base !== 'dot' && !vars.has(a.base)) throw new TemplateError(`template: ${name}: undefined variable "${a.base}"`);
      return walk(a.base === 'dot' ? dot : vars.get(a.base), a.path, name);
    }
  }
}

function walk(value: unknown, path: readonly string[], name: string): unknown {
  let v = value;
  for (const key of path) {
    // A missing map key is Go's invalid value: false in conditions, "<no value>" when printed.
    if (v instanceof Map) v = v.get(key);
    else if (v !== null && typeof v === 'object' && Object.hasOwn(v, key)) v = (v as Record<string, unknown>)[key];
    else throw new TemplateError(`template: ${name}: can't evaluate field ${key}`);
  }
  return v;
}

function truthy(v: unknown): boolean {
  if (v instanceof Map) return v.size > 0;
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== '';
}

function printValue(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (v instanceof Map) return `map[${[...v.entries()].map(([k, x]) => `${String(k)}:${printValue(x)}`).join(' ')}]`;
  return String(v);
}

function callFunc(fn: string, args: unknown[], name: string): unknown {
  const need = (n: number) => {
    if (args.length !== n) throw new TemplateError(`template: ${name}: wrong number of args for ${fn}: want ${n} got ${args.length}`);
  };
  switch (fn) {
    case 'and':
      return args.find((a) => !truthy(a)) ?? args[args.length - 1];
    case 'or':
      return args.find((a) => truthy(a)) ?? args[args.length - 1];
    case 'not':
      need(1);
      return !truthy(args[0]);
    case 'len': {
      need(1);
      const v = args[0];
      if (v instanceof Map) return v.size;
      if (typeof v === 'string' || Array.isArray(v)) return v.length;
      throw new TemplateError(`template: ${name}: error calling len: len of ${typeof v}`);
    }
    case 'index': {
      let v = args[0];
      for (const k of args.slice(1)) v = v instanceof Map ? (v.get(k) ?? '') : Array.isArray(v) ? v[Number(k)] : undefined;
      return v;
    }
    case 'print':
      return args.map(printValue).join('');
    case 'println':
      return args.map(printValue).join(' ') + '\n';
    case 'printf':
      return sprintf(String(args[0] ?? ''), args.slice(1));
    case 'html':
      return args.map(printValue).join('').replace(/[&'<>"\0]/g, (c) => HTML_ESC[c] ?? c);
    case 'js':
      return jsEscape(args.map(printValue).join(''));
    case 'urlquery':
      return encodeURIComponent(args.map(printValue).join('')).replace(/%20/g, '+');
    default: {
      need(2);
      const [a, b] = args as [string | number, string | number];
      const cmp: Record<string, boolean> = { eq: a === b, ne: a !== b, lt: a < b, le: a <= b, gt: a > b, ge: a >= b };
      return cmp[fn];
    }
  }
}

const HTML_ESC: Record<string, string> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' };

/** Go's template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (ch === '"') out += '\\"';
    else if (ch === '<' || ch === '>' || ch === '&' || ch === '=' || c < 0x20) out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([%vsdq])/g, (_, verb: string) => {
    if (verb === '%') return '%';
    const v = args[i++];
    if (verb === 'q') return JSON.stringify(String(v));
    if (verb === 'd') return String(Math.trunc(Number(v)));
    return printValue(v);
  });
}
