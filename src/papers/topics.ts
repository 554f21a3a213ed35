/**
 * The fixed topic set (docs/topics.md) and the classifier that gives each paper its topics.
 *
 * Ids are stable: they are stored in subscribers' preferences. Names are what readers see.
 */
export const TOPICS = [
  { id: "language-models", name: "Language models" },
  { id: "vision", name: "Computer vision" },
  { id: "multimodal", name: "Multimodal models" },
  { id: "generation", name: "Image and video generation" },
  { id: "audio-speech", name: "Audio and speech" },
  { id: "agents", name: "Agents and reinforcement learning" },
  { id: "robotics", name: "Robotics and embodied AI" },
  { id: "efficiency", name: "Efficiency and systems" },
  { id: "theory", name: "Theory and optimization" },
  { id: "safety", name: "Safety and alignment" },
  { id: "evaluation", name: "Evaluation and benchmarks" },
  { id: "retrieval", name: "Retrieval and RAG" },
  { id: "code", name: "Code and software" },
  { id: "science", name: "Science and medicine" },
  { id: "3d", name: "3D and spatial" },
  { id: "data", name: "Data and datasets" },
] as const;

export type TopicId = (typeof TOPICS)[number]["id"];

const IDS: ReadonlySet<string> = new Set(TOPICS.map((t) => t.id));
export const isTopicId = (s: unknown): s is TopicId => typeof s === "string" && IDS.has(s);

/**
 * A reader's choice of topics as sent: a list of ids (a JSON array, or repeated form fields), any entry possibly
 * comma-separated ("vision,code"), nothing (undefined, null, empty entries) meaning no topics. The result is the ids
 * in TOPICS order, duplicates dropped. The whole choice is refused (never partly kept) when an entry is not a string
 * or not a known id, or when there are more entries than topics. The message never quotes the entries (they are
 * anybody's text, and errors are shown on pages).
 */
export function parseTopicChoice(raw: unknown): { ok: true; topics: TopicId[] } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, topics: [] };
  const values: unknown[] = Array.isArray(raw) ? raw : [raw];
  const tooMany = { ok: false, message: `Choose at most ${TOPICS.length} topics.` } as const;
  if (values.length > TOPICS.length) return tooMany;
  const entries: string[] = [];
  for (const v of values) {
    if (typeof v !== "string") return { ok: false, message: "Topics are a list of topic ids (strings)." };
    // Bounded before splitting: a huge comma-separated string is refused without making a huge array.
    // (No id is longer than 40 characters.)
    if (v.length > TOPICS.length * 41) return tooMany;
    for (const part of v.split(",")) {
      const id = part.trim();
      if (id) entries.push(id);
    }
  }
  if (entries.length > TOPICS.length) return tooMany;
  const unknown = entries.filter((e) => !IDS.has(e)).length;
  if (unknown > 0)
    return {
      ok: false,
      message: unknown > 1 ? `${unknown} entries are not topic ids.` : "One entry is not a topic id.",
    };
  const chosen = new Set(entries);
  return { ok: true, topics: TOPICS.filter((t) => chosen.has(t.id)).map((t) => t.id) };
}

/*
 * The rules: per topic, terms in three tiers, written from the scope of each topic in docs/topics.md.
 *   3 = the term names the topic ("gaussian splatting", "speech recognition"),
 *   2 = typical of the topic but seen elsewhere too ("diffusion", "embeddings"),
 *   1 = a hint that only counts together with other evidence ("reasoning", "images"),
 *  <0 = counter-evidence: a phrase that looks like the topic but belongs to another ("diffusion policy").
 * A term is a regex fragment over normalised text: lower case, every run of other characters one space
 * ("KV-cache" reads "kv cache", "<b>3D</b>" reads "3d"); it is matched between word boundaries.
 */
