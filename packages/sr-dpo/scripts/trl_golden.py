"""Golden values for @sr2se/sr-dpo from TRL's DPO loss, re-implemented in PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/trl_golden.py
Writes test/fixtures/trl-golden.json.

`trl_dpo_loss` follows the body of `DPOTrainer.dpo_loss` of TRL v0.28 (the trainer with `loss_type`
lists, `loss_weights`, `rpo_alpha` and the `sft` loss type, before the v0.29 DPO refactor);
`trl_batch_loss` follows `DPOTrainer.get_batch_loss_metrics` (weighted sum over loss types,
rewards summed with the same weights, `rpo_alpha * nll_loss`, the metrics) and
`concatenated_forward` (log-probs summed over completion tokens, divided by the token count when
"ipo" is among the loss types; `nll_loss` = cross-entropy over the chosen tokens).
SR-DPO's pair weights (not in TRL) multiply the preference part. Gradients come from autograd with
respect to the summed policy log-probs, in float64.
"""

import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(7)
DT = torch.float64


def trl_dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, loss_type, cfg, nll_loss):
    beta = cfg["beta"]
    label_smoothing = cfg["label_smoothing"]
    reference_free = cfg["reference_free"]
    chosen_logratios = chosen_logps - (not reference_free) * ref_chosen_logps
    rejected_logratios = rejected_logps - (not reference_free) * ref_rejected_logps
    logratios = chosen_logps - rejected_logps
    if reference_free:
        ref_logratios = torch.tensor([0], dtype=logratios.dtype)
    else:
        ref_logratios = ref_chosen_logps - ref_rejected_logps
    logits = logratios - ref_logratios

    if loss_type == "sigmoid":
        losses = -F.logsigmoid(beta * logits) * (1 - label_smoothing) - F.logsigmoid(-beta * logits) * label_smoothing
    elif loss_type == "robust":
        losses = (
            -F.logsigmoid(beta * logits) * (1 - label_smoothing) + F.logsigmoid(-beta * logits) * label_smoothing
        ) / (1 - 2 * label_smoothing)
    elif loss_type == "exo_pair":
        eps = 1e-3 if label_smoothing == 0 else label_smoothing
        losses = (beta * logits).sigmoid() * (F.logsigmoid(beta * logits) - math.log(1 - eps)) + (
            -beta * logits
        ).sigmoid() * (F.logsigmoid(-beta * logits) - math.log(eps))
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * logits)
    elif loss_type == "ipo":
        losses = (logits - 1 / (2 * beta)) ** 2
    elif loss_type == "bco_pair":
        # TRL recomputes the log-ratios here (with the reference, reference-free or not); our
        # reference-free cases pass zero references, so both agree.
        clr = chosen_logps - ref_chosen_logps
        rlr = rejected_logps - ref_rejected_logps
        rewards = torch.cat((beta * clr, beta * rlr), 0).mean().detach()
        # RunningMoments after its first update holds the batch mean (count starts at 1e-24).
        delta = cfg["bco_delta"] if cfg["bco_delta"] is not None else rewards
        losses = -F.logsigmoid((beta * clr) - delta) - F.logsigmoid(-(beta * rlr - delta))
    elif loss_type == "sppo_hard":
        a = chosen_logps - ref_chosen_logps
        b = rejected_logps - ref_rejected_logps
        losses = (a - 0.5 / beta) ** 2 + (b + 0.5 / beta) ** 2
    elif loss_type == "nca_pair":
        chosen_rewards = (chosen_logps - ref_chosen_logps) * beta
        rejected_rewards = (rejected_logps - ref_rejected_logps) * beta
        losses = -F.logsigmoid(chosen_rewards) - 0.5 * F.logsigmoid(-chosen_rewards) - 0.5 * F.logsigmoid(-rejected_rewards)
    elif loss_type == "apo_zero":
        losses = (1 - F.sigmoid(beta * chosen_logratios)) + F.sigmoid(beta * rejected_logratios)
    elif loss_type == "apo_down":
        losses = F.sigmoid(beta * chosen_logratios) + (1 - F.sigmoid(beta * (chosen_logratios - rejected_logratios)))
    elif loss_type == "discopop":
        lg = (chosen_logps - rejected_logps) - (ref_chosen_logps - ref_rejected_logps)
        lg = lg * beta
        mod = torch.sigmoid(lg / cfg["discopop_tau"])
        losses = -F.logsigmoid(lg) * (1 - mod) + torch.exp(-lg) * mod
    elif loss_type == "sft":
        losses = nll_loss.expand(chosen_logps.shape[0])
        return losses, torch.zeros_like(chosen_logps), torch.zeros_like(rejected_logps)
    else:
        raise ValueError(loss_type)

    chosen_rewards = beta * (chosen_logps - ref_chosen_logps).detach()
    rejected_rewards = beta * (rejected_logps - ref_rejected_logps).detach()
    return losses, chosen_rewards, rejected_rewards


