// tests/dsl/editors/check_tmgrammar.js SRC: dsl/editors/routes.tmLanguage.json
// run by vscode-textmate with the vscode-oniguruma regex engine (what VS Code
// uses), on all_syntax.ht (every piece of syntax, with the scopes each must
// get) and on every examples/**/routes.ht (methods, handlers and comments
// where the routes.ht lexer puts them, nothing marked invalid). Run by
// tmgrammar.sh, which installs the two packages (NODE_PATH).
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const onig = require('vscode-oniguruma');

const src = process.argv[2];
const grammarPath = path.join(src, 'dsl/editors/routes.tmLanguage.json');
let failures = 0;
const fail = (msg) => { console.log('FAIL: ' + msg); failures++; };

async function load() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm')).buffer;
  await onig.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p) => new onig.OnigScanner(p),
      createOnigString: (s) => new onig.OnigString(s),
    }),
    loadGrammar: async (scope) => scope === 'source.routes-ht'
      ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  return registry.loadGrammar('source.routes-ht');
}

// Lines of tokens: [{ text, start, scopes }].
function tokenize(grammar, text) {
  let state = vsctm.INITIAL;
  return text.split('\n').map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return { line, tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), start: t.startIndex, scopes: t.scopes })) };
  });
}

// The scopes at column col of a tokenized line.
function scopesAt(tl, col) {
  const t = tl.tokens.find((k) => k.start <= col && col < k.start + k.text.length);
  return t ? t.scopes : [];
}

const has = (scopes, prefix) => scopes.some((s) => s === prefix || s.startsWith(prefix + '.'));

// On the line holding `where`, the text `what` (its nth occurrence after
// `where`'s start) must (or, with want false, must not) have a scope
// starting with `scope`, on every byte of it.
function expect(lines, where, what, scope, want = true, nth = 0) {
  const tl = lines.find((l) => l.line.includes(where));
  if (!tl) return fail(`no line holds '${where}'`);
  let col = tl.line.indexOf(where);
  for (let i = 0; i <= nth; i++) {
    col = tl.line.indexOf(what, i ? col + 1 : col);
    if (col < 0) return fail(`'${what}' not on the line '${tl.line}'`);
  }
  for (let c = col; c < col + what.length; c++) {
    const s = scopesAt(tl, c);
    if (has(s, scope) !== want)
      return fail(`'${what}' in '${tl.line.trim()}': column ${c} has [${s.join(' ')}], ${want ? 'wants' : 'must not have'} ${scope}`);
  }
}

