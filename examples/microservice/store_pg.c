/* store_pg.c — the notes in PostgreSQL (store.h), one worker's view.
 *
 * Each worker has a connection of its own (pg_conn.c drives it on the
 * worker's loop; no thread ever waits on the database) for its queries:
 *
 * - in libpq's pipeline mode, one prepared statement per operation
 *   (PQsendQueryPrepared). Operations submitted during one turn of the
 *   worker's loop go out together at its end (ht_loop__defer), and the
 *   server runs them back to back without a round trip between them.
 *   Operations wait in one FIFO (pgq_t): the first `nsent` are on the wire,
 *   in order, the rest wait for room (MAX_SENT) or are refused past
 *   MAX_QUEUED (503). Results come back in the same order: each statement's
 *   result and a null, and a sync result after each group (below).
 * - Syncs. The statements between two syncs are one implicit transaction,
 *   and each PQpipelineSync costs a send() in libpq 15 (PQsendPipelineSync,
 *   which does not flush, is libpq 17), and the server a transaction and a
 *   flush. So reads (GET, LIST, PING) that go out together share one sync,
 *   up to MAX_GROUP: a read needs no transaction of its own. A write
 *   (CREATE, UPDATE, DELETE) is alone between syncs, its own transaction,
 *   so that an error, or a 201, is its own and no other's. When a statement
 *   of a group fails (a cancel), the server skips the rest of the group
 *   (PGRES_PIPELINE_ABORTED): those are sent again.
 * - the changes: the trigger installed with the schema sends "OP ID JSON"
 *   (OP: created, updated, deleted) on channel `notes` on every change, in
 *   the writer's transaction; the service's one LISTEN connection
 *   (pg_listen.c) hears them and hands them to every worker's feed.
 *
 * Session setup, on every (re)connect, before pipeline mode: the schema
 * (table, trigger function, trigger: each created if missing, under an
 * advisory lock so that concurrent workers do not race; the first start
 * needs a user that may create them), UTC, and the statements (SQL
 * PREPARE, which PQsendQueryPrepared uses like PQprepare's).
 *
 * Faults. A lost connection fails everything queued or sent with
 * STORE_DOWN (the API answers 503), and until the connection is back every
 * submit fails at once: nothing waits on a database that is not there.
 * Abandoned operations (their client left, or the route's deadline passed
 * and the server answered 504) are dropped if not sent yet; if sent and
 * not finished (in the group running now), the server is asked to cancel
 * it (pg_conn_cancel: PQcancel on a helper thread). A cancel can only
 * target "whatever this connection runs now": if the slow statement
 * finished just before it arrived, or has not started, another is
 * cancelled instead; such a statement, whose caller is still waiting, is
 * sent again (a cancelled statement had no effect: a read, or a write
 * alone in its transaction).
 */
#include "pg_conn.h"
#include "pg_listen.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_SENT = 128,    /* statements on the wire per connection */
    MAX_GROUP = 32,    /* reads under one sync */
    MAX_TRIES = 4,     /* sends of one operation (retries after others' faults) */
    MAX_QUEUED = 4096, /* operations waiting, in all: past it, STORE_BUSY */
};

/* The note as JSON, rendered by the server (the same expression is in the
 * trigger, so the API and the feed agree byte for byte). */
#define NOTE_JSON "jsonb_build_object('id', id, 'text', text, 'created_at', created_at)::text"

