"""Golden values for @sr2se/rl from the verl copy inside Vision-SR1 (EasyR1 of early April 2025).

Run with Debian's python3 (python3-torch, python3-numpy):

    /usr/bin/python3 scripts/verl_golden.py VISION_SR1

VISION_SR1 is the fetched source of github:zli12321/Vision-SR1: a checkout or a bare git directory.
The official files are copied to a temporary directory and imported from there (they are not
committed here): `verl/trainer/core_algos.py`, `verl/utils/torch_functional.py` and the
`verl/utils/torch_dtypes.py` it imports. `verl/__init__.py` is not run (it needs `codetiming`): the
`verl`, `verl.trainer` and `verl.utils` packages are empty stand-ins. For torch older than 2.0, two
names that torch_functional.py only uses as a decorator and an annotation (`torch.compiler.disable`,
`lr_scheduler.LRScheduler`) get stand-ins; no computation goes through them.

The actor loss is `DataParallelPPOActor.update_policy` (verl/workers/actor/dp_actor.py:249-283), which
needs a model to import; `actor_micro_batch` below restates its few lines around the official
`compute_policy_loss`, `compute_kl` and `masked_mean`, which do all the arithmetic.

float64: `compute_kl` starts with `log_probs.float()` (core_algos.py:408), a no-op in verl's float32
training that would silently make a float64 run float32. For the float64 fixtures `Tensor.float` is
the identity while `compute_kl` runs, so they hold the same formulas in float64.

Masks are int64, as verl's (slices of `attention_mask`). Writes test/fixtures/verl-{grpo,kl,policy,actor}.json;
NaN and ±Infinity are written as the strings "NaN", "Infinity", "-Infinity".
"""

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

FILES = ["verl/trainer/core_algos.py", "verl/utils/torch_functional.py", "verl/utils/torch_dtypes.py"]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
NAN, INF = float("nan"), float("inf")


def read_source(root, rel):
    """Returns (text, commit) of `rel` in a checkout or a bare git directory."""
    if os.path.isfile(os.path.join(root, rel)):
        commit = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            return f.read(), commit or None
    commit = subprocess.run(
        ["git", "--git-dir", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    text = subprocess.run(
        ["git", "--git-dir", root, "show", f"HEAD:{rel}"], capture_output=True, text=True, check=True
    ).stdout
    return text, commit


def load_official(root, tmp):
    commit = None
    for rel in FILES:
        text, commit = read_source(root, rel)
        dest = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)
    if not hasattr(torch, "compiler"):
        torch.compiler = types.SimpleNamespace(disable=lambda *a, **k: (lambda f: f))
    import torch.optim.lr_scheduler as lr_scheduler

    if not hasattr(lr_scheduler, "LRScheduler"):
        lr_scheduler.LRScheduler = lr_scheduler._LRScheduler
    for name in ("verl", "verl.trainer", "verl.utils"):
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(tmp, *name.split("."))]
        sys.modules[name] = package
    import importlib

    return importlib.import_module("verl.trainer.core_algos"), importlib.import_module("verl.utils.torch_functional"), commit


@contextlib.contextmanager
def float_is_identity(enabled):
    """While enabled, `Tensor.float()` returns the tensor itself (see the module docstring)."""
    original = torch.Tensor.float
    if enabled:
        torch.Tensor.float = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.float = original


