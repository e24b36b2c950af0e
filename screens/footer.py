"""The footer: the keys of the focused screen on one line, whole labels only.

One widget that draws its keys, not Textual's ``Footer``, which is a container of one
widget per key. Textual announces the bindings again on every focus move, and the stock
footer then removed and mounted all its key widgets (6 to 11 on a screen), each styled
and laid out, and laid the screen out once more. In the record form Enter moves the
focus and the keys change with it: a test that enters the README's record (app start
included) took 1,429 and 1,215 ms of CPU with the stock footer, 1,125 and 1,069 ms with
this one (medians of 5, two paired runs; ``docs/ARCHITECTURE.md``, "Five rules"). This
one repaints its single line, and only when what it shows has changed.

It looks and acts as the stock one: the same colours (Textual's ``$footer-*`` theme
variables), a key per action (the first binding of it), the palette key on the right,
a dimmed key for a disabled action, a click that presses the key, a tooltip and a hover
colour. Unlike it, a key that does not fit is left out whole instead of cut mid-word;
help (F1) and the palette still list every key, and every key works whether shown or
not.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

from screens.base import laid_out_content

SEPARATOR = "▏"  # before the palette key: Textual's "vkey" border on the left


@dataclass(frozen=True)
class ShownKey:
    """One key as the footer shows it."""

    key: str
    key_display: str
    description: str
    enabled: bool
    tooltip: str

    def label(self, *, compact: bool) -> tuple[str, str]:
        """The key part and the description part. ``compact`` (the palette key) has no
        padding around the key, as Textual draws it."""
        if compact:
            return self.key_display, f" {self.description}" if self.description else ""
        if not self.description:
            return self.key_display, ""
        return f" {self.key_display} ", f"{self.description} "

    def width(self, *, compact: bool = False) -> int:
        return sum(cell_len(part) for part in self.label(compact=compact))


@dataclass(frozen=True)
class FooterLine:
    """Where each key sits on a line of a given width (x ranges of the content)."""

    shown: tuple[tuple[int, int, ShownKey], ...]
    left_out: tuple[ShownKey, ...]
    palette: tuple[int, int, ShownKey] | None


class FitFooter(Widget, can_focus=False):
    """The keys of the screen's bindings that have ``show`` set, and the palette key."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "fit-footer--key",
        "fit-footer--description",
        "fit-footer--hover",
        "fit-footer--separator",
    }

    def __init__(self) -> None:
        super().__init__()
        self.keys: tuple[ShownKey, ...] = ()
        self.palette_key: ShownKey | None = None
        self._hovered: ShownKey | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_bindings()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._read_bindings)

    def _read_bindings(self) -> None:
        """Repaint only if the keys shown changed: Textual re-announces the bindings on
        each focus move, mostly with the same keys."""
        if not self.is_attached:
            return
        app = self.app
        keys: dict[str, ShownKey] = {}  # the first binding of each action
        palette = None
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            display = app.get_key_display(binding)
            if key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                tip = binding.tooltip or binding.description
                palette = ShownKey(key, display, binding.description, enabled, tip)
            elif binding.show:
                shown = ShownKey(key, display, binding.description, enabled, tooltip)
                keys.setdefault(binding.action, shown)
        new = tuple(keys.values())
        if (new, palette) != (self.keys, self.palette_key):
            self.keys, self.palette_key = new, palette
            self.refresh()

    def arrange_keys(self, width: int) -> FooterLine:
        """The palette key at the right end; the others from the left while they fit."""
        palette = None
        room = width
        if self.palette_key is not None:
            room -= 1 + self.palette_key.width(compact=True) + 1  # separator, key, padding
            palette = (max(room, 0), width, self.palette_key)
        shown: list[tuple[int, int, ShownKey]] = []
        x = 0
        for index, key in enumerate(self.keys):
            end = x + key.width()
            if end > room:
                return FooterLine(tuple(shown), self.keys[index:], palette)
            shown.append((x, end, key))
            x = end
        return FooterLine(tuple(shown), (), palette)

    def _line(self) -> FooterLine:
        """The keys arranged on the width of the last layout."""
        return self.arrange_keys(laid_out_content(self)[0])

    def render(self) -> Text:
        line = self._line()
        text = Text(no_wrap=True, overflow="crop", end="")
        for _start, _end, key in line.shown:
            text.append_text(self._label(key, compact=False))
        if line.palette is not None:
            start, _end, key = line.palette
            text.pad_right(start - text.cell_len)
            text.append(SEPARATOR, self.get_component_rich_style("fit-footer--separator"))
            text.append_text(self._label(key, compact=True))
            text.append(" ")
        return text

    def _label(self, key: ShownKey, *, compact: bool) -> Text:
        key_part, description = key.label(compact=compact)
        text = Text.assemble(
            (key_part, self.get_component_rich_style("fit-footer--key")),
            (description, self.get_component_rich_style("fit-footer--description")),
        )
        if not key.enabled:
            text.stylize(Style(dim=True))
        if key == self._hovered:
            hover = self.get_component_rich_style("fit-footer--hover")
            text.stylize(Style(bgcolor=hover.bgcolor))
        return text

    def key_at(self, x: int) -> ShownKey | None:
        line = self._line()
        spans = [*line.shown, *([line.palette] if line.palette else [])]
        return next((key for start, end, key in spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        if key != self._hovered:
            self._hovered = key
            self.tooltip = (key.tooltip or None) if key else None
            self.refresh()

    def on_leave(self) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
