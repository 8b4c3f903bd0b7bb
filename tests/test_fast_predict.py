"""The serving fast path: the same outputs as ``predict_ids`` within float noise, with XLA really
compiling the recurrent layers, and the wrapped classifier's own model left plain."""

import keras
import numpy as np
import pytest

from hfsent import names
from hfsent.fast_gru import ProjectedGRU, projected_gru
from hfsent.fast_predict import ROW_BUCKETS, FastClassifier, bucket, compiled_call, width_buckets
from hfsent.model import build_model
from hfsent.predict import SentimentClassifier
from hfsent.vocab import PAD, UNK, Vocabulary
from hfsent.wide import with_wide_branch
from tests.conftest import tiny_config

WORDS = [f"w{i}" for i in range(40)]
MAX_LENGTH = 16  # one width bucket: XLA compiles each shape for a second or more


def _sequences(n: int, max_length: int, seed: int = 0) -> list[list[int]]:
    """``n`` id sequences of every length from 1 to ``max_length``."""
    rng = np.random.default_rng(seed)
    return [rng.integers(1, len(WORDS) + 2, size=1 + (i * 7) % max_length).tolist() for i in range(n)]


@pytest.fixture(scope="module", params=["gru", "wide, three classes", "one direction, last state"])
def classifier(request, tmp_path_factory):
    """An untrained model: a bidirectional GRU; one with the wide branch (string-hashed bigrams,
    which XLA cannot compile) and a softmax over three classes; or a forward GRU whose final
    state is the pooling."""
    keras.utils.set_random_seed(0)
    three = request.param == "wide, three classes"
    settings = {"embedding_dim": 8, "gru_units": 8, "bidirectional": True, "max_length": MAX_LENGTH}
    if three:
        settings["label_names"] = ["a", "b", "c"]
    if request.param.startswith("one"):
        settings.update(bidirectional=False, pooling="last")
    config = tiny_config(tmp_path_factory.mktemp("unused"), **settings)
    vocab = Vocabulary([PAD, UNK, *WORDS])
    model = build_model(config.model, len(vocab))
    if three:
        model = with_wide_branch(model, len(vocab), 64)
    return SentimentClassifier(model, vocab, config)


def test_buckets():
    assert width_buckets(600) == [16, 32, 64, 128, 256, 512, 600]
    assert width_buckets(16) == [16] and width_buckets(10) == [10]
    assert [bucket(n, ROW_BUCKETS) for n in (1, 3, 8, 9, 33)] == [1, 4, 8, 16, 33]


def test_outputs_equal_predict_ids_within_float_noise(classifier):
    fast = FastClassifier.of(classifier)
    sequences = _sequences(70, MAX_LENGTH)  # two full calls of 32 rows and one of 6, grown to 8
    expected = classifier.predict_ids(sequences)
    got = fast.predict_ids(sequences)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    for i in (0, 5, 33):  # alone: its batch of one grows to a bucket of one, padded on the right
        np.testing.assert_allclose(fast.predict_ids([sequences[i]]), expected[i:i + 1], rtol=0, atol=1e-5)
    np.testing.assert_allclose(fast.predict_ids(sequences, batch_size=3), expected, rtol=0, atol=1e-5)
    texts = ["w1 w2 w3", "w4 w5", "w9 " * 50]  # the last one truncated to max_length
    assert [r["label"] for r in fast.predict(texts)] == [r["label"] for r in classifier.predict(texts)]


def test_the_served_call_of_an_hfsent_model_runs_the_projected_gru(classifier, monkeypatch):
    traced, recur = [], ProjectedGRU.recur

    def counted(self, *args, **kwargs):
        traced.append(self)
        return recur(self, *args, **kwargs)

    monkeypatch.setattr(ProjectedGRU, "recur", counted)
    FastClassifier.of(classifier)
    assert traced, "the served graph did not run the projected GRU"


def _embedded(ids):
    return keras.layers.Embedding(len(WORDS) + 2, 8, name=names.EMBEDDING)(ids)


