"""baeum.metrics vs hand-computed values (Keras docstring examples), reset, get()."""
import numpy as np
import pytest

from baeum import losses, metrics

# (metric factory, y_true, y_pred, expected unweighted, sample_weight, expected weighted)
KERAS_EXAMPLES = [
    (lambda: metrics.Mean(), None, [1, 3, 5, 7], 4.0, [1, 1, 0, 0], 2.0),
    (metrics.BinaryAccuracy, [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], 0.75,
     [1, 0, 0, 1], 0.5),
    (metrics.CategoricalAccuracy, [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
     0.5, [0.7, 0.3], 0.3),
    (metrics.SparseCategoricalAccuracy, [[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], 0.5,
     [0.7, 0.3], 0.3),
    (lambda: metrics.TopKCategoricalAccuracy(k=1), [[0, 0, 1], [0, 1, 0]],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (lambda: metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1],
     [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], 0.5, [0.7, 0.3], 0.3),
    (metrics.MeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25, [1, 0], 0.5),
    (metrics.MeanAbsoluteError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.25, [1, 0], 0.5),
    (metrics.RootMeanSquaredError, [[0, 1], [0, 0]], [[1, 1], [0, 0]], 0.5, [1, 0],
     np.sqrt(0.5)),
    (metrics.Precision, [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (metrics.Recall, [0, 1, 1, 1], [1, 0, 1, 1], 2 / 3, [0, 0, 1, 0], 1.0),
    (lambda: metrics.AUC(num_thresholds=3), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], 0.75,
     [1, 0, 0, 1], 1.0),
]


@pytest.mark.parametrize("case", KERAS_EXAMPLES, ids=lambda c: str(c[3]))
def test_keras_examples_weighted_unweighted_reset(case):
    make, yt, yp, want, sw, want_w = case
    m = make()

    def upd(**kw):
        if yt is None:
            m.update_state(yp, **kw)
        else:
            m.update_state(yt, yp, **kw)

    upd()
    assert m.result() == pytest.approx(want, rel=1e-6)
    m.reset_state()
    assert m.result() == 0.0
    upd(sample_weight=sw)
    assert m.result() == pytest.approx(want_w, rel=1e-6)


def test_accumulates_over_batches_like_one_big_batch(rng):
    y = (rng.random((30, 1)) > 0.5).astype(np.float32)
    p = rng.random((30, 1)).astype(np.float32)
    w = rng.random(30)
    for make in (metrics.BinaryAccuracy, metrics.Precision, metrics.Recall, metrics.AUC,
                 metrics.MeanSquaredError, metrics.RootMeanSquaredError):
        whole, parts = make(), make()
        whole.update_state(y, p, sample_weight=w)
        for s in (slice(0, 7), slice(7, 8), slice(8, 30)):
            parts.update_state(y[s], p[s], sample_weight=w[s])
        assert parts.result() == pytest.approx(whole.result(), rel=1e-9, abs=1e-12)


def test_weighted_mean_divides_by_sum_of_weights():
    m = metrics.MeanSquaredError()
    m.update_state([[0.0], [0.0]], [[1.0], [3.0]], sample_weight=[3.0, 1.0])
    assert m.result() == pytest.approx((3 * 1 + 1 * 9) / 4)


def test_binary_accuracy_threshold_is_strict():
    m = metrics.BinaryAccuracy(threshold=0.5)
    m.update_state([1, 0], [0.5, 0.5])  # 0.5 is NOT > 0.5: predicts 0
    assert m.result() == 0.5
    assert metrics.BinaryAccuracy(threshold=0.7)([1, 1], [0.6, 0.8]) == 0.5


def test_top_k_ties_count_as_in():
    m = metrics.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([0, 1], [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    assert m.result() == 0.5
    m5 = metrics.TopKCategoricalAccuracy()  # k=5 >= classes: always right
    m5.update_state(np.eye(3)[[0, 2]], [[0.1, 0.5, 0.4], [0.9, 0.1, 0.0]])
    assert m5.result() == 1.0


def _auc_bruteforce(y, p, thresholds):
    tpr, fpr = [], []
    for t in thresholds:
        pos = p > t
        tpr.append((pos & (y == 1)).sum() / max((y == 1).sum(), 1))
        fpr.append((pos & (y == 0)).sum() / max((y == 0).sum(), 1))
    tpr, fpr = np.array(tpr), np.array(fpr)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def test_auc_roc_matches_bruteforce_and_exact_rank_auc(rng):
    y = (rng.random(500) > 0.6).astype(np.float32)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1).astype(np.float32)
    m = metrics.AUC()
    m.update_state(y, p)
    th = np.array([-1e-7] + [(i + 1) / 199 for i in range(198)] + [1 + 1e-7], np.float32)
    assert m.result() == pytest.approx(_auc_bruteforce(y, p, th), rel=1e-9)
    # with 200 thresholds it is close to the exact (Mann-Whitney) AUC
    pos, neg = p[y == 1], p[y == 0]
    exact = ((pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean())
    assert abs(m.result() - exact) < 5e-3


def test_auc_summation_methods_and_pr():
    y, p = [0, 0, 1, 1], [0, 0.5, 0.3, 0.9]
    # thresholds [-eps, 0.5, 1+eps]: tpr=[1, .5, 0], fpr=[1, 0, 0]
    assert metrics.AUC(num_thresholds=3, summation_method="minoring")(y, p) == 0.5
    assert metrics.AUC(num_thresholds=3, summation_method="majoring")(y, p) == 1.0
    # PR, majoring: recall x=[1, .5, 0], precision y=[.5, 1, 0] -> .5*1 + .5*1
    assert metrics.AUC(num_thresholds=3, curve="PR", summation_method="majoring")(y, p) == 1.0
    pr = metrics.AUC(num_thresholds=3, curve="PR")(y, p)
    assert 0.5 < pr < 1.0
    perfect = metrics.AUC(curve="PR")
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0, abs=1e-6)
    assert metrics.AUC(from_logits=True)([0, 1], [-5.0, 5.0]) == pytest.approx(1.0)


def test_precision_recall_multiple_thresholds_and_class_id():
    m = metrics.Precision(thresholds=[0.3, 0.7])
    m.update_state([0, 1, 1, 0], [0.5, 0.8, 0.4, 0.9])
    np.testing.assert_allclose(m.result(), [2 / 4, 1 / 2])
    r = metrics.Recall(class_id=1)
    r.update_state([[0, 1], [0, 1], [1, 0]], [[0.9, 0.6], [0.2, 0.1], [0.0, 0.9]])
    assert r.result() == 0.5
    with pytest.raises(NotImplementedError):
        metrics.Precision(top_k=2)


def test_names_are_keras_names():
    names = {metrics.Mean: "mean", metrics.BinaryAccuracy: "binary_accuracy",
             metrics.CategoricalAccuracy: "categorical_accuracy",
             metrics.SparseCategoricalAccuracy: "sparse_categorical_accuracy",
             metrics.TopKCategoricalAccuracy: "top_k_categorical_accuracy",
             metrics.SparseTopKCategoricalAccuracy: "sparse_top_k_categorical_accuracy",
             metrics.MeanSquaredError: "mean_squared_error",
             metrics.MeanAbsoluteError: "mean_absolute_error",
             metrics.RootMeanSquaredError: "root_mean_squared_error",
             metrics.AUC: "auc", metrics.Precision: "precision", metrics.Recall: "recall"}
    for cls, name in names.items():
        assert cls().name == name


@pytest.mark.parametrize("ident,yts,yps,cls", [
    ("accuracy", (8, 1), (8, 1), metrics.BinaryAccuracy),        # sigmoid output
    ("accuracy", (8,), (8, 1), metrics.BinaryAccuracy),
    ("accuracy", (8, 10), (8, 10), metrics.CategoricalAccuracy),  # softmax + one-hot
    ("acc", (8,), (8, 10), metrics.SparseCategoricalAccuracy),    # integer labels
    ("accuracy", (8, 1), (8, 10), metrics.SparseCategoricalAccuracy),
    ("crossentropy", (8, 1), (8, 1), metrics.BinaryCrossentropy),
    ("ce", (8,), (8, 10), metrics.SparseCategoricalCrossentropy),
])
def test_get_accuracy_by_shapes(ident, yts, yps, cls):
    m = metrics.get(ident, y_true_shape=yts, y_pred_shape=yps)
    assert type(m) is cls
    assert m.name == ident  # the log key is the string given


def test_get_accuracy_by_loss_and_errors():
    assert type(metrics.get("accuracy", loss="binary_crossentropy")) is metrics.BinaryAccuracy
    assert type(metrics.get("acc", loss=losses.SparseCategoricalCrossentropy())) is \
        metrics.SparseCategoricalAccuracy
    assert type(metrics.get("accuracy", loss="categorical_crossentropy")) is \
        metrics.CategoricalAccuracy
    with pytest.raises(ValueError, match="y_true_shape"):
        metrics.get("accuracy", loss="mse")
    with pytest.raises(ValueError, match="y_true_shape"):
        metrics.get("accuracy", loss="crossentropy")
    with pytest.raises(ValueError, match="y_true_shape"):
        metrics.get("acc")
    with pytest.raises(ValueError, match="Valid names.*precision"):
        metrics.get("acuracy")


def test_get_strings_classes_instances_functions():
    for s, cls in [("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError),
                   ("rmse", metrics.RootMeanSquaredError), ("auc", metrics.AUC),
                   ("AUC", metrics.AUC), ("precision", metrics.Precision),
                   ("recall", metrics.Recall), ("Recall", metrics.Recall),
                   ("binary_accuracy", metrics.BinaryAccuracy),
                   ("mean_squared_error", metrics.MeanSquaredError)]:
        m = metrics.get(s)
        assert type(m) is cls and m.name == s
    inst = metrics.AUC(name="my_auc")
    assert metrics.get(inst) is inst
    assert type(metrics.get(metrics.Precision)) is metrics.Precision
    assert type(metrics.get(metrics.binary_accuracy)) is metrics.BinaryAccuracy

    def my_metric(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).max(axis=-1)

    m = metrics.get(my_metric)
    assert m.name == "my_metric"
    m.update_state([[0, 1], [2, 2]], [[1, 1], [2, 5]])
    assert m.result() == 2.0
    assert metrics.get(None) is None


def test_clear_errors():
    with pytest.raises(ValueError, match="SparseCategoricalAccuracy"):
        metrics.CategoricalAccuracy().update_state([0, 1], [[0.1, 0.9], [0.8, 0.2]])
    with pytest.raises(ValueError, match="CategoricalAccuracy"):
        metrics.SparseCategoricalAccuracy().update_state([[0, 1, 0]], [[0.1, 0.9, 0]])
    with pytest.raises(NotImplementedError):
        metrics.AUC(multi_label=True)
