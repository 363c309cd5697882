// One stack per test file: a mocked program run happens once per process.
import { describeStackUnderPolicies } from "./stack-checks.js";

describeStackUnderPolicies("prod");