// biome-ignore format: a table, one tier per line
const TERMS: Record<TopicId, [weight: number, ...terms: string[]][]> = {
  "language-models": [
    [3, "chains? of thought", "cot", "test time (?:compute|scaling)", "(?<!(?:visual|image|video|audio|speech) )tokeni[sz](?:ers?|ation)", "long context", "context (?:window|length|extension)", "instruction (?:tuning|tuned|following)", "state space models?", "ssms?", "mamba", "language model(?:l)?ing", "next token prediction", "reasoning models?", "small language models?"],
    [2, "(?:supervised )?fine tun(?:ing|ed)", "sft", "math(?:ematical)? reasoning", "reasoning (?:traces?|chains?|length)", "perplexity", "in context learning", "(?:linear|sparse|multi head) attention", "positional (?:encodings?|embeddings?)", "rope", "decoder only", "overthinking", "diffusion language models?", "recurren(?:t|ce)"],
    [1, "pre ?training", "pretrain", "(?<!(?:vision|visual|speech|audio|multimodal|video|protein) )(?:large )?language models?", "llms?", "reasoning", "(?<!vision )transformers?", "attention", "prompt(?:s|ing)?", "multilingual", "translation", "lora", "chat(?:bots?)?", "curriculum"],
  ],
  vision: [
    [3, "computer vision", "object detect(?:ion|ors?)", "(?:semantic|instance|panoptic|image|video) segmentation", "image classification", "(?:object|multi object|visual|point) tracking", "ocr", "optical character recognition", "(?:monocular )?depth estimation", "visual representations?", "video understanding", "action recognition", "image recognition", "(?:crowd|object) counting"],
    [2, "segment(?:ation|ing)?", "tracking", "vision transformers?", "vits?", "imagenet", "convolutional", "cnns?", "self supervised (?:visual|image)", "dino(?:v2|v3)?", "super resolution", "image restoration", "optical flow", "open vocabulary", "re identification", "scene text", "document (?:parsing|layout)", "test time adaptation", "corruptions?", "backbones?", "imagery"],
    [1, "detection", "depth", "images?", "videos?", "visual", "vision", "pixels?", "patch(?:es)?", "frames?", "recognition", "registers?"],
  ],
  multimodal: [
    [3, "multi ?modal", "vision language(?! action)", "image to text", "vlms?", "mllms?", "lmms?", "visual question answering", "vqa", "(?:image|video) captioning", "any to any", "visual instruction tuning", "audio visual", "video (?:llms?|language models?)", "omni ?modal", "(?:radiology|medical) report generation"],
    [2, "captions?", "captioning", "image text", "text image pairs?", "clip", "visual (?:grounding|reasoning)", "interleaved", "chart (?:understanding|qa)", "figures?", "audio language models?", "cross modal", "modalit(?:y|ies)", "visual tokens?"],
    [1, "grounding", "document understanding", "visual", "images?", "videos?", "vision"],
  ],
  generation: [
    [3, "text to (?:image|video|3d)", "image to video", "(?:image|video) (?:generation|synthesis|editing|generators?)", "flow matching", "rectified flows?", "gans?", "generative adversarial", "latent diffusion", "stable diffusion", "diffusion (?:models?|transformers?|samplers?)", "dits?", "visual tokeni[sz]ers?", "classifier free guidance", "inpainting"],
    [2, "diffusion", "denois(?:ing|er)", "vaes?", "variational autoencoders?", "fid", "style transfer", "consistency (?:models?|distill\\w*)", "score based", "noise schedul\\w*", "sampling steps", "subject driven", "controllable generation", "talking heads?", "autoregressive image", "world models?", "generated videos?", "editing"],
    [1, "generat(?:e|ed|ing|ion|ive)", "synthesis", "guidance", "samplers?", "images?", "videos?"],
    [-3, "diffusion polic(?:y|ies)", "diffusion language models?", "text to (?:speech|audio|music)"],
  ],
  "audio-speech": [
    [3, "speech", "asr", "text to speech", "tts", "voices?", "music(?:al)?", "audio", "spoken", "singing", "vocoders?", "spectrograms?", "speech recognition", "sound"],
    [2, "speakers?", "prosody", "acoustic", "word error rate", "wer", "phonem(?:e|es|ic)", "waveforms?", "khz", "listening", "lip"],
  ],
  agents: [
    [3, "(?<!embodied )agents?", "agentic", "computer use", "gui (?:agents?|automation)", "tool (?:use|using|calling|learning|augmented)", "function calling", "multi agent", "reinforcement learning", "rlvr", "verifiable rewards?", "grpo", "policy gradients?", "actor critic", "q learning", "offline rl", "web (?:navigation|browsing|tasks?)", "deep research"],
    [2, "rl", "ppo", "policy optimization", "reward (?:models?|modell?ing|shaping)", "(?<!(?:motion|path|trajectory) )planning", "planner", "monte carlo tree search", "mcts", "markov decision", "self play", "trajector(?:y|ies)", "environments?", "browser"],
    [1, "rewards?", "polic(?:y|ies)", "exploration", "critics?", "multi turn", "games?", "rlhf", "workflows?"],
  ],
  robotics: [
    [3, "robots?", "robotic(?:s)?", "locomotion", "grasp(?:ing)?", "vision language action", "vlas?", "sim to real", "embodied", "autonomous driving", "self driving", "humanoids?", "quadrupeds?", "dexterous", "bimanual", "teleoperation", "visuomotor", "diffusion polic(?:y|ies)"],
    [2, "manipulation", "(?<!web )navigation", "imitation learning", "driving", "action chunk(?:s|ing)?", "motion planning", "tactile", "household", "lidar", "trajectory prediction", "demonstrations"],
    [1, "world models?", "actions?", "physical", "control", "planning"],
  ],
  efficiency: [
    [3, "(?<!vector )quanti[sz](?:ation|ed|e|ing)", "prun(?:ing|ed|e)", "kv caches?", "key value (?:caches?|pairs)", "speculative decoding", "inference (?:serving|engines?|efficiency|acceleration|latency|throughput|cost)", "distributed training", "flash ?attention", "(?:pipeline|tensor|data|expert) parallel(?:ism)?", "early exit(?:ing)?", "token (?:pruning|merging|reduction|compression|eviction)", "memory (?:efficient|footprint|usage)", "low bit", "(?:2|3|4|8) bit", "int(?:4|8)", "fp(?:4|8)", "gpu kernels?", "cuda", "triton"],
    [2, "mixture of (?:tiny )?experts", "moe", "flops", "latency", "throughput", "compress(?:ion|ing|ed)?", "knowledge distillation", "sparsity", "on device", "edge devices?", "mobile", "hardware", "accelerators?", "neuromorphic", "kernels?", "serving", "lora", "low rank", "parameter efficient", "adapters?", "speed ?ups?", "energy", "efficient", "efficiency", "evict(?:ion)?"],
    [1, "distill(?:ation|ed)?", "memory", "fast(?:er)?", "gpus?", "cost", "sparse", "budgets?", "compute", "routing", "experts"],
  ],
  theory: [
    [3, "optimi[sz]ers?", "adamw?", "sgd", "stochastic gradient", "scaling laws?", "convergence", "generali[sz]ation bounds?", "(?:training|learning) dynamics", "grokking", "sample complexity", "loss landscapes?", "double descent", "neural tangent", "implicit bias", "over ?parameteri[sz]\\w*", "muon", "mup", "maximal update", "learning theory"],
    [2, "theor(?:y|ies|etical(?:ly)?)", "provabl[ey]", "learning rates?", "gradient descent", "feature learning", "second order", "hyperparameters?", "phase transitions?", "(?:lower|upper) bounds?", "regret", "weight decay", "batch sizes?", "loss spikes?", "compute optimal", "mean field", "mechanistic", "generali[sz]ation", "predictable", "log linear(?:ly)?"],
    [1, "optimi[sz]ation", "gradients?", "emergen(?:ce|t)", "initiali[sz]ation", "memori[sz]ation", "analysis", "why", "curves?"],
  ],
  safety: [
    [3, "safety", "(?<!(?:text|image|modality|cross modal|feature|vision language) )alignment", "misalign(?:ed|ment)", "rlhf", "dpo", "direct preference", "preference (?:optimi[sz]ation|learning|tuning)", "jailbreak(?:s|ing)?", "red teaming", "harmful", "toxic(?:ity)?", "hallucinat(?:ion|ions|e|es|ing)", "privacy", "membership inference", "watermark(?:s|ing|ed)?", "fairness", "social bias(?:es)?", "unlearning", "backdoors?", "refusals?", "deceptive", "deception", "sycophan\\w*", "reward hack(?:s|ing)?", "prompt injection", "guardrails?", "constitutional"],
    [2, "aligned", "interpretability", "sparse autoencoders?", "steering", "adversarial (?:attacks?|robustness|examples|prompts)", "poisoning", "faithful(?:ness)?", "trustworth\\w*", "oversight", "deepfakes?", "misuse", "biases", "attacks?", "leak(?:s|age)?", "overoptimi[sz]ation"],
    [1, "reward models?", "safe", "risks?", "calibrat(?:ed|ion)", "uncertainty", "bias", "human preferences?", "defen[cs]es?", "causal interventions?", "explanations?"],
  ],
  evaluation: [
    [3, "leaderboards?", "llm as (?:a )?judges?", "(?:llm|ai) judges?", "judge models?", "contaminat(?:ion|ed)", "meta evaluation", "evaluation (?:framework|protocol|methodology|suite|harness)", "(?:introduce|present|propose|release|construct|build|curate|collect)s? (?:a |an )?(?:\\w+ ){0,4}benchmark"],
    [2, "benchmarks?", "evaluat(?:ion|ing|e)", "evals?", "arena", "human evaluation", "saturat(?:ed|ion)", "test suites?", "held out tasks", "bench"],
    [1, "metrics?", "judges?", "accuracy", "scores?", "reproducib\\w*", "questions"],
  ],
  retrieval: [
    [3, "rag", "retrieval augmented", "retrieval", "retrievers?", "dense retrieval", "re ?rank(?:ing|ers?)?", "search engines?", "recommend(?:ation|er)s?(?: systems?)?", "knowledge graphs?", "vector (?:databases?|search|index)", "information retrieval", "text embeddings?", "embedding models?", "sentence embeddings?", "colbert", "bm25"],
    [2, "retriev(?:e|es|ed|ing)", "ranking", "open domain", "long term memory", "memory (?:retrieval|bank)", "citations?", "passages?", "corpora", "queries"],
    [1, "embeddings?", "search", "memory", "query", "question answering", "knowledge", "documents?", "corpus", "index(?:ing)?"],
  ],
  code: [
    [3, "code (?:generation|completion|repair|review|llms?|models?|agents?)", "coding", "program synthesis", "software", "swe bench", "swe", "github issues?", "formal verification", "theorem prov(?:ing|ers?)", "proof assistants?", "lean(?: ?4)?", "isabelle", "coq", "premise selection", "autoformali[sz]\\w*", "text to sql", "sql", "verilog", "competitive programming", "humaneval", "mbpp", "livecodebench", "programming languages?", "formal (?:proofs?|theorems?|mathematics)"],
    [2, "code", "programs?", "programming", "bugs?", "debug\\w*", "unit tests?", "compilers?", "python", "repositor(?:y|ies)", "proofs?", "verifiers?", "interpreters?"],
    [1, "theorems?", "functions?", "spreadsheets?", "apis?"],
  ],
  science: [
    [3, "biolog(?:y|ical)", "biomedical", "proteins?", "molecul(?:e|es|ar)", "chemi(?:stry|cal)", "materials science", "weather", "climate", "medical", "medicine", "clinical", "health(?:care)?", "patients?", "radiolog\\w*", "patholog\\w*", "genom(?:e|es|ic|ics)", "drugs?", "diseases?", "electronic health records?", "ehrs?", "mri", "ct scans?", "x rays?", "astronom\\w*", "single cell", "scientific discovery", "ai for science", "pdes?", "partial differential equations?"],
    [2, "scientific", "physics", "materials", "dna", "rna", "cells?", "quantum", "crystal(?:s|line)?", "diagnos\\w*", "neuroscience", "brain", "remote sensing", "satellite", "forecast(?:s|ing)?", "precipitation", "fluid", "turbulence", "ecolog\\w*", "species", "synthesizability", "enzymes?"],
    [1, "science", "physical", "simulations?", "earth"],
  ],
  "3d": [
    [3, "3d", "4d", "nerfs?", "neural radiance fields?", "gaussian splatting", "3dgs", "splat(?:s|ting)?", "point clouds?", "novel view synthesis", "view synthesis", "structure from motion", "sfm", "slam", "neural fields?", "signed distance", "sdfs?", "implicit surfaces?", "multi view stereo"],
    [2, "meshes", "mesh", "multi view", "camera poses?", "pose estimation", "geometry", "geometric", "stereo", "lidar", "occupancy", "avatars?", "relight(?:ing)?", "(?:inverse |neural )?rendering", "spatial (?:reasoning|understanding|intelligence)", "cad"],
    [1, "scenes?", "spatial", "depth", "reconstruction", "poses?", "camera"],
  ],
  data: [
    [3, "synthetic data", "data (?:curation|filtering|selection|mixtures?|mixing|quality|pruning|cleaning|deduplication|recipes?)", "deduplication", "pretraining (?:data|corpus|corpora)", "training data(?:sets?)?", "data centric", "common crawl", "(?:quality|data) filters?", "instruction data", "synthetic (?:examples|pairs|samples|instructions|tasks)"],
    [2, "datasets?", "curat(?:e|ed|ion|ing)", "data (?:generation|synthesis|augmentation|scaling|efficiency|sources?)", "web (?:crawl|scale|data)", "annotat(?:ion|ions|ed|ors?)", "corpus", "corpora", "mined", "mining"],
    [1, "data", "samples", "examples", "pairs", "labels?", "collect(?:ed)?", "release"],
  ],
};