def token_logps(n, lengths, vocab, scale):
    """Summed log-probs of random labels under random logits, and the chosen NLL as TRL's cross_entropy."""
    t = int(max(lengths))
    logits = torch.randn(n, t, vocab, dtype=DT) * scale
    labels = torch.randint(1, vocab, (n, t))  # 0 is TRL's ignore_index
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    labels = torch.where(mask, labels, torch.zeros_like(labels))
    per_token = torch.gather(logits.log_softmax(-1), 2, labels[:, :, None]).squeeze(2) * mask
    nll = F.cross_entropy(logits.reshape(-1, vocab), labels.reshape(-1), ignore_index=0)
    return per_token.sum(-1), nll


def make_batch(n, spread, with_tokens):
    lc = torch.randint(1, 9, (n,)).tolist()
    lr = torch.randint(1, 9, (n,)).tolist()
    if with_tokens:
        pc, nll = token_logps(n, lc, 11, 2.0)
        pr, _ = token_logps(n, lr, 11, 2.0)
        rc, _ = token_logps(n, lc, 11, 2.0)
        rr, _ = token_logps(n, lr, 11, 2.0)
        # The NLL we define from summed log-probs must be TRL's token cross-entropy.
        assert torch.allclose(nll, -pc.sum() / sum(lc), rtol=1e-12, atol=1e-12)
    else:
        base = -torch.rand(n, dtype=DT) * 100 - 1
        pc = base + (torch.rand(n, dtype=DT) - 0.5) * spread
        pr = base + (torch.rand(n, dtype=DT) - 0.5) * spread
        rc = base + (torch.rand(n, dtype=DT) - 0.5) * spread
        rr = base + (torch.rand(n, dtype=DT) - 0.5) * spread
    return {"pc": pc, "pr": pr, "rc": rc, "rr": rr, "lc": lc, "lr": lr}


