import { type IsoWeek, isoWeekOf, weekStart } from "../lib/week";
import { type Paper, type PaperSource, parsePaper } from "./paper";

/**
 * The bundled sample week (PAPERS_SOURCE=sample, the `npm start` default): 34 invented papers, Monday to Friday, in the real
 * response shape of /api/daily_papers, dated into whichever week is asked for, so the whole flow works offline.
 * Every title, abstract, name and number is made up. It includes what real weeks contain: a duplicate
 * entry, a withdrawn paper, a very long abstract, markup-like characters in a title, missing optional fields.
 * `keywords` (comma-separated) and `tldr` become Hugging Face's `ai_keywords` and `ai_summary`; empty means absent.
 */
type Row = [
  title: string,
  summary: string,
  authors: string,
  upvotes: number,
  comments: number,
  keywords: string,
  tldr: string,
  repo?: string,
  stars?: number,
  project?: string,
];

// biome-ignore format: one paper per line, read as a table
const ROWS: Row[] = [
  ["Sparse Recursion Routers: Adaptive Depth for Long-Context Reasoning", "Uniform depth wastes compute on easy tokens. We route each token through a learned number of shared recursive blocks and match dense baselines with 38% fewer FLOPs on math, code and retrieval.", "Mira Okafor, Jonas Lind, Priya Raman, Tomasz Wierzba", 241, 12, "recursive blocks, adaptive depth, token routing, long-context reasoning, parameter sharing", "Routing each token through a learned number of shared recursive blocks matches dense models with 38% fewer FLOPs.", "https://github.com/example-lab/srr", 1342, "https://srr.example.org/"],
  ["Self-Correcting Agents Need Calibrated Critics", "Agents that revise their own plans often make them worse. We train a small critic whose confidence is calibrated on held-out trajectories and only let the agent revise when the critic is confident, improving web-navigation success by 11 points.", "Hana Sato, Lucas Ferreira", 198, 9, "web agents, self-correction, calibrated critic, plan revision", "A calibrated critic decides when an agent should revise its plan, improving web-navigation success.", "https://github.com/example-lab/calibrated-critic", 512],
  ['Beyond "Bigger Is Better": Data & Compute Trade-offs in <Small> Language Models', "We train 400 models from 20M to 3B parameters under fixed budgets and find that data quality filters matter more than size below 1B parameters. We release the training recipes.", "Aditi Rao, Ben Cohen, Chloé Martin", 187, 21, "small language models, data quality, compute budgets, training recipes", "Below 1B parameters, data quality filters matter more than model size under a fixed compute budget.", "https://github.com/example-lab/small-lm-tradeoffs", 233],
  ["Video World Models with Persistent Memory", "Generated videos forget what left the frame. We add a spatial memory that stores features of every region the camera has seen and retrieves them when the camera returns, keeping scenes consistent over five-minute rollouts.", "Kwame Mensah, Yuki Tanaka, Elena Petrova", 176, 14, "video world models, spatial memory, scene consistency, long rollouts", "A spatial memory of previously seen regions keeps generated videos consistent when the camera returns.", undefined, undefined, "https://persistent-worlds.example.org/"],
  ["λ-Diffusion: Scheduling Noise by Curvature", "Diffusion samplers spend equal effort on every step. We schedule steps by the local curvature of the probability-flow ODE and halve the number of function evaluations at equal FID.", "Nikos Papadakis, Sofia Lindqvist", 163, 6, "diffusion samplers, noise schedule, probability-flow ODE, curvature", "Scheduling diffusion sampling steps by curvature halves function evaluations at equal FID.", "https://github.com/example-lab/lambda-diffusion", 890],
  ["Reward Models That Know What They Don't Know", "Reward models are confidently wrong outside their training distribution. An ensemble with a shared trunk and a disagreement penalty makes RLHF policies stop exploiting reward hacks in three benchmarks.", "Grace Huang, Omar Haddad, Lena Vogel", 158, 11, "reward models, RLHF, uncertainty, ensembles, reward hacking", "A shared-trunk ensemble with a disagreement penalty stops RLHF policies from exploiting reward hacks."],
  ["Tokenizer-Free Speech Language Models", "We model raw 16 kHz audio with a byte-level transformer and a learned downsampler, reaching the word error rate of tokenized systems while keeping prosody that discrete units lose.", "Rafael Ortiz, Ingrid Holm", 149, 5, "speech language models, byte-level modelling, raw audio, prosody", "A byte-level transformer over raw audio matches tokenized speech models while keeping prosody.", "https://github.com/example-lab/tf-speech", 301],
  ["Proof Search with Learned Premise Selection at Scale", "On a library of 180k formal theorems, a retriever trained on proof traces selects premises for a prover and closes 23% more goals than symbolic filtering.", "Daniel Weiss, Amara Diallo, Wen Li", 144, 8, "theorem proving, premise selection, retrieval, formal mathematics", "A retriever trained on proof traces selects premises that let a prover close 23% more goals."],
  ["Diffusion Policies for Dexterous Bimanual Manipulation", "Two robot hands fold towels, open jars and tie knots from 200 demonstrations each, using a diffusion policy over action chunks with tactile conditioning.", "Sven Aalto, Maya Goldberg, Chen Wei, Fatima Zahra, Lukas Brenner, Ama Owusu", 139, 10, "diffusion policy, bimanual manipulation, dexterous hands, tactile sensing", "A diffusion policy with tactile conditioning learns bimanual tasks from 200 demonstrations each.", "https://github.com/example-lab/bimanual-dp", 765, "https://bimanual.example.org/"],
  ["Long-Context Evaluation Is Mostly Retrieval", "We show that 14 of 17 popular long-context benchmarks can be solved by retrieving under 2% of the context, and propose tasks that require aggregating evidence across the whole input.", "Irene Costa, Felix Braun", 131, 17, "long-context benchmarks, evaluation, retrieval, evidence aggregation", "Most long-context benchmarks can be solved by retrieving a tiny part of the input, so new tasks are proposed."],
  ["Multilingual Instruction Tuning Without Translation", "Instead of translating English instructions, we mine naturally occurring question-answer pairs in 52 languages and outperform translated data on native-speaker preference tests.", "Aisha Bello, Marco Rossi, Ji-woo Park", 126, 4, "instruction tuning, multilingual data, native question-answer pairs", "Mined native instructions in 52 languages beat translated instruction data.", "https://github.com/example-lab/native-instruct", 188],
  ["Compressing KV Caches with Learned Eviction", "A tiny scorer decides which key-value pairs to keep during generation, cutting cache memory by 6x with under one point of accuracy loss on long-document QA.", "Tom Eriksen, Laila Nasser", 121, 7, "KV cache, cache eviction, memory efficiency, long-document QA", "A learned scorer evicts key-value pairs, cutting cache memory 6x with little accuracy loss.", "https://github.com/example-lab/kv-evict", 640],
  ["3D Scene Generation from a Single Sentence", "We generate editable 3D rooms by composing retrieved assets under layout constraints predicted by a language model, and let users refine them in conversation.", "Paula Jiménez, Victor Hugo Lima", 117, 3, "3D scene generation, layout constraints, asset retrieval, language model", "Editable 3D rooms are composed from retrieved assets under layouts predicted by a language model.", undefined, undefined, "https://sentence-to-scene.example.org/"],
  ["Why Do Vision Transformers Need Registers? A Mechanistic Account", "We trace high-norm artifact tokens to a specific attention pattern that stores global information in low-content patches, and show a one-line fix during pretraining.", "Oliver Grant, Mei Chen", 112, 9, "vision transformers, registers, attention artifacts, mechanistic interpretability", "High-norm artifact tokens in vision transformers come from one attention pattern, fixed with one line."],
  ["Synthetic Data for Code Repair Scales Log-Linearly", "Training on 50M synthetic bug-fix pairs generated by mutating tested code improves repair rates log-linearly with data size, with no saturation in sight.", "Ravi Iyer, Julia Nowak, Samuel Adeyemi", 108, 6, "synthetic data, code repair, bug-fix pairs, data scaling", "Code repair improves log-linearly with up to 50M synthetic bug-fix pairs.", "https://github.com/example-lab/synthfix", 411],
  ["Weather Forecasting at Kilometre Scale with Graph Transformers", "A graph transformer on an icosahedral mesh produces 10-day forecasts at 1 km resolution in 40 seconds on one accelerator, beating the operational model on precipitation.", "Anna Kowalski, Mateo Silva", 104, 5, "weather forecasting, graph transformer, icosahedral mesh, precipitation", "A graph transformer forecasts weather at 1 km resolution in 40 seconds."],
  ["Watermarks That Survive Paraphrasing", "We embed watermarks in the semantic choices of a language model rather than token frequencies, keeping detection above 90% after aggressive paraphrasing.", "Hye-jin Kim, Arjun Mehta", 99, 12, "watermarking, paraphrasing attacks, semantic watermark, detection", "Watermarks in a model's semantic choices survive aggressive paraphrasing.", "https://github.com/example-lab/semantic-wm", 157],
  ["Test-Time Training for Out-of-Distribution Images", "A few gradient steps on a self-supervised loss per test batch recover half of the accuracy lost under corruption shifts, at the cost of 3x inference time.", "Pierre Dubois, Zanele Dlamini", 95, 2, "test-time training, distribution shift, self-supervised loss, image corruptions", "A few self-supervised gradient steps at test time recover half the accuracy lost to corruptions."],
  ["Learning to Plan in Latent Space from Pixels", "A world model trained on videos of household tasks supports planning with a cross-entropy method in its latent space, solving 70% of unseen goal images.", "Emma Fischer, Kenji Watanabe, Olu Adebayo", 91, 4, "world models, latent planning, cross-entropy method, household tasks", "Planning in the latent space of a video world model solves 70% of unseen goal images.", "https://github.com/example-lab/latent-planner", 220],
  ["Faithful Chain-of-Thought Through Causal Interventions", "We measure whether stated reasoning steps causally affect answers by intervening on them, and train models whose explanations pass the test twice as often.", "Sara Cohen, Tariq Aziz", 88, 15, "chain-of-thought, faithfulness, causal interventions, explanations", "Interventions on reasoning steps test whether chain-of-thought causally drives the answer."],
  ["Open Molecular Generation Benchmarks Are Saturated", "Simple genetic algorithms match deep generative models on 9 of 11 molecular design benchmarks; we propose harder objectives with synthesizability constraints.", "Lin Zhou, Marta Nieminen", 84, 8, "molecular generation, benchmarks, genetic algorithms, synthesizability", "Genetic algorithms match deep generative models on most molecular benchmarks, so harder ones are proposed.", "https://github.com/example-lab/molbench-hard", 96],
  ["Mixture of Tiny Experts for On-Device Translation", "Routing among 64 experts of 2M parameters each gives a 40 MB translation model that matches a 600 MB dense model on 30 language pairs.", "Carlos Mendes, Aiko Mori", 80, 3, "mixture of experts, on-device translation, model compression", "64 tiny experts make a 40 MB translation model match a 600 MB dense one."],
  ["Audio-Visual Speech Separation in Crowded Rooms", "Lip movements and spatial audio together separate up to six simultaneous speakers in reverberant rooms, improving SI-SDR by 4 dB over audio-only methods.", "Noah Levi, Isabel Ruiz", 77, 2, "audio-visual speech separation, lip movements, spatial audio", "Lip movements and spatial audio separate up to six overlapping speakers.", undefined, undefined, "https://crowded-rooms.example.org/"],
  ["Curriculum Learning Revisited for Large Language Models", "Ordering pretraining data by difficulty gives no benefit at scale, but ordering by domain does: we find a 7% compute saving from a simple domain schedule.", "Eva Horvat, Kofi Boateng", 73, 10, "curriculum learning, pretraining data, domain schedule, compute savings", "Ordering pretraining data by domain, not difficulty, saves 7% of compute."],
  ["Spiking Neural Networks Reach Transformer Accuracy on Language Modelling", "A spiking architecture with learned firing thresholds closes the perplexity gap to transformers at 350M parameters while using 12x less energy on neuromorphic hardware.", "Yusuf Demir, Clara Schmidt", 69, 6, "spiking neural networks, language modelling, neuromorphic hardware, energy efficiency", "Spiking networks with learned thresholds close the perplexity gap to transformers with 12x less energy."],
  ["Privacy Attacks on Retrieval-Augmented Generation", "Crafted queries make RAG systems reveal verbatim passages from private corpora in 31% of attempts; we evaluate three defences and find one that works.", "Leah Goldstein, Hamza Khan", 65, 4, "retrieval-augmented generation, privacy attacks, data leakage, defences", "Crafted queries make RAG systems leak private passages; one of three defences works.", "https://github.com/example-lab/rag-leaks", 143],
  ["Neural Fields for Real-Time Relighting", "A compact neural field relights captured faces under arbitrary environment maps at 90 frames per second on a laptop GPU.", "Marie Laurent, Diego Alvarez", 61, 1, "neural fields, relighting, real-time rendering, faces", "A compact neural field relights captured faces at 90 frames per second."],
  ["Scaling Laws for Reward Model Overoptimization in Code", "Optimizing against learned rewards for code correctness follows predictable overoptimization curves that we fit across five model sizes.", "Nina Popescu, George Oduya", 57, 3, "scaling laws, reward overoptimization, code correctness", "Overoptimizing learned code-correctness rewards follows predictable curves across model sizes."],
  ["Graph Foundation Models Do Not Transfer Yet", "Across 40 graph datasets, pretrained graph models rarely beat training from scratch; transfer works only between graphs with matching feature semantics.", "Jakub Novak, Rina Patel", 53, 7, "", ""],
  ["Efficient Fine-Tuning with Low-Rank Sparse Adapters", "Combining low-rank updates with a learned sparse mask recovers full fine-tuning quality with 0.3% of trainable parameters on 12 tasks.", "Thomas Berg, Ifeoma Eze", 49, 2, "parameter-efficient fine-tuning, low-rank adapters, sparse masks", "Low-rank updates plus a learned sparse mask match full fine-tuning with 0.3% of the parameters.", "https://github.com/example-lab/lrs-adapters", 377],
  ["A Benchmark for Scientific Figure Understanding", "We collect 12k figures from open-access papers with expert-written questions; the best multimodal model answers 58% correctly versus 89% for domain experts.", "Helena Sousa, Raj Malhotra", 45, 5, "scientific figures, benchmark, multimodal models, question answering", "A benchmark of 12k scientific figures shows multimodal models far behind experts.", undefined, undefined, "https://figure-bench.example.org/"],
  ["Retrieval Heads Explain In-Context Copying", "A handful of attention heads implement copying from context; ablating them destroys needle-in-a-haystack accuracy while leaving perplexity almost unchanged.", "Ethan Moore, Naledi Khumalo", 41, 4, "retrieval heads, attention heads, in-context copying, needle-in-a-haystack", "A few attention heads implement copying from context; ablating them breaks needle-in-a-haystack retrieval."],
  ["Unified Tabular Reasoning with Program Synthesis", "Large language models answer questions over spreadsheets more reliably by writing small programs than by reading the table, with gains largest on tables over 500 rows. " +
    "We study why direct reading fails: attention over long, repetitive rows spreads thin, numbers are split into inconsistent tokens, and models lose track of which column a value belongs to. " +
    "Program synthesis avoids all three problems because the model only has to read the header and a few example rows, then delegate arithmetic and lookups to an interpreter. " +
    "Across six benchmarks and three model families, the approach improves exact-match accuracy by 9 to 27 points, and a verifier that re-runs programs on perturbed tables catches most of the remaining errors. " +
    "We release a library of 40,000 verified question-program pairs over real-world tables to support further work.", "Ana Lucia Torres, Bjorn Hansen, Yara Haddad", 37, 3, "tabular reasoning, program synthesis, spreadsheets, verification", "Writing small programs answers questions over large tables more reliably than reading them.", "https://github.com/example-lab/table-programs", 64],
  ["Consistency Models for Text-to-Audio", "A consistency-distilled audio generator produces 10-second clips in a single step with quality close to its 100-step teacher.", "Ivan Sokolov, Mina Rahimi", 33, 1, "text-to-audio, consistency distillation, single-step generation", "Consistency distillation generates 10-second audio clips in one step."],
];

