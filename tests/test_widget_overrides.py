"""Widgets that override a Textual action or watcher keep the stock behaviour working."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from textual.app import App, ComposeResult
from textual.color import Color
from textual.containers import VerticalScroll
from textual.css.model import CombinatorType, RuleSet, Selector, SelectorType
from textual.css.stylesheet import Stylesheet
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Static

from screens.record_form import KindToggle
from screens.screen_open import OpenOnceScreen
from screens.scroll_pane import ScrollPane
from screens.widgets import TextInput, TickBox

SCREENS = Path(__file__).resolve().parent.parent / "screens"
STYLES = SCREENS.parent / "styles"


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield KindToggle()


async def test_space_toggles_the_kind() -> None:
    app = _Host()
    async with app.run_test() as pilot:
        toggle = app.query_one(KindToggle)
        toggle.focus()
        await pilot.press("space")
        assert toggle.value == "income"
        await pilot.press("right")
        assert toggle.value == "expense"


async def test_textuals_toggle_action_still_flips_an_attribute() -> None:
    """``toggle('attr')`` is Textual's action on every widget; KindToggle used to replace
    it with a no-argument method, so the action raised a TypeError on this widget."""
    app = _Host()
    async with app.run_test() as pilot:
        toggle = app.query_one(KindToggle)
        await toggle.run_action("toggle('disabled')")
        await pilot.pause()
        assert toggle.disabled is True
        assert toggle.value == "expense"


class _Boxes(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[bool] = []

    def compose(self) -> ComposeResult:
        yield TickBox("Dry run", id="box")

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.changes.append(event.value)


async def test_tickbox_reports_changes_and_marks_its_state() -> None:
    """TickBox replaced Checkbox's value watcher, which posts Changed and sets ``-on``:
    nobody heard a tick and the ticked style never applied."""
    app = _Boxes()
    async with app.run_test() as pilot:
        box = app.query_one(TickBox)
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value is True
        assert box.BUTTON_INNER == "✓"
        assert box.has_class("-on")
        assert app.changes == [True]
        await pilot.press("space")
        await pilot.pause()
        assert (box.BUTTON_INNER, box.has_class("-on"), app.changes) == (" ", False, [True, False])


# ---- TextInput: a key repaints the box, it does not lay out the screen ----------------
class _TwoInputs(App[None]):
    CSS = "Input { width: 12; }"

    def compose(self) -> ComposeResult:
        yield Input(id="stock")
        yield TextInput(id="ours")


async def _type_counting_layouts(pilot, box_id: str, text: str, monkeypatch) -> int:
    screen = pilot.app.screen
    layouts: list[int] = []
    real = type(screen)._refresh_layout

    def counted(self, *args, **kwargs):
        layouts.append(1)
        return real(self, *args, **kwargs)

    pilot.app.query_one(f"#{box_id}").focus()
    await pilot.pause()
    monkeypatch.setattr(type(screen), "_refresh_layout", counted)
    await pilot.press(*text)
    await pilot.pause(0.05)  # a layout asked for by the last key has run by now
    monkeypatch.setattr(type(screen), "_refresh_layout", real)
    return len(layouts)


async def test_a_key_in_a_stock_input_lays_out_the_whole_screen(monkeypatch) -> None:
    """The stock behaviour TextInput works around: once Textual's Input stops asking
    for a layout when its value changes, this test fails and TextInput can go. (Keys
    that arrive together share one layout, so the stock box's count is at least one,
    not one per key.)"""
    app = _TwoInputs()
    async with app.run_test(size=(40, 8)) as pilot:
        assert await _type_counting_layouts(pilot, "stock", "12345", monkeypatch) >= 1
        assert await _type_counting_layouts(pilot, "ours", "12345", monkeypatch) == 0


async def test_long_text_scrolls_the_same_in_both_boxes() -> None:
    """Text wider than the box: the cursor stays in view as it is typed, Home and End
    scroll back and forth, and both boxes paint the same characters."""
    app = _TwoInputs()
    text = "0123456789abcdefghijklmnopqrstuvwxyz"

    def painted(box: Input) -> str:
        return "".join(box.render_line(y).text for y in range(box.size.height))

    async with app.run_test(size=(40, 8)) as pilot:
        stock, ours = app.query_one("#stock", Input), app.query_one("#ours", TextInput)
        for box in (stock, ours):
            box.focus()
            await pilot.press(*text)
        assert ours.value == stock.value == text
        assert ours.scroll_x == stock.scroll_x > 0
        assert painted(ours) == painted(stock)
        assert "xyz" in painted(ours) and "012" not in painted(ours)
        for key in ("home", "end"):
            for box in (stock, ours):
                box.focus()
                await pilot.press(key)
            assert ours.scroll_x == stock.scroll_x
            assert painted(ours) == painted(stock)
        assert ours.scroll_x > 0


def test_every_input_box_of_the_screens_is_a_text_input() -> None:
    """A new screen that builds Textual's Input itself would bring back a layout of the
    whole screen per typed key; only TextInput may derive from it."""
    import ast

    offenders = []
    for path in sorted(SCREENS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Input":
                offenders.append(f"{path.name}:{node.lineno} Input(...)")
            derives = isinstance(node, ast.ClassDef) and node.name != "TextInput"
            if derives and any(getattr(b, "id", "") == "Input" for b in node.bases):
                offenders.append(f"{path.name}:{node.lineno} class {node.name}(Input)")
    assert offenders == []


class _Plain(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("a line")


class _Ours(OpenOnceScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("a line")


class _Opens(App[None]):
    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


async def _resize_layouts(screen: Screen[None], monkeypatch) -> tuple[list[bool], Size]:
    """For each layout a Resize asked of ``screen``: was it at the size it already had?
    Then the screen's size after a real resize of the terminal."""
    same_size: list[bool] = []
    stock = Screen._screen_resized

    def watched(self, size):
        if self is screen:
            same_size.append(size == self._compositor.size)
        return stock(self, size)

    monkeypatch.setattr(Screen, "_screen_resized", watched)
    app = _Opens(screen)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        opened = list(same_size)
        await pilot.resize_terminal(70, 12)
        await pilot.pause()
        return opened, screen.size


