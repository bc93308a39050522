// The peer for bench/microservice/run.sh: examples/microservice's four
// benchmarked endpoints in Node.js (node:http) with node-postgres (npm `pg`,
// which run.sh installs into a temp dir and passes as NODE_PATH).
//
//   node server.js PORT CONNINFO_DIR [POOL]
//
//   GET  /api/health              200 {"status":"ok","db":"up"} | 503
//   GET  /api/notes?limit=N&after=ID   200 {"notes":[...],"next":ID|null}
//   POST /api/notes               {"text":"..."} -> 201 + Location + the note
//   GET  /api/notes/{id}          200 the note | 404
//
// Same SQL as examples/microservice/store_pg.c (named statements, so
// node-postgres prepares each once per connection, like the service's
// PREPARE), the note rendered as JSON by the server, the same validation
// (400: bad JSON, text missing or not a string, text over 4 KiB; bodies over
// 32 KiB: 413). The schema is the service's (run.sh creates it). One process,
// a pg.Pool of POOL connections (default 1: the service's one query
// connection per worker). Prints "listening on 127.0.0.1:PORT" once ready.
'use strict';
const http = require('http');
const { Pool } = require('pg');

const port = Number(process.argv[2] || 0);
const host = process.argv[3];
const poolMax = Number(process.argv[4] || 1);
const pool = new Pool({ host, database: 'postgres', user: 'postgres', max: poolMax });

const NOTE_JSON = "jsonb_build_object('id', id, 'text', text, 'created_at', created_at)::text";
const Q = {
  ping: 'SELECT 1',
  get: `SELECT id, ${NOTE_JSON} AS j FROM notes WHERE id = $1`,
  list: `SELECT id, ${NOTE_JSON} AS j FROM notes WHERE id > $1 ORDER BY id LIMIT $2`,
  create: `INSERT INTO notes (text) VALUES ($1) RETURNING id, ${NOTE_JSON} AS j`,
};
const TEXT_MAX = 4096, BODY_MAX = 32 * 1024;
const U64 = /^[0-9]{1,19}$/;

function send(res, status, body, extra) {
  const h = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (extra) Object.assign(h, extra);
  res.writeHead(status, h);
  res.end(body);
}
const err = (res, status, msg) => send(res, status, JSON.stringify({ error: msg }));
function dbFailed(res, e) {
  if (!res.headersSent) err(res, 503, 'the database is not available');
  if (process.env.NODE_PEER_DEBUG) console.error(e);
}

function list(res, query) {
  let limit = 20, after = '0';
  if (query.has('limit')) {
    const v = query.get('limit');
    limit = U64.test(v) ? Number(v) : 0;
    if (limit < 1 || limit > 100) return err(res, 400, 'limit must be a number from 1 to 100');
  }
  if (query.has('after')) {
    after = query.get('after');
    if (!U64.test(after)) return err(res, 400, 'after must be a note id');
  }
  pool.query({ name: 'note_list', text: Q.list, values: [after, limit + 1] }).then((r) => {
    const rows = r.rows, shown = Math.min(rows.length, limit);
    let out = '{"notes":[';
    for (let i = 0; i < shown; i++) out += (i ? ',' : '') + rows[i].j;
    out += rows.length > limit ? `],"next":${rows[shown - 1].id}}` : '],"next":null}';
    send(res, 200, out);
  }, (e) => dbFailed(res, e));
}

function add(req, res) {
  const chunks = [];
  let size = 0, over = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > BODY_MAX) over = true;
    else chunks.push(c);
  });
  req.on('end', () => {
    if (over) return err(res, 413, 'body too large');
    let text;
    try {
      const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      text = v !== null && typeof v === 'object' ? v.text : undefined;
    } catch (e) {
      return err(res, 400, 'malformed JSON');
    }
    if (typeof text !== 'string') return err(res, 400, 'text must be a string');
    if (Buffer.byteLength(text) > TEXT_MAX) return err(res, 400, 'text is longer than 4096 bytes');
    pool.query({ name: 'note_create', text: Q.create, values: [text] }).then((r) => {
      const row = r.rows[0];
      send(res, 201, row.j, { Location: `/api/notes/${row.id}` });
    }, (e) => dbFailed(res, e));
  });
}

const server = http.createServer((req, res) => {
  const url = req.url, q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path.startsWith('/api/notes/')) {
    const id = path.slice(11);
    if (!U64.test(id)) return err(res, 404, 'not found');
    if (req.method !== 'GET') return err(res, 405, 'method not allowed');
    pool.query({ name: 'note_get', text: Q.get, values: [id] }).then((r) => {
      if (r.rows.length === 0) err(res, 404, 'no such note');
      else send(res, 200, r.rows[0].j);
    }, (e) => dbFailed(res, e));
  } else if (path === '/api/notes') {
    if (req.method === 'POST') add(req, res);
    else if (req.method === 'GET') list(res, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    else err(res, 405, 'method not allowed');
  } else if (path === '/api/health') {
    pool.query({ name: 'ping', text: Q.ping }).then(
      () => send(res, 200, '{"status":"ok","db":"up"}'),
      () => send(res, 503, '{"status":"degraded","db":"down"}'));
  } else {
    err(res, 404, 'not found');
  }
});
server.keepAliveTimeout = 300000;
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => { server.close(); pool.end(); process.exit(0); });
