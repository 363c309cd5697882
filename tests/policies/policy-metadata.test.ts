import { describe, expect, it } from "vitest";
import { policies } from "../../policies/policies.js";

// Apart from pack-loading (a ts-node process, seconds per run), so that mutation testing can run it per mutant.
describe("the policy pack's metadata", () => {
  it("gives every policy a description, an enforcement level, a known severity and remediation steps", () => {
    for (const p of policies) {
      expect(p.name).toMatch(/^[a-z0-9-]+$/);
      expect(p.description.length).toBeGreaterThan(20);
      expect(["advisory", "mandatory"]).toContain(p.enforcementLevel);
      expect(["low", "medium", "high", "critical"]).toContain(p.severity);
      expect(p.remediationSteps?.length).toBeGreaterThan(20);
    }
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
  });
});
