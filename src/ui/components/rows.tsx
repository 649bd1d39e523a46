import { Box } from "ink";
import type { ReactNode } from "react";

/** One pre-rendered line of a scrolling view. */
export interface Row {
  key: string;
  node: ReactNode;
}

/** The visible part of a scrolling view: each row one line high, so a long one is cut, never wrapped. */
export function Rows({ rows, height }: { rows: readonly Row[]; height: number }) {
  return (
    <Box flexDirection="column" height={height}>
      {rows.map((r) => (
        <Box key={r.key} height={1}>
          {r.node}
        </Box>
      ))}
    </Box>
  );
}
