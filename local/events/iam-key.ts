/**
 * The IAM key the local Events server accepts, made fresh at every start and kept in the
 * process (the worker reads it from its environment there). Whoever holds it can subscribe to
 * every inbound channel and publish answers as the gateway, so it is never written to disk,
 * printed, or shared with the stand-ins that accept any key (DynamoDB Local, cognito-local,
 * the model server).
 */
import { randomBytes } from "node:crypto";
import type { IamCredentials } from "./sigv4-auth.js";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** An access key id shaped like AWS's (`ASIA` + 16 base32 characters) and a 40-character secret. */
export function generateIamCredentials(): IamCredentials {
  const id = [...randomBytes(16)].map((byte) => BASE32[byte % 32]).join("");
  return {
    accessKeyId: `ASIA${id}`,
    secretAccessKey: randomBytes(30).toString("base64"),
  };
}
