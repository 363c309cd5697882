/**
 * Sign-in through Amplify Auth (Cognito): password sign-in with the challenges a production
 * pool raises (new password for admin-created users, TOTP setup and code when MFA is
 * required), federated providers through the hosted UI, and the current token for the
 * Events connection (Amplify refreshes it).
 */
import { Amplify } from "aws-amplify";
import {
  confirmSignIn,
  fetchAuthSession,
  getCurrentUser,
  signIn,
  type SignInOutput,
  signInWithRedirect,
  signOut,
} from "aws-amplify/auth";
import "aws-amplify/auth/enable-oauth-listener";
import type { WebConfig } from "./config.js";

export function configureAuth(config: WebConfig): void {
  const { cognito } = config;
  Amplify.configure({
    Auth: {
      Cognito: {
        userPoolId: cognito.userPoolId,
        userPoolClientId: cognito.userPoolClientId,
        ...(cognito.endpoint ? { userPoolEndpoint: cognito.endpoint } : {}),
        ...(cognito.oauth
          ? {
              loginWith: {
                oauth: {
                  domain: cognito.oauth.domain,
                  scopes: cognito.oauth.scopes,
                  redirectSignIn: cognito.oauth.redirectSignIn,
                  redirectSignOut: cognito.oauth.redirectSignOut,
                  responseType: "code" as const,
                },
              },
            }
          : {}),
      },
    },
  });
}

export interface SignedIn {
  sub: string;
  username: string;
}

/** The signed-in user, or null. */
export async function currentUser(): Promise<SignedIn | null> {
  try {
    const user = await getCurrentUser();
    const session = await fetchAuthSession();
    const sub = session.tokens?.accessToken.payload.sub;
    return sub ? { sub, username: user.signInDetails?.loginId ?? user.username } : null;
  } catch {
    return null;
  }
}

/** The access token, refreshed when needed (what Amplify's own clients send to AppSync). */
export async function accessToken(): Promise<string> {
  const session = await fetchAuthSession();
  const token = session.tokens?.accessToken.toString();
  if (!token) throw new Error("signed out");
  return token;
}

/** What the sign-in form shows next. */
export type SignInStep =
  | { kind: "done" }
  | { kind: "newPassword" }
  | { kind: "totpCode" }
  | { kind: "totpSetup"; secret: string; uri: string }
  | { kind: "unsupported"; step: string };

function stepOf(output: SignInOutput, appName: string, username: string): SignInStep | Promise<SignInStep> {
  const next = output.nextStep;
  switch (next.signInStep) {
    case "DONE":
      return { kind: "done" };
    case "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED":
      return { kind: "newPassword" };
    case "CONFIRM_SIGN_IN_WITH_TOTP_CODE":
      return { kind: "totpCode" };
    case "CONTINUE_SIGN_IN_WITH_TOTP_SETUP":
      return { kind: "totpSetup", secret: next.totpSetupDetails.sharedSecret, uri: next.totpSetupDetails.getSetupUri(appName, username).toString() };
    // This pool offers TOTP only (no SMS): choose it.
    case "CONTINUE_SIGN_IN_WITH_MFA_SELECTION":
    case "CONTINUE_SIGN_IN_WITH_MFA_SETUP_SELECTION":
      return confirmSignIn({ challengeResponse: "TOTP" }).then((o) => stepOf(o, appName, username));
    default:
      return { kind: "unsupported", step: next.signInStep };
  }
}

export async function signInWithPassword(config: WebConfig, username: string, password: string): Promise<SignInStep> {
  // A stale half-finished session would make Amplify refuse a new sign-in.
  await signOut().catch(() => undefined);
  const output = await signIn({ username, password, options: { authFlowType: config.cognito.authFlow } });
  return stepOf(output, config.appName, username);
}

/** Answers the current challenge: a new password or a TOTP code. */
export async function answerChallenge(config: WebConfig, username: string, response: string): Promise<SignInStep> {
  return stepOf(await confirmSignIn({ challengeResponse: response }), config.appName, username);
}

export function signInWithProvider(provider: string): Promise<void> {
  const builtIn = ["Google", "Facebook", "Amazon", "Apple"] as const;
  const known = builtIn.find((p) => p === provider || (p === "Amazon" && provider === "LoginWithAmazon"));
  return signInWithRedirect({ provider: known ?? { custom: provider } });
}

export function signOutEverywhere(): Promise<void> {
  return signOut();
}

/** Amplify's errors carry a name; turn the common ones into sentences, never raw text. */
export function signInErrorSentence(error: unknown, phase: "password" | "challenge" = "password"): string {
  const name = (error as { name?: string })?.name ?? "";
  // cognito-local answers a wrong password with InvalidPasswordException.
  if (phase === "password" && name === "InvalidPasswordException") return "The e-mail address or password is not right.";
  switch (name) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "The e-mail address or password is not right.";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Enter the current code from your authenticator app.";
    case "InvalidPasswordException":
      return "The new password does not meet the rules: at least 12 characters with upper and lower case letters, a number and a symbol.";
    case "PasswordResetRequiredException":
      return "Your password must be reset. Ask your administrator.";
    case "TooManyRequestsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute and try again.";
    case "UserNotConfirmedException":
      return "This account is not confirmed yet.";
    case "ExpiredCodeException":
      return "The sign-in took too long. Start again.";
    default:
      return "Signing in did not work. Check your connection and try again.";
  }
}
