"""RMSprop and Adagrad, Keras 3 form (ε inside the square root)."""
from baeum.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """RMSprop.

    v ← ρv + (1−ρ)g²;  centered: ā ← ρā + (1−ρ)g, d = v − ā² + ε, else d = v + ε;
    Δ = lr·g/√d;  momentum > 0: m ← μm + Δ, w ← w − m;  else w ← w − Δ.

    PyTorch: ε (1e-8) outside the root, α (=ρ) 0.99, lr 1e-2 by default.
    """

    _kind = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name="rmsprop",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": bool(self.centered)}

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum,
                    epsilon=self.epsilon, centered=self.centered)


class Adagrad(Optimizer):
    """Adagrad: a ← a + g² (a₀ = initial_accumulator_value); w ← w − lr·g/√(a + ε).

    PyTorch: a₀ = 0, ε = 1e-10 outside the root, lr 1e-2.
    """

    _kind = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_initial_value(self, slot_name):
        return self.initial_accumulator_value

    def _hyper(self):
        return {"epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(),
                    initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)
