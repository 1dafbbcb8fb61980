"""A scalar autograd engine written from scratch (notebook 03 · Backpropagation and gradient descent).

In the spirit of Andrej Karpathy's *micrograd*. A :class:`Value` holds a number, remembers
the values it was computed from and the operation that combined them, and carries a small
*local backward rule*: given ``∂L/∂out`` it adds ``∂L/∂input = ∂L/∂out · ∂out/∂input`` to
each input's ``grad``. :meth:`Value.backward` runs those rules in reverse topological
order (every node after all the nodes that use it), which is the chain rule applied to the
whole graph: backpropagation. :func:`draw_graph` draws the graph with matplotlib.
"""
from __future__ import annotations

import math


class Value:
    """A scalar in a computation graph: ``data`` (the number), ``grad`` (``∂root/∂self``)."""

    def __init__(self, data, _children=(), _op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._backward = lambda: None

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"

    @staticmethod
    def _lift(other) -> "Value":
        return other if isinstance(other, Value) else Value(other)

    # ---- operations: forward value and local backward rule side by side ----
    def __add__(self, other):
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Value ** exponent needs a plain int or float exponent, got"
                            f" {type(exponent).__name__}; write x ** y as (y * x.log()).exp().")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():  # d(a^k)/da = k a^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # d(e^a)/da = e^a
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data!r}.")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d(ln a)/da = 1/a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():  # 1 for a > 0, else 0 (as torch)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else \
            math.exp(self.data) / (1.0 + math.exp(self.data))  # no overflow either way
        out = Value(s, (self,), "sigmoid")

        def _backward():  # dσ(a)/da = σ(a)(1 - σ(a))
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    # ---- the rest are built from the operations above ----
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __truediv__(self, other):
        return self * self._lift(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def backward(self) -> None:
        """Fill ``grad`` of every node of the graph with ``∂self/∂node``.

        Grads are reset to 0 first, so calling ``backward`` twice gives the same result.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def topological_order(root: Value) -> list:
    """Every node reachable from ``root``, each one after all of its inputs (``root`` last).

    Iterative depth-first search, so long chains do not hit Python's recursion limit.
    """
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node._prev if id(child) not in seen)
    return order


def graph_layout(root: Value):
    """Positions for drawing: ``(nodes, positions, edges)``.

    ``nodes`` is the topological order; ``positions[id(node)] = (x, y)`` puts each value in
    column ``depth`` (the longest path from a leaf; inputs in column 0, ``root`` last) and
    spreads the values of a column vertically; ``edges`` lists ``(input, output)`` pairs of
    values, one per use of an input (``a * a`` gives two).
    """
    nodes = topological_order(root)
    depth = {}
    for node in nodes:
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    columns = {}
    for node in nodes:
        columns.setdefault(depth[id(node)], []).append(node)
    positions = {}
    for d, members in columns.items():
        for row, node in enumerate(members):
            positions[id(node)] = (float(d), (len(members) - 1) / 2.0 - row)
    edges = [(child, node) for node in nodes for child in node._prev]
    return nodes, positions, edges


def draw_graph(root: Value, ax=None):
    """Draw the computation graph of ``root`` left to right with matplotlib; returns the Axes.

    Each value is a box (label, ``data``, ``grad``); each operation a small orange box
    just before the value it produced, with arrows from its inputs.
    """
    import matplotlib.pyplot as plt  # imported here: the engine itself needs no plotting

    nodes, pos, edges = graph_layout(root)
    n_cols = 1 + int(max(x for x, _ in pos.values()))
    n_rows = max(sum(1 for p in pos.values() if p[0] == x) for x, _ in pos.values())
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2.2 * n_cols + 0.5, 18), min(0.9 * n_rows + 1.0, 10)))
    xscale, op_gap = 3.0, 1.2  # value columns 3 units apart, the operation 1.2 units before
    value_box = dict(boxstyle="round,pad=0.3", fc="#e8f0fe", ec="#3367d6")
    op_box = dict(boxstyle="round,pad=0.3", fc="#fff4e0", ec="#e08a00")
    value_text, op_text = {}, {}
    for node in nodes:
        x, y = pos[id(node)]
        text = (f"{node.label}\n" if node.label else "") + f"data {node.data:.4f}\ngrad {node.grad:.4f}"
        value_text[id(node)] = ax.text(xscale * x, y, text, ha="center", va="center",
                                       fontsize=8, bbox=value_box)
        if node._op:
            op_text[id(node)] = ax.text(xscale * x - op_gap, y, node._op, ha="center",
                                        va="center", fontsize=9, bbox=op_box)

    def arrow(src, dst, xy_src, xy_dst):
        ax.annotate("", xy=xy_dst, xytext=xy_src, arrowprops=dict(
            arrowstyle="->", color="0.35", lw=1.0, shrinkA=1, shrinkB=1,
            patchA=src.get_bbox_patch(), patchB=dst.get_bbox_patch()))

    for child, node in edges:
        (cx, cy), (nx, ny) = pos[id(child)], pos[id(node)]
        arrow(value_text[id(child)], op_text[id(node)], (xscale * cx, cy), (xscale * nx - op_gap, ny))
    for node in nodes:
        if node._op:
            x, y = pos[id(node)]
            arrow(op_text[id(node)], value_text[id(node)], (xscale * x - op_gap, y), (xscale * x, y))
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(-1.2, xscale * (n_cols - 1) + 1.2)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    ax.set_title(f"Computation graph of {root.label or 'the output'}: data (forward pass),"
                 " grad (backward pass)")
    return ax
