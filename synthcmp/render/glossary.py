"""The glossary: what every column and measure of the report means, written once.

The legends under the report's tables and ``synthcmp explain`` both read :data:`GLOSSARY`,
so the terminal, the HTML page and the explanation never disagree. Each :class:`Term` has a
one-line meaning (``short``, what a legend shows) and a full explanation with its formula
(``long``, what ``synthcmp explain TERM`` prints).

Every threshold (the key-frequency share, the embedding mass, the margin of evidence, the
events) is written into the text from its one definition in :mod:`taskcore.events`, which
the engines import too — so a sentence cannot say one number while the code uses another,
and printing it needs no torch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from rich.text import Text

from taskcore import events
from taskcore.events import FAITHFUL, GROK_ACC, IMPLEMENTS, PARTIAL

THRESHOLDS = {  # the engines' constants, read from their one definition (no torch there)
    "key_share": events.KEY_SHARE,
    "embed_key_factor": events.EMBED_KEY_FACTOR,
    "embed_mass": events.EMBED_MASS,
    "formed": events.FORMED,
    "compact": events.COMPACT,
    "margin": events.MARGIN,
    "di_clock": events.DI_CLOCK,
    "gs_pizza": events.GS_PIZZA,
    "k_neighbours": events.K_NEIGHBOURS,
    "llc_stable": events.LLC_STABLE,
    "llc_resolved": events.LLC_RESOLVED,
}
_FILL = {
    **THRESHOLDS,
    "faithful": FAITHFUL,
    "grok_acc": GROK_ACC,
    "implements": IMPLEMENTS,
    "partial": PARTIAL,
}


@dataclass(frozen=True)
class Term:
    """One entry: the name the report prints, its sections, a one-liner and the full text."""

    name: str
    section: str
    short: str
    long: str
    aliases: tuple[str, ...] = ()

    def text(self) -> str:
        return " ".join(self.long.split()).format(**_FILL)

    def line(self) -> str:
        return self.short.format(**_FILL)


SECTIONS = {
    "synth": "2 · the shortest programs",
    "training": "3 · training",
    "circuit": "4 · the circuit inside the network",
    "match": "5 · the match",
    "ladder": "6 · description-length ladder",
    "phases": "7 · phases over training",
    "align": "synthcmp align: many runs of one task side by side",
}

_TERMS = [
    # -- 2 · the shortest programs ------------------------------------------------------
    Term(
        "bits",
        "synth",
        "description length: the model's bits + its errors' bits",
        """The two-part code of minimum description length, on the N training pairs:
        bits = L(model) + L(data | model). For a program that is L(P) + L(D|P); for the
        extracted circuit, its template plus its exceptions (no bits when no faithful circuit
        was found); for the memorized table,
        (N + 1)·log2 n. Every rung of the ladder is priced with this one code, so the rungs
        can be compared: the shortest description of the data is the best explanation. In
        the phases table, bits is the network's description length at that checkpoint: the
        shorter of the circuit extracted there (with its exceptions) and the table. For a
        network that groks it falls from the table's bits to about the program's.""",
        ("description length", "mdl", "total bits"),
    ),
    Term(
        "L(P)",
        "synth",
        "the program's own bits: −Σ log2 P(choice) in the grammar",
        """L(P) = −Σ log2 P(choice), summed over the grammar choices that build the program
        (each operator, variable and constant; integers use the Elias gamma code
        γ(m) = 2⌊log2 m⌋ + 1). Natural programs are short: x + y costs fewer bits than
        x − (−y). `synthcmp synth --grammar` prints the prior.""",
        ("lp", "program bits", "prior"),
    ),
    Term(
        "L(D|P)",
        "synth",
        "bits for the labels the program gets wrong",
        """With k exceptions among N training pairs and n symbols:
        L(D|P) = log2(N + 1) + log2 C(N, k) + k·log2 n — how many exceptions, which ones,
        and the right answer for each. An exact program pays only log2(N + 1).""",
        ("ldp", "l(d|p)", "data bits", "l(data|p)"),
    ),
    Term(
        "exceptions",
        "synth",
        "training pairs the program gets wrong",
        """The number k of training pairs where the program's output differs from the label.
        Each costs its position and its value in L(D|P), so a program with a few
        exceptions (a noisy task) can still beat the table.""",
        ("exception", "k exceptions"),
    ),
    Term(
        "table",
        "synth",
        "every training answer written out: (N + 1)·log2 n bits",
        """The candidate that memorizes: each of the N training outputs in log2 n bits, plus
        log2 n for the answer it gives on pairs it has not seen, (N + 1)·log2 n in all. It is
        always ranked, so on a random lookup task, where no program compresses the data, the
        table wins — correctly.""",
        ("memorized table", "lookup table"),
    ),
    Term(
        "accuracy",
        "synth",
        "train, test: share of the split's pairs answered right",
        """The share of the training (train) or held-out (test) pairs whose output is right.
        Synth and the network share one seeded split. Held-out labels are always clean, even
        when --noise flips training labels.""",
        ("train", "test", "train acc", "test acc", "train accuracy", "test accuracy"),
    ),
    # -- 3 · training ---------------------------------------------------------------------
    Term(
        "memorized",
        "training",
        "train accuracy 100%: every training pair fitted",
        """The first logged step where train accuracy = 1, on the labels the network was
        given (noisy ones included). The end of the memorization phase.""",
        ("memorization step", "memorised"),
    ),
    Term(
        "grokked",
        "training",
        "test accuracy ≥ {grok_acc:.0%} on the held-out pairs",
        """The first logged step where test accuracy ≥ {grok_acc:.0%}. A network that grokks
        memorizes first and generalizes long after; the report's sparklines show both
        accuracies over log-scaled steps.""",
        ("grok", "grok step", "grokking"),
    ),
    # -- 4 · the circuit -------------------------------------------------------------------
    Term(
        "k",
        "circuit",
        "a frequency: the waves cos/sin(ω_k u), ω_k = 2πk/m",
        """Frequency k of the Fourier basis over Z_m (m = p for modular tasks, p − 1 in the
        discrete-log basis for products), ω_k = 2πk/m. Frequencies k and m − k are the same
        wave, so k runs over 1 … ⌊m/2⌋.""",
        ("frequency", "omega", "ω_k", "omega_k"),
    ),
    Term(
        "key frequency",
        "circuit",
        "a frequency holding ≥ {key_share:.0%} of the logits' energy",
        """A frequency k whose two logit directions cos(ω_k u), sin(ω_k u) hold at least
        {key_share:.0%} of the centred logits' squared norm ‖L̃‖², or that the embedding
        concentrates on (at least {embed_key_factor:g}× the uniform share). A network that
        groks modular addition uses a handful of them (Nanda et al. 2023).""",
        ("key frequencies", "key k"),
    ),
    Term(
        "irrep",
        "circuit",
        "an irreducible representation ρ of the task's group",
        """For a group task (S5, D13 …) the circuit is read in the group's irreducible
        representations ρ: matrices ρ(g) with ρ(x·y) = ρ(x)ρ(y), computed from the
        multiplication table (characters from the class algebra). The logit model is
        Σ_ρ α_ρ χ_ρ(u·c⁻¹), χ_ρ = trace ρ (Chughtai et al. 2023). 'standard' is the
        (k−1)-dimensional representation of S_k on vectors summing to zero, 'sign' the
        parity. Fourier frequencies are the irreps of Z_p, so the same code reads both.""",
        ("irreps", "representation", "irreducible representation", "rho", "ρ", "dim"),
    ),
    Term(
        "basis, node u",
        "circuit",
        "the basis and the node u: the value the logits read",
        """The circuit is sought in a basis — Fourier over Z_p for sums, over the discrete
        logs (Z_(p−1), generator g) for products, or a group's irreducible representations —
        and through a node u(x, y): a value of the synthesized programs (each program's
        value and its subexpressions of both inputs: x + y inside x + y + 5, x² + y²) or one
        of the fixed forms ±x ± y (x·y, x/y in discrete logs; words such as x·y·x⁻¹ in a
        group). The logit model is a function of u·c⁻¹ (u − c for sums). Every candidate node
        is read and priced, its own bits L(u) under the grammar included, and the reading
        that describes the network in the fewest bits is kept; `compare --node EXPR` reads
        the network through a node of your choosing instead, against its controls 2·u and
        inv(u).""",
        ("basis", "u", "form", "node", "basis, u", "node test"),
    ),
    Term(
        "embedding read through e",
        "circuit",
        "the function e(x) that the embedding places on circles",
        """A network that adds embeds x as cos/sin(ω_k x); one that learned x² + y² embeds
        cos/sin(ω_k x²). Among x and the programs' one-input subexpressions (x², x³, x⁻¹;
        log x in discrete logs), e is the one whose waves at the key frequencies explain the
        most of the centred embedding's squared norm (one least-squares fit). Beside it, the
        same share when e's values are relabelled at random: what that many waves explain of
        an embedding not placed by e. circles.png draws the embedding through e.""",
        ("embedding node", "e(x)", "e", "embedding_node", "e relabelled at random"),
    ),
    Term(
        "logit share",
        "circuit",
        "a frequency's (irrep's) share of the logits' energy",
        """With L̃ = L − mean over (x, y) of the logits L[x, y, c]: the share of ‖L̃‖² on the
        directions cos(ω_k u) and sin(ω_k u) (for an irrep, on its matrix entries as
        functions of u). Key frequencies and irreps hold at least {key_share:.0%}.""",
        ("frequency share", "logit_share", "frequency_share"),
    ),
    Term(
        "embedding share",
        "circuit",
        "frequency k's share of the embedding's squared norm (in e)",
        """The embedding W_E (one row per symbol, mean row removed) read through its node e:
        the share of ‖W_E‖² in the span of cos(ω_k e(x)) and sin(ω_k e(x)). For e = x (or
        log x) this is the embedding's Fourier spectrum and the shares sum to 1; for a
        two-to-one e such as x² each is a projection of its own. A grokked network's
        embedding concentrates on its key frequencies; spectrum.png draws it.""",
        ("embedding_share",),
    ),
    Term(
        "α_k",
        "circuit",
        "the weight of frequency k's wave in the logit model",
        """The logit model is Σ_k α_k χ_k(u − c) + β_k χ'_k(u − c), χ_k(t) = 2cos(ω_k t),
        χ'_k(t) = 2sin(ω_k t) (for a group irrep ρ, Σ_ρ α_ρ χ_ρ(u·c⁻¹)), fitted by least
        squares; the waves are orthogonal, so each coefficient is fitted alone. Without a
        phase α_k is the coefficient itself; with one, the table shows the wave's amplitude
        √(α_k² + β_k²). The largest is the frequency or irrep the network leans on most.""",
        ("alpha", "alpha_k", "a_k", "α", "amplitude"),
    ),
    Term(
        "φ_k",
        "circuit",
        "the phase of frequency k's wave: atan2(β_k, α_k)",
        """A network that computes x + y + 5 through the node u = x + y writes
        cos(ω_k(u − c) + φ_k) with φ_k = 5·ω_k: the same circuit with its output map
        shifted. So over Z_m the model may give each key frequency a phase, at the price of a
        second coefficient per frequency; the circuit with and without phases is priced and
        the shorter kept. A non-abelian group has no such phase: a shifted output is another
        node (u·g).""",
        ("phase", "phi", "phi_k", "beta", "β_k"),
    ),
    Term(
        "key share",
        "circuit",
        "the key frequencies' share of the embedding's norm²",
        """The share of ‖W_E‖² in the waves of e at the key frequencies, fitted jointly (for
        e = x, the sum of their embedding shares). Beside it, the same for random frequency
        sets of the same size. It grows during circuit formation; in the phases table it is
        measured at each checkpoint against the final network's key frequencies.""",
        ("key_share", "key embedding share", "key frequencies' embedding share"),
    ),
    Term(
        "frequencies for 90%",
        "circuit",
        "how many frequencies hold {embed_mass:.0%} of the embedding",
        """Sort the embedding shares, largest first, and count until they sum to
        {embed_mass:.0%}. Small for a network on circles (a few key frequencies); about half of
        all frequencies for a memorizing one.""",
        ("frequencies_for_90", "frequencies for 90% of the embedding"),
    ),
    Term(
        "variance explained",
        "circuit",
        "logit variance explained by the model Σ α χ(u·c⁻¹)",
        """fve = 1 − ‖L̃ − model‖² / ‖L̃‖² for the logit model on the key frequencies (with its
        phases, if any), L̃ the logits with each class's mean removed. It can be no higher
        than the node share — the part of ‖L̃‖² that is a function of u at all — and is
        printed beside it: '30% of the 31% that is a function of u' says the model explains
        nearly all that u can, while most of the logits vary with something other than u
        (for S5, memorized detail). Near 0 for a memorizing network.""",
        ("fve", "logit model variance explained"),
    ),
    Term(
        "full loss",
        "circuit",
        "the network's own loss on every input",
        """The cross-entropy of the network's logits over all valid inputs (train and test),
        in nats: the reference the restricted loss is held against.""",
        ("full",),
    ),
    Term(
        "restricted loss",
        "circuit",
        "loss of the logits kept to the key frequencies/irreps",
        """Keep only the circuit: restricted logits = mean_c + P_K L̃, where P_K keeps, of each
        class's logits as a function of u, the key directions cos/sin(ω_k u), k ∈ K. Their
        cross-entropy over every input. At or below the full loss when the network's answer
        is carried by the circuit; it falls during circuit formation (Nanda et al. 2023).
        A circuit counts as found only if it is at most {formed:g} · log n. Beside it, the
        median for random key sets of the same size: where the key irreps span most of the
        functions of u (every irrep of S4 is key), that baseline is as low, and the report
        says the measure cannot fail there.""",
        ("restricted",),
    ),
    Term(
        "excluded loss",
        "circuit",
        "train loss with the key frequencies/irreps removed",
        """Remove the circuit: excluded logits = L − P_K L̃. Their cross-entropy on the training
        pairs. Near or above chance (log n) when the training fit is the circuit; near the
        full loss when the network memorized and the key directions do not matter.""",
        ("excluded",),
    ),
    Term(
        "chance loss",
        "circuit",
        "log n: the loss of a uniform guess",
        """The cross-entropy of predicting every symbol with probability 1/n: log n nats. A
        loss above it is worse than guessing.""",
        ("chance", "log n"),
    ),
    Term(
        "faithfulness",
        "circuit",
        "inputs where the circuit's argmax = the network's",
        """Run the extracted circuit argmax_c Σ_k α_k χ_k(u − c) (+ its phase terms) as a
        program and compare its answer with the network's on every valid input, and on the
        held-out pairs alone. A circuit is found when both are ≥ {faithful:.0%}, its key
        directions alone predict the task (restricted loss ≤ {formed:g} · log n) and, over
        Z_m, its key frequencies span at most {compact:.0%} of the functions of u: with one positive α
        the argmax of cos(ω(u − c)) is u whatever the network does, so agreement alone —
        above all on training pairs it memorized — can pass by accident.""",
        ("faithful", "argmax agreement", "found"),
    ),
    Term(
        "random key sets",
        "circuit",
        "the same measure for random irrep sets of the same size",
        """The baseline of a circuit measure that could pass by chance: the restricted loss
        (median) and the key share (mean) for random sets of as many non-trivial
        frequencies or irreps as the circuit has. A measure is evidence of the circuit only
        well beyond its baseline.""",
        ("key set baseline", "restricted loss baseline", "key share baseline"),
    ),
    Term(
        "neurons by frequency",
        "circuit",
        "MLP neurons grouped by their dominant frequency",
        """For each MLP neuron, the frequency k whose terms (cos/sin ω_k x, cos/sin ω_k y and
        their products) explain most of its activation over all inputs; 'other' when none
        does. 'Neurons on a key frequency' is the share whose frequency is key.""",
        ("neurons", "neuron clusters", "neurons on a key frequency"),
    ),
    # -- 5 · the match ---------------------------------------------------------------------
    Term(
        "behaviour",
        "match",
        "inputs where the network's argmax = the program's output",
        """Agreement on every valid input, train and test. It decides the verdict: the
        network implements a program it agrees with on ≥ {implements:.0%} of inputs.""",
        ("behavior", "agreement"),
    ),
    Term(
        "on train",
        "match",
        "behaviour on the training pairs only",
        """The same agreement restricted to the training pairs. The memorized table agrees
        there by construction; a network that memorized agrees with nothing else.""",
        ("train behaviour", "train_behaviour", "on train behaviour"),
    ),
    Term(
        "on test",
        "match",
        "behaviour on the held-out pairs only",
        """The agreement on the held-out pairs, which the network never trained on: a
        memorizing network agrees with the program here no better than chance.""",
        ("test behaviour", "behaviour_test"),
    ),
    Term(
        "logit corr",
        "match",
        "the logits' correlation with the program (1: its function)",
        """The correlation of the network's class-centred logits L̃[x, y, c] with the
        program's centred indicator 1[f(x, y) = c] − mean, divided by the same correlation
        for the network's own argmax: 1 for the program that is the network's function.
        It keeps phase, so a shifted program is told apart: for logits
        ∝ Σ α_k cos(ω_k(u − c)), u + 1 scores Σ α_k cos ω_k / Σ α_k, not 1.""",
        ("logit correlation", "logit_correlation", "correlation"),
    ),
    Term(
        "IIA",
        "match",
        "swapping a node's value changes the output as predicted",
        """Interchange intervention accuracy (Geiger et al.), the mean over the program's
        nodes that use both inputs, best layer each. For a node v, find where a layer
        writes v's waves cos/sin(ω_k v) (a linear fit), swap in another input's value of v,
        and count the pairs where the network's new answer is the program's answer with v
        swapped. A wrong program predicts the wrong counterfactual: x + y + 1 scores ≈ 0 on
        a network that computes x + y.""",
        ("intervention", "interventions", "interchange intervention", "iia score"),
    ),
    Term(
        "near miss",
        "match",
        "a control: f + 1, 2·f, inv(f) — evidence must beat these",
        """Every matched program f gets near misses: f + 1, 2·f and inv(f) mod n (for
        x + y: x + y + 1, 2x + 2y, inv(x + y)); in a group inv(f), f·f and f with x and y
        swapped (x·y against y·x). A score about how the network computes (logit
        corr, IIA) counts as evidence for f only if f beats each control by at least
        {margin:.1f}; the report prints the scores either way and says which separate.""",
        ("control", "controls", "near misses"),
    ),
    Term(
        "implements",
        "match",
        "verdict: agrees on ≥ {implements:.0%} of inputs and of held-out",
        """The verdict is graded. The network implements the program (not the table, not a
        near miss) it agrees with best when they agree on at least {implements:.0%} of all
        inputs and of the held-out pairs alone (a network trained on 90% of the pairs agrees
        on 99% of inputs while missing a tenth of the rest); it implements it partly when the program is right on at least
        {partial:.0%} of the held-out pairs. Otherwise the honest answer is
        'memorization — no compact circuit', with the numbers that show it.""",
        ("verdict", "match", "partly", "partial"),
    ),
    # -- 6 · the ladder --------------------------------------------------------------------
    Term(
        "ladder",
        "ladder",
        "the data's description length under each explanation",
        """Three rungs, each one two-part code of the training labels, L(model) + L(labels |
        model), with the same exception code (how many wrong, which ones, their right
        answers): the shortest program (its grammar bits), the circuit extracted from the
        network (its template: basis, form, key frequencies, α), the memorized table (every
        label). A circuit that is not faithful to the network has no bits ('–'). Apart, the
        network's raw parameters, which describe the network, not the labels. A network
        that found the program has a circuit a few bits longer than the program; one that
        memorized has nothing shorter than the table.""",
        ("description-length ladder", "rung", "rungs"),
    ),
    Term(
        "raw parameters",
        "ladder",
        "32 bits per parameter: the network, not the data",
        """Every parameter at float32. It is an upper bound on what the network stores and
        is set apart from the other rungs, which describe the labels.""",
        ("parameters", "params"),
    ),
    # -- 7 · phases ----------------------------------------------------------------------
    Term(
        "memorization",
        "phases",
        "train loss falls, test stays high; ends at train acc 100%",
        """The first phase of grokking (Nanda et al. 2023): train loss falls while the test
        and restricted losses stay near chance — the network stores its training pairs. It
        ends at the memorization step (train accuracy = 1).""",
        ("memorization phase",),
    ),
    Term(
        "circuit formation",
        "phases",
        "the circuit grows; ends at restricted loss ≤ {formed:.0%} of log n",
        """The second phase: the key-frequency circuit grows while the test loss stays high —
        the restricted loss falls, the excluded loss rises above the train loss, the key
        share grows. It ends at the first checkpoint where the restricted loss is at most
        {formed:.0%} of chance (log n) and the excluded loss is above the train loss: the key
        directions alone predict the task and the training fit depends on them. Absent
        ('not reached') when the final network holds no faithful circuit.""",
        ("formation", "circuit_formation"),
    ),
    Term(
        "cleanup",
        "phases",
        "weight decay prunes the memory; ends at test acc ≥ {grok_acc:.0%}",
        """The third phase: weight decay removes the memorizing components and the circuit
        alone is left; test loss and restricted loss fall, and so does the weight norm. It
        ends at the grok step (test accuracy ≥ {grok_acc:.0%}); 'not reached' when the run
        did not grok or formed no circuit.""",
        ("clean-up", "clean up"),
    ),
    Term(
        "loss",
        "phases",
        "cross-entropy in nats over the split's pairs",
        """−mean log softmax(logits)[label] over the pairs: train loss on the training pairs,
        test loss on the held-out ones. log n is chance.""",
        ("train loss", "test loss", "cross-entropy", "nats"),
    ),
    Term(
        "‖θ‖",
        "phases",
        "weight norm: the L2 norm of all parameters",
        """‖θ‖₂ = sqrt(Σ θ_i²) over every trainable parameter. Weight decay pulls it down;
        it typically peaks after memorization and falls during cleanup.""",
        ("theta", "weight norm", "norm", "||theta||", "|θ|", "θ", "weight_norm"),
    ),
    Term(
        "λ̂",
        "phases",
        "local learning coefficient (SGLD); (…): not trusted",
        """Singular learning theory's second measure of complexity, beside the bits: the local
        learning coefficient λ at a checkpoint w* says how fast the volume of weights almost
        as good as w* shrinks, vol{{w : L(w) − L(w*) < ε}} ~ ε^λ — half the parameter count
        d/2 for a regular model, less for a network, whose weights have many directions that
        change nothing. It is estimated (Lau et al. 2023) by sampling the tempered posterior
        localized at w*, p(w) ∝ exp(−nβ L(w) − γ/2 ‖w − w*‖²), with SGLD, and
        λ̂ = nβ (E[L(w)] − L(w*)), with L the mean training loss over the n training pairs
        (every pair in every step) and nβ = n / log n. A network that memorized needs many
        directions to hold its pairs; one that found a short program fewer: λ̂ should fall
        at the cleanup, and stay high on random labels. Its value depends on the sampler's
        settings (γ above all), so compare λ̂ between checkpoints and runs measured with the
        same ones, not with another tool's numbers. A value in parentheses is not trusted,
        and the reason is printed under the table: a chain diverged, λ̂ < 0 (w* is not a
        local minimum), or λ̂ moved by more than {llc_stable:.0%} (and more than
        {llc_resolved:g}) when the draws were doubled (half of them against all). `--llc` turns it on; docs/llc.md records how the
        defaults were chosen.""",
        ("llc", "lambda hat", "local learning coefficient", "learning coefficient", "lambda",
         "rlct"),
    ),
    # -- synthcmp align --------------------------------------------------------------------
    Term(
        "distance irrelevance",
        "align",
        "how little the correct logit depends on a − b",
        """Zhong et al. 2023's first measure of Clock against Pizza. With the correct logit
        Q(a, b) = logit_(a+b)(a, b) arranged by s = a + b and d = a − b,
        DI = mean_d std_s Q[s, d] / std Q: near 1 when Q is the same along every distance
        (the Clock), near 0 when Q is a function of the distance (the Pizza, whose logits
        carry |cos(ω(a − b)/2)|). At or above {di_clock} reads as the Clock's signature.""",
        ("di", "distance_irrelevance"),
    ),
    Term(
        "gradient symmetricity",
        "align",
        "do both inputs enter only through E_a + E_b?",
        """Zhong et al. 2023's second measure: for random (a, b, c) with a ≠ b, the cosine
        similarity of the gradients of logit_c with respect to input a's and input b's one-hot
        symbol, GS = mean cos(∂Q_c/∂a, ∂Q_c/∂b). 1 when the logit depends on the inputs only
        through their sum E_a + E_b (the Pizza); near 0 for the Clock, which multiplies them.
        At or above {gs_pizza} reads as the Pizza's signature.""",
        ("gs", "gradient_symmetricity", "symmetricity"),
    ),
    Term(
        "Clock",
        "align",
        "adds angles: logit ∝ Σ cos ω(a+b−c); DI ≥ {di_clock}, GS < {gs_pizza}",
        """The Clock algorithm (Nanda et al. 2023; Zhong et al. 2023): each input is a point
        on circles of key frequencies ω_k = 2πk/n, and the network multiplies the two,
        adding the angles, so logit(c) ∝ Σ_k cos(ω_k(a + b − c)). Classified Clock when
        distance irrelevance ≥ {di_clock} and gradient symmetricity < {gs_pizza}; when both
        or neither signature shows, the run is 'neither' (a mixture, or another algorithm).
        Only computed for a network that implements ±x ± y with a circuit over Z_n: on
        random weights the two measures read as a Clock too.""",
        ("clock algorithm",),
    ),
    Term(
        "Pizza",
        "align",
        "averages first: E_a + E_b; GS ≥ {gs_pizza}, DI < {di_clock}",
        """The Pizza algorithm (Zhong et al. 2023): the network adds the two embeddings,
        E_a + E_b, a point inside the circle whose angle is ω(a + b)/2 and whose radius is
        |cos(ω(a − b)/2)|, and a nonlinearity doubles the angle, so
        logit(c) ∝ Σ_k |cos(ω_k(a − b)/2)| cos(ω_k(a + b − c)). Classified Pizza when
        gradient symmetricity ≥ {gs_pizza} and distance irrelevance < {di_clock}.""",
        ("pizza algorithm",),
    ),
    Term(
        "CKA",
        "align",
        "linear CKA of two runs' layers over all inputs (1 = alike)",
        """Linear centered kernel alignment (Kornblith et al. 2019). With X (N × d₁) and
        Y (N × d₂) the two runs' activations on the same N inputs, columns centered:
        CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F). 1 when Y is X up to a rotation and a scale, 0
        when no feature of one correlates with any of the other. Read it beside its
        baseline: wide layers on few inputs look alike by chance.""",
        ("linear cka", "cka"),
    ),
    Term(
        "mutual k-NN",
        "align",
        "share of k = {k_neighbours} nearest inputs that two runs agree on",
        """Mutual k-nearest-neighbour alignment (Huh et al. 2024): in each run, every input's
        k = {k_neighbours} nearest inputs by cosine similarity of its activations; the score
        is mean_i |N_X(i) ∩ N_Y(i)| / k, 1 when the two runs have the same neighbourhoods.
        Chance is about k/N.""",
        ("knn", "mutual knn", "mutual_knn", "mknn", "mutual kNN"),
    ),
    Term(
        "baseline",
        "align",
        "the same score with one run's inputs shuffled",
        """Every similarity is printed as value / baseline, where the baseline is the same
        metric on the same two representations after a seeded permutation of one run's
        inputs, metric(X, Y[π]): what the score is when the rows no longer correspond. A
        score means something only well above its baseline. For the Jaccard overlap of key
        frequencies the baseline is the overlap of random sets of the same sizes.""",
        ("shuffled baseline",),
    ),
    Term(
        "node share",
        "circuit",
        "share of the variance that is a function of the node u",
        """η²_u(H) = Σ_u N_u ‖h̄_u − h̄‖² / Σ_i ‖h_i − h̄‖², with h̄_u the mean activation
        over the inputs whose program node (e.g. u = x + y) has that value. Of the logits
        (section 4) it is the most any model read through u could explain, printed beside
        variance explained. In synthcmp align it is taken per layer: it ignores which
        frequencies or which rotation a run uses, so two runs that implement the same program
        on different circles score alike here even when their CKA is low. Baseline there: the
        node's values shuffled over the inputs, ≈ (n − 1)/(N − 1).""",
        ("eta2", "η²", "node_share", "program level", "function of u"),
    ),
    Term(
        "Jaccard",
        "align",
        "overlap of two runs' key-frequency sets, |A ∩ B| / |A ∪ B|",
        """The Jaccard index of two runs' key-frequency sets: |A ∩ B| / |A ∪ B|, 1 when they
        use the same frequencies, 0 when they share none. Chughtai et al. 2023 found that
        grokked runs agree on the algorithm but each picks its own frequencies ('weak
        universality'); the baseline is the index of random sets of the same sizes.""",
        ("jaccard index", "frequency overlap"),
    ),
]

