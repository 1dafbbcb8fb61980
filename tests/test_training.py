"""recsys_lab/training.py: history, early stopping, divergence, determinism, schedules, callbacks, splits."""
import numpy as np
import pytest
import torch
from torch import nn

from recsys_lab.optimizers import SGD, Adam
from recsys_lab.schedules import ReduceOnPlateau, StepSchedule, step_lr
from recsys_lab.training import (ArrayBatches, EarlyStopping, History, fit_loop, make_curve_data, make_mlp,
                                 make_val_fn, train_val_test_split)

MSE = nn.MSELoss()




def linear_data(n=64, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    w = torch.tensor([1.5, -2.0, 0.5])[:d]
    y = (X @ w + 0.1 * torch.randn(n, generator=g)).unsqueeze(1)
    return X, y


class ScriptedValidation:
    """A val_fn that returns a fixed sequence of losses, to test early stopping exactly."""

    def __init__(self, losses):
        self.losses, self.calls = list(losses), 0

    def __call__(self, model):
        self.calls += 1
        return self.losses[self.calls - 1]


def test_history_fields_after_a_normal_run():
    X, y = linear_data()
    model = make_mlp((3, 1), seed=0)
    batches = ArrayBatches(X, y, batch_size=16, seed=0)
    h = fit_loop(model, MSE, batches, SGD(model.parameters(), learning_rate=0.05), epochs=5,
                 val_fn=make_val_fn(MSE, [(X, y)], metrics={"mae": lambda p, t: (p - t).abs().mean()}))
    assert isinstance(h, History) and h.status == "completed" and not h.diverged and not h.stopped_early
    assert h.epochs == h.epochs_run == 5
    assert len(h.train_loss) == len(h.val_loss) == len(h.lr) == len(h.metrics["mae"]) == 5
    assert len(h.batch_loss) == 5 * 4                  # 64 samples / 16 per batch
    assert h.lr == [0.05] * 5
    assert h.best_epoch == int(np.argmin(h.val_loss)) + 1 and h.best_val_loss == min(h.val_loss)
    assert h.train_loss[-1] < h.train_loss[0]
    assert list(h.to_frame().columns) == ["epoch", "train_loss", "val_loss", "mae", "lr"]
    assert "completed after 5/5 epochs" in h.summary()


def test_epoch_train_loss_is_the_size_weighted_mean_of_batch_losses():
    X, y = linear_data(n=10)
    model = make_mlp((3, 1), seed=0)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=4, shuffle=False), SGD(model, learning_rate=1e-9),
                 epochs=1)
    assert np.isclose(h.train_loss[0], np.dot(h.batch_loss, [4, 4, 2]) / 10)
    with torch.no_grad():                               # with a negligible step it is the full-data loss
        assert np.isclose(h.train_loss[0], MSE(model(X), y).item(), rtol=1e-5)


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best_weights():
    X, y = linear_data()
    val = ScriptedValidation([5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.4, 1.0, 1.0, 1.0])
    model = make_mlp((3, 1), seed=0)
    snapshots = []

    class Snapshot:
        def on_epoch_end(self, history):
            snapshots.append({k: v.clone() for k, v in model.state_dict().items()})

    es = EarlyStopping(patience=3)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), SGD(model, learning_rate=0.05), epochs=10,
                 val_fn=val, early_stopping=es, callbacks=[Snapshot()])
    # best 3.0 at epoch 3; epochs 4, 5, 6 do not improve -> stop after epoch 6 (epoch 8's 1.0 is never seen)
    assert h.status == "early_stopped" and h.stopped_early and h.epochs_run == 6 and val.calls == 6
    assert h.best_epoch == 3 and h.best_val_loss == 3.0
    assert "best epoch 3" in h.message
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[2][k])          # weights of epoch 3, not of epoch 6
        assert not torch.equal(v, snapshots[5][k])


def test_early_stopping_min_delta_and_standalone_use():
    es = EarlyStopping(patience=2, min_delta=0.1, restore_best=False)
    # 0.95 and 0.92 improve by less than min_delta on 1.0: they count as no improvement
    assert [es.update(v, e) for e, v in enumerate([1.0, 0.95, 0.92], 1)] == [False, False, True]
    assert es.best_epoch == 1
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)


def test_best_epoch_names_the_restored_weights_when_min_delta_hides_a_small_gain():
    """With min_delta, early stopping keeps epoch 1's weights although epoch 2 is slightly lower;
    the run completes (no stop), the weights are restored, and best_epoch says which ones."""
    X, y = linear_data()
    val = ScriptedValidation([1.0, 0.95, 1.2])
    model = make_mlp((3, 1), seed=0)
    snapshots = []

    class Snapshot:
        def on_epoch_end(self, history):
            snapshots.append({k: v.clone() for k, v in model.state_dict().items()})

    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), SGD(model, learning_rate=0.05), epochs=3,
                 val_fn=val, early_stopping=EarlyStopping(patience=5, min_delta=0.1), callbacks=[Snapshot()])
    assert h.status == "completed" and not h.stopped_early
    assert h.best_epoch == 1
    for k, v in model.state_dict().items():
        assert torch.equal(v, snapshots[0][k])


