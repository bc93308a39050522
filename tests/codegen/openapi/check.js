// check.js FILE: what htgen --openapi must write for openapi/routes.ht, read
// back as JSON: escaped comments, operationIds, schemas (the regex as an
// ECMA-262 pattern that accepts and refuses what the route does), templates,
// extensions, responses, and the routes left out.
"use strict";
const assert = require("assert");
const api = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const p = api.paths;
assert.strictEqual(api.openapi, "3.1.0");
assert.deepStrictEqual(api.info.title, "oa");
assert.deepStrictEqual(Object.keys(p),
  ["/q/{id}", "/t/{a}/{b}/{c}/{d}/{e}/{f}", "/re/{v}", "/img-{id}.png", "/up/{name}", "/slow", "/proxy/{rest}", "/x"]);
// comments: quotes, backslashes, a tab, UTF-8 kept, invalid bytes replaced
assert.strictEqual(p["/q/{id}"].get.summary, 'say "hi" \\ back\\slash, tab\tand UTF-8: caf\u00e9 \u2713');
assert.strictEqual(p["/q/{id}"].put.summary, "invalid UTF-8: [\ufffd\ufffd]");
// a handler with two operations: handler_method; the plain name of another handler wins
assert.strictEqual(p["/x"].get.operationId, "quote_get");
assert.strictEqual(p["/q/{id}"].get.operationId, "quote_get_2");
assert.strictEqual(p["/q/{id}"].put.operationId, "quote_put");
assert.strictEqual(p["/q/{id}"].delete.operationId, "quote_delete");
assert.deepStrictEqual(Object.keys(p["/t/{a}/{b}/{c}/{d}/{e}/{f}"]), ["get", "head"]);
const schemas = p["/t/{a}/{b}/{c}/{d}/{e}/{f}"].get.parameters.map((q) => [q.name, q.in, q.required, q.schema]);
assert.deepStrictEqual(schemas, [
  ["a", "path", true, { type: "integer", format: "int64" }],
  ["b", "path", true, { type: "string", pattern: "^[0-9A-Fa-f]{1,16}$" }],
  ["c", "path", true, { type: "string", format: "uuid" }],
  ["d", "path", true, { type: "string", pattern: "^[A-Za-z0-9_-]+$" }],
  ["e", "path", true, { type: "string", minLength: 1 }],
  ["f", "path", true, { type: "string", minLength: 1 }],
]);
assert.deepStrictEqual(p["/q/{id}"].get.parameters[0].schema, { type: "integer", format: "uint64", minimum: 0 });
// the regex: what the route's DFA takes, with and without the u flag
const re = p["/re/{v}"].get.parameters[0].schema.pattern;
for (const flags of ["", "u"]) {
  const r = new RegExp(re, flags);
  for (const ok of ["v1", "v12-ab", "v0-xyz"]) assert.ok(r.test(ok), `${re} should take ${ok}`);
  for (const no of ["v", "v1-a", "v1-abcd", "x1", "v1/2", "v1-AB"]) assert.ok(!r.test(no), `${re} should refuse ${no}`);
}
// extensions and the server's own responses
const up = p["/up/{name}"].post;
assert.strictEqual(up["x-body-limit"], 16777216);
assert.strictEqual(up["x-stream"], true);
assert.deepStrictEqual(Object.keys(up.responses), ["413", "default"]);
assert.strictEqual(p["/slow"].get["x-timeout-ms"], 5000);
assert.deepStrictEqual(Object.keys(p["/slow"].get.responses), ["503", "default"]);
const rest = p["/proxy/{rest}"].get;
assert.strictEqual(rest["x-upstream"], true);
assert.strictEqual(rest.parameters[0]["x-rest"], true);
assert.deepStrictEqual(Object.keys(rest.responses), ["400", "504", "default"]);
assert.strictEqual(p["/q/{id}"].get["x-line"], 5);
// left out: PURGE (no OpenAPI field), /q/{name} (one template with /q/{id})
assert.ok(!JSON.stringify(api).includes("purge"));
assert.ok(!JSON.stringify(api).includes("quote_by_name"));
console.log("ok: openapi/routes.ht's document");
