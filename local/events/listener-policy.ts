/**
 * What one listening socket of the Events server serves. The server can listen on several
 * ports; each serves one surface:
 *
 * - `client`: the AppSync Events API as clients see it (`POST /event`, the WebSocket
 *   `/event/realtime`), any auth mode the namespaces allow, browsers from allowed origins only.
 * - `publisher`: only SigV4-signed `POST /event`, for the chat worker's publishes (which the
 *   namespaces then limit to the Outbound namespace); no WebSocket, no browser, no other path.
 */
import type { AuthMode } from "../../functions/lib/protocol/channels.js";
import type { EventsLimits } from "./limits.js";
import type { OriginPolicy } from "./origins.js";

export type EventsSurface = "client" | "publisher";

export interface ListenerPolicy {
  surface: EventsSurface;
  origins: OriginPolicy;
  limits: EventsLimits;
  /** Shared by every listener of one server. */
  pending: Slots;
  /** Auth modes this listener accepts. @default any */
  authModes?: readonly AuthMode[];
}

/** A counter with a ceiling: requests in progress, connections open. */
export class Slots {
  private used = 0;

  constructor(private readonly max: number) {}

  get count(): number {
    return this.used;
  }

  tryAcquire(): boolean {
    if (this.used >= this.max) return false;
    this.used++;
    return true;
  }

  release(): void {
    if (this.used > 0) this.used--;
  }
}

export const SURFACE_AUTH_MODES: Record<EventsSurface, readonly AuthMode[] | undefined> = {
  client: undefined,
  publisher: ["AWS_IAM"],
};
