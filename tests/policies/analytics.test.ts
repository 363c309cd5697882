import { describe, expect, it } from "vitest";
import { compliantStack, violations, withInputs } from "./fixtures.js";

describe("athena-workgroup-encryption", () => {
  it("passes a workgroup that encrypts results and enforces its settings", async () => {
    expect(await violations("athena-workgroup-encryption", compliantStack())).toEqual([]);
  });

  it("reports unencrypted results and a configuration clients may override", async () => {
    const open = withInputs("queries", { configuration: { enforceWorkgroupConfiguration: false, resultConfiguration: { outputLocation: "s3://b/r/" } } });
    expect(await violations("athena-workgroup-encryption", open)).toEqual([
      expect.stringContaining("workgroup queries does not encrypt its query results"),
      expect.stringContaining("workgroup queries lets clients override its result location and encryption"),
    ]);
  });

  it("reports a workgroup with no configuration at all", async () => {
    expect(await violations("athena-workgroup-encryption", withInputs("queries", { configuration: undefined }))).toHaveLength(2);
  });
});

describe("firehose-conversion-buffer", () => {
  it("passes a converting stream with a 64 MiB buffer", async () => {
    expect(await violations("firehose-conversion-buffer", compliantStack())).toEqual([]);
  });

  it("reports a converting stream with a smaller buffer, or the provider's 5 MiB default", async () => {
    const small = withInputs("turns", { extendedS3Configuration: { bufferingSize: 32, dataFormatConversionConfiguration: { enabled: true } } });
    expect(await violations("firehose-conversion-buffer", small)).toEqual([expect.stringContaining("converts records with a 32 MiB buffer; Firehose requires 64")]);
    const unset = withInputs("turns", { extendedS3Configuration: { dataFormatConversionConfiguration: {} } });
    expect(await violations("firehose-conversion-buffer", unset)).toEqual([expect.stringContaining("with a 5 MiB buffer")]);
  });

  it("leaves streams that deliver records as they come alone", async () => {
    const plain = withInputs("turns", { extendedS3Configuration: { bufferingSize: 5 } });
    expect(await violations("firehose-conversion-buffer", plain)).toEqual([]);
  });
});
