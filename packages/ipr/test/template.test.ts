import { describe, expect, it } from "vitest";
import { PromptTemplate, RefinementEngine, renderChoices, ScriptedPolicy } from "../src/index.js";
import { respond, sample } from "./helpers.js";

describe("templates never leak the gold answer", () => {
  it("a template naming {answer} (or anything not allowed) is refused when the engine is built", () => {
    const policy = new ScriptedPolicy(() => "");
    expect(
      () => new RefinementEngine({ policy, templates: { refinement: "Hint: it is {answer}." } }),
    ).toThrow("refinement template: placeholder {answer} is not allowed (allowed: {question}, {choices})");
    expect(() => new RefinementEngine({ policy, templates: { prompt: "{question} {gold}" } })).toThrow(
      "{gold} is not allowed",
    );
    expect(() => new RefinementEngine({ policy, templates: { selfReward: "{question}" } })).toThrow(
      "must contain {description}",
    );
  });

  it("no message the policy receives holds the gold answer, over every round and the self-reward check", async () => {
    const policy = new ScriptedPolicy(
      ({ round, textOnly }) =>
        textOnly ? "\\boxed{no}" : respond("a red circle", round < 3 ? "wrong-guess" : "zebra-42"),
      { record: true },
    );
    const engine = new RefinementEngine({
      policy,
      rounds: 3,
      samplesPerRound: 2,
      templates: { refinement: "Look again at: {question}\n{choices}" },
    });
    const choices = ["lion-7", "zebra-42", "okapi-3"];
    for (const [i, s] of [
      sample("s-1", "zebra-42", { answer_type: "text" }),
      sample("s-2", "B", { answer_type: "choice", choices, question: "[s-2] Which animal?" }),
    ].entries()) {
      await engine.refine(s);
      const userText = policy.log
        .flatMap((l) => l.request.messages)
        .filter((m) => m.role !== "assistant")
        .map((m) => m.content)
        .join("\n");
      if (i === 0) expect(userText).not.toContain("zebra-42");
      // for a choice question the options are part of the question itself; the letter is never singled out
      else expect(userText).not.toMatch(/answer is B|\bB\b(?!\. zebra)/);
    }
    expect(policy.log.filter((l) => l.request.image === undefined).length).toBeGreaterThan(0);
  });

  it("renders the question and the lettered options", () => {
    const t = new PromptTemplate("prompt", "Q: {question}\n{choices}\nEnd", ["question", "choices"]);
    expect(t.render({ question: "Which?", choices: renderChoices(["x", "y"]) })).toBe(
      "Q: Which?\nA. x\nB. y\nEnd",
    );
    expect(t.render({ question: "Which?", choices: renderChoices(null) })).toBe("Q: Which?\n\nEnd");
  });
});
