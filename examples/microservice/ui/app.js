// The notes UI: talks to the JSON API of the same binary, and follows its
// feed (GET /api/notes/events, Server-Sent Events) so that the list shows
// every change as it happens, made here, in another tab or by another
// instance of the service on the same database.
"use strict";

const list = document.getElementById("notes");
const status = document.getElementById("status");
const liveStatus = document.getElementById("live");
const form = document.getElementById("add");
const input = document.getElementById("text");

const notes = new Map(); // id -> {id, text, created_at}

function show(message) {
  status.textContent = message;
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let data = null;
  if (r.status !== 204) {
    try {
      data = await r.json();
    } catch (e) {
      data = null;
    }
  }
  return { status: r.status, ok: r.ok, data };
}

function why(r) {
  return r.status + (r.data && r.data.error ? ": " + r.data.error : "");
}

function editor(item, note) {
  const field = document.createElement("input");
  field.value = note.text;
  field.maxLength = 4096;
  const save = document.createElement("button");
  save.textContent = "save";
  const cancel = document.createElement("button");
  cancel.textContent = "cancel";
  cancel.type = "button";
  cancel.addEventListener("click", render);
  const edit = document.createElement("form");
  edit.append(field, " ", save, " ", cancel);
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await api("PUT", "/api/notes/" + note.id, { text: field.value });
    if (!r.ok) {
      show("edit failed: " + why(r));
      return;
    }
    notes.set(r.data.id, r.data);
    render();
  });
  item.replaceChildren(edit);
  field.focus();
}

function render() {
  list.replaceChildren();
  const sorted = [...notes.values()].sort((a, b) => a.id - b.id);
  for (const note of sorted) {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = note.text;
    const edit = document.createElement("button");
    edit.textContent = "edit";
    edit.addEventListener("click", () => editor(item, note));
    const remove = document.createElement("button");
    remove.textContent = "delete";
    remove.title = "delete note " + note.id;
    remove.addEventListener("click", async () => {
      const r = await api("DELETE", "/api/notes/" + note.id);
      if (r.status !== 204 && r.status !== 404) show("delete failed: " + why(r));
      else {
        notes.delete(note.id);
        render();
      }
    });
    item.append(text, " ", edit, " ", remove);
    list.append(item);
  }
  show(notes.size === 0 ? "no notes yet" : notes.size + " note" + (notes.size === 1 ? "" : "s"));
}

// Every note, a page (keyset: ?after=the last id) at a time.
async function refresh() {
  try {
    const fresh = new Map();
    let after = 0;
    for (let page = 0; page < 100; page++) {
      const r = await api("GET", "/api/notes?limit=100&after=" + after);
      if (!r.ok) throw new Error(why(r));
      for (const note of r.data.notes) fresh.set(note.id, note);
      if (r.data.next === null) break;
      after = r.data.next;
    }
    notes.clear();
    for (const [id, note] of fresh) notes.set(id, note);
    render();
  } catch (e) {
    show("cannot load notes: " + e.message);
  }
}

// A change from the feed. A note too large for a NOTIFY payload comes as
// {"id": N} alone: fetch it.
async function apply(kind, data) {
  const note = JSON.parse(data);
  if (kind === "deleted") {
    notes.delete(note.id);
  } else if (note.text !== undefined) {
    notes.set(note.id, note);
  } else {
    const r = await api("GET", "/api/notes/" + note.id);
    if (r.ok) notes.set(r.data.id, r.data);
  }
  render();
}

// The feed. The browser reconnects by itself when a stream ends (the
// service ends them when its database connection drops), sending
// Last-Event-ID; a refused connection (503) closes the EventSource, so we
// open another after a pause. Either way the list is reloaded on each
// (re)connection, since updates and deletions are not replayed.
function follow() {
  const feed = new EventSource("/api/notes/events");
  feed.addEventListener("open", () => {
    liveStatus.textContent = "live";
    refresh();
  });
  for (const kind of ["created", "updated", "deleted"]) {
    feed.addEventListener(kind, (event) => apply(kind, event.data));
  }
  feed.addEventListener("error", () => {
    if (feed.readyState === EventSource.CLOSED) {
      liveStatus.textContent = "live updates unavailable, retrying…";
      setTimeout(follow, 3000);
    } else {
      liveStatus.textContent = "reconnecting…";
    }
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = input.value;
  if (text.trim() === "") return;
  const r = await api("POST", "/api/notes", { text });
  if (r.status !== 201) {
    show("add failed: " + why(r));
    return;
  }
  input.value = "";
  notes.set(r.data.id, r.data);
  render();
});

refresh();
follow();