def trl_batch_loss(batch, loss_types, loss_weights, cfg, alpha, weights):
    pc = batch["pc"].clone().requires_grad_(True)
    pr = batch["pr"].clone().requires_grad_(True)
    lc = torch.tensor(batch["lc"], dtype=DT)
    lr = torch.tensor(batch["lr"], dtype=DT)
    rc, rr = batch["rc"], batch["rr"]
    if cfg["reference_free"] and batch.get("no_ref"):
        rc, rr = torch.zeros_like(rc), torch.zeros_like(rr)
    nll_loss = -pc.sum() / lc.sum()
    c_logps, r_logps, ref_c, ref_r = pc, pr, rc, rr
    if "ipo" in loss_types:
        c_logps, r_logps, ref_c, ref_r = pc / lc, pr / lr, rc / lc, rr / lr
    losses = 0
    chosen_rewards = 0
    rejected_rewards = 0
    for idx, loss_type in enumerate(loss_types):
        _l, _c, _r = trl_dpo_loss(c_logps, r_logps, ref_c, ref_r, loss_type, cfg, nll_loss)
        w = loss_weights[idx] if loss_weights else 1.0
        if weights is not None and loss_type != "sft":
            _l = _l * weights  # SR-DPO: pair weights on the preference terms only
        losses = losses + _l * w
        chosen_rewards = chosen_rewards + _c * w
        rejected_rewards = rejected_rewards + _r * w
    if alpha:
        losses = losses + alpha * nll_loss
    loss = losses.mean()
    loss.backward()
    metrics = {
        "loss": loss.item(),
        "rewards/chosen": chosen_rewards.mean().item(),
        "rewards/rejected": rejected_rewards.mean().item(),
        "rewards/accuracies": (chosen_rewards > rejected_rewards).double().mean().item(),
        "rewards/margins": (chosen_rewards - rejected_rewards).mean().item(),
        "logps/chosen": c_logps.detach().mean().item(),
        "logps/rejected": r_logps.detach().mean().item(),
    }
    if alpha or "sft" in loss_types:
        metrics["nll_loss"] = nll_loss.item()
    return {
        "loss": loss.item(),
        "losses": losses.detach().tolist(),
        "chosenRewards": chosen_rewards.tolist(),
        "rejectedRewards": rejected_rewards.tolist(),
        "metrics": metrics,
        "grad": {"policyChosen": pc.grad.tolist(), "policyRejected": pr.grad.tolist()},
    }


def r(x):
    if isinstance(x, list):
        return [r(v) for v in x]
    if isinstance(x, dict):
        return {k: r(v) for k, v in x.items()}
    if isinstance(x, float):
        return float(f"{x:.13g}")
    return x


def case(name, loss_type, *, beta=0.1, ls=0.0, ref_free=False, tau=0.05, bco_delta=None, loss_weights=None,
         alpha=0.0, weighted=False, n=6, spread=40.0, with_tokens=False, no_ref=False):
    batch = make_batch(n, spread, with_tokens)
    batch["no_ref"] = no_ref
    types = loss_type if isinstance(loss_type, list) else [loss_type]
    cfg = {"beta": beta, "label_smoothing": ls, "reference_free": ref_free, "discopop_tau": tau, "bco_delta": bco_delta}
    weights = (torch.rand(n, dtype=DT) * 2) if weighted else None
    expected = trl_batch_loss(batch, types, loss_weights, cfg, alpha, weights)
    options = {"beta": beta, "lossType": loss_type}
    if ls:
        options["labelSmoothing"] = ls
    if ref_free:
        options["referenceFree"] = True
    if tau != 0.05:
        options["discopopTau"] = tau
    if bco_delta is not None:
        options["bcoDelta"] = bco_delta
    if loss_weights:
        options["lossWeights"] = loss_weights
    if alpha:
        options["alpha"] = alpha
    b = {"policyChosen": batch["pc"].tolist(), "policyRejected": batch["pr"].tolist()}
    if not no_ref:
        b["referenceChosen"] = batch["rc"].tolist()
        b["referenceRejected"] = batch["rr"].tolist()
    if alpha or "sft" in types or "ipo" in types:
        b["chosenLengths"] = batch["lc"]
        b["rejectedLengths"] = batch["lr"]
    if weighted:
        b["weights"] = weights.tolist()
    return r({"name": name, "options": options, "batch": b, "expected": expected})


PAIR_TYPES = ["sigmoid", "robust", "exo_pair", "hinge", "ipo", "bco_pair", "sppo_hard", "nca_pair", "apo_zero",
              "apo_down", "discopop"]

cases = []
for t in PAIR_TYPES:
    for beta in (0.1, 0.5):
        cases.append(case(f"{t} beta={beta}", t, beta=beta))
    cases.append(case(f"{t} beta=0.05 wide spread", t, beta=0.05, spread=400.0))
    cases.append(case(f"{t} from token logits", t, beta=0.3, with_tokens=True))
