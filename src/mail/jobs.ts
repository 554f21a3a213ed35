/** Messages on MAIL_QUEUE. Only ids travel: the consumer reads the current state before sending. */
export type MailJob =
  | { kind: "confirm"; subscriberId: number; sentAt: number }
  | { kind: "welcome"; subscriberId: number };
