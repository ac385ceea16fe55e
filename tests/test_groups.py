"""Groups: the tables, their irreducible representations computed from the tables, and the
character circuit read off a network wired by hand to compute with one of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compare import analyse_model
from compare.handbuilt import group_mlp, standard_matrices
from compare.harmonics import Cyclic, Irreducible
from compare.irreps import conjugacy_classes, irreps
from compare.network import probe
from taskcore import groups
from taskcore.registry import build_task, get_task
from taskcore.table import TaskSpec


@pytest.mark.parametrize("group", [groups.symmetric(3), groups.symmetric(4), groups.symmetric(5),
                                   groups.dihedral(13), groups.dihedral(6)], ids=lambda g: g.name)  # fmt: skip
def test_group_laws(group):
    n, mul, inv, e = group.n, group.mul, group.inverse, group.identity
    assert (mul[e] == np.arange(n)).all() and (mul[:, e] == np.arange(n)).all()
    assert (mul[np.arange(n), inv] == e).all()
    a, b, c = np.meshgrid(*[np.arange(0, n, max(1, n // 12))] * 3, indexing="ij")
    assert (mul[mul[a, b], c] == mul[a, mul[b, c]]).all()
    assert not group.abelian


@pytest.mark.parametrize("name, dims", [("S3", [1, 1, 2]), ("S4", [1, 1, 2, 3, 3]),
                                        ("S5", [1, 1, 4, 4, 5, 5, 6])])  # fmt: skip
def test_irreps_of_the_symmetric_groups_are_the_known_ones(name, dims):
    group = groups.group_by_name(name)
    reps = irreps(group)
    assert sorted(r.dim for r in reps) == dims
    assert len(conjugacy_classes(group)) == len(dims)  # as many irreps as classes
    assert sum(r.subspace_dim for r in reps) == group.n  # Σ d² = |G|
    chars = np.array([r.character for r in reps])
    assert np.allclose(chars @ chars.T / group.n, np.eye(len(reps)))  # orthonormal characters
    names = {r.name for r in reps}
    assert {"trivial", "sign", "standard"} <= names
    standard = next(r for r in reps if r.name == "standard")
    assert standard.dim == group.elements[0].__len__() - 1


def test_dihedral_irreps_pair_up_and_are_named_by_rotation():
    group = groups.dihedral(13)
    reps = irreps(group)
    assert sum(r.subspace_dim for r in reps) == 26
    assert sorted(r.dim for r in reps) == [1, 1] + [2] * 6
    assert {r.name for r in reps if r.dim == 2} == {f"rotation k={k}" for k in range(1, 7)}


def test_the_fourier_modes_are_the_irreps_of_a_cyclic_group():
    """The same harmonics from FFTs and from characters computed off Z_m's table."""
    for m in (7, 12):
        dense, fft = Irreducible(groups.cyclic(m)), Cyclic(m)
        assert sorted(dense.sizes) == sorted(fft.sizes)
        f = np.random.default_rng(m).standard_normal((m, 3))
        assert np.allclose(sorted(dense.energy(f)), sorted(fft.energy(f)))
        assert np.isclose(dense.energy(f).sum(), (f**2).sum())
        assert (groups.group_by_name(f"Z{m}").mul == np.add.outer(np.arange(m), np.arange(m)) % m).all()


def test_group_tasks_compute_their_words():
    s5 = groups.symmetric(5)
    x, y = np.meshgrid(np.arange(120), np.arange(120), indexing="ij")
    assert (get_task("s5aba").table == s5.mul[s5.mul[x, y], x]).all()
    assert (get_task("d13mul").table == groups.dihedral(13).mul).all()
    words = build_task(TaskSpec(expr="x * y * x", group="S4"))
    assert (words.table == get_task("s4aba").table).all() and words.group == "S4"


def test_hand_built_character_circuit_of_s4_is_recovered_exactly():
    """A network that computes logit(c) = 5·χ_standard(x·y·c⁻¹): its circuit is found in the
    standard irrep with α = 5, all of the logit variance, and x·y separates from its near
    misses on every score."""
    group = groups.symmetric(4)
    task = get_task("s4mul")
    model = group_mlp(group, standard_matrices(group), scale=5.0)
    assert (probe(model, 24).prediction == task.table).all()
    programs = [{"expr": "x * y", "kind": "program", "bits": 10.0},
                {"expr": "table", "kind": "table", "bits": 1000.0}]  # fmt: skip
    found = analyse_model(model, task, task.split(0.5), programs)
    c = found.circuit
    assert c.basis == "irreps" and c.group == "S4" and c.node == "x * y"
    assert [ir["name"] for ir in c.key_irreps] == ["standard"]
    assert c.key_irreps[0]["dim"] == 3 and np.isclose(c.key_irreps[0]["alpha"], 5.0, rtol=1e-4)
    assert np.isclose(c.fve, 1.0) and c.faithfulness == 1.0 and c.found
    assert c.restricted_loss <= c.full_loss + 1e-6
    assert found.match.implements and found.match.evidence == {"logit_correlation": True,
                                                               "intervention": True}  # fmt: skip
    controls = [r for r in found.candidates if r.kind == "control"]
    assert {r.program for r in controls} == {"inv(x * y)", "x * y * (x * y)", "y * x"}


def test_a_random_network_on_s4_has_no_circuit():
    from neural.models import ModelConfig, build_model

    torch.manual_seed(0)
    task = get_task("s4mul")
    model = build_model(ModelConfig(kind="mlp", d_model=32, d_mlp=64), 24)
    found = analyse_model(model, task, task.split(0.5), [{"expr": "x * y", "kind": "program",
                                                          "bits": 10.0}])  # fmt: skip
    assert not found.circuit.found and found.circuit.bits is None
    assert not found.match.implements
