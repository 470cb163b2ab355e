// Documents in their own format (.srt, .docx, .epub… as the server's config lists them) on the page.
// A dropped or chosen document becomes a one-document job (POST /v1/jobs, the file as the body, the chosen
// layout); the job is followed on its event stream (jobs.js: it shows in the jobs panel too) until it ends,
// then its bilingual JSON is shown with the page's own row renderer
// (window.bitextPage, from bitext.js) and the file written back in its own format is offered for download.
// Every text goes in with textContent; the API key travels as a header only (apiHeaders).
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("bitext-config").textContent).documents;
  const layoutSelect = document.getElementById("layout");
  const link = document.getElementById("download-document");
  let running = false;
  let fileUrl = null;

  const page = () => window.bitextPage;

  function suffixOf(name) {
    const dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot).toLowerCase();
  }

  const accepts = (name) => config.suffixes.includes(suffixOf(name));

  // A refusal as words (the page's own wording for 401, 503 and the error shape), thrown to stop the run.
  class Refused extends Error {}

  async function call(url, options) {
    const response = await fetch(url, { ...options, headers: page().apiHeaders((options && options.headers) || {}) });
    if (!response.ok) throw new Refused(await page().apiError(response));
    return response;
  }

  function progressText(name, job, started) {
    const seconds = Math.round((performance.now() - started) / 1000);
    const { done, total } = job.progress;
    const where = job.status === "queued" ? "waiting for the worker" : `${done} of ${total || 1} document done`;
    return `Translating ${name} (${where})… ${seconds} s`;
  }

  // The job once it is finished, from its event stream; the status line says where it is meanwhile (the
  // seconds counted here, the job's state as the server reports it).
  async function finished(job, name) {
    const started = performance.now();
    let current = job;
    const say = () => page().setStatus(progressText(name, current, started), true);
    say();
    const clock = setInterval(say, 1000);
    try {
      const ended = await window.bitextJobs.watch(job, (latest) => {
        current = latest;
        say();
      });
      if (!ended) throw new Refused(`${name}: the server stopped reporting on its job; see the jobs panel.`);
      return ended;
    } finally {
      clearInterval(clock);
    }
  }

  function hideLink() {
    link.hidden = true;
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    fileUrl = null;
  }

  // The bilingual file, fetched with the key header, behind a plain download link.
  async function offer(url, fallback) {
    const response = await call(url);
    const name = page().downloadName(response, fallback);
    fileUrl = URL.createObjectURL(await response.blob());
    link.href = fileUrl;
    link.download = name;
    link.textContent = `Download ${name}`;
    link.hidden = false;
  }

  async function run(file) {
    const layout = layoutSelect.value;
    const query = new URLSearchParams({ filename: file.name, layout });
    page().setStatus(`Sending ${file.name}…`, true);
    const created = await call(`${config.jobsUrl}?${query}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: file,
    });
    const job = await finished(await created.json(), file.name);
    if (job.status === "cancelled") throw new Refused(`${file.name}: its job was cancelled before it was translated.`);
    if (job.status !== "done") throw new Refused(`${file.name} could not be translated: ${job.error || "the job failed"}.`);
    const { documents } = await (await call(job.links.documents)).json();
    const record = documents[0];
    if (!record) throw new Refused(`${file.name}: the job finished without a document.`);
    if (record.status !== "ok") {
      throw new Refused(`${file.name} was not translated: ${record.message || record.reason} (${record.reason}).`);
    }
    const result = await (await call(`${job.links.documents}/${record.id}`)).json();
    page().show(result);
    const fileLink = record.files && record.files[layout];
    if (fileLink) await offer(fileLink, `${file.name}.${layout}`);
    const stats = result.stats;
    page().setStatus(`Translated ${file.name}: ${stats.sentences} sentences in ${stats.blocks} blocks (${layout}).`, false);
  }

  async function open(file) {
    if (running) return page().showError("A document is being translated already; wait until it is done.");
    running = true;
    hideLink();
    try {
      await run(file);
    } catch (error) {
      page().setStatus("", false);
      page().showError(error instanceof Refused ? error.message : `Could not reach the translation server (${error.message}).`);
    } finally {
      running = false;
    }
  }

  // A text translated next replaces the view: the document's file link no longer belongs to it.
  document.getElementById("input-form").addEventListener("submit", hideLink);
  document.getElementById("source").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) hideLink();
  });

  window.bitextDocuments = { accepts, open, suffixes: config.suffixes };
})();