/** Where a term is found multiplies its weight: keywords are Hugging Face's own tags, a title states the topic, an abstract mentions much. */
const FIELD_WEIGHT = { keywords: 3, title: 2, summary: 1 } as const;
/** A topic needs this score: a typical term in the keywords (6) or the title (4), or a few terms in the abstract. */
const THRESHOLD = 4;
/**
 * A second or third topic must also reach this share of the best topic's score, so that a passing mention next to
 * a clearly stated main topic does not count. The best score counts only up to SATURATION (a term naming the topic
 * in the keywords and another in the title is conclusive), so a long list of matches for the main topic cannot
 * push out a clear second topic: against it, a second topic needs more than one typical keyword (7.2 > 6).
 */
const RELATIVE = 0.3;
const SATURATION = 24;
const MAX_TOPICS = 3;
/** Abstracts are read up to this length: the topic is stated early, and classify stays cheap on hostile input. */
const SUMMARY_CHARS = 3000;

type Rule = { weight: number; re: RegExp };
const RULES = TOPICS.map(({ id }) => {
  const tiers = TERMS[id];
  const rules: Rule[] = tiers.flatMap(([weight, ...terms]) =>
    terms.map((t) => ({ weight, re: new RegExp(`\\b(?:${t})\\b`) })),
  );
  // One pattern with every positive term: most topics miss most papers, and one test rejects them.
  const any = new RegExp(`\\b(?:${tiers.flatMap(([w, ...terms]) => (w > 0 ? terms : [])).join("|")})\\b`);
  return { id, rules, any };
});

