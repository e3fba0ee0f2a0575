"""Keras 3's progress bar (``keras.utils.Progbar``), reproduced character for character.

verbose=1, one line redrawn in place (bold count, green/white bar of ``━``)::

    2/3 ━━━━━━━━━━━━━━━━━━━━ 0s 276ms/step - accuracy: 0.3906 - loss: 1.1263

  while running: ETA (``h:mm:ss`` > 1 h, ``m:ss`` > 1 min, else ``Ns``); when finished:
  elapsed seconds. Redraws are throttled to one per ``interval`` s (the final one always
  shows). On a terminal (or Jupyter) the line is redrawn with ``\\r``; when the stream is
  not interactive (a log file, CI) only the final line is written, without ANSI colours
  (Keras would print every redraw on its own line).
verbose=2, one plain line when finished::

    3/3 - 1s - 435ms/step - accuracy: 0.3500 - loss: 1.1445

Values: ``|v| > 1e-3`` -> ``{v:.4f}`` else ``{v:.4e}`` (verbose=2 tests ``v > 1e-3``
without ``abs``, as Keras does). Time per step excludes the first step once more than one
step is done: ``(now - t_after_step_1) / (current - 1)``; ``>= 1 s`` -> ``Ns``,
``>= 1 ms`` -> ``Nms``, else ``Nus``.

Testing hooks (not in Keras): ``stream`` (default: ``sys.stdout`` at write time),
``time_fn`` (default ``time.time``) and ``dynamic`` (default: auto-detect) are keyword-only.
"""
import math
import sys
import time

_BAR = "\u2501"  # ━


def _is_dynamic(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return True
    except ValueError:  # closed stream
        return False
    return "ipykernel" in sys.modules


def write(stream, message):
    """Write and flush; on a console that cannot encode ``━`` draw the bar with ``=``."""
    try:
        stream.write(message)
    except UnicodeEncodeError:
        stream.write(message.replace(_BAR, "="))
    stream.flush()


def format_value(v, verbose=1):
    """One metric value as Keras prints it."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return f"{v}"
    big = abs(v) > 1e-3 if verbose == 1 else v > 1e-3
    return f"{v:.4f}" if big else f"{v:.4e}"


def format_time(time_per_unit, unit_name="step"):
    """`` 12ms/step``-style duration (leading space included, as in Keras)."""
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


class Progbar:
    """Displays a progress bar (Keras ``keras.utils.Progbar``).

    Args:
        target: total number of steps, or None if unknown.
        width: bar width in characters (20).
        verbose: 0 silent, 1 progress bar, 2 one line when finished.
        interval: minimum seconds between redraws (0.05).
        stateful_metrics: names shown as given (not averaged); by default every metric
            is averaged over the updates of this bar, as in Keras.
        stateless_metrics: alternatively, the names that ARE averaged (all others are
            shown as given). Only one of the two may be given.
        unit_name: "step" or "sample".
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", *, stream=None, time_fn=None,
                 dynamic=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: give only one of `stateful_metrics` or "
                             "`stateless_metrics`.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        if stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._stream = stream
        self._time = time_fn or time.time
        self._dynamic = dynamic
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = self._time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    # -- output -------------------------------------------------------------------------
    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    @property
    def dynamic_display(self):
        return self._dynamic if self._dynamic is not None else _is_dynamic(self.stream)

    def _write(self, message):
        write(self.stream, message)

    # -- state --------------------------------------------------------------------------
    def _record(self, current, values, finalize):
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if self.stateful_metrics is not None:
                stateless = k not in self.stateful_metrics
            else:
                stateless = k in self.stateless_metrics
            if stateless and not finalize:
                base = max(current - self._seen_so_far, 1)
                if k not in self._values:
                    self._values[k] = [v * base, base]
                else:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
            else:  # shown as given (and the final update of an averaged metric)
                self._values[k] = [v, 1]
        self._seen_so_far = current

    def _estimate_step_duration(self, current, now):
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def _metrics(self, verbose):
        info = ""
        for k in self._values_order:
            total, count = self._values[k]
            try:
                avg = total / max(1, count)
            except TypeError:  # a non-numeric log value: show it as is
                avg = total
            info += f" - {k}: {format_value(avg, verbose)}"
        return info

    # -- public -------------------------------------------------------------------------
    def update(self, current, values=None, finalize=None):
        """Record step ``current`` with ``values`` = [(name, value), ...] and redraw."""
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        self._record(current, values, finalize)
        now = self._time()
        time_per_unit = self._estimate_step_duration(current, now)
        has_target = self.target is not None and self.target > 0

        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            dynamic = self.dynamic_display
            if not dynamic and not finalize:
                self._last_update = now
                return  # not a terminal: only the final line is written
            bold, green, white, reset = (("\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m")
                                         if dynamic else ("", "", "", ""))
            if has_target:
                digits = int(math.log10(self.target)) + 1
                bar = f"{bold}{current:>{digits}d}/{self.target}{reset} "
                filled = int(self.width * float(current) / self.target)
                if filled > 0:
                    bar += f"{green}{_BAR * filled}{reset}"
                bar += f"{white}{_BAR * (self.width - filled)}{reset}"
            else:
                bar = f"{current:7d}/Unknown"
            if has_target and not finalize:
                eta = time_per_unit * (self.target - current)
                if eta > 3600:
                    eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
                elif eta > 60:
                    eta_format = "%d:%02d" % (eta // 60, eta % 60)
                else:
                    eta_format = "%ds" % eta
                info = f" {bold}{eta_format}{reset}"
            else:
                info = f" {bold}{now - self._start:.0f}s{reset}"
            info += format_time(time_per_unit, self.unit_name)
            info += self._metrics(1)
            line = bar + info
            visible = len(_strip_ansi(line))
            if dynamic:
                message = "\r" + line
                if self._prev_total_width > visible:
                    message += " " * (self._prev_total_width - visible)
            else:
                message = line
            if finalize:
                message += "\n"
            self._write(message)
            self._prev_total_width = visible

        elif self.verbose == 2:
            if finalize and has_target:
                digits = int(math.log10(self.target)) + 1
                info = f"{current:>{digits}d}/{self.target} - {now - self._start:.0f}s"
                info += " -" + format_time(time_per_unit, self.unit_name)
                info += self._metrics(2)
                self._write(info + "\n")

        self._last_update = now

    def add(self, n, values=None):
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)


def _strip_ansi(s):
    for code in ("\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"):
        s = s.replace(code, "")
    return s
