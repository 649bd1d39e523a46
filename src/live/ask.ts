import { createInterface } from "node:readline";
import { Writable } from "node:stream";

/** Asks a question on the terminal without echoing the answer (a key passphrase); null when cancelled. */
export function askHidden(prompt: string): Promise<string | null> {
  return new Promise((resolve) => {
    let muted = false;
    const output = new Writable({
      write(chunk, _enc, done) {
        if (!muted) process.stderr.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
    muted = true;
    rl.once("SIGINT", () => {
      rl.close();
      resolve(null);
    });
  });
}
