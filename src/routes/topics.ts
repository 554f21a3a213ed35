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