def test_divergence_is_detected_and_stops_cleanly():
    X, y = linear_data()
    model = make_mlp((3, 1), seed=0)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), SGD(model, learning_rate=50.0), epochs=20)
    assert h.status == "diverged" and h.diverged and h.epochs_run < 20
    assert "diverged" in h.message and "learning_rate" in h.message
    assert np.all(np.isfinite(h.train_loss)) and np.all(np.isfinite(h.batch_loss))
    assert len(h.lr) == h.epochs_run


def test_seeded_reruns_are_identical_and_leave_global_rng_alone():
    X, y = make_curve_data(80, seed=0)

    def run(seed):
        model = make_mlp((1, 32, 1), dropout=0.3, seed=0)
        h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=8, seed=seed), Adam(model, learning_rate=0.01),
                     epochs=4, val_fn=make_val_fn(MSE, [(X, y)]), seed=seed)
        return h, model

    state = torch.get_rng_state()
    (h1, m1), (h2, m2), (h3, _) = run(1), run(1), run(2)
    assert torch.equal(state, torch.get_rng_state())
    assert h1.batch_loss == h2.batch_loss and h1.val_loss == h2.val_loss
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters()))
    assert h1.batch_loss != h3.batch_loss


def test_our_optimizer_and_torch_optimizer_give_the_same_history():
    X, y = linear_data()
    histories = []
    for make in (lambda m: Adam(m.parameters(), learning_rate=0.02),
                 lambda m: torch.optim.Adam(m.parameters(), lr=0.02)):
        model = make_mlp((3, 8, 1), seed=0).double()
        histories.append(fit_loop(model, MSE, ArrayBatches(X.double(), y.double(), batch_size=16), make(model),
                                  epochs=5))
    assert np.abs(np.array(histories[0].batch_loss) - np.array(histories[1].batch_loss)).max() < 1e-9


def test_full_batch_gradient_descent_reaches_least_squares():
    X, y = linear_data(n=50)
    model = nn.Linear(3, 1)
    fit_loop(model, MSE, ArrayBatches(X, y, batch_size=None), SGD(model, learning_rate=0.3), epochs=300)
    A = np.column_stack([X.numpy(), np.ones(50)])
    coef = np.linalg.lstsq(A, y.numpy().ravel(), rcond=None)[0]
    fitted = np.append(model.weight.detach().numpy().ravel(), model.bias.item())
    assert np.abs(fitted - coef).max() < 1e-4


def test_schedules_are_stepped_per_epoch_or_per_batch():
    X, y = linear_data()
    model = make_mlp((3, 1), seed=0)
    opt = SGD(model, learning_rate=0.1)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), opt, epochs=7,
                 scheduler=StepSchedule(opt, step_size=2, gamma=0.5))
    assert np.allclose(h.lr, step_lr(np.arange(7), 0.1, 2, 0.5))
    topt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), topt, epochs=3,
                 scheduler=torch.optim.lr_scheduler.StepLR(topt, step_size=1, gamma=0.5), scheduler_interval="batch")
    assert np.allclose(h.lr, [0.1, 0.1 * 0.5 ** 4, 0.1 * 0.5 ** 8])     # 4 batches per epoch


def test_reduce_on_plateau_receives_the_validation_loss():
    X, y = linear_data()
    model = make_mlp((3, 1), seed=0)
    opt = SGD(model, learning_rate=0.1)
    val = ScriptedValidation([1.0, 0.9, 0.9, 0.9, 0.9, 0.9])
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), opt, epochs=6, val_fn=val,
                 scheduler=ReduceOnPlateau(opt, patience=1, factor=0.5))
    # bad epochs 3 and 4 -> more than patience=1 after epoch 4 -> halved from epoch 5 on
    assert h.lr == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05])


