/**
 * CloudWatch Logs Insights queries over the worker's JSON log lines, saved by the program
 * (components/logQueries.ts). They read the keys the worker logs (DESIGN 7): `user_id`,
 * `conversation_id`, `code`, and the per-turn summary line with its token counts; a test
 * holds the worker's real log lines to these names. Written with `@timestamp`/`@message` as
 * the seed's queries are.
 */

/** The message of the worker's one summary line per answered turn. */
export const TURN_SUMMARY_MESSAGE = "chat answered";

export interface LogQuery {
  name: string;
  description: string;
  query: string;
}

export const LOG_QUERIES: readonly LogQuery[] = [
  {
    name: "users-with-most-conversations",
    description: "The ten users with the most conversations in the time window",
    query: `fields @timestamp, @message
| filter @message like "${TURN_SUMMARY_MESSAGE}"
| stats count_distinct(conversation_id) as conversation_count by user_id
| sort conversation_count desc
| limit 10`,
  },
  {
    name: "unique-users-per-5-minutes",
    description: "Distinct users with an answered turn, in 5-minute bins",
    query: `fields @timestamp, @message
| filter @message like "${TURN_SUMMARY_MESSAGE}"
| stats count_distinct(user_id) as unique_users by bin(5m)`,
  },
  {
    name: "errors-by-code",
    description: "Refusals and failures by protocol error code",
    query: `fields @timestamp, @message, code
| filter ispresent(code)
| stats count(*) as occurrences by code, message
| sort occurrences desc`,
  },
  {
    name: "top-users-by-tokens",
    description: "The twenty users with the most tokens in the time window",
    query: `fields @timestamp, @message
| filter @message like "${TURN_SUMMARY_MESSAGE}"
| stats sum(input_tokens) as input, sum(output_tokens) as output, sum(input_tokens + output_tokens) as tokens by user_id
| sort tokens desc
| limit 20`,
  },
];
