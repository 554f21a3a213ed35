import { and, desc, eq } from "drizzle-orm";
import type { CheckedImport } from "../lib/import";
import { importChunks, imports } from "./schema";
import { database, importStatements } from "./subscribers";

/*
 * Dashboard imports (tables imports and import_chunks, src/db/schema.ts). The upload is checked, then stored cut
 * into chunks of CHUNK_ROWS valid addresses; each chunk is one queue message; each message imports its
 * chunk in one D1 batch whose every INSERT is guarded by the chunk not being done yet, and whose last statements mark
 * it done and count the progress with changes(). A redelivered message therefore imports and counts nothing twice.
 */

export const CHUNK_ROWS = 500;

/** One chunk of an import, as it travels on DIGEST_QUEUE (ids only). */
export interface ImportJob {
  kind: "import";
  importId: number;
  seq: number;
}

export type ImportRow = typeof imports.$inferSelect;

/** Chunks written per statement while an upload is stored: a few MB at most, whatever the addresses' lengths. */
const CHUNKS_PER_INSERT = 8;

/**
 * Stores a checked list as an import and its chunks; answers the import's id and its queue messages. If a part cannot
 * be stored, the import is recorded as failed, its stored chunks are deleted, and the error is thrown.
 */
export async function createImport(d1: D1Database, fileName: string, list: CheckedImport, now: number) {
  const chunks = Array.from({ length: Math.ceil(list.valid.length / CHUNK_ROWS) }, (_, i) =>
    list.valid.slice(i * CHUNK_ROWS, (i + 1) * CHUNK_ROWS),
  );
  const [created] = await database(d1)
    .insert(imports)
    .values({
      fileName,
      status: chunks.length ? "importing" : "done",
      rows: list.rows,
      valid: list.valid.length,
      repeated: list.repeated,
      invalid: list.invalid,
      errors: list.errors,
      chunks: chunks.length,
      createdAt: now,
      finishedAt: chunks.length ? null : now,
    })
    .returning({ id: imports.id });
  const id = created!.id;
  try {
    for (let i = 0; i < chunks.length; i += CHUNKS_PER_INSERT)
      await database(d1)
        .insert(importChunks)
        .values(chunks.slice(i, i + CHUNKS_PER_INSERT).map((rows, j) => ({ importId: id, seq: i + j, rows })));
  } catch (err) {
    await failImport(d1, id, "the file could not be stored; upload it again", now);
    await database(d1).delete(importChunks).where(eq(importChunks.importId, id));
    throw err;
  }
  return { id, jobs: chunks.map((_, seq): ImportJob => ({ kind: "import", importId: id, seq })) };
}

/** The latest imports, newest first (the subscribers page lists them). */
export const recentImports = (d1: D1Database, limit = 10) =>
  database(d1).select().from(imports).orderBy(desc(imports.id)).limit(limit);

export const getImport = (d1: D1Database, id: number) =>
  database(d1).select().from(imports).where(eq(imports.id, id)).get();

/** Imports one chunk (nothing if it is done already or unknown). */
export async function importChunk(d1: D1Database, job: ImportJob, now: number) {
  const { importId: id, seq } = job;
  const chunk = await d1
    .prepare("SELECT rows FROM import_chunks WHERE import_id = ? AND seq = ? AND done = 0")
    .bind(id, seq)
    .first<{ rows: string }>();
  if (!chunk) return;
  const rows = JSON.parse(chunk.rows) as { email: string; key: string }[];
  // Integers only are written into the SQL (validated message fields).
  const pending = `EXISTS (SELECT 1 FROM import_chunks WHERE import_id = ${id} AND seq = ${seq} AND done = 0)`;
  const count = d1.prepare(`UPDATE imports SET imported = imported + changes() WHERE id = ${id}`);
  const inserts = await importStatements(d1, rows, now, pending);
  await d1.batch([
    ...inserts.flatMap((insert) => [insert, count]),
    d1.prepare(`UPDATE import_chunks SET done = 1, rows = '[]' WHERE import_id = ${id} AND seq = ${seq} AND done = 0`),
    d1.prepare(
      `UPDATE imports SET chunks_done = chunks_done + changes(), valid_done = valid_done + changes() * ${rows.length} WHERE id = ${id}`,
    ),
    d1
      .prepare(
        "UPDATE imports SET status = 'done', finished_at = ? WHERE id = ? AND status = 'importing' AND chunks_done >= chunks",
      )
      .bind(now, id),
  ]);
}

/** An import that cannot go on (its messages could not be queued, or a chunk kept failing). */
export const failImport = (d1: D1Database, id: number, error: string, now: number) =>
  database(d1)
    .update(imports)
    .set({ status: "failed", error: error.slice(0, 500), finishedAt: now })
    .where(and(eq(imports.id, id), eq(imports.status, "importing")));
