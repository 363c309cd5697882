/** The message box: Enter sends, Shift+Enter is a new line; Stop while an answer runs. */
import { useState } from "preact/hooks";

interface ComposerProps {
  connected: boolean;
  answering: boolean;
  stopping: boolean;
  onSend(text: string): void;
  onStop(): void;
}

export function Composer({ connected, answering, stopping, onSend, onStop }: ComposerProps) {
  const [text, setText] = useState("");
  const canSend = connected && !answering && text.trim() !== "";
  const send = () => {
    if (!canSend) return;
    onSend(text.trim());
    setText("");
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="message" class="visually-hidden">Message</label>
      <textarea
        id="message"
        rows={2}
        placeholder={connected ? "Write a message…" : "Waiting for the connection…"}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      {answering ? (
        <button type="button" class="stop" onClick={onStop} disabled={stopping}>
          {stopping ? "Stopping…" : "Stop"}
        </button>
      ) : (
        <button type="submit" disabled={!canSend}>Send</button>
      )}
    </form>
  );
}
