import { describe, expect, it } from "vitest";
import { TAGGABLE_TYPES } from "../../policies/rules/tags.js";
import { changed, compliantStack, resource, violations, withInputs } from "./fixtures.js";
import { acceptsTags } from "./stack-checks.js";

const untaggedProvider = () => changed("aws", (p) => ({ ...p, inputs: { region: "us-east-1" } }));

describe("required-tags", () => {
  it("accepts resources tagged through their provider's default tags", async () => {
    expect(await violations("required-tags", compliantStack())).toEqual([]);
  });

  it("refuses a taggable resource created with a provider that sets no default tags", async () => {
    const found = await violations("required-tags", untaggedProvider());
    expect(found).toContainEqual(expect.stringContaining("usage is missing the tags ai-gateway:project, ai-gateway:stack. To fix: create it with the gateway's aws.Provider"));
  });

  it("accepts tags set on the resource itself", async () => {
    const tags = { "ai-gateway:project": "ai-gateway", "ai-gateway:stack": "test" };
    const stack = untaggedProvider().map((r) => (r.type.startsWith("aws:") ? { ...r, inputs: { ...r.inputs, tags } } : r));
    expect(await violations("required-tags", stack)).toEqual([]);
  });

  it("refuses a resource tagged for another stack", async () => {
    const stack = withInputs("usage", { tags: { "ai-gateway:stack": "prod" } });
    expect(await violations("required-tags", stack)).toEqual([expect.stringContaining('usage has ai-gateway:stack="prod", expected "test"')]);
  });

  it("refuses a resource on the default provider, which carries no tags", async () => {
    const orphan = { ...resource("aws:sqs/queue:Queue", "orphan", { sqsManagedSseEnabled: true }), provider: "urn:pulumi:test::ai-gateway::pulumi:providers:aws::default_7_48_0::id" };
    expect(await violations("required-tags", [...compliantStack(), orphan])).toEqual([expect.stringContaining("orphan is missing the tags")]);
  });

  it("leaves resource types that take no tags alone", async () => {
    const found = await violations("required-tags", untaggedProvider());
    expect(found.length).toBeGreaterThan(0);
    expect(found.some((m) => m.startsWith("worker-policy") || m.startsWith("worker-async"))).toBe(false);
  });
});

describe("the taggable resource types", () => {
  it("are each a type of @pulumi/aws whose args take tags", () => {
    expect([...TAGGABLE_TYPES].filter((type) => !acceptsTags(type))).toEqual([]);
    expect(TAGGABLE_TYPES.size).toBeGreaterThan(40);
  });
});

describe("required-tags, tag by tag", () => {
  it("counts an empty or non-string tag as missing, and says tag for one and tags for several", async () => {
    const stack = untaggedProvider().map((r) => (r.name === "usage" ? { ...r, inputs: { ...r.inputs, tags: { "ai-gateway:project": "", "ai-gateway:stack": "test" } } } : r));
    expect((await violations("required-tags", stack)).find((m) => m.startsWith("usage "))).toBe(
      "usage is missing the tag ai-gateway:project. To fix: create it with the gateway's aws.Provider (defaultTags) or set tags",
    );
    const numeric = untaggedProvider().map((r) => (r.name === "usage" ? { ...r, inputs: { ...r.inputs, tags: { "ai-gateway:project": 1, "ai-gateway:stack": "test" } } } : r));
    expect((await violations("required-tags", numeric)).find((m) => m.startsWith("usage "))).toMatch(/^usage is missing the tag ai-gateway:project\./);
  });
});
