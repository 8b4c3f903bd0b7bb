"""Push / pull round trips through the real huggingface_hub client against the local Hub."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from huggingface_hub import HfApi, ModelCard

from hfsent.hub import HubError, from_pretrained, push_to_hub
from hfsent.predict import SentimentClassifier

PROBES = ["a great and wonderful film", "an awful boring movie"]
REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _run(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_push_is_one_commit_through_lfs_and_pull_gives_identical_predictions(trained, hub, tmp_path):
    info = push_to_hub(trained.output_dir, "tester/round-trip")
    repo = hub.state.repos["tester/round-trip"]
    assert len(repo.commits) == 2  # the repo's initial commit + ours
    assert "test accuracy" in repo.commits[info.oid]["message"]
    assert info.commit_url.endswith(info.oid)
    files = repo.commits[info.oid]["files"]
    assert files["model.weights.h5"]["lfs"] and hub.state.lfs, "weights went through git-LFS"
    assert {"config.json", "metadata.json", "vocab.txt", "hfsent_config.json", "metrics.json",
            "README.md"} <= set(files)

    pulled = from_pretrained("tester/round-trip", cache_dir=tmp_path / "fresh-cache")
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
        latest = from_pretrained("tester/pinned", cache_dir=tmp_path / "c1").predict_proba(PROBES)
        expected_second = changed.predict_proba(PROBES)
    finally:
        emb.set_weights(original)
    pinned = from_pretrained("tester/pinned", revision=first.oid, cache_dir=tmp_path / "c2")
    assert second.oid != first.oid
    np.testing.assert_array_equal(latest, expected_second)
    np.testing.assert_array_equal(pinned.predict_proba(PROBES), clf.predict_proba(PROBES))


def test_branch_revision(trained, tmp_path):
    info = push_to_hub(trained.output_dir, "tester/branches", revision="experiment")
    api = HfApi()
    assert api.repo_info("tester/branches", revision="experiment").sha == info.oid
    assert api.repo_info("tester/branches").sha != info.oid
    from_pretrained("tester/branches", revision="experiment", cache_dir=tmp_path)


def test_offline_mode_serves_the_cache_and_explains_a_miss(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/offline")
    cache = str(tmp_path / "cache")
    from_pretrained("tester/offline", cache_dir=cache)  # fills the cache while "online"
    code = ("import sys; from hfsent.hub import from_pretrained; "
            "clf = from_pretrained('tester/offline', cache_dir=sys.argv[1]); "
            "print(clf.predict(['great film'])[0]['label'])")
    out = _run(code, cache, env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "positive"
    out = _run(code, str(tmp_path / "empty-cache"), env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode != 0 and "HF_HUB_OFFLINE=1" in out.stderr


def test_missing_repo_is_named(tmp_path):
    with pytest.raises(HubError, match="'tester/no-such-model' was not found"):
        from_pretrained("tester/no-such-model", cache_dir=tmp_path)


def test_card_metadata_parses_back(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/card")
    folder = from_pretrained("tester/card", cache_dir=tmp_path)  # noqa: F841 (downloads the card)
    card = ModelCard.load("tester/card")
    data = card.data.to_dict()
    assert data["library_name"] == "keras"
    assert data["pipeline_tag"] == "text-classification"
    assert data["license"] and "hfsent" in data["tags"]
    assert set(data["metrics"]) >= {"accuracy", "f1", "roc_auc"}
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["accuracy"] == round(trained.metrics["test"]["accuracy"], 4)
    assert card.data.eval_results[0].dataset_split == "test"
    assert 'from_pretrained("tester/card")' in card.text
    assert 'keras.saving.load_model("hf://tester/card")' in card.text


def test_plain_keras_loads_from_the_hub_without_hfsent(trained):
    push_to_hub(trained.output_dir, "tester/plain-keras")
    code = ("import sys, keras, numpy as np; m = keras.saving.load_model('hf://tester/plain-keras'); "
            "assert 'hfsent' not in sys.modules; print(m.predict(np.array([[2, 3]]), verbose=0).shape)")
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("(1, 1)")


def test_unlisted_files_such_as_pickles_are_never_downloaded(trained, tmp_path):
    push_to_hub(trained.output_dir, "tester/with-pickle")
    HfApi().upload_file(path_or_fileobj=b"\x80\x04K\x01.", path_in_repo="evil.pkl",
                        repo_id="tester/with-pickle")
    from_pretrained("tester/with-pickle", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.pkl"))


def test_token_is_sent_but_never_written_or_printed(trained, hub, tmp_path, capsys):
    secret = "hf_FakeSecretToken1234567890"
    info = push_to_hub(trained.output_dir, "tester/token", token=secret)
    assert secret in hub.state.tokens_seen
    from_pretrained("tester/token", cache_dir=tmp_path, token=secret)
    captured = capsys.readouterr()
    assert secret not in captured.out + captured.err
    for f in hub.state.repos["tester/token"].commits[info.oid]["files"].values():
        assert secret.encode() not in f["content"]
    for path in trained.output_dir.rglob("*"):
        assert path.is_dir() or secret.encode() not in path.read_bytes()


def test_rejected_credentials_explain_how_to_log_in(trained, hub):
    hub.state.required_token = "hf_the_right_one"
    try:
        with pytest.raises(HubError, match="hf auth login") as err:
            push_to_hub(trained.output_dir, "tester/denied", token="hf_wrong_token_123")
    finally:
        hub.state.required_token = None
    assert "hf_wrong_token_123" not in str(err.value)


def test_metrics_json_matches_the_card(trained):
    metrics = json.loads((trained.output_dir / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == trained.metrics["test"]["accuracy"]


def test_train_script_pushes_and_score_script_agrees_with_the_card(hub_layout_dir, hub, tmp_path):
    repo = REPO_ROOT
    out = subprocess.run(
        [sys.executable, str(repo / "scripts" / "train.py"), "--dataset", str(hub_layout_dir),
         "--output-dir", str(tmp_path / "m"), "--embedding-dim", "8", "--gru-units", "8",
         "--batch-size", "8", "--epochs", "3", "--min-freq", "1", "--max-length", "32",
         "--num-proc", "1", "--no-pretrain-embeddings", "--push", "--repo-id", "tester/scripted"],
        capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    commit_url = [line for line in out.stdout.splitlines() if line.startswith("pushed: ")][0]
    assert commit_url.split("/")[-1] == hub.state.repos["tester/scripted"].branches["main"]
    assert os.environ["HF_TOKEN"] not in out.stdout + out.stderr

    scores_file = tmp_path / "scores.json"
    out = subprocess.run(
        [sys.executable, str(repo / "scripts" / "score.py"), "--model", "tester/scripted",
         "--dataset", str(hub_layout_dir), "--split", "test", "--output", str(scores_file)],
        capture_output=True, text=True, env={**os.environ, "HF_HOME": str(tmp_path / "hf")})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "accuracy" in out.stdout
    scores = json.loads(scores_file.read_text())["scores"]
    card = ModelCard.load("tester/scripted")
    card_accuracy = {r.metric_type: r.metric_value for r in card.data.eval_results}["accuracy"]
    assert round(scores["accuracy"], 4) == card_accuracy
