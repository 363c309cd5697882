/**
 * Finding a user in the target's pool from what an operator types: an e-mail address, a
 * username, or the `sub` that is their id in channels, logs and the usage table.
 */
import {
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  ListUsersCommand,
  type AttributeType,
} from "@aws-sdk/client-cognito-identity-provider";
import type { GatewayTarget } from "./target.js";
import { TargetError } from "./target.js";

export interface PoolUser {
  username: string;
  sub: string;
  email?: string;
  groups: string[];
}

const attribute = (attributes: AttributeType[] | undefined, name: string) => attributes?.find((a) => a.Name === name)?.Value;
const quoted = (value: string) => `"${value.replace(/["\\]/g, "")}"`;

export async function findUser(target: GatewayTarget, who: string): Promise<PoolUser> {
  const { cognito, userPoolId } = target;
  const byFilter = async (filter: string) =>
    (await cognito.send(new ListUsersCommand({ UserPoolId: userPoolId, Filter: filter, Limit: 2 }))).Users ?? [];
  let found = await byFilter(`${who.includes("@") ? "email" : "sub"} = ${quoted(who)}`);
  if (found.length > 1) throw new TargetError(`More than one user matches "${who}"; give their sub instead.`);
  let username = found[0]?.Username;
  let attributes = found[0]?.Attributes;
  if (!username) {
    try {
      const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: who }));
      username = user.Username;
      attributes = user.UserAttributes;
    } catch (err) {
      if ((err as Error).name === "UserNotFoundException") throw new TargetError(`No user "${who}" in user pool ${userPoolId}.`);
      throw err;
    }
  }
  const sub = attribute(attributes, "sub");
  if (!username || !sub) throw new TargetError(`User "${who}" has no sub attribute.`);
  const groups = (await cognito.send(new AdminListGroupsForUserCommand({ UserPoolId: userPoolId, Username: username }))).Groups ?? [];
  return { username, sub, email: attribute(attributes, "email"), groups: groups.map((g) => g.GroupName!).filter(Boolean) };
}
