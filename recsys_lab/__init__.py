"""recsys-lab: deep learning for recommender systems, from one neuron to a working recommender.

The package behind the course notebooks in ``notebooks/``. Each module's docstring
names the notebook that teaches it. The core never imports ipywidgets; the widget
layer lives in :mod:`recsys_lab.widgets`.
"""

__version__ = "0.1.0"
