/**
 * A running Events server wired like the gateway (namespaces from the channel contract), with
 * a stand-in user pool, fixed IAM credentials, recording handlers whose behaviour a test can
 * swap, and HTTP helpers that sign like the AWS SDK. Tests start one and close it.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createCognitoVerifier } from "../cognito-auth.js";
import type { HandlerFailure } from "../broker.js";
import { gatewayNamespaces, type HandlerEvent, type PublishHandler, type SubscribeHandler } from "../namespaces.js";
import { type EventsServer, type EventsServerOptions, startEventsServer } from "../server.js";
import type { IamCredentials } from "../sigv4-auth.js";
import { startTokenIssuer, type TokenIssuer } from "./token-issuer.js";

export const REGION = "us-east-1";
export const IAM: IamCredentials = { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret" };

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface EventsFixture {
  server: EventsServer;
  issuer: TokenIssuer;
  /** Every handler invocation, in order. */
  invocations: { handler: "onPublish" | "onSubscribe"; event: HandlerEvent }[];
  handlerFailures: HandlerFailure[];
  /** Replaceable behaviour of the recording handlers. */
  behaviour: { onPublish: PublishHandler; onSubscribe: SubscribeHandler };
  /** POSTs raw JSON text to `/event` (or `path`) with the given headers. */
  post(body: string, headers: Record<string, string>, options?: { method?: string; path?: string }): Promise<HttpReply>;
  /** POSTs a publish signed with SigV4 like the AWS SDK (IAM credentials by default), to the main listener or `endpoint`. */
  postSigned(body: string, credentials?: IamCredentials, endpoint?: string): Promise<HttpReply>;
  close(): Promise<void>;
}

export function sendHttp(
  url: URL,
  body: string | undefined,
  headers: Record<string, string>,
  options: { method?: string; ca?: string } = {},
): Promise<HttpReply> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "POST", headers, ca: options.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

export async function signRequest(url: URL, body: string, credentials: IamCredentials): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: "appsync", region: REGION, credentials, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/json" },
      body,
    }),
  );
  return Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k, String(v)]));
}

export async function startEventsFixture(
  overrides: Partial<
    Pick<EventsServerOptions, "tls" | "keepAliveIntervalMs" | "advertisedHost" | "allowedOrigins" | "limits" | "plainListeners">
  > = {},
  ca?: string,
): Promise<EventsFixture> {
  const issuer = await startTokenIssuer();
  const invocations: EventsFixture["invocations"] = [];
  const handlerFailures: HandlerFailure[] = [];
  const behaviour: EventsFixture["behaviour"] = { onPublish: () => undefined, onSubscribe: () => null };
  const server = await startEventsServer({
    region: REGION,
    namespaces: gatewayNamespaces({
      onPublish: (event) => {
        invocations.push({ handler: "onPublish", event });
        return behaviour.onPublish(event);
      },
      onSubscribe: (event) => {
        invocations.push({ handler: "onSubscribe", event });
        return behaviour.onSubscribe(event);
      },
    }),
    auth: {
      verifyCognitoToken: createCognitoVerifier({ issuer: issuer.issuer, clientId: issuer.clientId }),
      iamCredentials: IAM,
    },
    onHandlerError: (failure) => handlerFailures.push(failure),
    ...overrides,
  });
  const endpoint = new URL(server.httpEndpoint);
  return {
    server,
    issuer,
    invocations,
    handlerFailures,
    behaviour,
    post: (body, headers, options = {}) =>
      sendHttp(new URL(options.path ?? endpoint.pathname, endpoint), body, headers, { method: options.method, ca }),
    postSigned: async (body, credentials = IAM, target = server.httpEndpoint) => {
      const url = new URL(target);
      return sendHttp(url, body, await signRequest(url, body, credentials), { ca });
    },
    close: async () => {
      await server.close();
      await issuer.close();
    },
  };
}
