/**
 * The signed-in screen: header (model, account), sidebar (new chat, conversations, usage),
 * the conversation and the composer. State lives in the chat reducer; the session talks to
 * the gateway and feeds it.
 */
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { accessToken, type SignedIn } from "../auth.js";
import { chatReducer } from "../chat/reducer.js";
import { activeAnswer, initialChatState } from "../chat/state.js";
import type { WebConfig } from "../config.js";
import { GatewaySession } from "../session.js";
import { Composer } from "./Composer.js";
import { ConnectionBanner, NoticeBar } from "./Banners.js";
import { Conversation } from "./Conversation.js";
import { Sidebar } from "./Sidebar.js";
import { useNow } from "./useNow.js";

const MODEL_KEY = "ai-gateway:model";

export function ChatScreen({ config, user, onSignOut }: { config: WebConfig; user: SignedIn; onSignOut(): void }) {
  const [state, dispatch] = useReducer(chatReducer, undefined, () => initialChatState(crypto.randomUUID(), localStorage.getItem(MODEL_KEY) ?? undefined));
  const stateRef = useRef(state);
  stateRef.current = state;
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const now = useNow(15_000);

  const session = useMemo(
    () => new GatewaySession({ config, sub: user.sub, getToken: accessToken, dispatch, state: () => stateRef.current }),
    [config, user.sub],
  );
  useEffect(() => {
    session.start();
    return () => session.close();
  }, [session]);
  // The drawer (phone width) closes with Escape wherever the focus is, and takes the focus when it opens.
  useEffect(() => {
    if (!sidebarOpen) return;
    document.querySelector<HTMLElement>("#sidebar .close-drawer")?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setSidebarOpen(false);
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [sidebarOpen]);
  useEffect(() => {
    if (state.selectedModelId) localStorage.setItem(MODEL_KEY, state.selectedModelId);
  }, [state.selectedModelId]);

  const active = activeAnswer(state);
  const startNewChat = () => {
    dispatch({ type: "newChat", conversationId: crypto.randomUUID() });
    setSidebarOpen(false);
  };

  return (
    <div class={`chat-layout${sidebarOpen ? " sidebar-open" : ""}`}>
      <header class="top-bar">
        <button type="button" class="menu-button" aria-expanded={sidebarOpen} aria-controls="sidebar" onClick={() => setSidebarOpen(!sidebarOpen)}>
          <span aria-hidden="true">☰</span> <span class="visually-hidden">Conversations and usage</span>
        </button>
        <h1>{config.appName}</h1>
        <label class="model-picker">
          <span>Model</span>
          <select
            value={state.selectedModelId ?? ""}
            disabled={state.models.length === 0}
            onChange={(e) => dispatch({ type: "selectModel", modelId: e.currentTarget.value })}
          >
            {state.models.length === 0 && <option value="">Loading…</option>}
            {state.models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
                {m.id === state.defaultModelId ? " (default)" : ""}
              </option>
            ))}
          </select>
        </label>
        <span class="account" title={user.username}>{user.username}</span>
        <button type="button" class="secondary" onClick={onSignOut}>Sign out</button>
      </header>
      <ConnectionBanner status={state.connection} />
      <Sidebar
        state={state}
        now={now}
        onNewChat={startNewChat}
        onClose={() => setSidebarOpen(false)}
        onOpen={(id) => {
          session.openConversation(id);
          setSidebarOpen(false);
        }}
        onDelete={(id) => {
          const title = state.conversations.find((c) => c.conversationId === id)?.title || "this conversation";
          if (!window.confirm(`Delete "${title}"? This cannot be undone.`)) return;
          if (id === state.conversationId) startNewChat();
          session.deleteConversation(id);
        }}
        onLoadOlder={() => session.loadOlderConversations()}
      />
      <main class="conversation-pane" id="main">
        {state.notice && <NoticeBar notice={state.notice} now={now} onDismiss={() => dispatch({ type: "dismissNotice" })} />}
        <Conversation state={state} now={now} onLoadEarlier={() => session.loadEarlierMessages()} />
        <Composer
          connected={state.connection === "connected"}
          answering={active !== undefined}
          stopping={active?.status === "stopping"}
          onSend={(text) => session.chat(text)}
          onStop={() => active?.requestId && session.cancel(active.requestId)}
        />
      </main>
    </div>
  );
}
