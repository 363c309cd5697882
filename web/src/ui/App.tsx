/** Signed out: the sign-in form. Signed in: the chat. */
import { useEffect, useState } from "preact/hooks";
import { currentUser, type SignedIn, signOutEverywhere } from "../auth.js";
import type { WebConfig } from "../config.js";
import { ChatScreen } from "./ChatScreen.js";
import { SignInForm } from "./SignInForm.js";

export function App({ config }: { config: WebConfig }) {
  const [user, setUser] = useState<SignedIn | null | "checking">("checking");

  useEffect(() => {
    void currentUser().then(setUser);
  }, []);

  if (user === "checking") return <p class="boot-wait" role="status">Loading…</p>;
  if (!user) return <SignInForm config={config} onSignedIn={() => void currentUser().then(setUser)} />;
  return (
    <ChatScreen
      config={config}
      user={user}
      onSignOut={async () => {
        await signOutEverywhere().catch(() => undefined);
        setUser(null);
      }}
    />
  );
}
