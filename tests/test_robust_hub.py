"""Hub faults, made on purpose by the local Hub: refused credentials, missing repos, 5xx,
dropped connections, and no network at all."""

import os
import shutil
import subprocess
import sys

import pytest
from huggingface_hub import HfApi

import hfsent.hub
from hfsent.hub import HubError, from_pretrained, push_to_hub


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(hfsent.hub, "RETRY_WAITS", (0.0, 0.0))


def _folder_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_401_and_403_on_push_say_how_to_log_in(trained, hub):
    hub.state.faults.append(("POST", r"/api/repos/create", 403))
    with pytest.raises(HubError, match=r"HTTP 403.*hf auth login.*HF_TOKEN"):
        push_to_hub(trained.output_dir, "tester/forbidden", token="hf_secret_403")
    hub.state.required_token = "hf_right"
    try:
        with pytest.raises(HubError, match=r"HTTP 401.*hf auth login") as err:
            push_to_hub(trained.output_dir, "tester/unauthorized", token="hf_secret_401")
    finally:
        hub.state.required_token = None
    assert "hf_secret" not in str(err.value)


def test_404_on_pull_names_the_repo(tmp_path):
    with pytest.raises(HubError, match="'nobody/nothing' was not found"):
        from_pretrained("nobody/nothing", cache_dir=tmp_path)


def test_a_missing_revision_is_named(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/revisions")
    with pytest.raises(HubError, match="revision 'no-such-branch' does not exist"):
        from_pretrained("tester/revisions", revision="no-such-branch", cache_dir=tmp_path)


def test_a_5xx_and_a_dropped_connection_during_upload_are_retried(trained, hub, tmp_path):
    hub.state.lfs.clear()  # make the weights go over the wire again, not deduplicated
    hub.state.faults += [("PUT", r"/lfs-upload/", 503), ("PUT", r"/lfs-upload/", 0),
                         ("POST", r"/commit/", 500)]
    info = push_to_hub(trained.output_dir, "tester/flaky")
    assert not hub.state.faults, "every injected fault was hit"
    assert hub.state.repos["tester/flaky"].branches["main"] == info.oid
    from_pretrained("tester/flaky", cache_dir=tmp_path)


def test_persistent_5xx_gives_up_cleanly_and_commits_nothing(trained, hub, tmp_path):
    push_to_hub(trained.output_dir, "tester/down")
    repo = hub.state.repos["tester/down"]
    head, n_commits = repo.branches["main"], len(repo.commits)
    changed = tmp_path / "changed"
    shutil.copytree(trained.output_dir, changed)
    (changed / "metrics.json").write_text('{"note": "a second version"}')
    before = _folder_bytes(changed)
    hub.state.faults += [("POST", r"/commit/", 502)] * 3
    with pytest.raises(HubError, match=r"failed after 3 attempt\(s\).*Nothing was committed"):
        push_to_hub(changed, "tester/down")
    assert repo.branches["main"] == head and len(repo.commits) == n_commits
    assert _folder_bytes(changed) == before


def _pull_code(tmp_path) -> str:
    return ("from hfsent.hub import from_pretrained; "
            f"from_pretrained('tester/anything', cache_dir={str(tmp_path)!r})")


def test_offline_without_a_cache_mentions_hf_hub_offline(tmp_path):
    code = _pull_code(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert out.returncode != 0
    assert "HubError" in out.stderr and "HF_HUB_OFFLINE=1" in out.stderr


def test_server_down_without_a_cache_is_explained(tmp_path):
    code = _pull_code(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9"})
    assert out.returncode != 0
    assert "cannot be reached" in out.stderr


def test_the_remote_holds_the_whole_commit_after_a_retry(trained, hub):
    hub.state.faults.append(("POST", r"/commit/", 503))
    info = push_to_hub(trained.output_dir, "tester/whole")
    files = hub.state.repos["tester/whole"].commits[info.oid]["files"]
    assert set(_folder_bytes(trained.output_dir)) - {"README.md"} <= set(files)
    assert HfApi().repo_info("tester/whole").sha == info.oid
