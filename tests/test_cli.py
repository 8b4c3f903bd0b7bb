"""The ``hfsent`` command, run as a user runs it: a real subprocess, its exit status and its
last line of stderr.  A user error is one line, ``hfsent: error: ...``, status 2, no traceback."""

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from huggingface_hub import HfApi, ModelCard

from tests.conftest import NEGATION_PROBES, TINY_FLAGS

PROBES = list(NEGATION_PROBES)


def hfsent(*args: str, cwd: Path | None = None, env: dict | None = None, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "hfsent", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin, env={**os.environ, **(env or {})})


def user_error(run: subprocess.CompletedProcess) -> str:
    """The one error line of a run that failed as a user error should."""
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("hfsent")]
    assert len(lines) == 1 and lines[0] == run.stderr.strip().splitlines()[-1], run.stderr[-3000:]
    assert lines[0].startswith("hfsent: error: ")
    return lines[0].removeprefix("hfsent: error: ")


@pytest.mark.parametrize("flags, message", [
    (["--max-length", "0"], "argument --max-length: must be a whole number from 1 to 16,384, got 0"),
    (["--batch-size", "0"], "argument --batch-size: must be a whole number from 1 to 4,096, got 0"),
    (["--epochs", "-1"], "argument --epochs: must be a whole number ≥ 1, got -1"),
    (["--learning-rate", "0"], "--learning-rate must be positive, got 0"),
    (["--validation-size", "1.5"], "--validation-size must be a fraction in (0, 1) or a whole number"),
    (["--gru-units", "many"], "argument --gru-units: invalid int value: 'many'"),
    (["--push"], "--push needs --repo-id"),
])
def test_bad_flags_and_values_are_one_line_before_any_work(flags, message):
    run = hfsent("train", "--dataset", "nowhere.csv", *flags)
    assert message in user_error(run)
    assert run.stderr.strip() == run.stderr.strip().splitlines()[-1], "nothing else on stderr: no TF start-up"


