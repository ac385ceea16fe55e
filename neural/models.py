"""The two networks that learn a task table: Nanda et al.'s one-layer transformer and
Gromov's two-layer MLP, each with a named activation cache.

Both read a batch of pairs ``(x, y)`` of symbols in ``0..n-1`` and return logits over the
``n`` outputs. Both are small enough to read top to bottom, nanoGPT style: a
:class:`ModelConfig` of plain values, one ``nn.Module`` per part, the shapes in comments.

**transformer** (Nanda et al. 2023, "Progress measures for grokking"): the input is the
token sequence ``[x, y, =]`` where ``=`` is token ``n``; learned token embeddings ``W_E``
plus learned position embeddings ``W_pos``; attention with causal masking; a ReLU MLP; no
LayerNorm; the unembedding ``W_U`` reads the residual stream at the ``=`` position::

    h₀ = W_E[tok] + W_pos                         (B, 3, d)
    h₁ = h₀ + Attn(h₀)          at "="            (B, d)
    h₂ = h₁ + W_out ReLU(W_in h₁ + b_in) + b_out  (B, d)
    logits = h₂ W_U                               (B, n)

Only the ``=`` position feeds the logits, so the last block computes its query and MLP
there alone (a third of the MLP's work) and the numbers are the same — a test checks it.

**constant attention** (``attention="constant"``; the model ``constant-attention``): the
same transformer with Zhong et al. 2023's attention rate 0 — every query attends equally to
the keys it may see (1/(t + 1) each at position t; at "=" a third to each of x, y, =), no
queries or keys at all. Zhong et al. found that such transformers learn the *Pizza*
algorithm for modular addition, and ones with ordinary attention the *Clock*.

**mlp** (Gromov 2023, "Grokking modular arithmetic"): separate embeddings ``E_x``, ``E_y``
of the two inputs (learned, or fixed one-hots as in the paper), summed or concatenated,
one hidden layer with activation ReLU or quadratic (``φ(z) = z²``, the paper's choice,
for which Gromov writes the grokked solution in closed form), and a linear readout::

    h = φ(W_in [E_x[x] ; E_y[y]])   or   φ(W_in (E_x[x] + E_y[y]))     (B, d_mlp)
    logits = h W_U                                                      (B, n)

With one-hot inputs and concatenation ``W_in [e_x ; e_y]`` is exactly Gromov's ``W₁``.
(One-hots *summed* give ``W_in (e_x + e_y)``, symmetric in x and y: it cannot learn x − y.)

**The activation cache.** ``run_with_cache(x, y)`` returns ``(logits, cache)`` where
``cache`` maps stable dotted names (TransformerLens style) to tensors, so analysis code
says *what* it reads, never how to get it. Each model keeps its names in one tuple,
``ACTIVATION_NAMES``, and their shapes in ``ACTIVATION_SHAPES``. For both models
``logits = cache["resid.final"] @ model.unembedding_matrix()`` exactly (no readout bias),
and ``model.embedding_matrix()`` is the ``(n, d)`` table whose row ``a`` is what symbol
``a`` writes into the network — where a grokked network puts its circles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from taskcore.errors import TaskError
from taskcore.serial import JsonMixin

MODEL_KINDS = ("transformer", "mlp")
ACTIVATIONS = ("relu", "quadratic")


@dataclass(frozen=True)
class ModelConfig(JsonMixin):
    """Sizes and shape of a network. Fields that a kind does not use are ignored by it.

    ``d_model`` is the residual width (transformer) or the embedding width (mlp);
    ``embed`` and ``combine`` only concern the mlp; ``act`` is the MLP nonlinearity of both.
    The field defaults are Nanda et al.'s sizes; the trainer's measured defaults (smaller,
    faster) are in :data:`neural.config.DEFAULTS`.
    """

    kind: str = "transformer"  # "transformer" | "mlp"
    d_model: int = 128
    n_heads: int = 4
    d_mlp: int = 512
    n_layers: int = 1
    act: str = "relu"  # "relu" | "quadratic"
    embed: str = "learned"  # mlp: "learned" | "onehot" (fixed identity, d_model = n)
    combine: str = "sum"  # mlp: "sum" | "concat"
    init_scale: float = 1.0  # every initial weight × this (see build_model)
    attention: str = "softmax"  # transformer: "softmax" | "constant" (Zhong et al.'s rate 0)

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise TaskError(f"model kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        if self.act not in ACTIVATIONS:
            raise TaskError(f"activation must be one of {ACTIVATIONS}, got {self.act!r}")
        if self.embed not in ("learned", "onehot"):
            raise TaskError(f"embed must be 'learned' or 'onehot', got {self.embed!r}")
        if self.combine not in ("sum", "concat"):
            raise TaskError(f"combine must be 'sum' or 'concat', got {self.combine!r}")
        if self.attention not in ("softmax", "constant"):
            raise TaskError(f"attention must be 'softmax' or 'constant', got {self.attention!r}")
        if min(self.d_model, self.n_heads, self.d_mlp, self.n_layers) < 1:
            raise TaskError("model sizes must be positive")
        if not 0 < self.init_scale < 100:
            raise TaskError(f"init_scale must be in (0, 100), got {self.init_scale}")
        if self.kind == "transformer" and self.d_model % self.n_heads:
            raise TaskError(f"d_model {self.d_model} is not divisible by {self.n_heads} heads")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def name(self) -> str:
        """The model's name on the command line: its kind, or ``constant-attention``."""
        return "constant-attention" if self.kind == "transformer" and self.attention == "constant" \
            else self.kind  # fmt: skip