static const char SETUP_SQL[] =
    "SET client_min_messages = warning;"
    "SET TimeZone = 'UTC';"
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7400914);" /* any constant: "the notes schema" */
    "CREATE TABLE IF NOT EXISTS notes ("
    "  id bigserial PRIMARY KEY,"
    "  text text NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    /* The trigger function and the trigger, when missing (so that a user
     * who does not own them can run the service on a provisioned schema).
     * A NOTIFY payload is shorter than 8000 bytes: a note that would not
     * fit goes as {"id": N} alone (the client fetches it). */
    "DO $d$ BEGIN\n"
    "  IF to_regproc('notes_notify') IS NULL THEN\n"
    "    CREATE FUNCTION notes_notify() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "    DECLARE p text;\n"
    "    BEGIN\n"
    "      IF TG_OP = 'DELETE' THEN\n"
    "        p := 'deleted ' || OLD.id || ' ' || jsonb_build_object('id', OLD.id)::text;\n"
    "      ELSE\n"
    "        p := jsonb_build_object('id', NEW.id, 'text', NEW.text, 'created_at', NEW.created_at)::text;\n"
    "        IF octet_length(p) > 7900 THEN p := jsonb_build_object('id', NEW.id)::text; END IF;\n"
    "        p := CASE TG_OP WHEN 'INSERT' THEN 'created ' ELSE 'updated ' END || NEW.id || ' ' || p;\n"
    "      END IF;\n"
    "      PERFORM pg_notify('notes', p);\n"
    "      RETURN NULL;\n"
    "    END $f$;\n"
    "  END IF;\n"
    "  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'notes_notify'\n"
    "                 AND tgrelid = 'notes'::regclass) THEN\n"
    "    CREATE TRIGGER notes_notify AFTER INSERT OR UPDATE OR DELETE ON notes\n"
    "      FOR EACH ROW EXECUTE FUNCTION notes_notify();\n"
    "  END IF;\n"
    "END $d$;"
    "COMMIT;"
    "PREPARE ping AS SELECT 1;"
    "PREPARE note_get(bigint) AS SELECT id, " NOTE_JSON " FROM notes WHERE id = $1;"
    /* MICROSERVICE_TEST_SLOW: the same, after sleeping $2 seconds on the
     * server (void cast to text is ''), for the deadline and cancel tests. */
    "PREPARE note_get_slow(bigint, float8) AS SELECT id, " NOTE_JSON
    "  FROM notes WHERE id = $1 AND pg_sleep($2)::text = '';"
    "PREPARE note_list(bigint, int) AS SELECT id, " NOTE_JSON
    "  FROM notes WHERE id > $1 ORDER BY id LIMIT $2;"
    "PREPARE note_create(text) AS INSERT INTO notes (text) VALUES ($1) RETURNING id, " NOTE_JSON ";"
    "PREPARE note_update(bigint, text) AS UPDATE notes SET text = $2 WHERE id = $1 RETURNING id, " NOTE_JSON ";"
    "PREPARE note_delete(bigint) AS DELETE FROM notes WHERE id = $1 RETURNING id;";

/* One operation in the pipeline. */
typedef struct pgq {
    struct pgq*  prev;
    struct pgq*  next;
    store_req_t* req;       /* nullptr: abandoned, its answer goes nowhere */
    PGresult*    result;    /* its statement's result, kept until the sync */
    bool         sent;
    bool         answered;  /* its result and null have arrived */
    bool         synced;    /* the last of its group: a sync follows it */
    bool         cancelled; /* a cancel request was sent for it */
    uint8_t      tries;
} pgq_t;

typedef struct store_pg {
    store_t   base;
    char*     conninfo;
    pg_conn_t q;        /* queries (pipeline) */
    pg_listen_t* listen; /* the service's, attached to */
    bool      q_ready;  /* setup done, pipeline mode on */
    pgq_t*    head;     /* the FIFO: sent ones first */
    pgq_t*    tail;
    pgq_t*    unsent;   /* the first one not sent yet, or nullptr */
    pgq_t*    rx;       /* the sent one whose result comes next, or nullptr */
    uint32_t  nsent;
    uint32_t  group;    /* reads sent since the last sync */
    bool      pump_due; /* pump_op is deferred to the end of this turn */
    ht_op_t   pump_op;
    uint32_t  nqueued;
} store_pg_t;

/* ---- The FIFO ---- */

static void fifo_push(store_pg_t* s, pgq_t* q) {
    q->prev = s->tail;
    q->next = nullptr;
    if (s->tail) s->tail->next = q;
    else s->head = q;
    s->tail = q;
    if (s->unsent == nullptr) s->unsent = q;
    s->nqueued++;
}

