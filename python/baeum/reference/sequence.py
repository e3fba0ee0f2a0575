"""Sequence-tooling layers in plain NumPy: Embedding, Masking, RepeatVector, the
Bidirectional merge. These are both the definition and the implementation (no C++ twin:
each is a gather, a select or a copy, memory-bound, and NumPy already does it at memory
speed). Derivations: docs/sequences.md.

Shapes: N batch, T time, D features (or embedding width), V vocabulary (input_dim).
"""
import numpy as np


# ---- Embedding ---------------------------------------------------------------------------------
def embedding_forward(indices, embeddings):
    """out[..., :] = embeddings[indices[...], :].

    indices: int array of any shape S, values in [0, V); embeddings: (V, D) → out: (*S, D).
    """
    return np.asarray(embeddings, np.float32)[np.asarray(indices, np.int64)]


def embedding_backward(dout, indices, dembeddings):
    """dembeddings[v] += Σ over positions p with indices[p] == v of dout[p]   (a scatter-add).

    dout: (*S, D); indices: S; dembeddings: (V, D), accumulated into (+=) and returned.
    Deterministic, and bit-identical to ``np.add.at(dembeddings, indices, dout)``: each row
    receives its contributions one after another in position order. Done in rounds (why:
    np.add.at is ~3× slower): round k adds every id's k-th occurrence, and within a round
    the ids are distinct, so a plain fancy-index += is exact.
    """
    D = dembeddings.shape[1]
    flat = np.asarray(indices, np.int64).reshape(-1)
    rows = np.asarray(dout, np.float32).reshape(-1, D)
    if flat.size == 0:
        return dembeddings
    order = np.argsort(flat, kind="stable")  # equal ids keep their position order
    ids = flat[order]
    first = np.r_[True, ids[1:] != ids[:-1]]
    rank = np.arange(ids.size) - np.maximum.accumulate(np.where(first, np.arange(ids.size), 0))
    for k in range(int(rank.max()) + 1):
        sel = order[rank == k]  # the k-th occurrence of each id that has one
        dembeddings[flat[sel]] += rows[sel]
    return dembeddings


# ---- Masking -----------------------------------------------------------------------------------
def masking_forward(x, mask_value=0.0):
    """keep[n, t] = any_d(x[n, t, d] != mask_value);  out = x · keep[..., None].

    x: (N, T, D) (any rank ≥ 2; the mask drops the last axis) → (out, keep), keep bool (N, T).
    A timestep whose features ALL equal mask_value is masked and its output zeroed (Keras).
    """
    x = np.asarray(x, np.float32)
    keep = np.any(x != np.float32(mask_value), axis=-1)
    return x * keep[..., None].astype(np.float32), keep


def masking_backward(dout, keep):
    """dx = dout · keep[..., None]  (masked steps were multiplied by 0)."""
    return np.asarray(dout, np.float32) * keep[..., None].astype(np.float32)


# ---- RepeatVector ------------------------------------------------------------------------------
def repeat_vector_forward(x, n):
    """out[:, i, :] = x for i in 0..n−1.   x: (N, D) → out: (N, n, D)."""
    x = np.asarray(x, np.float32)
    return np.ascontiguousarray(np.broadcast_to(x[:, None, :], (x.shape[0], int(n), x.shape[1])))


def repeat_vector_backward(dout):
    """dx = Σ_i dout[:, i, :]   (the copies' gradients add up).  dout: (N, n, D) → (N, D)."""
    return np.asarray(dout, np.float32).sum(axis=1, dtype=np.float32)


# ---- Bidirectional merge -----------------------------------------------------------------------
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def merge_forward(y_fw, y_bw, mode):
    """Combine the forward and (already time-aligned) backward outputs (Keras Bidirectional).

    concat: [y_fw, y_bw] on the last axis; sum: y_fw + y_bw; ave: (y_fw + y_bw)/2;
    mul: y_fw · y_bw; None: the list [y_fw, y_bw].
    """
    if mode == "concat":
        return np.concatenate([y_fw, y_bw], axis=-1)
    if mode == "sum":
        return y_fw + y_bw
    if mode == "ave":
        return (y_fw + y_bw) / np.float32(2)
    if mode == "mul":
        return y_fw * y_bw
    if mode is None:
        return [y_fw, y_bw]
    raise ValueError(f"merge mode must be one of {MERGE_MODES}, received {mode!r}.")


def merge_backward(dout, y_fw, y_bw, mode):
    """(d y_fw, d y_bw) from d out, for the modes of merge_forward.

    concat: split the last axis; sum: (d, d); ave: (d/2, d/2); mul: (d·y_bw, d·y_fw);
    None: dout is the list [d y_fw, d y_bw].
    """
    if mode == "concat":
        u = y_fw.shape[-1]
        return dout[..., :u], dout[..., u:]
    if mode == "sum":
        return dout, dout
    if mode == "ave":
        half = dout / np.float32(2)
        return half, half
    if mode == "mul":
        return dout * y_bw, dout * y_fw
    if mode is None:
        return dout[0], dout[1]
    raise ValueError(f"merge mode must be one of {MERGE_MODES}, received {mode!r}.")
