/** How full a token budget is, and the colour band the usage bars show (amber from 75%, red from 90%). */
export type UsageLevel = "ok" | "warning" | "critical";

export const WARNING_AT = 0.75;
export const CRITICAL_AT = 0.9;

export function usageFraction(used: number, limit: number): number {
  if (limit <= 0) return used > 0 ? 1 : 0;
  return Math.min(1, Math.max(0, used / limit));
}

export function usageLevel(used: number, limit: number): UsageLevel {
  const fraction = usageFraction(used, limit);
  if (fraction >= CRITICAL_AT) return "critical";
  if (fraction >= WARNING_AT) return "warning";
  return "ok";
}
