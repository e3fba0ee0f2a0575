"""model.summary(): Keras 3's table (rich's box drawing, reproduced without rich)."""
import shutil


def _memory(nbytes):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def _ratio_reduce(total, ratios, maximums, values):
    """rich.table's last-resort shrink: take `total` columns away, evenly by ratio."""
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining, result = total, []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            d = min(maximum, round(ratio * remaining / total_ratio))
            result.append(value - d)
            remaining -= d
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _wrap(text, width):
    """Word-wrap like rich: break at spaces, split words longer than the width."""
    lines, line = [], ""
    for word in text.split(" "):
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


def _shape(shape):
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def print_summary(model, line_length=None, positions=None, print_fn=None, show_trainable=False,
                  connections=None):
    """connections: {id(layer): "name[i][j], ..."} adds Keras's "Connected to" column
    (functional models that are not a simple chain)."""
    header = ["Layer (type)", "Output Shape", "Param #"]
    align = ["left", "left", "right"]
    positions = list(positions or [0.45, 0.80, 1.0])
    default = 88
    if connections is not None:
        header.append("Connected to")
        align.append("left")
        positions = list(positions) if len(positions) == 4 else [0.3, 0.56, 0.74, 1.0]
        default = 108
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    default = min(default, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default
    widths, current = [], 0
    for pos in positions:
        w = int(pos * line_length) - current
        if w < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(w)
        current += w
    # rich: a fixed-width column takes width + 2 (padding); the table must fit line_length.
    cells = [w + 2 for w in widths]
    max_width = line_length - (len(cells) + 1)
    if sum(cells) > max_width:
        cells = _ratio_reduce(sum(cells) - max_width, [1] * len(cells), cells, cells)
    inner = [c - 2 for c in cells]

    rows = []
    for layer in model.layers:
        name = f"{layer.name} ({type(layer).__name__})"
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        shape = layer.output_shape
        if shape and isinstance(shape[0], (list, tuple)):  # several outputs: Keras prints a list
            shape_text = "[" + ", ".join(_shape(s) for s in shape) + "]"
        else:
            shape_text = _shape(shape) if layer.built else "?"
        row = [name, shape_text, params]
        if connections is not None:
            row.append(connections.get(id(layer), "-"))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)

    def render(row):
        wrapped = [_wrap(text, w) for text, w in zip(row, inner)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, w, a in zip(wrapped, inner, align):
                t = lines[i] if i < len(lines) else ""
                t = t.rjust(w) if a == "right" else t.center(w) if a == "center" else t.ljust(w)
                parts.append(f" {t} ")
            out.append(parts)
        return out

    lines = [f'Model: "{model.name}"']
    lines.append("┏" + "┳".join("━" * c for c in cells) + "┓")
    lines += ["┃" + "┃".join(p) + "┃" for p in render(header)]
    lines.append("┡" + "╇".join("━" * c for c in cells) + "┩")
    for i, row in enumerate(rows):
        if i:
            lines.append("├" + "┼".join("─" * c for c in cells) + "┤")
        lines += ["│" + "│".join(p) + "│" for p in render(row)]
    lines.append("└" + "┴".join("─" * c for c in cells) + "┘")

    trainable = sum(v.size for v in model.trainable_weights)
    non_trainable = sum(v.size for v in model.non_trainable_weights)
    opt = getattr(model, "optimizer", None)
    opt_count = opt.variable_count() if opt is not None and hasattr(opt, "variable_count") else 0
    total = trainable + non_trainable + opt_count
    lines.append(f" Total params: {total:,} ({_memory(4 * total)})")
    lines.append(f" Trainable params: {trainable:,} ({_memory(4 * trainable)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({_memory(4 * non_trainable)})")
    if opt_count:
        lines.append(f" Optimizer params: {opt_count:,} ({_memory(4 * opt_count)})")
    text = "\n".join(lines)
    (print_fn or print)(text)
