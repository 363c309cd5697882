/**
 * AppSync's rules for a publish batch: 1 to 5 events, each a string holding valid JSON of at
 * most 240 KB (UTF-8 bytes).
 */
import { badRequest } from "./errors.js";

export const MAX_EVENTS_PER_PUBLISH = 5;
export const MAX_EVENT_BYTES = 240 * 1024;

/** The payload of each event, parsed; throws BadRequestException on the first rule broken. */
export function parsePublishedEvents(events: unknown): unknown[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw badRequest("A publish needs an events array with 1 to 5 events.");
  }
  if (events.length > MAX_EVENTS_PER_PUBLISH) {
    throw badRequest(`A publish can carry at most ${MAX_EVENTS_PER_PUBLISH} events; this one has ${events.length}.`);
  }
  return events.map((event, index) => {
    if (typeof event !== "string") throw badRequest(`Event ${index} must be a string holding JSON.`);
    if (Buffer.byteLength(event, "utf8") > MAX_EVENT_BYTES) {
      throw badRequest(`Event ${index} is larger than the 240 KB limit.`);
    }
    try {
      return JSON.parse(event) as unknown;
    } catch {
      throw badRequest(`Event ${index} is not valid JSON.`);
    }
  });
}