def activation(name: str, z: Tensor) -> Tensor:
    return torch.relu(z) if name == "relu" else z * z


# ---------------------------------------------------------------------------------------
# transformer


class Attention(nn.Module):
    """Multi-head causal self-attention without biases (as in Nanda et al.); with constant
    attention, the same without queries and keys (every allowed key weighs the same)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, self.h, self.dh = cfg.d_model, cfg.n_heads, cfg.d_head
        self.constant = cfg.attention == "constant"
        if not self.constant:
            self.W_Q = nn.Parameter(torch.randn(d, d) / math.sqrt(d))  # (d, h·dh)
            self.W_K = nn.Parameter(torch.randn(d, d) / math.sqrt(d))
        self.W_V = nn.Parameter(torch.randn(d, d) / math.sqrt(d))
        self.W_O = nn.Parameter(torch.randn(d, d) / math.sqrt(d))  # (h·dh, d)

    def forward(
        self, resid: Tensor, last_only: bool, table: Tensor | None = None,
        tokens: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:  # fmt: skip
        """``resid`` (B, T, d) → (out, pattern). With ``last_only`` only the last query is
        computed: out (B, d), pattern (B, h, T); otherwise out (B, T, d), pattern (B, h, T, T).

        ``table`` (T, V, d) and ``tokens`` (B, T), for a first layer, say that
        ``resid[b, t] = table[t, tokens[b, t]]`` (token embedding plus position). Queries,
        keys and values are linear in resid, so they are then computed once per row of the
        table and looked up, not once per example — the same numbers, for B ≫ V far fewer
        multiplications (the first layer's largest matmuls become ``(T·V, d) @ (d, d)``);
        with one query (``last_only``) even the scores q·k are one of T·V·V per head and are
        looked up.
        """
        B, T, _ = resid.shape
        if table is not None:
            V = table.shape[1]
            row = torch.arange(T, device=resid.device) * V + tokens  # (B, T): row of the table
            flat = table.reshape(T * V, -1)

            def project(W: Tensor) -> Tensor:  # (B, T, d): resid @ W, by lookup
                return F.embedding(row, flat @ W)
        else:

            def project(W: Tensor) -> Tensor:
                return resid @ W

        v = project(self.W_V).view(B, T, self.h, self.dh)  # (B, T, h, dh)
        if self.constant:  # attention rate 0: query t averages the values of keys 0 … t
            causal = torch.ones(T, T, device=resid.device, dtype=v.dtype).tril()
            weights = causal / causal.sum(dim=1, keepdim=True)  # (T queries, T keys)
            if last_only:
                pattern = weights[-1].expand(B, self.h, T)  # (B, h, T)
                z = torch.einsum("k,bkhe->bhe", weights[-1], v)  # (B, h, dh)
                return z.reshape(B, -1) @ self.W_O, pattern
            pattern = weights.expand(B, self.h, T, T)  # (B, h, T, T)
            z = torch.einsum("qk,bkhe->bqhe", weights, v)  # (B, T, h, dh)
            return z.reshape(B, T, -1) @ self.W_O, pattern
        if last_only:
            if table is not None:  # each q·k is one of T·V·V per head: look the scores up
                k_rows = (flat @ self.W_K).view(T, V, self.h, self.dh)
                q_rows = (table[-1] @ self.W_Q).view(V, self.h, self.dh)
                S = torch.einsum("tkhe,qhe->tkqh", k_rows, q_rows).reshape(T * V * V, self.h)
                scores = F.embedding(row * V + tokens[:, -1:], S)  # (B, T, h)
            else:
                # With T = 3 a batched matmul over B·h tiny matrices is slower than
                # broadcasting, so the last query multiplies and sums elementwise.
                k = project(self.W_K).view(B, T, self.h, self.dh)  # (B, T, h, dh)
                q = (resid[:, -1] @ self.W_Q).view(B, 1, self.h, self.dh)  # (B, 1, h, dh)
                scores = (q * k).sum(-1)  # (B, T, h)
            pattern = (scores / math.sqrt(self.dh)).softmax(dim=1)  # (B, T, h): over the keys
            z = (pattern.unsqueeze(-1) * v).sum(1)  # (B, h, dh)
            return z.reshape(B, -1) @ self.W_O, pattern.transpose(1, 2)  # (B, d), (B, h, T)
        k = project(self.W_K).view(B, T, self.h, self.dh)  # (B, T, h, dh)
        q = project(self.W_Q).view(B, T, self.h, self.dh)  # (B, T, h, dh)
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(self.dh)  # (B, h, T, T)
        mask = torch.ones(T, T, dtype=torch.bool, device=resid.device).triu(1)
        pattern = scores.masked_fill(mask, float("-inf")).softmax(dim=-1)  # causal
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)  # (B, T, h, dh)
        return z.reshape(B, T, -1) @ self.W_O, pattern  # (B, T, d), (B, h, T, T)


class MLPBlock(nn.Module):
    """``W_out φ(W_in h + b_in) + b_out`` at each position it is given."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        d, m = cfg.d_model, cfg.d_mlp
        self.act = cfg.act
        self.W_in = nn.Parameter(torch.randn(d, m) / math.sqrt(d))
        self.b_in = nn.Parameter(torch.zeros(m))
        self.W_out = nn.Parameter(torch.randn(m, d) / math.sqrt(m))
        self.b_out = nn.Parameter(torch.zeros(d))

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``h`` (..., d) → (out (..., d), pre (..., d_mlp), post (..., d_mlp))."""
        pre = h @ self.W_in + self.b_in
        post = activation(self.act, pre)
        return post @ self.W_out + self.b_out, pre, post


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.attn = Attention(cfg)
        self.mlp = MLPBlock(cfg)

    def forward(
        self, resid: Tensor, last_only: bool, cache: dict | None, prefix: str,
        table: Tensor | None = None, tokens: Tensor | None = None,
    ) -> Tensor:  # fmt: skip
        """``resid`` (B, 3, d) → (B, d) at "=" if ``last_only`` else (B, 3, d). ``table`` and
        ``tokens``: see :meth:`Attention.forward` (the first block reads the embeddings)."""
        attn_out, pattern = self.attn(resid, last_only, table, tokens)
        mid = (resid[:, -1] if last_only else resid) + attn_out
        mlp_out, pre, post = self.mlp(mid)
        out = mid + mlp_out
        if cache is not None:
            names = ("attn.pattern", "attn.out", "resid.mid", "mlp.pre", "mlp.post")
            values = (pattern, attn_out, mid, pre, post)
            cache.update({prefix + k: v for k, v in zip(names, values, strict=True)})
        return out


class CachedModel(nn.Module):
    """What both models share: ``forward`` and ``run_with_cache`` are one pass, ``_forward``,
    which fills the cache of named activations when it is given one."""

    def _forward(self, x: Tensor, y: Tensor, cache: dict | None) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self._forward(x, y, None)

    def run_with_cache(self, x: Tensor, y: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        cache: dict[str, Tensor] = {}
        logits = self._forward(x, y, cache)
        return logits, cache


class Transformer(CachedModel):
    """Nanda et al.'s modular-addition transformer (one layer by default).

    Activation names (B = batch, h = heads, d = d_model, all at the "=" position but
    ``resid.pre`` and ``embed.*``): see :data:`ACTIVATION_NAMES` / :data:`ACTIVATION_SHAPES`.
    For ``n_layers > 1`` the earlier blocks add ``blocks.{i}.attn.pattern`` (B, h, 3, 3),
    ``blocks.{i}.attn.out``, ``blocks.{i}.resid.mid`` (B, 3, d), ``blocks.{i}.mlp.pre``,
    ``blocks.{i}.mlp.post`` (B, 3, d_mlp) and ``blocks.{i}.resid.post`` (B, 3, d); the
    unprefixed names always belong to the last block, the one that writes the logits.
    """

    ACTIVATION_NAMES = (
        "embed.x", "embed.y", "resid.pre", "attn.pattern", "attn.out", "resid.mid",
        "mlp.pre", "mlp.post", "resid.final",
    )  # fmt: skip
    ACTIVATION_SHAPES = {
        "embed.x": "(B, d_model)  token embedding W_E[x]",
        "embed.y": "(B, d_model)  token embedding W_E[y]",
        "resid.pre": "(B, 3, d_model)  W_E[tok] + W_pos for [x, y, =]",
        "attn.pattern": "(B, n_heads, 3)  attention of the '=' query over [x, y, =]",
        "attn.out": "(B, d_model)  attention output at '=' (after W_O, summed over heads)",
        "resid.mid": "(B, d_model)  residual at '=' after attention",
        "mlp.pre": "(B, d_mlp)  MLP pre-activation at '='",
        "mlp.post": "(B, d_mlp)  MLP neuron activations at '='",
        "resid.final": "(B, d_model)  residual at '=' that W_U reads",
    }

    def __init__(self, cfg: ModelConfig, n: int):
        super().__init__()
        self.cfg, self.n = cfg, n
        d = cfg.d_model
        self.W_E = nn.Parameter(torch.randn(n + 1, d) / math.sqrt(d))  # token n is "="
        self.W_pos = nn.Parameter(torch.randn(3, d) / math.sqrt(d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.W_U = nn.Parameter(torch.randn(d, n) / math.sqrt(n))

    @property
    def activation_names(self) -> tuple[str, ...]:
        extra = tuple(
            f"blocks.{i}.{k}"
            for i in range(self.cfg.n_layers - 1)
            for k in ("attn.pattern", "attn.out", "resid.mid", "mlp.pre", "mlp.post", "resid.post")
        )
        return self.ACTIVATION_NAMES + extra

    def _forward(self, x: Tensor, y: Tensor, cache: dict | None) -> Tensor:
        eq = torch.full_like(x, self.n)
        tokens = torch.stack([x, y, eq], dim=1)  # (B, 3)
        table = self.W_E.unsqueeze(0) + self.W_pos.unsqueeze(1)  # (3, n + 1, d): token + position
        resid = table[torch.arange(3, device=x.device), tokens]  # (B, 3, d)
        if cache is not None:
            cache.update({"embed.x": self.W_E[x], "embed.y": self.W_E[y], "resid.pre": resid})
        first = (table, tokens)  # the first block's input is an embedding: see Attention
        for i, block in enumerate(self.blocks[:-1]):
            resid = block(resid, False, cache, f"blocks.{i}.", *first)  # (B, 3, d)
            first = (None, None)
            if cache is not None:
                cache[f"blocks.{i}.resid.post"] = resid
        final = self.blocks[-1](resid, True, cache, "", *first)  # (B, d)
        if cache is not None:
            cache["resid.final"] = final
        return final @ self.W_U  # (B, n)

    def embedding_matrix(self, which: str = "x") -> Tensor:
        """(n, d_model): the token embeddings of the n symbols (shared by x and y; "=" left out)."""
        return self.W_E[: self.n]

    def unembedding_matrix(self) -> Tensor:
        """(d_model, n): ``logits = resid.final @ W_U``."""
        return self.W_U

    def linear_readouts(self) -> dict[str, Tensor]:
        """The cached activations the logits are an affine function of, each with its matrix:
        ``logits = act @ M + (the rest)``. At "=": ``resid.final @ W_U``, and, through the last
        MLP's output weights, ``mlp.post @ W_out @ W_U``. A change of the activation changes
        the logits by ``Δ @ M`` exactly, so an intervention there needs no second pass."""
        W_out = self.blocks[-1].mlp.W_out
        return {"mlp.post": W_out @ self.W_U, "resid.final": self.W_U}


# ---------------------------------------------------------------------------------------
# mlp


class MLP(CachedModel):
    """Gromov's two-layer network ``logits = W_U φ(W_in combine(E_x[x], E_y[y]))``, no biases."""

    ACTIVATION_NAMES = ("embed.x", "embed.y", "mlp.pre", "mlp.post", "resid.final")
    ACTIVATION_SHAPES = {
        "embed.x": "(B, d_emb)  E_x[x]  (d_emb = d_model, or n for one-hots)",
        "embed.y": "(B, d_emb)  E_y[y]",
        "mlp.pre": "(B, d_mlp)  W_in applied to the summed or concatenated embeddings",
        "mlp.post": "(B, d_mlp)  hidden activations φ(mlp.pre)",
        "resid.final": "(B, d_mlp)  the vector W_U reads: the same tensor as mlp.post",
    }

    def __init__(self, cfg: ModelConfig, n: int):
        super().__init__()
        self.cfg, self.n = cfg, n
        d = n if cfg.embed == "onehot" else cfg.d_model
        if cfg.embed == "onehot":  # fixed, not trained: Gromov's one-hot inputs
            self.register_buffer("E_x", torch.eye(n))
            self.register_buffer("E_y", torch.eye(n))
        else:
            self.E_x = nn.Parameter(torch.randn(n, d) / math.sqrt(d))
            self.E_y = nn.Parameter(torch.randn(n, d) / math.sqrt(d))
        d_in = 2 * d if cfg.combine == "concat" else d
        self.W_in = nn.Parameter(torch.randn(d_in, cfg.d_mlp) / math.sqrt(d_in))
        self.W_U = nn.Parameter(torch.randn(cfg.d_mlp, n) / math.sqrt(cfg.d_mlp))

    @property
    def activation_names(self) -> tuple[str, ...]:
        return self.ACTIVATION_NAMES

    def _forward(self, x: Tensor, y: Tensor, cache: dict | None) -> Tensor:
        ex, ey = F.embedding(x, self.E_x), F.embedding(y, self.E_y)  # (B, d) each
        h = torch.cat([ex, ey], dim=-1) if self.cfg.combine == "concat" else ex + ey
        pre = h @ self.W_in  # (B, d_mlp)
        post = activation(self.cfg.act, pre)
        if cache is not None:
            cache.update({"embed.x": ex, "embed.y": ey, "mlp.pre": pre, "mlp.post": post})
            cache["resid.final"] = post
        return post @ self.W_U  # (B, n)

    def embedding_matrix(self, which: str = "x") -> Tensor:
        """(n, d): row ``a`` is what input ``which`` = a writes into the network.

        With learned embeddings that is ``E_x`` or ``E_y``, (n, d_model). With one-hots the
        embedding is the identity, so the informative matrix is the block of ``W_in`` that
        the one-hot selects, (n, d_mlp): rows ``:n`` (x) or ``n:`` (y) of ``W_in`` when
        concatenated, all of ``W_in`` (shared by x and y) when summed.
        """
        if which not in ("x", "y"):
            raise ValueError(f"which must be 'x' or 'y', got {which!r}")
        if self.cfg.embed == "learned":
            return self.E_x if which == "x" else self.E_y
        if self.cfg.combine == "concat":
            return self.W_in[: self.n] if which == "x" else self.W_in[self.n :]
        return self.W_in

    def unembedding_matrix(self) -> Tensor:
        """(d_mlp, n): ``logits = resid.final @ W_U``."""
        return self.W_U

    def linear_readouts(self) -> dict[str, Tensor]:
        """``logits = mlp.post @ W_U`` (resid.final is the same tensor): see
        :meth:`Transformer.linear_readouts`."""
        return {"mlp.post": self.W_U}


def build_model(config: ModelConfig, n: int) -> nn.Module:
    """A fresh network for a task on ``n`` symbols (initialised from torch's global RNG).

    ``init_scale`` multiplies every initial weight. Why a knob for it: Liu et al. 2022
    ("Omnigrok") tie grokking's plateau to the weight norm — started large, a network first
    fits its training pairs with large weights (memorization, test accuracy near chance)
    and only generalizes once weight decay has shrunk them towards the low-norm solution.
    A larger start makes the memorization phase distinct and the grokking visibly later.
    """
    model = Transformer(config, n) if config.kind == "transformer" else MLP(config, n)
    if config.init_scale != 1.0:
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(config.init_scale)
    return model
