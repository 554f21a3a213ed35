import type { SQLiteTable } from "drizzle-orm/sqlite-core";

type Columns<T extends SQLiteTable> = T["_"]["columns"];
/** What SQLite stores for a column: booleans as 0/1 and JSON as text; everything else as Drizzle types it. */
type Stored<C> = C extends { _: { columnType: "SQLiteBoolean" } }
  ? number
  : C extends { _: { columnType: "SQLiteTextJson" } }
    ? string
    : C extends { _: { data: infer D } }
      ? D
      : never;

/**
 * A row as raw SQL returns it (`SELECT * FROM …` through D1): the schema's column names and stored types, derived
 * from src/db/schema.ts so nobody writes them again by hand. Drizzle's query builder returns the mapped
 * (camelCase, parsed) `$inferSelect` shape instead.
 */
export type RowOf<T extends SQLiteTable> = {
  [K in keyof Columns<T> as Columns<T>[K]["_"]["name"]]: Columns<T>[K]["_"]["notNull"] extends true
    ? Stored<Columns<T>[K]>
    : Stored<Columns<T>[K]> | null;
};
