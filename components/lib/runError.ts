/**
 * The error that ends a Pulumi run over bad stack config: the message (every bad key path),
 * nothing else, and fast.
 *
 * The CLI shows a RunError's message without its stack. But the Node SDK's cmd/run also
 * formats every uncaught error with `util.inspect(err, { colors: true })` (for a tracing
 * span), and on Node 20.20 colored inspect loops forever in `markNodeModules` on a stack frame
 * whose path ends right after a scoped package, such as the source-mapped
 * `node_modules/@pulumi/resource.ts` every program error carries, until the string it builds
 * overflows (~17-30 s) and the SDK falls back to plain inspect. Until then the event loop is
 * blocked, so the message waits too. A RunError's stack is never shown, so it carries none.
 */
import * as pulumi from "@pulumi/pulumi";

export function stacklessRunError(message: string): pulumi.RunError {
  const error = new pulumi.RunError(message);
  Object.defineProperty(error, "stack", { value: `${error.name}: ${message}`, writable: true, configurable: true });
  return error;
}
