/**
 * `npm run gateway -- usage <user>`: a user's usage against every limit of their tier, as
 * the gateway enforces it (the same admission record and quota code the worker uses).
 */
import { usageAt } from "../../functions/lib/metering/usage.js";
import { UsageStore } from "../../functions/lib/metering/store.js";
import { resolveTier } from "../../functions/lib/routing/tier.js";
import { USAGE_TABLE } from "../../functions/lib/tables.js";
import { buildQuota } from "../../functions/lib/metering/quota.js";
import { liveReservations } from "../../functions/lib/metering/record.js";
import { TargetError, type GatewayTarget } from "./target.js";
import { findUser } from "./users.js";
import { table } from "./table.js";

export async function runUsageCommand(target: GatewayTarget, argv: string[], print: (line: string) => void, now = Date.now()): Promise<void> {
  const [who, ...extra] = argv;
  if (!who || extra.length > 0) throw new TargetError("usage: npm run gateway -- usage <user>   (e-mail, username or sub)");
  const tableName = target.tables[USAGE_TABLE.name];
  if (!tableName) throw new TargetError("The target names no usage table.");
  const user = await findUser(target, who);
  const tier = resolveTier(target.config, user.groups);
  const { record } = await new UsageStore(target.dynamodb, tableName).readPartition(user.sub);
  const usage = usageAt(record, now);
  const quota = buildQuota(tier.name, tier.tier, usage, now);

  print(`User   ${user.email ?? user.username} (sub ${user.sub})`);
  print(`Tier   ${tier.name} (groups: ${user.groups.join(", ") || "none"}; stack ${target.stack})`);
  print("");
  const rows = (["daily", "monthly"] as const).flatMap((window) =>
    (["inputTokens", "outputTokens"] as const).map((type) => {
      const { used, limit } = quota[window][type];
      const reserved = usage.reserved[type];
      return [
        window === "daily" ? "daily (24 h)" : "monthly",
        type === "inputTokens" ? "input" : "output",
        String(used),
        String(reserved),
        String(limit),
        String(Math.max(0, limit - used - reserved)),
        `${limit > 0 ? Math.round((100 * used) / limit) : 100}%`,
        quota[window].resetsAt,
      ];
    }),
  );
  for (const line of table(["window", "tokens", "used", "reserved", "limit", "left", "used %", "resets at (UTC)"], rows)) print(line);
  print("");
  const starts = record.recentStarts.filter((t) => t > now - 60_000).length;
  const requests = [
    ["in progress", String(liveReservations(record, now).length), String(tier.tier.maxConcurrentRequests)],
    ["started in the last minute", String(starts), tier.tier.requestsPerMinute === undefined ? "unlimited" : String(tier.tier.requestsPerMinute)],
    ["output tokens per request", "", String(tier.tier.maxOutputTokensPerRequest)],
  ];
  for (const line of table(["requests", "now", "limit"], requests)) print(line);
}
