"""recsys_lab.autograd: Value gradients against torch.autograd on several expressions; the graph."""
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.text import Annotation

from recsys_lab.autograd import Value, draw_graph, graph_layout, topological_order


def both(fn, *inputs):
    """Evaluate ``fn`` on Values and on float64 tensors; return (value out, Values, torch out, tensors)."""
    vals = [Value(x) for x in inputs]
    out = fn(*vals)
    out.backward()
    tens = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    tout = fn(*tens)
    tout.backward()
    return out, vals, tout, tens


def t_or_v(x, method):
    return getattr(torch, method)(x) if isinstance(x, torch.Tensor) else getattr(x, method)()


EXPRESSIONS = {
    # micrograd's own sanity check: relu, reuse of z and x, products
    "micrograd_sanity": (lambda x: (lambda z: (z * z).relu() + z.relu() + z * x
                                    + (z.relu() + z * x) * x)(2 * x + 2 + x), [-4.0]),
    "division_subtraction_powers": (lambda a, b: (a - b) / (a * b + 3) + a ** 3 - 2 / b ** 0.5,
                                    [1.5, 2.0]),
    "exp_log": (lambda a, b: t_or_v(a * b, "exp") * t_or_v(a + b * b, "log") - t_or_v(b, "log"),
                [0.3, 1.7]),
    "tanh_neuron": (lambda x1, x2, w1, w2, b: t_or_v(x1 * w1 + x2 * w2 + b, "tanh"),
                    [2.0, 0.0, -3.0, 1.0, 6.8813735870195432]),
    "sigmoid_bce": (lambda z, y: -(y * t_or_v(t_or_v(z, "sigmoid"), "log")
                                 + (1 - y) * t_or_v(1 - t_or_v(z, "sigmoid"), "log")), [0.8, 1.0]),
    "shared_subexpression": (lambda a: (lambda s: s * s + s.relu() - 3 * s)(a * a - 1), [-1.3]),
    "negative_relu_branch": (lambda a, b: (a * b).relu() + (a - b).relu() * b, [-2.0, 0.5]),
}


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_value_and_gradients_match_torch(name):
    fn, inputs = EXPRESSIONS[name]
    out, vals, tout, tens = both(fn, *inputs)
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(vals, tens):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12), name


def test_hand_computed_gradients():
    a, b = Value(3.0), Value(-2.0)
    c = a * b + a          # dc/da = b + 1 = -1, dc/db = a = 3
    c.backward()
    assert (c.data, a.grad, b.grad) == (-3.0, -1.0, 3.0)
    x = Value(5.0)
    (x - x).backward()     # both uses cancel
    assert x.grad == 0.0
    y = Value(4.0)
    (y * y).backward()     # a value used twice accumulates: 2y
    assert y.grad == 8.0


def test_backward_twice_gives_the_same_grads():
    a, b = Value(0.5), Value(-1.5)
    out = (a * b).tanh() + a.exp()
    out.backward()
    first = (a.grad, b.grad)
    out.backward()
    assert (a.grad, b.grad) == first


def test_topological_order_puts_inputs_first_and_handles_long_chains():
    x = Value(1.0)
    h = x
    for _ in range(5000):  # deeper than Python's default recursion limit
        h = h * 1.0001
    order = topological_order(h)
    assert order[-1] is h and len(order) == 10001   # 5000 products, 5000 constants, x
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(c)] < position[id(n)] for n in order for c in n._prev)
    h.backward()
    assert x.grad == pytest.approx(1.0001 ** 5000, rel=1e-9)


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_clear_errors():
    with pytest.raises(ValueError, match="log needs a positive input"):
        Value(0.0).log()
    with pytest.raises(TypeError, match="plain int or float exponent"):
        Value(2.0) ** Value(3.0)


def neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.88, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def test_graph_layout_columns_and_edges():
    o = neuron()
    nodes, pos, edges = graph_layout(o)
    leaves = [n for n in nodes if not n._prev]
    assert {n.label for n in leaves} == {"x1", "x2", "w1", "w2", "b"}
    assert all(pos[id(n)][0] == 0 for n in leaves)
    assert pos[id(o)][0] == max(p[0] for p in pos.values()) == 4   # *, +, +, tanh
    assert len(edges) == sum(len(n._prev) for n in nodes) == 9


def test_draw_graph_draws_every_value_operation_and_arrow():
    o = neuron()
    o.backward()
    ax = draw_graph(o)
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    texts = [t.get_text() for t in ax.texts if not isinstance(t, Annotation)]
    nodes, _, edges = graph_layout(o)
    n_ops = sum(1 for n in nodes if n._op)
    assert len(texts) == len(nodes) + n_ops
    assert len(arrows) == len(edges) + n_ops            # input -> op, and op -> its output
    for n in nodes:                                     # every box shows the node's data and grad
        assert any(f"data {n.data:.4f}\ngrad {n.grad:.4f}" in t for t in texts)
    assert sorted(t for t in texts if t in {"*", "+", "tanh"}) == ["*", "*", "+", "+", "tanh"]
    plt.close(ax.figure)
