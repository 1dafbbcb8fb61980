"""Interactive explorers: a thin ipywidgets layer over the pure functions of the core.

One explorer per file. Each builds its controls, validates them (an impossible value
shows a message in the widget instead of raising), and redraws with the plot helpers
of :mod:`recsys_lab.plotting`. Import ``recsys_lab.widgets`` only in notebooks: the
core never imports ipywidgets.
"""
