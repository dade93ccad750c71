// kumo dashboard: live server state, image upload progress, the serial
// terminal, delete confirmations. No framework, no build step.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";

  // Confirm destructive forms.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  // Live state: poll the dashboard's status endpoint and update the cells
  // (data-field) and the action buttons (data-action) in place.
  function applyStatus(root, st) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      const v = st[el.dataset.field];
      if (v !== undefined) el.textContent = String(v);
    });
    root.querySelectorAll("button[data-action]").forEach(function (b) {
      const key = b.dataset.action;
      const refusal = key === "delete" ? st.delete : (st.actions || {})[key];
      if (refusal === undefined) return;
      b.disabled = refusal !== "";
      b.title = refusal;
    });
  }
  function poll(el, onData) {
    let stopped = false;
    async function tick() {
      if (stopped) return;
      try {
        const r = await fetch(el.dataset.poll, {headers: {"X-Requested-With": "XMLHttpRequest"}, credentials: "same-origin"});
        if (r.status === 401) { window.location = "/dashboard/login"; return; }
        if (r.status === 404) { onData(null); }
        else if (r.ok) { onData(await r.json()); }
      } catch (e) { /* the next tick retries */ }
      setTimeout(tick, 2000);
    }
    setTimeout(tick, 2000);
  }
  const list = document.querySelector("table#servers[data-poll]");
  if (list) {
    poll(list, function (data) {
      if (!data) return;
      const seen = {};
      data.servers.forEach(function (st) {
        seen[st.id] = true;
        const row = list.querySelector('tr[data-id="' + CSS.escape(st.id) + '"]');
        if (row) applyStatus(row, st);
      });
      list.querySelectorAll("tr[data-id]").forEach(function (row) {
        if (!seen[row.dataset.id]) row.classList.add("gone");
      });
    });
  }
  const one = document.querySelector("#server[data-poll]");
  if (one) {
    poll(one, function (st) {
      if (!st) { one.classList.add("gone"); const s = document.getElementById("status"); if (s) s.textContent = "DELETED"; return; }
      applyStatus(one, st);
    });
  }

  // Image upload: create the image record, then PUT the file to the
  // dashboard, which streams it on to Glance; progress from XHR events.
  const up = document.getElementById("upload");
  if (up) {
    up.addEventListener("submit", async function (e) {
      e.preventDefault();
      const bar = document.getElementById("upload-progress");
      const state = document.getElementById("upload-state");
      const fd = new FormData(up);
      const file = fd.get("file");
      const meta = new URLSearchParams();
      ["name", "disk_format", "container_format", "visibility"].forEach(function (k) { meta.set(k, fd.get(k)); });
      meta.set("csrf", up.dataset.csrf);
      state.textContent = "creating the image…";
      const r = await fetch("/dashboard/images", {method: "POST", body: meta, credentials: "same-origin",
        headers: {"X-Requested-With": "XMLHttpRequest"}});
      const created = await r.json().catch(function () { return {}; });
      if (!r.ok) { state.textContent = "Error: " + (created.error || r.status); return; }
      bar.hidden = false;
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", "/dashboard/images/" + encodeURIComponent(created.id) + "/file");
      xhr.setRequestHeader("X-CSRF-Token", up.dataset.csrf);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          bar.value = Math.round(ev.loaded * 100 / ev.total);
          state.textContent = bar.value + "%";
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100; state.textContent = "uploaded"; window.location.reload();
        } else {
          let msg = xhr.status;
          try { msg = JSON.parse(xhr.responseText).error; } catch (_) { msg = xhr.responseText || msg; }
          state.textContent = "Error: " + msg;
        }
      };
      xhr.onerror = function () { state.textContent = "Error: the upload broke off"; };
      xhr.send(file);
    });
  }

  // Serial terminal: the console's websocket both ways. Output is
  // appended to the pre (escape sequences dropped); keys are sent as the
  // bytes a terminal sends.
  const term = document.getElementById("terminal");
  if (term) {
    const stateEl = document.getElementById("term-state");
    // No subprotocol asked: Chromium refuses a handshake whose answer
    // names none when one was asked, and console proxies differ there.
    const ws = new WebSocket(term.dataset.url);
    ws.binaryType = "arraybuffer";
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    ws.onopen = function () { stateEl.textContent = "connected"; term.focus(); };
    ws.onclose = function () { stateEl.textContent = "disconnected"; };
    ws.onerror = function () { stateEl.textContent = "connection error"; };
    ws.onmessage = function (ev) {
      let text;
      if (typeof ev.data === "string") {
        text = ev.data;
      } else {
        text = dec.decode(new Uint8Array(ev.data), {stream: true});
      }
      text = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r\n/g, "\n");
      for (const ch of text) {
        if (ch === "\b" || ch === "\x7f") term.textContent = term.textContent.slice(0, -1);
        else if (ch !== "\r" && ch !== "\x07") term.textContent += ch;
      }
      if (term.textContent.length > 200000) term.textContent = term.textContent.slice(-100000);
      term.scrollTop = term.scrollHeight;
    };
    const keys = {Enter: "\r", Backspace: "\x7f", Tab: "\t", Escape: "\x1b",
      ArrowUp: "\x1b[A", ArrowDown: "\x1b[B", ArrowRight: "\x1b[C", ArrowLeft: "\x1b[D",
      Home: "\x1b[H", End: "\x1b[F", Delete: "\x1b[3~"};
    function send(s) {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(enc.encode(s));
    }
    term.addEventListener("keydown", function (e) {
      let s = keys[e.key];
      if (!s && e.ctrlKey && e.key.length === 1) {
        const c = e.key.toUpperCase().charCodeAt(0);
        if (c >= 64 && c <= 95) s = String.fromCharCode(c - 64);
      }
      if (!s && !e.ctrlKey && !e.metaKey && e.key.length === 1) s = e.key;
      if (s) { e.preventDefault(); send(s); }
    });
    term.addEventListener("paste", function (e) {
      e.preventDefault();
      send((e.clipboardData || window.clipboardData).getData("text"));
    });
  }
})();
