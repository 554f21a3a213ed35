import { describe, expect, it } from "vitest";
import { parseTopicChoice, TOPICS } from "../../src/papers/topics";

const ok = (raw: unknown) => {
  const c = parseTopicChoice(raw);
  if (!c.ok) throw new Error(`refused ${JSON.stringify(raw)}: ${c.message}`);
  return c.topics;
};
const refused = (raw: unknown) => {
  const c = parseTopicChoice(raw);
  if (c.ok) throw new Error(`accepted ${JSON.stringify(raw)} as ${JSON.stringify(c.topics)}`);
  return c.message;
};

describe("parseTopicChoice", () => {
  it("reads nothing as no topics", () => {
    for (const raw of [undefined, null, [], "", [""], " , ", [" ", ","]]) expect(ok(raw)).toEqual([]);
  });

  it("keeps known ids once each, in the list's order, from lists, repeated entries and commas", () => {
    expect(ok(["code", "vision", "code"])).toEqual(["vision", "code"]);
    expect(ok("3d, agents")).toEqual(["agents", "3d"]);
    expect(ok(["data,science", " robotics "])).toEqual(["robotics", "science", "data"]);
    expect(ok(TOPICS.map((t) => t.id).reverse())).toEqual(TOPICS.map((t) => t.id));
  });

  it("refuses the whole choice when one entry is unknown, without quoting it", () => {
    expect(refused(["vision", "nope"])).toBe("One entry is not a topic id.");
    expect(refused("Vision,<svg onload=alert(1)>")).toBe("2 entries are not topic ids.");
    for (const raw of [["constructor"], ["toString"], ["__proto__"], ["vision\u0000"], ["\ud800"], ["x".repeat(41)]])
      refused(raw);
  });

  it("refuses entries that are not strings, and more entries than topics", () => {
    for (const raw of [5, true, {}, [1], [null], [["vision"]], [{ id: "vision" }]])
      expect(refused(raw)).toBe("Topics are a list of topic ids (strings).");
    const many = "Choose at most 16 topics.";
    expect(refused(Array.from({ length: 17 }, () => "vision"))).toBe(many);
    expect(refused(Array.from({ length: 17 }, () => "vision").join(","))).toBe(many);
    expect(refused(Array.from({ length: 100_000 }, () => 1))).toBe(many);
    expect(refused("a,".repeat(1_000_000))).toBe(many);
  });
});
