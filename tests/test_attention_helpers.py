"""The small helpers added to recsys_lab.attention for notebook 14 (sinusoidal positions)."""
import math

import pytest
import torch

from recsys_lab.attention import sinusoidal_positions


def test_sinusoidal_positions_by_the_formula():
    p = sinusoidal_positions(5, 4).double()
    assert p.shape == (5, 4)
    for t in range(5):
        for k in range(2):
            angle = t / 10000 ** (2 * k / 4)
            assert p[t, 2 * k].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert p[t, 2 * k + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_dot_products_depend_on_the_offset_only():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = sinusoidal_positions(40, 16)
    finally:
        torch.set_default_dtype(before)
    assert p.dtype == torch.float64
    assert torch.equal(sinusoidal_positions(40, 16, dtype=torch.float64), p)
    assert sinusoidal_positions(3, 4).dtype == torch.get_default_dtype()
    gram = p @ p.T
    for s in (0, 1, 7):
        diagonal = torch.diagonal(gram, offset=s)
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal), atol=1e-10)
    assert torch.allclose(gram.diagonal(), torch.full((40,), 8.0, dtype=torch.float64))   # d / 2 pairs of sin^2 + cos^2


@pytest.mark.parametrize("length, d", [(0, 4), (3, 5), (2.5, 4), (3, 0)])
def test_bad_sizes_are_refused(length, d):
    with pytest.raises(ValueError, match="d_model"):
        sinusoidal_positions(length, d)
