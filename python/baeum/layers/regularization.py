"""Keras `SpatialDropout2D`: dropout of whole feature maps (channels)."""
from baeum.layers.core import Dropout
from baeum.layers.pooling import _check_rank, _data_format


class SpatialDropout2D(Dropout):
    """In training, drop each (sample, channel) feature map with probability `rate` and scale
    the kept ones by 1/(1 − rate) (inverted dropout, noise shape (N, 1, 1, C)); identity at
    inference. Seeded like Dropout: `seed`, else baeum's global generator. As in Keras, a
    Dropout with a fixed noise shape."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, noise_shape=(None, 1, 1, None), seed=seed, **kwargs)
        _data_format(data_format, self)

    def build(self, input_shape):
        _check_rank(self, input_shape, 2)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        config["data_format"] = "channels_last"
        return config
