"""The pieces every explorer shares (recsys_lab/widgets/common.py)."""
import ipywidgets as W
import pytest

from recsys_lab.widgets.common import Explorer, InputError, message_box, require, show_message


class Counter(Explorer):
    def __init__(self):
        self.a, self.b = W.IntText(value=0), W.IntText(value=0)
        self.redraws = 0
        for control in (self.a, self.b):
            control.observe(self._on_change, names="value")
        self.a.value = 1  # still building: no redraw
        self.widget = W.VBox([self.a, self.b])
        self._hold = False

    def redraw(self):
        self.redraws += 1
        return True


def test_changes_redraw_once_built_and_not_inside_quietly():
    c = Counter()
    assert c.redraws == 0
    c.a.value = 2
    assert c.redraws == 1
    with c.quietly():
        c.a.value, c.b.value = 3, 4
        with c.quietly():  # nested: the outer hold survives the inner one
            c.a.value = 5
        c.b.value = 6
    assert c.redraws == 1 and not c._hold
    c.b.value = 7
    assert c.redraws == 2


def test_quietly_restores_the_hold_after_an_error():
    c = Counter()
    with pytest.raises(RuntimeError):
        with c.quietly():
            raise RuntimeError("boom")
    c.a.value = 9
    assert c.redraws == 1


def test_messages_are_escaped_and_coloured():
    box = message_box()
    show_message(box, "k must be < 5 & > 0", "warning")
    assert "&lt; 5 &amp; &gt; 0" in box.value and "#b35c00" in box.value
    show_message(box, "")
    assert box.value == ""
    with pytest.raises(InputError, match="k must be positive"):
        require(False, "k must be positive")
    require(True, "never shown")
