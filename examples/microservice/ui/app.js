// The notes UI: talks to the JSON API of the same binary.
"use strict";

const list = document.getElementById("notes");
const status = document.getElementById("status");
const form = document.getElementById("add");
const input = document.getElementById("text");

function show(message) {
  status.textContent = message;
}

function render(notes) {
  list.replaceChildren();
  for (const note of notes) {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = note.text;
    const remove = document.createElement("button");
    remove.textContent = "delete";
    remove.title = "delete note " + note.id;
    remove.addEventListener("click", async () => {
      const r = await fetch("/api/notes/" + note.id, { method: "DELETE" });
      if (!r.ok) show("delete failed: " + r.status);
      await refresh();
    });
    item.append(text, " ", remove);
    list.append(item);
  }
  show(notes.length === 0 ? "no notes yet" : notes.length + " note" + (notes.length === 1 ? "" : "s"));
}

async function refresh() {
  try {
    const r = await fetch("/api/notes");
    if (!r.ok) throw new Error("status " + r.status);
    const body = await r.json();
    render(body.notes);
  } catch (e) {
    show("cannot load notes: " + e.message);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (text === "") return;
  const r = await fetch("/api/notes", { method: "POST", body: text });
  if (r.status !== 201) {
    show("add failed: " + r.status);
    return;
  }
  input.value = "";
  await refresh();
});

refresh();
