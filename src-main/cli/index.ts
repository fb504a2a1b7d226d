import { runCli } from './main.js';

// Entry point of the `backroom` command: exit with the code the command chose.
process.exitCode = await runCli(process.argv.slice(2));
