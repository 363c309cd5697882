import { describe, expect, it } from "vitest";
import { isOwnChannel, NAMESPACES, OUTBOUND_NAMESPACE, outboundChannel } from "../../functions/lib/protocol/channels.js";

const SUB = "7c1d5e2a-1111-4222-8333-444455556666";

describe("the own-channel contract", () => {
  it("admits exactly /<namespace>/<sub>", () => {
    expect(isOwnChannel([OUTBOUND_NAMESPACE, SUB], OUTBOUND_NAMESPACE, SUB)).toBe(true);
    expect(outboundChannel(SUB)).toBe(`/${OUTBOUND_NAMESPACE}/${SUB}`);
  });

  it("never makes a channel anyone's when the caller has an empty or missing sub", () => {
    expect(isOwnChannel([OUTBOUND_NAMESPACE, ""], OUTBOUND_NAMESPACE, "")).toBe(false);
    expect(isOwnChannel([OUTBOUND_NAMESPACE, ""], OUTBOUND_NAMESPACE, undefined)).toBe(false);
    expect(isOwnChannel([OUTBOUND_NAMESPACE], OUTBOUND_NAMESPACE, undefined)).toBe(false);
    expect(isOwnChannel([OUTBOUND_NAMESPACE, "undefined"], OUTBOUND_NAMESPACE, undefined)).toBe(false);
  });
});

describe("the namespace contract (DESIGN 2)", () => {
  it("lets only IAM read inbound prompts and invokes the worker asynchronously", () => {
    expect(NAMESPACES.inbound).toEqual({
      name: "Inbound-Messages",
      publishAuthModes: ["AMAZON_COGNITO_USER_POOLS"],
      subscribeAuthModes: ["AWS_IAM"],
      handler: { event: "onPublish", invokeType: "EVENT" },
    });
  });

  it("lets only IAM publish answers and authorizes subscriptions synchronously", () => {
    expect(NAMESPACES.outbound).toEqual({
      name: "Outbound-Messages",
      publishAuthModes: ["AWS_IAM"],
      subscribeAuthModes: ["AMAZON_COGNITO_USER_POOLS"],
      handler: { event: "onSubscribe", invokeType: "REQUEST_RESPONSE" },
    });
  });
});