GLOSSARY: dict[str, Term] = {t.name: t for t in _TERMS}


def _norm(word: str) -> str:
    return re.sub(r"[\s_\-]+", " ", word.strip().casefold())


_INDEX: dict[str, str] = {}
for _t in _TERMS:
    for _name in (_t.name, *_t.aliases):
        _INDEX.setdefault(_norm(_name), _t.name)


def lookup(word: str) -> Term | None:
    """The term named ``word`` or one of its aliases (case, spaces and _ - ignored)."""
    name = _INDEX.get(_norm(word))
    return GLOSSARY[name] if name else None


def close_matches(word: str, n: int = 3) -> list[str]:
    """The terms whose names or aliases look most like ``word`` (for 'did you mean')."""
    found = difflib.get_close_matches(_norm(word), list(_INDEX), n=2 * n, cutoff=0.5)
    names = list(dict.fromkeys(_INDEX[f] for f in found))
    return names[:n]


def legend(*names: str) -> Text:
    """A dim legend for a table: ``term — meaning`` for each named term, one after another.

    It wraps to whatever width it is printed at (a panel's, the console's)."""
    text = Text(style="dim")
    for i, name in enumerate(names):
        term = GLOSSARY[name]
        if i:
            text.append(" · ")
        text.append(term.name, style="italic")
        text.append(f" — {term.line()}")
    return text