static void fifo_unlink(store_pg_t* s, pgq_t* q) {
    if (s->unsent == q) s->unsent = q->next;
    if (s->rx == q) s->rx = nullptr; /* only when everything fails (q_down) */
    if (q->prev) q->prev->next = q->next;
    else s->head = q->next;
    if (q->next) q->next->prev = q->prev;
    else s->tail = q->prev;
    if (q->sent) s->nsent--;
    s->nqueued--;
}

/* ---- Sending ---- */

static bool send_one(store_pg_t* s, pgq_t* q) {
    PGconn* pg = s->q.pg;
    store_req_t* r = q->req;
    char id[24], num[24];
    snprintf(id, sizeof id, "%" PRIu64, r->id);
    const char* v[2] = { id, nullptr };
    const char* name;
    int n = 1;
    switch (r->op) {
    case STORE_PING: name = "ping"; n = 0; break;
    case STORE_GET:
        name = "note_get";
        if (r->delay_ms) {
            snprintf(num, sizeof num, "%.3f", r->delay_ms / 1000.0);
            name = "note_get_slow";
            v[1] = num;
            n = 2;
        }
        break;
    case STORE_LIST:
        snprintf(num, sizeof num, "%" PRIu32, r->limit);
        name = "note_list";
        v[1] = num;
        n = 2;
        break;
    case STORE_CREATE: name = "note_create"; v[0] = r->text; break;
    case STORE_UPDATE: name = "note_update"; v[1] = r->text; n = 2; break;
    case STORE_DELETE: name = "note_delete"; break;
    default: return false;
    }
    /* Texts go as NUL-terminated parameters: json.c refused a \u0000. */
    return PQsendQueryPrepared(pg, name, n, v, nullptr, nullptr, 0) == 1;
}

static bool is_write(const store_req_t* r) {
    return r->op == STORE_CREATE || r->op == STORE_UPDATE || r->op == STORE_DELETE;
}

/* Ends the group whose last statement is last (syncs flush: libpq 15). */
static bool sync_after(store_pg_t* s, pgq_t* last) {
    last->synced = true;
    s->group = 0;
    return PQpipelineSync(s->q.pg) == 1;
}

/* Sends what waits, while there is room on the wire, in groups (above). */
static void pump(store_pg_t* s) {
    pgq_t* last = nullptr; /* sent here, not yet synced */
    bool any = false;
    while (s->q_ready && s->unsent && s->nsent < MAX_SENT) {
        pgq_t* q = s->unsent;
        bool write = is_write(q->req);
        bool ok = true;
        if (write && last) ok = sync_after(s, last); /* a write starts a group of its own */
        ok = ok && send_one(s, q);
        if (!ok) {
            pg_conn_fail(&s->q, PQerrorMessage(s->q.pg)); /* fails the FIFO, q included */
            return;
        }
        s->unsent = q->next;
        q->sent = true;
        s->nsent++;
        if (s->rx == nullptr) s->rx = q;
        last = q;
        any = true;
        if ((write || ++s->group == MAX_GROUP) && !sync_after(s, q)) {
            pg_conn_fail(&s->q, PQerrorMessage(s->q.pg));
            return;
        }
        if (q->synced) last = nullptr;
    }
    if (last && !sync_after(s, last)) {
        pg_conn_fail(&s->q, PQerrorMessage(s->q.pg));
        return;
    }
    if (any) pg_conn_flush(&s->q);
}

/* The end of the loop's turn: everything submitted during it goes out. */
static void pump_later(ht_loop_t* loop, ht_op_t* op, ht_io_t res) {
    (void) loop, (void) res;
    store_pg_t* s = op->data;
    s->pump_due = false;
    pump(s);
}

/* A statement runs for nobody: ask the server to stop it. The server holds
 * a group's results until its sync, so the one running now is any
 * unanswered one of rx's group, not necessarily rx ([read, slow, reads]:
 * rx stays on the first read while the slow one runs). An abandoned one
 * among them is cancelled: whichever of the group runs when the cancel
 * lands fails, the rest of the group is skipped, and retry() sends the
 * innocent ones again. One cancel per group: the flag goes with it. */
