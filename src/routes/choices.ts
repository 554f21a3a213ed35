import { CADENCES, type Cadence } from "../db/schema";
import type { Body } from "../lib/body";
import { ApiError } from "../lib/http";
import { parseTopicChoice, TOPICS, type TopicId } from "../papers/topics";

const TOPIC_IDS = TOPICS.map((t) => t.id);

/**
 * The topics a request chose (parseTopicChoice in src/papers/topics.ts; `raw` as readBody lists it), or 422
 * unknown_topics with the valid ids in `valid`: the one answer of the signup and the preferences page.
 */
export function topicsField(raw: unknown): TopicId[] {
  const choice = parseTopicChoice(raw);
  if (choice.ok) return choice.topics;
  throw new ApiError(
    422,
    "unknown_topics",
    `${choice.message} The topics are: ${TOPIC_IDS.join(", ")}.`,
    {},
    {
      valid: TOPIC_IDS,
    },
  );
}

/**
 * The cadence a request chose: "weekly" or "daily", or null when the field is absent (the signup's default, weekly).
 * `body` as readBody read it, with "cadence" listed: in JSON a string, in a form one value. Anything else — an empty
 * value, a number, a list, the field twice — is 422 invalid_cadence naming the two, with them in `valid`.
 */
export function cadenceField({ lists, shape }: Body): Cadence | null {
  const raw = lists.cadence;
  if (raw === undefined) return null;
  const value = shape === "json" ? raw : Array.isArray(raw) && raw.length === 1 ? raw[0] : undefined;
  if (typeof value === "string" && (CADENCES as readonly string[]).includes(value)) return value as Cadence;
  throw new ApiError(422, "invalid_cadence", 'Choose a cadence: "weekly" or "daily".', {}, { valid: [...CADENCES] });
}
