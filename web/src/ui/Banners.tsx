/** The connection state (always visible while not connected) and notices for actions other than chat. */
import { errorSentence } from "../chat/errors.js";
import type { ConnectionStatus, Notice } from "../chat/state.js";

const STATUS_TEXT: Record<Exclude<ConnectionStatus, "connected">, string> = {
  connecting: "Connecting to the gateway…",
  reconnecting: "Connection lost. Reconnecting…",
  failed: "Cannot connect to the gateway. Sign out and in again, or reload the page.",
};

export function ConnectionBanner({ status }: { status: ConnectionStatus }) {
  return (
    <div class={`connection-banner ${status}`} role="status" aria-live="polite">
      {status === "connected" ? <span class="visually-hidden">Connected</span> : STATUS_TEXT[status]}
    </div>
  );
}

export function NoticeBar({ notice, now, onDismiss }: { notice: Notice; now: number; onDismiss(): void }) {
  return (
    <div class="notice" role="alert">
      <p>
        <strong>{notice.context} failed.</strong> {errorSentence(notice.error, now)}
      </p>
      <button type="button" class="secondary" onClick={onDismiss}>Dismiss</button>
    </div>
  );
}
