"""--word-vectors: vectors from a file of each format, a local sentence-transformers folder, the
local Hub (through the real huggingface_hub client) and a spaCy pipeline's folder, each through a
tiny ``hfsent train`` whose frozen Embedding must hold exactly the given rows; and hostile files,
refused in one line or read within their caps."""

import json
import struct

import numpy as np
import pytest
import spacy
from gensim.models import FastText, KeyedVectors
from gensim.models.fasttext import load_facebook_vectors, save_facebook_model
from huggingface_hub import CommitOperationAdd, HfApi
from safetensors.numpy import save_file

from hfsent.cli import main
from hfsent.errors import InputError, UserError
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME
from hfsent.vector_formats import Found, read_fasttext, read_text, read_word2vec_binary
from tests.conftest import FILLER, NEGATIVE, POSITIVE, TINY
from tests.test_cli import hfsent, user_error

DIM = 6  # not TINY's embedding_dim (8): the vectors' dimension must win
WORDS = [*POSITIVE[:4], *NEGATIVE[:3], "the", "movie", "Plot"]  # "Plot": a cased form of a lowercase word
FLAGS = [f"--{k.replace('_', '-')}" if v is True else f"--no-{k.replace('_', '-')}" if v is False
         else f"--{k.replace('_', '-')}={v}" for k, v in {**TINY, "epochs": 1}.items()]


