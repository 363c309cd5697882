/**
 * Every leaf key of the stack-config schema with its default, as the README's configuration
 * reference lists them (`tiers.<name>.limits.daily.inputTokens`, `models[].id`). A test holds
 * the README to this list, so the reference cannot drift from the schema.
 */
import type { z } from "zod/mini";
import { gatewayConfigSchema } from "../functions/lib/config/schema.js";

export interface ConfigKey {
  /** Dotted path below `ai-gateway:`; `[]` marks array items, `<name>` record entries. */
  path: string;
  /** Whether the key must be set (no default, not optional). */
  required: boolean;
  /** The value used when the key is absent, if the schema gives one. */
  default?: unknown;
}

interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  defaultValue?: unknown;
  shape?: Record<string, Schema>;
  valueType?: Schema;
  element?: Schema;
}
type Schema = { _zod: { def: Def } };

/** Peels default/optional wrappers, noting what they say about the key. */
function unwrap(schema: Schema) {
  let current = schema;
  let optional = false;
  let fallback: { value: unknown } | undefined;
  for (;;) {
    const def = current._zod.def;
    if (def.type === "default" || def.type === "prefault") {
      fallback ??= { value: def.defaultValue };
      current = def.innerType!;
    } else if (def.type === "optional" || def.type === "nullable" || def.type === "readonly") {
      optional = true;
      current = def.innerType!;
    } else if (def.type === "pipe") {
      current = def.in!;
    } else {
      return { schema: current, optional, fallback };
    }
  }
}

function collect(schema: Schema, path: string, keys: ConfigKey[]) {
  const { schema: inner, optional, fallback } = unwrap(schema);
  const def = inner._zod.def;
  const join = (key: string) => (path ? `${path}.${key}` : key);
  if (def.type === "object") {
    for (const [key, child] of Object.entries(def.shape!)) collect(child, join(key), keys);
  } else if (def.type === "record") {
    collect(def.valueType!, `${path}.<name>`, keys);
  } else if (def.type === "array" && unwrap(def.element!).schema._zod.def.type === "object") {
    collect(def.element!, `${path}[]`, keys);
  } else {
    keys.push({ path, required: !optional && !fallback, ...(fallback ? { default: fallback.value } : {}) });
  }
}

export function configKeys(schema: z.core.$ZodType = gatewayConfigSchema): ConfigKey[] {
  const keys: ConfigKey[] = [];
  collect(schema as unknown as Schema, "", keys);
  return keys;
}