def _gru_fed_through_a_dense(ids, mask):
    return keras.layers.GRU(8, name=names.GRU)(keras.layers.Dense(8)(_embedded(ids)), mask=mask)


def _embedding_read_twice(ids, mask):
    x = _embedded(ids)
    last = keras.layers.GRU(8, name=names.GRU)(keras.layers.Dropout(0.1)(x), mask=mask)
    return keras.layers.Concatenate()([last, keras.layers.GlobalAveragePooling1D()(x)])


def _gru_with_an_initial_state(ids, mask):
    other = keras.layers.Embedding(len(WORDS) + 2, 4, name="other_words")(ids)
    state = keras.layers.Dense(8)(keras.layers.GlobalAveragePooling1D()(other))
    return keras.layers.GRU(8, name=names.GRU)(_embedded(ids), mask=mask, initial_state=[state])


def _gru_in_mixed_precision(ids, mask):
    x = keras.layers.Embedding(len(WORDS) + 2, 8, name=names.EMBEDDING, dtype="mixed_bfloat16")(ids)
    return keras.layers.GRU(8, name=names.GRU, dtype="mixed_bfloat16")(x, mask=mask)


def _last_output_zeroed_where_masked(ids, mask):
    return keras.layers.GRU(8, name=names.GRU, zero_output_for_mask=True)(_embedded(ids), mask=mask)


OUT_OF_SCOPE = [_gru_fed_through_a_dense, _embedding_read_twice, _gru_with_an_initial_state,
                _gru_in_mixed_precision, _last_output_zeroed_where_masked]


@pytest.mark.parametrize("network", OUT_OF_SCOPE)
def test_a_model_outside_the_projected_scope_keeps_keras_layers_and_the_same_outputs(network):
    ids = keras.Input((None,), dtype="int32")
    head = keras.layers.Dense(1, activation="sigmoid", dtype="float32")
    model = keras.Model(ids, head(network(ids, keras.ops.not_equal(ids, 0))))
    assert projected_gru(model) is None
    padded = np.array([[2, 3, 4, 0], [5, 0, 0, 0]], dtype=np.int32)
    tolerance = 2e-2 if network is _gru_in_mixed_precision else 1e-5
    np.testing.assert_allclose(np.asarray(compiled_call(model)(padded), dtype=np.float32),
                               np.asarray(model.predict_on_batch(padded), dtype=np.float32),
                               rtol=0, atol=tolerance)


def test_xla_compiles_the_recurrent_layers_and_leaves_the_model_plain(classifier):
    fast = FastClassifier.of(classifier)
    library = fast._call.graph.as_graph_def().library.function
    compiled = [f.signature.name for f in library if f.attr["_XlaMustCompile"].b]
    assert compiled, "no function of the fast graph is compiled by XLA"
    assert all("call" not in vars(layer) for layer in classifier.model.layers)
    assert FastClassifier.of(fast) is fast


def test_compile_shapes_counts_each_bucketed_shape(classifier):
    fast = FastClassifier.of(classifier)
    assert fast.compile_shapes(max_rows=4) == 3  # rows 1, 2 and 4, one width
    assert fast.compile_shapes(max_rows=1) == 1


def test_a_quantized_embedding_keeps_keras_layers_and_predicts_as_keras_does(tmp_path):
    from hfsent.export import MIN_INT8_WIDTH, quantize_int8

    config = tiny_config(tmp_path, embedding_dim=MIN_INT8_WIDTH, gru_units=8, bidirectional=True,
                         max_length=MAX_LENGTH)
    vocab = Vocabulary([PAD, UNK, *WORDS])
    classifier = SentimentClassifier(build_model(config.model, len(vocab)), vocab, config)
    assert names.EMBEDDING in quantize_int8(classifier.model)
    assert projected_gru(classifier.model) is None  # its float table is gone: no lookup to make
    sequences = _sequences(10, MAX_LENGTH)
    np.testing.assert_allclose(FastClassifier.of(classifier).predict_ids(sequences),
                               classifier.predict_ids(sequences), rtol=0, atol=1e-5)
