import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { taskLine } from "../../src/parse/dump.js";

describe("task lines of a dump", () => {
  it("reads CPU, PID, comm and release in every generation, tainted or not", () => {
    const cases: [string, ReturnType<typeof taskLine>][] = [
      // LegoOS prints no taint.
      [
        "CPU: 4 PID: 17 Comm: recvpollcq 4.0.0-lego-ys+ #744",
        { cpu: 4, pid: 17, comm: "recvpollcq", kernel: "4.0.0-lego-ys+ #744" },
      ],
      [
        "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1",
        { cpu: 0, pid: 1, comm: "swapper/0", kernel: "6.1.0 #1" },
      ],
      [
        "CPU: 2 PID: 1871 Comm: kworker/u8:2 Not tainted 3.13.0-24-generic #46-Ubuntu",
        { cpu: 2, pid: 1871, comm: "kworker/u8:2", kernel: "3.13.0-24-generic #46-Ubuntu" },
      ],
      [
        "CPU: 1 UID: 0 PID: 99 Comm: syz.0.17 Tainted: G        W          6.12.0-rc1+ #3 PREEMPT(voluntary)",
        { cpu: 1, pid: 99, comm: "syz.0.17", kernel: "6.12.0-rc1+ #3" },
      ],
      [
        "CPU: 5 PID: 1234 Comm: kworker/5:1 Tainted: G           OE  ------------   3.10.0-957.el7.x86_64 #1",
        { cpu: 5, pid: 1234, comm: "kworker/5:1", kernel: "3.10.0-957.el7.x86_64 #1" },
      ],
      // A release that does not start with a digit is still a release.
      ["CPU: 3 PID: 5 Comm: init custom-kernel", { cpu: 3, pid: 5, comm: "init", kernel: "custom-kernel" }],
      // Before 3.10: the task on a line of its own, and the CPU on another.
      [
        "Pid: 1, comm: init Tainted: G        W  ---------------    2.6.32-431.el6.x86_64 #1",
        { pid: 1, comm: "init", kernel: "2.6.32-431.el6.x86_64 #1" },
      ],
      ["CPU 3 ", { cpu: 3 }],
      ["CPU: 3 is up", null],
    ];
    for (const [line, want] of cases) assert.deepEqual(taskLine(line), want, line);
  });
});
