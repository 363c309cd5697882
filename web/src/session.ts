/**
 * One signed-in user's link to the gateway: the Events connection, the user's two channels,
 * and the requests of protocol v1. Everything it sends and receives goes through the reducer
 * (chat/reducer.ts); the only state it keeps itself is timers: a chat whose answer has not
 * started in time is sent again with the same `requestId`, which the gateway answers once.
 */
import type { InboundRequest } from "../../functions/lib/protocol/inbound.js";
import type { OutboundEvent } from "../../functions/lib/protocol/outbound.js";
import type { ChatAction, ChatState } from "./chat/state.js";
import type { WebConfig } from "./config.js";
import { EventsClient } from "./events/client.js";

/** Wait this long for the first event of an answer before sending the request again. */
export const RESEND_AFTER_MS = 10_000;
/** Give up resending after this many tries; the answer stays "waiting" with a note. */
export const MAX_RESENDS = 3;

export interface SessionOptions {
  config: WebConfig;
  sub: string;
  getToken(): Promise<string>;
  dispatch(action: ChatAction): void;
  /** The reducer's latest state. */
  state(): ChatState;
}

type Outgoing = Omit<InboundRequest, "requestId" | "action"> & { action: InboundRequest["action"] };

export class GatewaySession {
  private readonly client: EventsClient;
  private readonly inbound: string;
  private readonly resendTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly unanswered = new Map<string, InboundRequest>();

  constructor(private readonly options: SessionOptions) {
    this.inbound = `/Inbound-Messages/${options.sub}`;
    let wasConnected = false;
    this.client = new EventsClient({
      realtimeEndpoint: options.config.events.realtimeEndpoint,
      httpEndpoint: options.config.events.httpEndpoint,
      getToken: options.getToken,
      onStatus: (status) => {
        options.dispatch({ type: "connection", status });
        if (status !== "connected") return;
        this.refreshAll();
        if (wasConnected) this.resendUnanswered();
        wasConnected = true;
      },
    });
    this.client.subscribe(`/Outbound-Messages/${options.sub}`, (event) => this.receive(event as OutboundEvent));
  }

  start(): void {
    this.client.start();
  }

  close(): void {
    for (const timer of this.resendTimers.values()) clearTimeout(timer);
    this.client.close();
  }

  chat(message: string): string {
    const state = this.options.state();
    return this.send({ action: "chat", conversationId: state.conversationId, message, ...(state.selectedModelId ? { modelId: state.selectedModelId } : {}) });
  }

  /** Stops an answer; a stopped chat is not sent again (the gateway cancels it if it ever starts). */
  cancel(targetRequestId: string): void {
    this.forget(targetRequestId);
    this.send({ action: "cancel", targetRequestId });
  }

  openConversation(conversationId: string): void {
    this.send({ action: "history", conversationId });
  }

  /** The open conversation's page of turns before the ones shown (`history` with its `nextCursor`). */
  loadEarlierMessages(): void {
    const { conversationId, historyCursor, loadingEarlierHistory } = this.options.state();
    if (historyCursor && !loadingEarlierHistory) this.send({ action: "history", conversationId, cursor: historyCursor });
  }

  /** The next page of the conversations list (`conversations` with its `nextCursor`). */
  loadOlderConversations(): void {
    const { conversationsCursor, loadingOlderConversations } = this.options.state();
    if (conversationsCursor && !loadingOlderConversations) this.send({ action: "conversations", cursor: conversationsCursor });
  }

  deleteConversation(conversationId: string): void {
    this.send({ action: "deleteConversation", conversationId });
  }

  refreshUsage(): void {
    if (this.options.state().usage !== "unavailable") this.send({ action: "usage" });
  }

  refreshConversations(): void {
    if (this.options.state().history !== "unavailable") this.send({ action: "conversations" });
  }

  private refreshAll(): void {
    this.send({ action: "models" });
    this.refreshUsage();
    this.refreshConversations();
  }

  private send(outgoing: Outgoing): string {
    const request = { ...outgoing, requestId: crypto.randomUUID() } as InboundRequest;
    this.options.dispatch({ type: "sent", request, at: Date.now() });
    if (request.action === "chat") {
      this.unanswered.set(request.requestId, request);
      this.scheduleResend(request, 0);
    }
    this.publish(request);
    return request.requestId;
  }

  /** A failed publish is not retried here: a chat's resend timer covers it, the rest refresh on reconnect. */
  private publish(request: InboundRequest): void {
    this.client.publish(this.inbound, [request]).catch(() => undefined);
  }

  private scheduleResend(request: InboundRequest, resends: number): void {
    if (resends >= MAX_RESENDS) return;
    clearTimeout(this.resendTimers.get(request.requestId));
    this.resendTimers.set(
      request.requestId,
      setTimeout(() => {
        if (!this.unanswered.has(request.requestId)) return;
        this.options.dispatch({ type: "resent", requestId: request.requestId });
        this.publish(request);
        this.scheduleResend(request, resends + 1);
      }, RESEND_AFTER_MS),
    );
  }

  /** After a reconnect: events published while the socket was down are gone; ask again. */
  private resendUnanswered(): void {
    for (const request of this.unanswered.values()) this.publish(request);
  }

  private receive(event: OutboundEvent): void {
    if (typeof event?.requestId !== "string" || typeof event.seq !== "number") return;
    this.options.dispatch({ type: "received", event, at: Date.now() });
    this.forget(event.requestId);
    if (event.type === "done" || (event.type === "error" && this.isChat(event.requestId))) {
      // The turn may have created or renamed a conversation; the quota moved.
      this.refreshConversations();
      if (event.type === "error" || !event.quota) this.refreshUsage();
    }
  }

  /** The request was answered (or stopped): no more resends. */
  private forget(requestId: string): void {
    if (!this.unanswered.delete(requestId)) return;
    clearTimeout(this.resendTimers.get(requestId));
    this.resendTimers.delete(requestId);
  }

  private isChat(requestId: string): boolean {
    return this.options.state().requests[requestId]?.action === "chat";
  }
}