def test_version_and_help_with_examples():
    run = hfsent("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"hfsent {version('hfsent')}"
    for command in ("train", "predict", "score", "explain", "push"):
        helped = hfsent(command, "--help")
        assert helped.returncode == 0 and f"examples:\n  hfsent {command}" in helped.stdout


def test_each_flag_states_its_default_once_and_the_schedule_its_rule():
    import argparse

    from hfsent.flags import add_config_arguments

    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    helps = {a.dest: a.help for a in parser._actions if a.help}
    assert all(h.count("default:") <= 1 for h in helps.values()), \
        [k for k, h in helps.items() if h.count("default:") > 1]
    assert "(default: 8, or 12 when an epoch has under 64 steps" in helps["epochs"]
    assert "(default: 0.3, or 1 when an epoch has under 64 steps" in helps["lr_decay"]
    assert helps["batch_size"].endswith("(default: 128)")  # a plain default is still given


def test_empty_text_and_missing_model_folders(trained, tmp_path):
    model = str(trained.output_dir)
    assert "text(s) at position [0] contain no tokens" in user_error(hfsent("predict", "--model", model, ""))
    assert user_error(hfsent("predict", "--model", "./nope", "x")) == \
        "no model folder at ./nope (a path, so it is not looked up on the Hub)"
    assert "no model folder at runs/hfsent" in user_error(hfsent("predict", "--model", "runs/hfsent", "x",
                                                                 cwd=tmp_path))
    (tmp_path / "notes.txt").write_text("not a model")
    assert user_error(hfsent("predict", "--model", str(tmp_path), "x")) == \
        f"{tmp_path} is not an hfsent model folder: it has no hfsent_config.json, config.json, " \
        "metadata.json, model.weights.h5, vocab.txt"


def test_bad_data_is_one_line(tmp_path):
    pd.DataFrame({"text": ["good", "bad"], "stars": [1, 0]}).to_csv(tmp_path / "nolabel.csv", index=False)
    run = hfsent("train", "--dataset", str(tmp_path / "nolabel.csv"), "--output-dir", str(tmp_path / "m"))
    assert user_error(run) == "no label column 'label' in the data; columns found: ['text', 'stars']"
    pd.DataFrame({"text": [f"text {i}" for i in range(150)], "id": range(150)}).to_csv(tmp_path / "odd.csv",
                                                                                     index=False)
    run = hfsent("train", "--dataset", str(tmp_path / "odd.csv"), "--label-column", "id", "--output-dir",
                 str(tmp_path / "m"))
    assert user_error(run) == ("column 'id' holds 150 distinct labels, more than 100: is this the right "
                               "column? see --label-column")
    run = hfsent("train", "--dataset", "nobody/no-such-data", "--output-dir", str(tmp_path / "m"))
    assert "no dataset 'nobody/no-such-data'" in user_error(run)


def test_hub_errors_are_one_line(trained, hub):
    assert "model repo 'nobody/nothing' was not found" in user_error(hfsent("predict", "--model",
                                                                           "nobody/nothing", "x"))
    down = hfsent("predict", "--model", "tester/anything", "x", env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert "cannot be reached" in user_error(down)
    hub.state.required_token = "hf_the_right_one"
    try:
        refused = hfsent("push", "--model", str(trained.output_dir), "--repo-id", "tester/cli-denied",
                         env={"HF_TOKEN": "hf_wrong_one_123"})
    finally:
        hub.state.required_token = None
    message = user_error(refused)
    assert "(HTTP 401)" in message and "hf auth login" in message and "hf_wrong_one_123" not in refused.stderr


def test_debug_shows_the_traceback_and_a_bug_keeps_it(tmp_path):
    debug = hfsent("predict", "--debug", "--model", "./nope", "x")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "MissingError" in debug.stderr
    assert "Traceback" in hfsent("predict", "--model", "./nope", "x", env={"HFSENT_DEBUG": "1"}).stderr
    code = ("import sys, hfsent.cli as cli, hfsent.commands as commands; commands.push = lambda args: 1 / 0; "
            "sys.exit(cli.main(['push', '--model', 'm', '--repo-id', 'a/b']))")
    bug = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert bug.returncode == 1 and "ZeroDivisionError" in bug.stderr and "Traceback" in bug.stderr


def test_predict_a_large_file_in_chunks_to_json_lines(trained, tmp_path):
    texts = PROBES + [f"{PROBES[i % 4]} {i}" for i in range(4, 2500)]  # three chunks of 1024 lines
    texts[5] = "a form feed \x0c and a line separator \u2028 inside one review"  # still one line
    (tmp_path / "in.txt").write_text("\n".join(texts[:1000]) + "\n\n" + "\n".join(texts[1000:]) + "\n")
    run = hfsent("predict", "--model", str(trained.output_dir), "--input-file", str(tmp_path / "in.txt"),
                 "--output-file", str(tmp_path / "out.jsonl"))
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().split("\n")[:-1]]
    assert [r["text"] for r in rows] == texts
    assert [r["label"] for r in rows[:4]] == list(NEGATION_PROBES.values())
    assert "predicting" in run.stderr and "wrote 2500 predictions" in run.stderr


def test_predict_reads_arguments_and_stdin_and_names_a_bad_byte(trained, tmp_path):
    model = str(trained.output_dir)
    out = hfsent("predict", "--model", model, PROBES[0], PROBES[1])
    assert [json.loads(line)["label"] for line in out.stdout.splitlines()] == ["positive", "negative"]
    out = hfsent("predict", "--model", model, stdin=PROBES[2] + "\n")
    assert json.loads(out.stdout)["text"] == PROBES[2]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("the film was great\ncaf\xe9 awful\n".encode("latin-1"))
    run = hfsent("predict", "--model", model, "--input-file", str(bad))
    assert user_error(run).startswith(f"{bad} is not valid UTF-8: byte 0xe9 at offset 22")


def test_score_every_row_of_a_file_or_one_split(trained, negation_dir, tmp_path):
    model = str(trained.output_dir)
    rows = pd.read_parquet(negation_dir / "plain_text" / "test-00000-of-00001.parquet").head(50)
    rows.to_csv(tmp_path / "held_out.csv", index=False)
    run = hfsent("score", "--model", model, "--dataset", str(tmp_path / "held_out.csv"),
                 "--output", str(tmp_path / "s.json"))
    assert run.returncode == 0, run.stderr[-2000:]
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["split"] == "train" and scores["scores"]["num_examples"] == 50  # every row, nothing carved
    run = hfsent("score", "--model", model, "--dataset", str(negation_dir), "--split", "validation",
                 "--output", str(tmp_path / "v.json"))
    validation = json.loads((tmp_path / "v.json").read_text())["scores"]
    assert validation["accuracy"] == pytest.approx(trained.metrics["validation"]["accuracy"])
    assert "its splits are ['train', 'test']" in user_error(hfsent("score", "--model", model, "--dataset",
                                                                   str(negation_dir), "--split", "dev"))


def test_train_push_score_explain_tensorboard_token_and_no_local_path(negation_dir, hub, tmp_path):
    secret = "hf_KnownFakeToken_for_the_cli_0123456789"
    out = tmp_path / "somewhere" / "m"
    data = f"train={negation_dir}/plain_text/train-00000-of-00001.parquet"
    run = hfsent("train", "--dataset", data, "--output-dir", str(out), *TINY_FLAGS, "--epochs=2",
                 "--report-to", "tensorboard", "--push", "--repo-id", "tester/cli-train",
                 env={"HF_TOKEN": secret})
    assert run.returncode == 0, run.stderr[-3000:]
    commit_url = [line for line in run.stdout.splitlines() if line.startswith("pushed: ")][0]
    assert commit_url.split("/")[-1] == hub.state.repos["tester/cli-train"].branches["main"]
    assert secret in hub.state.tokens_seen and secret not in run.stdout + run.stderr
    logs = sorted(p.relative_to(out).as_posix() for p in (out / "runs").rglob("*") if p.is_file())
    assert any("train/events.out.tfevents" in p for p in logs) and any("validation/" in p for p in logs)
    assert set(logs) <= set(HfApi().list_repo_files("tester/cli-train")), "the push uploads the logs"
    assert not (out.parent / ".m.tensorboard").exists()
    # Nothing of the training machine's paths, nor the token, in any artifact (weights and logs too).
    local = {str(tmp_path), str(negation_dir), os.getcwd(), sys.prefix, os.path.expanduser("~"),
             os.environ["HF_HOME"], secret}
    for path in out.rglob("*"):
        if path.is_file():
            assert not [p for p in local if p.encode() in path.read_bytes()], path.name
    saved = json.loads((out / "hfsent_config.json").read_text())
    assert saved["data"]["dataset"] == "train=train-00000-of-00001.parquet"
    assert "runtime" not in saved and "num_proc" not in json.dumps(saved)

    from hfsent.hub import download

    fetched = download("tester/cli-train", cache_dir=tmp_path / "cache")
    assert (fetched / "model.weights.h5").is_file() and not (fetched / "runs").exists(), \
        "loading fetches the artifact files only"
    # The test split was carved from the train file; scoring that file's "test" carves it again.
    scored = hfsent("score", "--model", "tester/cli-train", "--dataset", data, "--split", "test",
                    "--output", str(tmp_path / "s.json"), env={"HF_HOME": str(tmp_path / "hf")})
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "loaded the Hub repo tester/cli-train at revision main" in scored.stderr
    card = ModelCard.load("tester/cli-train")
    card_accuracy = {r.metric_type: r.metric_value for r in card.data.eval_results}["accuracy"]
    assert round(json.loads((tmp_path / "s.json").read_text())["scores"]["accuracy"], 4) == card_accuracy

    pushed = hfsent("push", "--model", str(out), "--repo-id", "tester/cli-push", "--revision", "v1")
    assert pushed.returncode == 0 and pushed.stdout.startswith("pushed: "), pushed.stderr[-2000:]
    assert HfApi().repo_info("tester/cli-push", revision="v1").sha == pushed.stdout.split("/")[-1].strip()
    run = hfsent("explain", "--model", str(out), PROBES[1], "--output-prefix", str(tmp_path / "t"))
    assert run.returncode == 0 and (tmp_path / "t.png").is_file() and (tmp_path / "t.html").is_file()


def test_metric_modules_load_from_any_directory(tmp_path):
    code = ("import evaluate, hfsent; m = hfsent.load_metric('sentiment_classification'); "
            "print(m.compute(predictions=[0.9, 0.2], references=[1, 0])['accuracy'], "
            "evaluate.load(str(hfsent.metric_path('rating_regression'))).name)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["1.0", "rating_regression"]


def installed_hfsent() -> str:
    """The ``hfsent`` console script as installed: CI's wheel-installed environment where CI names
    it (``HFSENT_SERVING_PYTHON``), else this environment's."""
    python = os.environ.get("HFSENT_SERVING_PYTHON") or sys.executable
    return str(Path(python).parent / "hfsent")


@pytest.fixture(scope="module")
def mistakes(trained, tmp_path_factory):
    """Each user mistake of the issue, as arguments of the installed command."""
    from tests.conftest import make_reviews

    root = tmp_path_factory.mktemp("mistakes")
    data = root / "reviews.csv"
    make_reviews(40).to_csv(data, index=False)
    (root / "in.txt").write_text("a fine film\n")
    os.link(root / "in.txt", root / "in-link.txt")
    # A text with no tokens after a first chunk that ran through the model: TensorFlow has run ops.
    (root / "late.txt").write_text("a fine film\n" * 1100 + "<br /><br />\n")
    model, out, text = str(trained.output_dir), str(root / "out"), str(root / "in.txt")
    return root, {
        "a bad text after the model ran": ["predict", "--model", model, "--input-file",
                                           str(root / "late.txt")],
        "a Hub model that is not there": ["predict", "--model", "nobody-here", "x"],
        "an empty text": ["predict", "--model", model, ""],
        "the input as output": ["predict", "--model", model, "--input-file", str(root / "in.txt"),
                                "--output-file", str(root / "in.txt")],
        "the input as output by a hard link": ["predict", "--model", model, "--input-file", text,
                                               "--output-file", str(root / "in-link.txt")],
        "an output file in a missing folder": ["predict", "--model", model, "--output-file",
                                               str(root / "nowhere" / "out.jsonl"), "x"],
        "an output prefix in a missing folder": ["explain", "--model", model, "--output-prefix",
                                                 str(root / "nowhere" / "trace"), "x"],
        "a score file in a missing folder": ["score", "--model", model, "--dataset", str(data), "--output",
                                             str(root / "nowhere" / "s.json")],
        "a missing text column": ["train", "--dataset", str(data), "--text-column", "nope",
                                  "--output-dir", out],
        "a missing label column": ["score", "--model", model, "--dataset", str(data),
                                   "--label-column", "nope"],
        "a missing dataset": ["train", "--dataset", "nobody/no-such-data", "--output-dir", out],
        "no training samples": ["train", "--dataset", str(data), "--max-train-samples", "0"],
        "a huge max_length": ["train", "--dataset", str(data), "--max-length", str(10 ** 12)],
        "a bogus metric": ["score", "--model", model, "--dataset", str(data), "--metric", "bogus"],
        "a bad repo id": ["push", "--model", model, "--repo-id", "bad id!"],
        "a bad repo id before training": ["train", "--dataset", str(data), "--output-dir", out, "--push",
                                          "--repo-id", "bad id!"],
    }


@pytest.mark.parametrize("mistake", [
    "an empty text", "the input as output", "the input as output by a hard link",
    "an output file in a missing folder", "an output prefix in a missing folder",
    "a score file in a missing folder",
    "a missing text column", "a missing label column", "a missing dataset", "no training samples",
    "a huge max_length", "a bogus metric", "a bad repo id", "a bad repo id before training",
    "a bad text after the model ran", "a Hub model that is not there"])
def test_each_mistake_is_exactly_one_line_from_the_installed_command(mistakes, mistake):
    root, commands = mistakes
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # hfsent's own setting
    run = subprocess.run([installed_hfsent(), *commands[mistake]], capture_output=True, text=True, cwd=root,
                         env=env)
    assert run.returncode == 2 and len(run.stderr.splitlines()) == 1, run.stderr[-3000:]
    assert run.stderr.startswith("hfsent: error: ")
    assert (root / "in.txt").read_text() == "a fine film\n" and not (root / "out").exists()
