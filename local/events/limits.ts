/**
 * What one client can make the Events server hold. AppSync publishes some of these as
 * quotas (events per publish, event size: publish-validation.ts); the others are local
 * bounds, generous for a developer machine and small enough that a misbehaving or hostile
 * client on the same machine cannot grow the gateway's memory without end.
 */
export interface EventsLimits {
  /** Open WebSocket connections, handshakes in progress included. @default 200 */
  maxConnections: number;
  /** Subscriptions per connection. @default 200, as AppSync Events */
  maxSubscriptionsPerConnection: number;
  /** Messages of one connection received but not yet handled (handled in order). @default 50 */
  maxQueuedMessagesPerConnection: number;
  /**
   * Bytes queued for a client that does not read its socket; past this the connection is
   * closed (1008) rather than buffered further. @default 8 MiB
   */
  maxBufferedBytesPerConnection: number;
  /** Largest WebSocket message and `POST /event` body. @default 2 MiB (five 240 KB events, escaped) */
  maxMessageBytes: number;
  /** Requests whose body is being read or whose credentials are being checked, at once. @default 100 */
  maxPendingRequests: number;
  /** Time allowed to send a request's headers and body. @default 30 s */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: EventsLimits = {
  maxConnections: 200,
  maxSubscriptionsPerConnection: 200,
  maxQueuedMessagesPerConnection: 50,
  maxBufferedBytesPerConnection: 8 * 1024 * 1024,
  maxMessageBytes: 2 * 1024 * 1024,
  maxPendingRequests: 100,
  requestTimeoutMs: 30_000,
};
