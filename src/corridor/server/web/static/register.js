// Registration: keyboard first. Enter goes to the next person (adding a row at the end),
// Ctrl+Enter (or Cmd+Enter) registers the household; the gathering point is remembered.
"use strict";
(function () {
  const print = document.getElementById("print-bands");
  if (print) print.addEventListener("click", () => window.print());

  const form = document.getElementById("register-form");
  if (!form) return;
  const people = document.getElementById("people");
  const template = document.getElementById("person-template");
  const point = document.getElementById("gathering_point");
  const key = "corridor-register-point-" + form.dataset.operation;
  let next = 1;

  const saved = localStorage.getItem(key);
  if (saved !== null && [...point.options].some((o) => o.value === saved)) point.value = saved;
  point.addEventListener("change", () => localStorage.setItem(key, point.value));

  function addRow() {
    const n = people.children.length + 1;
    const html = template.innerHTML.replaceAll("__i__", String(next++)).replaceAll("__n__", String(n));
    people.insertAdjacentHTML("beforeend", html);
    const row = people.lastElementChild;
    htmx.process(row);
    row.querySelector(".name").focus();
  }

  document.getElementById("add-person").addEventListener("click", addRow);

  form.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.isComposing) return;
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      form.requestSubmit();
      return;
    }
    const row = e.target.closest(".person");
    if (!row || e.target.tagName === "BUTTON") return;
    e.preventDefault();
    const following = row.nextElementSibling;
    if (following) following.querySelector(".name").focus();
    else addRow();
  });

  form.addEventListener("htmx:beforeRequest", (e) => {
    if (e.detail.elt === form) corridorForms.clear(form);
  });

  form.addEventListener("htmx:afterRequest", (e) => {
    if (e.detail.elt !== form) return;
    if (e.detail.xhr.status === 201) {
      people.replaceChildren();
      addRow();
    } else if (e.detail.xhr.status) {
      corridorForms.mark(form);
    }
  });

  // Without a network the household is kept on this phone and sent later (outbox.js); the form
  // is emptied for the next household all the same.
  const result = document.getElementById("register-result");
  if (window.corridorOutbox) {
    corridorOutbox.attach(form, "register", (said) => {
      people.replaceChildren();
      addRow();
      for (const id of ["tracing_relative"]) { const field = document.getElementById(id); if (field) field.value = ""; }
      const note = document.createElement("p");
      note.className = "alert warn";
      note.id = "register-kept";
      note.textContent = said;
      result.replaceChildren(note);
    }, (words) => {
      // A family tracing code is given by the server: without a network the relative would never
      // get it. The household waits here until the relative's name is emptied or the phone is online.
      const relative = document.getElementById("tracing_relative");
      if (!relative || !relative.value.trim()) return false;
      const note = document.createElement("p");
      note.className = "alert error";
      note.id = "register-tracing-offline";
      note.setAttribute("role", "alert");
      note.textContent = words.tracing;
      result.replaceChildren(note);
      relative.focus();
      return true;
    });
  }

  // Ready to type: the first person's name (the gathering point is remembered from the last one).
  people.querySelector(".name").focus();
})();
