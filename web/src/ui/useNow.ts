/** The current time, refreshed every `intervalMs`, so countdowns ("resets in 12 min") stay true. */
import { useEffect, useState } from "preact/hooks";

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
