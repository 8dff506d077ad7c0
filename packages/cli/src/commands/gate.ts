// `--gate` and `--tau` as predict, eval hsr-ee and serve read them: a gate folder (g_φ, from
// `sr2se train hsr-ee`) or the name of a training-free gate, and a threshold or "auto" (the τ that
// `train hsr-ee` calibrated on held-out data and stored with the gate).
import { alwaysDeep, type Gate, GateHead, probabilityGate } from "@sr2se/hsr-ee/tensor";
import { InvalidArgumentError } from "commander";

/** Parses `--tau`: a number in [0, 1] or "auto". */
export function tauOption(value: string): number | "auto" {
  if (value === "auto") return "auto";
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`expected a threshold in [0, 1] or "auto", got "${value}"`);
  return n;
}

/** Returns the gate `--gate` names (a gate folder, "probability" or "always-deep") and the threshold to use with it. */
export async function resolveGate(
  spec: string,
  tau: number | "auto" | undefined,
): Promise<{ gate: Gate; tau: number; tauSource: string }> {
  if (spec === "probability" || spec === "always-deep") {
    if (tau === "auto")
      throw new Error(`--tau auto needs a gate folder (its calibrated τ); give --tau with --gate ${spec}`);
    return {
      gate: spec === "probability" ? probabilityGate : alwaysDeep,
      tau: tau ?? 0.8,
      tauSource: "flag",
    };
  }
  const head = await GateHead.load(spec);
  if (tau === "auto") {
    if (head.config.tau_auto === undefined)
      throw new Error(
        `${spec}/config.json: no tau_auto (train the gate with \`sr2se train hsr-ee\`, which calibrates it)`,
      );
    return { gate: head, tau: head.config.tau_auto, tauSource: "auto" };
  }
  return { gate: head, tau: tau ?? head.config.tau, tauSource: tau === undefined ? "gate" : "flag" };
}
