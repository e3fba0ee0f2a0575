"""baeum.reference — the NumPy twin of every op in baeum.ops, with the same signature.

This is the definition of "correct" and the first thing to read: each function is the
plain math, with no speed tricks. Tests compare baeum.ops against it.
"""
from baeum.reference.activations import (
    activation_backward,
    activation_forward,
    activation_needs_input,
    prelu_backward,
    prelu_forward,
    relu_backward,
    relu_forward,
    rrelu_backward,
    rrelu_forward,
)
from baeum.reference.conv import (
    col2im,
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
    conv2d_transpose_backward,
    conv2d_transpose_forward,
    depthwise_conv2d_backward,
    depthwise_conv2d_forward,
    im2col,
)
from baeum.reference.linalg import matmul
from baeum.reference.losses import sigmoid_binary_crossentropy, softmax_cross_entropy, sparse_softmax_cross_entropy
from baeum.reference.nn import (
    bias_add,
    bias_grad,
    dense_backward,
    dense_forward,
    dropout_backward,
    dropout_forward,
    softmax_backward,
    softmax_forward,
)
from baeum.reference.rnn import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    simple_rnn_backward,
    simple_rnn_forward,
)
from baeum.reference.pool import (
    max_pool2d_forward,
    max_pool2d_backward,
    avg_pool2d_forward,
    avg_pool2d_backward,
    max_pool1d_forward,
    max_pool1d_backward,
    avg_pool1d_forward,
    avg_pool1d_backward,
    global_avg_pool_forward,
    global_avg_pool_backward,
    global_max_pool_forward,
    global_max_pool_backward,
)
from baeum.reference.norm import batch_norm_backward, batch_norm_forward, layer_norm_backward, layer_norm_forward
from baeum.reference.optim import optimizer_slot_names, optimizer_step

__all__ = [
    "matmul",
    "activation_forward", "activation_backward", "activation_needs_input",
    "relu_forward", "relu_backward", "prelu_forward", "prelu_backward", "rrelu_forward", "rrelu_backward",
    "dense_forward", "dense_backward", "dropout_forward", "dropout_backward",
    "softmax_forward", "softmax_backward", "bias_add", "bias_grad",
    "sigmoid_binary_crossentropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
    "optimizer_step", "optimizer_slot_names",
    "simple_rnn_forward", "simple_rnn_backward", "lstm_forward", "lstm_backward",
    "gru_forward", "gru_backward",
    "im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv1d_forward", "conv1d_backward",
    "conv2d_transpose_forward", "conv2d_transpose_backward", "depthwise_conv2d_forward", "depthwise_conv2d_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward", "max_pool1d_forward", "max_pool1d_backward",
    "avg_pool1d_forward", "avg_pool1d_backward", "global_avg_pool_forward", "global_avg_pool_backward", "global_max_pool_forward", "global_max_pool_backward",
    "batch_norm_forward", "batch_norm_backward", "layer_norm_forward", "layer_norm_backward",
]
