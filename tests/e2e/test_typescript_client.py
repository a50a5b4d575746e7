"""The TypeScript client in clients/typescript: its types are generated from the committed openapi.json,
it type-checks under `tsc --strict`, and node drives the whole flow through it against the local stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "clients" / "typescript"
NODE_MODULES = CLIENT / "node_modules"
BIN = NODE_MODULES / ".bin"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are missing: install them (apt-get install nodejs npm) to test the TypeScript client",
)


def run(*command: str | Path, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        check=False,
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed() -> Path:
    """`npm ci` from the committed lockfile, only when node_modules is missing or older than the lockfile."""
    stamp = NODE_MODULES / ".package-lock.json"  # npm writes it on every install
    lock = CLIENT / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        run("npm", "ci", "--no-audit", "--no-fund", "--prefer-offline", timeout=600)
    return NODE_MODULES


@pytest.fixture(scope="module")
def compiled(installed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """src, examples and tests compiled to ES modules beside the package's dependencies."""
    out = tmp_path_factory.mktemp("typescript-client")
    run(BIN / "tsc", "-p", "tsconfig.json", "--outDir", out, "--declaration", "false")
    (out / "package.json").write_text('{"type": "module"}')
    (out / "node_modules").symlink_to(NODE_MODULES)
    return out


def test_the_committed_types_are_generated_from_the_committed_document(installed, tmp_path):
    """A changed openapi.json without `npm run generate` fails here."""
    scripts = json.loads((CLIENT / "package.json").read_text())["scripts"]
    generated = tmp_path / "schema.d.ts"
    # The package's own generate command, writing elsewhere.
    command = scripts["generate"].replace("src/schema.d.ts", str(generated)).split()
    assert command[0] == "openapi-typescript"
    run(BIN / command[0], *command[1:])
    committed = (CLIENT / "src" / "schema.d.ts").read_text()
    assert generated.read_text() == committed, "src/schema.d.ts is stale: run `npm run generate` in clients/typescript"


def test_the_generated_types_make_defaulted_request_fields_optional():
    schema = (CLIENT / "src" / "schema.d.ts").read_text()
    book_create = schema[schema.index("BookCreate: {") :]
    book_create = book_create[: book_create.index("\n        };")]
    assert "artStyle?:" in book_create and "autoIllustrate?:" in book_create
    assert "title: string;" in book_create and "childName: string;" in book_create


def test_the_client_type_checks_strictly(installed):
    config = json.loads((CLIENT / "tsconfig.json").read_text())
    assert config["compilerOptions"]["strict"] is True
    # src, examples and tests/types.ts (compile-time checks: {title, childName} is a createBook body, ...).
    run(BIN / "tsc", "--noEmit", "--strict", "-p", "tsconfig.json")


def test_the_built_package_type_checks_in_a_frontend(installed, tmp_path):
    """`npm run build`, then a project depending on the folder, as the README shows, type-checks strictly."""
    run("npm", "run", "build")
    (tmp_path / "package.json").write_text('{"type": "module", "private": true}')
    (tmp_path / "node_modules" / "@storywink").mkdir(parents=True)
    (tmp_path / "node_modules" / "@storywink" / "client").symlink_to(CLIENT)
    (tmp_path / "app.ts").write_text(
        'import { createStorywinkClient, StorywinkError, subscribeToBook, type Book } from "@storywink/client";\n'
        'const client = createStorywinkClient({ baseUrl: "http://127.0.0.1:8000", getToken: () => "t" });\n'
        'export const book: Promise<Book> = client.createBook({ title: "Our Day", childName: "Zoë" });\n'
        "export const kinds = [StorywinkError, subscribeToBook];\n"
    )
    flags = ["--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext", "--lib", "es2022,dom"]
    run(BIN / "tsc", *flags, tmp_path / "app.ts")


def test_the_subscription_helper_drops_repeats_resumes_pings_and_stops(compiled):
    """subscribeToBook against a scripted WebSocket (tests/live.test.ts, node's test runner)."""
    output = run("node", "--test", "--test-reporter=tap", compiled / "tests" / "live.test.js", timeout=60)
    assert "# pass 3" in output and "# fail 0" in output, output


def test_the_client_sends_its_latest_write_s_consistency_token(compiled):
    """Read-your-writes (README: Read replicas), against a recorded fetch (tests/consistency.test.ts)."""
    output = run("node", "--test", "--test-reporter=tap", compiled / "tests" / "consistency.test.js", timeout=60)
    assert "# pass 1" in output and "# fail 0" in output, output


@pytest.mark.e2e
def test_node_drives_the_whole_flow_through_the_client(compiled, stack, db, sample_photos):
    """Create a book, upload two photos, generate, follow the WebSocket until final, download the PDF."""
    output = run(
        "node",
        compiled / "examples" / "e2e.js",
        timeout=240,
        env={
            "STORYWINK_API_URL": stack.api_url,
            "STORYWINK_WS_URL": stack.websocket_url,
            "STORYWINK_TOKEN": stack.mint_token("ts-client-parent"),
            "STORYWINK_PHOTOS": ",".join(str(photo) for photo in sample_photos[:2]),
            "STORYWINK_TIMEOUT_MS": "180000",
        },
    )
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    frames = [line["frame"] for line in lines if "frame" in line]
    summary = next(line["summary"] for line in lines if "summary" in line)
    assert frames[0]["type"] == "snapshot" and frames[0]["status"] == "DRAFT"
    assert summary["status"] in {"COMPLETED", "PARTIAL"}, summary
    assert frames[-1]["event"] == "book.finished" and frames[-1]["pdfReady"] is True
    assert summary["events"] == list(range(summary["events"][0], summary["events"][0] + len(summary["events"])))
    assert summary["pdfBytes"] > 1000
    assert summary["notFound"] == "BOOK_NOT_FOUND"