function allSyntax(grammar) {
  const text = fs.readFileSync(path.join(src, 'tests/dsl/editors/all_syntax.ht'), 'utf8');
  const L = tokenize(grammar, text);
  const C = 'comment.line.number-sign.routes-ht';
  expect(L, '# every piece', '# every piece of routes.ht syntax', C);
  for (const d of ['prefix', 'context', 'trailing_slash', 'mount', 'embed', 'mime', 'errors', 'group', 'host'])
    expect(L, d + ' ', d, 'keyword.control.directive.routes-ht');
  expect(L, '    end', 'end', 'keyword.control.directive.routes-ht');
  expect(L, 'prefix app', 'app', 'entity.name.type.routes-ht');
  expect(L, 'prefix app', '# generated symbols', C);
  expect(L, 'context', 'struct', 'storage.type.routes-ht');
  expect(L, 'context', '"app.h"', 'string.quoted.header.routes-ht');
  expect(L, 'trailing_slash', 'redirect', 'constant.language.routes-ht');
  // methods
  expect(L, 'GET        /  ', 'GET', 'keyword.other.method.routes-ht');
  expect(L, 'GET|PUT', 'GET', 'keyword.other.method.routes-ht');
  expect(L, 'GET|PUT', '|', 'punctuation.separator.method.routes-ht');
  expect(L, 'GET|PUT', 'PUT', 'keyword.other.method.routes-ht');
  expect(L, 'GET | HEAD', 'HEAD', 'keyword.other.method.routes-ht');
  expect(L, 'BREW', 'BREW', 'keyword.other.method.routes-ht');
  expect(L, 'DELETE', 'DELETE', 'keyword.other.method.routes-ht');
  // -> and handlers
  expect(L, '-> home', '->', 'keyword.operator.arrow.routes-ht');
  expect(L, '-> home', 'home', 'entity.name.function.handler.routes-ht');
  expect(L, '-> user ', 'user', 'entity.name.function.handler.routes-ht');
  expect(L, '-> user ', '# typed', C);
  // {id:u64}, part by part
  expect(L, '/users/{id:u64}', '/users/', 'string.unquoted.path.routes-ht');
  expect(L, '/users/{id:u64}', '{', 'punctuation.definition.parameter.begin.routes-ht');
  expect(L, '/users/{id:u64}', 'id', 'variable.parameter.routes-ht');
  expect(L, '/users/{id:u64}', ':', 'punctuation.separator.type.routes-ht');
  expect(L, '/users/{id:u64}', 'u64', 'storage.type.routes-ht');
  expect(L, '/users/{id:u64}', '}', 'punctuation.definition.parameter.end.routes-ht');
  expect(L, '/users/{id:u64}', 'u64', 'variable.parameter', false);
  expect(L, '/hello/{name}', 'name', 'variable.parameter.routes-ht');
  for (const t of ['i64', 'hex', 'uuid', 'slug', 'str']) expect(L, '{n:i64}', t, 'storage.type.routes-ht');
  expect(L, '{ver:/', 'v[0-9]{1,3}', 'string.regexp.routes-ht');
  expect(L, '{ver:/', 'ver', 'variable.parameter.routes-ht');
  expect(L, '{ver:/', '/x', 'string.unquoted.path.routes-ht');
  expect(L, '{ver:/', '# a regex', C);
  expect(L, '/img-{id:u64}.png', 'img-', 'string.unquoted.path.routes-ht');
  expect(L, '/img-{id:u64}.png', '.png', 'string.unquoted.path.routes-ht');
  expect(L, '/img-{id:u64}.png', 'u64', 'storage.type.routes-ht');
  expect(L, '{path...}', 'path', 'variable.parameter.routes-ht');
  expect(L, '{path...}', '...', 'keyword.operator.rest.routes-ht');
  expect(L, '{file:path...}', 'file', 'variable.parameter.routes-ht');
  expect(L, '{file:path...}', 'path', 'storage.type.routes-ht');
  expect(L, '{file:path...}', '...', 'keyword.operator.rest.routes-ht');
  expect(L, '{file:path...}', 'strict', 'keyword.other.option.routes-ht');
  // a # inside a path is not a comment; one after a blank is
  expect(L, '/a%20b/c#d', '#d', C, false);
  expect(L, '/a%20b/c#d', '#d', 'meta.path.routes-ht');
  expect(L, '/a%20b/c#d', '%20', 'constant.character.escape.routes-ht');
  expect(L, '/a%20b/c#d', 'hash_in_path', 'entity.name.function.handler.routes-ht');
  expect(L, '/a%20b/c#d', "# the '#' before d", C);
  // query parameters
  expect(L, '?q:str', '?', 'punctuation.definition.query.routes-ht');
  expect(L, '?q:str', 'q', 'variable.parameter.query.routes-ht', true, 0);
  expect(L, '?q:str', 'str', 'storage.type.routes-ht');
  expect(L, '?page:u64=1', 'page', 'variable.parameter.query.routes-ht');
  expect(L, '?page:u64=1', '=', 'keyword.operator.assignment.routes-ht');
  expect(L, '?page:u64=1', '1', 'constant.other.default.routes-ht');
  expect(L, '?tag:slug*', '*', 'keyword.operator.repeat.routes-ht');
  expect(L, 'GET        /search', 'search', 'entity.name.function.handler.routes-ht', true, 1);
  expect(L, 'GET        /search', 'search', 'meta.path.routes-ht', true, 0);
  expect(L, '?n:i64=-5', '-5', 'constant.other.default.routes-ht');
  expect(L, '?h:hex?', '?', 'keyword.operator.repeat.routes-ht', true, 1);
  expect(L, '?s:str="a b"', '"a b"', 'constant.other.default.routes-ht');
  expect(L, '?s:str="a b"', 'num', 'entity.name.function.handler.routes-ht');
  expect(L, '?s:str="a b"', 'strict', 'keyword.other.option.routes-ht');
  // options, sizes, durations
  expect(L, 'body 1M', 'body', 'keyword.other.option.routes-ht');
  expect(L, 'body 1M', '1M', 'constant.numeric.size.routes-ht');
  expect(L, 'timeout 500ms', 'timeout', 'keyword.other.option.routes-ht');
  expect(L, 'timeout 500ms', '500ms', 'constant.numeric.duration.routes-ht');
  expect(L, 'timeout 500ms', 'upstream', 'keyword.other.option.routes-ht');
  expect(L, 'body 8G stream', 'stream', 'keyword.other.option.routes-ht');
  expect(L, 'body 8G stream', '8G', 'constant.numeric.size.routes-ht');
  // group and host blocks
  expect(L, 'group /api/v1', '/api/v1', 'meta.path.routes-ht');
  expect(L, 'group /api/v1', 'before', 'entity.other.attribute-name.option.routes-ht');
  expect(L, 'group /api/v1', 'require_auth', 'string.unquoted.value.routes-ht');
  expect(L, 'group /api/v1', '2s', 'constant.numeric.duration.routes-ht');
  expect(L, 'group /api/v1', '64K', 'constant.numeric.size.routes-ht');
  expect(L, 'GET  /users/{id:u64}   -> api_user', 'GET', 'keyword.other.method.routes-ht');
  expect(L, 'GET  /users/{id:u64}   -> api_user', 'api_user', 'entity.name.function.handler.routes-ht');
  expect(L, 'group /admin', '# nests', C);
  expect(L, 'host *.example.com', '*.example.com', 'entity.name.tag.host.routes-ht');
  // mount, embed, mime, errors
  expect(L, 'mount', '/static', 'meta.path.routes-ht');
  expect(L, 'mount', './public', 'string.unquoted.file.routes-ht');
  expect(L, 'mount', 'index', 'entity.other.attribute-name.option.routes-ht');
  expect(L, 'embed', '"X-Frame-Options: DENY"', 'string.quoted.double.routes-ht');
  expect(L, 'embed', 'cors', 'entity.other.attribute-name.option.routes-ht');
  expect(L, 'embed', 'cache=31536000,immutable', 'comment', false);
  expect(L, 'mime', '.wasm', 'string.unquoted.file.routes-ht');
  expect(L, 'mime', 'application/wasm', 'string.unquoted.media-type.routes-ht');
  expect(L, 'errors     /api', 'json', 'constant.language.routes-ht');
  expect(L, 'errors     /static/', 'static_error', 'entity.name.function.handler.routes-ht');
  for (const tl of L)
    for (const t of tl.tokens)
      if (has(t.scopes, 'invalid')) fail(`all_syntax.ht: '${t.text}' marked invalid in '${tl.line}'`);
  return L.length;
}

