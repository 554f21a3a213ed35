/*
 * Counts what one invocation asks of the platform (D1 queries, queue sends, budget calls, Resend calls), the
 * figures that Cloudflare's per-invocation limits are about (subrequests, D1 queries). Wraps the bindings of
 * `env` for one invocation; the objects handed out stay the runtime's own (a D1 batch checks its statements).
 */

export interface Meter {
  d1: number;
  queue: number;
  limiter: number;
  budget: number;
  resend: number;
}

export const newMeter = (): Meter => ({ d1: 0, queue: 0, limiter: 0, budget: 0, resend: 0 });

export const subrequests = (m: Meter) => m.d1 + m.queue + m.limiter + m.budget + m.resend;

function countStatement(stmt: D1PreparedStatement, m: Meter): D1PreparedStatement {
  for (const method of ["run", "all", "first", "raw"] as const) {
    const original = stmt[method] as (...a: unknown[]) => unknown;
    (stmt as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
      m.d1++;
      return original.apply(stmt, a);
    };
  }
  const bind = stmt.bind;
  stmt.bind = (...values: unknown[]) => countStatement(bind.apply(stmt, values), m);
  return stmt;
}

function countQueue<T>(queue: Queue<T>, m: Meter): Queue<T> {
  return {
    send: (body, opts) => {
      m.queue++;
      return queue.send(body, opts);
    },
    sendBatch: (msgs, opts) => {
      m.queue++;
      return queue.sendBatch(msgs, opts);
    },
    metrics: () => queue.metrics(),
  } as Queue<T>;
}

export function meterEnv(env: Env, m: Meter): Env {
  const db = env.DB;
  const metered = {
    prepare: (sql: string) => countStatement(db.prepare(sql), m),
    batch: (statements: D1PreparedStatement[]) => {
      m.d1++;
      return db.batch(statements);
    },
    exec: (sql: string) => {
      m.d1++;
      return db.exec(sql);
    },
    dump: () => db.dump(),
    withSession: (constraint?: string) => db.withSession(constraint as never),
  } as unknown as D1Database;
  const budget = env.SEND_BUDGET;
  const namespace = {
    idFromName: (name: string) => budget.idFromName(name),
    idFromString: (id: string) => budget.idFromString(id),
    newUniqueId: () => budget.newUniqueId(),
    getByName: (name: string) => namespace.get(budget.idFromName(name)),
    jurisdiction: () => budget,
  } as unknown as typeof budget;
  namespace.get = (id, opts) => {
    const stub = budget.get(id, opts);
    return new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (
          typeof value !== "function" ||
          typeof prop !== "string" ||
          !["acquire", "release", "state", "resume", "reset"].includes(prop)
        )
          return value;
        return (...args: unknown[]) => {
          m.budget++;
          // Every Resend call is reported to the budget once, with its answer (an unused slot is not a call).
          if (prop === "release" && !(args[1] as { unused?: boolean } | undefined)?.unused) m.resend++;
          // Called on the stub itself: an RPC stub answers any property, `apply` included, with a remote call.
          return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
        };
      },
    });
  };
  const limiter = (l: RateLimit): RateLimit => ({
    limit: (opts) => {
      m.limiter++;
      return l.limit(opts);
    },
  });
  return {
    ...env,
    DB: metered,
    MAIL_QUEUE: countQueue(env.MAIL_QUEUE, m),
    DIGEST_QUEUE: countQueue(env.DIGEST_QUEUE, m),
    SEND_BUDGET: namespace,
    SUBSCRIBE_LIMITER: limiter(env.SUBSCRIBE_LIMITER),
    TOKEN_LIMITER: limiter(env.TOKEN_LIMITER),
  };
}
