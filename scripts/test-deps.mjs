// Before the test suite: the two Debian packages it needs besides npm's (a real Chromium for the browser tests,
// SpamAssassin for the email-quality check). Installs them with apt-get when missing and allowed (root, or sudo
// without a password); otherwise says exactly what to install and stops.
import { spawnSync } from "node:child_process";

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
const missing = [];
if (!process.env.CHROMIUM_PATH && !has("chromium")) missing.push("chromium");
if (!has("spamassassin")) missing.push("spamassassin");
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === "function" && process.getuid() === 0;
const sudo = !root && has("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
if (!has("apt-get") || (!root && !sudo)) {
  console.error(
    `The tests need ${missing.join(" and ")}. Install ${missing.length > 1 ? "them" : "it"} (Debian/Ubuntu: sudo apt-get install ${missing.join(" ")}),`,
  );
  console.error("or point CHROMIUM_PATH at another Chromium, then run the tests again.");
  process.exit(1);
}
console.log(`Installing ${missing.join(" and ")} with apt-get…`);
const run = (args) =>
  spawnSync(sudo ? "sudo" : args[0], sudo ? args : args.slice(1), {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  }).status === 0;
if (!run(["apt-get", "update", "-qq"]) || !run(["apt-get", "install", "-y", "-qq", ...missing])) {
  console.error(
    `apt-get could not install ${missing.join(" and ")}; install ${missing.length > 1 ? "them" : "it"} by hand and run the tests again.`,
  );
  process.exit(1);
}
