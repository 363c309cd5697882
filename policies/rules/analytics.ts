/**
 * The analytics pipeline's own rules: Athena query results (which can hold anything a query
 * selects, previews included) are encrypted and clients cannot turn that off, and a delivery
 * stream that converts records to Parquet has the buffer AWS requires for it (caught at
 * preview instead of failing `pulumi up`).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isRecord, withRemedy } from "../support/values";

const ENCRYPTION_OPTIONS = ["SSE_S3", "SSE_KMS", "CSE_KMS"];
/** Firehose's minimum buffer (MiB) with data format conversion. */
export const CONVERSION_MIN_BUFFER_MIB = 64;

export const athenaWorkgroupEncryption: ResourceValidationPolicy = {
  name: "athena-workgroup-encryption",
  description: "Athena workgroups encrypt query results and enforce their settings (result location and encryption) on every query.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: 'Set configuration { enforceWorkgroupConfiguration: true, resultConfiguration: { outputLocation, encryptionConfiguration: { encryptionOption: "SSE_S3" } } }.',
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:athena/workgroup:Workgroup") return;
    const configuration = isRecord(args.props.configuration) ? args.props.configuration : {};
    const results = isRecord(configuration.resultConfiguration) ? configuration.resultConfiguration : {};
    const encryption = isRecord(results.encryptionConfiguration) ? results.encryptionConfiguration : {};
    if (!ENCRYPTION_OPTIONS.includes(encryption.encryptionOption)) {
      reportViolation(withRemedy(`workgroup ${args.name} does not encrypt its query results`, `set resultConfiguration.encryptionConfiguration.encryptionOption to one of ${ENCRYPTION_OPTIONS.join(", ")}`));
    }
    if (configuration.enforceWorkgroupConfiguration !== true) {
      reportViolation(withRemedy(`workgroup ${args.name} lets clients override its result location and encryption`, "set enforceWorkgroupConfiguration: true"));
    }
  },
};

export const firehoseConversionBuffer: ResourceValidationPolicy = {
  name: "firehose-conversion-buffer",
  description: `Delivery streams that convert records to Parquet or ORC buffer at least ${CONVERSION_MIN_BUFFER_MIB} MiB, as Firehose requires.`,
  enforcementLevel: "mandatory",
  severity: "medium",
  remediationSteps: `Set extendedS3Configuration.bufferingSize to ${CONVERSION_MIN_BUFFER_MIB} or more.`,
  validateResource: (args, reportViolation) => {
    if (args.type !== "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream") return;
    const s3 = isRecord(args.props.extendedS3Configuration) ? args.props.extendedS3Configuration : undefined;
    const conversion = s3 && isRecord(s3.dataFormatConversionConfiguration) ? s3.dataFormatConversionConfiguration : undefined;
    if (!conversion || conversion.enabled === false) return;
    // The provider's default buffer is 5 MiB.
    const size = typeof s3!.bufferingSize === "number" ? s3!.bufferingSize : 5;
    if (size < CONVERSION_MIN_BUFFER_MIB) {
      reportViolation(withRemedy(`delivery stream ${args.name} converts records with a ${size} MiB buffer; Firehose requires ${CONVERSION_MIN_BUFFER_MIB}`, `set bufferingSize to ${CONVERSION_MIN_BUFFER_MIB}`));
    }
  },
};

export const analyticsPolicies = [athenaWorkgroupEncryption, firehoseConversionBuffer];
