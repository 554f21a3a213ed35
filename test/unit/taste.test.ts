import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  emptyTaste,
  hasPreferences,
  KEYWORD_STEP,
  keywordKey,
  MAX_KEYWORD_WEIGHTS,
  MAX_TOPIC_WEIGHTS,
  MAX_WEIGHT,
  parseTaste,
  pickForYou,
  type Rating,
  rate,
  rerate,
  score,
  serializeTaste,
  type Taste,
  type TastePaper,
  TOPIC_STEP,
} from "../../src/digest/taste";

const paper = (id: string, topics: string[], keywords: string[], upvotes = 1): TastePaper => ({
  id,
  topics,
  keywords,
  upvotes,
});
const diffusion = (n: number, upvotes = 1) =>
  paper(`diff-${n}`, ["generation"], ["diffusion models", "text-to-image", `denoiser ${n}`], upvotes);
const robotics = (n: number, upvotes = 1) =>
  paper(`robot-${n}`, ["robotics"], ["sim-to-real", "manipulation", `gripper ${n}`], upvotes);
const fold = (ratings: [TastePaper, Rating][], from = emptyTaste()) =>
  ratings.reduce((taste, [p, direction]) => rate(taste, p, direction), from);
// Plain objects for comparison: tastes are null-prototype records.
const plain = (taste: Taste) => JSON.parse(JSON.stringify(taste));
const bytes = (s: string) => new TextEncoder().encode(s).length;

describe("the issue's proof", () => {
  it("three diffusion papers down and two robotics papers up: robotics ranks above diffusion next time", () => {
    const taste = fold([
      [diffusion(1), -1],
      [diffusion(2), -1],
      [diffusion(3), -1],
      [robotics(1), 1],
      [robotics(2), 1],
    ]);
    // Next week: a very popular diffusion paper and a modest robotics one. The reader had chosen both topics.
    const nextDiffusion = diffusion(9, 400);
    const nextRobotics = robotics(9, 3);
    const reader = { topics: ["generation", "robotics"], taste };
    const d = score(taste, reader.topics, nextDiffusion);
    const r = score(taste, reader.topics, nextRobotics);
    expect(r.score).toBeGreaterThan(d.score);
    expect(r.why).toEqual(["topic:robotics", "keyword:sim-to-real", "keyword:manipulation"]);
    expect(d.why).toEqual([]);
    // Ratings outweigh the chosen topic: the diffusion paper is no longer "for you" at all.
    const picked = pickForYou([nextDiffusion, nextRobotics], reader, { exclude: new Set(), size: 5 });
    expect(picked.map((p) => p.paper.id)).toEqual(["robot-9"]);
  });
});

describe("rating", () => {
  it("moves topics by 1 and keywords by 0.5 in the rating's direction, each once per paper", () => {
    const taste = rate(emptyTaste(), paper("p", ["robotics", "robotics"], ["Sim-to-Real", "sim-to-real "]), 1);
    expect(plain(taste)).toEqual({
      v: 1,
      t: { robotics: TOPIC_STEP },
      k: { [keywordKey("sim-to-real")]: KEYWORD_STEP },
    });
    expect(keywordKey("  Sim-to-Real")).toBe(keywordKey("sim-to-real"));
  });

  it("rating twice the same way counts once, also at the clamp", () => {
    const p = robotics(1);
    const once = rerate(emptyTaste(), p, null, 1);
    expect(rerate(once, p, 1, 1)).toEqual(once);
    const saturated = fold(Array.from({ length: 6 }, (_, i) => [robotics(i), 1] as [TastePaper, Rating]));
    expect(rerate(saturated, p, 1, 1)).toEqual(saturated);
  });

  it("rerate flips cleanly: up then down equals down alone, and flipping back restores the taste", () => {
    const base = fold([
      [diffusion(1), -1],
      [robotics(2), 1],
    ]);
    const p = robotics(1);
    const up = rerate(base, p, null, 1);
    const down = rerate(up, p, 1, -1);
    expect(plain(down)).toEqual(plain(rate(base, p, -1)));
    expect(plain(rerate(down, p, -1, 1))).toEqual(plain(up));
    // The undo half on its own leaves no zero weights behind: the reader has no preferences again.
    const cleared = rate(rerate(emptyTaste(), p, null, -1), p, 1);
    expect(plain(cleared)).toEqual(plain(emptyTaste()));
    expect(hasPreferences({ topics: [], taste: cleared })).toBe(false);
  });

  it("last rating counts: any sequence of rerates equals rating each paper once with its last rating", () => {
    // Four papers sharing topics and keywords: sums stay within ±4 and 48 keys, so the equality is exact.
    const pool = [paper("a", ["x", "y"], ["k1", "k2"]), paper("b", ["y"], ["k2", "k3"]), paper("c", ["x"], ["k1"])];
    pool.push(paper("d", ["x", "z"], ["k3", "k4"]));
    const event = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.constantFrom<Rating>(1, -1));
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        const last = new Map<number, Rating>();
        let taste = emptyTaste();
        for (const [i, direction] of events) {
          taste = rerate(taste, pool[i]!, last.get(i) ?? null, direction);
          last.set(i, direction);
        }
        const expected = fold([...last].map(([i, d]) => [pool[i]!, d]));
        expect(plain(taste)).toEqual(plain(expected));
      }),
    );
  });

  it("documents the clamp caveat: five ups store 4, flipping one leaves 2 (an exact sum would say 3)", () => {
    const ups = Array.from({ length: 5 }, (_, i) => robotics(i));
    const taste = fold(ups.map((p) => [p, 1] as [TastePaper, Rating]));
    expect(taste.t.robotics).toBe(MAX_WEIGHT);
    expect(rerate(taste, ups[0]!, 1, -1).t.robotics).toBe(2);
  });
});