/**
 * Lower case; HTML formatting tags and entities dropped (`<i>KV</i>-cache` reads "kv cache", while a title's
 * "<Small>" stays a word); every run of characters other than letters and digits one space.
 */
const TAG =
  /<\/?(?:a|b|br|code|div|em|font|i|mark|math|mi|mn|mo|mrow|p|script|span|strong|style|sub|sup|tt|u)\b[^<>]{0,200}>/g;
const normalise = (s: string) =>
  s
    .toLowerCase()
    .replace(TAG, " ")
    .replace(/&(?:[a-z]{2,8}|#\d{1,6});/g, " ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

type Input = { title: string; summary: string; keywords: readonly string[] };

/** Every topic's score (0 when nothing matched), in TOPICS order: the evidence behind classify(). */
export function scoreTopics(p: Input): { id: TopicId; score: number }[] {
  // Keywords are joined with a separator no term contains, so a phrase never spans two keywords.
  const keywords = p.keywords.map(normalise).filter(Boolean).join(" | ");
  const texts = [
    [keywords, FIELD_WEIGHT.keywords],
    [normalise(p.title), FIELD_WEIGHT.title],
    [normalise(p.summary.slice(0, SUMMARY_CHARS)), FIELD_WEIGHT.summary],
  ] as const;
  return RULES.map(({ id, rules, any }) => {
    const present = texts.filter(([text]) => any.test(text));
    if (present.length === 0) return { id, score: 0 };
    let score = 0;
    for (const { weight, re } of rules) {
      // A term counts once, at the strongest field it appears in.
      const hit = present.find(([text]) => re.test(text));
      if (hit) score += weight * hit[1];
    }
    return { id, score };
  });
}

/**
 * The paper's topics: every topic whose score reaches THRESHOLD and RELATIVE × the best score, best first
 * (ties in TOPICS order), at most three. No topic when nothing reaches the threshold. Pure and deterministic.
 */
export function classify(p: Input): TopicId[] {
  const scored = scoreTopics(p);
  const best = Math.min(SATURATION, Math.max(0, ...scored.map((s) => s.score)));
  return scored
    .filter((s) => s.score >= THRESHOLD && s.score >= best * RELATIVE)
    .sort((a, b) => b.score - a.score) // stable: equal scores keep TOPICS order
    .slice(0, MAX_TOPICS)
    .map((s) => s.id);
}