def _vectors(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {w: rng.normal(0, 0.5, DIM).astype(np.float32) for w in WORDS}


def _write_text(path, vectors, header=True):
    lines = [f"{len(vectors)} {DIM}"] if header else []
    lines += [w + " " + " ".join(repr(float(x)) for x in v) for w, v in vectors.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_binary(path, vectors):
    kv = KeyedVectors(DIM)
    kv.add_vectors(list(vectors), np.stack(list(vectors.values())))
    kv.save_word2vec_format(str(path), binary=True)
    return path


def _write_fasttext(path):
    corpus = [[*WORDS, *FILLER]] * 20
    model = FastText(vector_size=DIM, min_count=1, bucket=500, min_n=3, max_n=4, seed=1, workers=1)
    model.build_vocab(corpus_iterable=corpus)
    model.train(corpus_iterable=corpus, total_examples=len(corpus), epochs=1)
    save_facebook_model(model, str(path))
    kv = load_facebook_vectors(str(path))
    return path, {w: kv[w] for w in kv.index_to_key}


def _write_st(folder, vectors):
    inner = folder / "0_WordEmbeddings"
    inner.mkdir(parents=True)
    save_file({"emb_layer.weight": np.stack([np.zeros(DIM, np.float32), *vectors.values()])},
              str(inner / "model.safetensors"))
    (inner / "whitespacetokenizer_config.json").write_text(json.dumps(
        {"vocab": ["PADDING_TOKEN", *vectors], "stop_words": [], "do_lower_case": False}))
    return folder


def _train(dataset, tmp_path, source, *extra):
    out = tmp_path / "model"
    assert main(["train", "--dataset", str(dataset), "--output-dir", str(out), "--word-vectors", source,
                 "--freeze-embeddings", *FLAGS, *extra]) == 0
    return out, SentimentClassifier.load(out)


def _check_rows(clf, vectors, pretrain=False):
    """Every vocabulary word the vectors hold (or hold capitalised) has exactly their row."""
    emb = clf.model.get_layer("embedding").get_weights()[0]
    assert emb.shape[1] == DIM and clf.config.model.embedding_dim == DIM
    matched = 0
    for word, row in vectors.items():
        if word.lower() in clf.vocab.index and (word == word.lower() or word.lower() not in vectors):
            np.testing.assert_array_equal(emb[clf.vocab.index[word.lower()]], row)
            matched += 1
    assert matched >= 8 and np.all(emb[0] == 0)
    assert np.abs(emb[clf.vocab.index["scene"]]).sum() > 0, "an uncovered word gets a fallback row"


@pytest.mark.parametrize("kind", ["word2vec text", "GloVe text", "word2vec binary"])
def test_a_local_file_fills_the_embedding_and_the_record_keeps_no_path(kind, hub_layout_dir, tmp_path):
    vectors = _vectors()
    path = (_write_binary(tmp_path / "v.bin", vectors) if kind == "word2vec binary" else
            _write_text(tmp_path / "v.txt", vectors, header=kind == "word2vec text"))
    out, clf = _train(hub_layout_dir, tmp_path, str(path))
    _check_rows(clf, vectors)
    metrics = json.loads((out / "metrics.json").read_text())
    data = metrics["stages"][0]
    assert data["figures"]["word_vectors"]["name"] == path.name
    assert 0 < data["figures"]["word_vectors"]["types_covered"] < 1
    assert 0 < data["figures"]["word_vectors"]["tokens_covered"] < 1
    assert f"embedding_dim 8 -> {DIM}, the vectors' dimension" in data["summary"]
    assert "of the vocabulary's words and" in data["summary"]
    assert json.loads((out / CONFIG_NAME).read_text())["training"]["word_vectors"] == path.name
    assert str(tmp_path) not in (out / CONFIG_NAME).read_text() + (out / "README.md").read_text()
    assert f"Word vectors: the file {path.name}" in (out / "README.md").read_text()


def test_fasttext_bin_and_word2vec_fallback(hub_layout_dir, tmp_path):
    path, vectors = _write_fasttext(tmp_path / "ft.bin")
    out, clf = _train(hub_layout_dir, tmp_path, str(path), "--pretrain-embeddings", "--word2vec-epochs=1")
    _check_rows(clf, vectors)
    record = json.loads((out / "metrics.json").read_text())["stages"][2]
    assert "the others with word2vec" in record["summary"] and "kept fixed in training" in record["summary"]


def test_sentence_transformers_folder(hub_layout_dir, tmp_path):
    vectors = _vectors(3)
    _, clf = _train(hub_layout_dir, tmp_path, str(_write_st(tmp_path / "st", vectors)))
    _check_rows(clf, vectors)


def test_hub_repo_in_sentence_transformers_layout_with_license(hub_layout_dir, tmp_path, hub):
    vectors = _vectors(4)
    folder = _write_st(tmp_path / "st", vectors)
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# tiny vectors\n")
    (folder / "0_WordEmbeddings" / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")  # never fetched
    api = HfApi()
    api.create_repo("tester/average_word_embeddings_tiny", exist_ok=True)
    commit = api.upload_folder(repo_id="tester/average_word_embeddings_tiny", folder_path=str(folder))
    out, clf = _train(hub_layout_dir, tmp_path, "tester/average_word_embeddings_tiny")
    _check_rows(clf, vectors)
    card = (out / "README.md").read_text()
    repo = "tester/average\\_word\\_embeddings\\_tiny"
    assert f"the Hub repo {repo} at {commit.oid[:12]} (license mit)" in card
    figures = json.loads((out / "metrics.json").read_text())["stages"][0]["figures"]["word_vectors"]
    assert figures["revision"] == commit.oid and figures["license"] == "mit"
    assert not [r for r in hub.state.requests if r.startswith("GET") and r.endswith("pytorch_model.bin")]


def test_hub_file_at_a_pinned_revision(hub_layout_dir, tmp_path, hub):
    api = HfApi()
    api.create_repo("tester/glove-tiny", exist_ok=True)
    first, second = _vectors(5), _vectors(6)
    commits = [api.create_commit("tester/glove-tiny", [CommitOperationAdd("glove.tiny.6d.txt", _write_text(
        tmp_path / f"{i}.txt", v, header=False).read_bytes())], commit_message=str(i))
        for i, v in enumerate((first, second))]
    pinned = commits[0]
    _, clf = _train(hub_layout_dir, tmp_path, "tester/glove-tiny", "--word-vectors-revision", pinned.oid)
    _check_rows(clf, first)


def test_spacy_pipeline_folder(hub_layout_dir, tmp_path):
    vectors = _vectors(7)
    nlp = spacy.blank("en")
    for word, row in vectors.items():
        nlp.vocab.set_vector(word, row)
    nlp.to_disk(tmp_path / "pipe_with_vectors")
    out, clf = _train(hub_layout_dir, tmp_path, f"spacy:{tmp_path / 'pipe_with_vectors'}")
    _check_rows(clf, vectors)
    saved = json.loads((out / CONFIG_NAME).read_text())["training"]
    assert saved["word_vectors"] == "spacy:pipe_with_vectors"
    assert "Word vectors: the spaCy pipeline en\\_pipeline" in (out / "README.md").read_text()


def test_a_pickle_is_refused_by_name_in_one_line_before_any_work(tmp_path):
    for name in ("glove.model", "vectors.npy", "pytorch_model.bin", "x.kv"):
        assert "a pickle (gensim's .model/.kv" in user_error(hfsent(
            "train", "--dataset", "nowhere.csv", "--word-vectors", str(tmp_path / name)))


def test_a_revision_needs_vectors():
    assert "--word-vectors-revision needs --word-vectors" in user_error(hfsent(
        "train", "--dataset", "nowhere.csv", "--word-vectors-revision", "main"))


def _found():
    return Found({w: i for i, w in enumerate(["great", "awful", "plot"], start=2)}, lowercase=True)


def test_hostile_text_files(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"great 1 2 3\n\xff\xfe 1 2 3\nawful nan 1 2\nplot 1 2\nPlot 4 5 6\n")
    found = read_text(path, _found())
    assert set(found.rows) == {"great", "plot"} and found.skipped == 3  # not UTF-8, not finite, too short
    np.testing.assert_array_equal(found.rows["plot"], [4, 5, 6])
    path.write_bytes(b"2 5000\ngreat 1\n")
    with pytest.raises(InputError, match="5000 dimensions"):
        read_text(path, _found())
    path.write_bytes(b"great " + b"1 " * 200_000 + b"\n" + b"awful 1 2\n")
    with pytest.raises(InputError, match="line 1 of the word vectors is longer"):
        read_text(path, _found())
    path.write_bytes(b"great 1 2 3\nawful " + b"1 " * 50_000 + b"\n")
    with pytest.raises(InputError, match="line 2 of the word vectors is longer than 1,120 bytes"):
        read_text(path, _found())


def test_hostile_binary_files_are_refused_before_gensim_allocates_or_loops(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(b"3000000 300\ngreat " + b"\0" * 1200)
    with pytest.raises(InputError, match="promises 3,000,000 vectors of 300"):
        read_word2vec_binary(path, _found())
    ft, _ = _write_fasttext(tmp_path / "ft.bin")
    whole = ft.read_bytes()
    for cut in (20, 120, len(whole) // 3):  # in the header, the words, the matrix
        path.write_bytes(whole[:cut])
        with pytest.raises(InputError, match="fastText file cut short|fastText word|its matrix"):
            read_fasttext(path, _found())
    huge = bytearray(whole)
    huge[8:12] = struct.pack("@i", 100_000)  # dim
    path.write_bytes(bytes(huge))
    with pytest.raises(InputError, match="100000 dimensions"):
        read_fasttext(path, _found())


def test_hub_errors_are_one_user_error(hub, tmp_path, monkeypatch):
    from hfsent.vector_hub import _choose, from_hub
    from hfsent.vectors import hub_like, read_file

    assert hub_like("owner/name") and hub_like("owner/name/dir/file.txt")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert not any(hub_like(p) for p in ("./v.txt", "/data/v.txt", "~/v.txt", "a\\b", "data/v.txt"))

    with pytest.raises(UserError, match="no such model repo"):
        from_hub("tester/no-such-vectors", None, _found(), read_file)
    with pytest.raises(InputError, match="a pickle"):
        _choose({"fse/glove.model": 10, "fse/glove.model.vectors.npy": 10, "README.md": 1}, "", "fse/glove")
    with pytest.raises(InputError, match="holds 2 vectors files: a.txt, b.vec; name one as o/n/PATH"):
        _choose({"a.txt": 1, "b.vec": 1}, "", "o/n")


def test_the_card_escapes_a_hostile_vectors_record():
    from hfsent.card import build_card
    from hfsent.config import preset

    record = {"source": "hub", "repo": "<script>x</script>|`", "revision": "abc", "license": "mit\n# owned",
              "vectors": 3, "dim": 4, "types_covered": 0.5}
    def card_of(vectors):
        return str(build_card(preset("default"), {"stages": [{"name": "data",
                                                             "figures": {"word_vectors": vectors}}]}))

    card = card_of(record)
    line = next(x for x in card.splitlines() if x.startswith("- Word vectors:"))
    assert "&lt;script&gt;x&lt;/script&gt;\\|\\`" in line and "license mit # owned" in line
    broken = {**record, "types_covered": "most"}
    assert "- Word vectors: recorded in metrics.json" in card_of(broken)


def test_a_cached_hub_repo_loads_offline_and_an_uncached_one_is_one_line(hub_layout_dir, tmp_path, hub,
                                                                          monkeypatch):
    """With HF_HUB_OFFLINE=1, what an online run downloaded (at a pinned commit, or at a branch
    whose ref it cached) loads from huggingface_hub's cache with the same record, and asks
    nothing of the Hub; what the cache lacks is one user error line."""
    from huggingface_hub import constants

    from hfsent.hub import HubError
    from hfsent.vector_hub import from_hub
    from hfsent.vectors import read_file

    repo, vectors = "tester/offline-vectors", _vectors(8)
    folder = _write_st(tmp_path / "st", vectors)
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# vectors\n")
    api = HfApi()
    api.create_repo(repo, exist_ok=True)
    pinned = api.upload_folder(repo_id=repo, folder_path=str(folder)).oid
    api.create_commit(repo, [CommitOperationAdd("README.md", b"---\nlicense: mit\n---\n")],
                      commit_message="relicensed: main moves on")
    online = {rev: from_hub(repo, rev, _found(), read_file) for rev in (pinned, None)}  # a commit; main
    assert online[pinned]["license"] == "apache-2.0" and online[None]["license"] == "mit"
    asked = len(hub.state.requests)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # huggingface_hub reads it once, on import
    for rev in (pinned, None, "main"):
        found = _found()
        assert from_hub(repo, rev, found, read_file) == online[rev if rev != "main" else None]
        np.testing.assert_array_equal(found.rows["great"], vectors["great"])
    _, clf = _train(hub_layout_dir, tmp_path, repo, "--word-vectors-revision", pinned)
    _check_rows(clf, vectors)
    assert len(hub.state.requests) == asked, hub.state.requests[asked:]

    for source, rev in (("tester/never-downloaded", None), (repo, "other-branch"), (repo, "a" * 40),
                        (f"{repo}/glove.txt", pinned)):
        with pytest.raises(HubError, match="is not in huggingface_hub's cache and the Hub cannot be reached "
                                           r"\(HF_HUB_OFFLINE=1\)"):
            from_hub(source, rev, _found(), read_file)
    with pytest.raises(InputError, match="no branch, tag or commit name"):
        from_hub(repo, "../../../x", _found(), read_file)
    message = user_error(hfsent("train", "--dataset", str(hub_layout_dir), "--word-vectors", "tester/nowhere",
                                env={"HF_HUB_OFFLINE": "1"}))
    assert message.startswith("--word-vectors 'tester/nowhere': 'tester/nowhere' is not in huggingface_hub's")