describe("bounds", () => {
  it("clamps weights to ±4", () => {
    const many = (d: Rating) => fold(Array.from({ length: 10 }, () => [robotics(1), d] as [TastePaper, Rating]));
    expect(many(1).t.robotics).toBe(MAX_WEIGHT);
    expect(many(1).k[keywordKey("sim-to-real")]).toBe(MAX_WEIGHT);
    expect(many(-1).t.robotics).toBe(-MAX_WEIGHT);
  });

  it("keeps at most 48 keywords: the largest |weight|, ties by key order", () => {
    const strong = Array.from({ length: 10 }, (_, i) => `strong ${i}`);
    const weak = Array.from({ length: 60 }, (_, i) => `weak ${i}`);
    let taste = fold([
      [paper("s", [], strong), 1],
      [paper("s2", [], strong), 1],
    ]);
    taste = rate(taste, paper("w", [], weak), -1);
    const keys = Object.keys(taste.k);
    expect(keys).toHaveLength(MAX_KEYWORD_WEIGHTS);
    for (const s of strong) expect(taste.k[keywordKey(s)]).toBe(1);
    const keptWeak = weak
      .map(keywordKey)
      .sort()
      .slice(0, MAX_KEYWORD_WEIGHTS - strong.length);
    expect(keys.filter((k) => taste.k[k] === -0.5).sort()).toEqual(keptWeak);
  });

  it("keeps at most 20 topic weights, and learns none for ids that are not short slugs", () => {
    const topics = Array.from({ length: 30 }, (_, i) => `topic-${i}`);
    const taste = rate(emptyTaste(), paper("p", [...topics, "x".repeat(25), "__proto__", "ünïcode"], []), 1);
    expect(Object.keys(taste.t)).toHaveLength(MAX_TOPIC_WEIGHTS);
    expect(Object.keys(taste.t).every((t) => t.startsWith("topic-"))).toBe(true);
  });

  it("serialized JSON stays under 1.5 KB in the worst case", () => {
    // Worst case by construction: every slot full, longest topic ids, five-character weights.
    const worst = parseTaste({
      v: 1,
      t: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`${i}`.padEnd(24, "t"), -3.99])),
      k: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [keywordKey(`k${i}`), -3.99])),
    });
    // And by rating: 60-character keywords, multibyte ones included, with the weights rounding can produce.
    let rated = emptyTaste();
    for (let i = 0; i < 40; i++) {
      const keywords = [
        `${i} ${"long keyword ".repeat(5)}`.slice(0, 60),
        `${i}${"多字节关键词".repeat(10)}`.slice(0, 60),
      ];
      rated = rate(rated, paper(`p${i}`, [`${i}`.padEnd(24, "t")], keywords), i % 3 === 0 ? -1 : 1);
    }
    for (const taste of [worst, rated]) {
      const json = serializeTaste(taste);
      console.log(`taste JSON: ${bytes(json)} bytes`);
      expect(bytes(json)).toBeLessThan(1500);
    }
    expect(Object.keys(worst.k)).toHaveLength(MAX_KEYWORD_WEIGHTS);
  });
});