cases.append(case("sigmoid labelSmoothing=0.1 (cDPO)", "sigmoid", beta=0.2, ls=0.1))
cases.append(case("robust labelSmoothing=0.2", "robust", beta=0.2, ls=0.2))
cases.append(case("exo_pair labelSmoothing=0.3", "exo_pair", beta=0.2, ls=0.3))
cases.append(case("discopop tau=0.2", "discopop", beta=0.2, tau=0.2))
cases.append(case("bco_pair bcoDelta=0.4", "bco_pair", beta=0.2, bco_delta=0.4))
for t in ("sigmoid", "ipo", "apo_zero", "hinge"):
    cases.append(case(f"{t} referenceFree", t, beta=0.1, ref_free=True, no_ref=True))
cases.append(case("sigmoid referenceFree with references given", "sigmoid", beta=0.1, ref_free=True))
cases.append(case("sigmoid + sft (MPO)", ["sigmoid", "sft"], beta=0.2, loss_weights=[0.8, 0.2], with_tokens=True))
cases.append(case("sigmoid + bco_pair + sft", ["sigmoid", "bco_pair", "sft"], beta=0.2, loss_weights=[0.8, 0.2, 1.0], with_tokens=True))
cases.append(case("ipo + hinge, default weights", ["ipo", "hinge"], beta=0.3))
cases.append(case("apo_zero + nca_pair + robust", ["apo_zero", "nca_pair", "robust"], beta=0.2, ls=0.1, loss_weights=[0.5, 1.5, 1.0]))
cases.append(case("sigmoid alpha=1 (RPO)", "sigmoid", beta=0.1, alpha=1.0, with_tokens=True))
cases.append(case("SR-DPO: sigmoid, pair weights, alpha=0.5", "sigmoid", beta=0.1, alpha=0.5, weighted=True, with_tokens=True))
cases.append(case("SR-DPO: ipo + sigmoid, pair weights, alpha=0.2", ["ipo", "sigmoid"], beta=0.2, alpha=0.2, weighted=True, with_tokens=True))
cases.append(case("single pair", "sigmoid", beta=0.1, n=1))

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "trl-golden.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/trl_golden.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")


# sequenceLogProbs: TRL's concatenated_forward sums gather(log_softmax(logits), labels) over the
# completion mask. Golden values for the forward (sum, mean, tokens) and for the gradient of
# Σ_i (u_i·sum_i + v_i·mean_i) with respect to the logits.
def seq_case(b, t, v, scale):
    logits = (torch.randn(b, t, v, dtype=DT) * scale).requires_grad_(True)
    labels = torch.randint(0, v, (b, t))
    mask = torch.rand(b, t) < 0.6
    mask[0, :] = False  # a sequence without completion tokens
    labels = torch.where(mask, labels, torch.full_like(labels, -100))
    safe = torch.where(mask, labels, torch.zeros_like(labels))
    per_token = torch.gather(logits.log_softmax(-1), 2, safe[:, :, None]).squeeze(2) * mask
    s = per_token.sum(-1)
    n = mask.sum(-1).double()
    mean = s / n.clamp(min=1)
    u = torch.randn(b, dtype=DT)
    w = torch.randn(b, dtype=DT)
    (u * s + w * mean).sum().backward()
    return r({
        "logits": logits.detach().reshape(-1).tolist(),
        "shape": [b, t, v],
        "labels": labels.reshape(-1).tolist(),
        "mask": mask.int().reshape(-1).tolist(),
        "u": u.tolist(),
        "w": w.tolist(),
        "sum": s.detach().tolist(),
        "mean": mean.detach().tolist(),
        "tokens": n.tolist(),
        "gradLogits": logits.grad.reshape(-1).tolist(),
    })


seq_cases = [seq_case(3, 5, 7, 2.0), seq_case(2, 4, 6, 30.0)]
out2 = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sequence-logprobs.json")
with open(out2, "w") as f:
    json.dump({"generator": "scripts/trl_golden.py", "cases": seq_cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(seq_cases)} cases to {os.path.normpath(out2)}")