async def test_textual_lays_a_screen_out_again_at_the_same_size_and_ours_does_not(
    monkeypatch,
):
    """The stock screen's first layout sends the screen a Resize to the same size, and
    Textual lays it out again; when this assertion fails, Textual stopped doing that and
    ``screens/screen_open.py`` can go. A real resize still lays ours out."""
    stock, _ = await _resize_layouts(_Plain(), monkeypatch)
    ours, resized = await _resize_layouts(_Ours(), monkeypatch)
    assert True in stock
    assert True not in ours
    assert resized == Size(70, 12)


async def _resume_restyles(screen: Screen[None], monkeypatch) -> list[bool]:
    """``refresh_styles`` of each ScreenResume Textual's handler got for ``screen``:
    opened, then shown again after another screen."""
    seen: list[bool] = []
    stock = Screen._on_screen_resume

    def watched(self, event):
        if self is screen:
            seen.append(event.refresh_styles)
        return stock(self, event)

    monkeypatch.setattr(Screen, "_on_screen_resume", watched)
    app = _Opens(screen)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        app.install_screen(screen, "first")
        app.install_screen(_Plain(), "other")
        await app.switch_screen("other")
        await pilot.pause()
        await app.switch_screen("first")
        await pilot.pause()
    return seen


async def test_textual_restyles_a_screen_it_just_styled_and_ours_does_not(monkeypatch):
    """The first ScreenResume of a stock screen restyles every widget it has just
    styled at their mount; ours does not, and later ones restyle as in Textual."""
    assert await _resume_restyles(_Plain(), monkeypatch) == [True, True]
    assert await _resume_restyles(_Ours(), monkeypatch) == [False, True]


