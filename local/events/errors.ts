/**
 * Errors as AppSync Events reports them: `{ errorType, message }` items, in an `errors` array
 * on HTTP responses and on WebSocket `*_error` messages. Messages are fixed strings written
 * here, never exception text, because they travel to whoever called.
 */
export type EventsErrorType =
  | "UnauthorizedException"
  | "BadRequestException"
  | "UnsupportedOperation"
  | "UnknownOperationError"
  | "DuplicatedOperationError"
  | "MaxSubscriptionsReachedError"
  /** A per-connection bound was hit (WebSocket); the message was not handled. */
  | "LimitExceededError"
  /** The server is at its bound of connections or pending requests; try again later. */
  | "TooManyRequestsException"
  | "InternalFailureException";

export interface EventsErrorItem {
  errorType: EventsErrorType;
  message: string;
  /** AppSync adds a numeric code to connection errors; Amplify reads it to stop retrying. */
  errorCode?: number;
}

export class EventsApiError extends Error {
  constructor(
    readonly errorType: EventsErrorType,
    message: string,
    /** HTTP status for `POST /event`; WebSocket replies ignore it. */
    readonly statusCode: number,
  ) {
    super(message);
    this.name = "EventsApiError";
  }

  toItem(): EventsErrorItem {
    return { errorType: this.errorType, message: this.message };
  }
}

export const UNAUTHORIZED_MESSAGE = "You are not authorized to make this call.";

export const unauthorized = (message = UNAUTHORIZED_MESSAGE, statusCode = 401) =>
  new EventsApiError("UnauthorizedException", message, statusCode);

export const badRequest = (message: string) => new EventsApiError("BadRequestException", message, 400);

export const tooManyRequests = (message: string) => new EventsApiError("TooManyRequestsException", message, 429);

/** A browser page from an origin that is not the gateway's own. */
export const foreignOrigin = () =>
  new EventsApiError("UnauthorizedException", "Requests from this web origin are not allowed.", 403);

export const internalFailure = (message = "The request could not be processed.") =>
  new EventsApiError("InternalFailureException", message, 500);

/** Anything thrown becomes an EventsApiError whose message says nothing about the cause. */
export function toEventsApiError(err: unknown): EventsApiError {
  return err instanceof EventsApiError ? err : internalFailure();
}
