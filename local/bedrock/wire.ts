/**
 * Bedrock Runtime's wire format: `application/vnd.amazon.eventstream` frames for the stream and
 * rest-json error responses, shaped as the real service sends them so that the unmodified SDK
 * deserializes them into the same events and the same modelled exception classes.
 */
import { randomUUID } from "node:crypto";
import type { EventEmitter } from "node:events";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

/** The part of the HTTP/1 and HTTP/2-compat response APIs the fake uses (both satisfy it). */
export interface ModelResponse extends EventEmitter {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: Uint8Array): boolean;
  /** HTTP/1 only; HTTP/2's writeHead already sends the headers frame. */
  flushHeaders?(): void;
  end(chunk?: string | Uint8Array): unknown;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

// Real Bedrock pads every event with a `p` field of varying length so that frame sizes do not
// reveal token lengths; the SDK ignores it. Sending it too proves the gateway does the same.
const PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function stringHeader(value: string) {
  return { type: "string" as const, value };
}

function frame(messageType: "event" | "exception", type: string, payload: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: {
      [`:${messageType}-type`]: stringHeader(type),
      ":content-type": stringHeader("application/json"),
      ":message-type": stringHeader(messageType),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** One event frame (`:message-type: event`), e.g. `contentBlockDelta`. */
export function eventFrame(eventType: string, payload: Record<string, unknown>, sequence: number): Uint8Array {
  return frame("event", eventType, { ...payload, p: PADDING.slice(0, 1 + (sequence * 7) % PADDING.length) });
}

/** One exception frame (`:message-type: exception`); the SDK throws it from the iteration. */
export function exceptionFrame(exceptionType: string, payload: Record<string, unknown>): Uint8Array {
  return frame("exception", exceptionType, payload);
}

/** Modelled Bedrock errors with the status and message the real service uses. */
export const HTTP_ERRORS = {
  ThrottlingException: { status: 429, message: "Too many requests, please wait before trying again." },
  ServiceUnavailableException: { status: 503, message: "Bedrock is unable to process your request." },
  InternalServerException: {
    status: 500,
    message: "The system encountered an unexpected error during processing. Try your request again.",
  },
  ValidationException: { status: 400, message: "Malformed input request, please reformat your input and try again." },
  ResourceNotFoundException: { status: 404, message: "Could not resolve the foundation model from the provided model identifier." },
  // Not a modelled Bedrock error: what every SigV4 AWS endpoint answers to an unsigned request.
  MissingAuthenticationTokenException: { status: 403, message: "Missing Authentication Token" },
  // What a third-party model answers until the account's Marketplace subscription exists.
  AccessDeniedException: {
    status: 403,
    message:
      "Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model.",
  },
  ModelErrorException: { status: 424, message: "The model returned an error while generating the response." },
  UnknownOperationException: { status: 404, message: "Not Found" },
} as const;
export type HttpErrorName = keyof typeof HTTP_ERRORS;

/** Mid-stream exception bodies, matching what Bedrock puts in the frame. */
export const STREAM_ERROR_BODIES: Record<string, Record<string, unknown>> = {
  modelStreamErrorException: {
    message: "The model stopped generating the response unexpectedly.",
    originalStatusCode: 500,
    originalMessage: "Internal model error",
  },
  throttlingException: { message: "Too many tokens, please wait before trying again." },
  internalServerException: { message: HTTP_ERRORS.InternalServerException.message },
  serviceUnavailableException: { message: HTTP_ERRORS.ServiceUnavailableException.message },
  validationException: { message: "The model produced output that failed validation." },
};

export function newRequestId(): string {
  return randomUUID();
}

/** Writes a rest-json error the way Bedrock does: status, `x-amzn-errortype`, `{ message }`. */
export function sendHttpError(res: ModelResponse, name: HttpErrorName, requestId: string, message?: string): void {
  const { status } = HTTP_ERRORS[name];
  const body = JSON.stringify({ message: message ?? HTTP_ERRORS[name].message });
  // Real Bedrock appends the Coral namespace after a colon; the SDK strips it.
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId,
    "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(body);
}
