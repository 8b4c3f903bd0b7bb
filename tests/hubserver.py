"""A Hugging Face Hub look-alike on 127.0.0.1 for offline tests of the real client.

It speaks the HTTP API that ``huggingface_hub`` uses for what hfsent does (with
``HF_HUB_DISABLE_XET=1``): create repo and branch, preupload, the git-LFS batch API with
basic transfer, ndjson commits, repo/revision info, tree listing, and resolve (HEAD/GET).
Files matching ``LFS_SUFFIXES`` are answered ``lfs`` by preupload, as the Hub does for
binary weights, so the LFS upload path runs.  Everything lives in memory.

``faults`` lets a test make the next requests fail: each entry ``(method, path_regex,
status)`` answers one matching request with ``status`` (a status of 0 cuts the
connection).  ``tokens_seen`` records every bearer token received.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import yaml

LFS_SUFFIXES = (".h5", ".png", ".bin", ".safetensors")
_REPO = r"(?P<repo>[^/]+/[^/]+)"
_REV = r"(?P<rev>[^/]+)"


def git_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _widget_problems(entry) -> list[str]:
    """What the Hub's schema says against one text-classification widget example: a ``text``
    string, an optional ``example_title`` string, and an optional ``output`` list of
    ``{label: str, score: number}``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        return ["needs a text string"]
    problems = [] if isinstance(entry.get("example_title", ""), str) else ["example_title must be a string"]
    output = entry.get("output", [])
    if not isinstance(output, list) or not all(
            isinstance(o, dict) and set(o) == {"label", "score"} and isinstance(o["label"], str)
            and isinstance(o["score"], (int, float)) and not isinstance(o["score"], bool) for o in output):
        problems.append("output must be a list of {label: string, score: number}")
    return problems


def _front_matter(readme: bytes) -> dict:
    """A README's YAML front matter, as the Hub gives it in a repo's ``cardData``."""
    front = re.match(r"---\n(.*?)\n---", readme.decode("utf-8", "replace"), re.DOTALL)
    try:
        data = yaml.safe_load(front.group(1)) if front else {}
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


class Repo:
    def __init__(self, repo_id: str, private: bool, sdk: str | None = None):
        self.repo_id, self.private, self.sdk = repo_id, private, sdk
        self.commits: dict[str, dict] = {}
        self.branches: dict[str, str] = {}
        initial = {".gitattributes": {"content": b"*.h5 filter=lfs diff=lfs merge=lfs -text\n", "lfs": False}}
        self.branches["main"] = self.add_commit(None, initial, "initial commit")

    def add_commit(self, parent: str | None, files: dict, message: str) -> str:
        sha = hashlib.sha1(json.dumps([parent, message, len(self.commits),
                                       sorted(files)]).encode()).hexdigest()
        self.commits[sha] = {"parent": parent, "files": files, "message": message}
        return sha

    def resolve(self, rev: str) -> str | None:
        if rev in self.branches:
            return self.branches[rev]
        return rev if rev in self.commits else None