def enc(x):
    """A float for JSON: NaN and ±Infinity as strings."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def enc_all(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().tolist()
    if isinstance(value, (list, tuple)):
        return [enc_all(v) for v in value]
    return enc(value)


def lengths_mask(lengths, cols):
    return [[1 if j < n else 0 for j in range(cols)] for n in lengths]


def as_float(dtype, rows):
    return torch.tensor(rows, dtype=DTYPES[dtype])


# ---------------------------------------------------------------- GRPO advantages (core_algos.py:137-175)


def grpo_cases(rng):
    cases = []
    cols = 6
    lengths = [6, 3, 5, 1, 6, 4, 2, 6, 5]
    terminal = [[0.0] * cols for _ in lengths]
    for i, n in enumerate(lengths):
        terminal[i][n - 1] = float(rng.choice([0.0, 0.5, 1.0, 1.1, 2.0]))
    index = ["a", "b", "c"] * 3
    cases.append(("groups interleaved, reward at the last response token", terminal, lengths_mask(lengths, cols), index, {}))

    dense = rng.normal(0.0, 1.0, size=(8, 5)).tolist()
    cases.append(("dense rewards summed over every position, masked ones too", dense, lengths_mask([5, 2, 0, 4, 1, 5, 3, 2], 5), ["q1", "q2"] * 4, {}))

    const = [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    cases.append(("a constant group gives 0 (std 0, eps keeps it finite)", const, [[1, 1]] * 6, ["same"] * 4 + ["x", "x"], {}))
    cases.append(("a constant group with eps 0 gives NaN (0/0)", const, [[1, 1]] * 6, ["same"] * 4 + ["x", "x"], {"eps": 0.0}))
    cases.append(("a group of two", [[0.25, 0.0], [0.0, 0.75]], [[1, 1], [1, 0]], ["pair", "pair"], {}))

    masked = [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.0, 0.0]]
    cases.append(("an all-masked row keeps its score in the group", masked, [[1, 1, 1], [0, 0, 0], [1, 0, 0], [0, 0, 0]], ["g", "g", "h", "h"], {}))

    nan = [[1.0, 0.0], [NAN, 0.0], [0.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.0, 0.25]]
    nan_mask = [[1, 1], [1, 0], [1, 1], [1, 1], [1, 0], [0, 0]]
    cases.append(("NaN in a group makes the group NaN, under the mask's zeros too", nan, nan_mask, ["n", "n", "n", "ok", "ok", "ok"], {}))
    inf = [[INF, 0.0], [0.0, 0.0], [1.0, 0.0], [-INF, 0.0], [2.0, 0.0], [1.0, 0.0]]
    cases.append(("±Infinity in a group", inf, [[1, 1]] * 6, ["p", "p", "p", "q", "q", "q"], {}))

    big = rng.choice([0.0, 1.0], size=(40, 16)).astype(float) * rng.uniform(0.0, 1.0, size=(40, 16)).round(3)
    big_index = [f"uid-{(i * 7) % 5}" for i in range(40)]
    big_lengths = rng.integers(0, 17, size=40).tolist()
    cases.append(("rollout.n = 8, five prompts shuffled", big.tolist(), lengths_mask(big_lengths, 16), big_index, {"eps": 1e-6}))
    cases.append(("non-float32 inputs are rounded on the way in", [[0.1, 0.2], [0.3, 0.7], [1 / 3, 0.0]], [[1, 1]] * 3, ["t"] * 3, {"eps": 1e-5}))
    return cases


def run_grpo(ca, rng):
    out = []
    for name, rewards, mask, index, options in grpo_cases(rng):
        for dtype in DTYPES:
            r = as_float(dtype, rewards)
            m = torch.tensor(mask, dtype=torch.long)
            idx = np.array(index, dtype=object)
            adv, ret = ca.compute_grpo_outcome_advantage(r, m, idx, **options)
            assert torch.equal(adv.isnan(), ret.isnan())
            out.append({
                "name": name,
                "dtype": dtype,
                "tokenLevelRewards": enc_all(rewards),
                "responseMask": mask,
                "index": index,
                "options": {"eps": options["eps"]} if "eps" in options else {},
                "expected": enc_all(adv),
            })
    for dtype in DTYPES:
        try:
            ca.compute_grpo_outcome_advantage(
                as_float(dtype, [[1.0], [0.0], [0.5]]), torch.ones(3, 1, dtype=torch.long), np.array(["a", "lone", "a"], dtype=object)
            )
            raise SystemExit("expected verl to refuse a group of one")
        except AssertionError as e:
            out.append({
                "name": "a group of one is refused",
                "dtype": dtype,
                "tokenLevelRewards": [[1.0], [0.0], [0.5]],
                "responseMask": [[1], [1], [1]],
                "index": ["a", "lone", "a"],
                "options": {},
                "error": f"AssertionError: {e}",
            })
    return out


# ---------------------------------------------------------------- KL estimators (core_algos.py:394-428)


def kl_inputs(rng):
    lp = rng.uniform(-8.0, 0.0, size=(5, 7))
    ref = lp + rng.normal(0.0, 0.5, size=(5, 7))
    edges_lp = [[-1.0, -1.0, -3.0, -40.0, 0.0, NAN, -INF], [-2.0, -0.5, -INF, INF, -1e-8, -5.0, -20.0]]
    edges_ref = [[-1.0, -2.0, -35.0, -1.0, -100.0, -1.0, -1.0], [NAN, -0.5, -INF, 0.0, -90.0, INF, -9.0]]
    return lp.tolist() + edges_lp, ref.tolist() + edges_ref


def run_kl(ca, rng):
    out = []
    lp, ref = kl_inputs(rng)
    for dtype in DTYPES:
        for penalty in ("kl", "abs", "mse", "low_var_kl", "full"):
            with float_is_identity(dtype == "float64"):
                kld = ca.compute_kl(as_float(dtype, lp), as_float(dtype, ref), penalty)
            assert kld.dtype == DTYPES[dtype], kld.dtype
            out.append({"penalty": penalty, "dtype": dtype, "logProbs": enc_all(lp), "refLogProbs": enc_all(ref), "expected": enc_all(kld)})
    return out


# ---------------------------------------------------------------- policy loss (core_algos.py:291-353)


def nextafter(x, toward, dtype):
    if dtype == "float32":
        return float(np.nextafter(np.float32(x), np.float32(toward)))
    return float(np.nextafter(x, toward))


def policy_cases(rng):
    cases = []
    rows, cols = 6, 10
    old = rng.uniform(-4.0, -0.1, size=(rows, cols))
    lp = old + rng.uniform(-0.6, 0.6, size=(rows, cols))
    adv = np.repeat(rng.normal(0.0, 1.0, size=(rows, 1)), cols, axis=1)
    mask = lengths_mask([10, 7, 3, 10, 0, 5], cols)
    cases.append(("both clip sides, masked tails, one empty row", old.tolist(), lp.tolist(), adv.tolist(), mask, {}))
    cases.append(("DAPO clip-higher 0.28, dual 2.0", old.tolist(), lp.tolist(), adv.tolist(), mask, {"clip_ratio_low": 0.1, "clip_ratio_high": 0.28, "clip_ratio_dual": 2.0}))

    big_old = rng.uniform(-6.0, 0.0, size=(16, 64))
    big_lp = big_old + rng.normal(0.0, 0.3, size=(16, 64))
    big_adv = np.repeat(rng.normal(0.0, 1.0, size=(16, 1)), 64, axis=1)
    cases.append(("16 × 64 micro-batch", big_old.tolist(), big_lp.tolist(), big_adv.tolist(), lengths_mask(rng.integers(1, 65, size=16).tolist(), 64), {}))

    # Dual clip engaged: negative advantages with ratios far above 3.
    d_old = [[-5.0, -5.0, -5.0, -5.0], [-1.0, -1.0, -1.0, -1.0]]
    d_lp = [[-3.0, -1.0, -4.0, -5.5], [-0.2, 0.0, -3.0, -1.0]]
    d_adv = [[-1.0, -0.5, -2.0, -1.0], [1.5, -0.25, -1.0, 0.0]]
    cases.append(("dual clip caps large ratios of negative advantages", d_old, d_lp, d_adv, [[1, 1, 1, 1], [1, 1, 1, 1]], {}))

    cases.append(("an all-masked micro-batch gives 0", old[:2].tolist(), lp[:2].tolist(), adv[:2].tolist(), [[0] * cols] * 2, {}))

    n_old = [[-1.0, -1.0, -1.0, -1.0, -1.0, -1.0], [-1.0, NAN, -1.0, -INF, -1.0, -1.0]]
    n_lp = [[NAN, -1.2, -INF, -0.5, INF, -1.0], [-1.0, -1.0, -1.0, -1.0, -1.1, -0.9]]
    n_adv = [[1.0, NAN, 1.0, -1.0, -1.0, INF], [-1.0, 1.0, 1.0, 1.0, -INF, 0.5]]
    cases.append(("NaN and ±Infinity, unmasked", n_old, n_lp, n_adv, [[1] * 6, [1] * 6], {}))
    cases.append(("NaN and ±Infinity under the mask's zeros", n_old, n_lp, n_adv, [[0, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 1]], {}))
    z = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    cases.append(("zero advantages", [[-1.0, -2.0, -3.0], [-1.0, -1.0, -1.0]], [[-0.5, -2.5, -3.0], [-1.0, 0.0, -2.0]], z, [[1, 1, 1], [1, 1, 0]], {}))
    return cases


def tie_cases(dtype):
    """Log-ratios exactly at the clip bounds (as the dtype rounds log(1 ± ε)), one ulp inside and outside,
    and a token whose loss equals the dual cap exactly."""
    lo, hi = np.log(1.0 - 0.2), np.log(1.0 + 0.3)
    t = DTYPES[dtype]
    lo_t, hi_t = float(torch.tensor(lo, dtype=t)), float(torch.tensor(hi, dtype=t))
    ratios = [lo_t, nextafter(lo_t, 0, dtype), nextafter(lo_t, -1, dtype), hi_t, nextafter(hi_t, 0, dtype), nextafter(hi_t, 1, dtype)]
    old = [[0.0] * 6, [0.0] * 6]
    lp = [ratios, ratios]
    adv = [[1.0] * 6, [-1.0] * 6]
    cases = [("log-ratios at the clip bounds and one ulp either side", old, lp, adv, [[1] * 6, [1] * 6], {})]
    d = 1.0
    dual = float(torch.exp(torch.tensor(d, dtype=t)))
    cases.append((
        "a loss equal to the dual cap gets half the gradient",
        [[0.0, 0.0, 0.0]],
        [[d, d, 0.5]],
        [[-1.0, -2.0, -1.0]],
        [[1, 1, 1]],
        {"clip_ratio_dual": dual},
    ))
    return cases


def policy_loss(ca, dtype, old, lp, adv, mask, options):
    lp_t = as_float(dtype, lp).requires_grad_(True)
    full = {"clip_ratio_low": 0.2, "clip_ratio_high": 0.3, "clip_ratio_dual": 3.0, **options}
    pg_loss, higher, lower, ppo_kl = ca.compute_policy_loss(
        old_log_probs=as_float(dtype, old), log_probs=lp_t, advantages=as_float(dtype, adv), response_mask=torch.tensor(mask, dtype=torch.long), **full
    )
    pg_loss.backward()
    return {"pgLoss": enc(pg_loss), "pgClipfracHigher": enc(higher), "pgClipfracLower": enc(lower), "ppoKl": enc(ppo_kl), "grad": enc_all(lp_t.grad)}


OPTION_NAMES = {"clip_ratio_low": "clipRatioLow", "clip_ratio_high": "clipRatioHigh", "clip_ratio_dual": "clipRatioDual", "kl_penalty": "klPenalty", "kl_coef": "klCoef", "gradient_accumulation": "gradientAccumulation"}


def camel(options):
    return {OPTION_NAMES[k]: v for k, v in options.items()}


def run_policy(ca, rng):
    out = []
    shared = policy_cases(rng)
    for dtype in DTYPES:
        for name, old, lp, adv, mask, options in shared + tie_cases(dtype):
            out.append({
                "name": name,
                "dtype": dtype,
                "oldLogProbs": enc_all(old),
                "logProbs": enc_all(lp),
                "advantages": enc_all(adv),
                "responseMask": mask,
                "options": camel(options),
                "expected": policy_loss(ca, dtype, old, lp, adv, mask, options),
            })
    return out


# ---------------------------------------------------------------- actor loss (dp_actor.py:249-283)


def actor_micro_batch(ca, VF, dtype, batch, config):
    """dp_actor.py:249-283 for one micro-batch, the model's log-probs replaced by a leaf tensor."""
    response_mask = torch.tensor(batch["responseMask"], dtype=torch.long)
    old_log_probs = as_float(dtype, batch["oldLogProbs"])
    advantages = as_float(dtype, batch["advantages"])
    log_probs = as_float(dtype, batch["logProbs"]).requires_grad_(True)
    metrics = {}
    entropy_loss = -VF.masked_mean(log_probs, response_mask)
    pg_loss, pg_clipfrac_higher, pg_clipfrac_lower, ppo_kl = ca.compute_policy_loss(
        old_log_probs=old_log_probs,
        log_probs=log_probs,
        advantages=advantages,
        response_mask=response_mask,
        clip_ratio_low=config["clip_ratio_low"],
        clip_ratio_high=config["clip_ratio_high"],
        clip_ratio_dual=config["clip_ratio_dual"],
    )
    if "refLogProbs" in batch:
        with float_is_identity(dtype == "float64"):
            kld = ca.compute_kl(log_probs=log_probs, ref_log_probs=as_float(dtype, batch["refLogProbs"]), kl_penalty=config["kl_penalty"])
        kl_loss = VF.masked_mean(kld, response_mask)
        pg_loss = pg_loss + kl_loss * config["kl_coef"]
        metrics["actor/kl_loss"] = kl_loss.detach().item()
        metrics["actor/kl_coef"] = config["kl_coef"]
    loss = pg_loss / config["gradient_accumulation"]
    loss.backward()
    metrics.update({
        "actor/pg_loss": pg_loss.detach().item(),
        "actor/pg_clipfrac_higher": pg_clipfrac_higher.detach().item(),
        "actor/pg_clipfrac_lower": pg_clipfrac_lower.detach().item(),
        "actor/entropy_loss": entropy_loss.detach().item(),
        "actor/ppo_kl": ppo_kl.detach().item(),
    })
    return {"loss": enc(loss), "grad": enc_all(log_probs.grad), "metrics": {k: enc(v) for k, v in metrics.items()}}