class _Panes(App[None]):
    CSS = "ScrollPane:focus { background: red; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="stock"):
            yield Static("one")
            yield Static("two")
        with ScrollPane(id="pane"):
            yield Static("three")
            yield Static("four")


async def test_textual_restyles_all_a_focused_container_holds_and_a_pane_only_itself(
    monkeypatch,
):
    """The stock container restyles its children as it gains and loses focus; when this
    assertion fails, Textual stopped doing that and ``screens/scroll_pane.py`` can go.
    The pane restyles itself only, and still takes its ``:focus`` style."""
    restyled: list[list[str]] = []
    stock = Stylesheet.update_nodes

    def watched(self, nodes, animate=False):
        nodes = list(nodes)
        restyled.append([str(node.id or type(node).__name__) for node in nodes])
        return stock(self, nodes, animate)

    app = _Panes()
    async with app.run_test(size=(40, 10)) as pilot:
        stock_box, pane = app.query_one("#stock"), app.query_one("#pane", ScrollPane)
        monkeypatch.setattr(Stylesheet, "update_nodes", watched)
        for widget in (stock_box, pane, stock_box):
            widget.focus()
            await pilot.pause()
        assert app.focused is stock_box
        assert pane.styles.background != Color.parse("red")
        pane.focus()
        await pilot.pause()
        assert pane.styles.background == Color.parse("red")
    assert ["stock", "Static", "Static"] in restyled
    assert ["pane"] in restyled
    assert not any("pane" in nodes and len(nodes) > 1 for nodes in restyled)


def _widget_classes() -> list[type[Widget]]:
    """Every widget class the app's screens define or use (and all of Textual's)."""
    import textual.widgets as stock_widgets

    for module in pkgutil.iter_modules([str(SCREENS)]):
        importlib.import_module(f"screens.{module.name}")
    for name in stock_widgets.__all__:
        getattr(stock_widgets, name)
    found: list[type[Widget]] = []
    todo: list[type[Widget]] = [Widget]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _all_rules() -> list[RuleSet]:
    """The rules of every style sheet in styles/ and of every widget's DEFAULT_CSS."""
    sheet = Stylesheet(variables=App().get_css_variables())
    for path in sorted(STYLES.glob("*.tcss")):
        sheet.add_source(path.read_text(encoding="utf-8"), read_from=(str(path), ""))
    for cls in _widget_classes():
        css = cls.__dict__.get("DEFAULT_CSS", "")
        if css:
            scope = cls._css_type_name if cls.SCOPED_CSS else ""
            sheet.add_source(
                css, read_from=(cls.__name__, "DEFAULT_CSS"), is_default_css=True, scope=scope
            )
    sheet.parse()
    return sheet.rules


def _outer_focus_compounds(selectors: list[Selector]) -> list[list[Selector]]:
    """The compounds of a selector chain before its last one that ask for ``:focus``."""
    compounds: list[list[Selector]] = []
    for selector in selectors:
        if compounds and selector.combinator == CombinatorType.SAME:
            compounds[-1].append(selector)
        else:
            compounds.append([selector])
    return [c for c in compounds[:-1] if any("focus" in s.pseudo_classes for s in c)]


def test_no_rule_styles_what_a_focused_pane_holds():
    """A rule that styles a widget by the focus of a pane around it would go stale with
    :class:`ScrollPane` (its focus restyles the pane only). A compound naming a type the
    pane is not cannot match it; any other (an id, a class, ``*``) might."""
    pane_types = ScrollPane._css_type_names
    offenders = []
    rules = _all_rules()
    for rule in rules:
        for selector_set in rule.selector_set:
            for compound in _outer_focus_compounds(selector_set.selectors):
                types = {s.name for s in compound if s.type == SelectorType.TYPE}
                if types <= pane_types:
                    offenders.append(selector_set.css)
    assert len(rules) > 200  # the parse found the sheets
    assert offenders == []
