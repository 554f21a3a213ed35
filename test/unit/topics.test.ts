import { describe, expect, it } from "vitest";
import { classify, TOPICS, type TopicId } from "../../src/papers/topics";
import { LABELLED_PAPERS } from "../fixtures/labelled-papers";

/**
 * The classifier measured on the labelled set: invented papers labelled by hand against docs/topics.md, written
 * without looking at the classifier (and the classifier without looking at them). The goal (issue 10): macro
 * precision ≥ 0.8 and macro recall ≥ 0.7. The figures are printed and reported in docs/topics.md.
 */
describe("topic classifier on the labelled set", () => {
  const counts = new Map<TopicId, { tp: number; fp: number; fn: number }>(
    TOPICS.map((t) => [t.id, { tp: 0, fp: 0, fn: 0 }]),
  );
  for (const p of LABELLED_PAPERS) {
    const got = new Set(classify(p));
    const want = new Set(p.topics as TopicId[]);
    for (const t of TOPICS) {
      const c = counts.get(t.id)!;
      if (got.has(t.id) && want.has(t.id)) c.tp++;
      else if (got.has(t.id)) c.fp++;
      else if (want.has(t.id)) c.fn++;
    }
  }
  const rows = TOPICS.map((t) => {
    const { tp, fp, fn } = counts.get(t.id)!;
    return { topic: t.id, precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 1, tp, fp, fn };
  });
  const macro = (k: "precision" | "recall") => rows.reduce((s, r) => s + r[k], 0) / rows.length;

  it("has a labelled set worth measuring on (≥ 150 papers, every topic at least 10 times)", () => {
    expect(LABELLED_PAPERS.length).toBeGreaterThanOrEqual(150);
    for (const t of TOPICS) expect(LABELLED_PAPERS.filter((p) => p.topics.includes(t.id)).length).toBeGreaterThan(9);
  });

  it("reaches macro precision ≥ 0.8 and macro recall ≥ 0.7", () => {
    const f = (x: number) => x.toFixed(2);
    console.log(
      [
        `topic classifier on ${LABELLED_PAPERS.length} labelled papers:`,
        ...rows.map(
          (r) =>
            `  ${r.topic.padEnd(16)} precision ${f(r.precision)}  recall ${f(r.recall)}  (tp ${r.tp}, fp ${r.fp}, fn ${r.fn})`,
        ),
        `  macro            precision ${f(macro("precision"))}  recall ${f(macro("recall"))}`,
      ].join("\n"),
    );
    expect(macro("precision")).toBeGreaterThanOrEqual(0.8);
    expect(macro("recall")).toBeGreaterThanOrEqual(0.7);
  });
});