def test_callbacks_are_called_and_can_stop_training():
    X, y = linear_data()
    calls = {"on_train_begin": 0, "on_batch_end": 0, "on_epoch_end": 0, "on_train_end": 0}

    class Counter:
        stop_requested = False

        def __getattr__(self, name):
            if name in calls:
                def hook(history):
                    calls[name] += 1
                    if name == "on_batch_end" and calls[name] == 6:
                        self.stop_requested = True           # what the Stop button does
                return hook
            raise AttributeError(name)

    model = make_mlp((3, 1), seed=0)
    h = fit_loop(model, MSE, ArrayBatches(X, y, batch_size=16), SGD(model, learning_rate=0.05), epochs=10,
                 callbacks=[Counter()])
    assert h.status == "stopped" and h.epochs_run == 2 and len(h.batch_loss) == 6
    assert calls == {"on_train_begin": 1, "on_batch_end": 6, "on_epoch_end": 2, "on_train_end": 1}

    class StopAfterThree:
        def on_epoch_end(self, history):
            return history.epochs_run == 3

    h = fit_loop(model, MSE, ArrayBatches(X, y), SGD(model, learning_rate=0.05), epochs=10,
                 callbacks=[StopAfterThree()])
    assert h.status == "stopped" and h.epochs_run == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs"),
    ({"train_batches": iter([])}, "re-iterable"),
    ({"early_stopping": EarlyStopping()}, "val_fn"),
    ({"scheduler_interval": "step"}, "scheduler_interval"),
    ({"train_batches": []}, "no batches"),
    ({"val_fn": lambda model: {"rmse": 1.0}}, "'loss' key"),
])
def test_bad_arguments_are_named(kwargs, match):
    X, y = linear_data()
    model = make_mlp((3, 1), seed=0)
    args = {"model": model, "loss_fn": MSE, "train_batches": ArrayBatches(X, y), "optimizer": SGD(model, 0.1),
            "epochs": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit_loop(**args)


def test_array_batches_cover_every_example_once_per_epoch_reproducibly():
    X = torch.arange(10).unsqueeze(1)
    b = ArrayBatches(X, X.squeeze(1), batch_size=3, seed=4)
    assert len(b) == 4
    b.set_epoch(1)
    e1 = torch.cat([t for _, t in b])
    e2 = torch.cat([t for _, t in b])
    b.set_epoch(1)
    again = torch.cat([t for _, t in b])
    assert sorted(e1.tolist()) == list(range(10)) and sorted(e2.tolist()) == list(range(10))
    assert not torch.equal(e1, e2) and torch.equal(e1, again)
    assert len(ArrayBatches(X, batch_size=None)) == 1
    with pytest.raises(ValueError, match="first dimension"):
        ArrayBatches(X, torch.zeros(3))
    with pytest.raises(ValueError, match="batch_size"):
        ArrayBatches(X, batch_size=0)


def test_val_fn_weights_batches_by_size():
    X, y = linear_data(n=10)
    model = make_mlp((3, 1), seed=0)
    val = make_val_fn(MSE, [(X[:7], y[:7]), (X[7:], y[7:])])
    with torch.no_grad():
        assert val(model)["loss"] == pytest.approx(MSE(model(X), y).item(), rel=1e-5)


def test_train_val_test_split_is_a_disjoint_cover():
    tr, va, te = train_val_test_split(100, 0.2, 0.1, seed=3)
    assert (len(tr), len(va), len(te)) == (70, 20, 10)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(100))
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), train_val_test_split(100, 0.2, 0.1, seed=3)))
    with pytest.raises(ValueError, match="leave examples"):
        train_val_test_split(100, 0.5, 0.5)
    with pytest.raises(ValueError, match="n must be"):
        train_val_test_split(2)


def test_make_mlp_and_curve_data():
    a, b = make_mlp((1, 16, 16, 1), dropout=0.5, seed=1), make_mlp((1, 16, 16, 1), dropout=0.5, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert sum(isinstance(m, nn.Dropout) for m in a) == 2 and isinstance(a[-1], nn.Linear)
    assert a(torch.zeros(5, 1)).shape == (5, 1)
    with pytest.raises(ValueError, match="activation"):
        make_mlp((1, 2), activation="swish")
    with pytest.raises(ValueError, match="dropout"):
        make_mlp((1, 4, 1), dropout=1.0)
    X, y = make_curve_data(30, noise=0.0, seed=2)
    assert X.shape == y.shape == (30, 1) and X.dtype == torch.float32
    assert torch.allclose(y, torch.sin(3 * X) + 0.5 * X, atol=1e-6)


def test_remedy_run_is_seeded_and_names_a_bad_remedy():
    from recsys_lab.training import remedy_run

    a = remedy_run(3, "weight decay 0.1", epochs=30, hidden=8)
    assert a == remedy_run(3, "weight decay 0.1", epochs=30, hidden=8)          # same seed, same numbers
    assert a[0] != remedy_run(3, "no remedy", epochs=30, hidden=8)[0]            # the remedy changes the run
    assert a[0] != remedy_run(4, "weight decay 0.1", epochs=30, hidden=8)[0]     # another seed, another data set
    assert a[0] != remedy_run(3, "L2 0.1 in Adam", epochs=30, hidden=8)[0]       # coupled L2 is not AdamW's decay
    with pytest.raises(ValueError, match="remedy must be one of"):
        remedy_run(0, "dropout")
