// validate.js FILE...: each OpenAPI document through @apidevtools/swagger-parser's
// validate() (the OpenAPI 3.1 JSON Schema), then the spec's rules that
// swagger-parser checks for Swagger 2.0 only: operationIds unique, each
// template name a path parameter of every operation and each path
// parameter in the template, no two templates equal but for their names.
// Exit 1 on the first invalid document, with the reason.
"use strict";
const SwaggerParser = require("@apidevtools/swagger-parser");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function semantic(api) {
  const ids = new Map();
  const shapes = new Map();
  for (const [tpl, item] of Object.entries(api.paths || {})) {
    const names = [...tpl.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
    const shape = tpl.replace(/\{[^}]*\}/g, "{}");
    if (shapes.has(shape)) throw new Error(`${tpl} and ${shapes.get(shape)} are the same path template`);
    shapes.set(shape, tpl);
    for (const m of Object.keys(item)) {
      if (!METHODS.includes(m) && !m.startsWith("x-")) throw new Error(`${tpl}: unknown field ${m}`);
      if (!METHODS.includes(m)) continue;
      const op = item[m];
      if (op.operationId !== undefined) {
        if (ids.has(op.operationId)) throw new Error(`operationId ${op.operationId} twice: ${ids.get(op.operationId)}, ${m} ${tpl}`);
        ids.set(op.operationId, `${m} ${tpl}`);
      }
      const inPath = (op.parameters || []).filter((q) => q.in === "path").map((q) => q.name);
      for (const n of names) if (!inPath.includes(n)) throw new Error(`${m} ${tpl}: no path parameter ${n}`);
      for (const n of inPath) if (!names.includes(n)) throw new Error(`${m} ${tpl}: path parameter ${n} not in the template`);
      if (new Set(inPath).size !== inPath.length) throw new Error(`${m} ${tpl}: a path parameter twice`);
      for (const q of op.parameters || []) if (q.schema && q.schema.pattern) new RegExp(q.schema.pattern, "u");
    }
  }
}

(async () => {
  for (const file of process.argv.slice(2)) {
    try {
      const api = await SwaggerParser.validate(file);
      semantic(api);
      const ops = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).length, 0);
      console.log(`valid: ${file} (OpenAPI ${api.openapi}, ${Object.keys(api.paths).length} paths, ${ops} operations)`);
    } catch (e) {
      console.error(`INVALID: ${file}: ${e.message}`);
      process.exit(1);
    }
  }
})();
