"""Token hygiene: a known fake token never reaches stdout/stderr, logs, artifacts or errors."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hfsent.hub import HubError, from_pretrained, push_to_hub

REPO = Path(__file__).resolve().parents[1]
SECRET = "hf_KnownFakeToken_for_hygiene_0123456789"


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_push_and_pull_with_debug_logging(trained, hub, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    info = push_to_hub(trained.output_dir, "tester/hygiene", token=SECRET)
    from_pretrained("tester/hygiene", cache_dir=tmp_path, token=SECRET)
    assert SECRET in hub.state.tokens_seen, "the token was really used"
    out, err = capfd.readouterr()
    assert SECRET not in out + err + caplog.text
    committed = hub.state.repos["tester/hygiene"].commits[info.oid]["files"]
    assert not [name for name, f in committed.items() if SECRET.encode() in f["content"]]
    assert SECRET.encode() not in _all_bytes(tmp_path)
    assert SECRET.encode() not in _all_bytes(trained.output_dir)


def test_error_messages_do_not_carry_the_token(trained, hub):
    hub.state.required_token = "hf_another_one"
    try:
        with pytest.raises(HubError) as err:
            push_to_hub(trained.output_dir, "tester/hygiene-denied", token=SECRET)
    finally:
        hub.state.required_token = None
    assert SECRET not in str(err.value) and SECRET not in repr(err.value.__cause__)


def test_train_script_with_push_keeps_the_token_out_of_everything(hub_layout_dir, hub, tmp_path):
    out_dir = tmp_path / "model"
    run = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train.py"), "--dataset", str(hub_layout_dir),
         "--output-dir", str(out_dir), "--embedding-dim", "8", "--gru-units", "8", "--epochs", "1",
         "--min-freq", "1", "--num-proc", "1", "--no-pretrain-embeddings",
         "--push", "--repo-id", "tester/hygiene-script"],
        capture_output=True, text=True, env={**os.environ, "HF_TOKEN": SECRET})
    assert run.returncode == 0, run.stderr[-2000:]
    assert SECRET in hub.state.tokens_seen
    assert SECRET not in run.stdout + run.stderr
    assert SECRET.encode() not in _all_bytes(out_dir)
