/**
 * `npm run gateway -- tier <user> <tier>`: puts a user in exactly one tier group. Groups that
 * are not tiers are left alone. The user's tokens carry their groups, so the new tier applies
 * from their next token refresh (access tokens live 60 minutes).
 */
import { AdminAddUserToGroupCommand, AdminRemoveUserFromGroupCommand } from "@aws-sdk/client-cognito-identity-provider";
import { resolveTier } from "../../functions/lib/routing/tier.js";
import { TargetError, type GatewayTarget } from "./target.js";
import { findUser } from "./users.js";

export async function runTierCommand(target: GatewayTarget, argv: string[], print: (line: string) => void): Promise<void> {
  const [who, tierName, ...extra] = argv;
  if (!who || !tierName || extra.length > 0) throw new TargetError("usage: npm run gateway -- tier <user> <tier>");
  const tiers = Object.keys(target.config.tiers);
  if (!tiers.includes(tierName)) throw new TargetError(`"${tierName}" is not a tier of stack ${target.stack}; tiers: ${tiers.join(", ")}.`);
  const user = await findUser(target, who);
  const before = resolveTier(target.config, user.groups).name;
  const { cognito, userPoolId } = target;
  const Username = user.username;
  // Add first: if a removal fails halfway, the user keeps a tier rather than losing every one.
  if (!user.groups.includes(tierName)) await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username, GroupName: tierName }));
  for (const group of user.groups.filter((g) => g !== tierName && tiers.includes(g))) {
    await cognito.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: userPoolId, Username, GroupName: group }));
  }
  print(`${user.email ?? user.username} (sub ${user.sub}): tier ${before} -> ${tierName}.`);
  print("Takes effect at the user's next token refresh (access tokens last 60 minutes; signing in again applies it at once).");
}
