// The CLI run from src/ through tsx, as the gateway shipped before issue 17 item 1: only the bench
// starts it, to compare start-up time and idle memory with the compiled dist/.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