const WITHDRAWN: Row = [
  "Retracted: A Shortcut to Superhuman Chess Without Search",
  "Withdrawn by the authors after an evaluation error was found.",
  "Anon Author",
  500,
  40,
  "",
  "",
];

export function sampleItems(w: IsoWeek): unknown[] {
  const monday = weekStart(w).getTime();
  const item = (row: Row, i: number, extra: Record<string, unknown> = {}) => {
    const [title, summary, authors, upvotes, numComments, keywords, tldr, githubRepo, githubStars, projectPage] = row;
    // arXiv-style ids unique to the week, so "already sent in an earlier issue" never empties a later sample week.
    const month = new Date(monday).getUTCMonth() + 1;
    const id = `${String(w.year % 100).padStart(2, "0")}${String(month).padStart(2, "0")}.${String(w.week * 1000 + i).padStart(5, "0")}`;
    // Monday to Friday, as on Daily Papers, where weekends are quiet: Saturday and Sunday have no papers.
    const submitted = new Date(monday + (i % 5) * 86_400_000 + 3_600_000 * (1 + (i % 20))).toISOString();
    return {
      paper: {
        id,
        authors: authors.split(", ").map((name, j) => ({ _id: `a${i}-${j}`, name, hidden: false })),
        publishedAt: new Date(Date.parse(submitted) - 86_400_000).toISOString(),
        submittedOnDailyAt: submitted,
        title,
        summary,
        upvotes,
        discussionId: `d${i}`,
        ...(githubRepo ? { githubRepo, githubStars } : {}),
        ...(projectPage ? { projectPage } : {}),
        ...(tldr ? { ai_summary: tldr } : {}),
        ...(keywords ? { ai_keywords: keywords.split(", ") } : {}),
        ...extra,
      },
      publishedAt: submitted,
      title,
      summary,
      thumbnail: `https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/${id}.png`,
      numComments,
      isAuthorParticipating: false,
    };
  };
  const items = ROWS.map((row, i) => item(row, i));
  items.push(item(WITHDRAWN, ROWS.length, { withdrawnAt: new Date(monday + 2 * 86_400_000).toISOString() }));
  // The same paper listed twice, as happens in real weeks: again the next day (a daily reader must not get it twice).
  const again = structuredClone(items[2]!);
  again.paper.submittedOnDailyAt = again.publishedAt = new Date(
    Date.parse(again.paper.submittedOnDailyAt) + 86_400_000,
  ).toISOString();
  items.push(again);
  return items;
}

const samplePapers = (w: IsoWeek) =>
  sampleItems(w)
    .map(parsePaper)
    .filter((p): p is Paper => p !== null);

/** The sample week, spread over its seven days (a paper's day is when it entered Daily Papers), so daily editions work too. */
export const sampleSource: PaperSource = {
  async week(w) {
    return samplePapers(w);
  },
  async day(date) {
    const w = isoWeekOf(new Date(`${date}T00:00:00Z`));
    return samplePapers(w).filter((p) => p.submittedOnDailyAt?.slice(0, 10) === date);
  },
};