static void maybe_cancel(store_pg_t* s) {
    pgq_t* victim = nullptr;
    for (pgq_t* q = s->rx; q && q->sent; q = q->next) {
        if (q->cancelled) return;
        if (victim == nullptr && q->req == nullptr && q->result == nullptr) victim = q;
        if (q->synced) break;
    }
    if (victim && pg_conn_cancel(&s->q)) victim->cancelled = true;
}

/* ---- Answers ---- */

static bool sqlstate_is(const PGresult* r, const char* prefix) {
    const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return st && strncmp(st, prefix, strlen(prefix)) == 0;
}

static void deliver(store_pg_t* s, store_req_t* req, const PGresult* r) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        store_row_t rows[STORE_MAX_ROWS];
        int n = PQntuples(r), nf = PQnfields(r);
        if (n > STORE_MAX_ROWS) n = STORE_MAX_ROWS;
        for (int i = 0; i < n; i++) {
            rows[i].id = nf > 0 ? strtoull(PQgetvalue(r, i, 0), nullptr, 10) : 0;
            rows[i].json = nf > 1 ? PQgetvalue(r, i, 1) : nullptr;
            rows[i].len = nf > 1 ? (size_t) PQgetlength(r, i, 1) : 0;
        }
        req->done(req, STORE_OK, rows, (uint32_t) n);
        return;
    }
    /* Connection trouble (08) and operator intervention (57: shutdown,
     * cancel) mean the database is not answering: 503. The rest is a bug
     * or a constraint: 500, and a line in the log. */
    if (r && (sqlstate_is(r, "08") || sqlstate_is(r, "57"))) {
        req->done(req, STORE_DOWN, nullptr, 0);
        return;
    }
    fprintf(stderr, "microservice: %s: %s", s->q.name, r ? PQresultErrorMessage(r) : "no result\n");
    req->done(req, STORE_ERROR, nullptr, 0);
}

/* Whether h's operation is sent again rather than answered: it did not
 * run because another statement of its group failed, or another's cancel
 * landed on it (a cancel targets whatever the connection runs). Either way
 * it had no effect: a read, or a write alone in its transaction. */
static bool retry(const pgq_t* h, const PGresult* r) {
    if (h->req == nullptr || r == nullptr || h->tries + 1 >= MAX_TRIES) return false;
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_PIPELINE_ABORTED ||
           (st == PGRES_FATAL_ERROR && !h->cancelled && sqlstate_is(r, "57014"));
}

/* The head's group has been synced: its answer is complete. */
static void finish_head(store_pg_t* s) {
    pgq_t* h = s->head;
    fifo_unlink(s, h);
    PGresult* r = h->result;
    h->result = nullptr;
    store_req_t* req = h->req;
    if (retry(h, r)) {
        PQclear(r);
        *h = (pgq_t){ .req = req, .tries = (uint8_t) (h->tries + 1) };
        fifo_push(s, h);
        return;
    }
    free(h);
    if (req) {
        req->priv = nullptr;
        deliver(s, req, r);
    }
    PQclear(r);
}

static void q_setup_input(store_pg_t* s) {
    PGconn* pg = s->q.pg;
    while (!PQisBusy(pg)) {
        PGresult* r = PQgetResult(pg);
        if (r == nullptr) { /* the whole setup ran */
            if (PQenterPipelineMode(pg) != 1) {
                pg_conn_fail(&s->q, PQerrorMessage(pg));
                return;
            }
            s->q_ready = true;
            pg_conn_ok(&s->q);
            return;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "setup: %s", PQresultErrorMessage(r));
            PQclear(r);
            pg_conn_fail(&s->q, msg);
            return;
        }
        PQclear(r);
    }
}

