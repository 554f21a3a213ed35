import { describe, expect, it } from "vitest";
import { csvField, parseCsv } from "../../src/lib/csv";

describe("parseCsv", () => {
  it("reads quoted fields, doubled quotes, CRLF and a BOM, with line numbers", () => {
    const rows = parseCsv('\uFEFFemail,name\r\n"a@x.com","Doe, ""J"""\r\n\r\nb@x.com,"two\nlines"\nc@x.com,last');
    expect(rows).toEqual([
      { line: 1, fields: ["email", "name"] },
      { line: 2, fields: ["a@x.com", 'Doe, "J"'] },
      { line: 4, fields: ["b@x.com", "two\nlines"] },
      { line: 6, fields: ["c@x.com", "last"] },
    ]);
  });
});

describe("csvField", () => {
  it("quotes only when needed", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField(null)).toBe("");
    expect(csvField(3)).toBe("3");
  });
});
