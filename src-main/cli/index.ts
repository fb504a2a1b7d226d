import { runCli } from './main.js';
import { isUtilityProcess } from './stop-request.js';

// Entry point of the `backroom` command: exit with the code the command chose. An Electron utility process (the
// desktop app's agent) does not exit when its work is done (electron/electron#47228), so it is told to.
const code = await runCli(process.argv.slice(2));
if (isUtilityProcess()) process.exit(code);
process.exitCode = code;
