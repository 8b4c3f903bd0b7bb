"""Push / pull through the real huggingface_hub client against the local Hub: round trips,
revisions, faults made on purpose, the token, and untrusted repos."""

import json
import logging
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import HfApi, ModelCard

import hfsent.hub
from hfsent.errors import UnsafeModelError
from hfsent.hub import HubError, push_to_hub
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME, FORMAT_VERSION
from tests.conftest import NEGATION_PROBES

PROBES = list(NEGATION_PROBES)
REPO = Path(__file__).resolve().parents[1]
SECRET = "hf_KnownFakeToken_for_hygiene_0123456789"
pull = SentimentClassifier.from_pretrained


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(hfsent.hub, "RETRY_WAITS", (0.0, 0.0))


def _run(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_is_one_commit_through_lfs_and_pull_gives_identical_predictions(trained, hub, tmp_path, caplog):
    info = push_to_hub(trained.output_dir, "tester/round-trip")
    repo = hub.state.repos["tester/round-trip"]
    assert len(repo.commits) == 2  # the repo's initial commit + ours
    assert "test accuracy" in repo.commits[info.oid]["message"]
    assert info.commit_url.endswith(info.oid)
    files = repo.commits[info.oid]["files"]
    assert files["model.weights.h5"]["lfs"] and hub.state.lfs, "weights went through git-LFS"
    assert {"config.json", "metadata.json", "vocab.txt", CONFIG_NAME, "metrics.json", "README.md",
            "training_curves.png"} <= set(files)
    with caplog.at_level(logging.INFO, logger="hfsent.predict"):
        pulled = pull("tester/round-trip", cache_dir=tmp_path / "fresh-cache")
    assert "loaded the Hub repo tester/round-trip at revision main" in caplog.text
    np.testing.assert_array_equal(pulled.predict_proba(PROBES), trained.classifier.predict_proba(PROBES))


def test_pinned_revision_survives_a_second_push(trained, tmp_path):
    first = push_to_hub(trained.output_dir, "tester/pinned")
    clf = trained.classifier
    changed = SentimentClassifier(clf.model, clf.vocab, clf.config)
    emb = clf.model.get_layer("embedding")
    original = emb.get_weights()
    try:
        emb.set_weights([w[::-1] for w in original])  # a visibly different model
        second = changed.push_to_hub("tester/pinned", commit_message="second model")
        latest = pull("tester/pinned", cache_dir=tmp_path / "c1").predict_proba(PROBES)
        expected_second = changed.predict_proba(PROBES)
    finally:
        emb.set_weights(original)
    pinned = pull("tester/pinned", revision=first.oid, cache_dir=tmp_path / "c2")
    assert second.oid != first.oid
    np.testing.assert_array_equal(latest, expected_second)
    np.testing.assert_array_equal(pinned.predict_proba(PROBES), clf.predict_proba(PROBES))


def test_branch_revision(trained, tmp_path):
    info = push_to_hub(trained.output_dir, "tester/branches", revision="experiment")
    api = HfApi()
    assert api.repo_info("tester/branches", revision="experiment").sha == info.oid
    assert api.repo_info("tester/branches").sha != info.oid
    pull("tester/branches", revision="experiment", cache_dir=tmp_path)
    with pytest.raises(HubError, match="revision 'no-such-branch' does not exist"):
        pull("tester/branches", revision="no-such-branch", cache_dir=tmp_path)


def test_a_missing_repo_is_named(tmp_path):
    with pytest.raises(HubError, match="'nobody/nothing' was not found"):
        pull("nobody/nothing", cache_dir=tmp_path)


PULL = ("import sys; from hfsent.predict import SentimentClassifier; "
        "clf = SentimentClassifier.from_pretrained(sys.argv[1], cache_dir=sys.argv[2]); "
        "print(clf.predict(['the film was great'])[0]['label'])")


def test_offline_mode_serves_the_cache_and_explains_a_miss(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/offline")
    cache = str(tmp_path / "cache")
    pull("tester/offline", cache_dir=cache)  # fills the cache while "online"
    out = _run(PULL, "tester/offline", cache, env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "positive"
    out = _run(PULL, "tester/offline", str(tmp_path / "empty-cache"), env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode != 0 and "HubError" in out.stderr and "HF_HUB_OFFLINE=1" in out.stderr


def test_server_down_without_a_cache_is_explained(tmp_path):
    out = _run(PULL, "tester/anything", str(tmp_path), env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert out.returncode != 0
    assert "cannot be reached" in out.stderr


def test_plain_keras_loads_from_the_hub_without_hfsent(trained):
    push_to_hub(trained.output_dir, "tester/plain-keras")
    code = ("import sys, keras, numpy as np; m = keras.saving.load_model('hf://tester/plain-keras'); "
            "assert 'hfsent' not in sys.modules; print(m.predict(np.array([[2, 3]]), verbose=0).shape)")
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("(1, 1)")


@pytest.mark.parametrize("name", ["weights.pkl", "extra.pickle"])
def test_pickles_in_a_repo_are_never_downloaded(trained, tmp_path, name):
    repo = f"stranger/pickle-{name.split('.')[1]}"
    push_to_hub(trained.output_dir, repo)
    HfApi().upload_file(path_or_fileobj=b"\x80\x04K\x01.", path_in_repo=name, repo_id=repo)
    clf = pull(repo, cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))
    assert clf.predict(PROBES[:1])[0]["label"] == "positive"


def test_a_repo_from_the_future_or_with_a_mismatched_vocabulary_is_refused(trained, tmp_path):
    for repo, change in (("stranger/future", "version"), ("stranger/mismatch", "vocab")):
        folder = tmp_path / repo.split("/")[1]
        shutil.copytree(trained.output_dir, folder)
        if change == "version":
            cfg = json.loads((folder / CONFIG_NAME).read_text())
            (folder / CONFIG_NAME).write_text(json.dumps({**cfg, "format_version": FORMAT_VERSION + 1}))
        else:
            (folder / "vocab.txt").write_text((folder / "vocab.txt").read_text() + "extra-word\n")
        HfApi().create_repo(repo, exist_ok=True)
        HfApi().upload_folder(folder_path=str(folder), repo_id=repo)
    with pytest.raises(ValueError, match=f"format_version={FORMAT_VERSION + 1}"):
        pull("stranger/future", cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match=r"vocab.txt has more than \d+ lines, the vocabulary size that"):
        pull("stranger/mismatch", cache_dir=tmp_path / "cache")


def test_a_lambda_model_from_the_hub_is_refused_and_never_runs(lambda_folder, tmp_path):
    folder, marker = lambda_folder
    push_to_hub(folder, "stranger/lambda")
    with pytest.raises(UnsafeModelError, match="refused without running any of its code"):
        pull("stranger/lambda", cache_dir=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["curves.png", "runs"])
def test_push_refuses_a_symlink_out_of_the_folder_and_uploads_nothing(trained, hub, tmp_path, name):
    folder = tmp_path / "model"
    shutil.copytree(trained.output_dir, folder)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (folder / name).symlink_to(outside / "secret.txt" if name.endswith(".png") else outside)
    repo = f"tester/symlink-{name.split('.')[0]}"
    with pytest.raises(UnsafeModelError, match=f"{name} in .* is a symbolic link; a model folder holds only"):
        push_to_hub(folder, repo)
    assert repo not in hub.state.repos
    assert not any(SECRET.encode() in blob for blob in hub.state.lfs.values())


def test_the_hub_cache_links_are_followed_only_into_the_repos_blobs(trained, tmp_path, monkeypatch):
    push_to_hub(trained.output_dir, "tester/cache-links")
    pull("tester/cache-links", cache_dir=tmp_path)  # huggingface_hub's own symlinks are accepted
    snapshot = next(tmp_path.glob("models--tester--cache-links/snapshots/*"))
    assert (snapshot / "vocab.txt").is_symlink()
    monkeypatch.chdir(snapshot)
    SentimentClassifier.load(".")  # as an Endpoint loads its repo: a relative path
    (tmp_path / "environ").write_text(SECRET)
    (snapshot / "vocab.txt").unlink()
    (snapshot / "vocab.txt").symlink_to(tmp_path / "environ")
    with pytest.raises(UnsafeModelError, match="vocab.txt in .* is a symbolic link") as err:
        SentimentClassifier.load(snapshot)
    assert SECRET not in str(err.value)


def test_401_and_403_on_push_say_how_to_log_in_and_never_carry_the_token(trained, hub):
    hub.state.faults.append(("POST", r"/api/repos/create", 403))
    with pytest.raises(HubError, match=r"HTTP 403.*hf auth login.*HF_TOKEN"):
        push_to_hub(trained.output_dir, "tester/forbidden", token=SECRET)
    hub.state.required_token = "hf_the_right_one"
    try:
        with pytest.raises(HubError, match=r"HTTP 401.*hf auth login") as err:
            push_to_hub(trained.output_dir, "tester/unauthorized", token=SECRET)
    finally:
        hub.state.required_token = None
    # Everything a traceback would print, the suppressed context included.
    shown = "".join(traceback.format_exception(err.value)) + repr(err.value.__context__)
    assert SECRET in hub.state.tokens_seen and SECRET not in shown


def test_the_token_is_used_but_never_printed_logged_or_written(trained, hub, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    info = push_to_hub(trained.output_dir, "tester/hygiene", token=SECRET)
    pull("tester/hygiene", cache_dir=tmp_path, token=SECRET)
    assert SECRET in hub.state.tokens_seen, "the token was really used"
    out, err = capfd.readouterr()
    assert SECRET not in out + err + caplog.text
    committed = hub.state.repos["tester/hygiene"].commits[info.oid]["files"]
    assert not [name for name, f in committed.items() if SECRET.encode() in f["content"]]
    assert not [name for name, data in _folder_bytes(tmp_path).items() if SECRET.encode() in data]
    assert not [name for name, data in _folder_bytes(trained.output_dir).items() if SECRET.encode() in data]


def test_a_5xx_and_a_dropped_connection_during_upload_are_retried(trained, hub, tmp_path):
    hub.state.lfs.clear()  # make the weights go over the wire again, not deduplicated
    hub.state.faults += [("PUT", r"/lfs-upload/", 503), ("PUT", r"/lfs-upload/", 0),
                         ("POST", r"/commit/", 500)]
    info = push_to_hub(trained.output_dir, "tester/flaky")
    assert not hub.state.faults, "every injected fault was hit"
    assert hub.state.repos["tester/flaky"].branches["main"] == info.oid
    files = hub.state.repos["tester/flaky"].commits[info.oid]["files"]
    assert set(_folder_bytes(trained.output_dir)) - {"README.md"} <= set(files)
    pull("tester/flaky", cache_dir=tmp_path)


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


def test_rating_round_trip_push_pull_score_predict(rating_model, rating_data, tmp_path):
    push_to_hub(rating_model.output_dir, "tester/ratings")
    pulled = pull("tester/ratings", cache_dir=tmp_path / "cache")
    card = ModelCard.load("tester/ratings")
    assert {r.metric_type for r in card.data.eval_results} >= {"r2", "mse", "mae"}
    assert "Rating regression" in str(card)
    np.testing.assert_array_equal(pulled.predict_proba(["great film"]),
                                  rating_model.classifier.predict_proba(["great film"]))
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "score.py"), "--model", "tester/ratings",
                          "--dataset", str(rating_data), "--split", "test",
                          "--output", str(tmp_path / "s.json")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    scores = json.loads((tmp_path / "s.json").read_text())["scores"]
    assert scores["r2"] == pytest.approx(rating_model.metrics["test"]["r2"], abs=1e-6)
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "predict.py"), "--model", "tester/ratings",
                          "a great film"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 1 <= json.loads(out.stdout)["rating"] <= 10
