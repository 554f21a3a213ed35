/**
 * Generated cases per property of the hostile-input suites (test/integration/hostile-*.test.ts), by file. Each file
 * checks at its end that every one of its properties ran at least this many cases; together they are at least
 * REQUIRED. Each file takes a few seconds to seed and 5–40 s to run.
 */
export const RUNS = {
  signupAddresses: { json: 350, form: 150, anyShape: 682, nonStringAnyFields: 114, originHeaders: 114 },
  signupBodies: {
    malformed: 100,
    malformedAnyType: 227,
    wrongType: 80,
    wrongTypeAnyShape: 227,
    bytes: 100,
    bytesAnyAccept: 227,
    fields: 80,
    fieldsAnyShape: 114,
  },
  signupBots: { honeypot: 30, honeypotAnyShape: 227, formToken: 227, expiredFormToken: 114, redirect: 227 },
  bodyLimits: { signup: 40, everyRoute: 120 },
  links: { forged: 300, forgedEverywhere: 1800 },
  genuineLinks: { genuine: 800 },
  methods: { random: 80, everyRoute: 900 },
  paths: { random: 150, randomAndWeeks: 700, queries: 900, devOutbox: 300 },
  webhooks: { webhooks: 1200 },
  adminAuth: { garbage: 700 },
  adminApi: { junk: 1400 },
} as const satisfies Record<string, Record<string, number>>;

export const REQUIRED = 10_000;

export const total = (runs: Record<string, number>) => Object.values(runs).reduce((s, n) => s + n, 0);
export const totalAll = () => Object.values(RUNS).reduce((s, r) => s + total(r), 0);