static void q_input(pg_conn_t* c) {
    store_pg_t* s = c->owner;
    if (!s->q_ready) {
        q_setup_input(s);
        return;
    }
    /* Each statement: its result and a null; after each group a sync. A
     * null before rx's result would mean we lost count (or nothing is
     * pending): stop rather than spin. */
    while (s->head && s->head->sent && c->state == PG_CONN_UP && !PQisBusy(c->pg)) {
        PGresult* r = PQgetResult(c->pg);
        if (r == nullptr) {
            pgq_t* q = s->rx;
            if (q == nullptr || q->result == nullptr) break;
            q->answered = true;
            s->rx = q->next && q->next->sent ? q->next : nullptr;
            continue;
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            bool last;
            do { /* the group: may submit more (the feed's next page) */
                last = s->head->synced;
                finish_head(s);
            } while (!last && s->head && s->head->answered);
            continue;
        }
        if (s->rx && s->rx->result == nullptr) s->rx->result = r;
        else PQclear(r);
    }
    if (c->state != PG_CONN_UP) return;
    pump(s);
    maybe_cancel(s);
}

static void q_up(pg_conn_t* c) {
    if (PQsendQuery(c->pg, SETUP_SQL) != 1) {
        pg_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    pg_conn_flush(c);
}

/* Everything in flight is lost with the connection: 503 for each. */
static void q_down(pg_conn_t* c) {
    store_pg_t* s = c->owner;
    s->q_ready = false;
    s->group = 0; /* the reads counted went with the connection: the next one starts afresh */
    while (s->head) {
        pgq_t* h = s->head;
        fifo_unlink(s, h);
        PQclear(h->result);
        store_req_t* req = h->req;
        free(h);
        if (req) {
            req->priv = nullptr;
            req->done(req, STORE_DOWN, nullptr, 0); /* a submit from here fails at once */
        }
    }
}

static void q_cancelled(pg_conn_t* c) { maybe_cancel(c->owner); }

static const pg_conn_ops_t q_ops = { q_up, q_input, q_down, q_cancelled };

/* ---- store_t ---- */

static void pg_submit(store_t* base, store_req_t* req) {
    store_pg_t* s = (store_pg_t*) base;
    req->priv = nullptr;
    if (!s->q_ready) {
        req->done(req, STORE_DOWN, nullptr, 0);
        return;
    }
    pgq_t* q = s->nqueued < MAX_QUEUED ? calloc(1, sizeof *q) : nullptr;
    if (q == nullptr) {
        req->done(req, STORE_BUSY, nullptr, 0);
        return;
    }
    q->req = req;
    req->priv = q;
    fifo_push(s, q);
    if (!s->pump_due) {
        s->pump_due = true;
        ht_loop__defer(s->q.loop, &s->pump_op, 0, pump_later);
    }
}

static void pg_abandon(store_t* base, store_req_t* req) {
    store_pg_t* s = (store_pg_t*) base;
    pgq_t* q = req->priv;
    req->priv = nullptr;
    if (q == nullptr) return;
    q->req = nullptr;
    if (!q->sent) {
        fifo_unlink(s, q);
        free(q);
        return;
    }
    maybe_cancel(s);
}

static bool pg_events_up(const store_t* base) { return pg_listen_up(((const store_pg_t*) base)->listen); }

static void pg_close(store_t* base) {
    store_pg_t* s = (store_pg_t*) base;
    ht_loop_t* loop = s->q.loop;
    pg_conn_close(&s->q);
    pg_listen_detach(s->listen, loop);
    (void) ht_loop__run(loop); /* until the cancelled waits are back */
    free(s->conninfo);
    free(s);
}

static const store_ops_t pg_store_ops = { pg_submit, pg_abandon, pg_events_up, pg_close };

store_t* store_pg_new(const char* conninfo, pg_listen_t* listen, ht_loop_t* loop, uint32_t worker) {
    store_pg_t* s = calloc(1, sizeof *s);
    if (s == nullptr) return nullptr;
    s->conninfo = strdup(conninfo);
    if (s->conninfo == nullptr) {
        free(s);
        return nullptr;
    }
    s->base.ops = &pg_store_ops;
    s->listen = listen;
    s->pump_op.data = s;
    char name[32];
    snprintf(name, sizeof name, "worker %" PRIu32 " queries", worker);
    pg_conn_init(&s->q, loop, s->conninfo, name, &q_ops, s);
    pg_conn_start(&s->q);
    pg_listen_attach(listen, loop);
    return &s->base;
}
