import { describe, expect, it } from "vitest";
import { cadenceFor, parseEdition } from "../../src/digest/cadence";
import { dayLabel, nextWeek, parseDay, previousDay } from "../../src/lib/week";

describe("editions and cadences", () => {
  it("an edition's key is an ISO week or a real UTC day", () => {
    expect(parseEdition("2026-W47")).toMatchObject({
      cadence: "weekly",
      week: "2026-W47",
      label: "16–22 November 2026",
    });
    expect(parseEdition("2026-W47")!.days).toHaveLength(7);
    expect(parseEdition("2026-11-30")).toEqual({
      key: "2026-11-30",
      cadence: "daily",
      week: "2026-W49",
      days: ["2026-11-30"],
      label: "Monday 30 November 2026",
    });
    // A day belongs to its ISO week, across the turn of the year.
    expect(parseEdition("2027-01-03")!.week).toBe("2026-W53");
    for (const junk of [
      "2026-02-30",
      "2026-13-01",
      "2026-1-01",
      "2026-W54",
      "20261130",
      "",
      "2026-11-30 ",
      "+02026-11-30",
    ])
      expect(parseEdition(junk), junk).toBeNull();
    expect(parseDay("2024-02-29")).toBe("2024-02-29");
    expect(parseDay("2025-02-29")).toBeNull();
  });

  it("the daily cron takes the day before; a switch applies from the next ISO week", () => {
    expect(previousDay(new Date("2026-12-01T08:00:00Z"))).toBe("2026-11-30");
    expect(previousDay(new Date("2027-01-01T08:00:00Z"))).toBe("2026-12-31");
    expect(nextWeek(Date.parse("2026-12-02T12:00:00Z"))).toBe("2026-W50");
    expect(nextWeek(Date.parse("2026-12-31T12:00:00Z"))).toBe("2027-W01");
    expect(dayLabel("2025-03-04")).toBe("Tuesday 4 March 2025");
  });

  it("before a switch applies the reader keeps the other cadence; from its week on, the new one", () => {
    const switched = { cadence: "daily" as const, cadenceFrom: "2026-W50" };
    expect(cadenceFor(switched, "2026-W49")).toBe("weekly");
    expect(cadenceFor(switched, "2026-W50")).toBe("daily");
    expect(cadenceFor(switched, "2027-W01")).toBe("daily");
    expect(cadenceFor({ cadence: "weekly", cadenceFrom: "2026-W50" }, "2026-W49")).toBe("daily");
    expect(cadenceFor({ cadence: "weekly", cadenceFrom: null }, "2020-W01")).toBe("weekly");
  });
});
