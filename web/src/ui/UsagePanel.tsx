/** Token usage: rolling 24 h and this month, input and output, each used of limit with a bar. */
import type { Quota, QuotaWindow } from "../../../functions/lib/protocol/outbound.js";
import { formatWait } from "../chat/errors.js";
import type { Support } from "../chat/state.js";
import { usageFraction, usageLevel } from "../chat/usage.js";

const LEVEL_TEXT = { ok: "", warning: " (nearly used up)", critical: " (almost none left)" };

function Bar({ label, used, limit }: { label: string; used: number; limit: number }) {
  const level = usageLevel(used, limit);
  const percent = Math.round(usageFraction(used, limit) * 100);
  return (
    <div class="usage-row">
      <div class="usage-label">
        <span>{label}</span>
        <span>
          {used.toLocaleString()} / {limit.toLocaleString()}
        </span>
      </div>
      <div
        class={`usage-bar ${level}`}
        role="meter"
        aria-label={`${label}: ${percent}% used${LEVEL_TEXT[level]}`}
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={Math.min(used, limit)}
        data-level={level}
      >
        <div class="usage-fill" style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}

function Window({ title, window, now }: { title: string; window: QuotaWindow; now: number }) {
  const resets = (Date.parse(window.resetsAt) - now) / 1000;
  // Nothing used: nothing to roll off or reset yet.
  const used = window.inputTokens.used + window.outputTokens.used > 0;
  return (
    <section class="usage-window" aria-label={title}>
      <h3>
        {title}
        {used && Number.isFinite(resets) && resets > 0 && <span class="resets">resets in {formatWait(resets)}</span>}
      </h3>
      <Bar label="Input tokens" used={window.inputTokens.used} limit={window.inputTokens.limit} />
      <Bar label="Output tokens" used={window.outputTokens.used} limit={window.outputTokens.limit} />
    </section>
  );
}

export function UsagePanel({ quota, support, now }: { quota?: Quota; support: Support; now: number }) {
  return (
    <section class="usage-panel" aria-labelledby="usage-title">
      <h2 id="usage-title">
        Token usage{quota && <span class="tier"> · tier {quota.tier}</span>}
      </h2>
      {quota ? (
        <>
          <Window title="Last 24 hours" window={quota.daily} now={now} />
          <Window title="This month" window={quota.monthly} now={now} />
        </>
      ) : (
        <p class="muted">{support === "unavailable" ? "This gateway does not report usage yet." : "Loading…"}</p>
      )}
    </section>
  );
}