// What the routes.ht lexer says, checked on every example: a route's methods
// and handler, a whole-line comment, and a comment after a blank outside a
// path or a quoted value.
function examples(grammar) {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'routes.ht') files.push(p);
    }
  };
  walk(path.join(src, 'examples'));
  if (files.length < 2) fail(`only ${files.length} examples/**/routes.ht found`);
  let routes = 0;
  for (const f of files) {
    const L = tokenize(grammar, fs.readFileSync(f, 'utf8'));
    const rel = path.relative(src, f);
    for (const tl of L) {
      const line = tl.line;
      for (const t of tl.tokens) if (has(t.scopes, 'invalid')) fail(`${rel}: '${t.text}' marked invalid in '${line}'`);
      const m = /^(\s*)([A-Z]+(?:\|[A-Z]+)*)\s+(\/\S*)\s+->\s+([A-Za-z_]\w*)/.exec(line);
      if (m) {
        routes++;
        if (!has(scopesAt(tl, m[1].length), 'keyword.other.method.routes-ht')) fail(`${rel}: method of '${line}'`);
        const h = line.indexOf(m[4], line.indexOf('->'));
        if (!has(scopesAt(tl, h), 'entity.name.function.handler.routes-ht')) fail(`${rel}: handler of '${line}'`);
        if (!has(scopesAt(tl, line.indexOf(m[3])), 'meta.path.routes-ht')) fail(`${rel}: path of '${line}'`);
      }
      // the lexer's comment: a '#' after a blank, outside the path token and quotes
      let q = false, inPath = false;
      for (let c = 0; c < line.length; c++) {
        const ch = line[c], prev = c ? line[c - 1] : ' ';
        if (ch === ' ' || ch === '\t') { inPath = false; continue; }
        if ((prev === ' ' || prev === '\t') && ch === '/' && !q) inPath = true;
        if (ch === '"' && !inPath) q = !q;
        if (ch === '#' && !inPath && !q) {
          if (!has(scopesAt(tl, c), 'comment.line.number-sign.routes-ht')) fail(`${rel}: the comment at column ${c} of '${line}'`);
          break;
        }
        if (ch === '#' && inPath && has(scopesAt(tl, c), 'comment')) fail(`${rel}: a '#' in a path is a comment: '${line}'`);
      }
    }
  }
  if (routes < 10) fail(`only ${routes} route lines found in the examples`);
  return [files.length, routes];
}

load().then((grammar) => {
  const n = allSyntax(grammar);
  const [nf, nr] = examples(grammar);
  console.log(`check_tmgrammar: all_syntax.ht (${n} lines), ${nf} examples (${nr} route lines), ${failures} failures`);
  process.exit(failures ? 1 : 0);
}).catch((e) => { console.log('FAIL: ' + (e && e.stack || e)); process.exit(1); });
