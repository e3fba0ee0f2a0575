"""Keras `SpatialDropout2D`: dropout of whole feature maps (channels)."""
import numpy as np

from baeum import ops
from baeum.layers.base import Layer
from baeum.layers.pooling import _check_rank, _data_format
from baeum.utils import _rng


class SpatialDropout2D(Layer):
    """In training, drop each (sample, channel) feature map with probability `rate` and scale
    the kept ones by 1/(1 − rate) (inverted dropout, noise shape (N, 1, 1, C)); identity at
    inference. Seeded like Dropout: `seed`, else baeum's global generator."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _data_format(data_format, self)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"SpatialDropout2D {self.name!r}: rate must be a number in [0, 1], received {rate!r}.")
        self.rate = float(rate)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def build(self, input_shape):
        _check_rank(self, input_shape, 2)

    def _next_seed(self):
        if self._rng is not None:
            return int(self._rng.integers(0, 2**63 - 1))
        return _rng.next_seed()

    def forward(self, x, ctx, training):
        if not training or self.rate == 0.0:
            ctx["mask"] = None
            return x
        y, ctx["mask"] = ops.dropout_forward(x, self.rate, self._next_seed(),
                                             noise_shape=(x.shape[0], 1, 1, x.shape[3]))
        return y

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        mask = ctx["mask"]
        return dy if mask is None else ops.dropout_backward(dy, mask)

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, data_format="channels_last", seed=self.seed)
        return config
