"""Alignment measures and the Clock/Pizza measures, as properties of the math.

CKA of a representation with itself (or a rotation and rescaling of it) is 1 and with an
independent one near 0; mutual k-NN likewise; the node share is 1 for a function of the node
and 0 for a function of x alone; every baseline is near chance. Clock and Pizza are told
apart on networks wired by hand to run each (ground truth), over a transformer and an MLP.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compare import clockpizza, similarity
from compare.clockpizza import CLOCK, DI_CLOCK, GS_PIZZA, NEITHER, PIZZA, classify, clock_pizza
from compare.handbuilt_pizza import clock_mlp, clock_transformer, pizza_mlp, pizza_transformer
from compare.network import all_inputs, probe
from synthcmp.render.glossary import GLOSSARY


def random(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def test_cka_of_a_representation_with_itself_and_its_rotations_is_one():
    X = random(400, 12, 0)
    Q, _ = np.linalg.qr(random(12, 12, 1))
    assert similarity.linear_cka(X, X) == pytest.approx(1.0)
    assert similarity.linear_cka(X, 3.0 * X @ Q + 5.0) == pytest.approx(1.0)


def test_cka_with_an_independent_representation_is_near_zero():
    assert similarity.linear_cka(random(2000, 8, 0), random(2000, 8, 1)) < 0.02


def test_cka_matrix_agrees_with_pairwise_cka_and_its_baseline_is_chance():
    reps = [random(300, 6, 0)]
    reps.append(reps[0] @ random(6, 10, 1))  # a linear map of the first: CKA high, not 1
    reps.append(random(300, 4, 2))
    reps.append(np.repeat(random(30, 5, 3), 10, axis=0))  # rank-deficient rows: reduced() is exact
    M = similarity.cka_matrix(reps)
    for i in range(4):
        for j in range(4):
            assert M[i, j] == pytest.approx(similarity.linear_cka(reps[i], reps[j]), abs=1e-5)
    perm = similarity.shuffle(300, 0)
    B = similarity.cka_matrix(reps, perm)
    assert B[0, 1] == pytest.approx(similarity.linear_cka(reps[0], reps[1][perm]), abs=1e-5)
    assert np.all(B[:3, :3] < 0.1)  # rows that no longer correspond: chance


def test_mutual_knn_is_one_for_the_same_neighbourhoods_and_chance_for_independent_ones():
    X = random(500, 6, 0)
    A = similarity.knn_sets(X)
    assert similarity.mutual_knn(A, similarity.knn_sets(2.0 * X)) == 1.0
    chance = similarity.K_NEIGHBOURS / 500
    assert similarity.mutual_knn(A, similarity.knn_sets(random(500, 6, 1))) < 3 * chance + 0.02


def test_the_shuffled_knn_baseline_is_the_table_of_the_shuffled_rows():
    X, Y = random(200, 5, 0), random(200, 5, 1)
    perm = similarity.shuffle(200, 3)
    tables = [similarity.knn_sets(X), similarity.knn_sets(Y)]
    B = similarity.knn_matrix(tables, perm)
    direct = similarity.mutual_knn(tables[0], similarity.knn_sets(Y[perm]))
    assert B[0, 1] == pytest.approx(direct)


def test_node_share_is_one_for_a_function_of_the_node_and_zero_for_one_of_x_alone():
    n = 13
    x, y = (t.numpy() for t in all_inputs(n))
    u = (x + y) % n
    waves = np.stack([np.cos(2 * np.pi * 3 * u / n), np.sin(2 * np.pi * 3 * u / n)], axis=1)
    assert similarity.node_share(waves, u) == pytest.approx(1.0)
    of_x = np.stack([np.cos(2 * np.pi * x / n), x**2], axis=1)
    assert similarity.node_share(of_x, u) == pytest.approx(0.0, abs=1e-12)
    shuffled = u[similarity.shuffle(n * n, 0)]
    assert similarity.node_share(waves, shuffled) < 4 * (n - 1) / (n * n - 1)


def test_jaccard_and_its_random_baseline():
    sets = [[1, 2, 3], [1, 2, 3], [7, 8, 9]]
    J = similarity.jaccard_matrix(sets)
    assert J[0, 1] == 1.0 and J[0, 2] == 0.0
    B = similarity.jaccard_baseline(sets, universe=29, seed=0)
    expected = 9 / 29 / (6 - 9 / 29)  # E|A∩B| = 9/29 for two random 3-sets of 29
    assert B[0, 1] == pytest.approx(expected, abs=0.03)


def test_alignment_block_means_cover_distinct_runs_only():
    M = np.array([[1.0, 0.5, 0.2], [0.5, 1.0, 0.4], [0.2, 0.4, 1.0]])
    a = similarity.Alignment.of("l", "cka", [0, 1, 2], M, M * 0, ["t", "t", "m"])
    assert a.mean == pytest.approx((0.5 + 0.2 + 0.4) / 3)
    assert a.blocks["t×t"] == pytest.approx(0.5) and a.blocks["t×m"] == pytest.approx(0.3)
    assert np.isnan(a.blocks["m×m"])  # one MLP run: no pair


# ---------------------------------------------------------------------------------------
# Clock and Pizza on hand-built networks


BUILT = [("clock", clock_mlp), ("clock", clock_transformer), ("pizza", pizza_mlp),
         ("pizza", pizza_transformer)]  # fmt: skip


@pytest.mark.parametrize("n", [13, 23])
@pytest.mark.parametrize("expected,build", BUILT, ids=lambda v: getattr(v, "__name__", v))
def test_hand_built_clock_and_pizza_compute_a_plus_b_and_are_classified_as_built(n, expected, build):
    model = build(n, [2, 5])
    seen = probe(model, n)
    x, y = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    table = (x + y) % n
    assert np.array_equal(seen.prediction, table)
    measured = clock_pizza(model, seen.logits, table, "additive", "x + y")
    assert measured.algorithm == expected
    if expected == "pizza":
        assert measured.distance_irrelevance < 0.01 and measured.gradient_symmetricity > 0.99
    else:
        assert measured.distance_irrelevance > 0.9 and abs(measured.gradient_symmetricity) < 0.2


def test_the_pizza_logit_is_the_formula_in_the_docstring():
    n, key = 11, [1, 3]
    logits = probe(pizza_mlp(n, key), n).logits
    a, b, c = np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij")
    w = [2 * np.pi * k / n for k in key]
    expected = sum(2 * (1 + np.cos(wk * (a - b))) * np.cos(wk * (a + b - c)) for wk in w)
    assert np.allclose(logits, expected, atol=1e-4)


@pytest.mark.parametrize("build", [clock_transformer, pizza_transformer, clock_mlp, pizza_mlp])
def test_logits_of_embeddings_are_the_network_s_own(build):
    n = 11
    model = build(n, [1, 4])
    x, y = all_inputs(n)
    tx, ty = clockpizza._tables(model)
    with torch.no_grad():
        direct = clockpizza.logits_of_embeddings(model, tx[x], ty[y])
        assert torch.allclose(direct, model(x, y), atol=1e-4)


def test_measures_do_not_apply_off_addition_or_without_a_circuit():
    n = 11
    model = clock_mlp(n, [1])
    logits = probe(model, n).logits
    table = np.zeros((n, n), dtype=int)
    assert clock_pizza(model, logits, table, None, None).algorithm == ""
    assert "over" in clock_pizza(model, logits, table, "dlog", "x * y").why


def test_classification_needs_both_signatures():
    assert classify(0.95, 0.1) == CLOCK
    assert classify(0.05, 0.99) == PIZZA
    assert classify(0.95, 0.99) == NEITHER  # both: a mixture
    assert classify(0.2, 0.3) == NEITHER  # neither
    assert classify(float("nan"), 0.99) == NEITHER


def test_the_glossary_states_the_engines_thresholds():
    assert f"{DI_CLOCK}" in GLOSSARY["distance irrelevance"].text()
    assert f"{GS_PIZZA}" in GLOSSARY["gradient symmetricity"].text()
    assert f"k = {similarity.K_NEIGHBOURS}" in GLOSSARY["mutual k-NN"].text()


def test_the_measures_alone_read_an_untrained_network_as_a_clock_so_align_gates_them():
    """Why a Clock is only named for a network that computes addition: on random weights the
    correct logit ignores a − b (DI ≈ 1) and the two gradients are unrelated (GS ≈ 0), which
    is the Clock's signature. The lookup-table align test checks that no such run is named."""
    from neural import default_config
    from neural.models import build_model

    n = 23
    torch.manual_seed(0)
    model = build_model(default_config("mlp").model, n).eval()
    with torch.no_grad():  # one table for both inputs, as the hand-built MLPs have: read
        model.E_y.copy_(model.E_x)
    logits = probe(model, n).logits
    table = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    raw = clock_pizza(model, logits, table, "additive", "x + y")
    assert raw.distance_irrelevance > DI_CLOCK and raw.gradient_symmetricity < GS_PIZZA
    assert clock_pizza(model, logits, table, None, None).algorithm == ""


def test_clock_and_pizza_are_not_read_where_gradient_symmetricity_cannot_fail():
    """A trained-style MLP with two separate embedding tables is not read at all; constant
    attention has GS = 1 by construction (it averages the two embeddings), so only DI
    decides there — and the Clock is ruled out, whatever the weights."""
    from neural import default_config
    from neural.models import build_model

    n = 23
    table = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    torch.manual_seed(0)
    mlp = build_model(default_config("mlp").model, n).eval()
    read = clock_pizza(mlp, probe(mlp, n).logits, table, "additive", "x + y")
    assert read.algorithm == "" and "two separate embedding tables" in read.why
    constant = build_model(default_config("constant-attention").model, n).eval()
    read = clock_pizza(constant, probe(constant, n).logits, table, "additive", "x + y")
    assert read.gradient_symmetricity > 0.999 and read.algorithm != "clock"
    assert "by construction" in read.why