describe("parseTaste", () => {
  it("round-trips and drops unknown fields", () => {
    const taste = fold([
      [diffusion(1), -1],
      [robotics(1), 1],
    ]);
    expect(plain(parseTaste(serializeTaste(taste)))).toEqual(plain(taste));
    const json = JSON.parse(serializeTaste(taste));
    expect(serializeTaste(parseTaste({ ...json, extra: "x", t: { ...json.t, robotics: 1 } }))).not.toContain("extra");
  });

  it("turns anything malformed into the empty taste", () => {
    const hostile: unknown[] = [
      undefined,
      null,
      42,
      true,
      "",
      "not json",
      "[1,2]",
      '"a string"',
      [],
      [{ v: 1 }],
      { v: 2, t: { robotics: 1 } },
      { v: "1", t: { robotics: 1 } },
      '{"v":1,"t":"robotics","k":[1,2,3]}',
      { v: 1, t: [["robotics", 1]], k: null },
      `{"v":1,"t":{"robotics":1},"pad":"${"x".repeat(20_000)}"}`,
      new Proxy(
        {},
        {
          get: () => {
            throw new Error("hostile getter");
          },
        },
      ),
    ];
    for (const input of hostile) expect(plain(parseTaste(input))).toEqual({ v: 1, t: {}, k: {} });
  });

  it("drops non-numbers, NaN and infinities, clamps out-of-range weights, rounds to 0.01", () => {
    const key = keywordKey("sim-to-real");
    const taste = parseTaste({
      v: 1,
      t: { robotics: 99, vision: -1e9, code: Number.NaN, audio: "3", rl: Number.POSITIVE_INFINITY, safety: 0.123456 },
      k: { [key]: -7, "not-a-key": 1, [`${key}0`]: 1, ABCDEF12: 1 },
    });
    expect(plain(taste)).toEqual({ v: 1, t: { robotics: 4, vision: -4, safety: 0.12 }, k: { [key]: -4 } });
  });

  it("does not pollute prototypes, and odd topic names read as weight 0", () => {
    const json =
      '{"__proto__":{"polluted":1},"v":1,"constructor":{"prototype":{"polluted":1}},' +
      '"t":{"__proto__":{"polluted":1},"constructor":2,"toString":-1,"robotics":1},"k":{"__proto__":{"polluted":1}}}';
    const taste = parseTaste(json);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(plain(taste)).toEqual({ v: 1, t: { constructor: 2, toString: -1, robotics: 1 }, k: {} });
    const odd = paper("odd", ["__proto__", "hasOwnProperty", "valueOf"], ["__proto__", "constructor"]);
    const s = score(emptyTaste(), [], odd);
    expect(s.relevance).toBe(0);
    expect(Number.isFinite(s.score)).toBe(true);
    expect(score(taste, [], paper("c", ["constructor"], [])).why).toEqual(["topic:constructor"]);
  });

  it("bounds a huge object quickly", () => {
    const huge = {
      v: 1,
      t: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`t${i}`, (i % 9) - 4])),
      k: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [keywordKey(`k${i}`), (i % 9) - 4])),
    };
    const taste = parseTaste(huge);
    expect(Object.keys(taste.t)).toHaveLength(MAX_TOPIC_WEIGHTS);
    expect(Object.keys(taste.k)).toHaveLength(MAX_KEYWORD_WEIGHTS);
    expect(Object.values(taste.k).every((w) => Math.abs(w) === 4)).toBe(true);
  });
});

describe("score", () => {
  it("chosen topics +2 each, taste weights, and a popularity prior that only breaks ties", () => {
    const p = paper("p", ["robotics", "vision"], ["sim-to-real"], 100);
    const s = score(emptyTaste(), ["robotics"], p);
    expect(s.relevance).toBe(2);
    expect(s.score).toBeCloseTo(2 + 0.1 * Math.log1p(100));
    expect(s.why).toEqual(["topic:robotics"]);
    expect(score(emptyTaste(), [], paper("n", [], [], Number.NaN)).score).toBe(0);
  });

  it("why: up to three positive contributors, strongest first, keywords as the paper spells them", () => {
    const taste = fold([
      [paper("a", ["vision"], ["Sim-to-Real", "grasping"]), 1],
      [paper("b", ["vision"], ["Sim-to-Real", "tactile"]), 1],
      [paper("c", ["robotics"], ["diffusion policy"]), -1],
    ]);
    const p = paper("p", ["robotics", "vision", "3d"], ["diffusion policy", "grasping", " SIM-to-real", "tactile"]);
    expect(score(taste, ["3d"], p).why).toEqual(["topic:vision", "topic:3d", "keyword:SIM-to-real"]);
  });
});

