import { describe, expect, it } from "vitest";
import { classify, isTopicId, scoreTopics, TOPICS, type TopicId } from "../../src/papers/topics";

/**
 * The development set: short invented papers, labelled from the topic scopes in docs/topics.md while the rules
 * were written. The labelled evaluation set (test/unit/topics.test.ts) is kept apart and was never used to tune.
 */
type Case = [title: string, keywords: string[], topics: TopicId[], summary?: string];

// biome-ignore format: one case per line, read as a table
const DEV: Case[] = [
  ["Scaling Instruction Tuning Across 90 Languages", ["instruction tuning", "multilingual", "large language models"], ["language-models"]],
  ["Tokenizer Choice Shapes Arithmetic in Language Models", ["tokenization", "arithmetic", "byte-pair encoding"], ["language-models"]],
  ["Hybrid State-Space Models for Million-Token Contexts", ["state space models", "long context", "mamba", "hybrid architecture"], ["language-models"]],
  ["Thinking Less, Answering Better: Adaptive Chain-of-Thought Length", ["chain-of-thought", "test-time compute", "overthinking", "reasoning models"], ["language-models"]],
  ["Open-Vocabulary Instance Segmentation with Box Supervision", ["instance segmentation", "open-vocabulary", "weak supervision"], ["vision"]],
  ["Monocular Depth Estimation in the Wild from Video", ["monocular depth estimation", "self-supervised learning", "video"], ["vision"]],
  ["Multi-Object Tracking Without Detectors", ["multi-object tracking", "transformers", "association"], ["vision"]],
  ["A Vision-Language Model That Reads Charts", ["vision-language model", "chart understanding", "OCR", "visual question answering"], ["multimodal", "vision"]],
  ["Interleaved Image-Text Pretraining for Any-to-Any Models", ["any-to-any", "interleaved data", "multimodal pretraining"], ["multimodal"]],
  ["Dense Video Captioning with Temporal Grounding", ["video captioning", "temporal grounding", "video understanding"], ["multimodal", "vision"]],
  ["Few-Step Text-to-Image Generation via Rectified Flow Distillation", ["text-to-image", "rectified flow", "distillation", "few-step sampling"], ["generation"]],
  ["Instruction-Guided Video Editing with Diffusion Transformers", ["video editing", "diffusion transformers", "temporal consistency"], ["generation"]],
  ["A Discrete Visual Tokenizer for Autoregressive Image Generation", ["visual tokenizer", "vector quantization", "autoregressive image generation"], ["generation"]],
  ["Streaming Speech Recognition for Low-Resource Languages", ["automatic speech recognition", "streaming", "low-resource languages"], ["audio-speech"]],
  ["Expressive Text-to-Speech with Prosody Control", ["text-to-speech", "prosody", "voice cloning"], ["audio-speech"]],
  ["Full-Duplex Spoken Dialogue Models", ["spoken dialogue", "full-duplex", "speech language model"], ["audio-speech"]],
  ["Web Agents That Recover From Their Own Mistakes", ["web agents", "error recovery", "self-reflection", "browser automation"], ["agents"]],
  ["Reinforcement Learning with Verifiable Rewards for Math Reasoning", ["reinforcement learning", "verifiable rewards", "GRPO", "mathematical reasoning"], ["agents", "language-models"]],
  ["Tool Use at Scale: Learning When to Call an API", ["tool use", "function calling", "LLM agents"], ["agents"]],
  ["Vision-Language-Action Models with Action Chunking", ["vision-language-action", "robot manipulation", "action chunking"], ["robotics"]],
  ["Sim-to-Real Transfer for Quadruped Locomotion on Stairs", ["sim-to-real", "quadruped", "locomotion", "reinforcement learning"], ["robotics", "agents"]],
  ["Closed-Loop Planning for Autonomous Driving", ["autonomous driving", "motion planning", "closed-loop evaluation"], ["robotics"]],
  ["4-Bit Weight Quantization Without Calibration Data", ["quantization", "post-training quantization", "4-bit", "LLM inference"], ["efficiency"]],
  ["Speculative Decoding with Tree Drafts for Faster Serving", ["speculative decoding", "inference acceleration", "draft model"], ["efficiency"]],
  ["Why Adam Beats SGD on Transformers: A Heavy-Tail Account", ["optimizers", "Adam", "SGD", "heavy-tailed noise"], ["theory"]],
  ["Scaling Laws for Sparse Training", ["scaling laws", "sparsity", "compute-optimal training"], ["theory", "efficiency"]],
  ["Jailbreaking Aligned Models with Many-Shot Role Play", ["jailbreak", "red teaming", "safety alignment"], ["safety"]],
  ["Direct Preference Optimization with Noisy Labels", ["direct preference optimization", "RLHF", "label noise"], ["safety"]],
  ["Reducing Hallucinations in Long-Form Answers", ["hallucination", "factuality", "large language models"], ["safety"]],
  ["A Benchmark for Multi-Step Scientific Reasoning", ["benchmark", "scientific reasoning", "evaluation"], ["evaluation", "science"]],
  ["Are LLM Judges Biased Toward Their Own Outputs?", ["LLM-as-a-judge", "self-preference bias", "evaluation"], ["evaluation"]],
  ["Retrieval-Augmented Generation with Adaptive Chunking", ["retrieval-augmented generation", "chunking", "dense retrieval"], ["retrieval"]],
  ["Generative Recommendation with Semantic IDs", ["recommender systems", "semantic IDs", "generative retrieval"], ["retrieval"]],
  ["Resolving GitHub Issues with Repository-Level Agents", ["SWE-bench", "software engineering agents", "code repair"], ["code", "agents"]],
  ["Autoformalizing Competition Math in Lean 4", ["autoformalization", "Lean 4", "theorem proving"], ["code"]],
  ["Protein Structure Prediction with Sequence-Only Language Models", ["protein language models", "structure prediction"], ["science"]],
  ["Foundation Models for Chest X-Ray Report Generation", ["medical imaging", "radiology report generation", "chest X-ray"], ["science", "multimodal"]],
  ["Feed-Forward Gaussian Splatting from Sparse Views", ["3D Gaussian splatting", "sparse views", "novel view synthesis"], ["3d"]],
  ["Curating Pretraining Data with Small Proxy Models", ["data curation", "data filtering", "pretraining data"], ["data"]],
  ["Synthetic Instruction Data from Seed Documents", ["synthetic data generation", "instruction data"], ["data"]],
];

