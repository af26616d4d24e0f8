#!/usr/bin/env node
import { createInterface } from "node:readline/promises";
import { run } from "./cli.js";

const code = await run(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  env: process.env,
  isTty: Boolean(process.stdout.isTTY && process.stdin.isTTY),
  stderrIsTty: Boolean(process.stderr.isTTY),
  confirm: async (question) => {
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(question);
    prompt.close();
    return /^y(es)?$/i.test(answer.trim());
  },
});
process.exitCode = code;
