/**
 * One DynamoDB Local for the whole test run (a JVM takes seconds to start). Test files create
 * tables with unique names in it; its endpoint reaches them through vitest's `inject`.
 */
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../../local/dynamodb.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const db = await startDynamoDbLocal();
  project.provide("dynamodbEndpoint", db.endpoint);
  return () => db.stop();
}
