"""SGD with optional (Nesterov) momentum, Keras 3 form."""
import numpy as np

from baeum.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent (with momentum).

    momentum = 0:  w ← w − lr·g
    momentum > 0:  v ← μ·v − lr·g;  w ← w + v     (nesterov: w ← w + μ·v − lr·g)

    PyTorch writes b ← μb + g; w ← w − lr·b — the same path for a constant lr, but Keras's
    velocity already contains lr, so changing lr mid-training acts differently.
    """

    _kind = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        if not isinstance(momentum, (float, np.floating)) or not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1]. "
                             f"Received: momentum={momentum!r} (write e.g. 0.9, not 1).")
        self.momentum = momentum
        self.nesterov = nesterov

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": bool(self.nesterov)}

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)
