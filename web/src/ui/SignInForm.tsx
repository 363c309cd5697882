/**
 * Sign-in: e-mail and password, then whatever the pool asks next (a new password for a user
 * an administrator created, TOTP setup or a TOTP code when MFA is on), federated providers
 * through the hosted UI when the stack has them, and the demo users in local mode.
 */
import { useState } from "preact/hooks";
import { answerChallenge, signInErrorSentence, type SignInStep, signInWithPassword, signInWithProvider } from "../auth.js";
import type { WebConfig } from "../config.js";

const PROVIDER_LABELS: Record<string, string> = { LoginWithAmazon: "Amazon" };

export function SignInForm({ config, onSignedIn }: { config: WebConfig; onSignedIn(): void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [answer, setAnswer] = useState("");
  const [step, setStep] = useState<SignInStep | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const follow = async (next: () => Promise<SignInStep>, phase: "password" | "challenge") => {
    setBusy(true);
    setError(null);
    try {
      const result = await next();
      setAnswer("");
      if (result.kind === "done") return onSignedIn();
      if (result.kind === "unsupported") setError(`This account needs a sign-in step the chat does not offer (${result.step}). Ask your administrator.`);
      setStep(result);
    } catch (err) {
      setError(signInErrorSentence(err, phase));
    } finally {
      setBusy(false);
    }
  };

  const submitPassword = (e: Event) => {
    e.preventDefault();
    void follow(() => signInWithPassword(config, username.trim(), password), "password");
  };
  const submitChallenge = (e: Event) => {
    e.preventDefault();
    void follow(() => answerChallenge(config, username.trim(), answer.trim()), "challenge");
  };

  const challenge = step && step.kind !== "done" && step.kind !== "unsupported" ? step : null;
  return (
    <main class="sign-in">
      <h1>{config.appName}</h1>
      {!challenge ? (
        <form onSubmit={submitPassword} aria-labelledby="sign-in-title">
          <h2 id="sign-in-title">Sign in</h2>
          <label for="username">E-mail address</label>
          <input id="username" type="email" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          <label for="password">Password</label>
          <input id="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button type="submit" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
        </form>
      ) : (
        <form onSubmit={submitChallenge} aria-labelledby="challenge-title">
          {challenge.kind === "newPassword" && (
            <>
              <h2 id="challenge-title">Choose a new password</h2>
              <p>Your account has a temporary password. Choose your own: at least 12 characters with upper and lower case letters, a number and a symbol.</p>
              <label for="challenge">New password</label>
              <input id="challenge" type="password" autocomplete="new-password" required value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />
            </>
          )}
          {challenge.kind === "totpSetup" && (
            <>
              <h2 id="challenge-title">Set up two-factor authentication</h2>
              <p>
                This gateway requires an authenticator app. Add this account to yours with the key below (or{" "}
                <a href={challenge.uri}>open it in your authenticator app</a>), then enter the 6-digit code it shows.
              </p>
              <p class="totp-secret">
                Key: <code aria-label="Authenticator key">{challenge.secret}</code>
              </p>
            </>
          )}
          {challenge.kind === "totpCode" && (
            <>
              <h2 id="challenge-title">Enter your code</h2>
              <p>Enter the 6-digit code from your authenticator app.</p>
            </>
          )}
          {(challenge.kind === "totpSetup" || challenge.kind === "totpCode") && (
            <>
              <label for="challenge">Code</label>
              <input id="challenge" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />
            </>
          )}
          <button type="submit" disabled={busy}>{busy ? "Checking…" : "Continue"}</button>
          <button type="button" class="secondary" onClick={() => (setStep(null), setError(null))}>Start again</button>
        </form>
      )}
      {error && <p class="form-error" role="alert">{error}</p>}
      {!challenge && config.cognito.oauth && config.cognito.oauth.providers.length > 0 && (
        <section aria-label="Other ways to sign in" class="providers">
          {config.cognito.oauth.providers.map((provider) => (
            <button type="button" class="secondary" key={provider} onClick={() => void signInWithProvider(provider).catch((err) => setError(signInErrorSentence(err)))}>
              Sign in with {PROVIDER_LABELS[provider] ?? provider}
            </button>
          ))}
        </section>
      )}
      {!challenge && config.demoUsers && config.demoUsers.length > 0 && (
        <section class="demo-users" aria-labelledby="demo-title">
          <h2 id="demo-title">Local demo users</h2>
          <p>This is a local gateway (<code>npm start</code>). Each demo user has one tier; pick one to fill in the form.</p>
          <ul>
            {config.demoUsers.map((user) => (
              <li key={user.username}>
                <button type="button" class="link" onClick={() => (setUsername(user.username), setPassword(user.password))}>
                  {user.username}
                </button>{" "}
                <span class="tier">tier {user.tier}</span>
              </li>
            ))}
          </ul>
          <p class="hint">Password for all: <code>{config.demoUsers[0]!.password}</code></p>
        </section>
      )}
    </main>
  );
}
