"""Run inside the Quick-start venv: the CLI on markdown, HTML and WARC input, and `bitext serve` on text/html.

Only the plain install is here (no pytest, no test extras), which is the point: what a new user has.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from models.synthetic import TINY, build_marian_checkpoint

MARKDOWN = """# Le conseil municipal vote le budget

La séance a duré trois heures. Les élus ont adopté le texte à 21 voix contre 8.

Le maire s'est dit « satisfait » du résultat.
"""

HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Budget voté</title></head><body>
<article><h1>Le conseil municipal vote le budget</h1>
<p>La séance a duré trois heures. Les élus ont adopté le texte à une large majorité, après un long débat.</p>
<p>Le maire s'est dit satisfait du résultat et a remercié les services de la ville pour leur travail.</p>
</article></body></html>"""


def bitext(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "service.cli", *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"quickstart: `bitext {' '.join(args)}` exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout


def check_document(raw: str, what: str) -> None:
    result = json.loads(raw)
    translated = [block for block in result["blocks"] if block["translated"]]
    if not translated or not all(block["en"] for block in translated):
        sys.exit(f"quickstart: {what} came back with nothing translated")
    print(f"quickstart: {what}: {len(result['blocks'])} blocks, {result['stats']['sentences']} sentences")


def write_warc(path: Path) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            "https://example.org/budget", "response", payload=io.BytesIO(HTML.encode()), http_headers=headers
        )
        writer.write_record(record)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_server(model: Path) -> None:
    port = free_port()
    env = {**os.environ, "BITEXT_DATA_DIR": str(model.parent / "data")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--model",
            str(model),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health/ready", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"quickstart: bitext serve did not become ready:\n{server.stderr.read().decode()[-3000:]}")
            time.sleep(0.5)
        request = urllib.request.Request(
            f"{base}/v1/translate", data=HTML.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            if reply.status != 200:
                sys.exit(f"quickstart: POST text/html answered {reply.status}")
            check_document(reply.read().decode(), "bitext serve, text/html")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(data: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        french = (data / "corpus.fr.txt").read_text(encoding="utf-8").splitlines()
        english = (data / "corpus.en.txt").read_text(encoding="utf-8").splitlines()
        model = build_marian_checkpoint(root / "model", french, english, TINY)
        (root / "article.md").write_text(MARKDOWN, encoding="utf-8")
        (root / "article.html").write_text(HTML, encoding="utf-8")
        check_document(bitext("translate", str(root / "article.md"), "--model", str(model)), "markdown via the CLI")
        check_document(bitext("translate", str(root / "article.html"), "--model", str(model)), "HTML via the CLI")
        write_warc(root / "pages.warc.gz")
        bitext("batch", str(root / "pages.warc.gz"), "-o", str(root / "out"), "--model", str(model))
        summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
        print(f"quickstart: WARC via bitext batch: {json.dumps(summary.get('documents', summary))[:200]}")
        docs = sorted((root / "out" / "docs").glob("*.json"))
        if len(docs) != 1:
            sys.exit(f"quickstart: WARC batch wrote {len(docs)} documents, expected 1: {summary}")
        check_document(docs[0].read_text(encoding="utf-8"), "WARC document")
        check_server(model)
    print("quickstart: the README's install translates markdown, HTML and WARC, and serves text/html")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
