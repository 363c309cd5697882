/**
 * Every protocol error code as a sentence a user understands. The gateway's own `message` is
 * already written for humans, but it is phrased for any client; here the UI says what it means
 * for this screen and, for limits, when the user can go on. Pure: tests call it directly.
 */
import type { ErrorCode } from "../../../functions/lib/protocol/error-codes.js";

export interface ErrorInfo {
  code: ErrorCode;
  /** The gateway's message, kept for the details line. */
  message: string;
  retryAfterSeconds?: number;
  details?: Record<string, unknown>;
  /** When the event arrived (ms since the epoch): `retryAfterSeconds` counts from here. */
  receivedAt: number;
}

/** "3 h 20 min", "12 min", "45 s": a wait as people say it. */
export function formatWait(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.ceil(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** "in 3 h 20 min (at 14:05)"; the clock time in the user's own zone. */
function resetPhrase(error: ErrorInfo, now: number): string {
  if (error.retryAfterSeconds === undefined) return "";
  const at = error.receivedAt + error.retryAfterSeconds * 1000;
  const remaining = (at - now) / 1000;
  if (remaining <= 0) return " You can try again now.";
  const clock = new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const day = new Date(at).toDateString() === new Date(now).toDateString() ? "" : ` on ${new Date(at).toLocaleDateString()}`;
  return ` It resets in ${formatWait(remaining)} (at ${clock}${day}).`;
}

function waitPhrase(error: ErrorInfo, now: number, fallback: string): string {
  if (error.retryAfterSeconds === undefined) return fallback;
  const remaining = (error.receivedAt + error.retryAfterSeconds * 1000 - now) / 1000;
  return remaining <= 0 ? " You can try again now." : ` Try again in ${formatWait(remaining)}.`;
}

/** " in 20 s" while a dead-lettered request's `retryAfterSeconds` runs, else nothing. */
function sendAgainIn(error: ErrorInfo, now: number): string {
  if (error.retryAfterSeconds === undefined) return "";
  const remaining = (error.receivedAt + error.retryAfterSeconds * 1000 - now) / 1000;
  return remaining > 0 ? ` in ${formatWait(remaining)}` : "";
}

function windowName(details: Record<string, unknown> | undefined): string {
  const window = details?.window ?? details?.period;
  if (window === "daily") return "24-hour ";
  if (window === "monthly") return "monthly ";
  return "";
}

/**
 * The sentence shown for an error; `now` lets a limit's countdown stay true as time passes,
 * and `modelNames` (id -> name, from `models`) names the models a refusal lists.
 */
export function errorSentence(error: ErrorInfo, now: number = error.receivedAt, modelNames?: ReadonlyMap<string, string>): string {
  switch (error.code) {
    case "invalid_request": {
      const fields = Array.isArray(error.details?.fields)
        ? (error.details.fields as { field?: unknown }[]).map((f) => String(f.field)).filter(Boolean)
        : [];
      if (typeof error.details?.action === "string") return `This gateway does not offer "${error.details.action}" yet.`;
      return fields.length
        ? `The gateway could not accept this request (${fields.join(", ")}). Please edit it and send it again.`
        : "The gateway could not accept this request. Please edit it and send it again.";
    }
    case "unauthorized":
      return "You are not allowed to do that with this account. Sign out and in again if this keeps happening.";
    case "model_not_allowed": {
      const allowed = Array.isArray(error.details?.allowed) ? (error.details.allowed as unknown[]).map((id) => modelNames?.get(String(id)) ?? String(id)) : [];
      return `Your plan cannot use this model.${allowed.length ? ` Pick one of: ${allowed.join(", ")}.` : " Pick another model."}`;
    }
    case "limit_exceeded":
      // No retryAfterSeconds: waiting cannot help, this message alone needs more than the limit.
      return error.retryAfterSeconds === undefined
        ? `This message is too long for your ${windowName(error.details)}token allowance. Shorten it and send it again.`
        : `You have used up your ${windowName(error.details)}token allowance.${resetPhrase(error, now)}`;
    case "concurrency_limit":
      return `You already have as many answers running as your plan allows. Wait for one to finish or stop it.${waitPhrase(error, now, "")}`;
    case "rate_limited":
      return `You are sending requests faster than your plan allows.${waitPhrase(error, now, " Wait a moment and try again.")}`;
    case "model_throttled":
      return `The model is busy right now.${waitPhrase(error, now, " Try again in a moment.")}`;
    case "model_unavailable":
      if (error.details?.reason === "deadline") return "The answer took too long and was cut off. Ask for a shorter answer or try again.";
      if (error.details?.reason === "model_not_enabled") return "This model is not enabled for this gateway yet. Pick another model.";
      return `The model is not available right now.${waitPhrase(error, now, " Try again in a moment.")}`;
    case "model_error":
      return "The model failed while answering. Send your message again.";
    case "cancelled":
      return "This answer was stopped.";
    case "internal_error":
      return error.details?.deadLettered
        ? `The gateway could not process this message. Send it again${sendAgainIn(error, now)}.`
        : "Something went wrong on the gateway's side. Send your message again.";
    default:
      return error.message || "Something went wrong.";
  }
}
