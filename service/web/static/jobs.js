// Jobs in the page: an archive (.zip, .tar, .warc, .jsonl…) or several documents dropped or chosen become one
// job (POST /v1/jobs; several files are first packed into one stored zip, below). The jobs panel lists the key's
// jobs (GET /v1/jobs) and follows each one in flight on its NDJSON event stream (GET /v1/jobs/{id}/events: the
// server says when progress moves; nothing is polled); a running job can be cancelled (POST …/cancel); a
// finished one lists its documents: each opens side by side in the page (window.bitextPage.show) and each of its
// files (bilingual documents, the HTML page) and the job's zip download with the key sent as a header.
// Every text goes in with textContent.
"use strict";

(() => {
  const all = JSON.parse(document.getElementById("bitext-config").textContent);
  const config = all.jobs;
  const byId = (id) => document.getElementById(id);
  const panel = byId("jobs"); // a <details>: folded while a document is read, its summary counting the jobs
  const panelHead = byId("jobs-head");
  const list = byId("job-list");
  const layoutSelect = byId("layout");
  const keyInput = byId("api-key");
  const following = new Map(); // job id → its event stream: { controller, listeners, done }
  const RETRIES = 5;

  const page = () => window.bitextPage;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  class Refused extends Error {}

  async function call(url, options) {
    const response = await fetch(url, { ...options, headers: page().apiHeaders((options && options.headers) || {}) });
    if (!response.ok) throw new Refused(await page().apiError(response));
    return response;
  }

  const isArchive = (name) => config.archiveSuffixes.some((suffix) => name.toLowerCase().endsWith(suffix));
  const accepts = (files) => files.length > 1 || (files.length === 1 && isArchive(files[0].name));

  // ---- several files → one zip (stored, no compression: the server reads it like any other) --------------
  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  function header(size, fields) {
    const view = new DataView(new ArrayBuffer(size));
    for (const [offset, bytes, value] of fields) {
      if (bytes === 2) view.setUint16(offset, value, true);
      else view.setUint32(offset, value, true);
    }
    return view;
  }

  async function zipOf(files) {
    const encoder = new TextEncoder();
    const parts = [];
    const central = [];
    const names = new Set();
    let offset = 0;
    for (const file of files) {
      let name = file.name;
      for (let k = 2; names.has(name); k++) name = `${k}-${file.name}`; // two files of one name: both kept
      names.add(name);
      const data = new Uint8Array(await file.arrayBuffer());
      const encoded = encoder.encode(name);
      const crc = crc32(data);
      const DATE = 0x21; // 1980-01-01, the format's first day
      const UTF8 = 0x0800; // the name is UTF-8
      parts.push(
        header(30, [[0, 4, 0x04034b50], [4, 2, 20], [6, 2, UTF8], [12, 2, DATE], [14, 4, crc], [18, 4, data.length],
          [22, 4, data.length], [26, 2, encoded.length]]),
        encoded,
        data,
      );
      central.push(
        header(46, [[0, 4, 0x02014b50], [4, 2, 20], [6, 2, 20], [8, 2, UTF8], [14, 2, DATE], [16, 4, crc],
          [20, 4, data.length], [24, 4, data.length], [28, 2, encoded.length], [42, 4, offset]]),
        encoded,
      );
      offset += 30 + encoded.length + data.length;
    }
    const size = central.reduce((sum, part) => sum + part.byteLength, 0);
    const end = header(22, [[0, 4, 0x06054b50], [8, 2, files.length], [10, 2, files.length], [12, 4, size], [16, 4, offset]]);
    return new Blob([...parts, ...central, end], { type: "application/zip" });
  }

  function stem(name) {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(0, dot) : name;
  }

  // ---- submitting --------------------------------------------------------------------------------------
  async function submit(files) {
    let body = files[0];
    let name = files[0].name;
    if (files.length > 1) {
      page().setStatus(`Packing ${files.length} files into one job…`, true);
      body = await zipOf(files);
      name = `${stem(files[0].name)}-and-${files.length - 1}-more.zip`;
    }
    const query = new URLSearchParams({ filename: name, layout: layoutSelect.value });
    page().setStatus(`Sending ${name}…`, true);
    try {
      const response = await call(`${config.url}?${query}`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body,
      });
      const job = await response.json();
      panel.hidden = false;
      panel.open = true;
      place(job, null, true);
      follow(job);
      const what = files.length > 1 ? `${files.length} files` : name;
      page().setStatus(`${what}: sent as a job; its progress is in the jobs panel.`, false);
      panel.scrollIntoView({ block: "nearest" });
    } catch (error) {
      page().setStatus("", false);
      page().showError(error instanceof Refused ? error.message : `${name} could not be sent (${error.message}).`);
    }
  }

  // ---- the panel ----------------------------------------------------------------------------------------
  const STATUS_WORDS = {
    queued: "waiting",
    running: "running",
    cancelling: "stopping",
    cancelled: "cancelled",
    done: "done",
    failed: "failed",
  };
  const inFlight = (job) => job.status === "queued" || job.status === "running" || job.status === "cancelling";

  function duration(seconds) {
    if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

  function progressWords(job, pace) {
    const { total, done, ok, failed, skipped, sentences } = job.progress;
    if (job.status === "queued") return "Waiting for the worker: jobs run one at a time.";
    if (job.status === "failed") return `Failed: ${job.error || "the job could not be read"}.`;
    const counted = total ? `${done} of ${plural(total, "document")}` : plural(done, "document");
    const parts = [counted, plural(sentences, "sentence")];
    if (job.status === "running" && pace) {
      if (pace.sentences_per_second) parts.push(`${pace.sentences_per_second.toFixed(1)} sentences/s`);
      if (pace.seconds_left) parts.push(`about ${duration(pace.seconds_left)} left`);
    }
    if (job.status === "cancelling") parts.push("stopping after the document in hand");
    if (job.status === "cancelled") parts.push(`cancelled; the ${plural(ok, "translated document")} stay below`);
    if (job.status === "done") {
      const missed = failed + skipped;
      if (missed) parts.push(`${missed} not translated (see below)`);
      if (job.error) parts.push(job.error);
    }
    return parts.join(" · ");
  }

  function item(job) {
    let node = list.querySelector(`li[data-job="${CSS.escape(job.id)}"]`);
    if (node) return node;
    node = el("li", { class: "job", "data-job": job.id },
      el("div", { class: "job-head" },
        el("span", { class: "job-name" }, job.filename),
        el("span", { class: "job-status" }),
        el("button", { type: "button", class: "job-cancel", hidden: "" }, "Cancel")),
      el("progress", { class: "job-bar", max: 1, value: 0 }),
      el("p", { class: "job-progress", "aria-live": "polite" }),
      el("div", { class: "job-files" }));
    node.querySelector(".job-cancel").addEventListener("click", () => cancel(node));
    return node;
  }

  // "Jobs · 1 running, 3 done": the panel's one line, which is all that shows while it is folded.
  function count() {
    const counts = new Map();
    for (const node of list.querySelectorAll(".job")) {
      const word = STATUS_WORDS[node.dataset.status] || node.dataset.status;
      counts.set(word, (counts.get(word) || 0) + 1);
    }
    const parts = [...counts].map(([word, n]) => `${n} ${word}`);
    panelHead.textContent = parts.length ? `Jobs · ${parts.join(", ")}` : "Jobs";
  }

  // The job drawn (new ones first); `pace` from its event stream.
  function place(job, pace, first) {
    const node = item(job);
    if (!node.isConnected) {
      if (first) list.prepend(node);
      else list.append(node);
    }
    node.job = job;
    node.dataset.status = job.status;
    node.querySelector(".job-status").textContent = STATUS_WORDS[job.status] || job.status;
    const bar = node.querySelector(".job-bar");
    bar.max = Math.max(1, job.progress.total);
    bar.value = job.progress.done;
    bar.hidden = !inFlight(job) || job.status === "queued";
    node.querySelector(".job-progress").textContent = progressWords(job, pace);
    node.querySelector(".job-cancel").hidden = !(job.status === "queued" || job.status === "running");
    count();
    return node;
  }

  async function cancel(node) {
    const button = node.querySelector(".job-cancel");
    button.disabled = true;
    try {
      const answer = await (await call(node.job.links.cancel, { method: "POST" })).json();
      place(answer, null, false);
      if (!inFlight(answer)) await finished(answer);
    } catch (error) {
      page().showError(error instanceof Refused ? error.message : `The job could not be cancelled (${error.message}).`);
    } finally {
      button.disabled = false;
    }
  }

  // ---- following a job: its NDJSON events -------------------------------------------------------------
  // One stream per job however many ask (the panel, documents.js); each asker may listen to its progress.
  // Resolves to the finished job, or null when the stream could not be kept (or the list was reloaded).
  function follow(job, listener) {
    let entry = following.get(job.id);
    if (!entry) {
      entry = { controller: new AbortController(), listeners: [] };
      following.set(job.id, entry);
      entry.done = run(job, entry);
    }
    if (listener) entry.listeners.push(listener);
    return entry.done;
  }

  async function run(job, entry) {
    const progressed = (latest, pace) => {
      place(latest, pace, false);
      for (const listener of entry.listeners) listener(latest);
    };
    try {
      for (let attempt = 0; attempt < RETRIES; attempt++) {
        const ended = await readEvents(job, entry.controller.signal, progressed).catch((error) => {
          if (error.name === "AbortError" || error instanceof Refused) throw error;
          return null; // the connection dropped: start again (the stream begins with where the job is)
        });
        if (ended) {
          await finished(ended);
          return ended;
        }
        await sleep(1000 * (attempt + 1));
      }
      const node = item(job);
      node.querySelector(".job-progress").textContent += " · lost contact with the server; reload the page to follow it";
    } catch (error) {
      if (error.name !== "AbortError") page().showError(error instanceof Refused ? error.message : String(error.message));
    } finally {
      if (following.get(job.id) === entry) following.delete(job.id);
    }
    return null;
  }

  // Reads the stream to its end; the finished job, or null if the stream stopped before.
  async function readEvents(job, signal, progressed) {
    const response = await call(job.links.events, { signal });
    for await (const event of page().ndjsonEvents(response)) {
      if (event.type === "progress") progressed(event.job, event.pace);
      else if (event.type === "end") return event.job;
      else if (event.type === "error") throw new Refused(`Job ${job.filename}: ${event.error.message}.`);
    }
    return null;
  }

  // A job sent by another part of the page (documents.js: one document): shown in the panel, followed there.
  function watch(job, listener) {
    panel.hidden = false;
    place(job, null, true);
    return follow(job, listener);
  }

  // ---- a finished job's documents --------------------------------------------------------------------
  // A finished job: its documents (fetched at once for a job watched to its end; on first opening for the
  // jobs listed when the page loads, so a long list costs one request, not one per job) and its zip.
  async function finished(job, eager = true) {
    const node = place(job, null, false);
    const files = node.querySelector(".job-files");
    files.replaceChildren();
    if (job.status !== "done" && job.status !== "cancelled") return;
    const details = el("details", { class: "job-docs" }, el("summary", {}, "Documents"));
    files.append(details);
    if (job.status === "done") {
      const zip = el("button", { type: "button", class: "job-zip" }, "Download all (.zip)");
      zip.addEventListener("click", () => download(job.links.download, `bitext-${job.id}.zip`));
      files.append(zip);
    }
    let loaded = null;
    const load = () => {
      loaded = loaded || listDocuments(job, details);
      return loaded;
    };
    details.addEventListener("toggle", () => details.open && load());
    if (eager) await load();
  }

  async function listDocuments(job, details) {
    try {
      const { documents } = await (await call(job.links.documents)).json();
      const translated = documents.filter((record) => record.status === "ok");
      const missed = documents.length - translated.length;
      details.querySelector("summary").textContent =
        `${plural(translated.length, "translated document")}${missed ? `, ${missed} not` : ""}`;
      const rows = el("ul", { class: "job-doc-list" });
      for (const record of documents) rows.append(documentRow(job, record));
      details.append(rows);
      if (documents.length <= 3) details.open = true;
    } catch (error) {
      page().showError(error instanceof Refused ? error.message : `The job's documents could not be listed (${error.message}).`);
    }
  }

  function documentRow(job, record) {
    const row = el("li", { class: "job-doc", "data-doc": record.id || "" }, el("span", { class: "job-doc-name" }, record.name || record.id));
    if (record.status !== "ok") {
      row.append(el("span", { class: "job-doc-why" }, `not translated: ${record.message || record.reason || record.status}`));
      return row;
    }
    const openButton = el("button", { type: "button", class: "job-open" }, "Side by side");
    openButton.addEventListener("click", () => open(job, record));
    row.append(openButton);
    for (const [layout, url] of Object.entries(record.files || {})) {
      const suffix = (record.name || "").split(".").pop().toUpperCase();
      const button = el("button", { type: "button", class: "job-file", "data-layout": layout }, `${suffix} (${layout})`);
      button.addEventListener("click", () => download(url, `${stem(record.name || "document")}.${layout}`));
      row.append(button);
    }
    if (record.html) {
      const pageButton = el("button", { type: "button", class: "job-html" }, "HTML page");
      pageButton.addEventListener("click", () => download(`${job.links.documents}/${record.id}?format=html`, `${stem(record.name || "document")}.html`));
      row.append(pageButton);
    }
    return row;
  }

  async function open(job, record) {
    try {
      const result = await (await call(`${job.links.documents}/${record.id}`)).json();
      page().show(result);
      panel.open = false; // the document takes the screen; the panel's line still says how the jobs go
      const stats = result.stats || {};
      page().setStatus(`${record.name} from ${job.filename}: ${plural(stats.sentences || 0, "sentence")}, side by side below.`, false);
      document.getElementById("result").scrollIntoView({ block: "start" });
    } catch (error) {
      page().showError(error instanceof Refused ? error.message : `${record.name} could not be opened (${error.message}).`);
    }
  }

  // A file fetched with the key header, saved under the name the server gives it.
  async function download(url, fallback) {
    try {
      const response = await call(url);
      const name = page().downloadName(response, fallback);
      const href = URL.createObjectURL(await response.blob());
      const link = el("a", { href, download: name, hidden: "" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
    } catch (error) {
      page().showError(error instanceof Refused ? error.message : `The file could not be downloaded (${error.message}).`);
    }
  }

  // ---- the key's jobs at start, and again when the key changes ------------------------------------------
  async function load() {
    // The panel's own streams of jobs the key now given does not list stop (another key's jobs); a job it
    // lists that the page follows goes on being followed, so a job dropped just before the key settled
    // still opens its documents when it ends. A stream a part of the page waits on (documents.js, a
    // document in flight) always goes on: it was started for the reader's latest action.
    const stopOthers = (kept) => {
      for (const [id, entry] of following) {
        if (entry.listeners.length || kept.has(id)) continue;
        entry.controller.abort();
        following.delete(id);
      }
    };
    let jobs;
    try {
      const response = await fetch(config.url, { headers: page().apiHeaders({}) });
      if (!response.ok) {
        stopOthers(new Set());
        list.replaceChildren();
        panel.hidden = true; // no key yet, or a wrong one: the panel waits
        return;
      }
      jobs = (await response.json()).jobs;
    } catch {
      return; // the server is away: the page says so when asked to do something
    }
    const listed = new Set(jobs.map((job) => job.id));
    stopOthers(listed);
    // a job still listed keeps its row (and the documents it shows); the others are another key's
    for (const node of list.querySelectorAll(".job")) {
      if (!following.has(node.dataset.job) && !listed.has(node.dataset.job)) node.remove();
    }
    panel.hidden = jobs.length === 0 && following.size === 0;
    for (const job of jobs) {
      if (following.has(job.id)) continue; // its stream places it and lists its documents when it ends
      const shown = list.querySelector(`li[data-job="${CSS.escape(job.id)}"]`);
      if (shown && shown.job && !inFlight(shown.job) && inFlight(job)) continue; // a listing older than its end
      const node = place(job, null, false);
      if (inFlight(job)) follow(job);
      // a job this page already shows finished keeps its list: a listing that crossed its end does not fold it
      else if (!node.querySelector(".job-docs")) finished(job, false);
    }
  }

  let keyTimer = null;
  keyInput.addEventListener("input", () => {
    clearTimeout(keyTimer);
    keyTimer = setTimeout(load, 400);
  });

  window.bitextJobs = { accepts, submit, watch, archiveSuffixes: config.archiveSuffixes, reload: load };
  // bitext.js defines window.bitextPage as it runs; the scripts are deferred, in order.
  load();
})();
