"""Checks for the exercises of notebook 10 (neural collaborative filtering). Solutions:
``notebooks/solutions/10_neural_cf.ipynb``."""
from __future__ import annotations

import numpy as np
import torch

from ..checks import Verdict, check_answer
from ..models.autorec import AutoRecNet, masked_squared_error
from ..models.ncf import expected_sampled_metrics, hit_rate_ndcg
from . import register

# 10.1 · understanding: the exact law by simulation ------------------------------------------
LAW = dict(rank=700, n_candidates=9000, n_negatives=100, k=10)


def _law():
    return expected_sampled_metrics([LAW["rank"]], LAW["n_candidates"], LAW["n_negatives"], LAW["k"])["hit_rate"]


def _simulated(repeats: int = 2000, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    others = LAW["n_candidates"] - 1
    return float(np.mean([(rng.choice(others, LAW["n_negatives"], replace=False) < LAW["rank"]).sum() < LAW["k"]
                          for _ in range(repeats)]))


def _law_wrong():
    return [0.0, 1 - _law(), LAW["rank"] / LAW["n_candidates"], float(LAW["rank"] < LAW["k"] * 100)]


@register("10.1", solution=_simulated, wrong=_law_wrong)
def check_sampled_hit_probability(answer):
    """Share of 2 000 simulated draws in which an item at full rank 700 of 9 000 is a sampled hit@10."""
    if isinstance(answer, (bool, np.bool_)):
        print("❌ P(sampled hit) at rank 700: a share of repetitions is a number between 0 and 1, not a bool.")
        return Verdict(False)
    return check_answer(answer, _law(), "P(sampled hit) at rank 700", atol=0.03, mistakes=[
        (0.0, "that is the *full-catalogue* answer (rank 700 is not in the top 10); the question is about "
              "the sampled protocol: rank it against 100 drawn candidates only."),
        (1 - _law(), "that is the share of repetitions where it is *not* a hit: count those with fewer than 10 "
                     "drawn candidates above it."),
        (LAW["rank"] / LAW["n_candidates"], "that is the share of candidates above the item, not the chance "
                                             "of a sampled hit."),
    ], hint="a draw is `rng.choice(8999, 100, replace=False)`; the ones ranked above the item have an index "
            "below 700; it is a hit when fewer than 10 are above; average over the repetitions.")


# 10.2 · change the code: I-AutoRec's masked loss ------------------------------------------------

def masked_loss_inputs():
    """A tiny seeded I-AutoRec network and a batch: ``(net, ratings, observed)``; 3 items, 6 users.
    ``ratings`` holds junk where ``observed`` is 0 (a careless loss would count it)."""
    gen = torch.Generator().manual_seed(10)
    net = AutoRecNet(n_users=6, n_factors=3)
    net.reset_parameters(gen)
    with torch.no_grad():
        net.decoder.bias.fill_(3.0)
    observed = torch.tensor([[1, 0, 1, 0, 0, 1], [0, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0]], dtype=torch.float32)
    ratings = torch.randint(1, 6, (3, 6), generator=gen).float()
    ratings = torch.where(observed > 0, ratings, torch.full_like(ratings, 9.0))   # junk where unobserved
    return net, ratings, observed


def _masked_loss():
    net, ratings, observed = masked_loss_inputs()
    with torch.no_grad():
        return float(masked_squared_error(net, ratings, observed))


def _masked_loss_wrong():
    net, ratings, observed = masked_loss_inputs()
    with torch.no_grad():
        x = ratings * observed
        every_entry = float(((x - net(x)) ** 2).sum())                        # zeros counted as ratings
        unmasked_input = float((((ratings - net(ratings)) * observed) ** 2).sum())   # junk fed in
        mean = _masked_loss() / float(observed.sum())
        raw = float(((ratings - net(ratings)) ** 2).sum())
    return [every_entry, unmasked_input, mean, raw]


def _as_float(answer):
    if torch.is_tensor(answer):
        return float(answer.detach()) if answer.numel() == 1 else answer.detach().numpy()
    return answer


@register("10.2", solution=_masked_loss, wrong=_masked_loss_wrong)
def check_masked_loss(answer):
    """The I-AutoRec loss of the batch of :func:`masked_loss_inputs` (sum over observed entries)."""
    answer = _as_float(answer)
    wrong = _masked_loss_wrong()
    return check_answer(answer, _masked_loss(), "masked squared error", atol=1e-4, rtol=1e-5, mistakes=[
        (wrong[0], "you counted every entry: an unobserved 0 is not a rating of 0 stars; multiply the error "
                   "by `observed` before squaring."),
        (wrong[1], "the error is masked, but the junk of the unobserved entries went into the network: feed "
                   "it `ratings * observed`."),
        (wrong[2], "that is a mean over the observed entries; the paper's loss is their *sum*."),
        (wrong[3], "neither the input nor the error is masked."),
    ], hint="x = ratings * observed; the loss is ((x - net(x)) * observed) ** 2 summed; one number.")


# 10.3 · open question, checkable part: when do the two protocols agree? --------------------------
N_CANDIDATES, K = 1000, 10


def two_models():
    """Two made-up models' full ranks (0 = top) of 200 held-out items among 1 000 candidates:
    ``sharp`` puts a quarter at the very top and the rest at 700; ``broad`` puts every item at 40-60."""
    sharp = np.where(np.arange(200) % 4 == 0, 0, 700)
    broad = np.tile([40, 50, 60, 45], 50)
    return {"sharp": sharp, "broad": broad}


def _sampled_ndcg(ranks, m):
    return expected_sampled_metrics(ranks, N_CANDIDATES, int(m), K)["ndcg"]


def _agreeing_m():
    """The smallest m at which the expected sampled NDCG@10 ranks sharp above broad, as the full one does."""
    models = two_models()
    full = {n: hit_rate_ndcg(r, K)["ndcg"] for n, r in models.items()}
    assert full["sharp"] > full["broad"]
    for m in range(1, N_CANDIDATES):
        if _sampled_ndcg(models["sharp"], m) > _sampled_ndcg(models["broad"], m):
            return m
    raise AssertionError("the two models never agree")


def _agreeing_wrong():
    m = _agreeing_m()
    return [100, m - 1, N_CANDIDATES - 1, m + 25]


@register("10.3", solution=_agreeing_m, wrong=_agreeing_wrong)
def check_agreeing_negatives(answer):
    """The smallest number of sampled negatives m (a whole number) at which the sampled NDCG@10 puts
    ``sharp`` above ``broad``."""
    if isinstance(answer, (bool, np.bool_)) or (answer is not ... and not float(np.asarray(answer)).is_integer()):
        print("❌ smallest agreeing m: a number of negatives is a whole number.")
        return Verdict(False)
    m = _agreeing_m()
    return check_answer(answer, m, "smallest agreeing m", atol=0, rtol=0, mistakes=[
        (100, "at m = 100, the usual protocol, broad is still ahead: that is the point of the exercise."),
        (m - 1, "one too few: at that m broad is still (just) ahead; you want the first m where sharp leads."),
        (N_CANDIDATES - 1, "with every other candidate sampled they agree, but they agree much earlier."),
    ], hint="loop m over 1, 2, ... and compare expected_sampled_metrics(ranks, 1000, m, 10)['ndcg'] of the two.")
