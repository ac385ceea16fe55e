"""The weights being trained, one seed or many, behind one interface the training loop uses.

The loop (:mod:`neural.loop`) trains A seeds at once and never asks how: every tensor it
sees has a leading seed axis — inputs (A, B), logits (A, B, n), losses (A,) — and the
weights below turn that into work:

* :class:`OneModel` — one seed: an ordinary ``nn.Module`` and :class:`torch.optim.AdamW`,
  so a single run is exactly the code a reader of nanoGPT expects (A = 1);
* :class:`StackedModels` — N seeds as *one* model whose every parameter has a leading seed
  axis, θ_i (shape S) → Θ (shape (N, *S)). The forward pass is the ordinary model's,
  vectorized over that axis with ``torch.vmap`` over ``torch.func.functional_call`` — the
  same code, so the same numbers: a batched launch multiplies ``(N, B, d) @ (N, d, d)``
  where a single run multiplies ``(B, d) @ (d, d)``. The seeds never mix: the loss is
  Σ_i L_i(θ_i), whose gradient with respect to Θ[i] is ∇L_i(θ_i). Each seed keeps its own
  AdamW moments and its own learning rate and decay; AdamW, per seed i, exactly as
  :class:`torch.optim.AdamW` computes it (a test holds the two equal step for step)::

      θ ← θ (1 − η_i λ_i);   m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
      θ ← θ − η_i / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

Both hold their seeds' data as (A, N) index tensors and give each seed's weights and
optimizer state in the single model's formats (``state_dict``, ``AdamW.state_dict``), so a
run folder written by either is read, resumed and compared by the same code.

Optionally the Grokfast filter (Lee et al. 2024) first adds an exponential moving average of
past gradients to the gradient, ḡ ← α ḡ + (1 − α) g, g ← g + λ ḡ.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from neural.store import cpu_state_dict

EPS = 1e-8  # AdamW's ε (torch's default)
DATA = ("x_train", "y_train", "out_train", "x_test", "y_test", "out_test")


def seed_losses(logits: Tensor, labels: Tensor) -> Tensor:
    """(A,): each seed's mean cross-entropy over its batch. One seed takes torch's own
    reduction, so a single run's numbers are those of ``F.cross_entropy(logits, labels)``."""
    if logits.shape[0] == 1:
        return F.cross_entropy(logits[0].float(), labels[0]).unsqueeze(0)
    A, B = labels.shape
    flat = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), reduction="none")
    return flat.view(A, B).mean(dim=1)


class OneModel:
    """One seed: a module, :class:`torch.optim.AdamW`, and its data as (1, N) tensors."""

    def __init__(self, model: nn.Module, split, betas, device, dtype):
        self.model = model.to(device=device, dtype=dtype)
        self.dtype = dtype
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, betas=betas)
        self.ema: list[Tensor] | None = None
        for name in DATA:
            setattr(self, name, torch.as_tensor(getattr(split, name), dtype=torch.long,
                                                device=device).unsqueeze(0))  # fmt: skip

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.model(x[0], y[0]).unsqueeze(0)

    def keep(self, rows: list[int]) -> None:
        if rows != [0]:
            raise ValueError("one model keeps its one seed")

    def weight_norms(self) -> list[float]:
        return [torch.linalg.vector_norm(torch.stack(torch._foreach_norm(self.params))).item()]

    def state_dict(self, row: int) -> dict:
        return cpu_state_dict(self.model)

    def optimizer_state(self, row: int, lr: float, decay: float) -> dict:
        for group in self.optimizer.param_groups:  # the rate and decay of the step it is at
            group["lr"], group["weight_decay"] = lr, decay
        return self.optimizer.state_dict()

    def ema_state(self, row: int) -> list[Tensor]:
        return [t.detach().cpu() for t in self.ema] if self.ema is not None else []

    def load(self, state: dict, device) -> None:
        """A resume point's weights, optimizer moments and Grokfast average."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.ema = [t.to(device) for t in state["ema"]] if state["ema"] else None

    def step(self, schedules: list[tuple[float, float]], grokfast: tuple[float, float] | None
             ) -> None:  # fmt: skip
        """One AdamW step from the gradients the loss left, at its seed's (rate, decay)."""
        if grokfast:
            alpha, lam = grokfast
            grads = [p.grad for p in self.params]
            if self.ema is None:
                self.ema = [g.detach().clone() for g in grads]
            else:  # ḡ ← α ḡ + (1 − α) g
                torch._foreach_lerp_(self.ema, grads, 1.0 - alpha)
            torch._foreach_add_(grads, self.ema, alpha=lam)  # g ← g + λ ḡ
        ((lr, decay),) = schedules
        for group in self.optimizer.param_groups:
            group["lr"], group["weight_decay"] = lr, decay
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def model_of(self, row: int) -> nn.Module:
        return self.model


