import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SPARK_BLOCKS, sparkline } from "../../src/ui/sparkline.js";

const level = (ch: string) => SPARK_BLOCKS.indexOf(ch);

describe("sparkline", () => {
  it("one block per value, lowest for zero, full for the largest value shown", () => {
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([0, 7], 8), "▁█");
  });

  it("keeps the newest values, newest at the right, and scales to the max of those only", () => {
    assert.equal(sparkline([100, 0, 1, 2], 3), "▁▅█");
    assert.equal(sparkline([1, 2, 3, 4, 5, 6], 2), "▇█");
  });

  it("a positive value is never drawn as an empty queue", () => {
    assert.equal(sparkline([1, 1000], 2), "▂█");
    assert.equal(sparkline([1, 1, 1], 3), "███");
  });

  it("a given max scales every value against it", () => {
    assert.equal(sparkline([1, 2], 2, 2), "▅█");
    assert.equal(sparkline([7], 1, 14), "▅");
    assert.equal(sparkline([20], 1, 10), "█");
  });

  it("zero, negative and non-finite values are the lowest block; all-zero is flat", () => {
    assert.equal(sparkline([0, 0, 0], 5), "▁▁▁");
    assert.equal(sparkline([-3, Number.NaN, Number.POSITIVE_INFINITY, 4], 4), "▁▁▁█");
  });

  it("empty for no values or no room", () => {
    assert.equal(sparkline([], 10), "");
    assert.equal(sparkline([1, 2], 0), "");
    assert.equal(sparkline([1, 2], -4), "");
  });

  it("property: length min(width, n), only block characters, order preserved", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(1000), { maxLength: 200 }),
        fc.integer({ min: 0, max: 150 }),
        (values, width) => {
          const s = [...sparkline(values, width)];
          assert.equal(s.length, Math.min(width, values.length));
          const shown = values.slice(values.length - s.length);
          for (let i = 0; i < s.length; i++) {
            assert.ok(level(s[i]!) >= 0);
            assert.equal(level(s[i]!) === 0, shown[i] === 0);
            for (let j = 0; j < s.length; j++) {
              if (shown[i]! <= shown[j]!) assert.ok(level(s[i]!) <= level(s[j]!));
            }
          }
          if (s.length > 0 && Math.max(...shown) > 0) assert.ok(s.includes("█"));
        },
      ),
    );
  });
});