describe("pickForYou", () => {
  const week = [
    robotics(1, 10),
    robotics(2, 50),
    robotics(3, 50),
    diffusion(1, 500),
    paper("popular-unrelated", ["vision"], ["segmentation"], 900),
    paper("cancels-out", ["robotics"], ["diffusion models", "text-to-image"], 5),
  ];
  const taste = fold([
    [diffusion(7), -1],
    [robotics(7), 1],
  ]);
  const reader = { topics: [], taste };

  it("picks the best matches, ties by upvotes then id, and returns their reasons", () => {
    const picked = pickForYou(week, reader, { exclude: new Set(), size: 10 });
    expect(picked.map((p) => p.paper.id)).toEqual(["robot-2", "robot-3", "robot-1"]);
    expect(picked[0]!.why).toEqual(["topic:robotics", "keyword:sim-to-real", "keyword:manipulation"]);
  });

  it("leaves out papers below the minimum relevance, however popular", () => {
    const ids = pickForYou(week, reader, { exclude: new Set(), size: 10 }).map((p) => p.paper.id);
    expect(ids).not.toContain("popular-unrelated");
    expect(ids).not.toContain("diff-1");
    expect(ids).not.toContain("cancels-out"); // robotics +1, two disliked keywords −1: nothing left
    expect(pickForYou(week, { topics: [], taste: emptyTaste() }, { exclude: new Set(), size: 10 })).toEqual([]);
  });

  it("excludes the top section and respects the size", () => {
    const picked = pickForYou(week, reader, { exclude: new Set(["robot-2"]), size: 1 });
    expect(picked.map((p) => p.paper.id)).toEqual(["robot-3"]);
    expect(pickForYou(week, reader, { exclude: new Set(), size: 0 })).toEqual([]);
  });

  it("is deterministic: the input order and duplicates do not change the pick", () => {
    const reversed = [...week, robotics(2, 50)].reverse();
    const a = pickForYou(week, reader, { exclude: new Set(), size: 10 });
    expect(pickForYou(reversed, reader, { exclude: new Set(), size: 10 })).toEqual(a);
  });

  it("hasPreferences: false only without topics and with an empty taste", () => {
    expect(hasPreferences({ topics: [], taste: emptyTaste() })).toBe(false);
    expect(hasPreferences({ topics: ["robotics"], taste: emptyTaste() })).toBe(true);
    expect(hasPreferences({ topics: [], taste: rate(emptyTaste(), diffusion(1), -1) })).toBe(true);
  });

  it("performance: 100 readers × 300 papers (logged, not asserted)", () => {
    const words = ["diffusion", "agents", "sim-to-real", "benchmarks", "retrieval", "code", "3d", "speech", "rlhf"];
    const topics = ["generation", "robotics", "agents", "vision", "code", "audio", "efficiency", "safety"];
    const pick = <T>(xs: T[], i: number) => xs[i % xs.length]!;
    const papers = Array.from({ length: 300 }, (_, i) =>
      paper(
        `p${i}`,
        [pick(topics, i), pick(topics, i * 7 + 3)],
        Array.from({ length: 8 }, (_, j) => `${pick(words, i + j)} ${(i * 31 + j) % 40}`),
        (i * 37) % 200,
      ),
    );
    const readers = Array.from({ length: 100 }, (_, r) => ({
      topics: [pick(topics, r)],
      taste: fold(
        Array.from({ length: 20 }, (_, j): [TastePaper, Rating] => [pick(papers, r * 13 + j * 7), j % 3 ? 1 : -1]),
      ),
    }));
    const started = performance.now();
    let picked = 0;
    for (const reader of readers) picked += pickForYou(papers, reader, { exclude: new Set(), size: 5 }).length;
    const ms = performance.now() - started;
    console.log(`pickForYou: 100 readers × 300 papers in ${ms.toFixed(1)} ms (${picked} papers picked)`);
    expect(picked).toBeGreaterThan(0);
  });
});
