"""Every figure and label reads at WCAG AA (4.5:1) in the default theme, under NO_COLOR
and on a 16-colour terminal; and meaning never rests on colour alone.

The contrast is computed over the cells the app really paints: the screen's strips
after the app's own line filters (NO_COLOR's monochrome), with the colours a 16-colour
terminal shows (xterm's default palette, light text on black) for the ANSI theme.
"""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.terminal_theme import TerminalTheme
from test_tui_support import SIZE, make_app, seed, settle
from textual.color import Color

from finance_tui.app import ANSI_THEME
from screens.import_export import ImportScreen
from screens.widgets import TickBox

AA = 4.5
XTERM = TerminalTheme(
    (0, 0, 0),
    (229, 229, 229),
    [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
     (0, 205, 205), (229, 229, 229)],
    [(127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255),
     (0, 255, 255), (255, 255, 255)],
)  # fmt: skip


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    high, low = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(colour: RichColor | None, default: tuple[int, int, int], sixteen: bool):
    if colour is None or colour.is_default:
        return default
    if sixteen:
        colour = colour.downgrade(ColorSystem.STANDARD)
    triplet = colour.get_truecolor(XTERM)
    return (triplet.red, triplet.green, triplet.blue)


def painted_text(app, sixteen: bool) -> list[tuple[float, str]]:
    """(contrast, text) of every painted segment that holds a letter or a digit."""
    cells: list[tuple[float, str]] = []
    for strip in app.screen._compositor.render_strips():
        segments = list(strip)
        for line_filter in app.get_line_filters():
            segments = line_filter.apply(segments, Color(0, 0, 0))
        for segment in segments:
            style = segment.style
            if style is None or not any(ch.isalnum() for ch in segment.text):
                continue
            fg = _rgb(style.color, XTERM.foreground_color[:3], sixteen)
            bg = _rgb(style.bgcolor, XTERM.background_color[:3], sixteen)
            if style.reverse:
                fg, bg = bg, fg
            if style.dim:  # what a terminal does with SGR 2: half way to the background
                fg = tuple((a + b) // 2 for a, b in zip(fg, bg, strict=True))
            cells.append((contrast(fg, bg), segment.text.strip()))
    return cells


@pytest.mark.parametrize("mode", ["default", "no_color", "sixteen_colours"])
async def test_dashboard_and_records_read_at_aa(admin, tmp_path, monkeypatch, mode):
    seed(40)  # income and expense records, so both colours are on screen
    if mode == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path, admin)
    if mode == "sixteen_colours":
        app.theme = ANSI_THEME  # what the app picks at start on a 16-colour terminal
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.no_color is (mode == "no_color")
        for key in ("1", "2"):
            await pilot.press(key)
            await settle(pilot)
            cells = painted_text(app, sixteen=mode == "sixteen_colours")
            texts = " ".join(text for _, text in cells)
            assert "expense" in texts and "income" in texts, key  # both kinds measured
            faint = sorted({(round(r, 2), t) for r, t in cells if r < AA})
            assert not faint, (mode, key, faint[:10])


def test_the_contrast_formula_matches_wcag_examples():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    # the default theme's old expense colour on its surface: the 3.6:1
    assert contrast((0xF4, 0x00, 0x5F), (0x27, 0x27, 0x27)) == pytest.approx(3.6, abs=0.1)


async def test_import_options_show_on_and_off_by_shape(admin, tmp_path):
    app = make_app(tmp_path, admin)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        box = app.screen.query_one("#import-dry", TickBox)
        off = box.render().plain
        box.value = True
        await pilot.pause()
        on = box.render().plain
        assert "✓" in on and "✓" not in off and "X" not in off
        assert off.replace(" ", "") != on.replace(" ", "")
