import type { Config } from "../config";
import { HuggingFaceSource } from "./huggingface";
import type { PaperSource } from "./paper";
import { sampleSource } from "./sample";

export type { PaperSource } from "./paper";

/** Where an issue's papers come from: Hugging Face's Daily Papers, or the bundled sample week (local runs, demos). */
export const paperSource = (cfg: Config): PaperSource =>
  cfg.papersSource === "sample" ? sampleSource : new HuggingFaceSource({ baseUrl: cfg.hfApiUrl, token: cfg.hfToken });
