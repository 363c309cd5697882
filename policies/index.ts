// The Pulumi CLI loads the pack as CommonJS through ts-node: hence extensionless imports here.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { policies, enforcementLevel: "mandatory", description: "Organisation rules for the AI gateway's stacks." });