class StackedModels:
    """The stacked parameters, AdamW moments and data of the seeds still training."""

    def __init__(self, models: list[nn.Module], splits, betas, device, dtype):
        from torch.func import stack_module_state

        self.model = models[0]  # the template whose code runs under vmap (its own weights unused)
        self.dtype = dtype
        params, buffers = stack_module_state(models)
        self.names = list(params)
        self.params = {k: v.to(device=device, dtype=dtype).detach().requires_grad_()
                       for k, v in params.items()}  # fmt: skip
        self.buffers = {k: v.to(device=device, dtype=dtype) for k, v in buffers.items()}
        self.exp_avg = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.exp_avg_sq = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.ema: dict[str, Tensor] | None = None
        self.opt_step = 0
        self.betas = betas
        self.template = torch.optim.AdamW(models[0].parameters(), betas=betas).state_dict()
        for name in DATA:
            setattr(self, name, torch.stack([torch.as_tensor(getattr(s, name), dtype=torch.long)
                                             for s in splits]).to(device))  # fmt: skip

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """(A, B) inputs → (A, B, n) logits, each seed through its own weights."""
        from torch.func import functional_call, vmap

        def one(params, buffers, x, y):
            return functional_call(self.model, (params, buffers), (x, y))

        return vmap(one)(self.params, self.buffers, x, y)

    def keep(self, rows: list[int]) -> None:
        """Only these seeds (rows of the batch) go on."""
        idx = torch.tensor(rows, device=self.x_train.device)

        def take(d):
            return {k: v.index_select(0, idx) for k, v in d.items()}

        params = {}
        for k, v in self.params.items():  # new leaves, with the gradients of the rows kept
            params[k] = v.detach().index_select(0, idx).requires_grad_()
            params[k].grad = None if v.grad is None else v.grad.index_select(0, idx)
        self.params = params
        self.buffers, self.exp_avg, self.exp_avg_sq = map(take, (self.buffers, self.exp_avg,
                                                                 self.exp_avg_sq))  # fmt: skip
        if self.ema is not None:
            self.ema = take(self.ema)
        for name in DATA:
            setattr(self, name, getattr(self, name).index_select(0, idx))

    def weight_norms(self) -> list[float]:
        """‖θ_i‖₂ over every trainable parameter, per seed."""
        norms = torch.stack([p.detach().flatten(1).norm(dim=1) for p in self.params.values()])
        return norms.norm(dim=0).tolist()

    def state_dict(self, row: int) -> dict:
        """Seed ``row``'s weights as the single model's state dict, on the CPU."""
        both = {**self.params, **self.buffers}
        return {k: both[k][row].detach().to("cpu", copy=True) for k in self.model.state_dict()}

    def optimizer_state(self, row: int, lr: float, decay: float) -> dict:
        """Seed ``row``'s AdamW state as :meth:`torch.optim.AdamW.state_dict` writes it."""
        state = {}
        for i, k in enumerate(self.names):
            state[i] = {
                "step": torch.tensor(float(self.opt_step)),
                "exp_avg": self.exp_avg[k][row].detach().to("cpu", copy=True),
                "exp_avg_sq": self.exp_avg_sq[k][row].detach().to("cpu", copy=True),
            }
        groups = [{**g, "lr": lr, "weight_decay": decay} for g in self.template["param_groups"]]
        return {"state": state if self.opt_step else {}, "param_groups": groups}

    def ema_state(self, row: int) -> list[Tensor]:
        return [self.ema[k][row].detach().cpu() for k in self.names] if self.ema else []

    def step(self, schedules: list[tuple[float, float]], grokfast: tuple[float, float] | None
             ) -> None:  # fmt: skip
        """One AdamW step for every seed, each at its own (rate, decay)."""
        if grokfast:
            self._grokfast(*grokfast)
        device = self.x_train.device
        lr = torch.tensor([s[0] for s in schedules], device=device, dtype=self.dtype)
        decay = torch.tensor([s[1] for s in schedules], device=device, dtype=self.dtype)
        beta1, beta2 = self.betas
        self.opt_step += 1
        t = self.opt_step
        bias1, bias2_sqrt = 1 - beta1**t, math.sqrt(1 - beta2**t)
        with torch.no_grad():
            for k, p in self.params.items():
                shape = (-1,) + (1,) * (p.ndim - 1)
                g = p.grad
                p.mul_(1 - (lr * decay).view(shape))
                self.exp_avg[k].lerp_(g, 1 - beta1)
                self.exp_avg_sq[k].mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (self.exp_avg_sq[k].sqrt() / bias2_sqrt).add_(EPS)
                p.sub_((lr / bias1).view(shape) * self.exp_avg[k] / denom)
                p.grad = None

    def _grokfast(self, alpha: float, lam: float) -> None:
        grads = {k: p.grad for k, p in self.params.items()}
        if self.ema is None:
            self.ema = {k: g.detach().clone() for k, g in grads.items()}
        else:
            for k, g in grads.items():
                self.ema[k].lerp_(g, 1.0 - alpha)
        for k, g in grads.items():
            g.add_(self.ema[k], alpha=lam)

    def model_of(self, row: int) -> nn.Module:
        """A fresh module holding seed ``row``'s weights (built from the template's config)."""
        import copy

        model = copy.deepcopy(self.model).to(dtype=self.dtype)
        model.load_state_dict(self.state_dict(row))
        return model
