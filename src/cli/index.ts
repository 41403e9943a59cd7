// Process entry: run the verb and set the exit code. Servers keep the event loop alive until shutdown.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
