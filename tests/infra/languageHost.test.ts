/**
 * The program run exactly as the Pulumi CLI's Node language host runs it (node --import tsx
 * <@pulumi/pulumi>/cmd/run ... with PULUMI_CONFIG), against a fake engine and resource monitor
 * over gRPC: preview and up, both stacks, and a bad config. The setMocks tests
 * (devStack, prodStack) check what each resource holds; this one checks that the program
 * starts, registers, exports and exits the way a real `pulumi preview`/`up` needs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { BUNDLED_CONFIG_FILE } from "../../functions/lib/config/load.js";
import { INBOUND_NAMESPACE, OUTBOUND_NAMESPACE } from "../../functions/lib/protocol/channels.js";
import { TABLES } from "../../functions/lib/tables.js";
import { configForFunctions } from "../../components/lib/bundle.js";
import { readStackConfig } from "../../local/config.js";
import { ROOT_STACK_TYPE, UNKNOWN, type RegisteredResource } from "./support/fakeEngine.js";
import { runUnderLanguageHost, type LanguageHostRun } from "./support/languageHost.js";

const T = {
  api: "aws:appsync/api:Api",
  namespace: "aws:appsync/channelNamespace:ChannelNamespace",
  fn: "aws:lambda/function:Function",
  table: "aws:dynamodb/table:Table",
  userPool: "aws:cognito/userPool:UserPool",
  group: "aws:cognito/userGroup:UserGroup",
  webAcl: "aws:wafv2/webAcl:WebAcl",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  provider: "pulumi:providers:aws",
} as const;

const ofType = (run: LanguageHostRun, type: string) => run.engine.resources.filter((r) => r.type === type);
const errorLogs = (run: LanguageHostRun) => run.engine.logs.filter((l) => l.severity === "error");
const stackUrn = (stack: string) => `urn:pulumi:${stack}::ai-gateway::${ROOT_STACK_TYPE}::ai-gateway-${stack}`;

function archiveText(fn: RegisteredResource, file: string): string | undefined {
  return fn.inputs.code?.assets?.[file]?.text;
}

describe.each(["dev", "prod"] as const)("the %s stack under the Node language host", (stack) => {
  let preview: LanguageHostRun;
  let up: LanguageHostRun;
  const { config } = readStackConfig({ stack });

  beforeAll(async () => {
    [preview, up] = await Promise.all([runUnderLanguageHost({ stack, dryRun: true }), runUnderLanguageHost({ stack, dryRun: false })]);
  }, 240_000);

  it("exits 0 from preview and up with no error logged", () => {
    for (const run of [preview, up]) {
      expect(errorLogs(run), run.stderr).toEqual([]);
      expect(run.code, run.stderr).toBe(0);
    }
  });

  it(
    stack === "prod" ? "warns on preview and up that the placeholder alarm address reaches nobody, naming the key" : "logs no warning",
    () => {
      for (const run of [preview, up]) {
        const warnings = run.engine.logs.filter((l) => l.severity === "warning").map((l) => l.message);
        expect(warnings).toEqual(
          stack === "prod" ? [expect.stringMatching(/^ai-gateway:observability\.alarmEmail: "ops@example\.com" is a placeholder .*alarms would reach nobody/)] : [],
        );
      }
    },
  );

  it("registers the stack as the root resource and exports the client endpoints on up", () => {
    expect(up.engine.rootResource()).toBe(stackUrn(stack));
    const outputs = up.engine.registeredOutputs.get(stackUrn(stack));
    const api = ofType(up, T.api)[0]!;
    expect(outputs).toMatchObject({
      region: "us-east-1",
      eventsHttpEndpoint: `https://${api.outputs.dns.HTTP}/event`,
      eventsRealtimeEndpoint: `wss://${api.outputs.dns.REALTIME}/event/realtime`,
      userPoolId: ofType(up, T.userPool)[0]!.id,
      userPoolClientId: expect.stringMatching(/^client/),
      inboundNamespace: "Inbound-Messages",
      outboundNamespace: "Outbound-Messages",
    });
    // And what operators and tools read: the dashboard, the alarm topic, the tables the gateway CLI uses.
    for (const key of ["dashboardUrl", "alarmTopicArn", "usageTableName", "cacheTableName"]) expect(outputs, key).toHaveProperty(key);
  });

  it("previews with what AWS computes unknown, as a first preview does", () => {
    const outputs = preview.engine.registeredOutputs.get(stackUrn(stack));
    expect(outputs).toMatchObject({ region: "us-east-1", inboundNamespace: "Inbound-Messages", eventsHttpEndpoint: UNKNOWN, userPoolId: UNKNOWN });
  });

  it("registers the same resources in preview as in up", () => {
    const names = (run: LanguageHostRun) => run.engine.resources.map((r) => `${r.type}::${r.name}`).sort();
    expect(names(preview)).toEqual(names(up));
  });

  it("registers the key resources: the Events API, both namespaces, the functions with their code, the tables", () => {
    for (const run of [preview, up]) {
      expect(ofType(run, T.api)).toHaveLength(1);
      expect(ofType(run, T.namespace).map((n) => n.inputs.name).sort()).toEqual([INBOUND_NAMESPACE, OUTBOUND_NAMESPACE].sort());
      expect(ofType(run, T.table)).toHaveLength(TABLES.length);
      expect(ofType(run, T.userPool)).toHaveLength(1);
      expect(ofType(run, T.group).map((g) => g.inputs.name).sort()).toEqual(Object.keys(config.tiers).sort());
      const functions = ofType(run, T.fn);
      expect(functions).toHaveLength(3);
      for (const fn of functions) {
        expect(archiveText(fn, "index.mjs"), fn.name).toMatch(/^import \{ createRequire/);
        expect(JSON.parse(archiveText(fn, BUNDLED_CONFIG_FILE) ?? "null"), fn.name).toEqual(configForFunctions(config));
      }
    }
  });

  it(stack === "prod" ? "creates the WAF web ACL prod asks for, and the alarms" : "creates no WAF web ACL, and the alarms", () => {
    expect(ofType(up, T.webAcl)).toHaveLength(config.waf.enabled ? 1 : 0);
    // Alarms exist in every stack; only their e-mail subscription depends on alarmEmail.
    expect(ofType(up, T.alarm).length).toBeGreaterThan(0);
    expect(config.waf.enabled).toBe(stack === "prod");
  });

  it("places every AWS resource under the stack's one AWS provider", () => {
    const [provider] = ofType(up, T.provider);
    expect(ofType(up, T.provider)).toHaveLength(1);
    const awsResources = up.engine.resources.filter((r) => r.type.startsWith("aws:"));
    for (const r of awsResources) expect(r.provider, r.name).toBe(`${provider!.urn}::${provider!.id}`);
  });

  it("asks the engine for the caller's account and partition", () => {
    for (const run of [preview, up]) {
      expect(new Set(run.engine.invokes)).toEqual(new Set(["aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition"]));
    }
  });
});

describe("a bad stack config under the Node language host", () => {
  it("fails the preview with every bad key path in the engine's error log and no stack trace", async () => {
    const run = await runUnderLanguageHost({ stack: "dev", dryRun: true, configOverrides: { colour: "blue", maxInputChars: 0 } });
    expect(run.code).not.toBe(0);
    const [error, ...others] = errorLogs(run);
    expect(others).toEqual([]);
    expect(error!.message).toContain("ai-gateway:colour: unknown key");
    expect(error!.message).toContain("ai-gateway:maxInputChars:");
    expect(error!.message).not.toMatch(/\n\s+at /);
    // Nothing but the stack itself registered: the config is checked before any resource.
    expect(run.engine.resources.map((r) => r.type)).toEqual([ROOT_STACK_TYPE]);
  });

  it("fails the up on a bad aws: setting, naming the key", async () => {
    const run = await runUnderLanguageHost({ stack: "prod", dryRun: false, configOverrides: { "aws:region": null } });
    expect(run.code).not.toBe(0);
    expect(errorLogs(run).map((l) => l.message)).toEqual([expect.stringContaining("aws:region: required")]);
  });
});
