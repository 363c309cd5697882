/** New chat, the saved conversations (open, delete) and the usage panel; a drawer on phones. */
import type { ChatState } from "../chat/state.js";
import { UsagePanel } from "./UsagePanel.js";

interface SidebarProps {
  state: ChatState;
  now: number;
  onNewChat(): void;
  onOpen(conversationId: string): void;
  onDelete(conversationId: string): void;
  /** Asks for the next page of the list (`nextCursor`). */
  onLoadOlder(): void;
  /** Closes the drawer (phone width). */
  onClose(): void;
}

export function Sidebar({ state, now, onNewChat, onOpen, onDelete, onLoadOlder, onClose }: SidebarProps) {
  return (
    <aside class="sidebar" id="sidebar" aria-label="Conversations and usage">
      <button type="button" class="secondary close-drawer" onClick={onClose}>Close</button>
      <button type="button" class="new-chat" onClick={onNewChat}>+ New chat</button>
      <nav aria-labelledby="conversations-title">
        <h2 id="conversations-title">Conversations</h2>
        {state.history === "unavailable" ? (
          <p class="muted">This gateway does not keep conversations yet.</p>
        ) : state.conversations.length === 0 ? (
          <p class="muted">{state.history === "unknown" ? "Loading…" : "No saved conversations yet."}</p>
        ) : (
          <ul class="conversation-list">
            {state.conversations.map((c) => (
              <li key={c.conversationId} class={c.conversationId === state.conversationId ? "current" : ""}>
                <button
                  type="button"
                  class="conversation-open"
                  aria-current={c.conversationId === state.conversationId ? "page" : undefined}
                  onClick={() => onOpen(c.conversationId)}
                >
                  <span class="title">{c.title || "Untitled"}</span>
                  <time dateTime={c.updatedAt}>{new Date(c.updatedAt).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" })}</time>
                </button>
                <button type="button" class="conversation-delete" aria-label={`Delete "${c.title || "Untitled"}"`} onClick={() => onDelete(c.conversationId)}>
                  <span aria-hidden="true">✕</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {state.conversationsCursor && state.conversations.length > 0 && (
          <button type="button" class="secondary load-more" onClick={onLoadOlder} disabled={state.loadingOlderConversations}>
            {state.loadingOlderConversations ? "Loading…" : "Show older conversations"}
          </button>
        )}
      </nav>
      <UsagePanel quota={state.quota} support={state.usage} now={now} />
    </aside>
  );
}
