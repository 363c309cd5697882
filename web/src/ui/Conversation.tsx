/** The open conversation: the user's messages and the answers, streaming as they arrive. */
import { useEffect, useRef } from "preact/hooks";
import { errorSentence } from "../chat/errors.js";
import type { ChatMessage, ChatState } from "../chat/state.js";
import { renderMarkdown } from "../markdown.js";
import { MAX_RESENDS } from "../session.js";

function statusLine(message: ChatMessage, now: number, modelNames: ReadonlyMap<string, string>): string | null {
  switch (message.status) {
    case "waiting":
      if (!message.resends) return "Waiting for the answer…";
      return message.resends >= MAX_RESENDS
        ? "Still no answer. The gateway may be busy: wait, or stop and send again later."
        : `No answer yet: sent again (${message.resends}).`;
    case "stopping":
      return "Stopping…";
    case "cancelled":
      return message.stoppedLocally ? "Stopped here. This gateway cannot stop the model, so it may have finished in the background." : "Stopped.";
    case "interrupted":
      return "The connection dropped during this answer: parts of it may be missing.";
    case "failed":
      return message.error ? errorSentence(message.error, now, modelNames) : "This answer failed.";
    default:
      return message.truncated ? "Only the beginning of this answer was kept." : null;
  }
}

function Message({ message, modelNames, now }: { message: ChatMessage; modelNames: ReadonlyMap<string, string>; now: number }) {
  const status = statusLine(message, now, modelNames);
  const modelName = message.modelId ? (modelNames.get(message.modelId) ?? message.modelId) : undefined;
  const isUser = message.role === "user";
  return (
    <article
      class={`message ${message.role} ${message.status}`}
      aria-label={isUser ? "You" : "Answer"}
      aria-busy={message.status === "streaming" || message.status === "waiting"}
      data-status={message.status}
      data-request-id={message.requestId}
    >
      <header class="message-author">
        {isUser ? "You" : (modelName ?? "Assistant")}
        {message.cached && <span class="tag">prepared answer</span>}
      </header>
      {isUser ? (
        <p class="message-text user-text">{message.text}</p>
      ) : (
        message.text && <div class="message-text markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(message.text) }} />
      )}
      {status && (
        <p class={`message-status${message.status === "failed" ? " error" : ""}`} role={message.status === "failed" ? "alert" : undefined}>
          {status}
        </p>
      )}
      {message.usage && message.status !== "waiting" && (
        <p class="message-usage">
          {message.usage.inputTokens.toLocaleString()} tokens in, {message.usage.outputTokens.toLocaleString()} out
        </p>
      )}
    </article>
  );
}

export function Conversation({ state, now, onLoadEarlier }: { state: ChatState; now: number; onLoadEarlier(): void }) {
  const end = useRef<HTMLDivElement>(null);
  const last = state.messages[state.messages.length - 1];
  // Follow the newest message as it grows; earlier turns loaded above it leave the view where it is.
  useEffect(() => end.current?.scrollIntoView({ block: "end" }), [last?.key, last?.text.length]);
  const names = new Map(state.models.map((m) => [m.id, m.name]));
  return (
    <section class="messages" role="log" aria-label="Conversation">
      {state.loadingConversationId && <p class="empty" role="status">Opening the conversation…</p>}
      {state.historyCursor && !state.loadingConversationId && (
        <button type="button" class="secondary load-more" onClick={onLoadEarlier} disabled={state.loadingEarlierHistory}>
          {state.loadingEarlierHistory ? "Loading…" : "Show earlier messages"}
        </button>
      )}
      {!state.loadingConversationId && state.messages.length === 0 && (
        <p class="empty">Ask anything. Answers stream in as the model writes them.</p>
      )}
      {state.messages.map((m) => (
        <Message key={m.key} message={m} modelNames={names} now={now} />
      ))}
      <div ref={end} />
    </section>
  );
}
