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

describe("analytics policies, case by case", () => {
  const encrypted = (encryptionOption: unknown) => withInputs("queries", { configuration: { enforceWorkgroupConfiguration: true, resultConfiguration: { encryptionConfiguration: { encryptionOption } } } });

  it("accepts each Athena encryption option, and names them all when results are not encrypted", async () => {
    for (const option of ["SSE_S3", "SSE_KMS", "CSE_KMS"]) expect(await violations("athena-workgroup-encryption", encrypted(option))).toEqual([]);
    expect(await violations("athena-workgroup-encryption", encrypted("NONE"))).toEqual([
      "workgroup queries does not encrypt its query results. To fix: set resultConfiguration.encryptionConfiguration.encryptionOption to one of SSE_S3, SSE_KMS, CSE_KMS",
    ]);
  });

  it("checks only delivery streams for the conversion buffer", async () => {
    const small = { extendedS3Configuration: { bufferingSize: 1, dataFormatConversionConfiguration: { enabled: true } } };
    expect(await violations("firehose-conversion-buffer", withInputs("queries", small))).toEqual([]);
  });

  it("leaves a stream whose conversion is switched off or not declared alone, whatever its buffer", async () => {
    const off = withInputs("turns", { extendedS3Configuration: { bufferingSize: 1, dataFormatConversionConfiguration: { enabled: false } } });
    expect(await violations("firehose-conversion-buffer", off)).toEqual([]);
    const none = withInputs("turns", { extendedS3Configuration: { bufferingSize: 1, dataFormatConversionConfiguration: "enabled" } });
    expect(await violations("firehose-conversion-buffer", none)).toEqual([]);
    expect(await violations("firehose-conversion-buffer", withInputs("turns", { extendedS3Configuration: undefined }))).toEqual([]);
  });

  it("names the buffer size to set", async () => {
    const small = withInputs("turns", { extendedS3Configuration: { bufferingSize: 32, dataFormatConversionConfiguration: { enabled: true } } });
    expect(await violations("firehose-conversion-buffer", small)).toEqual(["delivery stream turns converts records with a 32 MiB buffer; Firehose requires 64. To fix: set bufferingSize to 64"]);
  });
});