describe("the development set", () => {
  it.each(DEV)("%s", (title, keywords, topics, summary = "") => {
    expect(new Set(classify({ title, summary, keywords }))).toEqual(new Set(topics));
  });
});

describe("classify: edge cases", () => {
  it("the topic table has the 16 fixed ids in order, and isTopicId knows them", () => {
    expect(TOPICS.map((t) => t.id)).toEqual([
      "language-models",
      "vision",
      "multimodal",
      "generation",
      "audio-speech",
      "agents",
      "robotics",
      "efficiency",
      "theory",
      "safety",
      "evaluation",
      "retrieval",
      "code",
      "science",
      "3d",
      "data",
    ]);
    expect(isTopicId("3d")).toBe(true);
    expect(isTopicId("3D")).toBe(false);
    expect(isTopicId("toString")).toBe(false);
    expect(isTopicId(3)).toBe(false);
  });

  it("works from the title and abstract when there are no keywords", () => {
    expect(classify({ title: "Gaussian Splatting for Dynamic Scenes", summary: "", keywords: [] })).toEqual(["3d"]);
    expect(
      classify({
        title: "Fewer Steps, Same Quality",
        summary: "We distill a text-to-image diffusion model into a four-step sampler with a consistency loss.",
        keywords: [],
      }),
    ).toEqual(["generation"]);
  });

  it("gives no topic when nothing fits, or when there is no text at all", () => {
    expect(classify({ title: "", summary: "", keywords: [] })).toEqual([]);
    expect(
      classify({
        title: "On the Aesthetics of Tables",
        summary: "We ask whether tables look nicer with borders.",
        keywords: ["typography", "layout", "borders"],
      }),
    ).toEqual([]);
  });

  it("reads through markup, entities and odd spacing in titles", () => {
    const plain = classify({ title: "Speculative Decoding for KV-Cache Compression", summary: "", keywords: [] });
    expect(plain).toContain("efficiency");
    expect(
      classify({
        title: "<b>Speculative</b>  Decoding for <i>KV‑Cache</i>\u0000Compression",
        summary: "",
        keywords: [],
      }),
    ).toEqual(plain);
    expect(classify({ title: "<script>alert(1)</script> Text-to-Speech", summary: "", keywords: [] })).toEqual([
      "audio-speech",
    ]);
  });

  it("matches whole words only", () => {
    // "ragged", "swept", "vitamin", "moment" contain rag, swe, vit, moe: none of them counts.
    expect(classify({ title: "Ragged Arrays Swept Aside", summary: "Vitamin moments.", keywords: [] })).toEqual([]);
  });

  it("a very long abstract is read only in part and does not pile up topics", () => {
    const filler = "We describe the setting in detail and discuss related work at length. ".repeat(200);
    const summary = `We introduce a new retrieval-augmented generation system with a dense retriever. ${filler}Speech, robots, proteins, Gaussian splatting, quantization.`;
    const started = performance.now();
    const topics = classify({ title: "A System", summary: summary.repeat(20), keywords: [] });
    expect(performance.now() - started).toBeLessThan(1000); // a generous bound: only catastrophic slowness fails
    expect(topics).toEqual(["retrieval"]);
  });

  it("gives at most three topics, best first, ties in TOPICS order", () => {
    const p = {
      title: "Speech, Robots and Proteins",
      summary: "",
      keywords: ["speech recognition", "robot manipulation", "protein design", "gaussian splatting", "quantization"],
    };
    const topics = classify(p);
    expect(topics).toHaveLength(3);
    const scores = new Map(scoreTopics(p).map((s) => [s.id, s.score]));
    const order = TOPICS.map((t) => t.id);
    for (let i = 1; i < topics.length; i++) {
      const [a, b] = [scores.get(topics[i - 1]!)!, scores.get(topics[i]!)!];
      expect(a > b || (a === b && order.indexOf(topics[i - 1]!) < order.indexOf(topics[i]!))).toBe(true);
    }
  });

  it("is deterministic and does not depend on keyword order or case", () => {
    const p = { title: "Agents That Write Code", summary: "An agent fixes bugs.", keywords: ["SWE-bench", "Tool Use"] };
    const first = classify(p);
    for (let i = 0; i < 5; i++) expect(classify(p)).toEqual(first);
    expect(classify({ ...p, keywords: ["tool use", "swe-bench"] })).toEqual(first);
  });

  it("a keyword phrase does not run into the next keyword", () => {
    // "text" + "to image" would read "text to image" if the keywords were simply concatenated.
    expect(classify({ title: "Notes", summary: "", keywords: ["text", "to image"] })).toEqual([]);
  });

  it("classifies 1,000 papers quickly (figure in the log)", () => {
    const papers = Array.from({ length: 1000 }, (_, i) => {
      const [title, keywords] = DEV[i % DEV.length]!;
      return {
        title: `${title} ${i}`,
        keywords,
        summary: "We propose a method and evaluate it on standard benchmarks. ".repeat(8),
      };
    });
    const started = performance.now();
    let n = 0;
    for (const p of papers) n += classify(p).length;
    const ms = performance.now() - started;
    console.log(`classify: 1,000 papers in ${ms.toFixed(1)} ms (${n} topics)`);
    expect(n).toBeGreaterThan(0);
  });
});