class HubState:
    def __init__(self):
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.faults: list[tuple[str, str, int]] = []
        self.tokens_seen: list[str] = []
        self.required_token: str | None = None
        self.requests: list[str] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: HubState  # set on the subclass made by FakeHub

    def log_message(self, *args):  # keep pytest output clean
        pass

    # -- plumbing ---------------------------------------------------------------------
    def _send(self, status: int, body: bytes | dict | list = b"", headers: dict | None = None,
              head: bool = False) -> None:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str, head: bool = False) -> None:
        self._send(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}, head)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _dispatch(self, method: str) -> None:
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        st = self.state
        st.requests.append(f"{method} {path}")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            st.tokens_seen.append(auth[7:])
        body = self._body() if method in ("POST", "PUT") else b""
        with st.lock:
            for i, (m, pattern, status) in enumerate(st.faults):
                if m == method and re.search(pattern, path):
                    del st.faults[i]
                    if status == 0:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    return self._error(status, "Fault", f"injected {status}", method == "HEAD")
        writing = method in ("POST", "PUT")
        if writing and st.required_token is not None and auth != f"Bearer {st.required_token}":
            return self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
        for route_method, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method.replace("HEAD", "GET") and match:
                with st.lock:
                    groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    return handler(self, method == "HEAD", body, query, **groups)
        self._error(404, "NotFound", f"no route for {method} {path}")

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _repo(self, repo: str, head: bool = False) -> Repo | None:
        """A repo by its key: ``USER/NAME`` for a model, ``spaces/USER/NAME`` for a Space."""
        if repo not in self.state.repos:
            self._error(404, "RepoNotFound", f"Repository {repo} not found", head)
            return None
        return self.state.repos[repo]

    def _files_at(self, repo: str, rev: str, head: bool = False) -> tuple[Repo, str, dict] | None:
        r = self._repo(repo, head)
        if r is None:
            return None
        sha = r.resolve(rev)
        if sha is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}", head)
            return None
        return r, sha, r.commits[sha]["files"]

    # -- routes -----------------------------------------------------------------------
    def create_repo(self, head, body, query):
        data = json.loads(body)
        repo_id = f"{data.get('organization') or 'tester'}/{data['name']}"
        if data.get("type") == "space":
            if not data.get("sdk"):
                return self._error(400, "BadRequest", "a Space needs an sdk")
            repo_id = f"spaces/{repo_id}"
        if repo_id in self.state.repos:
            # the Hub's 409 names the existing repo, which create_repo(exist_ok=True) returns
            return self._send(409, {"error": "You already created this model repo",
                                    "url": f"{self.base}/{repo_id}"})
        self.state.repos[repo_id] = Repo(repo_id, data.get("visibility") == "private", data.get("sdk"))
        self._send(200, {"url": f"{self.base}/{repo_id}", "name": repo_id})

    def create_branch(self, head, body, query, repo, branch):
        r = self._repo(repo)
        if r is None:
            return
        if branch in r.branches:
            return self._error(409, "Conflict", "Reference already exists")
        start = (json.loads(body) if body else {}).get("startingPoint") or "main"
        r.branches[branch] = r.resolve(start)
        self._send(200, {})

    def preupload(self, head, body, query, repo, rev):
        found = self._files_at(repo, rev)
        if found is None:
            return
        files = found[2]
        out = []
        for f in json.loads(body)["files"]:
            existing = files.get(f["path"])
            lfs = f["path"].endswith(LFS_SUFFIXES)
            oid = None
            if existing is not None:
                oid = existing["sha256"] if existing["lfs"] else git_oid(existing["content"])
            out.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular",
                        "shouldIgnore": False, "oid": oid})
        self._send(200, {"files": out})

    def lfs_batch(self, head, body, query, repo):
        if self._repo(repo) is None:
            return
        objects = []
        for obj in json.loads(body)["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.state.lfs:
                entry["actions"] = {"upload": {"href": f"{self.base}/lfs-upload/{obj['oid']}", "header": {}}}
            objects.append(entry)
        self._send(200, {"transfer": "basic", "objects": objects},
                   {"Content-Type": "application/vnd.git-lfs+json"})

    def lfs_upload(self, head, body, query, oid):
        if hashlib.sha256(body).hexdigest() != oid:
            return self._error(400, "BadRequest", "sha256 mismatch")
        self.state.lfs[oid] = body
        self._send(200, {})

    def commit(self, head, body, query, repo, rev):
        found = self._files_at(repo, rev)
        if found is None:
            return
        r, sha, files = found
        files = dict(files)
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = next(x["value"] for x in lines if x["key"] == "header")
        if header.get("parentCommit") and header["parentCommit"] != sha:
            return self._error(412, "PreconditionFailed", "parent commit is not the branch head")
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = {"content": base64.b64decode(value["content"]), "lfs": False}
            elif key == "lfsFile":
                if value["oid"] not in self.state.lfs:
                    return self._error(400, "BadRequest", f"LFS object {value['oid']} was never uploaded")
                files[value["path"]] = {"content": self.state.lfs[value["oid"]], "lfs": True,
                                        "sha256": value["oid"]}
            elif key == "deletedFile":
                files.pop(value["path"], None)
        branch = rev
        new = r.add_commit(sha, files, header["summary"])
        r.branches[branch if branch in r.branches else "main"] = new
        self._send(200, {"commitUrl": f"{self.base}/{repo}/commit/{new}", "commitOid": new,
                         "pullRequestUrl": None})

    def revision_info(self, head, body, query, repo, rev="main"):
        found = self._files_at(repo, rev)
        if found is None:
            return
        r, sha, files = found
        card = _front_matter(files.get("README.md", {}).get("content", b""))
        license_tags = [f"license:{card['license']}"] if "license" in card else []
        self._send(200, {"id": repo, "modelId": repo, "sha": sha, "private": r.private,
                         "siblings": [{"rfilename": p} for p in sorted(files)],
                         "cardData": card, "tags": license_tags})

    def tree(self, head, body, query, repo, rev, subpath=""):
        found = self._files_at(repo, rev)
        if found is None:
            return
        entries = []
        for p, f in sorted(found[2].items()):
            if subpath and not p.startswith(subpath.strip("/") + "/"):
                continue
            entry = {"type": "file", "path": p, "size": len(f["content"]), "oid": git_oid(f["content"])}
            if f["lfs"]:
                entry["lfs"] = {"oid": f["sha256"], "size": len(f["content"]), "pointerSize": 130}
            entries.append(entry)
        self._send(200, entries)

    def resolve(self, head, body, query, repo, rev, filename):
        found = self._files_at(repo, rev, head)
        if found is None:
            return
        r, sha, files = found
        if filename not in files:
            return self._error(404, "EntryNotFound", f"{filename} does not exist at {rev}", head)
        f = files[filename]
        headers = {"X-Repo-Commit": sha, "ETag": f'"{git_oid(f["content"])}"',
                   "Content-Type": "application/octet-stream"}
        if f["lfs"]:
            headers.update({"X-Linked-Etag": f'"{f["sha256"]}"', "X-Linked-Size": str(len(f["content"]))})
        self._send(200, f["content"], headers, head)

    def validate_yaml(self, head, body, query):
        content = json.loads(body).get("content", "")
        front = re.match(r"---\n(.*?)\n---", content, re.DOTALL)
        try:
            meta = yaml.safe_load(front.group(1) if front else content) or {}
        except yaml.YAMLError as err:
            return self._send(400, {"errors": [{"message": f"invalid YAML: {err}"}]})
        errors = [{"message": "model-index entries need a name"}
                  for entry in meta.get("model-index", []) if "name" not in entry]
        errors += [{"message": f"widget[{i}]: {problem}"} for i, entry in enumerate(meta.get("widget", []))
                   for problem in _widget_problems(entry)]
        self._send(400 if errors else 200, {"errors": errors, "warnings": []})

    def whoami(self, head, body, query):
        self._send(200, {"type": "user", "name": "tester", "auth": {"type": "access_token"}})

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


ROUTES = [
    ("POST", r"/api/repos/create", Handler.create_repo),
    ("POST", rf"/api/models/{_REPO}/branch/(?P<branch>.+)", Handler.create_branch),
    ("POST", rf"/api/models/{_REPO}/preupload/{_REV}", Handler.preupload),
    ("POST", rf"/{_REPO}\.git/info/lfs/objects/batch", Handler.lfs_batch),
    ("PUT", r"/lfs-upload/(?P<oid>[0-9a-f]{64})", Handler.lfs_upload),
    ("POST", rf"/api/models/{_REPO}/commit/{_REV}", Handler.commit),
    # Spaces: the same handlers, the repo keyed as spaces/USER/NAME
    ("POST", rf"/api/(?P<repo>spaces/[^/]+/[^/]+)/preupload/{_REV}", Handler.preupload),
    ("POST", r"/(?P<repo>spaces/[^/]+/[^/]+)\.git/info/lfs/objects/batch", Handler.lfs_batch),
    ("POST", rf"/api/(?P<repo>spaces/[^/]+/[^/]+)/commit/{_REV}", Handler.commit),
    ("GET", rf"/api/models/{_REPO}/revision/{_REV}", Handler.revision_info),
    ("GET", rf"/api/models/{_REPO}", Handler.revision_info),
    ("GET", rf"/api/models/{_REPO}/tree/{_REV}(?P<subpath>/.*)?", Handler.tree),
    ("GET", rf"/{_REPO}/resolve/{_REV}/(?P<filename>.+)", Handler.resolve),
    ("GET", r"/api/whoami-v2", Handler.whoami),
    ("POST", r"/api/validate-yaml", Handler.validate_yaml),
]


class FakeHub:
    """Start with ``FakeHub()``; ``.url`` is the endpoint, ``.state`` the repos; ``.close()``."""

    def __init__(self):
        self.state = HubState()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    # Standalone: `python -m tests.hubserver` serves until interrupted (for manual checks).
    import sys

    hub = FakeHub()
    print(hub.url, flush=True)
    try:
        hub.thread.join()
    except KeyboardInterrupt:
        hub.close()
        sys.exit(0)
