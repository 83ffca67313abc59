// The Go text/template subset behind domain, tag and container-name templates and the
// request-log template: output for valid templates, Go-like errors for broken ones.
import test from 'ava';
import { jsEscape, parseTemplate, TemplateError } from '../../config/go-template.ts';

const data = {
  Name: 'foo',
  Namespace: 'bar',
  Domain: 'baz.com',
  Tag: 'v2',
  Annotations: new Map([['team', 'blue']]),
  Labels: new Map<string, string>(),
  Request: { Method: 'GET', RequestURI: '/a?b="c"' },
};

const renders: [string, string][] = [
  ['{{.Name}}.{{.Namespace}}.{{.Domain}}', 'foo.bar.baz.com'],
  ['{{.Tag}}-{{.Name}}', 'v2-foo'],
  ['plain text', 'plain text'],
  ['{{/* a comment */}}x', 'x'],
  ['a  {{- .Name -}}  b', 'afoob'],
  ['{{.Annotations.team}}', 'blue'],
  ['{{.Annotations.missing}}|', '<no value>|'],
  ['{{index .Annotations "missing"}}|', '|'],
  ['{{index .Annotations "team"}}', 'blue'],
  ['{{if .Annotations.team}}{{.Annotations.team}}-{{end}}{{.Name}}', 'blue-foo'],
  ['{{if .Labels}}L{{else}}none{{end}}', 'none'],
  ['{{if eq .Name "x"}}X{{else if eq .Name "foo"}}F{{else}}N{{end}}', 'F'],
  ['{{with .Annotations.team}}[{{.}}]{{end}}', '[blue]'],
  ['{{range .Annotations}}<{{.}}>{{end}}', '<blue>'],
  ['{{$n := .Name}}{{$n}}{{$n}}', 'foofoo'],
  ['{{.Name | printf "%s-%s" .Tag}}', 'v2-foo'],
  ['{{printf "%d%%" 42}}', '42%'],
  ['{{len .Name}}', '3'],
  ['{{js .Request.RequestURI}}', '/a?b\\u003D\\"c\\"'],
  ['{{html "<a&b>"}}', '&lt;a&amp;b&gt;'],
  ['{{urlquery "a b&c"}}', 'a+b%26c'],
  ['{{if and .Name .Tag}}both{{end}}', 'both'],
  ['{{if not .Labels.x}}empty{{end}}', 'empty'],
  ['{{(index .Annotations "team")}}', 'blue'],
  ['{{"}}"}}', '}}'],
];

for (const [src, out] of renders) {
  test(`renders ${src}`, (t) => {
    t.is(parseTemplate(src).execute(data), out);
  });
}

const parseErrors: [string, RegExp][] = [
  ['{{.Name', /unclosed action/],
  ['{{if .Name}}x', /unexpected EOF/],
  ['{{end}}', /unexpected \{\{end\}\}/],
  ['{{else}}', /unexpected \{\{else\}\}/],
  ['{{nosuchfunc .Name}}', /function "nosuchfunc" not defined/],
  ['{{}}', /missing value for command/],
  ['{{.Name | }}', /missing value for command/],
  ['{{(.Name}}', /unclosed left paren/],
  ['{{.Name)}}', /unexpected "\)"/],
  ['{{template "x"}}', /not supported/],
  ['{{ @ }}', /unexpected "@"/],
];

for (const [src, message] of parseErrors) {
  test(`parse error ${src}`, (t) => {
    const err = t.throws(() => parseTemplate(src, 'x'), { instanceOf: TemplateError });
    t.regex(err?.message ?? '', message);
  });
}

test('an unknown field is an execution error, as for a Go struct', (t) => {
  const tpl = parseTemplate('{{.Nope}}', 'domain-template');
  t.throws(() => tpl.execute(data), { instanceOf: TemplateError, message: /can't evaluate field Nope/ });
});

test('an undefined variable is an error', (t) => {
  t.throws(() => parseTemplate('{{$x}}').execute(data), { instanceOf: TemplateError, message: /undefined variable "\$x"/ });
});

test('jsEscape follows Go template.JSEscapeString', (t) => {
  t.is(jsEscape(`a'b"c\\d<e>f&g=h\ni`), "a\\'b\\\"c\\\\d\\u003Ce\\u003Ef\\u0026g\\u003Dh\\u000Ai");
});
