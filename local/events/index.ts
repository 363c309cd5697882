/** The local AppSync-Events-compatible server and its parts, for `npm start` and tests. */
export {
  startEventsServer,
  type EventsServer,
  type EventsServerOptions,
  type ListenerEndpoints,
  type PlainListenerOptions,
} from "./server.js";
export type { EventsSurface } from "./listener-policy.js";
export { DEFAULT_LIMITS, type EventsLimits } from "./limits.js";
export { generateIamCredentials } from "./iam-key.js";
export {
  gatewayNamespaces,
  type EventsNamespace,
  type GatewayHandlers,
  type HandlerEvent,
  type InvokeType,
  type PublishHandler,
  type SubscribeHandler,
} from "./namespaces.js";
export { createCognitoVerifier, type CognitoVerifierOptions, type VerifyCognitoToken } from "./cognito-auth.js";
export { verifySigV4, type IamCredentials } from "./sigv4-auth.js";
export type { EventsAuthOptions } from "./auth.js";
export type { PublishedRecord, HandlerFailure } from "./broker.js";
export type { CognitoIdentity, IamIdentity } from "./identity.js";
export { ensureLocalCertificate, type LocalCertificate } from "./certificate.js";
export { parseChannel, channelMatches, type ChannelPath } from "./channels.js";
export { MAX_EVENTS_PER_PUBLISH, MAX_EVENT_BYTES } from "./publish-validation.js";
export { EVENT_WS_PROTOCOL, REALTIME_PATH } from "./realtime.js";
export { EVENT_PATH } from "./http-publish.js";
