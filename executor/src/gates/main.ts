// Runs `mtor gate` standalone: `npx tsx executor/src/gates/main.ts --repo . --base main --head HEAD`.
import { gateCommand } from "./cli";

const io = {
  out: (t: string) => process.stdout.write(t.endsWith("\n") ? t : `${t}\n`),
  err: (t: string) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`),
  exitCode: 0,
};
process.exitCode = await gateCommand(process.argv.slice(2), io);
