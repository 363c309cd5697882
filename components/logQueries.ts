/**
 * Logs Insights saved queries (functions/lib/observability/log-queries.ts) over the worker's
 * log group, in one folder per stack in the console's query list.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LOG_QUERIES } from "../functions/lib/observability/log-queries.js";

export interface LogQueriesArgs {
  /** The console folder the queries are listed under, e.g. `ai-gateway-prod`. */
  folder: string;
  /** Log groups the queries run over (the chat worker's). */
  logGroupNames: pulumi.Input<string>[];
}

export class LogQueries extends pulumi.ComponentResource {
  readonly queries: aws.cloudwatch.QueryDefinition[];

  constructor(name: string, args: LogQueriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:index:LogQueries", name, {}, opts);
    this.queries = LOG_QUERIES.map(
      (q) =>
        new aws.cloudwatch.QueryDefinition(
          `${name}-${q.name}`,
          // A "/" in the name files the query in a folder of that name.
          { name: `${args.folder}/${q.name}`, logGroupNames: args.logGroupNames, queryString: q.query },
          { parent: this },
        ),
    );
    this.registerOutputs({});
  }
}