def run_actor(ca, VF, rng):
    out = []
    rows, cols = 8, 16
    old = rng.uniform(-5.0, -0.05, size=(rows, cols))
    lp = old + rng.normal(0.0, 0.25, size=(rows, cols))
    ref = lp + rng.normal(0.0, 0.4, size=(rows, cols))
    adv = np.repeat(rng.normal(0.0, 1.0, size=(rows, 1)), cols, axis=1)
    mask = lengths_mask(rng.integers(0, cols + 1, size=rows).tolist(), cols)
    batch = {"oldLogProbs": old.tolist(), "logProbs": lp.tolist(), "refLogProbs": ref.tolist(), "advantages": adv.tolist(), "responseMask": mask}
    # Vision-SR1's configs: low_var_kl, kl_coef 1e-2; verl's actor defaults for the clips.
    vision_sr1 = {"clip_ratio_low": 0.2, "clip_ratio_high": 0.3, "clip_ratio_dual": 3.0, "kl_penalty": "low_var_kl", "kl_coef": 1.0e-2, "gradient_accumulation": 1}
    configs = [
        ("Vision-SR1 config", batch, vision_sr1),
        ("gradient accumulation 4", batch, {**vision_sr1, "gradient_accumulation": 4}),
        ("kl penalty", batch, {**vision_sr1, "kl_penalty": "kl", "kl_coef": 0.1}),
        ("abs penalty", batch, {**vision_sr1, "kl_penalty": "abs", "kl_coef": 0.05}),
        ("mse penalty", batch, {**vision_sr1, "kl_penalty": "mse", "kl_coef": 0.3, "gradient_accumulation": 3}),
        ("no reference: no KL term", {k: v for k, v in batch.items() if k != "refLogProbs"}, vision_sr1),
    ]
    far = {**batch, "refLogProbs": (lp - rng.choice([-30.0, 0.0, 30.0], size=(rows, cols))).tolist()}
    configs.append(("low_var_kl clamped at ±10 passes no gradient", far, vision_sr1))
    nan = {
        "oldLogProbs": [[-1.0, -1.0, -1.0], [-1.0, -2.0, -1.0]],
        "logProbs": [[-1.0, NAN, -0.5], [-INF, -1.0, -1.5]],
        "refLogProbs": [[-1.0, -1.0, NAN], [-1.0, INF, -1.0]],
        "advantages": [[1.0, 1.0, -1.0], [0.5, 0.5, 0.5]],
        "responseMask": [[1, 0, 1], [0, 1, 1]],
    }
    for penalty in ("low_var_kl", "kl", "abs", "mse"):
        configs.append((f"NaN and ±Infinity, {penalty}", nan, {**vision_sr1, "kl_penalty": penalty}))
    for dtype in DTYPES:
        for name, b, config in configs:
            out.append({
                "name": name,
                "dtype": dtype,
                "batch": {k: enc_all(v) for k, v in b.items()},
                "options": camel(config),
                "expected": actor_micro_batch(ca, VF, dtype, b, config),
            })
    return out


def dump(path, payload):
    """One case a line, so a diff of a regenerated fixture reads case by case."""
    lines = [json.dumps({k: v for k, v in payload.items() if k != "cases"})[:-1] + ', "cases": [']
    lines += [json.dumps(c, separators=(",", ":")) + ("," if i + 1 < len(payload["cases"]) else "") for i, c in enumerate(payload["cases"])]
    lines.append("]}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
    with tempfile.TemporaryDirectory() as tmp:
        ca, VF, commit = load_official(sys.argv[1], tmp)
        source = {"repo": "zli12321/Vision-SR1", "commit": commit, "files": FILES, "torch": torch.__version__, "numpy": np.__version__}
        rng = np.random.default_rng(20250407)
        for name, cases in (
            ("grpo", run_grpo(ca, rng)),
            ("kl", run_kl(ca, rng)),
            ("policy", run_policy(ca, rng)),
            ("actor", run_actor(ca, VF, rng)),
        ):
            path = os.path.join(fixtures, f"verl-{name}.json")
            dump(path, {"generated_by": "packages/rl/scripts/verl_golden.py", "source": source, "cases": cases})
            print(f"wrote {os.path.normpath(path)}: {len(cases)} cases")


if __name__ == "__main__":
    main()
