"""Merge layers (Keras `layers/merging/*`): Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot, and their functional forms (`add([a, b])`, `concatenate([a, b])`, …).

They take a list of inputs: `forward` receives the list of arrays, `backward` returns the list
of input gradients. The math is NumPy in `baeum.reference.merging` (no C++ kernels: these are
small elementwise/copy ops).
"""
from baeum.layers.base import Layer, _is_shape_list
from baeum.reference import merging as ref


def _fmt(shapes):
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


class _Merge(Layer):
    _op = None

    def _check_list(self, input_shape, at_least=1):
        if not _is_shape_list(input_shape):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: a merge layer should be called on a list of inputs. "
                f"Received: input_shape={input_shape} (not a list of shapes). Fix: {type(self).__name__}()([a, b]).")
        if len(input_shape) < at_least:
            raise ValueError(f"{type(self).__name__} {self.name!r}: a merge layer should be called on a list of "
                             f"at least {at_least} input(s). Got {len(input_shape)} inputs.")

    def _elementwise_shape(self, shapes):
        batches = {s[0] for s in shapes if s[0] is not None}
        if len(batches) > 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: cannot merge tensors with different batch "
                             f"sizes. Received tensors with shapes {_fmt(shapes)}.")
        out = tuple(shapes[0][1:])
        for s in shapes[1:]:
            s = tuple(s[1:])
            if len(s) != len(out):
                longer, shorter = (out, s) if len(out) > len(s) else (s, out)
                shorter = (1,) * (len(longer) - len(shorter)) + shorter
                out, s = longer, shorter
            merged = []
            for i, j in zip(out, s):
                if i is None or j is None:
                    merged.append(None)
                elif i == 1:
                    merged.append(j)
                elif j == 1 or i == j:
                    merged.append(i)
                else:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r}: inputs have incompatible shapes. Received shapes "
                        f"{_fmt(shapes)}. Fix: every input must have the same shape (or 1 where it broadcasts).")
            out = tuple(merged)
        return (None,) + out

    def build(self, input_shape):
        self._check_list(input_shape)
        self._elementwise_shape(input_shape)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        return self._elementwise_shape(input_shape)

    def forward(self, x, ctx, training):
        ctx["x"] = x
        return ref.merge_forward(self._op, x)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        return [g.astype("float32", copy=False) for g in ref.merge_backward(self._op, dy, ctx["x"])]


class Add(_Merge):
    """y = x_0 + x_1 + … (Keras `Add`)."""
    _op = "add"


class Subtract(_Merge):
    """y = x_0 − x_1, exactly two inputs (Keras `Subtract`)."""
    _op = "subtract"

    def _check_list(self, input_shape, at_least=1):
        super()._check_list(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"Subtract {self.name!r}: a Subtract layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={_fmt(input_shape)}.")


class Multiply(_Merge):
    """y = x_0 · x_1 · … elementwise (Keras `Multiply`)."""
    _op = "multiply"


class Average(_Merge):
    """y = mean of the inputs (Keras `Average`)."""
    _op = "average"


class Maximum(_Merge):
    """y = elementwise maximum of the inputs (Keras `Maximum`)."""
    _op = "maximum"


class Minimum(_Merge):
    """y = elementwise minimum of the inputs (Keras `Minimum`)."""
    _op = "minimum"


class Concatenate(_Merge):
    """Concatenation along `axis` (default -1); the other dimensions must match (Keras `Concatenate`)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _out_shape(self, shapes):
        self._check_list(shapes)
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or axis == 0 or any(len(s) != rank for s in shapes) or any(
                any(a is not None and b is not None and a != b for k, (a, b) in enumerate(zip(s, shapes[0]))
                    if k != axis) for s in shapes):
            raise ValueError(
                f"Concatenate {self.name!r}: a Concatenate layer requires inputs with matching shapes except for "
                f"the concatenation axis (axis={self.axis}, the batch axis 0 excluded). Received: "
                f"input_shape={_fmt(shapes)}.")
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[0] = None
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        for k in range(1, rank):
            if k != axis and out[k] is None:
                out[k] = next((s[k] for s in shapes if s[k] is not None), None)
        return tuple(out)

    def build(self, input_shape):
        self._out_shape(input_shape)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape)

    def forward(self, x, ctx, training):
        ctx["x"] = x
        return ref.concatenate_forward(x, self.axis)

    def backward(self, dy, ctx, need_dx=True):
        return ref.concatenate_backward(dy, ctx["x"], self.axis) if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Batch dot product of two inputs contracting `axes` (int or pair); `normalize=True`
    L2-normalises both along those axes first (cosine proximity). Keras `Dot`."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot {self.name!r}: axes must be an int or a list of 2 ints, received {axes!r}.")
            axes = [int(a) for a in axes]
        elif isinstance(axes, int):
            axes = int(axes)
        else:
            raise TypeError(f"Dot {self.name!r}: axes must be an int or a list of 2 ints, received {axes!r}.")
        self.axes = axes
        self.normalize = bool(normalize)

    def _axes(self, shapes):
        s0, s1 = shapes
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, (s0, s1))]

    def _out_shape(self, shapes):
        self._check_list(shapes)
        if len(shapes) != 2:
            raise ValueError(f"Dot {self.name!r}: a Dot layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={_fmt(shapes)}.")
        s0, s1 = (tuple(s) for s in shapes)
        a0, a1 = self._axes(shapes)
        if not (1 <= a0 < len(s0) and 1 <= a1 < len(s1)):
            raise ValueError(f"Dot {self.name!r}: axes {self.axes!r} are out of range (or the batch axis 0) for "
                             f"input shapes {s0} and {s1}.")
        if s0[a0] is not None and s1[a1] is not None and s0[a0] != s1[a1]:
            raise ValueError(
                f"Dot {self.name!r}: incompatible input shapes: axis values {s0[a0]} (at axis {a0}) != {s1[a1]} "
                f"(at axis {a1}). Full input shapes: {s0}, {s1}.")
        out = (None,) + s0[1:a0] + s0[a0 + 1:] + s1[1:a1] + s1[a1 + 1:]
        return out if len(out) > 1 else (None, 1)

    def build(self, input_shape):
        self._out_shape(input_shape)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape)

    def forward(self, x, ctx, training):
        ctx["x"] = x
        axes = self._axes([a.shape for a in x])
        ctx["axes"] = axes
        return ref.dot_forward(x[0], x[1], axes, self.normalize).astype("float32", copy=False)

    def backward(self, dy, ctx, need_dx=True):
        if not need_dx:
            return None
        x0, x1 = ctx["x"]
        return [g.astype("float32", copy=False) for g in ref.dot_backward(dy, x0, x1, ctx["axes"], self.normalize)]

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
